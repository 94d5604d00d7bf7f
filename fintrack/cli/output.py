"""The one renderer: every list and report goes out as a fitting table, CSV, JSON or JSON lines."""

import json
import operator
import os
import re
import sys
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

from fintrack.formats import (
    CITED_COLUMNS,
    Column,
    plain_row,
    plain_rows,
    record,
    records,
    write_csv,
    write_json,
    write_jsonl,
    write_rows,
)
from fintrack.money import exponent, format_amount


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


# Characters that would act on the terminal instead of being shown: C0 and C1 controls, DEL, and
# the bidirectional overrides and isolates that reorder what a line appears to say.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _picture(match: "re.Match[str]") -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the Unicode control picture: ESC is shown as ␛
    if code == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """Text as data for a terminal: every control character shown as a visible sign (ESC as
    ␛, a line feed as ␊), so stored text can never move the cursor or retitle the window."""
    return _CONTROL.sub(_picture, text)


def safe(text: object) -> Any:
    """A Rich `Text` of a value: never read as markup (`[/bold]` stays as typed), controls
    made visible. Every stored or typed value goes to Rich through this."""
    from rich.text import Text

    return Text(visible(str(text)))


def _table_cell(value: Any, column: Column, row: dict[str, Any]) -> str:
    if column.table_text is not None:
        return column.table_text(row)
    if value is None:
        return ""
    if column.kind == "money":
        return format_amount(value, row[column.currency_key])
    if column.kind == "percent":
        return f"{value}%"
    if column.kind == "int" and isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M} UTC"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def atomic_text_file(target: Path, field: str) -> AbstractContextManager[IO[str]]:
    """A file that replaces `target` only once it is completely written, never half of it
    (see `fintrack.outfile.text_file`)."""
    from fintrack.outfile import text_file

    return text_file(target, field)


def write_document(data: dict[str, Any], fmt: "OutputFormat") -> None:
    """One record with its lists (a pledge with its installments) as JSON, or on one line."""
    if fmt is OutputFormat.JSONL:
        print(json.dumps(data, ensure_ascii=False))
    else:
        write_json(data, sys.stdout)


# Width of tables written to a file or a pipe, where there is no terminal to measure.
PIPE_WIDTH = 160


@dataclass
class View:
    """How this run shows a listing: set by the options `listing` adds to a command."""

    wide: bool = False  # every column, exact amounts, whole texts, whatever the width
    columns: list[str] | None = None  # these columns, in this order (CSV names)
    sort: list[str] | None = None  # keys, `-key` for descending
    limit: int | None = None
    pager: bool = True  # page long tables on a terminal (--no-pager turns it off)


VIEW = View()


def stdout_console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def cell_text(column: Column, compact: bool = False) -> Callable[[dict[str, Any]], str]:
    """How a column's cells read in a table: grouped amounts (or compact ones), stored text
    with its control characters made visible. Chosen once per column, not once per cell."""
    key = column.key
    if column.table_text is not None:
        made = column.table_text
        return lambda row: visible(made(row))
    if column.kind == "money":
        from fintrack.money import compact_amount

        write = compact_amount if compact else format_amount
        currency = column.currency_key

        def money(row: dict[str, Any]) -> str:
            value = row.get(key)
            return "" if value is None else write(value, row[currency])

        return money

    if column.kind in ("date", "int", "percent"):
        writers: dict[str, Callable[[Any], str]] = {
            "date": lambda value: value.isoformat(),
            "int": lambda value: f"{value:,}" if abs(value) >= 10_000 else str(value),
            "percent": lambda value: f"{value}%",
        }
        write_value = writers[column.kind]

        def known(row: dict[str, Any]) -> str:
            value = row.get(key)
            if value is None:
                return ""
            if isinstance(value, str):  # a word in place of a number, such as "n/a"
                return visible(value)
            return write_value(value)

        return known

    def other(row: dict[str, Any]) -> str:
        value = row.get(key)
        if value is None:
            return ""
        if isinstance(value, str):
            return value if value.isprintable() else visible(value)
        return visible(_table_cell(value, column, row))

    return other


def cell_texts(column: Column, rows: Sequence[dict[str, Any]], compact: bool = False) -> list[str]:
    """`cell_text` of every row, a column at a time: a report may have a hundred thousand
    rows, so the common cases (text that needs no change, amounts, dates, whole numbers)
    are written in one pass over the column's values, and the rest cell by cell."""
    key = column.key
    if column.table_text is not None:
        made = column.table_text
        texts = [made(row) for row in rows]
        return texts if _CONTROL.search("".join(texts)) is None else list(map(visible, texts))
    values = [row.get(key) for row in rows]
    if column.kind == "money" and not compact:
        return _amount_texts(values, [row.get(column.currency_key) for row in rows])
    kinds = {value.__class__ for value in values}
    kinds.discard(type(None))
    if kinds == {str} and column.kind == "text":
        texts = ["" if value is None else value for value in values]
        if "".join(texts).isprintable():
            return texts
    elif kinds == {date} and column.kind == "date":
        return ["" if value is None else value.isoformat() for value in values]
    elif kinds == {int} and column.kind == "int":
        return [
            ""
            if value is None
            else f"{value:,}"
            if value >= 10_000 or value <= -10_000
            else str(value)
            for value in values
        ]
    text_of = cell_text(column, compact)
    return [text_of(row) for row in rows]


def _amount_texts(values: list[Any], currencies: list[Any]) -> list[str]:
    """`format_amount` of each amount (grouped), the currency's digits looked up once."""
    scales: dict[str, tuple[int, int]] = {}
    texts = []
    for minor, currency in zip(values, currencies, strict=True):
        if minor is None:
            texts.append("")
            continue
        scale = scales.get(currency)
        if scale is None:
            digits = exponent(currency)
            scale = scales[currency] = (digits, 10**digits)
        digits, unit = scale
        if not digits:
            texts.append(format_amount(minor, currency))
            continue
        whole, fraction = divmod(-minor if minor < 0 else minor, unit)
        sign = "-" if minor < 0 else ""
        texts.append(f"{sign}{whole:,}.{fraction:0{digits}d}")
    return texts


def _by_key(columns: Sequence[Column], keys: list[str], option: str) -> list[Column]:
    from fintrack.errors import InputError

    known = {c.key: c for c in columns}
    unknown = [k for k in keys if k not in known]
    if unknown:
        raise InputError(option, f"no column '{unknown[0]}'; the columns are {', '.join(known)}")
    return [known[k] for k in keys]


def arrange(
    rows: Sequence[dict[str, Any]], columns: Sequence[Column], view: View
) -> Sequence[dict[str, Any]]:
    """The rows in the order of --sort (stable: equal keys keep the query's order) and cut to
    --limit, with a line on stderr telling how many were left out."""
    if view.sort:
        keys = [k.strip() for k in view.sort for k in k.split(",") if k.strip()]
        chosen = _by_key(columns, [k.lstrip("-") for k in keys], "--sort")
        ordered = list(rows)
        for key, column in reversed(list(zip(keys, chosen, strict=True))):
            descending = key.startswith("-")
            present = [r for r in ordered if r.get(column.key) is not None]
            missing = [r for r in ordered if r.get(column.key) is None]
            present.sort(key=operator.itemgetter(column.key), reverse=descending)
            ordered = present + missing  # rows without the value go last either way
        rows = ordered
    if view.limit is not None and len(rows) > view.limit:
        left = len(rows) - view.limit
        stderr_console().print(
            safe(
                f"Showing {view.limit:,} of {len(rows):,} rows; {left:,} more with a larger "
                "--limit, or all of them without it."
            )
        )
        rows = rows[: view.limit]
    return rows


def shown_columns(columns: Sequence[Column], fmt: OutputFormat, view: View) -> list[Column]:
    """The columns of a listing in this run: those named by --columns, else in a table those
    meant for one (or with --wide every one), else all of them."""
    if view.columns:
        keys = [k.strip() for k in view.columns for k in k.split(",") if k.strip()]
        return _by_key(columns, keys, "--columns")
    if fmt is not OutputFormat.TABLE:
        return list(columns)
    return [c for c in columns if c.in_table or (view.wide and c.in_wide)]


def _caption(layout: Any, width: int) -> list[str]:
    notes = []
    if layout.compact:
        notes.append(
            "Amounts rounded: k thousand, M million, bn billion; exact with --wide or --format csv."
        )
    if layout.left_out:
        names = ", ".join(c.header for c in layout.left_out)
        notes.append(
            f"Left out to fit {width} columns: {names}. --wide shows every column; "
            "--columns chooses them."
        )
    return notes


def render(
    rows: Sequence[Any],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    style: Callable[[dict[str, Any]], str | None] | None = None,
    view: View | None = None,
) -> None:
    """Print rows (the library's typed rows, or dicts keyed as the columns) to stdout in the
    chosen format; a table fits the terminal's width."""
    view = VIEW if view is None else view
    chosen = shown_columns(columns, fmt, view)
    rows = arrange(records(rows, columns), columns, view)
    if fmt is not OutputFormat.TABLE:
        write_rows(rows, chosen, fmt, sys.stdout)
        return
    if not rows:
        stderr_console().print(safe(empty))
        return
    from fintrack.cli.table import Styler, block_lines, paged, plan, table_lines, wrap

    console = stdout_console()
    width = console.width
    layout = plan(rows, chosen, None if view.wide else width, cell_texts)
    styler = Styler(console)
    rule = "─" if (console.encoding or "").lower().startswith("utf") else "-"
    head = [styler(visible(title), "italic")] if title else []
    if layout.blocks:
        lines = block_lines(chosen, rows, cell_texts, styler, width, style)
    else:
        lines = table_lines(layout, rows, cell_texts, styler, style, rule)
    tail = [
        styler(line, "dim")
        for note in _caption(layout, width)
        for line in wrap(note, max(width, 20))
    ]
    long = console.is_terminal and len(rows) + 6 > console.height
    with paged(long and view.pager) as out:
        for line in head:
            out.write(line + "\n")
        # A few thousand lines a write, not one: a report may have a hundred thousand.
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == 4096:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
        for line in tail:
            out.write(line + "\n")


def render_with_list(
    row: Any,
    columns: Sequence[Column],
    fmt: OutputFormat,
    title: str,
    key: str,
    rows: Sequence[Any],
    list_columns: Sequence[Column],
    list_title: str,
    empty: str,
) -> None:
    """One record and a list that belongs to it (its sources, say): in JSON the list is the
    record's `key`; in a table it follows the record; CSV has the record alone."""
    if fmt in (OutputFormat.JSON, OutputFormat.JSONL):
        data = plain_row(record(row, columns), columns)
        data[key] = plain_rows(records(rows, list_columns), list_columns)
        write_document(data, fmt)
        return
    render_one(row, columns, fmt, title=title)
    if fmt is OutputFormat.TABLE:
        print()
        render(rows, list_columns, fmt, title=list_title, empty=empty, view=View())


def render_one(
    row: Any,
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
) -> None:
    """One record: a block of lines, one per field (long values wrapped, never cut), or one
    CSV row, or one JSON object."""
    row = record(row, columns)
    if fmt is OutputFormat.CSV:
        write_csv([row], columns, sys.stdout)
        return
    if fmt is OutputFormat.JSON:
        write_json(plain_row(row, columns), sys.stdout)
        return
    if fmt is OutputFormat.JSONL:
        write_jsonl([row], columns, sys.stdout)
        return
    from fintrack.cli.table import Styler, block_lines

    console = stdout_console()
    styler = Styler(console)
    if title:
        print(styler(visible(title), "italic"))
    for line in block_lines(columns, [row], cell_texts, styler, console.width):
        print(line)


def show_with_sources(
    row: Any,
    cited: Sequence[Any],
    columns: Sequence[Column],
    fmt: OutputFormat,
    title: str,
) -> None:
    """One record, then the sources that speak for it (in JSON, as its `sources` list)."""
    render_with_list(
        row, columns, fmt, title, "sources", cited, CITED_COLUMNS, "Sources",
        "No sources: unverified.",
    )  # fmt: skip

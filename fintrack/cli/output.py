"""The one renderer: every list and report goes out as a fitting table, CSV, JSON or JSON lines."""

import csv
import json
import operator
import os
import re
import sys
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

from fintrack.money import format_amount
from fintrack.spreadsheet import neutralise

Kind = Literal["text", "int", "decimal", "date", "datetime", "money", "percent", "list", "bool"]


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


# What gives way, in order, when a table is too wide: columns of the highest priority number
# are left out first; amounts are compacted (87.0M) rather than leave out a MAIN column.
KEEP = 0  # the row's identity (an id, a donor, a date): never left out
MAIN = 1  # the figures the table is for
MORE = 2  # useful, but the first to go
EXTRA = 3  # the first of all to go


@dataclass(frozen=True)
class Column:
    """One column of a listing: its key in the row, its header and how its values are written."""

    key: str
    header: str
    kind: Kind = "text"
    # Shown in the terminal table; CSV and JSON always carry every column.
    in_table: bool = True
    # Short codes (a status, a currency) are never broken over lines in a table.
    wrap: bool = True
    # Long text keeps at least this many characters of width in a table.
    min_width: int = 0
    # What the table shows instead of the value, built from the whole row.
    table_text: Callable[[dict[str, Any]], str] | None = None
    currency_key: str = "currency"
    # What gives way when a table is too wide: KEEP (0) never, then MAIN, MORE, EXTRA (3)
    # first (see fintrack.cli.table).
    priority: int = 1
    # A column left out of the table (in_table=False) is still shown by --wide, unless it only
    # repeats what another column shows.
    in_wide: bool = True
    # A wrapped text cell in a list takes at most this many lines, the last cut with an
    # ellipsis (`show`, --wide and CSV give the whole text).
    max_lines: int = 3


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


def _plain(value: Any, column: Column, row: dict[str, Any]) -> Any:
    """A value for CSV and JSON: exact, no grouping, ISO dates."""
    if value is None:
        return None
    if column.kind == "money":
        return format_amount(value, row[column.currency_key], grouping=False)
    if isinstance(value, datetime):  # stored in UTC
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


# Text cells are neutralised (`fintrack.spreadsheet`): a list's items too, after each `; `.
TEXT_KINDS = ("text", "list")


def _csv_cell(value: Any, column: Column) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "; ".join(str(item) for item in value)
    text = str(value)
    return neutralise(text) if column.kind in TEXT_KINDS else text


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


def plain_row(row: dict[str, Any], columns: Sequence[Column]) -> dict[str, Any]:
    return {c.key: _plain(row.get(c.key), c, row) for c in columns}


def plain_rows(rows: Iterable[dict[str, Any]], columns: Sequence[Column]) -> list[dict[str, Any]]:
    return [plain_row(row, columns) for row in rows]


class CsvWriter:
    """csv.writer with \n line ends that also quotes a carriage return inside a cell.

    The csv module quotes only the characters of its line terminator, so a lone \r in a
    cell would be written bare and read back as a line break; such rows are quoted whole.
    """

    def __init__(self, out: IO[str]) -> None:
        self._plain = csv.writer(out, lineterminator="\n")
        self._quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)

    def writerow(self, cells: Sequence[str]) -> None:
        writer = self._quoted if any("\r" in cell for cell in cells) else self._plain
        writer.writerow(cells)


def write_csv(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str]) -> int:
    """Write a header and one line per row; returns the number of rows.

    Text cells that a spreadsheet would take for a formula are neutralised (`neutralise`);
    numbers, dates and amounts are written as they are.
    """
    writer = CsvWriter(out)
    writer.writerow([c.key for c in columns])
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(_plain(row.get(c.key), c, row), c) for c in columns])
        count += 1
    return count


def atomic_text_file(target: Path, field: str) -> AbstractContextManager[IO[str]]:
    """A file that replaces `target` only once it is completely written, never half of it
    (see `fintrack.cli.outfile.text_file`)."""
    from fintrack.cli.outfile import text_file

    return text_file(target, field)


def write_json(data: Any, out: IO[str]) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_document(data: dict[str, Any], fmt: "OutputFormat") -> None:
    """One record with its lists (a pledge with its installments) as JSON, or on one line."""
    if fmt is OutputFormat.JSONL:
        print(json.dumps(data, ensure_ascii=False))
    else:
        write_json(data, sys.stdout)


def write_json_rows(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str]) -> int:
    """The rows as one JSON array, written a row at a time; the same text as `write_json`."""
    count = 0
    for row in rows:
        item = json.dumps(plain_row(row, columns), indent=2, ensure_ascii=False)
        out.write("[\n" if count == 0 else ",\n")
        out.write("\n".join(f"  {line}" for line in item.splitlines()))
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str]) -> int:
    """One JSON object per line (JSON Lines), for exports too large to read as one document."""
    count = 0
    for row in rows:
        out.write(json.dumps(plain_row(row, columns), ensure_ascii=False))
        out.write("\n")
        count += 1
    return count


def write_rows(
    rows: Iterable[dict[str, Any]], columns: Sequence[Column], fmt: "OutputFormat", out: IO[str]
) -> int:
    """Rows as CSV, JSON or JSON lines, streamed; returns the number of rows."""
    if fmt is OutputFormat.JSON:
        return write_json_rows(rows, columns, out)
    if fmt is OutputFormat.JSONL:
        return write_jsonl(rows, columns, out)
    return write_csv(rows, columns, out)


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
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    style: Callable[[dict[str, Any]], str | None] | None = None,
    view: View | None = None,
) -> None:
    """Print rows to stdout in the chosen format; a table fits the terminal's width."""
    view = VIEW if view is None else view
    chosen = shown_columns(columns, fmt, view)
    rows = arrange(rows, columns, view)
    if fmt is not OutputFormat.TABLE:
        write_rows(rows, chosen, fmt, sys.stdout)
        return
    if not rows:
        stderr_console().print(safe(empty))
        return
    from fintrack.cli.table import Styler, block_lines, paged, plan, table_lines, wrap

    console = stdout_console()
    width = console.width
    layout = plan(rows, chosen, None if view.wide else width, cell_text)
    styler = Styler(console)
    rule = "─" if (console.encoding or "").lower().startswith("utf") else "-"
    head = [styler(visible(title), "italic")] if title else []
    if layout.blocks:
        lines = block_lines(chosen, rows, cell_text, styler, width, style)
    else:
        lines = table_lines(layout, rows, cell_text, styler, style, rule)
    tail = [
        styler(line, "dim")
        for note in _caption(layout, width)
        for line in wrap(note, max(width, 20))
    ]
    long = console.is_terminal and len(rows) + 6 > console.height
    with paged(long and view.pager) as out:
        for line in head:
            out.write(line + "\n")
        for line in lines:
            out.write(line + "\n")
        for line in tail:
            out.write(line + "\n")


def render_with_list(
    row: dict[str, Any],
    columns: Sequence[Column],
    fmt: OutputFormat,
    title: str,
    key: str,
    rows: Sequence[dict[str, Any]],
    list_columns: Sequence[Column],
    list_title: str,
    empty: str,
) -> None:
    """One record and a list that belongs to it (its sources, say): in JSON the list is the
    record's `key`; in a table it follows the record; CSV has the record alone."""
    if fmt in (OutputFormat.JSON, OutputFormat.JSONL):
        data = plain_row(row, columns)
        data[key] = plain_rows(rows, list_columns)
        write_document(data, fmt)
        return
    render_one(row, columns, fmt, title=title)
    if fmt is OutputFormat.TABLE:
        print()
        render(rows, list_columns, fmt, title=list_title, empty=empty, view=View())


def render_one(
    row: dict[str, Any],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
) -> None:
    """One record: a block of lines, one per field (long values wrapped, never cut), or one
    CSV row, or one JSON object."""
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
    for line in block_lines(columns, [row], cell_text, styler, console.width):
        print(line)

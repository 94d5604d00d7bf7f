"""The one renderer: every list and report goes out as a rich table, CSV, JSON or JSON lines."""

import csv
import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, Literal

from fintrack.money import format_amount

Kind = Literal["text", "int", "decimal", "date", "datetime", "money", "percent", "list", "bool"]


class OutputFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"


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


# A text cell a spreadsheet would run as a formula (OWASP "CSV injection"): it starts with one of
# these, possibly behind quotes already added. The quote before the rest makes it plain text.
_FORMULA_START = re.compile(r"'*[=+\-@\t\r]")
_NEUTRALISED = re.compile(r"'+[=+\-@\t\r]")
TEXT_KINDS = ("text", "list")


def neutralise(text: str) -> str:
    """A text cell that a spreadsheet shows as text, never runs as a formula: `=1+2` -> `'=1+2`.

    Text that already starts with quotes before such a character gets one more, so that
    `unneutralise` gives back exactly the original text.
    """
    return f"'{text}" if _FORMULA_START.match(text) else text


def unneutralise(text: str) -> str:
    """Undo `neutralise`: `'=1+2` -> `=1+2`; any other text is returned as it is."""
    return text[1:] if _NEUTRALISED.match(text) else text


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


@contextmanager
def atomic_text_file(target: Path, field: str) -> Iterator[IO[str]]:
    """A file that replaces `target` only once it is completely written, never half of it."""
    from fintrack.errors import InputError

    if target.is_dir():
        raise InputError(field, f"'{target}' is a directory; give a file name")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(field, f"folder '{folder}' does not exist")
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


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


def stdout_console() -> Any:
    from rich.console import Console

    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPE_WIDTH
    return console


def stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True, highlight=False, soft_wrap=True)


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    style: Callable[[dict[str, Any]], str | None] | None = None,
) -> None:
    """Print rows to stdout in the chosen format."""
    if fmt is not OutputFormat.TABLE:
        write_rows(rows, columns, fmt, sys.stdout)
        return
    if not rows:
        stderr_console().print(empty)
        return
    from rich.table import Table

    shown = [c for c in columns if c.in_table]
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in shown:
        numeric = column.kind in ("money", "int", "decimal", "percent")
        table.add_column(
            column.header,
            justify="right" if numeric else "left",
            no_wrap=numeric or column.kind in ("date", "datetime") or not column.wrap,
            min_width=max(len(column.header), column.min_width),
            overflow="fold",
        )
    for row in rows:
        table.add_row(
            *(_table_cell(row.get(c.key), c, row) for c in shown),
            style=style(row) if style else None,
        )
    stdout_console().print(table)


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
        render(rows, list_columns, fmt, title=list_title, empty=empty)


def render_one(
    row: dict[str, Any],
    columns: Sequence[Column],
    fmt: OutputFormat,
    *,
    title: str | None = None,
) -> None:
    """One record: every field as a line of a table, or one CSV row, or one JSON object."""
    if fmt is OutputFormat.CSV:
        write_csv([row], columns, sys.stdout)
        return
    if fmt is OutputFormat.JSON:
        write_json(plain_row(row, columns), sys.stdout)
        return
    if fmt is OutputFormat.JSONL:
        write_jsonl([row], columns, sys.stdout)
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    for column in columns:
        table.add_row(column.header, _table_cell(row.get(column.key), column, row))
    stdout_console().print(table)

"""The formats fintrack reads and writes: the columns of every record file and report, and how
rows are written as CSV, JSON and JSON lines (exact amounts, ISO dates, text neutralised for
spreadsheets). The CLI's tables use the same columns; the library writes files with them."""

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from itertools import islice
from operator import itemgetter
from typing import IO, TYPE_CHECKING, Any, Literal

from fintrack.money import Money, format_amount
from fintrack.spreadsheet import neutralise

if TYPE_CHECKING:
    from fintrack.reports import Grouping


class FileFormat(StrEnum):
    """What a file holds: CSV (the default), one JSON array, or JSON lines; for sanctions
    also FollowTheMoney entities (`ftm`, JSON lines), as OpenSanctions' tools read them."""

    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    FTM = "ftm"


Kind = Literal["text", "int", "decimal", "date", "datetime", "money", "percent", "list", "bool"]


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


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def record(row: Any, columns: Sequence[Column]) -> dict[str, Any]:
    """A row as the writers and the CLI's renderer take it: a dict keyed as the columns, with
    amounts in minor units beside their currency. A typed row of the library (a dataclass such
    as `fintrack.PledgeRow`, amounts as `Money`) is turned back into one; a dict is as it is."""
    if isinstance(row, dict):
        return row
    return _record(row, [c for c in columns if c.kind == "money"])


def _record(row: Any, money: Sequence[Column]) -> dict[str, Any]:
    if not is_dataclass(row) or isinstance(row, type):
        raise TypeError(f"not a row: {row!r}")
    names = _FIELD_NAMES.get(type(row))
    if names is None:
        names = _FIELD_NAMES[type(row)] = tuple(item.name for item in fields(row))
    values = {
        name: list(value) if isinstance(value, tuple) else value
        for name in names
        for value in (getattr(row, name),)
    }
    for column in money:
        value = values.get(column.key)
        if isinstance(value, Money):
            values[column.key] = value.minor
            values[column.currency_key] = value.currency
        else:
            values.setdefault(column.currency_key, None)
    return values


def records(rows: Iterable[Any], columns: Sequence[Column]) -> list[dict[str, Any]]:
    """`record` of each row."""
    money = [c for c in columns if c.kind == "money"]
    return [row if isinstance(row, dict) else _record(row, money) for row in rows]


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
    cells = [_csv_writer(c) for c in columns]
    count = 0
    for row in rows:
        writer.writerow([cell(row) for cell in cells])
        count += 1
    return count


# A text holds one of these where `neutralise` may change it; most hold none.
_RISKY = re.compile("[=+\\-@\t\r]").search


def _csv_writer(column: Column) -> Callable[[dict[str, Any]], str]:
    """The CSV cell of a column (`_csv_cell` of `_plain`), with the common values (text and
    whole numbers) written directly: an export writes millions of cells."""
    key, text = column.key, column.kind in TEXT_KINDS

    def cell(row: dict[str, Any]) -> str:
        value = row.get(key)
        if value is None:
            return ""
        kind = value.__class__
        if kind is str and text:
            return value if _RISKY(value) is None else neutralise(value)
        if kind is int and column.kind != "money":
            return str(value)
        return _csv_cell(_plain(value, column, row), column)

    return cell


def write_json(data: Any, out: IO[str]) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False)
    out.write("\n")


def write_json_rows(rows: Iterable[dict[str, Any]], columns: Sequence[Column], out: IO[str]) -> int:
    """The rows as one JSON array, written a row at a time; the same text as `write_json`."""
    count = 0
    for row in rows:
        item = json.dumps(plain_row(row, columns), indent=2, ensure_ascii=False)
        out.write("[\n" if count == 0 else ",\n")
        # Split at "\n" alone: splitlines() would also split text at U+2028 and the like,
        # which json.dumps leaves as they are, and indent the text after them.
        out.write("\n".join(f"  {line}" for line in item.split("\n")))
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
    rows: Iterable[dict[str, Any]], columns: Sequence[Column], fmt: str, out: IO[str]
) -> int:
    """Rows as CSV, JSON or JSON lines (`FileFormat`, or the same word), streamed; returns
    the number of rows."""
    if fmt == FileFormat.JSON:
        return write_json_rows(rows, columns, out)
    if fmt == FileFormat.JSONL:
        return write_jsonl(rows, columns, out)
    return write_csv(rows, columns, out)


# --- The records: listings and the files of export and import ---------------------------


def _status(row: dict[str, Any]) -> str:
    """The status, or which pledge replaced this one (it then no longer counts in totals)."""
    if row.get("voided") is not None:
        return "void"
    if row.get("replaced_by") is not None:
        return f"replaced by {row['replaced_by']}"
    return str(row["status"])


PLEDGE_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("donor", "Donor", priority=KEEP),
    Column("recipient", "Recipient", priority=KEEP),
    Column("purpose", "Purpose", in_table=False, priority=EXTRA),
    Column("currency", "Cur", wrap=False, priority=KEEP),
    Column("pledged", "Pledged", "money", priority=MAIN),
    Column("disbursed", "Disbursed", "money", priority=MAIN),
    Column("outstanding", "Outstanding", "money", priority=MAIN),
    Column("fulfilled_pct", "Fulfilled", "percent", priority=EXTRA),
    Column("status", "Status", wrap=False, table_text=_status, priority=MORE),
    Column("announced", "Announced", "date", priority=EXTRA),
    Column("installments", "Inst.", "int", priority=EXTRA),
    Column("next_due", "Next due", "date", priority=MORE),
    Column("schedule_assumed", "Assumed", "bool", priority=EXTRA),
    Column("confidence", "Confidence", wrap=False, priority=EXTRA),
    Column("ref", "Ref", in_table=False, priority=EXTRA),
    Column("replaces", "Replaces", "int", in_table=False, priority=EXTRA),
    Column("replaced_by", "Replaced by", "int", in_table=False, priority=EXTRA),
    Column("voided", "Voided", "datetime", in_table=False, priority=EXTRA),
    # As another system (OCHA FTS) records the pledge (SOURCE_SYSTEM_KEYS): the amount,
    # currency and rate it was given in, the value date, the source's version, the flow it
    # is part of and why the source's counting rules leave it out of totals.
    Column("original_amount", "Original amount", "decimal", in_table=False, priority=EXTRA),
    Column("original_currency", "Original cur", wrap=False, in_table=False, priority=EXTRA),
    Column("exchange_rate", "Original rate", "decimal", in_table=False, priority=EXTRA),
    Column("value_on", "Value date", "date", in_table=False, priority=EXTRA),
    Column("version", "Version", wrap=False, in_table=False, priority=EXTRA),
    Column("part_of", "Part of", "int", in_table=False, priority=EXTRA),
    Column("boundary", "Left out", wrap=False, in_table=False, priority=EXTRA),
]
# The pledge columns that only a pledge from another system has: `pledge show` leaves them
# out when they are empty.
SOURCE_SYSTEM_KEYS = (
    "original_amount", "original_currency", "exchange_rate", "value_on", "version", "part_of",
    "boundary",
)  # fmt: skip
INSTALLMENT_COLUMNS = [
    Column("pledge_id", "Pledge", "int", priority=KEEP),
    Column("seq", "#", "int", priority=KEEP),
    Column("due", "Due", "date", priority=KEEP),
    Column("currency", "Cur", wrap=False, priority=KEEP),
    Column("amount", "Amount", "money", priority=MAIN),
    Column("paid", "Paid", "money", priority=MAIN),
    Column("outstanding", "Outstanding", "money", priority=MAIN),
    Column("state", "State", wrap=False, priority=KEEP),
]
DISBURSEMENT_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("pledge_id", "Pledge", "int", priority=KEEP),
    Column("installment", "Installment", "int", priority=KEEP),
    Column("paid_on", "Paid on", "date", priority=KEEP),
    Column("currency", "Cur", wrap=False, priority=KEEP),
    Column("amount", "Amount", "money", priority=MAIN),
    Column("confidence", "Confidence", wrap=False, priority=MORE),
]
# The files of `fintrack export` and `fintrack import`: the listings, and the stable key of
# the pledge each row belongs to (its ref, or a key derived from its content).
INSTALLMENT_FILE_COLUMNS = [*INSTALLMENT_COLUMNS, Column("pledge_ref", "Pledge ref")]
DISBURSEMENT_FILE_COLUMNS = [*DISBURSEMENT_COLUMNS, Column("pledge_ref", "Pledge ref")]

# Sanction actions: the listing and the file.
SANCTION_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("authority", "Authority", priority=KEEP),
    Column("program", "Program", priority=MAIN),
    Column("target", "Target", priority=MAIN),
    Column("action", "Action", priority=KEEP),
    Column("measures", "Measures", "list", priority=MORE),
    Column("status", "Status", wrap=False, priority=MAIN),
    Column("announced", "Announced", "date", priority=MORE),
    Column("effective", "Effective", "date", priority=MAIN),
    Column("expires", "Expires", "date", priority=MORE),
    Column("deadline", "Deadline", "date", priority=MORE),
    Column("deadline_label", "Deadline label", in_table=False),
    Column("legal_ref", "Legal reference", in_table=False),
    Column("summary", "Summary", in_table=False),
    Column("confidence", "Confidence", wrap=False, priority=EXTRA),
    Column("ref", "Ref", in_table=False),
    Column("voided", "Voided", "datetime", in_table=False),
]

RATE_COLUMNS = [
    Column("base", "Base", wrap=False, priority=KEEP),
    Column("quote", "Quote", wrap=False, priority=KEEP),
    Column("on", "On", "date", priority=KEEP),
    Column("rate", "Rate", "decimal", priority=KEEP),
    Column("source", "Source", priority=MORE),
]

# The files of sources and of their links to records, each named by its stable key.
SOURCE_FILE_COLUMNS = [
    Column("key", "Key"),
    Column("url", "URL"),
    Column("title", "Title"),
    Column("publisher", "Publisher"),
    Column("published", "Published", "date"),
    Column("retrieved", "Retrieved", "date"),
]
LINK_FILE_COLUMNS = [
    Column("kind", "Kind"),
    Column("record", "Record"),
    Column("source", "Source"),
    Column("confidence", "Confidence"),
]
# Columns of the listings that a file leaves out: a record's standing comes from its links
# (the links file), and only live records are exported, so none is voided.
NOT_IN_FILES = ("confidence", "voided")


def file_columns(kind: str) -> list[Column]:
    """The columns of the export file of a kind, which its import reads back."""
    columns = {
        "sanctions": SANCTION_COLUMNS,
        "pledges": PLEDGE_COLUMNS,
        "installments": INSTALLMENT_FILE_COLUMNS,
        "disbursements": DISBURSEMENT_FILE_COLUMNS,
        "rates": RATE_COLUMNS,
        "sources": SOURCE_FILE_COLUMNS,
        "links": LINK_FILE_COLUMNS,
    }[kind]
    if kind in ("sources", "links"):
        return columns
    return [c for c in columns if c.key not in NOT_IN_FILES]


# The sources cited for a record, with the confidence each gives it.
CITED_COLUMNS = [
    Column("id", "Source", "int", priority=KEEP),
    Column("confidence", "Confidence", wrap=False, priority=KEEP),
    Column("publisher", "Publisher", priority=MAIN),
    Column("title", "Title", min_width=20, priority=MAIN),
    Column("url", "URL", min_width=20, priority=MAIN),
    Column("published", "Published", "date", priority=MORE),
]


CLAIM_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("stated", "Stated", "date", priority=MAIN),
    Column("subject", "Subject", priority=KEEP),
    Column("statement", "Statement", min_width=30, priority=MAIN),
    Column("confidence", "Confidence", wrap=False, priority=KEEP),
    Column("ref", "Ref", in_table=False),
    Column("voided", "Voided", "datetime", in_table=False),
]


CONVERSION_COLUMNS = [
    Column("value_date", "Value date", "date", priority=KEEP),
    Column("currency", "Cur", wrap=False, priority=KEEP),
    Column("amount", "Amount", "money", priority=MAIN),
    Column("rate", "Rate", "decimal", priority=MAIN),
    Column("rate_on", "Rate date", "date", priority=MAIN),
    Column("route", "Route", wrap=False, priority=MORE),
    Column("target", "In", wrap=False, priority=KEEP),
    Column("converted", "Converted", "money", currency_key="target", priority=KEEP),
]


HISTORY_COLUMNS = [
    Column("change", "Change", "int", priority=KEEP),
    Column("at", "When", "datetime", priority=MAIN),
    Column("analyst", "Who", wrap=False, priority=MORE),
    Column("what", "What", priority=KEEP),
    Column("field", "Field", priority=KEEP),
    Column("from", "From", min_width=12, priority=MAIN),
    Column("to", "To", min_width=12, priority=MAIN),
    Column("reason", "Why", min_width=12, priority=MORE),
    Column("command", "Command", in_table=False),
]


SOURCE_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("publisher", "Publisher", priority=MAIN),
    Column("title", "Title", min_width=20, priority=MAIN),
    Column("url", "URL", min_width=20, priority=MAIN),
    Column("published", "Published", "date", priority=MORE),
    Column("retrieved", "Retrieved", "date", priority=EXTRA),
    Column("links", "Records", "int", priority=MORE),
]


LINK_COLUMNS = [
    Column("kind", "Kind", priority=KEEP),
    Column("record_id", "Record", "int", priority=KEEP),
    Column("confidence", "Confidence", wrap=False, priority=KEEP),
]


# --- The reports ------------------------------------------------------------------------

TOTALS_COLUMNS = [
    Column("donor", "Donor", priority=KEEP),
    Column("recipient", "Recipient", priority=KEEP),
    Column("month", "Month", priority=KEEP),
    Column("currency", "Cur", wrap=False, priority=KEEP),
    Column("pledges", "Pledges", "int", priority=MORE),
    Column("pledged", "Pledged", "money", priority=MAIN),
    Column("disbursed", "Disbursed", "money", priority=MAIN),
    Column("outstanding", "Outstanding", "money", priority=MAIN),
    Column("fulfilled_pct", "Fulfilled", "percent", priority=MAIN),
    # How much of each figure rests on sources that do not confirm it (or on none).
    Column("pledged_unconfirmed", "Pledged, unconfirmed", "money", priority=EXTRA),
    Column("disbursed_unconfirmed", "Disbursed, unconfirmed", "money", priority=EXTRA),
    Column("total", "Total row", "bool", in_table=False, priority=EXTRA, in_wide=False),
]


def converted_columns(target: str) -> list[Column]:
    """The columns that show a conversion beside the original amount."""
    return [
        Column("rate", "Rate", "decimal", priority=MORE),
        Column("rate_on", "Rate date", "date", priority=MORE),
        Column("route", "Route", wrap=False, in_table=False, priority=EXTRA),
        Column("target", "In", wrap=False, in_table=False, priority=EXTRA, in_wide=False),
        Column("converted", f"In {target}", "money", currency_key="target", priority=KEEP),
    ]


def _days(row: dict[str, Any]) -> str:
    """Days left, with the state where it matters, so it shows without colour too."""
    days, state = row["days_left"], row["state"]
    return f"{days} {state}" if state in ("overdue", "lapsed", "today") else str(days)


DEADLINE_COLUMNS = [
    Column("date", "Date", "date", priority=KEEP),
    Column("days_left", "Days", "int", wrap=False, table_text=_days, priority=KEEP),
    Column("state", "State", in_table=False, priority=EXTRA, in_wide=False),
    Column("kind", "Kind", wrap=False, priority=MORE),
    Column("subject", "Subject", min_width=10, priority=KEEP),
    # What the date is about ("lapses unless renewed") is the point of a deadline: whole.
    Column("detail", "Detail", priority=MAIN, max_lines=6),
    Column("currency", "Cur", wrap=False, priority=MAIN),
    Column("amount", "Outstanding", "money", priority=MAIN),
    Column(
        "record",
        "Record",
        wrap=False,
        table_text=lambda r: f"{r['record']} {r['record_id']}",
        priority=KEEP,
    ),
    Column("record_id", "ID", "int", in_table=False, priority=EXTRA, in_wide=False),
    Column("confidence", "Confidence", wrap=False, in_table=False, priority=EXTRA),
]

KEY_COLUMNS = ("donor", "recipient", "month")


def totals_columns(by: "Grouping | str", target: str | None = None) -> list[Column]:
    """The columns of the totals report for a grouping: its keys, then the figures.

    Converted into `target`, the original currencies of each group come before the figures.
    """
    from fintrack.reports import GROUP_KEYS, Grouping

    keys = GROUP_KEYS[Grouping(by)]
    columns = [c for c in TOTALS_COLUMNS if c.key not in KEY_COLUMNS or c.key in keys]
    if target is None:
        return columns
    at = next(i for i, c in enumerate(columns) if c.key == "currency")
    # By currency, the currencies converted from are what tells the rows apart (each row's
    # currency is the target): a narrow terminal keeps them.
    priority = KEEP if Grouping(by) is Grouping.CURRENCY else MORE
    return [*columns[:at], Column("currencies", "From", "list", priority=priority), *columns[at:]]


# --- Plain rows: the fast path of exports ------------------------------------------------
#
# An export writes millions of cells: its rows come as tuples of plain values in the columns'
# order (what `_plain` gives: None, text, whole numbers, booleans, lists of text; amounts
# already exact text), so that only text cells need looking at before csv.writer takes them.

# A text cell that `neutralise` may change: a formula character at its start (after spaces
# and quotes), or a separator after which a reader may begin a cell.
_MAY_NEUTRALISE = re.compile("^ *'*[=+\\-@\t\r]|[,;\t\r\n\"]").search
# The same for a row's text cells joined by NUL, each after one (a superset of the rows that
# need it, found several times faster: the expression begins with one of a few characters).
_ROW_MAY_NEUTRALISE = re.compile("\0[ '=+\\-@\t\r]|[,;\t\r\n\"]").search
# Plain rows are written a batch at a time (csv.writer.writerows, one JSON text).
PLAIN_BATCH = 1_000


def plain_values(
    rows: Iterable[dict[str, Any]], columns: Sequence[Column]
) -> Iterator[tuple[Any, ...]]:
    """Rows of the plain path as plain tuples: `plain_row`'s values, in the columns' order."""
    for row in rows:
        yield tuple(_plain(row.get(c.key), c, row) for c in columns)


def write_plain(
    rows: Iterable[Sequence[Any]], columns: Sequence[Column], fmt: str, out: IO[str]
) -> int:
    """Plain tuples (see `plain_values`) written as `write_rows` writes the rows they come
    from, to the byte; returns the number of rows."""
    if fmt == FileFormat.JSON:
        return _write_plain_json(rows, columns, out)
    if fmt == FileFormat.JSONL:
        keys = [c.key for c in columns]
        count = 0
        for row in rows:
            out.write(json.dumps(dict(zip(keys, row, strict=True)), ensure_ascii=False))
            out.write("\n")
            count += 1
        return count
    return _write_plain_csv(rows, columns, out)


def _write_plain_csv(rows: Iterable[Sequence[Any]], columns: Sequence[Column], out: IO[str]) -> int:
    plain = csv.writer(out, lineterminator="\n")
    plain.writerow([c.key for c in columns])
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    # csv.writer writes None as an empty cell and whole numbers as `str` does; text, lists
    # and booleans are written as `_csv_cell` writes them.
    texts = [i for i, c in enumerate(columns) if c.kind == "text"]
    others = [i for i, c in enumerate(columns) if c.kind in ("list", "bool")]
    lists = any(c.kind == "list" for c in columns)
    # A row's text cells looked at all at once, each after a NUL (which no stored text holds):
    # most rows need nothing, and the others are looked at a cell at a time.
    text_cells: Callable[[Sequence[Any]], Sequence[Any]] = (
        itemgetter(*texts) if len(texts) > 1 else (lambda row: [row[i] for i in texts])
    )
    count = 0
    source = iter(rows)
    while batch := list(islice(source, PLAIN_BATCH)):
        count += len(batch)
        flagged: list[int] = []
        if texts:
            try:
                flagged = [
                    n
                    for n, cells in enumerate(map(text_cells, batch))
                    if _ROW_MAY_NEUTRALISE("\0".join(("", *cells))) is not None
                ]
            except TypeError:  # an empty cell (None), or one not text
                flagged = [
                    n
                    for n, cells in enumerate(map(text_cells, batch))
                    if _ROW_MAY_NEUTRALISE("\0".join(["", *map(str, cells)])) is not None
                ]
        if not flagged and not others:
            plain.writerows(batch)
            continue
        looked_at = set(flagged)
        quoted_rows: list[int] = []
        for n in range(len(batch)) if others else flagged:
            row = batch[n]
            changed = list(row)
            # Only a text cell that the look at the whole row stopped at may hold a \r.
            suspect = lists or n in looked_at
            if n in looked_at:
                for i in texts:
                    value = row[i]
                    if value is not None and (
                        value.__class__ is not str or _MAY_NEUTRALISE(value) is not None
                    ):
                        changed[i] = _csv_cell(value, columns[i])
            for i in others:
                if row[i] is not None:
                    changed[i] = _csv_cell(row[i], columns[i])
            batch[n] = changed
            if suspect and any(isinstance(cell, str) and "\r" in cell for cell in changed):
                quoted_rows.append(n)
        # A row with a \r is written quoted whole (see CsvWriter), in its place.
        start = 0
        for n in quoted_rows:
            plain.writerows(batch[start:n])
            quoted.writerow(["" if cell is None else str(cell) for cell in batch[n]])
            start = n + 1
        plain.writerows(batch[start:])
    return count


def _write_plain_json(
    rows: Iterable[Sequence[Any]], columns: Sequence[Column], out: IO[str]
) -> int:
    """`write_json_rows`: each row as `json.dumps(..., indent=2)` writes a flat object, built
    from its keys and the C encoder's values (a list takes json.dumps itself)."""
    from json.encoder import encode_basestring

    keys = [c.key for c in columns]
    prefixes = [f"\n    {encode_basestring(key)}: " for key in keys]
    count = 0
    for row in rows:
        parts = []
        for prefix, value in zip(prefixes, row, strict=True):
            if value is None:
                text = "null"
            elif value is True:
                text = "true"
            elif value is False:
                text = "false"
            elif value.__class__ is str:
                text = encode_basestring(value)
            elif value.__class__ is int:
                text = int.__repr__(value)
            else:  # a list: as json.dumps indents it, inside the row's object
                text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n    ")
            parts.append(prefix + text)
        out.write("[\n  {" if count == 0 else ",\n  {")
        out.write(",".join(parts))
        out.write("\n  }")
        count += 1
    out.write("\n]\n" if count else "[]\n")
    return count

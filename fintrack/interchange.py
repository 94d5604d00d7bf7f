"""CSV import and export: every row checked before anything is written, stable keys, streaming."""

import codecs
import csv
import io
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from fintrack.changes import stamp
from fintrack.dates import parse_date
from fintrack.errors import FintrackError, InputError
from fintrack.ids import parse_id
from fintrack.keys import (
    KeyNumbering,
    disbursement_content,
    disbursement_keys,
    pledge_content,
    pledge_keys,
    sanction_content,
    sanction_keys,
    source_key,
    source_keys,
)
from fintrack.models import (
    Change,
    Disbursement,
    ExchangeRate,
    Installment,
    Pledge,
    SanctionAction,
    SanctionMeasure,
    Source,
    SourceLink,
    Versioned,
    utcnow,
)
from fintrack.money import format_amount, normalize_currency, parse_amount
from fintrack.sanctions import SanctionInput, SanctionValues, sanction_values
from fintrack.sources import source_url
from fintrack.spreadsheet import unneutralise
from fintrack.store import YIELD_PER, advance_id_sequence, serialize_imports
from fintrack.text import check_row, clean, required
from fintrack.vocab import (
    Confidence,
    PledgeStatus,
    SanctionActionKind,
    SanctionStatus,
    parse_choice,
)

T = TypeVar("T")

# Bad rows listed in full before "... and N more".
MAX_LISTED = 20
# Rows written to the database per statement.
BATCH_ROWS = 5_000
# The longest line of a file an import reads, and the longest row (with the line breaks in its
# quoted cells), in characters: a longer one is refused before it is held in memory whole, so
# that a file without line breaks cannot exhaust the memory.
MAX_LINE = 1 << 20
# The longest cell: the csv module's limit, which it reports as a csv.Error.
MAX_CELL = csv.field_size_limit()
# A column of rejects files; ignored on import, so a corrected rejects file imports as it is.
REASON = "reason"
_SPACE_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?")
# Dots between thousands without a decimal comma (29.000) are parse_amount's to judge.
_DECIMAL_COMMA = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+|\d+,\d{1,2}")


class Kind(StrEnum):
    SANCTIONS = "sanctions"
    PLEDGES = "pledges"
    INSTALLMENTS = "installments"
    DISBURSEMENTS = "disbursements"
    RATES = "rates"
    SOURCES = "sources"
    LINKS = "links"


# Columns an import needs; the others of the export are optional, and these are derived
# from other records, so an import ignores them: export writes them for people to read.
REQUIRED = {
    Kind.SANCTIONS: ("authority", "target", "action"),
    Kind.PLEDGES: ("donor", "recipient", "currency", "pledged"),
    Kind.INSTALLMENTS: ("pledge_ref", "seq", "due", "amount"),
    Kind.DISBURSEMENTS: ("pledge_ref", "installment", "paid_on", "amount"),
    Kind.RATES: ("base", "quote", "on", "rate"),
    Kind.SOURCES: (),  # but a url or a title column: see ONE_OF
    Kind.LINKS: ("kind", "record", "source", "confidence"),
}
# Kinds whose files need at least one of these columns.
ONE_OF = {Kind.SOURCES: ("url", "title")}
DERIVED = {
    Kind.SANCTIONS: ("id",),
    Kind.PLEDGES: ("id", "disbursed", "outstanding", "fulfilled_pct", "replaced_by"),
    Kind.INSTALLMENTS: ("pledge_id", "paid", "outstanding", "state"),
    Kind.DISBURSEMENTS: ("id", "pledge_id"),
    Kind.RATES: (),
    Kind.SOURCES: (),
    Kind.LINKS: (),
}
# The kinds of record a links file names, and the column of source_links naming each.
# Claims have no file of their own yet, so their links are neither exported nor imported.
LINK_KINDS = {"sanction": "sanction_id", "pledge": "pledge_id", "payment": "disbursement_id"}
# Kinds whose files had a `source` text column before sources became records (schema 0003).
_HAD_SOURCE = (Kind.SANCTIONS, Kind.PLEDGES, Kind.DISBURSEMENTS)


# --- Reading CSV files ------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One row of a CSV file: the line it starts on, its cells by column and as read."""

    line: int
    values: dict[str, str]
    raw: list[str]
    problem: str | None = None


Progress = Callable[[int], None]


class CsvFile:
    """A CSV file read lazily, one record at a time, as spreadsheets write them.

    UTF-8 with or without a byte-order mark; `,` or `;` between cells (whichever the header
    uses); quoted cells may hold line breaks; blank lines are skipped.
    """

    def __init__(self, path: Path, kind: Kind, columns: Sequence[str], label: str) -> None:
        self.path = path
        self.kind = kind
        self.columns = list(columns)
        self.label = label
        self.header: list[str] = []
        self.size = 0

    def fail(self, message: str) -> InputError:
        return InputError(self.label, message)

    def _open(self) -> IO[bytes]:
        """The file, opened for reading; only a regular file: an import reads it twice (it
        checks every row before it writes one), which a pipe or a device cannot give. It is
        opened without waiting, so that a pipe without a writer is refused, not waited for."""
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        except FileNotFoundError:
            raise self.fail("no such file") from None
        except IsADirectoryError:
            raise self.fail("is a directory; give a CSV file") from None
        except OSError as exc:
            raise self.fail(f"cannot be read: {exc.strerror}") from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            if stat.S_ISDIR(mode):
                raise self.fail("is a directory; give a CSV file")
            raise self.fail(
                "is not a regular file but a pipe or a device; an import reads its file "
                "twice, so save the rows to a file and import that"
            )
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")

    def records(self, progress: Progress | None = None) -> Iterator[Record]:
        binary = self._open()
        with binary:
            self.size = os.fstat(binary.fileno()).st_size
            text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
            lines = _Lines(text)
            line = 0
            try:
                first = next(lines, "")
                line = 1
                self._read_header(first)
                delimiter = self._delimiter
                reader = csv.reader(_chain(first, lines), delimiter=delimiter, strict=True)
                next(reader)
                count = 0
                while True:
                    line = reader.line_num + 1
                    lines.row = 0
                    try:
                        cells = next(reader)
                    except StopIteration:
                        break
                    count += 1
                    if progress is not None and count % 10_000 == 0:
                        progress(binary.tell())
                    if not any(cell.strip() for cell in cells):
                        continue
                    yield self._record(line, cells)
            except UnicodeDecodeError:
                raise self.fail(
                    f"line {self._undecodable_line()} is not UTF-8 text; save the file as CSV UTF-8"
                ) from None
            except _TooLong as exc:
                if exc.row:
                    raise self.fail(
                        f"line {line}: the row (with the line breaks in its quoted cells) is "
                        f"longer than {MAX_LINE:,} characters; is a quote left open?"
                    ) from None
                raise self.fail(
                    f"line {exc.line} is longer than {MAX_LINE:,} characters; is it a CSV file?"
                ) from None
            except csv.Error as exc:
                if "field larger than field limit" in str(exc):
                    raise self.fail(
                        f"line {line}: a cell is longer than {MAX_CELL:,} characters; "
                        "is a quote left open?"
                    ) from None
                raise self.fail(f"line {line}: {exc}; is a quote left open?") from None
            if progress is not None:
                progress(self.size)

    _delimiter = ","

    def _undecodable_line(self) -> int:
        """The first line that is not UTF-8 (text is decoded ahead, a chunk at a time), found
        a chunk at a time too, however long the lines."""
        decoder = codecs.getincrementaldecoder("utf-8")()
        number = 1
        with self._open() as binary:
            while chunk := binary.read(1 << 16):
                try:
                    number += decoder.decode(chunk).count("\n")
                except UnicodeDecodeError as exc:
                    return number + exc.object[: exc.start].count(b"\n")
        return number

    def _read_header(self, first: str) -> None:
        if not first.strip():
            raise self.fail(f"is empty; the first line must name the columns: {self._listed()}")
        commas, semicolons = first.count(","), first.count(";")
        if semicolons > commas:
            self._delimiter = ";"
        elif commas == 0 and "\t" in first:
            raise self.fail("separates cells with tabs; save it as CSV, with , or ;")
        else:
            self._delimiter = ","
        header = next(csv.reader([first], delimiter=self._delimiter))
        self.header = [cell.strip().lower() for cell in header]
        known = set(self.columns) | {REASON}
        for name in self.header:
            if name == "source" and self.kind in _HAD_SOURCE:
                raise self.fail(
                    f"line 1: 'source' is no longer a column of {self.kind.value}: sources are "
                    "records of their own, in the files of `fintrack export sources` and "
                    "`fintrack export links`; export the file again with this version"
                )
            if name not in known:
                raise self.fail(
                    f"line 1: '{name}' is not a column of {self.kind.value}; "
                    f"the columns are {self._listed()}"
                )
            if self.header.count(name) > 1:
                raise self.fail(f"line 1: column '{name}' appears twice")
        missing = [name for name in REQUIRED[self.kind] if name not in self.header]
        if missing:
            raise self.fail(
                f"line 1: no column {', '.join(missing)}; "
                f"{self.kind.value} need {', '.join(REQUIRED[self.kind])}"
            )
        either = ONE_OF.get(self.kind, ())
        if either and not any(name in self.header for name in either):
            raise self.fail(
                f"line 1: no column {' or '.join(either)}; {self.kind.value} need one of them"
            )

    def _listed(self) -> str:
        return ", ".join(self.columns)

    def _record(self, line: int, cells: list[str]) -> Record:
        problem = None
        if len(cells) != len(self.header):
            problem = f"has {len(cells)} cells; the header has {len(self.header)}"
        values = {name: unneutralise(cell) for name, cell in zip(self.header, cells, strict=False)}
        return Record(line, values, cells, problem)


def _chain(first: str, rest: Iterator[str]) -> Iterator[str]:
    yield first
    yield from rest


class _TooLong(Exception):
    def __init__(self, line: int, row: bool) -> None:
        self.line = line
        self.row = row


class _Lines:
    """The lines of a text, each read only up to MAX_LINE characters, so that a line without
    an end is refused rather than read whole; `row` counts the characters of the current row."""

    def __init__(self, text: IO[str]) -> None:
        self.text = text
        self.number = 0
        self.row = 0

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self.text.readline(MAX_LINE + 2)  # and its \r\n
        if not line:
            raise StopIteration
        self.number += 1
        length = len(line.rstrip("\r\n"))
        if length > MAX_LINE:
            raise _TooLong(self.number, row=False)
        self.row += length
        if self.row > MAX_LINE:
            raise _TooLong(self.number, row=True)
        return line


# --- Checking cells ---------------------------------------------------------------------------


# The columns of the files whose names differ from the fields of the library's inputs
# (SanctionInput.announced_on is the column announced); the others have the same name.
COLUMN_OF_FIELD = {
    "announced_on": "announced",
    "effective_on": "effective",
    "expires_on": "expires",
    "deadline_on": "deadline",
    "published_on": "published",
    "retrieved_on": "retrieved",
}


def column_of(field: str) -> str:
    """The column of a file that holds a field of the library's inputs: its one mapping."""
    return COLUMN_OF_FIELD.get(field, field)


def _message(exc: InputError) -> str:
    """An error's problem, the fields it mentions named by their columns."""
    return exc.worded(lambda field, _word: column_of(field))


class Cells:
    """The cells of one row, parsed a column at a time; problems are collected, not raised."""

    def __init__(self, record: Record) -> None:
        self.values = record.values
        self.errors: list[tuple[str | None, str]] = []
        if record.problem:
            self.errors.append((None, record.problem))

    def get(self, column: str) -> str | None:
        value = self.values.get(column)
        return value if value is not None and value.strip() else None

    def parse(self, column: str, parser: Callable[[str, str], T], need: bool = False) -> T | None:
        value = self.get(column)
        if value is None:
            if need:
                self.errors.append((column, "is empty; a value is required"))
            return None
        try:
            return parser(value, column)
        except InputError as exc:
            self.errors.append((column, _message(exc)))
            return None

    def text(self, column: str) -> str | None:
        return clean(self.values.get(column))

    def fail(self, column: str | None, message: str) -> None:
        self.errors.append((column, message))


def _fits(cells: Cells, model: Any, row: dict[str, Any]) -> bool:
    """Whether a row's text is stored as it is, checked as `add` checks it (`check_row`)."""
    try:
        check_row(model, row)
    except InputError as exc:
        cells.fail(column_of(exc.field), _message(exc))
        return False
    return True


def _integer(text: str, column: str) -> int:
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) < 1:
        raise InputError(column, f"'{text}' is not a whole number from 1 up")
    return int(value)


def _boolean(text: str, column: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise InputError(column, f"'{text}' is not true or false")


def _required(text: str, column: str) -> str:
    return required(text, column)


def amount_parser(currency: str) -> Callable[[str, str], int]:
    """Parse an amount as `add` does, also with spaces between groups of thousands."""

    def parse(text: str, column: str) -> int:
        value = text.strip()
        if _SPACE_GROUPED.fullmatch(value):
            value = re.sub(r"[ \u00a0\u202f]", ",", value)
        elif _DECIMAL_COMMA.fullmatch(value):
            raise InputError(
                column,
                f"'{text}' has a decimal comma; write amounts with a decimal point "
                "and , or a space between thousands: 29,000,000.50",
            )
        return parse_amount(value, currency, column)

    return parse


def _choice(kind: type[StrEnum]) -> Callable[[str, str], Any]:
    return lambda text, column: parse_choice(kind, text, column)


def _currency(text: str, column: str) -> str:
    return normalize_currency(text, column)


# --- Problems and results ---------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    file: str
    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}:"
        if self.column is None:
            return f"{place} {self.message}"
        return f"{place} column {self.column}: {self.message}"


class InvalidRows(FintrackError):
    """Rows that fail their checks; nothing was written."""

    def __init__(self, errors: list[RowError], invalid: int, total: int) -> None:
        super().__init__(f"{invalid} of {total} rows are invalid; nothing was imported")
        self.errors = errors
        self.invalid = invalid

    def listing(self, limit: int = MAX_LISTED) -> list[str]:
        lines = [str(error) for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"... and {len(self.errors) - limit} more")
        return lines


class Problems:
    """Every bad row of the files of one import, with the reasons it is bad."""

    def __init__(self, *sources: CsvFile | None) -> None:
        self.errors: list[RowError] = []
        # Listed file by file, in the order the import names them.
        self.bad: dict[str, dict[int, str]] = {s.label: {} for s in sources if s is not None}

    def add(self, source: CsvFile, line: int, errors: Sequence[tuple[str | None, str]]) -> None:
        for column, message in errors:
            self.errors.append(RowError(source.label, line, column, message))
        reason = "; ".join(str(RowError("", 0, c, m))[4:] for c, m in errors)
        lines = self.bad.setdefault(source.label, {})
        lines[line] = f"{lines[line]}; {reason}" if line in lines else reason

    def reason(self, source: CsvFile, line: int) -> str | None:
        return self.bad.get(source.label, {}).get(line)

    @property
    def rows(self) -> int:
        return sum(len(lines) for lines in self.bad.values())


@dataclass
class ImportResult:
    added: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    # Links stored with another confidence, changed to the file's.
    changed: dict[str, int] = field(default_factory=dict)
    # Records voided in this database: counted as present, and left void.
    voided: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    rows: int = 0

    def count(self, kind: Kind, added: bool) -> None:
        self.tally(self.added if added else self.present, kind)

    @staticmethod
    def tally(counts: dict[str, int], kind: Kind) -> None:
        counts[kind.value] = counts.get(kind.value, 0) + 1

    @property
    def wrote(self) -> bool:
        return bool(self.added or self.changed)


Reject = Callable[[CsvFile, list[str], str], None]


@dataclass
class Options:
    dry_run: bool = False
    reject: Reject | None = None  # given: bad rows go there, the good ones are imported
    progress: Callable[[str, int], Progress] | None = None  # (description, total) -> advance
    # The change the import's rows belong to (begin_change); None only for a dry run.
    change: Change | None = None

    def now(self) -> datetime:
        """When the records are stored: the time of the import's change."""
        return self.change.at if self.change is not None else utcnow()


class IdPlan:
    """Ids for new records: the file's id when the database has no record with it, so a copy
    into an empty database keeps its numbers; the next free number otherwise."""

    def __init__(self, taken: set[int]) -> None:
        self.taken = taken
        self.ids: dict[Any, int] = {}
        self.pending: list[Any] = []

    def claim(self, key: Any, number: int | None) -> None:
        if number is not None and number not in self.taken:
            self.taken.add(number)
            self.ids[key] = number
        else:
            self.pending.append(key)

    def finish(self) -> None:
        following = max(self.taken, default=0) + 1
        for key in self.pending:
            self.ids[key] = following
            following += 1
        self.pending = []


def _begin(session: Session, options: Options) -> None:
    """Before an import reads what is stored: wait for any other import to end."""
    if not options.dry_run:
        serialize_imports(session)


class Batches:
    """Rows for one table, written with one executemany statement per batch.

    Rows of a versioned table are stamped as the first version of their record, made by the
    import's change (`stamp`); a Core insert bypasses the ORM's flush hook that would. Rows
    that refer to rows of another batch name it as `parent`: it is written first, so that a
    full batch of children never reaches the database before the parents they point to.
    """

    def __init__(
        self, session: Session, model: Any, options: Options, parent: "Batches | None" = None
    ) -> None:
        self.session = session
        self.parent = parent
        self.table = model.__table__
        self.statement = insert(self.table)
        self.change = options.change if issubclass(model, Versioned) else None
        if self.change is None and issubclass(model, Versioned) and not options.dry_run:
            raise RuntimeError(f"rows of {self.table.name} imported outside a change")
        self.rows: list[dict[str, Any]] = []
        self.explicit_ids = False

    def add(self, row: dict[str, Any]) -> None:
        self.explicit_ids = self.explicit_ids or "id" in row
        self.rows.append(row if self.change is None else stamp(row, self.change))
        if len(self.rows) >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.parent is not None:
            self.parent.flush()
        if self.rows:
            self.session.connection().execute(self.statement, self.rows)
            self.rows = []
        if self.explicit_ids:
            advance_id_sequence(self.session, self.table.name)
            self.explicit_ids = False


def _pass(
    source: CsvFile, options: Options, verb: str
) -> Iterator[Record]:  # one reading of a file
    progress = None
    if options.progress is not None:
        size = source.path.stat().st_size if source.path.is_file() else 0
        progress = options.progress(f"{verb} {source.label}", size)
    return source.records(progress)


def _finish(problems: Problems, result: ImportResult, options: Options) -> None:
    if problems.errors and options.reject is None:
        order = {label: i for i, label in enumerate(problems.bad)}
        problems.errors.sort(key=lambda e: (order.get(e.file, 0), e.line))
        raise InvalidRows(problems.errors, problems.rows, result.rows)
    result.rejected = problems.rows


def _rejected(source: CsvFile, record: Record, reason: str, options: Options) -> None:
    if options.reject is not None:
        options.reject(source, record.raw, f"line {record.line}: {reason}")


def _writing_pass(source: CsvFile, options: Options, problems: Problems) -> Iterator[Record]:
    """The second reading of a file: its valid records; the invalid ones go to the rejects."""
    for record in _pass(source, options, "Importing" if not options.dry_run else "Reading"):
        reason = problems.reason(source, record.line)
        if reason is None:
            yield record
        else:
            _rejected(source, record, reason, options)


def _stored(result: ImportResult, kind: Kind, live: bool) -> None:
    """Count a row whose record is stored already: present, or voided in this database."""
    if live:
        result.count(kind, added=False)
    else:
        result.tally(result.voided, kind)


# --- Sanctions --------------------------------------------------------------------------------


def _sanction(cells: Cells) -> tuple[SanctionValues, str] | None:
    cells.parse("id", parse_id)
    action = cells.parse("action", _choice(SanctionActionKind), need=True)
    status = cells.parse("status", _choice(SanctionStatus))
    when = {c: cells.parse(c, parse_date) for c in ("announced", "effective", "expires")}
    deadline = cells.parse("deadline", parse_date)
    measures = [m for m in (cells.get("measures") or "").split(";") if m.strip()]
    if cells.errors or action is None:
        return None
    data = SanctionInput(
        authority=cells.get("authority") or "",
        target=cells.get("target") or "",
        action=action,
        status=status
        or (SanctionStatus.IN_FORCE if when["effective"] else SanctionStatus.ANNOUNCED),
        program=cells.text("program"),
        measures=measures,
        announced_on=when["announced"],
        effective_on=when["effective"],
        expires_on=when["expires"],
        deadline_on=deadline,
        deadline_label=cells.text("deadline_label"),
        legal_ref=cells.text("legal_ref"),
        summary=cells.text("summary"),
        ref=cells.text("ref"),
    )
    try:
        values = sanction_values(data)
    except InputError as exc:
        cells.fail(column_of(exc.field), _message(exc))
        return None
    ref = values.row["ref"]
    return values, ref if ref is not None else sanction_content(values.row, values.measures)


def import_sanctions(session: Session, source: CsvFile, options: Options) -> ImportResult:
    _begin(session, options)
    result = ImportResult()
    problems = Problems()
    # Keys of every record, voided ones too (they are not brought back), and of live ones.
    present = set(sanction_keys(session, include_void=True).values())
    live = set(sanction_keys(session).values())
    ids = IdPlan(set(session.scalars(select(SanctionAction.id))))
    seen: dict[str, int] = {}

    def keyed(record: Record) -> tuple[Cells, SanctionValues | None, str | None]:
        cells = Cells(record)
        parsed = _sanction(cells)
        if parsed is None:
            return cells, None, None
        values, key = parsed
        if values.row["ref"] is None:
            key = numbering(key)
        elif key in seen and seen[key] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {seen[key]}")
            return cells, None, None
        return cells, values, key

    numbering = KeyNumbering()
    for record in _pass(source, options, "Checking"):
        result.rows += 1
        cells, values, key = keyed(record)
        if values is None or key is None:
            problems.add(source, record.line, cells.errors)
            continue
        seen.setdefault(key, record.line)
        if key not in present:
            ids.claim(key, cells.parse("id", parse_id))
    ids.finish()
    _finish(problems, result, options)

    numbering = KeyNumbering()
    seen.clear()
    actions = Batches(session, SanctionAction, options)
    measures = Batches(session, SanctionMeasure, options, parent=actions)
    now = options.now()
    for record in _writing_pass(source, options, problems):
        _, values, key = keyed(record)
        assert values is not None and key is not None
        seen.setdefault(key, record.line)
        if key in present:
            _stored(result, Kind.SANCTIONS, key in live)
            continue
        present.add(key)
        result.count(Kind.SANCTIONS, added=True)
        if options.dry_run:
            continue
        record_id = ids.ids[key]
        actions.add({"id": record_id, **values.row, "created_at": now})
        for position, measure in enumerate(values.measures):
            measures.add({"sanction_id": record_id, "position": position, "measure": measure})
    measures.flush()
    return result


# --- Pledges and their installments -----------------------------------------------------------


@dataclass
class PledgeCheck:
    """What the first pass keeps of a new pledge, to check its installments against it."""

    line: int
    currency: str
    pledged: int
    count: int | None
    due: date | None
    installments: int = 0
    total: int = 0
    seqs: set[int] = field(default_factory=set)  # the seq of every installment seen
    broken: int | None = None  # the line of an invalid installment of this pledge


def _pledge(cells: Cells) -> tuple[dict[str, Any], str] | None:
    cells.parse("id", parse_id)
    donor = cells.parse("donor", _required, need=True)
    recipient = cells.parse("recipient", _required, need=True)
    currency = cells.parse("currency", _currency, need=True)
    pledged = cells.parse("pledged", amount_parser(currency), need=True) if currency else None
    status = cells.parse("status", _choice(PledgeStatus)) or PledgeStatus.PLEDGE
    announced = cells.parse("announced", parse_date)
    count = cells.parse("installments", _integer)
    next_due = cells.parse("next_due", parse_date)
    assumed = cells.parse("schedule_assumed", _boolean)
    replaces = cells.parse("replaces", parse_id)
    if cells.errors:
        return None
    assert donor and recipient and currency and pledged
    ref = cells.text("ref")
    purpose = cells.text("purpose")
    row: dict[str, Any] = {
        "ref": ref,
        "donor": donor,
        "recipient": recipient,
        "purpose": purpose,
        "currency": currency,
        "amount_minor": pledged,
        "status": status.value,
        "announced_on": announced,
        "schedule_assumed": bool(assumed),
        # Not columns of a pledge: checked against its installments, then dropped.
        "count": count,
        "due": next_due or announced,
        "replaces": replaces,
    }
    if not _fits(cells, Pledge, row):
        return None
    content = pledge_content(donor, recipient, purpose, currency, pledged, announced)
    return row, ref if ref is not None else content


def import_pledges(
    session: Session,
    pledges: CsvFile | None,
    installments: CsvFile | None,
    options: Options,
) -> ImportResult:
    """Pledges with their installments, from the two export files, in one transaction.

    A new pledge's installments must add up to its total; a pledge given without any gets one
    installment of its total, due on its next_due (else announced) date. Installments of
    pledges already stored are skipped with them.
    """
    _begin(session, options)
    result = ImportResult()
    problems = Problems(pledges, installments)
    # Every pledge stored, voided ones too (they are not brought back), and the live ones. A
    # key names a live pledge first: the keys of the two sets are counted apart.
    stored = {key: pledge_id for pledge_id, key in pledge_keys(session, include_void=True).items()}
    live = {key: pledge_id for pledge_id, key in pledge_keys(session).items()}
    ids = IdPlan(set(stored.values()))
    new: dict[str, PledgeCheck] = {}
    lines: dict[str, int] = {}  # key -> line in the pledges file, for every readable pledge
    # `replaces` names a pledge by its id in the same file.
    file_ids: dict[int, str] = {}
    replacing: dict[str, int] = {}

    def keyed(record: Record, numbering: KeyNumbering) -> tuple[Cells, dict[str, Any] | None, str]:
        cells = Cells(record)
        parsed = _pledge(cells)
        if parsed is None:
            ref = cells.text("ref")
            return cells, None, ref or ""
        row, key = parsed
        if row["ref"] is None:
            key = numbering(key)
        elif key in lines and lines[key] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {lines[key]}")
            return cells, None, key
        return cells, row, key

    if pledges is not None:
        numbering = KeyNumbering()
        for record in _pass(pledges, options, "Checking"):
            result.rows += 1
            cells, row, key = keyed(record, numbering)
            if row is None:
                problems.add(pledges, record.line, cells.errors)
                continue
            lines[key] = record.line
            file_id = cells.parse("id", parse_id)
            if file_id is not None:
                file_ids[file_id] = key
            if key in stored:
                continue
            if row["replaces"] is not None:
                replacing[key] = row["replaces"]
            new[key] = PledgeCheck(
                record.line, row["currency"], row["amount_minor"], row["count"], row["due"]
            )
            ids.claim(key, cells.parse("id", parse_id))
        ids.finish()

    def installment(record: Record) -> tuple[Cells, str | None, dict[str, Any] | None]:
        cells = Cells(record)
        key = cells.parse("pledge_ref", _required, need=True)
        seq = cells.parse("seq", _integer, need=True)
        due = cells.parse("due", parse_date, need=True)
        currency = cells.parse("currency", _currency)
        if key is None:
            return cells, None, None
        check = new.get(key)
        if check is None:
            if key in stored:
                return cells, key, None
            if key in lines:
                cells.fail(
                    "pledge_ref", f"'{key}' is the pledge on line {lines[key]}, which is invalid"
                )
            else:
                where = f"in {pledges.label} nor " if pledges is not None else ""
                cells.fail("pledge_ref", f"no pledge '{key}' {where}in the database")
            return cells, key, None
        if currency is not None and currency != check.currency:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {check.currency}")
        amount = cells.parse("amount", amount_parser(check.currency), need=True)
        if cells.errors or seq is None or due is None or amount is None:
            return cells, key, None
        return cells, key, {"seq": seq, "due_on": due, "amount_minor": amount}

    if installments is not None:
        for record in _pass(installments, options, "Checking"):
            result.rows += 1
            cells, owner, row = installment(record)
            check = new.get(owner) if owner is not None else None
            if row is None or check is None:
                if cells.errors:
                    problems.add(installments, record.line, cells.errors)
                    if check is not None and check.broken is None:
                        check.broken = record.line
                continue
            if row["seq"] in check.seqs:
                problems.add(
                    installments,
                    record.line,
                    [("seq", f"'{row['seq']}' appears twice for pledge '{owner}'")],
                )
                check.broken = check.broken or record.line
                continue
            check.seqs.add(row["seq"])
            check.installments += 1
            check.total += row["amount_minor"]

    replaced: dict[str, str] = {}  # key of a new pledge -> key of the pledge it replaces
    if pledges is not None:
        for check in new.values():
            errors = _schedule_errors(check, installments)
            if errors:
                problems.add(pledges, check.line, errors)
        query = select(Pledge.replaces_id).where(Pledge.replaces_id.is_not(None))
        taken = set(session.scalars(query))
        targets: dict[str, str] = {}
        for key, wanted in replacing.items():
            target = file_ids.get(wanted)
            message = None
            if target is None or target == key:
                message = f"'{wanted}' is not the id of another pledge in {pledges.label}"
            elif target in stored and target not in live:
                message = f"'{wanted}': that pledge is voided in the database"
            elif target in targets or live.get(target) in taken:
                message = f"'{wanted}': that pledge is already replaced by another"
            if message is not None:
                problems.add(pledges, new[key].line, [("replaces", message)])
            else:
                assert target is not None
                targets[target] = key
                replaced[key] = target
    _finish(problems, result, options)
    rejected = (
        {key for key, check in new.items() if problems.reason(pledges, check.line)}
        if pledges
        else set()
    )

    now = options.now()
    verb = "Importing" if not options.dry_run else "Reading"
    if pledges is not None:
        rows = Batches(session, Pledge, options)
        numbering = KeyNumbering()
        lines.clear()
        for record in _writing_pass(pledges, options, problems):
            _, row, key = keyed(record, numbering)
            assert row is not None
            lines[key] = record.line
            if key not in new:
                _stored(result, Kind.PLEDGES, key in live)
                continue
            result.count(Kind.PLEDGES, added=True)
            row.pop("count")
            row.pop("due")
            row.pop("replaces")
            if not options.dry_run:
                rows.add({"id": ids.ids[key], **row, "created_at": now})
        rows.flush()
        links = [
            {"pledge": ids.ids[key], "replaced": ids.ids.get(target) or live[target]}
            for key, target in replaced.items()
            if key not in rejected and target not in rejected
        ]
        if links and not options.dry_run:
            # Only pledges this change has just added are updated: they have no earlier
            # version for the history to keep.
            session.connection().execute(
                update(Pledge)
                .where(Pledge.id == bindparam("pledge"))
                .values(replaces_id=bindparam("replaced")),
                links,
            )

    if installments is not None:
        rows = Batches(session, Installment, options)
        for record in _pass(installments, options, verb):
            reason = problems.reason(installments, record.line)
            owner, row = installment(record)[1:] if reason is None else (None, None)
            if reason is None and owner in rejected:
                reason = f"its pledge '{owner}' (line {new[owner].line}) is not imported"
            if reason is not None:
                _rejected(installments, record, reason, options)
                continue
            if row is None or owner is None:  # the installment of a pledge stored already
                _stored(result, Kind.INSTALLMENTS, owner in live)
                continue
            result.count(Kind.INSTALLMENTS, added=True)
            if not options.dry_run:
                rows.add({"pledge_id": ids.ids[owner], **row})
        rows.flush()

    if pledges is not None:
        rows = Batches(session, Installment, options)
        for key, check in new.items():
            if check.installments or key in rejected:
                continue
            assert check.due is not None
            result.count(Kind.INSTALLMENTS, added=True)
            if not options.dry_run:
                rows.add(
                    {
                        "pledge_id": ids.ids[key],
                        "seq": 1,
                        "due_on": check.due,
                        "amount_minor": check.pledged,
                    }
                )
        rows.flush()
    return result


def _schedule_errors(
    check: PledgeCheck, installments: CsvFile | None
) -> list[tuple[str | None, str]]:
    if check.broken is not None:
        assert installments is not None
        return [(None, f"its installment on {installments.label}:{check.broken} is invalid")]
    if check.installments == 0:
        if check.count not in (None, 1):
            given = f"{installments.label} has none for it" if installments else "none are given"
            return [
                (
                    "installments",
                    f"'{check.count}' installments, but {given}; "
                    "give them with --installments FILE",
                )
            ]
        if check.due is None:
            return [
                (
                    "next_due",
                    "is empty, and so is announced: a pledge given without "
                    "installments needs the due date of its one installment",
                )
            ]
        return []
    errors: list[tuple[str | None, str]] = []
    assert installments is not None
    if check.count is not None and check.count != check.installments:
        errors.append(
            (
                "installments",
                f"'{check.count}', but {installments.label} has "
                f"{check.installments} for this pledge",
            )
        )
    elif max(check.seqs) != check.installments:  # distinct seqs, so 1 to n exactly
        errors.append(
            (
                "installments",
                f"its {check.installments} installments in "
                f"{installments.label} are not numbered 1 to {check.installments}",
            )
        )
    if check.total != check.pledged:
        pledged = format_amount(check.pledged, check.currency, grouping=False)
        total = format_amount(check.total, check.currency, grouping=False)
        errors.append(
            (
                "pledged",
                f"'{pledged}' is not the sum of its installments in {installments.label} ({total})",
            )
        )
    return errors


# --- Disbursements ----------------------------------------------------------------------------


def import_disbursements(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Disbursements against pledges already stored, matched by pledge key and installment.

    Payments of a pledge voided in this database, and payments voided in it, are left out.
    """
    _begin(session, options)
    result = ImportResult()
    problems = Problems()
    keys = pledge_keys(session)
    pledges = {key: pledge_id for pledge_id, key in keys.items()}
    voided_pledges = set(pledge_keys(session, include_void=True).values()) - set(pledges)
    currencies = {
        pledge_id: code for pledge_id, code in session.execute(select(Pledge.id, Pledge.currency))
    }
    present = set(disbursement_keys(session, keys, include_void=True).values())
    live = set(disbursement_keys(session, keys).values())
    ids = IdPlan(set(session.scalars(select(Disbursement.id))))
    schedules: dict[int, dict[int, int]] = {}

    def schedule(pledge_id: int) -> dict[int, int]:
        if pledge_id not in schedules:
            query = select(Installment.seq, Installment.id).where(
                Installment.pledge_id == pledge_id
            )
            schedules[pledge_id] = {seq: row_id for seq, row_id in session.execute(query)}
        return schedules[pledge_id]

    def keyed(
        record: Record, numbering: KeyNumbering
    ) -> tuple[Cells, dict[str, Any] | None, str | None]:
        """The row's cells, its disbursement and key; no key for a payment of a voided pledge."""
        cells = Cells(record)
        cells.parse("id", parse_id)
        key = cells.parse("pledge_ref", _required, need=True)
        seq = cells.parse("installment", _integer, need=True)
        paid_on = cells.parse("paid_on", parse_date, need=True)
        currency = cells.parse("currency", _currency)
        pledge_id = pledges.get(key) if key is not None else None
        if key is not None and pledge_id is None:
            if key in voided_pledges and not cells.errors:
                return cells, None, None
            cells.fail("pledge_ref", f"no pledge '{key}' in the database; import pledges first")
        if pledge_id is None or seq is None:
            return cells, None, ""
        money = currencies[pledge_id]
        if currency is not None and currency != money:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {money}")
        installment_id = schedule(pledge_id).get(seq)
        if installment_id is None:
            cells.fail(
                "installment",
                f"'{seq}' is not an installment of pledge '{key}' "
                f"(it has 1 to {len(schedule(pledge_id))})",
            )
        amount = cells.parse("amount", amount_parser(money), need=True)
        if cells.errors or paid_on is None or amount is None or installment_id is None:
            return cells, None, ""
        row = {
            "pledge_id": pledge_id,
            "installment_id": installment_id,
            "paid_on": paid_on,
            "amount_minor": amount,
        }
        assert key is not None
        return cells, row, numbering(disbursement_content(key, seq, paid_on, amount))

    numbering = KeyNumbering()
    for record in _pass(source, options, "Checking"):
        result.rows += 1
        cells, row, key = keyed(record, numbering)
        if row is None and key is not None:
            problems.add(source, record.line, cells.errors)
        elif key is not None and key not in present:
            ids.claim(key, cells.parse("id", parse_id))
    ids.finish()
    _finish(problems, result, options)

    numbering = KeyNumbering()
    rows = Batches(session, Disbursement, options)
    now = options.now()
    for record in _writing_pass(source, options, problems):
        _, row, key = keyed(record, numbering)
        if key is None or key in present:  # its pledge, or the payment, is stored already
            _stored(result, Kind.DISBURSEMENTS, key in live)
            continue
        assert row is not None
        result.count(Kind.DISBURSEMENTS, added=True)
        if not options.dry_run:
            rows.add({"id": ids.ids[key], **row, "created_at": now})
    rows.flush()
    return result


# --- Exchange rates ---------------------------------------------------------------------------


def import_rates(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Exchange rates, keyed by base, quote and day; a different rate for a stored key is an
    error, as with `fintrack rate add`."""
    from fintrack.rates import known_rate, parse_rate

    _begin(session, options)
    result = ImportResult()
    problems = Problems()
    query = select(ExchangeRate.base, ExchangeRate.quote, ExchangeRate.rate_on, ExchangeRate.rate)
    stored = {(b, q, on): rate for b, q, on, rate in session.execute(query)}
    seen: dict[tuple[str, str, date], int] = {}
    in_file: dict[tuple[str, str, date], Any] = {}  # the rate of each key's first line

    def parsed(record: Record) -> tuple[Cells, dict[str, Any] | None, Any]:
        cells = Cells(record)
        base = cells.parse("base", _currency, need=True)
        quote = cells.parse("quote", _currency, need=True)
        on = cells.parse("on", parse_date, need=True)
        rate = cells.parse("rate", parse_rate, need=True)
        if base is not None and base == quote:
            cells.fail("quote", f"'{quote}' is the base currency too; a rate needs two")
        if cells.errors or base is None or quote is None or on is None or rate is None:
            return cells, None, None
        key = (base, quote, on)
        # A rate and its inverse for one day are one fact (see fintrack.rates.known_rate).
        known = known_rate(stored, base, quote, on, rate)
        earlier = None if key in in_file else known_rate(in_file, base, quote, on, rate)
        if seen.get(key, record.line) != record.line:
            cells.fail(None, f"{base}/{quote} on {on} is also on line {seen[key]}")
        elif earlier is not None and not earlier.agrees:
            cells.fail(
                "rate",
                f"'{rate}', but line {seen[earlier.key]} gives {earlier.described()}; a rate "
                "and its inverse for one day are one fact: keep one of the lines",
            )
        elif known is not None and not known.agrees:
            cells.fail(
                "rate",
                f"'{rate}', but the {base}/{quote} rate for {on} is already recorded as "
                f"{known.described()}; change it with `fintrack rate add --replace`",
            )
        if cells.errors:
            return cells, None, None
        row = {
            "base": base,
            "quote": quote,
            "rate_on": on,
            "rate": rate,
            "source": cells.text("source"),
        }
        if not _fits(cells, ExchangeRate, row):
            return cells, None, None
        return cells, row, key

    for record in _pass(source, options, "Checking"):
        result.rows += 1
        cells, row, key = parsed(record)
        if row is None:
            problems.add(source, record.line, cells.errors)
        else:
            seen.setdefault(key, record.line)
            in_file.setdefault(key, row["rate"])
    _finish(problems, result, options)

    seen.clear()
    in_file.clear()
    rows = Batches(session, ExchangeRate, options)
    now = options.now()
    for record in _writing_pass(source, options, problems):
        _, row, key = parsed(record)
        assert row is not None
        base, quote, on = key
        # Already known: the same rate or its inverse, stored or on an earlier line.
        known = known_rate(stored, base, quote, on, row["rate"]) or (quote, base, on) in in_file
        seen.setdefault(key, record.line)
        in_file.setdefault(key, row["rate"])
        if known:
            result.count(Kind.RATES, added=False)
            continue
        result.count(Kind.RATES, added=True)
        if not options.dry_run:
            rows.add({**row, "created_at": now})
    rows.flush()
    return result


# --- Sources and their links -----------------------------------------------------------------


def _url(text: str, column: str) -> str:
    url = source_url(text, column)
    assert url is not None  # Cells.parse gives no empty cell
    return url


def import_sources(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Sources, matched by their key: the URL, or one derived from title, publisher and date.

    A source whose key is stored already is left as it is, like a record whose ref is.
    """
    _begin(session, options)
    result = ImportResult()
    problems = Problems()
    present = set(source_keys(session).values())
    urls: dict[str, int] = {}  # URL -> the line it is first on

    def keyed(record: Record, numbering: KeyNumbering) -> tuple[Cells, dict[str, Any] | None, str]:
        cells = Cells(record)
        url = cells.parse("url", _url)
        title = cells.text("title")
        publisher = cells.parse("publisher", _required)
        published = cells.parse("published", parse_date)
        retrieved = cells.parse("retrieved", parse_date)
        if url is None and title is None and cells.get("url") is None:
            cells.fail("title", "is empty, and so is url; a source needs a url, a title or both")
        if published and retrieved and retrieved < published:
            cells.fail("retrieved", f"'{retrieved}' is before published {published}")
        if url is not None and urls.get(url, record.line) != record.line:
            cells.fail("url", f"'{url}' is also on line {urls[url]}")
        if cells.errors:
            return cells, None, ""
        key = source_key(url, title, publisher, published)
        if url is None:
            key = numbering(key)
        given = cells.get("key")
        if given is not None and given.strip() != key:
            derived = "its url" if url is not None else "derived from title, publisher, published"
            cells.fail("key", f"'{given}' is not this source's key {key} ({derived})")
            return cells, None, ""
        row = {
            "url": url,
            "title": title,
            "publisher": publisher,
            "published_on": published,
            "retrieved_on": retrieved,
        }
        if not _fits(cells, Source, row):
            return cells, None, ""
        return cells, row, key

    numbering = KeyNumbering()
    for record in _pass(source, options, "Checking"):
        result.rows += 1
        cells, row, _ = keyed(record, numbering)
        if row is None:
            problems.add(source, record.line, cells.errors)
        elif row["url"] is not None:
            urls.setdefault(row["url"], record.line)
    _finish(problems, result, options)

    # Every row is keyed again, rejected ones too, so that sources with the same content are
    # numbered as in the first pass.
    numbering = KeyNumbering()
    rows = Batches(session, Source, options)
    for record in _pass(source, options, "Importing" if not options.dry_run else "Reading"):
        _, row, key = keyed(record, numbering)
        reason = problems.reason(source, record.line)
        if reason is not None:
            _rejected(source, record, reason, options)
            continue
        assert row is not None
        if key in present:
            result.count(Kind.SOURCES, added=False)
            continue
        present.add(key)
        result.count(Kind.SOURCES, added=True)
        if not options.dry_run:
            assert options.change is not None
            rows.add({**row, "created_at": options.change.at, "change_id": options.change.id})
    rows.flush()
    return result


@dataclass(frozen=True)
class _LinkRow:
    kind: str
    record_id: int
    source_id: int
    confidence: str


def import_links(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Links between sources and records already stored, each named by its stable key.

    A link stored with the same confidence is left as it is; one stored with another is
    changed to the file's, through the ORM, so the record's history keeps the old one. Links
    of records voided in this database are left out.
    """
    _begin(session, options)
    result = ImportResult()
    problems = Problems()
    pledges = pledge_keys(session)
    live = {
        "sanction": sanction_keys(session),
        "pledge": pledges,
        "payment": disbursement_keys(session, pledges),
    }
    records = {
        kind: {key: record_id for record_id, key in keys.items()} for kind, keys in live.items()
    }
    every_pledge = pledge_keys(session, include_void=True)
    voided = {
        "sanction": set(sanction_keys(session, include_void=True).values()),
        "pledge": set(every_pledge.values()),
        "payment": set(disbursement_keys(session, pledges, include_void=True).values())
        # Payments of a pledge voided here, named by that pledge's key.
        | set(disbursement_keys(session, every_pledge, include_void=True).values()),
    }
    for kind, keys in voided.items():
        keys -= set(records[kind])
    sources = {key: source_id for source_id, key in source_keys(session).items()}
    stored: dict[tuple[str, int, int], tuple[int, str]] = {}
    query = select(
        SourceLink.id,
        SourceLink.source_id,
        SourceLink.confidence,
        *(getattr(SourceLink, column) for column in LINK_KINDS.values()),
    )
    for link_id, source_id, confidence, *targets in session.execute(query):
        for kind, record_id in zip(LINK_KINDS, targets, strict=True):
            if record_id is not None:
                stored[(kind, record_id, source_id)] = (link_id, confidence)
    seen: dict[tuple[str, int, int], int] = {}

    def parsed(record: Record) -> tuple[Cells, _LinkRow | None, bool]:
        """The row's cells and link; True for the link of a record voided here."""
        cells = Cells(record)
        kind = cells.parse("kind", _link_kind, need=True)
        key = cells.parse("record", _required, need=True)
        source_key_ = cells.parse("source", _required, need=True)
        confidence = cells.parse("confidence", _choice(Confidence), need=True)
        record_id = None
        if kind is not None and key is not None:
            record_id = records[kind].get(key)
            if record_id is None and key in voided[kind]:
                return cells, None, not cells.errors
            if record_id is None:
                files = "pledges" if kind == "pledge" else f"{kind}s"
                files = "disbursements" if kind == "payment" else files
                cells.fail("record", f"no {kind} '{key}' in the database; import {files} first")
        source_id = sources.get(source_key_) if source_key_ is not None else None
        if source_key_ is not None and source_id is None:
            cells.fail("source", f"no source '{source_key_}' in the database; import sources first")
        if cells.errors or kind is None or record_id is None or source_id is None:
            return cells, None, False
        assert confidence is not None
        link = _LinkRow(kind, record_id, source_id, confidence.value)
        where = (kind, record_id, source_id)
        if seen.get(where, record.line) != record.line:
            cells.fail(
                None, f"source '{source_key_}' of {kind} '{key}' is also on line {seen[where]}"
            )
            return cells, None, False
        return cells, link, False

    for record in _pass(source, options, "Checking"):
        result.rows += 1
        cells, link, void = parsed(record)
        if link is not None:
            seen.setdefault((link.kind, link.record_id, link.source_id), record.line)
        elif not void:
            problems.add(source, record.line, cells.errors)
    _finish(problems, result, options)

    rows = Batches(session, SourceLink, options)
    for record in _writing_pass(source, options, problems):
        _, link, void = parsed(record)
        if link is None:
            assert void
            result.tally(result.voided, Kind.LINKS)
            continue
        existing = stored.get((link.kind, link.record_id, link.source_id))
        if existing is None:
            result.count(Kind.LINKS, added=True)
            if not options.dry_run:
                columns: dict[str, int | None] = dict.fromkeys(LINK_KINDS.values())
                columns[LINK_KINDS[link.kind]] = link.record_id
                rows.add({"source_id": link.source_id, **columns, "confidence": link.confidence})
            continue
        link_id, confidence = existing
        if confidence == link.confidence:
            result.count(Kind.LINKS, added=False)
            continue
        result.tally(result.changed, Kind.LINKS)
        if not options.dry_run:
            stored_link = session.get(SourceLink, link_id)
            assert stored_link is not None
            stored_link.confidence = link.confidence
    rows.flush()
    session.flush()
    return result


def _link_kind(text: str, column: str) -> str:
    value = text.strip().lower()
    if value == "claim":
        raise InputError(column, "claims are not imported yet, and neither are their links")
    if value not in LINK_KINDS:
        raise InputError(column, f"'{text}' is not one of {', '.join(LINK_KINDS)}")
    return value


# --- Export -----------------------------------------------------------------------------------


def export_rows(session: Session, kind: Kind, today: date) -> Iterator[dict[str, Any]]:
    """The rows `fintrack export KIND` writes, streamed from the database.

    Only live records are written: voided ones, and the installments, payments and links of
    voided records, are left out.
    """
    from fintrack.pledges import (
        PledgeFilter,
        iter_disbursement_rows,
        iter_installment_rows,
        iter_pledges,
    )

    if kind is Kind.SANCTIONS:
        from fintrack.sanctions import SanctionFilter, list_sanctions

        yield from list_sanctions(session, SanctionFilter())
    elif kind is Kind.PLEDGES:
        # A pledge that replaces a voided one is written as replacing none: the voided one is
        # not in the file for `replaces` to name.
        voided = set(session.scalars(select(Pledge.id).where(Pledge.voided_at.is_not(None))))
        for row in iter_pledges(session, PledgeFilter()):
            if row["replaces"] in voided:
                row["replaces"] = None
            yield row
    elif kind is Kind.RATES:
        from fintrack.rates import RateFilter, list_rates

        yield from list_rates(session, RateFilter())
    elif kind is Kind.SOURCES:
        yield from _source_rows(session)
    elif kind is Kind.LINKS:
        yield from _link_rows(session)
    else:
        # Rows carry their pledge's ref; only pledges without one need their key derived.
        derived = pledge_keys(session, derived_only=True)
        rows = (
            iter_installment_rows(session, today)
            if kind is Kind.INSTALLMENTS
            else iter_disbursement_rows(session)
        )
        for row in rows:
            if row["pledge_ref"] is None:
                row["pledge_ref"] = derived[row["pledge_id"]]
            yield row


def _source_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every source, in the order stored, with its key."""
    keys = source_keys(session)
    query = select(Source).order_by(Source.id).execution_options(yield_per=YIELD_PER)
    for source in session.scalars(query):
        yield {
            "key": keys[source.id],
            "url": source.url,
            "title": source.title,
            "publisher": source.publisher,
            "published": source.published_on,
            "retrieved": source.retrieved_on,
        }


def _link_rows(session: Session) -> Iterator[dict[str, Any]]:
    """The links of live sanctions, pledges and payments, in the order made, each naming its
    record and source by their keys. Links of claims are left out (claims have no file)."""
    pledges = pledge_keys(session)
    records = {
        "sanction": sanction_keys(session),
        "pledge": pledges,
        "payment": disbursement_keys(session, pledges),
    }
    sources = source_keys(session)
    query = (
        select(
            SourceLink.source_id,
            SourceLink.confidence,
            *(getattr(SourceLink, column) for column in LINK_KINDS.values()),
        )
        .order_by(SourceLink.id)
        .execution_options(yield_per=YIELD_PER)
    )
    for source_id, confidence, *targets in session.execute(query):
        for kind, record_id in zip(LINK_KINDS, targets, strict=True):
            key = records[kind].get(record_id) if record_id is not None else None
            if key is not None:
                yield {
                    "kind": kind,
                    "record": key,
                    "source": sources[source_id],
                    "confidence": confidence,
                }


def count_rows(session: Session, kind: Kind) -> int:
    """About how many rows `export_rows` gives, for a progress bar."""
    model: Any = {
        Kind.SANCTIONS: SanctionAction,
        Kind.PLEDGES: Pledge,
        Kind.INSTALLMENTS: Installment,
        Kind.DISBURSEMENTS: Disbursement,
        Kind.RATES: ExchangeRate,
        Kind.SOURCES: Source,
        Kind.LINKS: SourceLink,
    }[kind]
    query = select(func.count()).select_from(model)
    if hasattr(model, "voided_at"):
        query = query.where(model.voided_at.is_(None))
    return int(session.scalar(query) or 0)

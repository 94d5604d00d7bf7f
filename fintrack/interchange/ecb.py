"""Importing the ECB's euro reference rates as published: eurofxref CSV (or its zip) and XML."""

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.errors import InputError, InvalidRows, RowError
from fintrack.interchange.kinds import Kind
from fintrack.interchange.problems import ImportResult, Options, ReferenceCounts
from fintrack.interchange.reading import MAX_LINE, Progress, open_imported
from fintrack.interchange.writing import Batches
from fintrack.models import ExchangeRate
from fintrack.money import normalize_currency
from fintrack.rates import RateKey, known_rate, parse_rate
from fintrack.store import serialize_imports

BASE = "EUR"
SOURCE = "ECB euro reference rates ({name})"
# Cells the ECB writes where it has no rate for a currency on a day.
NOT_AVAILABLE = ("N/A", "")
GESMES = "http://www.gesmes.org/xml/2002-08-01"
EUROFXREF = "http://www.ecb.int/vocabulary/2002-08-01/eurofxref"
# Days checked against the stored rates with one query.
CHUNK_DAYS = 250
_MONTHS = {
    name: number
    for number, name in enumerate(
        [
            "january", "february", "march", "april", "may", "june",
            "july", "august", "september", "october", "november", "december",
        ],
        start=1,
    )
}  # fmt: skip
_LONG_DATE = re.compile(r"(\d{1,2}) ([A-Za-z]+) (\d{4})", re.ASCII)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)

# A place in the file: a line (CSV) or an XPath (XML).
Place = int | str


@dataclass
class Cell:
    currency: str
    text: str
    place: Place  # the day's line, or the XPath of the rate's attribute
    column: str | None  # the CSV column, None in XML (the XPath names it)


@dataclass
class Day:
    place: Place
    text: str  # the date as written
    column: str | None  # where the date is: the CSV column, None in XML
    cells: list[Cell] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    on: date | None = None


def ecb_form(path: Path, label: str) -> str | None:
    """`zip`, `csv` or `xml` when the file holds the ECB's euro reference rates (a zip or .xml
    by its name, else by its first bytes); None for fintrack's own rates file."""
    suffix = path.suffix.lower()
    try:
        with open_imported(path, label) as binary:
            head = binary.read(4096)
    except InputError:
        return None  # the CSV import says what is wrong with it
    if suffix == ".zip" or head.startswith(b"PK\x03\x04"):
        return "zip"
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if suffix == ".xml" or text.startswith(b"<"):
        return "xml"
    first = text.split(b"\n", 1)[0].split(b",", 1)[0]
    return "csv" if first.strip().lower() == b"date" else None


class EcbFile:
    """A file of the ECB's euro reference rates, read a day at a time (each reading opens
    it again): the CSV of eurofxref-hist.zip and eurofxref.zip, such a CSV unzipped, or the
    XML of eurofxref-daily.xml, eurofxref-hist-90d.xml and eurofxref-hist.xml."""

    def __init__(self, path: Path, label: str, form: str) -> None:
        self.path = path
        self.label = label
        self.form = form
        self.left_out: list[str] = []  # currencies of the file fintrack cannot hold

    def fail(self, message: str) -> InputError:
        return InputError(self.label, message)

    def _open(self) -> IO[bytes]:
        return open_imported(self.path, self.label)

    def days(self, progress: Progress | None = None) -> Iterator[Day]:
        self.left_out = []
        with self._open() as binary:
            if self.form == "xml":
                yield from self._xml_days(binary, progress)
                return
            if self.form == "csv":
                yield from self._csv_days(binary, binary, progress)
                return
            try:
                archive = zipfile.ZipFile(binary)
            except (zipfile.BadZipFile, OSError):
                raise self.fail(
                    "is not a zip archive; give eurofxref-hist.zip as the ECB publishes it"
                ) from None
            with archive:
                members = [m for m in archive.infolist() if not m.is_dir()]
                if len(members) != 1 or not members[0].filename.lower().endswith((".csv", ".xml")):
                    names = ", ".join(m.filename for m in members[:3]) or "nothing"
                    names += f" and {len(members) - 3:,} more" if len(members) > 3 else ""
                    raise self.fail(f"holds {names}; an ECB zip holds one file, eurofxref-hist.csv")
                try:
                    with archive.open(members[0]) as member:
                        if members[0].filename.lower().endswith(".xml"):
                            yield from self._xml_days(member, progress)
                        else:
                            yield from self._csv_days(member, member, progress)
                except (zipfile.BadZipFile, EOFError, OSError) as exc:
                    raise self.fail(f"cannot be unzipped ({exc}); download it again") from None

    # --- CSV --------------------------------------------------------------------------

    def _csv_days(
        self, binary: IO[bytes], raw: IO[bytes], progress: Progress | None
    ) -> Iterator[Day]:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", newline="")
        try:
            lines = _bounded_lines(text, self)
            header = next(csv.reader([next(lines, "")]), [])
            columns = self._csv_header(header)
            for number, line in enumerate(lines, start=2):
                cells = next(csv.reader([line]), [])
                if not any(cell.strip() for cell in cells):
                    continue
                if progress is not None and number % 500 == 0:
                    progress(raw.tell())
                yield self._csv_day(number, cells, header, columns)
        except UnicodeDecodeError:
            raise self.fail("is not UTF-8 text; is it the ECB's eurofxref CSV?") from None
        except csv.Error as exc:
            raise self.fail(f"is not a CSV file ({exc})") from None

    def _csv_header(self, header: list[str]) -> list[str | None]:
        """The currency of each column after Date (None: a column left out)."""
        names = [cell.strip() for cell in header]
        if not names or names[0].lower() != "date":
            raise self.fail("line 1: the first column must be Date, as in the ECB's eurofxref CSV")
        columns: list[str | None] = []
        for position, name in enumerate(names[1:], start=2):
            if name == "" and position == len(names):
                columns.append(None)  # the ECB ends every line with a comma
                continue
            if not re.fullmatch(r"[A-Za-z]{3}", name):
                raise self.fail(
                    f"line 1: column {position} is '{name}', not a currency code such as USD"
                )
            code = name.upper()
            if code == BASE:
                raise self.fail(f"line 1: column {position} is EUR, the base of every rate")
            if code in columns:
                raise self.fail(f"line 1: column {code} appears twice")
            try:
                normalize_currency(code)
            except InputError:
                self.left_out.append(code)  # withdrawn (CYP, TRL, ...): no amounts in it
            columns.append(code)
        return columns

    def _csv_day(
        self, line: int, cells: list[str], header: list[str], columns: list[str | None]
    ) -> Day:
        day = Day(line, cells[0].strip(), "Date")
        if len(cells) != len(header):
            day.errors.append(
                RowError(
                    self.label, line, None, f"has {len(cells)} cells; the header has {len(header)}"
                )
            )
            return day
        for code, cell in zip(columns, cells[1:], strict=True):
            if code is None:
                if cell.strip():
                    day.errors.append(
                        RowError(
                            self.label, line, None, f"'{cell}' is in a column without a currency"
                        )
                    )
                continue
            day.cells.append(Cell(code, cell.strip(), line, code))
        return day

    # --- XML --------------------------------------------------------------------------

    def _xml_days(self, binary: IO[bytes], progress: Progress | None) -> Iterator[Day]:
        from defusedxml import DefusedXmlException
        from defusedxml.ElementTree import iterparse

        path: list[str] = []
        counts: list[dict[str, int]] = [{}]
        day: Day | None = None
        days = 0
        try:
            for event, element in iterparse(binary, ("start", "end"), forbid_dtd=True):
                if event == "start":
                    name = _qualified(element.tag)
                    seen = counts[-1]
                    seen[name] = seen.get(name, 0) + 1
                    index = seen[name]
                    path.append(name if index == 1 and len(path) < 2 else f"{name}[{index}]")
                    counts.append({})
                    where = "/" + "/".join(path)
                    if len(path) == 1 and element.tag != f"{{{GESMES}}}Envelope":
                        raise self.fail(
                            f"its root element is <{name}>, not <gesmes:Envelope>; is it the "
                            "ECB's eurofxref XML?"
                        )
                    if len(path) == 3 and element.tag == f"{{{EUROFXREF}}}Cube":
                        day = Day(where + "/@time", element.get("time", ""), None)
                        if "time" not in element.attrib:
                            day.errors.append(
                                RowError(
                                    self.label,
                                    where,
                                    None,
                                    "has no time attribute; give the day as time='2024-05-03'",
                                )
                            )
                    elif len(path) == 4 and day is not None:
                        self._xml_rate(day, element, where)
                    continue
                if len(path) == 3 and day is not None and element.tag == f"{{{EUROFXREF}}}Cube":
                    yield day
                    day = None
                    element.clear()
                    days += 1
                    if progress is not None and days % 500 == 0:
                        progress(binary.tell())
                path.pop()
                counts.pop()
        except ParseError as exc:
            line, column = exc.position
            reason = str(exc).split(":", 1)[0]
            raise self.fail(
                f"line {line}, column {column + 1}: not well-formed XML ({reason}); is it the "
                "ECB's eurofxref XML?"
            ) from None
        except DefusedXmlException:
            raise self.fail(
                "declares a DTD or entities (<!DOCTYPE ...>), which the ECB's files never do; "
                "refused, as entities can expand without end or read other files"
            ) from None

    def _xml_rate(self, day: Day, element: Element, where: str) -> None:
        if element.tag != f"{{{EUROFXREF}}}Cube":
            name = _qualified(element.tag)
            day.errors.append(
                RowError(
                    self.label,
                    where,
                    None,
                    f"<{name}> in a day's Cube; only <Cube currency= rate=> belong there",
                )
            )
            return
        currency, rate = element.get("currency"), element.get("rate")
        if currency is None or rate is None:
            missing = "currency" if currency is None else "rate"
            day.errors.append(RowError(self.label, where, None, f"has no {missing} attribute"))
            return
        code = currency.strip().upper()
        if not re.fullmatch(r"[A-Z]{3}", code) or code == BASE:
            problem = (
                "is EUR, the base of every rate"
                if code == BASE
                else "is not a currency code such as USD"
            )
            day.errors.append(
                RowError(self.label, where + "/@currency", None, f"'{currency}' {problem}")
            )
            return
        if code in (cell.currency for cell in day.cells):
            day.errors.append(RowError(self.label, where, None, f"{code} is twice in this day"))
            return
        try:
            normalize_currency(code)
        except InputError:
            if code not in self.left_out:
                self.left_out.append(code)
        day.cells.append(Cell(code, rate.strip(), where + "/@rate", None))


def _qualified(tag: str) -> str:
    """An element's name as the ECB's files write it: gesmes:Envelope, Cube."""
    if tag.startswith(f"{{{GESMES}}}"):
        return "gesmes:" + tag.split("}", 1)[1]
    return tag.split("}", 1)[-1]


def _bounded_lines(text: IO[str], source: EcbFile) -> Iterator[str]:
    """The lines of a text, each refused beyond MAX_LINE characters rather than read whole."""
    number = 0
    while line := text.readline(MAX_LINE + 2):
        number += 1
        if len(line.rstrip("\r\n")) > MAX_LINE:
            raise source.fail(
                f"line {number} is longer than {MAX_LINE:,} characters; is it a CSV file?"
            )
        yield line


def _parse_day(text: str) -> date:
    """2024-05-03 (the history and the XML) or 03 May 2024 (the daily CSV)."""
    try:
        if _ISO_DATE.fullmatch(text):
            return date.fromisoformat(text)
        found = _LONG_DATE.fullmatch(text)
        if found and found.group(2).lower() in _MONTHS:
            return date(int(found.group(3)), _MONTHS[found.group(2).lower()], int(found.group(1)))
    except ValueError:
        pass
    raise ValueError(f"'{text}' is not a date; the ECB writes 2024-05-03 or 03 May 2024")


def import_ecb_rates(session: Session, source: EcbFile, options: Options) -> ImportResult:
    """The ECB's euro reference rates: one EUR was worth the cell's rate of its currency on the
    day. Every cell is checked before any is written; N/A cells are skipped; currencies that
    fintrack cannot hold (withdrawn from ISO 4217: CYP, TRL, ...) are left out and named. A
    rate already stored for the day (or its inverse) is present; a different one is an error."""
    return _EcbImport(session, source, options).run()


class _EcbImport:
    def __init__(self, session: Session, source: EcbFile, options: Options) -> None:
        if not options.dry_run:
            serialize_imports(session)  # before reading what is stored
        self.session = session
        self.source = source
        self.options = options
        self.result = ImportResult()
        self.counts = ReferenceCounts(SOURCE.format(name=source.path.name))
        self.result.reference = self.counts

    def run(self) -> ImportResult:
        errors: list[RowError] = []
        seen: dict[date, Place] = {}
        days = invalid = 0
        for chunk in self._chunks("Checking"):
            days += len(chunk)
            invalid += self._check(chunk, seen, errors)
        if errors:
            raise InvalidRows(errors, invalid, days, "days")
        self.result.rows = days
        self.counts.left_out = sorted(self.source.left_out)
        rows = Batches(self.session, ExchangeRate, self.options)
        now = self.options.now()
        verb = "Importing" if not self.options.dry_run else "Reading"
        for chunk in self._chunks(verb):
            for day in chunk:
                day.on = _parse_day(day.text)  # checked in the first pass
            stored = self._stored(chunk)
            for day in chunk:
                assert day.on is not None
                for cell in day.cells:
                    if cell.text in NOT_AVAILABLE or cell.currency in self.counts.left_out:
                        continue
                    rate = parse_rate(cell.text)
                    if known_rate(stored, BASE, cell.currency, day.on, rate) is not None:
                        self.result.count(Kind.RATES, added=False)
                        continue
                    self.result.count(Kind.RATES, added=True)
                    self.counts.days.add(day.on)
                    self.counts.currencies.add(cell.currency)
                    if not self.options.dry_run:
                        row = {
                            "base": BASE,
                            "quote": cell.currency,
                            "rate_on": day.on,
                            "rate": rate,
                            "source": self.counts.source,
                            "created_at": now,
                        }
                        rows.add(row)
        rows.flush()
        return self.result

    def _chunks(self, verb: str) -> Iterator[list[Day]]:
        progress = size = None
        if self.options.progress is not None:
            size = self._size()
            progress = self.options.progress(f"{verb} {self.source.label}", size)
        chunk: list[Day] = []
        for day in self.source.days(progress):
            chunk.append(day)
            if len(chunk) >= CHUNK_DAYS:
                yield chunk
                chunk = []
        if chunk:
            yield chunk
        if progress is not None and size is not None:
            progress(size)

    def _size(self) -> int:
        if self.source.form != "zip":
            return self.source.path.stat().st_size
        try:
            with zipfile.ZipFile(self.source.path) as archive:
                return sum(m.file_size for m in archive.infolist())
        except (zipfile.BadZipFile, OSError):
            return 0

    def _check(self, chunk: list[Day], seen: dict[date, Place], errors: list[RowError]) -> int:
        """Check the days of a chunk, adding their problems to `errors` in the file's order;
        returns how many days have one."""
        label = self.source.label
        found: list[list[RowError]] = [list(day.errors) for day in chunk]
        for day, problems in zip(chunk, found, strict=True):
            try:
                day.on = _parse_day(day.text)
            except ValueError as exc:
                problems.append(RowError(label, day.place, day.column, str(exc)))
                continue
            if day.on in seen:
                message = f"{day.on} is also {_at(seen[day.on])}"
                problems.append(RowError(label, day.place, None, message))
            seen.setdefault(day.on, day.place)
        stored = self._stored(chunk)
        for day, problems in zip(chunk, found, strict=True):
            if day.on is None:
                continue
            for cell in day.cells:
                left_out = cell.currency in self.source.left_out
                if cell.text in NOT_AVAILABLE:
                    self.counts.not_available += 0 if left_out else 1
                    continue
                if left_out:
                    continue
                try:
                    rate = parse_rate(cell.text)
                except InputError as exc:
                    problems.append(RowError(label, cell.place, cell.column, exc.problem))
                    continue
                known = known_rate(stored, BASE, cell.currency, day.on, rate)
                if known is not None and not known.agrees:
                    problems.append(
                        RowError(
                            label, cell.place, cell.column,
                            f"'{cell.text}', but the EUR/{cell.currency} rate for {day.on} is "
                            f"already recorded as {known.described()}; change it with "
                            "`fintrack rate add --replace`",
                        )
                    )  # fmt: skip
        for problems in found:
            errors.extend(problems)
        return sum(1 for problems in found if problems)

    def _stored(self, chunk: list[Day]) -> dict[RateKey, Decimal]:
        """The stored rates of EUR, either way round, for the currencies and days of a chunk:
        two index range scans (base, quote, day from the first to the last of the chunk)."""
        on = {day.on for day in chunk if day.on is not None}
        left_out = self.source.left_out
        codes = sorted({c.currency for day in chunk for c in day.cells} - set(left_out))
        if not on or not codes:
            return {}
        rates = ExchangeRate
        columns = (rates.base, rates.quote, rates.rate_on, rates.rate)
        days = rates.rate_on.between(min(on), max(on))
        found: dict[RateKey, Decimal] = {}
        for query in (
            select(*columns).where(rates.base == BASE, rates.quote.in_(codes), days),
            select(*columns).where(rates.quote == BASE, rates.base.in_(codes), days),
        ):
            for base, quote, rate_on, rate in self.session.execute(query):
                if rate_on in on:  # a file out of date order spans more days than it has
                    found[base, quote, rate_on] = rate
        return found


def _at(place: Place) -> str:
    return f"on line {place}" if isinstance(place, int) else f"at {place}"

"""Importing exchange rates."""

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.interchange.cells import Cells, fits, parse_currency
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import Errors, RowImport
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches
from fintrack.models import ExchangeRate
from fintrack.rates import known_rate, parse_rate


def import_rates(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Exchange rates, keyed by base, quote and day; a different rate for a stored key is an
    error, as with `fintrack rate add`."""
    return _Rates(session, options).run(source)


class _Rates(RowImport):
    rows: Batches

    def __init__(self, session: Session, options: Options) -> None:
        super().__init__(session, options)
        query = select(
            ExchangeRate.base, ExchangeRate.quote, ExchangeRate.rate_on, ExchangeRate.rate
        )
        self.recorded = {(b, q, on): rate for b, q, on, rate in session.execute(query)}
        self.seen: dict[tuple[str, str, date], int] = {}
        self.in_file: dict[tuple[str, str, date], Any] = {}  # the rate of each key's first line

    def parsed(self, record: Record) -> tuple[Cells, dict[str, Any] | None, Any]:
        seen, in_file = self.seen, self.in_file
        cells = Cells(record)
        base = cells.parse("base", parse_currency, need=True)
        quote = cells.parse("quote", parse_currency, need=True)
        on = cells.parse("on", parse_date, need=True)
        rate = cells.parse("rate", parse_rate, need=True)
        if base is not None and base == quote:
            cells.fail("quote", f"'{quote}' is the base currency too; a rate needs two")
        if cells.errors or base is None or quote is None or on is None or rate is None:
            return cells, None, None
        key = (base, quote, on)
        # A rate and its inverse for one day are one fact (see fintrack.rates.known_rate).
        known = known_rate(self.recorded, base, quote, on, rate)
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
        if not fits(cells, ExchangeRate, row):
            return cells, None, None
        return cells, row, key

    def check(self, record: Record) -> Errors | None:
        cells, row, key = self.parsed(record)
        if row is None:
            return cells.errors
        self.seen.setdefault(key, record.line)
        self.in_file.setdefault(key, row["rate"])
        return None

    def writing(self) -> None:
        self.seen.clear()
        self.in_file.clear()
        self.rows = Batches(self.session, ExchangeRate, self.options)
        self.now = self.options.now()

    def write(self, record: Record) -> None:
        _, row, key = self.parsed(record)
        assert row is not None
        base, quote, on = key
        # Already known: the same rate or its inverse, stored or on an earlier line.
        known = (
            known_rate(self.recorded, base, quote, on, row["rate"])
            or (quote, base, on) in self.in_file
        )
        self.seen.setdefault(key, record.line)
        self.in_file.setdefault(key, row["rate"])
        if known:
            self.result.count(Kind.RATES, added=False)
            return
        self.result.count(Kind.RATES, added=True)
        if not self.options.dry_run:
            self.rows.add({**row, "created_at": self.now})

    def written(self) -> None:
        self.rows.flush()

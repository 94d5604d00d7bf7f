"""Importing exchange rates."""

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.interchange.cells import Cells, fits, parse_currency
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import judge, read_records, valid_records
from fintrack.interchange.problems import ImportResult, Options, Problems
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, begin
from fintrack.models import ExchangeRate


def import_rates(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Exchange rates, keyed by base, quote and day; a different rate for a stored key is an
    error, as with `fintrack rate add`."""
    from fintrack.rates import known_rate, parse_rate

    begin(session, options)
    result = ImportResult()
    problems = Problems()
    query = select(ExchangeRate.base, ExchangeRate.quote, ExchangeRate.rate_on, ExchangeRate.rate)
    stored = {(b, q, on): rate for b, q, on, rate in session.execute(query)}
    seen: dict[tuple[str, str, date], int] = {}
    in_file: dict[tuple[str, str, date], Any] = {}  # the rate of each key's first line

    def parsed(record: Record) -> tuple[Cells, dict[str, Any] | None, Any]:
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
        if not fits(cells, ExchangeRate, row):
            return cells, None, None
        return cells, row, key

    for record in read_records(source, options, "Checking"):
        result.rows += 1
        cells, row, key = parsed(record)
        if row is None:
            problems.add(source, record.line, cells.errors)
        else:
            seen.setdefault(key, record.line)
            in_file.setdefault(key, row["rate"])
    judge(problems, result, options)

    seen.clear()
    in_file.clear()
    rows = Batches(session, ExchangeRate, options)
    now = options.now()
    for record in valid_records(source, options, problems):
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

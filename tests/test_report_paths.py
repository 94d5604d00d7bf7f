"""The fast paths of the reports give what the plain ones give: converted totals summed in
whole numbers per rate denominator against a Fraction per conversion, tables made a column at
a time against a cell at a time, and report rows typed only when read."""

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from rich.console import Console
from sqlalchemy.orm import Session

import fintrack
from fintrack import Money
from fintrack.api import Grouping, TotalsReport
from fintrack.cli.output import cell_text, cell_texts
from fintrack.cli.table import (
    GAP,
    NUMERIC_KINDS,
    Cell,
    Layout,
    Styler,
    cell_width,
    is_fixed,
    pad,
    plan,
    table_lines,
    wrap,
)
from fintrack.formats import (
    DEADLINE_COLUMNS,
    TOTALS_COLUMNS,
    Column,
    converted_columns,
    records,
    totals_columns,
)
from fintrack.rates import RateBook
from fintrack.store import Database

GROUPINGS: tuple[Grouping, ...] = ("pair", "donor", "recipient", "month", "currency")
RATES_ON = date(2025, 9, 1)


def _fill(tracker: fintrack.Tracker) -> None:
    """Pledges in five currencies whose conversions into USD go direct (EUR), inverse (JPY),
    through another currency (GBP via EUR) and with three digits (KWD), paid in part."""
    # A rate every five days (a rate counts for seven), each day's different.
    pairs = [("EUR", "USD", "1.0807"), ("USD", "JPY", "143.27"), ("GBP", "EUR", "1.1712")]
    pairs.append(("KWD", "USD", "3.2589"))
    rates = [
        (
            base,
            quote,
            str(Decimal(rate) + Decimal(k) / 1000),
            date(2025, 2, 20) + timedelta(days=5 * k),
        )
        for k in range(45)
        for base, quote, rate in pairs
    ]
    pledges = [
        ("EU", "Syria", "EUR", "175000000.33", date(2025, 3, 17)),
        ("EU", "Yemen", "EUR", "12345678.91", date(2025, 4, 2)),
        ("Japan", "Syria", "JPY", "987654321", date(2025, 3, 20)),
        ("UK", "Syria", "GBP", "33333333.33", date(2025, 5, 5)),
        ("UK", "Iraq", "GBP", "1000000.01", date(2025, 6, 9)),
        ("Kuwait", "Iraq", "KWD", "7777777.777", date(2025, 3, 30)),
        ("Kuwait", "Syria", "KWD", "123.457", date(2025, 7, 4)),
        ("US", "Yemen", "USD", "4500000.5", date(2025, 4, 11)),
    ]
    with tracker.change(reason="test") as ch:
        for base, quote, rate, on in rates:
            ch.add_rate(base, quote, rate, on=on)
        for n, (donor, recipient, currency, amount, on) in enumerate(pledges):
            pledge = ch.add_pledge(
                donor=donor,
                recipient=recipient,
                each=Money.parse(amount, currency),
                installments=n % 3 + 1,
                every="month",
                on=on,
            )
            if n % 2 == 0:
                paid = Money(pledge.pledged.minor // (n + 3), currency)
                ch.pay(pledge.id, paid, on=date(2025, 6, 20 + n))


def test_converted_totals_are_the_sums_of_every_conversion(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        _fill(tracker)
        database = Database(db_url)
        try:
            for target in ("USD", "EUR"):
                with Session(database.engine) as session:
                    book = RateBook(session, target)
                for by in GROUPINGS:
                    report = tracker.totals_report(by=by, in_=target, rates_on=RATES_ON)
                    _check(report, book, by)
        finally:
            database.engine.dispose()


def _check(report: TotalsReport, book: RateBook, by: str) -> None:
    """Each row's figures are the exact sums of its conversions in the working, each made
    with a Fraction and the sum rounded once; the total row is the sum of every one."""
    sums: dict[tuple[Any, ...] | None, dict[str, Fraction]] = defaultdict(
        lambda: defaultdict(Fraction)
    )
    routes = set()
    for row in report.working:
        key: tuple[Any, ...] = (row.donor, row.recipient, row.month)
        if by == "currency":
            key = (*key, row.amount.currency)
        conversion = book.convert(row.amount.currency, row.value_date)
        exact = conversion.exact(row.amount.minor)
        assert row.converted.minor == round(exact)
        sums[key][row.figure] += exact
        sums[None][row.figure] += exact
        routes.add(conversion.route.split()[0])
    if book.target == "USD":  # every route is taken, and checked
        assert routes == {"same", "direct", "inverse", "via"}
    assert report.rows[-1].total
    keys = [
        (row.donor, row.recipient, row.month, *((row.currencies[0],) if by == "currency" else ()))
        for row in report.rows[:-1]
    ]
    assert len(set(keys)) == len(keys) == len({k for k in sums if k is not None})
    for group, total in [*zip(keys, report.rows[:-1], strict=True), (None, report.rows[-1])]:
        for figure in ("pledged", "disbursed", "outstanding"):
            assert getattr(total, figure) == Money(round(sums[group][figure]), book.target), (
                by,
                group,
                figure,
            )


def test_the_working_is_worked_out_when_first_read() -> None:
    calls: list[int] = []
    working: dict[str, Any] = {"donor": "EU", "recipient": None, "month": None, "figure": "pledged"}
    working |= {"value_date": date(2025, 1, 1), "currency": "EUR", "amount": 100, "rate": None}
    working |= {"rate_on": None, "route": "same", "target": "EUR", "converted": 100}

    def work() -> list[dict[str, Any]]:
        calls.append(1)
        return [working]

    report = TotalsReport("donor", "EUR", [], work)
    assert calls == [] and report.rows == ()
    assert report.working[0].amount == Money(100, "EUR") and report.working[0].donor == "EU"
    assert report.working_records == [working] and calls == [1]


def test_report_rows_are_the_records_typed(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        _fill(tracker)
        for by in GROUPINGS:
            report = tracker.totals_report(by=by)
            assert len(report.rows) == len(report.records) > 1
            for typed, record in zip(report.rows, report.records, strict=True):
                assert typed.pledged == Money(record["pledged"], record["currency"])
                assert typed.total == record["total"] and typed.pledges == record["pledges"]
        deadlines = tracker.deadlines_report(as_of=date(2025, 6, 1), within=60, in_="USD")
        assert len(deadlines.rows) == len(deadlines.records) > 1
        for row, record in zip(deadlines.rows, deadlines.records, strict=True):
            assert row.amount == Money(record["amount"], record["currency"])
            assert row.converted == Money(record["converted"], "USD")


# --- tables: a column at a time, as a cell at a time gave them --------------------------------

MONEY_ROWS: list[dict[str, Any]] = [
    {"currency": "USD", "amount": 123456789, "target": "KWD", "converted": -1234567},
    {"currency": "JPY", "amount": 987654321, "target": "JPY", "converted": 0},
    {"currency": "KWD", "amount": -5, "target": "USD", "converted": 999},
    {"currency": "CLF", "amount": 10**15 + 7, "target": "USD", "converted": None},
    {"currency": "USD", "amount": None, "target": "USD", "converted": 50},
]
TEXTS = [
    "Qatar → Syria",
    "EU",
    "",
    "a\x1b[31mred",  # a control character, shown as a sign
    "line\nbreak and more words to wrap",
    "東京都 → 大阪",  # wide characters
    "https://example.org/a/very/long/address/that/does/not/fit/anywhere",
    "installment 2 of 4 (date assumed)",
    "\u202eevil",
    "n/a",
]


def _rows() -> list[dict[str, Any]]:
    rows = []
    for n in range(40):
        row = dict(MONEY_ROWS[n % len(MONEY_ROWS)])
        text = TEXTS[n % len(TEXTS)]
        days = [None, -3, 0, 5, 40][n % 5]
        row |= {
            "date": date(2025, 1, 1 + n % 28) if n % 7 else None,
            "days_left": days if days is not None else 2,
            "state": ["overdue", "today", "soon", "upcoming", "lapsed"][n % 5],
            "kind": "installment" if n % 3 else "expiry",
            "subject": text,
            "detail": TEXTS[(n * 3) % len(TEXTS)],
            "record": "pledge",
            "record_id": n * 1234,
            "confidence": "reported",
            "rate": None,
            "rate_on": None,
            "route": None,
            "donor": text if n % 4 else None,
            "recipient": TEXTS[(n + 1) % len(TEXTS)],
            "month": None,
            "currencies": ["EUR", "USD"],
            "pledges": [3, 12345, -20000, None][n % 4],
            "pledged": row["amount"],
            "disbursed": row["converted"] if row["converted"] is not None else 0,
            "outstanding": 7,
            "fulfilled_pct": None if n % 6 == 0 else "n/a" if n % 6 == 1 else Decimal(n) / 4,
            "pledged_unconfirmed": 0,
            "disbursed_unconfirmed": 1,
            "total": bool(n % 2),
        }
        rows.append(row)
    # The same text in an int column and a date column, as a word in place of a number.
    rows[3]["pledges"] = "n/a"
    rows[5]["date"] = "unknown\x07"
    return rows


COLUMNS = [
    *DEADLINE_COLUMNS,
    *converted_columns("USD"),
    *TOTALS_COLUMNS,
    Column("currencies", "From", "list"),
]


def _per_row(column: Column, rows: Sequence[dict[str, Any]], compact: bool) -> list[str]:
    text_of = cell_text(column, compact)
    return [text_of(row) for row in rows]


@pytest.mark.parametrize("compact", [False, True])
def test_cells_of_a_column_are_the_cells_of_each_row(compact: bool) -> None:
    rows = _rows()
    for column in COLUMNS:
        assert cell_texts(column, rows, compact) == _per_row(column, rows, compact), column.key
    # Columns whose values all take the fast path.
    plain = [
        {**row, "pledges": 5, "date": date(2025, 1, 2), "subject": "EU → Syria"} for row in rows
    ]
    for column in COLUMNS:
        assert cell_texts(column, plain, compact) == _per_row(column, plain, compact), column.key


def _plain_table_lines(
    layout: Layout,
    rows: Sequence[dict[str, Any]],
    cell: Cell,
    styler: Styler,
    row_style: Callable[[dict[str, Any]], str | None] | None,
    rule: str,
) -> Iterator[str]:
    """The table a cell at a time, as fintrack drew it before it drew it a column at a time."""
    columns, widths = layout.columns, layout.widths
    gap = " " * GAP
    right = [c.kind in NUMERIC_KINDS for c in columns]
    headers = [wrap(c.header, w) for c, w in zip(columns, widths, strict=True)]
    height = max(len(h) for h in headers)
    for n in range(height):
        parts = []
        for h, w, r in zip(headers, widths, right, strict=True):
            k = n - (height - len(h))
            parts.append(pad(h[k] if k >= 0 else "", w, r))
        yield styler(gap.join(parts).rstrip(), "bold")
    yield rule * layout.width
    caps = [c.max_lines if layout.cut else None for c in columns]
    for row in rows:
        cells = [cell(c, [row], layout.compact)[0] for c in columns]
        style = row_style(row) if row_style else None
        parts = []
        for text, w, r in zip(cells, widths, right, strict=True):
            fill = w - cell_width(text)
            if fill < 0:
                break
            parts.append(" " * fill + text if r else text + " " * fill)
        if len(parts) == len(cells):
            yield styler(gap.join(parts).rstrip(), style)
            continue
        wrapped = [
            [pad(line, w, r) for line in ([t] if is_fixed(c) else wrap(t, w, cap))]
            for t, w, r, c, cap in zip(cells, widths, right, columns, caps, strict=True)
        ]
        for n in range(max(len(lines) for lines in wrapped)):
            line = gap.join(
                lines[n] if n < len(lines) else " " * w
                for lines, w in zip(wrapped, widths, strict=True)
            )
            yield styler(line.rstrip(), style)


@pytest.mark.parametrize("width", [None, 30, 60, 80, 120, 200])
@pytest.mark.parametrize("terminal", [False, True])
def test_tables_made_a_column_at_a_time_are_those_made_a_cell_at_a_time(
    width: int | None, terminal: bool
) -> None:
    rows = _rows()
    console = Console(force_terminal=terminal, color_system="standard" if terminal else None)
    styler = Styler(console)
    assert styler.active == terminal

    def style(row: dict[str, Any]) -> str | None:
        return "bold red" if row["state"] == "overdue" else None

    for columns in (DEADLINE_COLUMNS, [*TOTALS_COLUMNS[:-1], COLUMNS[-1]], COLUMNS):
        layout = plan(rows, columns, width, cell_texts)
        assert layout == plan(rows, columns, width, _per_row)
        if layout.blocks:
            continue
        got = list(table_lines(layout, rows, cell_texts, styler, style, "─"))
        assert got == list(_plain_table_lines(layout, rows, _per_row, styler, style, "─"))
    # Cells as they are, line breaks and all: a cell that holds one is wrapped at it when
    # another cell of its row does not fit, and printed as it is when every cell fits.
    columns = [Column("subject", "Subject"), Column("detail", "Detail", max_lines=2)]
    texts = [{"subject": "a\nb", "detail": text} for text in ("short", "x " * 40, "a\nb c")]
    layout = plan(texts, columns, width or 50, _raw)
    got = list(table_lines(layout, texts, _raw, styler, None, "-"))
    assert got == list(_plain_table_lines(layout, texts, _raw, styler, None, "-"))


def _raw(column: Column, rows: Sequence[dict[str, Any]], compact: bool) -> list[str]:
    return [str(row[column.key]) for row in rows]


def _projected(rows: Sequence[dict[str, Any]], columns: Sequence[Column]) -> list[list[Any]]:
    return [[row.get(c.key) for c in columns] for row in rows]


def test_report_records_are_what_their_typed_rows_give_back(db_url: str) -> None:
    """The CLI writes a report's records as they are; before, it wrote its typed rows turned
    back into records: every column of both is the same, sanction dates beside converted
    installments included (they have no amount, so nothing converted into `in_`)."""
    with fintrack.open(db_url) as tracker:
        tracker.seed()
        _fill(tracker)
        for in_ in (None, "USD"):
            for by in GROUPINGS:
                totals = tracker.totals_report(by=by, in_=in_, rates_on=RATES_ON)
                columns = totals_columns(by, in_)
                assert _projected(totals.records, columns) == _projected(
                    records(totals.rows, columns), columns
                )
            deadlines = tracker.deadlines_report(as_of=date(2025, 5, 1), within=400, in_=in_)
            columns = [*DEADLINE_COLUMNS, *(converted_columns(in_) if in_ else [])]
            assert {row.record for row in deadlines.rows} == {"pledge", "sanction"}
            assert _projected(deadlines.records, columns) == _projected(
                records(deadlines.rows, columns), columns
            )

"""`fintrack totals` and `fintrack deadlines`: the two reports."""

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fintrack.cli.common import (
    FormatOption,
    KnownOnOption,
    MinConfidenceOption,
    database,
    known,
    optional_date,
)
from fintrack.cli.output import Column, OutputFormat, render
from fintrack.cli.rate import MaxRateAge

if TYPE_CHECKING:
    from fintrack.known import Known
    from fintrack.reports import Grouping

TOTALS_COLUMNS = [
    Column("donor", "Donor"),
    Column("recipient", "Recipient"),
    Column("month", "Month"),
    Column("currency", "Cur", wrap=False),
    Column("pledges", "Pledges", "int"),
    Column("pledged", "Pledged", "money"),
    Column("disbursed", "Disbursed", "money"),
    Column("outstanding", "Outstanding", "money"),
    Column("fulfilled_pct", "Fulfilled", "percent"),
    # How much of each figure rests on sources that do not confirm it (or on none).
    Column("pledged_unconfirmed", "Pledged, unconfirmed", "money"),
    Column("disbursed_unconfirmed", "Disbursed, unconfirmed", "money"),
    Column("total", "Total row", "bool", in_table=False),
]


def _converted_columns(target: str) -> list[Column]:
    """The columns that show a conversion beside the original amount."""
    return [
        Column("rate", "Rate", "decimal"),
        Column("rate_on", "Rate date", "date"),
        Column("route", "Route", wrap=False, in_table=False),
        Column("target", "In", wrap=False, in_table=False),
        Column("converted", f"In {target}", "money", currency_key="target"),
    ]


def _days(row: dict[str, Any]) -> str:
    """Days left, with the state where it matters, so it shows without colour too."""
    days, state = row["days_left"], row["state"]
    return f"{days} {state}" if state in ("overdue", "today") else str(days)


DEADLINE_COLUMNS = [
    Column("date", "Date", "date"),
    Column("days_left", "Days", "int", wrap=False, table_text=_days),
    Column("state", "State", in_table=False),
    Column("kind", "Kind"),
    Column("subject", "Subject", min_width=10),
    Column("detail", "Detail", min_width=16),
    Column("currency", "Cur", wrap=False),
    Column("amount", "Outstanding", "money"),
    Column("record", "Record", table_text=lambda r: f"{r['record']} {r['record_id']}"),
    Column("record_id", "ID", "int", in_table=False),
    Column("confidence", "Confidence", wrap=False, in_table=False),
]
DEADLINE_STYLES = {"overdue": "bold red", "today": "bold yellow", "soon": "yellow"}

MAX_WITHIN_DAYS = 36_500  # a century: far enough for any renewal cycle
KEY_COLUMNS = ("donor", "recipient", "month")
GROUPINGS = (
    "pair (donor and recipient), donor, recipient, month (installments' due month), currency"
)


def totals_columns(by: "Grouping", target: str | None = None) -> list[Column]:
    """The columns of the totals report for a grouping: its keys, then the figures.

    Converted into `target`, the original currencies of each group come before the figures.
    """
    from fintrack.reports import GROUP_KEYS

    keys = GROUP_KEYS[by]
    columns = [c for c in TOTALS_COLUMNS if c.key not in KEY_COLUMNS or c.key in keys]
    if target is None:
        return columns
    at = next(i for i, c in enumerate(columns) if c.key == "currency")
    return [*columns[:at], Column("currencies", "From", "list"), *columns[at:]]


def working_columns(by: "Grouping", target: str) -> list[Column]:
    """The columns of the conversions behind a converted totals report."""
    from fintrack.reports import GROUP_KEYS

    keys = [c for c in TOTALS_COLUMNS if c.key in KEY_COLUMNS and c.key in GROUP_KEYS[by]]
    return [
        *keys,
        Column("figure", "Figure", wrap=False),
        Column("value_date", "Value date", "date"),
        Column("currency", "Cur", wrap=False),
        Column("amount", "Amount", "money"),
        *_converted_columns(target),
    ]


def totals_rows(
    by: str,
    donor: str | None,
    recipient: str | None,
    currency: str | None,
    target: str | None = None,
    max_rate_age: int = 7,
    rates_on: date | None = None,
    view: "Known | None" = None,
) -> tuple["Grouping", list[dict[str, Any]], list[dict[str, Any]]]:
    """The totals rows, and with `target` the working: every conversion made."""
    from fintrack.known import NOW
    from fintrack.rates import RateBook
    from fintrack.reports import Grouping, TotalsFilter, converted_totals, totals
    from fintrack.vocab import parse_choice

    grouping = parse_choice(Grouping, by, "--by")
    where = TotalsFilter(donor, recipient, currency, view or NOW)
    with database().session() as session:
        if target is None:
            return grouping, totals(session, grouping, where), []
        book = RateBook(session, target, max_rate_age, where.known)
        today = rates_on or (view.day if view is not None else None) or date.today()
        rows, working = converted_totals(session, grouping, where, book, today)
        return grouping, rows, working


def totals_command(
    by: Annotated[str, typer.Option(help=f"Group by {GROUPINGS}.")] = "pair",
    donor: Annotated[str | None, typer.Option(help="Only this donor.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Only this recipient.")] = None,
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--in",
            metavar="CUR",
            help="Convert every amount into this currency at the rate of its own date.",
        ),
    ] = None,
    working: Annotated[
        bool,
        typer.Option(
            "--working",
            help="With --in: list each conversion (amount, rate, rate date, result) instead.",
        ),
    ] = False,
    max_rate_age: MaxRateAge = 7,
    rates_on: Annotated[
        str | None,
        typer.Option(
            "--rates-on",
            help="With --in: convert amounts due after this date at its rates (default: today).",
        ),
    ] = None,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
    chart: Annotated[
        bool,
        typer.Option(
            "--chart",
            help="Draw bars instead of the table: pledged vs disbursed per group, or with "
            "--by month installments due vs paid; one chart per currency.",
        ),
    ] = False,
) -> None:
    """Show pledged, disbursed, outstanding and percent fulfilled, per currency.

    Amounts in different currencies are never added together: each currency has its own
    total row. Pledged money is counted once per pledge, and a pledge replaced by a later
    one (`pledge add --replaces`) is not counted; a disbursement reduces what is
    outstanding and is never counted as new money. In CSV and JSON the total rows have
    total=true and empty group columns.

    With --in, every amount is converted at the rate of its own value date: pledged money at
    the pledge's date, disbursements at the day they were paid, what is outstanding at the
    installment's due date. A rate from up to --max-rate-age days before counts; a missing
    rate is an error. --working shows each conversion.

    The unconfirmed columns show how much of what was pledged and disbursed rests on
    sources that do not confirm it. --min-confidence leaves out what is not confirmed (or
    at least reported); --known-on shows the totals as the database held them on a day.

    Examples:

        fintrack totals --by donor

        fintrack totals --in USD --working

        fintrack totals --known-on 2025-05-31 --min-confidence reported

        fintrack totals --by donor --chart
    """
    from fintrack.errors import InputError
    from fintrack.money import normalize_currency

    if chart and fmt is not OutputFormat.TABLE:
        raise InputError("--chart", f"draws in the terminal; it cannot be written as {fmt.value}")
    if chart and working:
        raise InputError("--chart", "cannot be drawn with --working")
    code = normalize_currency(target, "--in") if target is not None else None
    day = optional_date(rates_on, "--rates-on")
    view = known(known_on, min_confidence)
    grouping, rows, conversions = totals_rows(
        by, donor, recipient, currency, code, max_rate_age, day, view
    )
    if working:
        if code is None:
            raise InputError("--working", "needs --in CUR, the currency to convert into")
        title = f"Conversions into {code}"
        render(conversions, working_columns(grouping, code), fmt, title=title)
        return
    if chart:
        _print_charts(grouping, rows)
        return
    columns = totals_columns(grouping, code)
    if fmt is OutputFormat.TABLE:
        label = next((c.key for c in columns if c.key in KEY_COLUMNS), None)
        if label is not None:
            rows = [{**row, label: "Total"} if row["total"] else row for row in rows]
    render(
        rows,
        columns,
        fmt,
        title="Totals",
        empty="No pledges match.",
        style=lambda row: "bold" if row["total"] else None,
    )


def _print_charts(grouping: "Grouping", rows: list[dict[str, Any]]) -> None:
    from fintrack.cli.chart import print_charts, totals_charts
    from fintrack.cli.output import stderr_console, stdout_console

    if not rows:
        stderr_console().print("No pledges match.")
        return
    print_charts(stdout_console(), totals_charts(rows, grouping.value))


def deadlines_rows(
    as_of: str | None,
    within: int,
    target: str | None = None,
    max_rate_age: int = 7,
    view: "Known | None" = None,
) -> tuple[date, list[dict[str, Any]]]:
    from fintrack.errors import InputError
    from fintrack.rates import RateBook
    from fintrack.reports import deadlines

    if not 0 <= within <= MAX_WITHIN_DAYS:
        raise InputError("--within", f"'{within}' must be from 0 to {MAX_WITHIN_DAYS} days")
    from fintrack.known import NOW

    view = view or NOW
    day = optional_date(as_of, "--as-of") or view.day or date.today()
    with database().session() as session:
        book = RateBook(session, target, max_rate_age, view) if target is not None else None
        return day, deadlines(session, day, within, book, view)


def deadline_columns(target: str | None) -> list[Column]:
    if target is None:
        return DEADLINE_COLUMNS
    at = next(i for i, c in enumerate(DEADLINE_COLUMNS) if c.key == "record")
    return [*DEADLINE_COLUMNS[:at], *_converted_columns(target), *DEADLINE_COLUMNS[at:]]


def deadlines_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count days from this date (default: today).")
    ] = None,
    within: Annotated[int, typer.Option(help="Look this many days ahead.")] = 90,
    target: Annotated[
        str | None,
        typer.Option(
            "--in",
            metavar="CUR",
            help="Also show each amount in this currency, at the rate of its due date.",
        ),
    ] = None,
    max_rate_age: MaxRateAge = 7,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List what falls due: installments (with overdue ones), sanction deadlines and expiries.

    Sorted by date, with days left; overdue items are red, items due within 14 days yellow.
    With --in, each outstanding amount is shown beside its conversion, the rate and the
    rate's date: at the due date's rate, or at --as-of's for an installment not yet due.
    With --known-on, days are counted from that date unless --as-of says otherwise.

    Example:

        fintrack deadlines --as-of 2025-05-08 --within 60 --in EUR
    """
    from fintrack.money import normalize_currency

    code = normalize_currency(target, "--in") if target is not None else None
    view = known(known_on, min_confidence)
    day, rows = deadlines_rows(as_of, within, code, max_rate_age, view)
    render(
        rows,
        deadline_columns(code),
        fmt,
        title=f"Deadlines as of {day.isoformat()}, next {within} days",
        empty=f"Nothing falls due between {day.isoformat()} and {within} days later.",
        style=lambda row: DEADLINE_STYLES.get(row["state"]),
    )

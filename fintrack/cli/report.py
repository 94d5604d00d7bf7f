"""`fintrack totals` and `fintrack deadlines`: the two reports."""

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fintrack.cli.common import (
    FormatOption,
    KnownOnOption,
    MaxRateAge,
    MinConfidenceOption,
    SinceOption,
    UntilOption,
    cli_date,
    listing,
    plural,
    tracker,
)
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import (
    DEADLINE_COLUMNS,
    KEEP,
    KEY_COLUMNS,
    MAIN,
    Column,
    converted_columns,
    totals_columns,
)
from fintrack.vocab import MAX_RATE_AGE_DAYS

if TYPE_CHECKING:
    from fintrack.api import TotalsReport

DEADLINE_STYLES = {
    "overdue": "bold red",
    "lapsed": "bold red",
    "today": "bold yellow",
    "soon": "yellow",
}

GROUPINGS = (
    "pair (donor and recipient), donor, recipient, month (installments' due month), currency"
)
DEADLINE_KINDS = "installment, deadline, expiry"


def working_columns(by: str, target: str) -> list[Column]:
    """The columns of the conversions behind a converted totals report."""
    keys = [c for c in totals_columns(by) if c.key in KEY_COLUMNS]
    return [
        *keys,
        Column("figure", "Figure", wrap=False, priority=KEEP),
        Column("value_date", "Value date", "date", priority=MAIN),
        Column("currency", "Cur", wrap=False, priority=KEEP),
        Column("amount", "Amount", "money", priority=MAIN),
        *converted_columns(target),
    ]


@listing(sort=False)
def totals_command(
    by: Annotated[str, typer.Option(help=f"Group by {GROUPINGS}.")] = "pair",
    donor: Annotated[str | None, typer.Option(help="Only this donor.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Only this recipient.")] = None,
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status",
            metavar="STATUS",
            help="Only pledges of this status (pledge, commitment, paid); repeat it or give "
            "a comma list, e.g. --status commitment,paid.",
        ),
    ] = None,
    since: SinceOption = None,
    until: UntilOption = None,
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
    max_rate_age: MaxRateAge = MAX_RATE_AGE_DAYS,
    rates_on: Annotated[
        date | None,
        typer.Option(
            "--rates-on",
            parser=cli_date,
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
    the pledge's date, disbursements at their value date (an IATI value-date; else the day
    they were paid), what is outstanding at the installment's due date. A rate from up to
    --max-rate-age days before counts; a missing rate is an error. --working shows each
    conversion.

    The unconfirmed columns show how much of what was pledged and disbursed rests on
    sources that do not confirm it. --min-confidence leaves out what is not confirmed (or
    at least reported); --known-on shows the totals as the database held them on a day.

    --since and --until keep the pledges dated in that range (both days included), the
    pledge's date being the day it was announced (--on), or its first installment's due date
    when it has none; all of a kept pledge's money counts, whatever --by.

    --status keeps pledges of those statuses: OCHA FTS counts commitment and paid as
    funding and pledges apart, so --status commitment,paid gives its funding total.

    Examples:

        fintrack totals --by donor

        fintrack totals --by month --since 2025-01-01 --until 2025-06-30

        fintrack totals --in USD --working

        fintrack totals --known-on 2025-05-31 --min-confidence reported

        fintrack totals --by donor --chart

        fintrack totals --by currency --status commitment --status paid
    """
    from fintrack.errors import InputError

    if chart and fmt is not OutputFormat.TABLE:
        raise InputError("--chart", f"draws in the terminal; it cannot be written as {fmt.value}")
    if chart and working:
        raise InputError("--chart", "cannot be drawn with --working")
    report = tracker().totals_report(
        by,  # type: ignore[arg-type]  # the tracker checks it and names the option
        donor,
        recipient,
        currency,
        since,
        until,
        target,
        rates_on,
        max_rate_age,
        known_on,
        min_confidence,
        status,
    )
    code = report.in_
    if working:
        if code is None:
            raise InputError("--working", "needs --in CUR, the currency to convert into")
        title = f"Conversions into {code}"
        columns = working_columns(report.by, code)
        render(report.working_records, columns, fmt, title=title)
        return
    columns = totals_columns(report.by, code)
    rows = list(report.records)
    if chart:
        _print_charts(report, rows)
        return
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


def _print_charts(report: "TotalsReport", rows: list[dict[str, Any]]) -> None:
    from fintrack.cli.chart import print_charts, totals_charts
    from fintrack.cli.output import stderr_console, stdout_console

    if not rows:
        stderr_console().print("No pledges match.")
        return
    print_charts(stdout_console(), totals_charts(rows, report.by))


def deadline_kinds(values: list[str] | None) -> list[str] | None:
    """The kinds named by --kind, repeated or as a comma list; None when not given."""
    if not values:
        return None
    return [part for value in values for part in value.split(",") if part.strip()] or None


def deadline_columns(target: str | None) -> list[Column]:
    if target is None:
        return DEADLINE_COLUMNS
    at = next(i for i, c in enumerate(DEADLINE_COLUMNS) if c.key == "record")
    return [*DEADLINE_COLUMNS[:at], *converted_columns(target), *DEADLINE_COLUMNS[at:]]


@listing()
def deadlines_command(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            parser=cli_date,
            metavar="DATE",
            help="Count days from this date (default: today).",
        ),
    ] = None,
    within: Annotated[int, typer.Option(metavar="DAYS", help="Look this many days ahead.")] = 90,
    donor: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="Only installments of this donor's pledges (no sanction dates), e.g. Qatar.",
        ),
    ] = None,
    recipient: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="Only installments of pledges to this recipient (no sanction dates).",
        ),
    ] = None,
    authority: Annotated[
        str | None,
        typer.Option(
            metavar="TEXT",
            help="Only this authority's sanction deadlines and expiries (no installments), "
            "e.g. EU.",
        ),
    ] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            "--kind",
            metavar="KIND",
            help=f"Only these kinds: {DEADLINE_KINDS}; repeat it or give a comma list, "
            "e.g. --kind deadline,expiry.",
        ),
    ] = None,
    overdue: Annotated[
        bool,
        typer.Option(
            "--overdue",
            help="Only what already passed: overdue installments and lapsed sanction dates.",
        ),
    ] = False,
    target: Annotated[
        str | None,
        typer.Option(
            "--in",
            metavar="CUR",
            help="Also show each amount in this currency, at the rate of its due date.",
        ),
    ] = None,
    max_rate_age: MaxRateAge = MAX_RATE_AGE_DAYS,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List what falls due: installments (with overdue ones), sanction deadlines and expiries.

    Sorted by date, with days left; overdue and lapsed items are red, items due within 14
    days yellow. With --in, each outstanding amount is shown beside its conversion, the rate
    and the rate's date: at the due date's rate, or at --as-of's for an installment not yet
    due. With --known-on, days are counted from that date unless --as-of says otherwise.

    A sanction deadline or expiry before --as-of stays listed as lapsed, however long ago,
    until a later action is recorded for the same authority and program: one (not revoked)
    announced or effective on or after that date, or with a deadline or expiry after it (a
    renewal made in time). Then it leaves the list.

    --donor and --recipient keep installments only, --authority sanction dates only (given
    together, each filters its own side); names match whole, ignoring case, as in
    `totals`. --kind and --overdue narrow either side.

    Examples:

        fintrack deadlines --as-of 2025-05-08 --within 60 --in EUR

        fintrack deadlines --authority EU --kind deadline,expiry --overdue
    """
    report = tracker().deadlines_report(
        as_of,
        within,
        donor,
        recipient,
        authority,
        deadline_kinds(kind),
        overdue,
        target,
        max_rate_age,
        known_on,
        min_confidence,
    )
    day, code = report.as_of, report.in_
    columns = deadline_columns(code)
    if overdue:
        title = f"Overdue and lapsed as of {day.isoformat()}"
        empty = f"Nothing overdue or lapsed as of {day.isoformat()}."
    else:
        title = f"Deadlines as of {day.isoformat()}, next {plural(within, 'day')}"
        empty = f"Nothing falls due between {day.isoformat()} and {plural(within, 'day')} later."
    render(
        report.records,
        columns,
        fmt,
        title=title,
        empty=empty,
        style=lambda row: DEADLINE_STYLES.get(row["state"]),
    )

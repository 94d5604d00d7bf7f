"""`fintrack totals` and `fintrack deadlines`: the two reports."""

from datetime import date
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fintrack.cli.common import FormatOption, database, optional_date
from fintrack.cli.output import Column, OutputFormat, render

if TYPE_CHECKING:
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
    Column("total", "Total row", "bool", in_table=False),
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
]
DEADLINE_STYLES = {"overdue": "bold red", "today": "bold yellow", "soon": "yellow"}

MAX_WITHIN_DAYS = 36_500  # a century: far enough for any renewal cycle
KEY_COLUMNS = ("donor", "recipient", "month")
GROUPINGS = (
    "pair (donor and recipient), donor, recipient, month (installments' due month), currency"
)


def totals_columns(by: "Grouping") -> list[Column]:
    """The columns of the totals report for a grouping: its keys, then the figures."""
    from fintrack.reports import GROUP_KEYS

    keys = GROUP_KEYS[by]
    return [c for c in TOTALS_COLUMNS if c.key not in KEY_COLUMNS or c.key in keys]


def totals_rows(
    by: str, donor: str | None, recipient: str | None, currency: str | None
) -> tuple["Grouping", list[dict[str, Any]]]:
    from fintrack.reports import Grouping, TotalsFilter, totals
    from fintrack.vocab import parse_choice

    grouping = parse_choice(Grouping, by, "--by")
    with database().session() as session:
        return grouping, totals(session, grouping, TotalsFilter(donor, recipient, currency))


def totals_command(
    by: Annotated[str, typer.Option(help=f"Group by {GROUPINGS}.")] = "pair",
    donor: Annotated[str | None, typer.Option(help="Only this donor.")] = None,
    recipient: Annotated[str | None, typer.Option(help="Only this recipient.")] = None,
    currency: Annotated[str | None, typer.Option(help="Only this currency.")] = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show pledged, disbursed, outstanding and percent fulfilled, per currency.

    Amounts in different currencies are never added together: each currency has its own
    total row. Pledged money is counted once per pledge; a disbursement reduces what is
    outstanding and is never counted as new money. In CSV and JSON the total rows have
    total=true and empty group columns.

    Example:

        fintrack totals --by donor
    """
    grouping, rows = totals_rows(by, donor, recipient, currency)
    columns = totals_columns(grouping)
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


def deadlines_rows(as_of: str | None, within: int) -> tuple[date, list[dict[str, Any]]]:
    from fintrack.errors import InputError
    from fintrack.reports import deadlines

    if not 0 <= within <= MAX_WITHIN_DAYS:
        raise InputError("--within", f"'{within}' must be from 0 to {MAX_WITHIN_DAYS} days")
    day = optional_date(as_of, "--as-of") or date.today()
    with database().session() as session:
        return day, deadlines(session, day, within)


def deadlines_command(
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Count days from this date (default: today).")
    ] = None,
    within: Annotated[int, typer.Option(help="Look this many days ahead.")] = 90,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List what falls due: installments (with overdue ones), sanction deadlines and expiries.

    Sorted by date, with days left; overdue items are red, items due within 14 days yellow.

    Example:

        fintrack deadlines --as-of 2025-05-08 --within 60
    """
    day, rows = deadlines_rows(as_of, within)
    render(
        rows,
        DEADLINE_COLUMNS,
        fmt,
        title=f"Deadlines as of {day.isoformat()}, next {within} days",
        empty=f"Nothing falls due between {day.isoformat()} and {within} days later.",
        style=lambda row: DEADLINE_STYLES.get(row["state"]),
    )

"""Totals of pledged, disbursed and outstanding money per group and currency, summed in SQL;
the tables, filters and groupings the other reports share."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, case, extract, func, select
from sqlalchemy.orm import Session

from fintrack.known import NOW, Known
from fintrack.models import Disbursement, Installment, Pledge
from fintrack.money import normalize_currency, percent
from fintrack.pledges import counted, dated, named, paid_per_installment
from fintrack.rates import RateBook
from fintrack.vocab import CONFIDENCE_RANK, MAX_RATE_AGE_DAYS, Confidence, PledgeStatus

Q = TypeVar("Q", bound=Select[Any])


class Grouping(StrEnum):
    PAIR = "pair"  # donor and recipient
    DONOR = "donor"
    RECIPIENT = "recipient"
    MONTH = "month"  # the month an installment falls due
    CURRENCY = "currency"


GROUP_KEYS: dict[Grouping, tuple[str, ...]] = {
    Grouping.PAIR: ("donor", "recipient"),
    Grouping.DONOR: ("donor",),
    Grouping.RECIPIENT: ("recipient",),
    Grouping.MONTH: ("month",),
    Grouping.CURRENCY: (),
}


@dataclass
class TotalsFilter:
    donor: str | None = None
    recipient: str | None = None
    currency: str | None = None
    # The records as known on a day, and only those sure enough (default: now, all).
    known: Known = NOW
    # Pledges whose date (`fintrack.pledges.pledge_date`) is from `since` to `until`.
    since: date | None = None
    until: date | None = None
    # Only pledges of these statuses (empty: every status).
    statuses: frozenset[PledgeStatus] = frozenset()


class Tables:
    """The pledges, installments and payments a report reads: those `known` holds."""

    def __init__(self, known: Known) -> None:
        self.known = known
        self.pledge = known.of(Pledge, name="pledge")
        self.installment = known.of(Installment, name="installment")
        self.disbursement = known.of(Disbursement, name="disbursement")


def group_columns(by: Grouping, t: Tables) -> list[ColumnElement[Any]]:
    if by is Grouping.MONTH:
        return [
            extract("year", t.installment.due_on).label("year"),
            extract("month", t.installment.due_on).label("month"),
        ]
    columns = {"donor": t.pledge.donor, "recipient": t.pledge.recipient}
    return [columns[key].label(key) for key in GROUP_KEYS[by]]


def filtered(query: Q, where: TotalsFilter, t: Tables) -> Q:
    """The query restricted to counted pledges (not replaced, not left out by the counting
    rules of the system they came from: see `Boundary`) matching the filter."""
    pledge = t.pledge
    query = query.where(counted(pledge, t.known), pledge.boundary.is_(None))
    if where.donor:
        query = query.where(named(pledge.donor, where.donor))
    if where.recipient:
        query = query.where(named(pledge.recipient, where.recipient))
    if where.currency:
        query = query.where(pledge.currency == normalize_currency(where.currency, "currency"))
    if where.statuses:
        query = query.where(pledge.status.in_(sorted(where.statuses)))
    return query.where(*dated(pledge, where.since, where.until, t.known))


def not_confirmed(rank: Any) -> ColumnElement[bool]:
    return func.coalesce(rank, 0) != CONFIDENCE_RANK[Confidence.CONFIRMED]


def key_values(by: Grouping, record: Any) -> dict[str, Any]:
    row: dict[str, Any] = {key: None for key in ("donor", "recipient", "month")}
    if by is Grouping.MONTH:
        row["month"] = f"{int(record['year']):04d}-{int(record['month']):02d}"
    else:
        row.update({key: record[key] for key in GROUP_KEYS[by]})
    return row


def _sum_rows(session: Session, by: Grouping, where: TotalsFilter) -> list[dict[str, Any]]:
    t = Tables(where.known)
    paid = paid_per_installment(known=where.known, unconfirmed=True)
    keys = group_columns(by, t)
    standing = where.known.standing(Pledge)
    installment, pledge = t.installment, t.pledge
    query = (
        select(
            *keys,
            pledge.currency,
            func.count(func.distinct(pledge.id)).label("pledges"),
            func.sum(installment.amount_minor).label("pledged"),
            func.coalesce(func.sum(paid.c.paid), 0).label("disbursed"),
            func.sum(
                case((not_confirmed(standing.c.rank), installment.amount_minor), else_=0)
            ).label("pledged_unconfirmed"),
            func.coalesce(func.sum(paid.c.unconfirmed), 0).label("disbursed_unconfirmed"),
        )
        .select_from(installment)
        .join(pledge, pledge.id == installment.pledge_id)
        .outerjoin(paid, paid.c.installment_id == installment.id)
        .outerjoin(standing, standing.c.record_id == pledge.id)
        .group_by(*keys, pledge.currency)
        .order_by(pledge.currency, *keys)
    )
    rows = []
    month = by is Grouping.MONTH
    names = GROUP_KEYS[by]
    width = len(keys)
    # Rows as tuples through Core, not mappings through the ORM: a report may hold a hundred
    # thousand groups.
    for record in session.connection().execute(filtered(query, where, t)).all():
        row: dict[str, Any] = {"donor": None, "recipient": None, "month": None}
        if month:
            row["month"] = f"{int(record[0]):04d}-{int(record[1]):02d}"
        else:
            row.update(zip(names, record[:width], strict=True))
        currency, count, pledged, disbursed, pledged_unsure, disbursed_unsure = record[width:]
        pledged, disbursed = int(pledged), int(disbursed)
        row.update(
            currency=currency,
            pledges=int(count),
            pledged=pledged,
            disbursed=disbursed,
            outstanding=pledged - disbursed,
            fulfilled_pct=percent(disbursed, pledged),
            pledged_unconfirmed=int(pledged_unsure),
            disbursed_unconfirmed=int(disbursed_unsure),
            total=False,
        )
        rows.append(row)
    return rows


def _pledges_per_currency(session: Session, where: TotalsFilter) -> dict[str, int]:
    """How many pledges each currency's total counts (those with installments)."""
    t = Tables(where.known)
    query = (
        select(t.pledge.currency, func.count(func.distinct(t.pledge.id)))
        .select_from(t.installment)
        .join(t.pledge, t.pledge.id == t.installment.pledge_id)
        .group_by(t.pledge.currency)
    )
    return {currency: int(count) for currency, count in session.execute(filtered(query, where, t))}


SUMMED = ("pledged", "disbursed", "pledged_unconfirmed", "disbursed_unconfirmed")


def _currency_totals(
    groups: list[dict[str, Any]], pledges: dict[str, int] | None
) -> dict[str, dict[str, Any]]:
    """Each currency's total row, summed from its groups (in their order, by currency). A
    pledge is in one group only, except by month (`pledges` then gives the counts)."""
    grand: dict[str, dict[str, Any]] = {}
    for row in groups:
        total = grand.get(row["currency"])
        if total is None:
            grand[row["currency"]] = {**row, "donor": None, "recipient": None, "month": None}
            continue
        total["pledges"] += row["pledges"]
        for name in SUMMED:
            total[name] += row[name]
    for currency, total in grand.items():
        if pledges is not None:
            total["pledges"] = pledges[currency]
        total["outstanding"] = total["pledged"] - total["disbursed"]
        total["fulfilled_pct"] = percent(total["disbursed"], total["pledged"])
        total["total"] = True
    return grand


def totals(session: Session, by: Grouping, where: TotalsFilter) -> list[dict[str, Any]]:
    """Pledged, disbursed, outstanding and percent fulfilled per group and currency.

    Amounts in different currencies are never added together: each currency's groups are
    followed by that currency's total row. Pledged money is counted once, from the pledge's
    installments, and a pledge replaced by a later one is not counted; disbursements only
    reduce what is outstanding. With `Grouping.MONTH` the groups are the months in which
    installments fall due.
    """
    groups = _sum_rows(session, by, where)
    if by is Grouping.CURRENCY:
        return [{**row, "total": True} for row in groups]
    # The totals are the sums of the groups; only by month can a pledge count in several.
    counts = _pledges_per_currency(session, where) if by is Grouping.MONTH else None
    grand = _currency_totals(groups, counts)
    rows: list[dict[str, Any]] = []
    for row in groups:
        if rows and rows[-1]["currency"] != row["currency"]:
            rows.append(grand[rows[-1]["currency"]])
        rows.append(row)
    if rows:
        rows.append(grand[rows[-1]["currency"]])
    return rows


def totals_report(
    session: Session,
    by: Grouping,
    where: TotalsFilter,
    target: str | None = None,
    max_rate_age: int = MAX_RATE_AGE_DAYS,
    rates_on: date | None = None,
) -> tuple[list[dict[str, Any]], Callable[[], list[dict[str, Any]]]]:
    """The totals rows, and converted into `target` a function giving the working too: every
    conversion made (see `converted_totals`). Amounts not yet due convert at the rate of
    `rates_on` (default: the day of the view, else today)."""
    from fintrack.reports.conversion import converted_totals

    if target is None:
        return totals(session, by, where), list
    book = RateBook(session, target, max_rate_age, where.known)
    today = rates_on or where.known.day or date.today()
    return converted_totals(session, by, where, book, today)

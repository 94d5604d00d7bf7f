"""Reports: totals of pledged, disbursed and outstanding money, and upcoming deadlines, in SQL."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, extract, func, select
from sqlalchemy.orm import Session

from fintrack.models import Disbursement, Installment, Pledge, SanctionAction
from fintrack.money import normalize_currency, percent
from fintrack.pledges import counted, paid_per_installment
from fintrack.rates import RateBook, to_minor
from fintrack.vocab import SanctionStatus

Q = TypeVar("Q", bound=Select[Any])

# Items due within this many days are flagged as near.
NEAR_DAYS = 14


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


def _group_columns(by: Grouping) -> list[ColumnElement[Any]]:
    if by is Grouping.MONTH:
        return [
            extract("year", Installment.due_on).label("year"),
            extract("month", Installment.due_on).label("month"),
        ]
    columns = {"donor": Pledge.donor, "recipient": Pledge.recipient}
    return [columns[key].label(key) for key in GROUP_KEYS[by]]


def _filtered(query: Q, where: TotalsFilter) -> Q:
    """The query restricted to counted pledges (not replaced) matching the filter."""
    query = query.where(counted())
    if where.donor:
        query = query.where(func.lower(Pledge.donor) == where.donor.strip().lower())
    if where.recipient:
        query = query.where(func.lower(Pledge.recipient) == where.recipient.strip().lower())
    if where.currency:
        query = query.where(Pledge.currency == normalize_currency(where.currency, "--currency"))
    return query


def _key_values(by: Grouping, record: Any) -> dict[str, Any]:
    row: dict[str, Any] = {key: None for key in ("donor", "recipient", "month")}
    if by is Grouping.MONTH:
        row["month"] = f"{int(record['year']):04d}-{int(record['month']):02d}"
    else:
        row.update({key: record[key] for key in GROUP_KEYS[by]})
    return row


def _sum_rows(session: Session, by: Grouping, where: TotalsFilter) -> list[dict[str, Any]]:
    paid = paid_per_installment()
    keys = _group_columns(by)
    query = (
        select(
            *keys,
            Pledge.currency,
            func.count(func.distinct(Pledge.id)).label("pledges"),
            func.sum(Installment.amount_minor).label("pledged"),
            func.coalesce(func.sum(paid.c.paid), 0).label("disbursed"),
        )
        .select_from(Installment)
        .join(Pledge, Pledge.id == Installment.pledge_id)
        .outerjoin(paid, paid.c.installment_id == Installment.id)
        .group_by(*keys, Pledge.currency)
        .order_by(Pledge.currency, *keys)
    )
    rows = []
    for record in session.execute(_filtered(query, where)).mappings():
        row = _key_values(by, record)
        pledged, disbursed = int(record["pledged"]), int(record["disbursed"])
        row.update(
            currency=record["currency"],
            pledges=int(record["pledges"]),
            pledged=pledged,
            disbursed=disbursed,
            outstanding=pledged - disbursed,
            fulfilled_pct=percent(disbursed, pledged),
            total=False,
        )
        rows.append(row)
    return rows


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
    grand = {row["currency"]: row for row in _sum_rows(session, Grouping.CURRENCY, where)}
    rows: list[dict[str, Any]] = []
    for currency, total in grand.items():
        rows.extend(row for row in groups if row["currency"] == currency)
        rows.append({**total, "total": True})
    return rows


def _state(days: int) -> str:
    if days < 0:
        return "overdue"
    if days == 0:
        return "today"
    return "soon" if days <= NEAR_DAYS else "upcoming"


def deadlines(
    session: Session, as_of: date, within: int, book: RateBook | None = None
) -> list[dict[str, Any]]:
    """Everything due from `as_of` to `within` days later, and installments overdue before it.

    Installments show the amount still outstanding on them; sanction actions contribute their
    deadlines (renewal, review, a target date) and their expiries, unless revoked. With a
    rate book, each outstanding amount is also converted at the rate of its due date, or of
    `as_of` for one not yet due (no rate of a future day exists).
    """
    end = as_of + timedelta(days=within)
    paid = paid_per_installment()
    outstanding = Installment.amount_minor - func.coalesce(paid.c.paid, 0)
    count = (
        select(func.count(Installment.id))
        .where(Installment.pledge_id == Pledge.id)
        .correlate(Pledge)
        .scalar_subquery()
    )
    installments = (
        select(
            Installment.due_on,
            Installment.seq,
            count.label("of"),
            outstanding.label("left"),
            Pledge,
        )
        .join(Pledge, Pledge.id == Installment.pledge_id)
        .outerjoin(paid, paid.c.installment_id == Installment.id)
        .where(Installment.due_on <= end, outstanding > 0, counted())
    )
    rows: list[dict[str, Any]] = []
    for due_on, seq, of, left, pledge in session.execute(installments):
        detail = f"installment {seq} of {of}"
        if pledge.schedule_assumed:
            detail += " (date assumed)"
        rows.append(
            _deadline(
                due_on,
                as_of,
                "installment",
                f"{pledge.donor} → {pledge.recipient}",
                detail,
                "pledge",
                pledge.id,
                pledge.currency,
                int(left),
            )
        )
    rows.extend(_sanction_dates(session, as_of, end))
    rows.sort(key=lambda row: (row["date"], row["kind"], row["record_id"]))
    if book is not None:
        for row in rows:
            row["target"] = book.target
            if row["currency"] is not None:
                conversion = book.convert(row["currency"], min(row["date"], as_of))
                row.update(
                    rate=conversion.shown_rate,
                    rate_on=conversion.rate_on,
                    route=conversion.route,
                    converted=to_minor(conversion.exact(row["amount"])),
                )
    return rows


def _sanction_dates(session: Session, as_of: date, end: date) -> list[dict[str, Any]]:
    live = SanctionAction.status != SanctionStatus.REVOKED.value
    rows = []
    for column, kind in (
        (SanctionAction.deadline_on, "deadline"),
        (SanctionAction.expires_on, "expiry"),
    ):
        query = select(SanctionAction).where(live, column >= as_of, column <= end)
        for action in session.scalars(query):
            subject = " ".join(part for part in (action.authority, action.program) if part)
            if kind == "deadline":
                detail = action.deadline_label or f"{action.action}: {action.target}"
                when = action.deadline_on
            else:
                detail = f"{action.action} on {action.target} expires"
                if action.legal_ref:
                    detail += f" ({action.legal_ref})"
                when = action.expires_on
            assert when is not None
            rows.append(_deadline(when, as_of, kind, subject, detail, "sanction", action.id))
    return rows


def _deadline(
    when: date,
    as_of: date,
    kind: str,
    subject: str,
    detail: str,
    record: str,
    record_id: int,
    currency: str | None = None,
    amount: int | None = None,
) -> dict[str, Any]:
    days = (when - as_of).days
    return {
        "date": when,
        "days_left": days,
        "state": _state(days),
        "kind": kind,
        "subject": subject,
        "detail": detail,
        "currency": currency,
        "amount": amount,
        "record": record,
        "record_id": record_id,
    }


# The three figures of a converted total, and the value date each is converted at.
PLEDGED, DISBURSED, OUTSTANDING = "pledged", "disbursed", "outstanding"


def _group_key(by: Grouping, record: Any) -> tuple[Any, ...]:
    """The group of a record when amounts are converted: currencies merge, except by currency."""
    values = _key_values(by, record)
    key = tuple(values[name] for name in ("donor", "recipient", "month"))
    return (*key, record["currency"]) if by is Grouping.CURRENCY else key


def _parts(session: Session, by: Grouping, where: TotalsFilter) -> list[tuple[Any, ...]]:
    """(group, figure, currency, value date, minor units): the sums to convert, one per date.

    Pledged amounts are dated by the pledge's date (its first due date when it has none),
    disbursements by the day they were paid, and what is outstanding on an installment by its
    due date. The sums are taken in SQL, so only distinct dates reach Python.
    """
    keys = _group_columns(by)
    firsts = (
        select(
            Installment.pledge_id.label("pledge_id"),
            func.min(Installment.due_on).label("first_due"),
        )
        .group_by(Installment.pledge_id)
        .subquery("firsts")
    )
    pledge_date = func.coalesce(Pledge.announced_on, firsts.c.first_due)
    paid = paid_per_installment()
    left = Installment.amount_minor - func.coalesce(paid.c.paid, 0)
    figures: list[tuple[str, Any, Any, Select[Any]]] = [
        (
            PLEDGED,
            pledge_date,
            Installment.amount_minor,
            select(Installment)
            .join(Pledge, Pledge.id == Installment.pledge_id)
            .join(firsts, firsts.c.pledge_id == Pledge.id),
        ),
        (
            DISBURSED,
            Disbursement.paid_on,
            Disbursement.amount_minor,
            select(Disbursement)
            .join(Installment, Installment.id == Disbursement.installment_id)
            .join(Pledge, Pledge.id == Installment.pledge_id),
        ),
        (
            OUTSTANDING,
            Installment.due_on,
            left,
            select(Installment)
            .join(Pledge, Pledge.id == Installment.pledge_id)
            .outerjoin(paid, paid.c.installment_id == Installment.id),
        ),
    ]
    parts: list[tuple[Any, ...]] = []
    for figure, value_date, amount, joined in figures:
        query = joined.with_only_columns(
            *keys,
            Pledge.currency.label("currency"),
            value_date.label("value_date"),
            func.sum(amount).label("minor"),
            maintain_column_froms=True,
        ).group_by(*keys, Pledge.currency, value_date)
        for record in session.execute(_filtered(query, where)).mappings():
            if int(record["minor"]) != 0:
                parts.append(
                    (
                        _group_key(by, record),
                        figure,
                        record["currency"],
                        record["value_date"],
                        int(record["minor"]),
                    )
                )
    return parts


def _pledge_counts(
    session: Session, by: Grouping, where: TotalsFilter
) -> tuple[dict[tuple[Any, ...], int], int]:
    """How many pledges each group and the whole report count."""
    keys = _group_columns(by)
    extra = [Pledge.currency.label("currency")] if by is Grouping.CURRENCY else []
    query = (
        select(*keys, *extra, func.count(func.distinct(Pledge.id)).label("pledges"))
        .select_from(Installment)
        .join(Pledge, Pledge.id == Installment.pledge_id)
        .group_by(*keys, *extra)
    )
    groups = {
        _group_key(by, record): int(record["pledges"])
        for record in session.execute(_filtered(query, where)).mappings()
    }
    everything = select(func.count(Pledge.id)).select_from(Pledge)
    return groups, int(session.scalar(_filtered(everything, where)) or 0)


def converted_totals(
    session: Session,
    by: Grouping,
    where: TotalsFilter,
    book: RateBook,
    rates_on: date,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Totals in one currency, each amount converted at the rate of its own value date.

    Returns the rows (each group, then the total) and the working: every conversion made,
    with the original amount, the rate, the rate's date and the converted amount. A value
    date after `rates_on` (an installment not yet due) is converted at the rates of
    `rates_on`, since no rate of that day exists yet. Each figure is summed exactly and
    rounded once, half to even, so a total is the rounded sum of exact amounts, not the sum
    of rounded rows.
    """
    exact: dict[tuple[Any, ...], dict[str, Fraction]] = defaultdict(
        lambda: dict.fromkeys((PLEDGED, DISBURSED, OUTSTANDING), Fraction(0))
    )
    currencies: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    merged: dict[tuple[Any, ...], int] = defaultdict(int)
    for group, figure, currency, value_date, minor in _parts(session, by, where):
        merged[group, figure, currency, min(value_date, rates_on)] += minor
    working = []
    order = (PLEDGED, DISBURSED, OUTSTANDING)
    for (group, figure, currency, value_date), minor in sorted(
        merged.items(), key=lambda item: (*_sort_key(item[0]), order.index(item[0][1]))
    ):
        conversion = book.convert(currency, value_date)
        amount = conversion.exact(minor)
        exact[group][figure] += amount
        currencies[group].add(currency)
        working.append(
            {
                **dict(zip(("donor", "recipient", "month"), group, strict=False)),
                "figure": figure,
                "value_date": value_date,
                "currency": currency,
                "amount": minor,
                "rate": conversion.shown_rate,
                "rate_on": conversion.rate_on,
                "route": conversion.route,
                "target": book.target,
                "converted": to_minor(amount),
            }
        )
    counts, all_pledges = _pledge_counts(session, by, where)
    rows = [
        _converted_row(group, figures, sorted(currencies[group]), counts.get(group, 0), book)
        for group, figures in sorted(exact.items(), key=_sort_key)
    ]
    if rows:
        grand = {
            figure: sum((figures[figure] for figures in exact.values()), Fraction(0))
            for figure in (PLEDGED, DISBURSED, OUTSTANDING)
        }
        every = sorted(set().union(*currencies.values()))
        rows.append({**_converted_row((None,) * 3, grand, every, all_pledges, book), "total": True})
    return rows, working


def _sort_key(item: tuple[Any, ...]) -> tuple[Any, ...]:
    """Order by group keys, with empty keys first (None never compares with text)."""
    return (tuple((value is not None, value or "") for value in item[0]),)


def _converted_row(
    group: tuple[Any, ...],
    figures: dict[str, Fraction],
    currencies: list[str],
    pledges: int,
    book: RateBook,
) -> dict[str, Any]:
    pledged, disbursed, outstanding = (
        to_minor(figures[name]) for name in (PLEDGED, DISBURSED, OUTSTANDING)
    )
    return {
        **dict(zip(("donor", "recipient", "month"), group, strict=False)),
        "currency": book.target,
        "currencies": currencies,
        "pledges": pledges,
        "pledged": pledged,
        "disbursed": disbursed,
        "outstanding": outstanding,
        "fulfilled_pct": percent(disbursed, pledged),
        "total": False,
    }

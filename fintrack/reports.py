"""Reports: totals of pledged, disbursed and outstanding money, and upcoming deadlines, in SQL."""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, extract, func, select
from sqlalchemy.orm import Session

from fintrack.models import Installment, Pledge, SanctionAction
from fintrack.money import normalize_currency, percent
from fintrack.pledges import paid_per_installment
from fintrack.vocab import SanctionStatus

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
    if where.donor:
        query = query.where(func.lower(Pledge.donor) == where.donor.strip().lower())
    if where.recipient:
        query = query.where(func.lower(Pledge.recipient) == where.recipient.strip().lower())
    if where.currency:
        query = query.where(Pledge.currency == normalize_currency(where.currency, "--currency"))
    rows = []
    for record in session.execute(query).mappings():
        row: dict[str, Any] = {key: None for key in ("donor", "recipient", "month")}
        if by is Grouping.MONTH:
            row["month"] = f"{int(record['year']):04d}-{int(record['month']):02d}"
        else:
            row.update({key: record[key] for key in GROUP_KEYS[by]})
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
    installments; disbursements only reduce what is outstanding. With `Grouping.MONTH` the
    groups are the months in which installments fall due.
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


def deadlines(session: Session, as_of: date, within: int) -> list[dict[str, Any]]:
    """Everything due from `as_of` to `within` days later, and installments overdue before it.

    Installments show the amount still outstanding on them; sanction actions contribute their
    deadlines (renewal, review, a target date) and their expiries, unless revoked.
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
        .where(Installment.due_on <= end, outstanding > 0)
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

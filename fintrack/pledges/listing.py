"""Pledges, installments and payments as rows for lists and reports, aggregated in SQL;
the filters and the rule of which pledges count."""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, func, select
from sqlalchemy.orm import Session

from fintrack.errors import InputError, mention
from fintrack.known import NOW, Known, standing_label
from fintrack.models import Disbursement, Installment, Pledge
from fintrack.money import (
    normalize_currency,
    percent,
)
from fintrack.store import YIELD_PER
from fintrack.vocab import Confidence, PledgeStatus


def counted(pledge: Any = Pledge, known: Known = NOW) -> ColumnElement[bool]:
    """True for pledges that count in totals: those no later pledge or commitment replaces
    (a replacement that is voided, or not sure enough to count, does not)."""
    newer = known.of(Pledge, name="newer")
    return ~exists().where(newer.replaces_id == pledge.id)


def paid_by_installment(session: Session, pledge_id: int) -> dict[int, int]:
    """Minor units paid against each installment of a pledge (voided payments aside)."""
    paid = paid_per_installment(pledge_id)
    rows = session.execute(select(paid.c.installment_id, paid.c.paid))
    return {installment_id: int(amount) for installment_id, amount in rows}


def pledge_summary(session: Session, pledge_id: int, known: Known = NOW) -> dict[str, Any]:
    """One pledge as `list_pledges` shows it, with its totals and next due date; voided
    pledges too, marked as such."""
    rows = list_pledges(session, PledgeFilter(pledge_id=pledge_id), known, include_void=True)
    if not rows:
        raise known.missing(session, Pledge, "pledge", pledge_id)
    return rows[0]


@dataclass
class PledgeFilter:
    pledge_id: int | None = None
    donor: str | None = None
    recipient: str | None = None
    status: PledgeStatus | None = None
    currency: str | None = None
    # The pledge's date (see `pledge_date`) from `since` to `until`, both included.
    since: date | None = None
    until: date | None = None


def named(column: Any, text: str) -> ColumnElement[bool]:
    """The one rule for a donor, recipient or authority filter: the whole name, ignoring case
    and surrounding spaces (`--donor qatar` finds Qatar, not Qatar Fund)."""
    return func.lower(column) == text.strip().lower()


def pledge_date(pledge: Any, known: Known = NOW) -> ColumnElement[date]:
    """A pledge's date: the day it was announced (`--on`), or when it has none its first
    installment's due date; the value date of pledged money in converted totals too."""
    sizes = known.of(Installment, name="first_due")
    first_due = select(func.min(sizes.due_on)).where(sizes.pledge_id == pledge.id)
    return func.coalesce(pledge.announced_on, first_due.scalar_subquery())


def check_range(since: date | None, until: date | None) -> None:
    """Refuse a date range that ends before it starts."""
    if since is not None and until is not None and since > until:
        raise InputError(
            "since", f"{since.isoformat()} is after {mention('until')} {until.isoformat()}"
        )


def dated(pledge: Any, since: date | None, until: date | None, known: Known = NOW) -> list[Any]:
    """The conditions that keep pledges whose date is from `since` to `until` (both included)."""
    check_range(since, until)
    when = pledge_date(pledge, known)
    return [
        *([when >= since] if since is not None else []),
        *([when <= until] if until is not None else []),
    ]


def paid_per_installment(
    pledge_id: int | None = None, known: Known = NOW, unconfirmed: bool = False
) -> Any:
    """A subquery of the minor units paid against each installment (of one pledge, if given),
    counting the payments known and sure enough; voided payments never count.

    With `unconfirmed`, it also sums (as `unconfirmed`) what rests on payments whose sources
    do not confirm them.
    """
    paid = known.of(Disbursement)
    columns = [
        paid.installment_id.label("installment_id"),
        func.sum(paid.amount_minor).label("paid"),
    ]
    query = select(*columns)
    if unconfirmed:
        query = _with_unconfirmed(query, paid, Disbursement, known, paid.amount_minor)
    if pledge_id is not None:
        query = query.where(paid.pledge_id == pledge_id)
    return query.group_by(paid.installment_id).subquery("paid")


def _with_unconfirmed(query: Any, entity: Any, model: type[Any], known: Known, amount: Any) -> Any:
    """`query` with an `unconfirmed` sum of `amount` over records that are not confirmed."""
    from sqlalchemy import case

    from fintrack.vocab import CONFIDENCE_RANK

    standing = known.standing(model)
    confirmed = CONFIDENCE_RANK[Confidence.CONFIRMED]
    not_confirmed = func.coalesce(standing.c.rank, 0) != confirmed
    return query.add_columns(
        func.coalesce(func.sum(case((not_confirmed, amount), else_=0)), 0).label("unconfirmed")
    ).outerjoin(standing, standing.c.record_id == entity.id)


# Rows fetched from the database at a time when a listing is streamed (an export, say).


def list_pledges(
    session: Session, where: PledgeFilter, known: Known = NOW, include_void: bool = False
) -> list[dict[str, Any]]:
    """Pledges with what was disbursed and what is outstanding, aggregated in SQL."""
    return list(iter_pledges(session, where, known, include_void))


def iter_pledges(
    session: Session, where: PledgeFilter, known: Known = NOW, include_void: bool = False
) -> Iterator[dict[str, Any]]:
    """`list_pledges`, a row at a time, fetched from the database in batches.

    The pledges are those `known` holds; each row carries its standing (the best confidence
    among its sources) and, for a voided pledge, when it was voided.
    """
    query = pledge_query(where, known, include_void, lambda pledges: [pledges])
    options = {"yield_per": YIELD_PER, "populate_existing": True}
    rows = session.execute(query.execution_options(**options))
    for pledge, count, disbursed, next_due, replaced_by, rank in rows:
        row = pledge_row(pledge, int(disbursed or 0))
        row["installments"] = int(count or 0)
        row["next_due"] = next_due
        row["replaced_by"] = replaced_by
        row["confidence"] = standing_label(rank)
        yield row


def pledge_query(
    where: PledgeFilter,
    known: Known,
    include_void: bool,
    fields: Callable[[Any], Sequence[Any]],
) -> Select[Any]:
    """The query of `iter_pledges`: `fields(pledges)` (the pledge, or columns of it), then
    each pledge's number of installments, what was disbursed, its next due date, the pledge
    replacing it and its standing's rank."""
    # One pledge (a summary after an edit, `pledge show`) reads only its own installments,
    # payments and links: the aggregates below would otherwise be made for every pledge.
    one = where.pledge_id
    pledges = known.of(Pledge, include_void=include_void, name="pledge")
    installments = known.of(Installment, name="installment")
    paid = paid_per_installment(one, known=known)
    per_pledge = (
        select(
            installments.pledge_id.label("pledge_id"),
            func.count(installments.id).label("installments"),
            func.coalesce(func.sum(paid.c.paid), 0).label("disbursed"),
            func.min(installments.due_on)
            .filter(installments.amount_minor > func.coalesce(paid.c.paid, 0))
            .label("next_due"),
        )
        .outerjoin(paid, paid.c.installment_id == installments.id)
        .where(*(() if one is None else (installments.pledge_id == one,)))
        .group_by(installments.pledge_id)
        .subquery("per_pledge")
    )
    newer = known.of(Pledge, name="newer")
    standing = known.standing(Pledge, one)
    query = (
        select(
            *fields(pledges),
            per_pledge.c.installments,
            per_pledge.c.disbursed,
            per_pledge.c.next_due,
            newer.id,
            standing.c.rank,
        )
        # Outer: a pledge of nothing (an FTS flow parked at zero) has no installments.
        .outerjoin(per_pledge, per_pledge.c.pledge_id == pledges.id)
        .outerjoin(newer, newer.replaces_id == pledges.id)
        .outerjoin(standing, standing.c.record_id == pledges.id)
    )
    if where.pledge_id is not None:
        query = query.where(pledges.id == where.pledge_id)
    if where.donor:
        query = query.where(named(pledges.donor, where.donor))
    if where.recipient:
        query = query.where(named(pledges.recipient, where.recipient))
    query = query.where(*dated(pledges, where.since, where.until, known))
    if where.status:
        query = query.where(pledges.status == where.status.value)
    if where.currency:
        query = query.where(pledges.currency == normalize_currency(where.currency, "currency"))
    return query.order_by(pledges.announced_on.is_(None), pledges.announced_on, pledges.id)


def pledge_row(pledge: Pledge, disbursed: int) -> dict[str, Any]:
    """One pledge as a flat row; amounts in minor units with their currency."""
    return {
        "id": pledge.id,
        "donor": pledge.donor,
        "recipient": pledge.recipient,
        "purpose": pledge.purpose,
        "currency": pledge.currency,
        "pledged": pledge.amount_minor,
        "disbursed": disbursed,
        "outstanding": pledge.amount_minor - disbursed,
        "fulfilled_pct": percent(disbursed, pledge.amount_minor),
        "status": pledge.status.value,
        "announced": pledge.announced_on,
        "schedule_assumed": pledge.schedule_assumed,
        "ref": pledge.ref,
        "replaces": pledge.replaces_id,
        "voided": pledge.voided_at,
        # As another system (OCHA FTS) records the pledge: see the model.
        "original_amount": pledge.original_amount,
        "original_currency": pledge.original_currency,
        "exchange_rate": pledge.exchange_rate,
        "value_on": pledge.value_on,
        "version": pledge.version,
        "part_of": pledge.part_of_id,
        "boundary": None if pledge.boundary is None else pledge.boundary.value,
    }


def installment_rows(
    session: Session, today: date, pledge_id: int | None = None, known: Known = NOW
) -> list[dict[str, Any]]:
    """Installments with what was paid against each and what is outstanding, summed in SQL."""
    return list(iter_installment_rows(session, today, pledge_id, known))


def iter_installment_rows(
    session: Session, today: date, pledge_id: int | None = None, known: Known = NOW
) -> Iterator[dict[str, Any]]:
    """`installment_rows`, a row at a time, fetched from the database in batches.

    Installments of a voided pledge are listed only when that pledge is asked for by id.
    """
    query = installment_query(pledge_id, known)
    rows = session.execute(query.execution_options(yield_per=YIELD_PER))
    for owner, seq, due_on, amount, currency, got, ref in rows:
        left = amount - int(got)
        yield {
            "pledge_id": owner,
            "seq": seq,
            "due": due_on,
            "currency": currency,
            "amount": amount,
            "paid": int(got),
            "outstanding": left,
            "state": installment_state(left, int(got), due_on, today),
            "pledge_ref": ref,
        }


def installment_state(left: int, got: int, due_on: date, today: date) -> str:
    """An installment's state from what is outstanding and what was paid on it."""
    if left <= 0:
        return "paid"
    if due_on < today:
        return "overdue"
    if got > 0:
        return "part paid"
    return "due"


def installment_query(pledge_id: int | None = None, known: Known = NOW) -> Select[Any]:
    """The query of `iter_installment_rows`: (pledge id, seq, due date, amount, currency, paid,
    pledge ref) in the order of pledge and seq."""
    installments = known.of(Installment, name="installment")
    pledges = known.of(Pledge, include_void=pledge_id is not None, name="pledge")
    paid = paid_per_installment(pledge_id, known=known)
    got_column = func.coalesce(paid.c.paid, 0)
    query = (
        select(
            installments.pledge_id,
            installments.seq,
            installments.due_on,
            installments.amount_minor,
            pledges.currency,
            got_column,
            pledges.ref,
        )
        .join(pledges, pledges.id == installments.pledge_id)
        .outerjoin(paid, paid.c.installment_id == installments.id)
        .order_by(installments.pledge_id, installments.seq)
    )
    if pledge_id is not None:
        query = query.where(installments.pledge_id == pledge_id)
    return query


def disbursement_rows(
    session: Session, pledge_id: int | None = None, known: Known = NOW
) -> list[dict[str, Any]]:
    """Disbursements with the installment each was paid against."""
    return list(iter_disbursement_rows(session, pledge_id, known))


def iter_disbursement_rows(
    session: Session, pledge_id: int | None = None, known: Known = NOW
) -> Iterator[dict[str, Any]]:
    """`disbursement_rows`, a row at a time, fetched from the database in batches."""
    query = disbursement_query(pledge_id, known)
    for row_id, owner, seq, paid_on, currency, amount, rank, ref in session.execute(
        query.execution_options(yield_per=YIELD_PER)
    ):
        yield {
            "id": row_id,
            "pledge_id": owner,
            "installment": seq,
            "paid_on": paid_on,
            "currency": currency,
            "amount": amount,
            "confidence": standing_label(rank),
            "pledge_ref": ref,
        }


def disbursement_query(pledge_id: int | None = None, known: Known = NOW) -> Select[Any]:
    """The query of `iter_disbursement_rows`: (id, pledge id, installment seq, paid on,
    currency, amount, standing's rank, pledge ref) in the order paid."""
    paid = known.of(Disbursement, name="disbursement")
    installments = known.of(Installment, name="installment")
    pledges = known.of(Pledge, include_void=pledge_id is not None, name="pledge")
    standing = known.standing(Disbursement)
    query = (
        select(
            paid.id,
            paid.pledge_id,
            installments.seq,
            paid.paid_on,
            pledges.currency,
            paid.amount_minor,
            standing.c.rank,
            pledges.ref,
        )
        .join(installments, installments.id == paid.installment_id)
        .join(pledges, pledges.id == paid.pledge_id)
        .outerjoin(standing, standing.c.record_id == paid.id)
        .order_by(paid.paid_on, paid.id)
    )
    if pledge_id is not None:
        query = query.where(paid.pledge_id == pledge_id)
    return query

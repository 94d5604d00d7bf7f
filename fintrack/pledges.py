"""Aid pledges: record a pledge and its installments, list and show them, record payments."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased, selectinload

from fintrack.dates import schedule
from fintrack.errors import InputError, NotFound, Refused
from fintrack.models import Disbursement, Installment, Pledge
from fintrack.money import (
    MAX_MINOR,
    format_amount,
    normalize_currency,
    parse_amount,
    percent,
    split_evenly,
)
from fintrack.text import clean, required
from fintrack.vocab import Period, PledgeStatus


@dataclass
class PledgeInput:
    """A pledge as the user gives it; validated by `add_pledge`."""

    donor: str
    recipient: str
    currency: str
    amount: str | None = None
    each: str | None = None
    installments: int | None = None
    every: Period | None = None
    first_due: date | None = None
    announced_on: date | None = None
    status: PledgeStatus = PledgeStatus.PLEDGE
    purpose: str | None = None
    source: str | None = None
    ref: str | None = None
    # The id of an earlier pledge this one replaces (a commitment firming up a pledge).
    replaces: int | None = None
    # None: assumed exactly when no --first-due was given and dates come from --on.
    schedule_assumed: bool | None = None


def _amounts(data: PledgeInput, currency: str, count: int) -> list[int]:
    """The installment amounts in minor units, adding up exactly to the total."""
    if data.amount is None and data.each is None:
        raise InputError("--amount", "give --amount TOTAL or --each AMOUNT with --installments N")
    total = parse_amount(data.amount, currency, "--amount") if data.amount is not None else None
    if data.each is not None:
        each = parse_amount(data.each, currency, "--each")
        if each * count > MAX_MINOR:
            raise InputError("--each", f"'{data.each}' times {count} is too large")
        if total is not None and total != each * count:
            raise InputError(
                "--amount",
                f"{format_amount(total, currency)} is not --each "
                f"{format_amount(each, currency)} times {count} installments "
                f"({format_amount(each * count, currency)})",
            )
        return [each] * count
    assert total is not None
    if total < count:
        raise InputError(
            "--installments",
            f"{count} installments of {format_amount(total, currency)} {currency} "
            "would be smaller than the currency's minor unit",
        )
    return split_evenly(total, count)


def add_pledge(session: Session, data: PledgeInput) -> Pledge:
    """Validate and store one pledge with its schedule of installments."""
    donor = required(data.donor, "--donor")
    recipient = required(data.recipient, "--recipient")
    currency = normalize_currency(data.currency, "--currency")
    count = 1 if data.installments is None else data.installments
    if count < 1:
        raise InputError("--installments", f"'{count}' must be at least 1")
    if count > 1 and data.every is None:
        raise InputError(
            "--every", f"is required with --installments {count}; use week, month, quarter or year"
        )
    parts = _amounts(data, currency, count)
    first_due = data.first_due or data.announced_on
    if first_due is None:
        raise InputError("--first-due", "give the first due date, or --on DATE for the pledge date")
    dates = schedule(first_due, count, data.every or Period.MONTH)
    assumed = data.first_due is None if data.schedule_assumed is None else data.schedule_assumed
    ref = clean(data.ref)
    if ref is not None and session.scalar(select(Pledge.id).where(Pledge.ref == ref)):
        raise InputError("--ref", f"'{ref}' is already used by another pledge")

    replaced = _replaceable(session, data.replaces) if data.replaces is not None else None

    pledge = Pledge(
        ref=ref,
        replaces=replaced,
        donor=donor,
        recipient=recipient,
        purpose=clean(data.purpose),
        currency=currency,
        amount_minor=sum(parts),
        status=data.status.value,
        announced_on=data.announced_on,
        schedule_assumed=assumed,
        source=clean(data.source),
        installments=[
            Installment(seq=i + 1, due_on=due, amount_minor=amount)
            for i, (due, amount) in enumerate(zip(dates, parts, strict=True))
        ],
    )
    session.add(pledge)
    session.flush()
    return pledge


def _replaceable(session: Session, pledge_id: int) -> Pledge:
    """The pledge a new one replaces: it must exist, be replaced only once and have no payments."""
    old = session.get(Pledge, pledge_id)
    if old is None:
        raise NotFound("pledge", pledge_id)
    newer = session.scalar(select(Pledge.id).where(Pledge.replaces_id == pledge_id))
    if newer is not None:
        raise Refused(f"pledge {pledge_id} is already replaced by pledge {newer}")
    if session.scalar(select(func.count(Disbursement.id)).where(Disbursement.pledge_id == old.id)):
        raise Refused(
            f"pledge {pledge_id} has payments recorded against it; a pledge that replaces it "
            "would count them twice or lose them, so record the change on pledge "
            f"{pledge_id} itself"
        )
    return old


def counted() -> ColumnElement[bool]:
    """True for pledges that count in totals: those no later pledge or commitment replaces."""
    newer = aliased(Pledge)
    return ~exists().where(newer.replaces_id == Pledge.id)


def pledge_summary(session: Session, pledge_id: int) -> dict[str, Any]:
    """One pledge as `list_pledges` shows it, with its totals and next due date."""
    rows = list_pledges(session, PledgeFilter(pledge_id=pledge_id))
    if not rows:
        raise NotFound("pledge", pledge_id)
    return rows[0]


def get_pledge(session: Session, pledge_id: int, lock: bool = False) -> Pledge:
    """The pledge with its installments; `lock` holds its row until the transaction ends."""
    pledge = session.get(
        Pledge,
        pledge_id,
        options=[selectinload(Pledge.installments)],
        with_for_update=lock,
    )
    if pledge is None:
        raise NotFound("pledge", pledge_id)
    return pledge


def paid_by_installment(session: Session, pledge_id: int) -> dict[int, int]:
    """Minor units paid against each installment of a pledge, summed in SQL."""
    paid = paid_per_installment(pledge_id)
    rows = session.execute(select(paid.c.installment_id, paid.c.paid))
    return {installment_id: int(amount) for installment_id, amount in rows}


def pay(
    session: Session,
    pledge_id: int,
    amount: str,
    paid_on: date,
    installment_seq: int | None = None,
    force: bool = False,
    source: str | None = None,
) -> list[Disbursement]:
    """Record a disbursement against a pledge; returns the disbursement rows written.

    The money goes to the named installment, or to the earliest one not yet paid in full; what
    exceeds that installment's outstanding amount spills over to the next unpaid ones, each part
    stored as its own disbursement row. A payment beyond the pledge's outstanding total is
    refused unless `force` is set.
    """
    pledge = get_pledge(session, pledge_id, lock=True)
    newer = session.scalar(select(Pledge.id).where(Pledge.replaces_id == pledge.id))
    if newer is not None:
        raise Refused(
            f"pledge {pledge.id} was replaced by pledge {newer}; record payments against {newer}"
        )
    minor = parse_amount(amount, pledge.currency, "AMOUNT")
    paid = paid_by_installment(session, pledge.id)
    outstanding = pledge.amount_minor - sum(paid.values())
    money = pledge.currency
    if minor > outstanding and not force:
        raise Refused(
            f"a payment of {money} {format_amount(minor, money)} exceeds the "
            f"{money} {format_amount(max(outstanding, 0), money)} outstanding on pledge "
            f"{pledge.id} (total {format_amount(pledge.amount_minor, money)}); "
            "use --force to record it anyway"
        )

    def room(installment: Installment) -> int:
        return installment.amount_minor - paid.get(installment.id, 0)

    installments = list(pledge.installments)
    if installment_seq is not None:
        named = next((i for i in installments if i.seq == installment_seq), None)
        if named is None:
            raise InputError(
                "--installment",
                f"'{installment_seq}' is not an installment of pledge {pledge.id} "
                f"(it has 1 to {len(installments)})",
            )
        if room(named) <= 0 and not force:
            raise Refused(
                f"installment {named.seq} of pledge {pledge.id} is already paid in full; "
                "name another with --installment or use --force"
            )
        later = [i for i in installments if i.seq > named.seq]
        earlier = [i for i in installments if i.seq < named.seq]
        order = [named, *later, *earlier]
    else:
        order = installments

    shares: dict[int, int] = {}  # installment seq -> minor units, in the order filled
    remaining = minor
    for installment in order:
        take = min(room(installment), remaining)
        if take > 0:
            shares[installment.seq] = take
            remaining -= take
        if remaining == 0:
            break
    if remaining > 0:  # only with force: the excess stays on the named or the last installment
        target = order[0] if installment_seq is not None else installments[-1]
        shares[target.seq] = shares.get(target.seq, 0) + remaining

    by_seq = {installment.seq: installment for installment in installments}
    written = [
        Disbursement(
            pledge=pledge,
            installment=by_seq[seq],
            paid_on=paid_on,
            amount_minor=share,
            source=clean(source),
        )
        for seq, share in shares.items()
    ]
    session.add_all(written)
    if outstanding - minor <= 0:
        pledge.status = PledgeStatus.PAID.value
    session.flush()
    return written


@dataclass
class PledgeFilter:
    pledge_id: int | None = None
    donor: str | None = None
    recipient: str | None = None
    status: PledgeStatus | None = None
    currency: str | None = None


def paid_per_installment(pledge_id: int | None = None) -> Any:
    """A subquery of the minor units paid against each installment (of one pledge, if given)."""
    query = select(
        Disbursement.installment_id.label("installment_id"),
        func.sum(Disbursement.amount_minor).label("paid"),
    )
    if pledge_id is not None:
        query = query.where(Disbursement.pledge_id == pledge_id)
    return query.group_by(Disbursement.installment_id).subquery("paid")


# Rows fetched from the database at a time when a listing is streamed (an export, say).
YIELD_PER = 2_000


def list_pledges(session: Session, where: PledgeFilter) -> list[dict[str, Any]]:
    """Pledges with what was disbursed and what is outstanding, aggregated in SQL."""
    return list(iter_pledges(session, where))


def iter_pledges(session: Session, where: PledgeFilter) -> Iterator[dict[str, Any]]:
    """`list_pledges`, a row at a time, fetched from the database in batches."""
    paid = paid_per_installment()
    per_pledge = (
        select(
            Installment.pledge_id.label("pledge_id"),
            func.count(Installment.id).label("installments"),
            func.coalesce(func.sum(paid.c.paid), 0).label("disbursed"),
            func.min(Installment.due_on)
            .filter(Installment.amount_minor > func.coalesce(paid.c.paid, 0))
            .label("next_due"),
        )
        .outerjoin(paid, paid.c.installment_id == Installment.id)
        .group_by(Installment.pledge_id)
        .subquery("per_pledge")
    )
    newer = aliased(Pledge)
    query = (
        select(
            Pledge,
            per_pledge.c.installments,
            per_pledge.c.disbursed,
            per_pledge.c.next_due,
            newer.id,
        )
        .join(per_pledge, per_pledge.c.pledge_id == Pledge.id)
        .outerjoin(newer, newer.replaces_id == Pledge.id)
    )
    if where.pledge_id is not None:
        query = query.where(Pledge.id == where.pledge_id)
    if where.donor:
        query = query.where(func.lower(Pledge.donor) == where.donor.strip().lower())
    if where.recipient:
        query = query.where(func.lower(Pledge.recipient) == where.recipient.strip().lower())
    if where.status:
        query = query.where(Pledge.status == where.status.value)
    if where.currency:
        query = query.where(Pledge.currency == normalize_currency(where.currency, "--currency"))
    query = query.order_by(Pledge.announced_on.is_(None), Pledge.announced_on, Pledge.id)
    rows = session.execute(query.execution_options(yield_per=YIELD_PER))
    for pledge, count, disbursed, next_due, replaced_by in rows:
        row = pledge_row(pledge, int(disbursed))
        row["installments"] = int(count)
        row["next_due"] = next_due
        row["replaced_by"] = replaced_by
        yield row


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
        "status": pledge.status,
        "announced": pledge.announced_on,
        "schedule_assumed": pledge.schedule_assumed,
        "source": pledge.source,
        "ref": pledge.ref,
        "replaces": pledge.replaces_id,
    }


def installment_rows(
    session: Session, today: date, pledge_id: int | None = None
) -> list[dict[str, Any]]:
    """Installments with what was paid against each and what is outstanding, summed in SQL."""
    return list(iter_installment_rows(session, today, pledge_id))


def iter_installment_rows(
    session: Session, today: date, pledge_id: int | None = None
) -> Iterator[dict[str, Any]]:
    """`installment_rows`, a row at a time, fetched from the database in batches."""
    paid = paid_per_installment()
    got_column = func.coalesce(paid.c.paid, 0)
    query = (
        select(
            Installment.pledge_id,
            Installment.seq,
            Installment.due_on,
            Installment.amount_minor,
            Pledge.currency,
            got_column,
            Pledge.ref,
        )
        .join(Pledge, Pledge.id == Installment.pledge_id)
        .outerjoin(paid, paid.c.installment_id == Installment.id)
        .order_by(Installment.pledge_id, Installment.seq)
    )
    if pledge_id is not None:
        query = query.where(Installment.pledge_id == pledge_id)
    rows = session.execute(query.execution_options(yield_per=YIELD_PER))
    for owner, seq, due_on, amount, currency, got, ref in rows:
        left = amount - int(got)
        if left <= 0:
            state = "paid"
        elif due_on < today:
            state = "overdue"
        elif got > 0:
            state = "part paid"
        else:
            state = "due"
        yield {
            "pledge_id": owner,
            "seq": seq,
            "due": due_on,
            "currency": currency,
            "amount": amount,
            "paid": int(got),
            "outstanding": left,
            "state": state,
            "pledge_ref": ref,
        }


def disbursement_rows(session: Session, pledge_id: int | None = None) -> list[dict[str, Any]]:
    """Disbursements with the installment each was paid against."""
    return list(iter_disbursement_rows(session, pledge_id))


def iter_disbursement_rows(
    session: Session, pledge_id: int | None = None
) -> Iterator[dict[str, Any]]:
    """`disbursement_rows`, a row at a time, fetched from the database in batches."""
    query = (
        select(
            Disbursement.id,
            Disbursement.pledge_id,
            Installment.seq,
            Disbursement.paid_on,
            Pledge.currency,
            Disbursement.amount_minor,
            Disbursement.source,
            Pledge.ref,
        )
        .join(Installment, Installment.id == Disbursement.installment_id)
        .join(Pledge, Pledge.id == Disbursement.pledge_id)
        .order_by(Disbursement.paid_on, Disbursement.id)
    )
    if pledge_id is not None:
        query = query.where(Disbursement.pledge_id == pledge_id)
    for row_id, owner, seq, paid_on, currency, amount, source, ref in session.execute(
        query.execution_options(yield_per=YIELD_PER)
    ):
        yield {
            "id": row_id,
            "pledge_id": owner,
            "installment": seq,
            "paid_on": paid_on,
            "currency": currency,
            "amount": amount,
            "source": source,
            "pledge_ref": ref,
        }

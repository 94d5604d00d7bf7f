"""Payments: disbursements against a pledge's installments, earliest unpaid first."""

from collections.abc import Sequence
from datetime import date

from sqlalchemy.orm import Session

from fintrack.errors import InputError, Refused
from fintrack.history import refuse_void
from fintrack.models import Disbursement, Installment
from fintrack.money import (
    Money,
    format_amount,
    minor_of,
)
from fintrack.pledges.listing import paid_by_installment
from fintrack.pledges.records import get_pledge, replaced_by
from fintrack.sources import cite
from fintrack.vocab import Confidence, PledgeStatus


def pay(
    session: Session,
    pledge_id: int,
    amount: str | Money,
    paid_on: date,
    installment_seq: int | None = None,
    force: bool = False,
    sources: Sequence[str] = (),
    confidence: Confidence = Confidence.REPORTED,
) -> list[Disbursement]:
    """Record a disbursement against a pledge; returns the disbursement rows written.

    The money goes to the named installment, or to the earliest one not yet paid in full; what
    exceeds that installment's outstanding amount spills over to the next unpaid ones, each part
    stored as its own disbursement row. A payment beyond the pledge's outstanding total is
    refused unless `force` is set.
    """
    pledge = get_pledge(session, pledge_id, lock=True)
    refuse_void(pledge, "pledge", "take payments")
    newer = replaced_by(session, pledge.id)
    if newer is not None:
        raise Refused(
            f"pledge {pledge.id} was replaced by pledge {newer}; record payments against {newer}"
        )
    minor = minor_of(amount, pledge.currency, "amount")
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
                "installment_seq",
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
        )
        for seq, share in shares.items()
    ]
    session.add_all(written)
    if outstanding - minor <= 0:
        pledge.status = PledgeStatus.PAID
    session.flush()
    for disbursement in written:
        cite(session, Disbursement, disbursement.id, sources, confidence)
    return written

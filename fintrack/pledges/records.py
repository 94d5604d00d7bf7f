"""Pledges as records: add one with its schedule of installments, edit it, find it."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fintrack.dates import check_count, schedule
from fintrack.errors import FintrackError, InputError, NotFound, Refused, mention
from fintrack.history import refuse_void
from fintrack.known import NOW
from fintrack.models import Installment, Pledge
from fintrack.money import (
    MAX_MINOR,
    Money,
    format_amount,
    minor_of,
    normalize_currency,
    split_evenly,
)
from fintrack.pledges.listing import counted, paid_by_installment
from fintrack.sources import cite
from fintrack.text import check_row, check_text, clean, required
from fintrack.vocab import Confidence, Period, PledgeStatus


@dataclass
class PledgeInput:
    """A pledge as the user gives it; validated by `add_pledge`."""

    donor: str
    recipient: str
    currency: str
    amount: str | Money | None = None
    each: str | Money | None = None
    installments: int | None = None
    every: Period | None = None
    first_due: date | None = None
    announced_on: date | None = None
    status: PledgeStatus = PledgeStatus.PLEDGE
    purpose: str | None = None
    # Source ids or URLs, linked with `confidence`.
    sources: Sequence[str] = field(default_factory=tuple)
    confidence: Confidence = Confidence.REPORTED
    ref: str | None = None
    # The id of an earlier pledge this one replaces (a commitment firming up a pledge).
    replaces: int | None = None
    # None: assumed exactly when no first_due was given and dates come from announced_on.
    schedule_assumed: bool | None = None


def _amounts(
    amount: str | Money | None, each_text: str | Money | None, currency: str, count: int
) -> list[int]:
    """The installment amounts in minor units, adding up exactly to the total."""
    if amount is None and each_text is None:
        raise InputError(
            "amount",
            f"give {mention('amount', 'TOTAL')} or {mention('each', 'AMOUNT')} with "
            f"{mention('installments', 'N')}",
        )
    total = minor_of(amount, currency, "amount") if amount is not None else None
    if each_text is not None:
        each = minor_of(each_text, currency, "each")
        if each * count > MAX_MINOR:
            raise InputError("each", f"'{each_text}' times {count} is too large")
        if total is not None and total != each * count:
            raise InputError(
                "amount",
                f"{format_amount(total, currency)} is not {mention('each')} "
                f"{format_amount(each, currency)} times {count} installments "
                f"({format_amount(each * count, currency)})",
            )
        return [each] * count
    assert total is not None
    if total < count:
        raise InputError(
            "installments",
            f"{count} installments of {format_amount(total, currency)} {currency} "
            "would be smaller than the currency's minor unit",
        )
    return split_evenly(total, count)


def add_pledge(session: Session, data: PledgeInput) -> Pledge:
    """Validate and store one pledge with its schedule of installments."""
    texts = pledge_texts(data.donor, data.recipient, data.purpose, data.ref)
    currency = normalize_currency(data.currency, "currency")
    count = check_count(1 if data.installments is None else data.installments)
    if count > 1 and data.every is None:
        raise InputError(
            "every",
            f"is required with {mention('installments')} {count}; use week, month, quarter or year",
        )
    parts = _amounts(data.amount, data.each, currency, count)
    first_due = data.first_due or data.announced_on
    if first_due is None:
        raise InputError(
            "first_due",
            f"give the first due date, or {mention('announced_on', 'DATE')} for the pledge date",
        )
    dates = schedule(first_due, count, data.every or Period.MONTH)
    assumed = data.first_due is None if data.schedule_assumed is None else data.schedule_assumed
    ref = texts["ref"]
    if ref is not None and session.scalar(select(Pledge.id).where(Pledge.ref == ref)):
        raise InputError("ref", f"'{ref}' is already used by another pledge")

    replaced = _replaceable(session, data.replaces) if data.replaces is not None else None

    pledge = Pledge(
        **texts,
        replaces=replaced,
        currency=currency,
        amount_minor=sum(parts),
        status=data.status,
        announced_on=data.announced_on,
        schedule_assumed=assumed,
        installments=[
            Installment(seq=i + 1, due_on=due, amount_minor=amount)
            for i, (due, amount) in enumerate(zip(dates, parts, strict=True))
        ],
    )
    session.add(pledge)
    session.flush()
    cite(session, Pledge, pledge.id, data.sources, data.confidence)
    return pledge


def pledge_texts(
    donor: str | None, recipient: str | None, purpose: str | None = None, ref: str | None = None
) -> dict[str, str | None]:
    """The text of a pledge, cleaned and checked against its columns (`check_row`): the one
    rule for `pledge add`, `pledge edit` and `import pledges`."""
    texts = {
        "donor": required(donor, "donor"),
        "recipient": required(recipient, "recipient"),
        "purpose": clean(purpose),
        "ref": clean(ref),
    }
    check_row(Pledge, texts)
    return texts


def duplicate_of(session: Session, data: PledgeInput) -> int | None:
    """The id of a pledge that counts in totals and has the donor, recipient, currency, total
    and announced date of `data` (names compared regardless of case): the same announcement
    entered twice. The pledge `data` replaces is not one.

    Called before `add_pledge`, so that nothing is written (not even an id drawn from a
    sequence) for a pledge refused as a duplicate; a pledge that does not validate (nor
    may replace the pledge it names) is no duplicate, and `add_pledge` says what is wrong.
    """
    try:
        donor = required(data.donor, "donor")
        recipient = required(data.recipient, "recipient")
        currency = normalize_currency(data.currency, "currency")
        count = check_count(1 if data.installments is None else data.installments)
        total = sum(_amounts(data.amount, data.each, currency, count))
        if data.replaces is not None:
            _replaceable(session, data.replaces)
    except FintrackError:
        return None
    other = NOW.of(Pledge, name="other")
    query = select(func.min(other.id)).where(
        func.lower(other.donor) == func.lower(donor),
        func.lower(other.recipient) == func.lower(recipient),
        other.currency == currency,
        other.amount_minor == total,
        other.announced_on.is_(None)
        if data.announced_on is None
        else other.announced_on == data.announced_on,
        counted(other),
    )
    if data.replaces is not None:
        query = query.where(other.id != data.replaces)
    return session.scalar(query)


def _replaceable(session: Session, pledge_id: int) -> Pledge:
    """The pledge a new one replaces: it must exist, be replaced only once and have no payments."""
    old = session.get(Pledge, pledge_id, with_for_update=True)
    if old is None:
        raise NotFound("pledge", pledge_id)
    refuse_void(old, "pledge", "be replaced")
    newer = replaced_by(session, pledge_id)
    if newer is not None:
        raise Refused(f"pledge {pledge_id} is already replaced by pledge {newer}")
    if paid_by_installment(session, old.id):
        raise Refused(
            f"pledge {pledge_id} has payments recorded against it; a pledge that replaces it "
            "would count them twice or lose them, so record the change on pledge "
            f"{pledge_id} itself"
        )
    return old


@dataclass
class PledgeEdit:
    """What `pledge edit` changes; None leaves a field as it is, "" clears optional text."""

    donor: str | None = None
    recipient: str | None = None
    purpose: str | None = None
    currency: str | None = None
    amount: str | Money | None = None
    each: str | Money | None = None
    installments: int | None = None
    every: Period | None = None
    first_due: date | None = None
    announced_on: date | None = None
    status: PledgeStatus | None = None
    schedule_assumed: bool | None = None
    ref: str | None = None
    sources: Sequence[str] = field(default_factory=tuple)
    confidence: Confidence = Confidence.REPORTED

    def reschedules(self) -> bool:
        return any(
            value is not None
            for value in (
                self.currency,
                self.amount,
                self.each,
                self.installments,
                self.every,
                self.first_due,
            )
        )


def period_of(dates: Sequence[date]) -> Period | None:
    """The interval a schedule of two or more due dates steps by, if it is a regular one."""
    if len(dates) < 2:
        return None
    for period in Period:
        try:
            if schedule(dates[0], len(dates), period) == list(dates):
                return period
        except InputError:  # stepping by this period runs past the calendar: not it
            continue
    return None


def edit_pledge(session: Session, pledge_id: int, edit: PledgeEdit) -> Pledge:
    """Change a pledge's fields or schedule in place; the history keeps what it was before.

    A new schedule keeps installments by number: what was paid against installment 2 stays
    on installment 2, which must remain and be at least what was paid on it.
    """
    pledge = get_pledge(session, pledge_id, lock=True)
    refuse_void(pledge, "pledge", "be edited")
    # Only what changes is checked: a field stored by an older fintrack does not block an edit.
    if edit.donor is not None:
        pledge.donor = check_text(required(edit.donor, "donor"), Pledge.donor, "donor")
    if edit.recipient is not None:
        recipient = required(edit.recipient, "recipient")
        pledge.recipient = check_text(recipient, Pledge.recipient, "recipient")
    if edit.purpose is not None:
        check_row(Pledge, {"purpose": clean(edit.purpose)})
        pledge.purpose = clean(edit.purpose)
    if edit.ref is not None:
        ref = clean(edit.ref)
        check_row(Pledge, {"ref": ref})
        if ref is not None and session.scalar(
            select(Pledge.id).where(Pledge.ref == ref, Pledge.id != pledge.id)
        ):
            raise InputError("ref", f"'{ref}' is already used by another pledge")
        pledge.ref = ref
    if edit.announced_on is not None:
        pledge.announced_on = edit.announced_on
    if edit.status is not None:
        pledge.status = edit.status
    if edit.reschedules():
        _reschedule(session, pledge, edit)
    if edit.schedule_assumed is not None:
        pledge.schedule_assumed = edit.schedule_assumed
    cite(session, Pledge, pledge.id, edit.sources, edit.confidence)
    return pledge


def _reschedule(session: Session, pledge: Pledge, edit: PledgeEdit) -> None:
    old = list(pledge.installments)
    paid = paid_by_installment(session, pledge.id)
    currency = pledge.currency
    if edit.currency is not None:
        currency = normalize_currency(edit.currency, "currency")
        if currency != pledge.currency:
            if paid:
                raise Refused(
                    f"pledge {pledge.id} has payments in {pledge.currency}; its currency "
                    "cannot change (void the payments first, or record a new pledge)"
                )
            if edit.amount is None and edit.each is None:
                raise InputError(
                    "currency",
                    "give the amount in the new currency too: "
                    f"{mention('amount')} or {mention('each')}",
                )
    count = check_count(len(old) if edit.installments is None else edit.installments)
    new_amounts = edit.amount is not None or edit.each is not None
    if not new_amounts and count != len(old):
        raise InputError(
            "installments",
            f"changes the number of installments from {len(old)} to {count}: give "
            f"{mention('amount', 'TOTAL')} or {mention('each', 'AMOUNT')} too",
        )
    # The dates first: a schedule past 9999-12-31 is refused before its amounts are laid out.
    dates = [installment.due_on for installment in old]
    if edit.first_due is not None or edit.every is not None or count != len(old):
        every = edit.every or period_of(dates)
        if every is None and count > 1:
            raise InputError(
                "every", f"is required to lay out {count} installments: week, month, ..."
            )
        dates = schedule(edit.first_due or dates[0], count, every or Period.MONTH)
    if new_amounts:
        parts = _amounts(edit.amount, edit.each, currency, count)
    else:
        parts = [installment.amount_minor for installment in old]
    by_id = {installment.id: installment for installment in old}
    for installment_id, amount in paid.items():
        installment = by_id[installment_id]
        if installment.seq > count or parts[installment.seq - 1] < amount:
            money = pledge.currency
            raise Refused(
                f"installment {installment.seq} of pledge {pledge.id} has "
                f"{money} {format_amount(amount, money)} paid against it; the new schedule "
                "must keep it and keep it at least that large"
            )
    for seq, (due, amount) in enumerate(zip(dates, parts, strict=True), start=1):
        if seq <= len(old):
            installment = old[seq - 1]
            if installment.due_on != due:
                installment.due_on = due
            if installment.amount_minor != amount:
                installment.amount_minor = amount
        else:
            pledge.installments.append(Installment(seq=seq, due_on=due, amount_minor=amount))
    for extra in old[count:]:
        # Only voided payments can still point at a removed installment (live ones were
        # refused above). They stay on record, moved to the last kept installment, and
        # their history keeps the installment they were paid against.
        for voided in list(extra.disbursements):
            voided.installment = old[count - 1]
        pledge.installments.remove(extra)
        session.delete(extra)
    pledge.currency = currency
    pledge.amount_minor = sum(parts)
    if edit.first_due is not None and edit.schedule_assumed is None:
        pledge.schedule_assumed = False
    if sum(paid.values()) >= pledge.amount_minor:
        pledge.status = PledgeStatus.PAID


def replaced_by(session: Session, pledge_id: int) -> int | None:
    """The pledge (not voided) that replaces this one, if any."""
    newer = NOW.of(Pledge)
    return session.scalar(select(newer.id).where(newer.replaces_id == pledge_id))


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

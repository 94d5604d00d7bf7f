"""Aid pledges: record a pledge and its installments, list and show them, record payments."""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, selectinload

from fintrack.dates import check_count, schedule
from fintrack.errors import FintrackError, InputError, NotFound, Refused, mention
from fintrack.history import refuse_void
from fintrack.known import NOW, Known, standing_label
from fintrack.models import Disbursement, Installment, Pledge
from fintrack.money import (
    MAX_MINOR,
    Money,
    format_amount,
    minor_of,
    normalize_currency,
    percent,
    split_evenly,
)
from fintrack.sources import cite
from fintrack.store import YIELD_PER
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
        status=data.status.value,
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
    newer = _replaced_by(session, pledge_id)
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
        pledge.status = edit.status.value
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
        pledge.status = PledgeStatus.PAID.value


def _replaced_by(session: Session, pledge_id: int) -> int | None:
    """The pledge (not voided) that replaces this one, if any."""
    newer = NOW.of(Pledge)
    return session.scalar(select(newer.id).where(newer.replaces_id == pledge_id))


def counted(pledge: Any = Pledge, known: Known = NOW) -> ColumnElement[bool]:
    """True for pledges that count in totals: those no later pledge or commitment replaces
    (a replacement that is voided, or not sure enough to count, does not)."""
    newer = known.of(Pledge, name="newer")
    return ~exists().where(newer.replaces_id == pledge.id)


def pledge_summary(session: Session, pledge_id: int, known: Known = NOW) -> dict[str, Any]:
    """One pledge as `list_pledges` shows it, with its totals and next due date; voided
    pledges too, marked as such."""
    rows = list_pledges(session, PledgeFilter(pledge_id=pledge_id), known, include_void=True)
    if not rows:
        raise known.missing(session, Pledge, "pledge", pledge_id)
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
    """Minor units paid against each installment of a pledge (voided payments aside)."""
    paid = paid_per_installment(pledge_id)
    rows = session.execute(select(paid.c.installment_id, paid.c.paid))
    return {installment_id: int(amount) for installment_id, amount in rows}


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
    newer = _replaced_by(session, pledge.id)
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
        pledge.status = PledgeStatus.PAID.value
    session.flush()
    for disbursement in written:
        cite(session, Disbursement, disbursement.id, sources, confidence)
    return written


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
    pledges = known.of(Pledge, include_void=include_void, name="pledge")
    installments = known.of(Installment, name="installment")
    paid = paid_per_installment(known=known)
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
        .group_by(installments.pledge_id)
        .subquery("per_pledge")
    )
    newer = known.of(Pledge, name="newer")
    standing = known.standing(Pledge)
    query = (
        select(
            pledges,
            per_pledge.c.installments,
            per_pledge.c.disbursed,
            per_pledge.c.next_due,
            newer.id,
            standing.c.rank,
        )
        .join(per_pledge, per_pledge.c.pledge_id == pledges.id)
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
    query = query.order_by(pledges.announced_on.is_(None), pledges.announced_on, pledges.id)
    options = {"yield_per": YIELD_PER, "populate_existing": True}
    rows = session.execute(query.execution_options(**options))
    for pledge, count, disbursed, next_due, replaced_by, rank in rows:
        row = pledge_row(pledge, int(disbursed))
        row["installments"] = int(count)
        row["next_due"] = next_due
        row["replaced_by"] = replaced_by
        row["confidence"] = standing_label(rank)
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
        "ref": pledge.ref,
        "replaces": pledge.replaces_id,
        "voided": pledge.voided_at,
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
    installments = known.of(Installment, name="installment")
    pledges = known.of(Pledge, include_void=pledge_id is not None, name="pledge")
    paid = paid_per_installment(known=known)
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


def disbursement_rows(
    session: Session, pledge_id: int | None = None, known: Known = NOW
) -> list[dict[str, Any]]:
    """Disbursements with the installment each was paid against."""
    return list(iter_disbursement_rows(session, pledge_id, known))


def iter_disbursement_rows(
    session: Session, pledge_id: int | None = None, known: Known = NOW
) -> Iterator[dict[str, Any]]:
    """`disbursement_rows`, a row at a time, fetched from the database in batches."""
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

"""What falls due: installments with money outstanding (and overdue), sanction deadlines and
expiries in a window, and earlier sanction dates that lapsed with no later action."""

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from fintrack.dates import shift
from fintrack.errors import InputError
from fintrack.known import NOW, Known, standing_label
from fintrack.models import Disbursement, Installment, Pledge, SanctionAction
from fintrack.pledges import counted, named
from fintrack.rates import RateBook, to_minor
from fintrack.reports.totals import (
    Tables,
)
from fintrack.vocab import MAX_RATE_AGE_DAYS, SanctionStatus

# Items due within this many days are flagged as near.
NEAR_DAYS = 14


def _state(days: int) -> str:
    if days < 0:
        return "overdue"
    if days == 0:
        return "today"
    return "soon" if days <= NEAR_DAYS else "upcoming"


# The state of a sanction deadline or expiry that passed with no later action recorded.
LAPSED = "lapsed"


class DeadlineKind(StrEnum):
    INSTALLMENT = "installment"
    DEADLINE = "deadline"  # a sanction action's --deadline
    EXPIRY = "expiry"  # a sanction action's --expires


SANCTION_KINDS = (DeadlineKind.DEADLINE, DeadlineKind.EXPIRY)


@dataclass
class DeadlineFilter:
    """Which deadlines to list. `donor` and `recipient` select installments (of pledges
    between them), `authority` sanction dates; with filters of one side only, the other
    side's items are left out, with both each side is filtered by its own."""

    donor: str | None = None
    recipient: str | None = None
    authority: str | None = None
    kinds: frozenset[DeadlineKind] | None = None  # None: every kind
    # Only what already passed: overdue installments and lapsed sanction dates.
    overdue: bool = False

    def wants(self, kind: DeadlineKind) -> bool:
        money = bool(self.donor or self.recipient)
        sanctions = bool(self.authority)
        if money != sanctions and (kind is DeadlineKind.INSTALLMENT) != money:
            return False
        return self.kinds is None or kind in self.kinds


def deadlines(
    session: Session,
    as_of: date,
    within: int,
    book: RateBook | None = None,
    known: Known = NOW,
    where: DeadlineFilter | None = None,
) -> list[dict[str, Any]]:
    """Everything due from `as_of` to `within` days later, installments overdue before it and
    sanction dates that lapsed before it, filtered in SQL by `where`.

    Installments show the amount still outstanding on them; sanction actions contribute their
    deadlines (renewal, review, a target date) and their expiries, unless revoked. A sanction
    date before `as_of` is listed as lapsed until a later action is recorded (see `_acted_on`).
    With a rate book, each outstanding amount is also converted at the rate of its due date,
    or of `as_of` for one not yet due (no rate of a future day exists).
    """
    where = where or DeadlineFilter()
    rows: list[dict[str, Any]] = []
    if where.wants(DeadlineKind.INSTALLMENT):
        rows.extend(_installment_dates(session, as_of, within, known, where))
    rows.extend(_sanction_dates(session, as_of, within, known, where))
    rows.sort(key=lambda row: (row["date"], row["kind"], row["record_id"]))
    if book is not None:
        for row in rows:
            # Only an amount is converted: a sanction date has no target currency, as its
            # typed row (`fintrack.DeadlineRow`, which has none but the converted amount's) says.
            if row["currency"] is not None:
                conversion = book.convert(row["currency"], min(row["date"], as_of))
                row.update(
                    target=book.target,
                    rate=conversion.shown_rate,
                    rate_on=conversion.rate_on,
                    route=conversion.route,
                    converted=to_minor(conversion.exact(row["amount"])),
                )
    return rows


def _installment_dates(
    session: Session, as_of: date, within: int, known: Known, where: DeadlineFilter
) -> list[dict[str, Any]]:
    """Installments with money outstanding due by the end of the window (overdue included).

    The installments are found through the index on their due date, and what was paid and
    how many installments the pledge has are counted for those alone, not for every one.
    """
    end = shift(as_of, within)
    t = Tables(known)
    installment, pledge_entity = t.installment, t.pledge
    due = installment.due_on < as_of if where.overdue else installment.due_on <= end
    window = (
        select(
            installment.id,
            installment.pledge_id,
            installment.seq,
            installment.due_on,
            installment.amount_minor,
        )
        .where(due)
        .cte("window")
    )
    payment = known.of(Disbursement, name="payment")
    paid = (
        select(payment.installment_id, func.sum(payment.amount_minor).label("paid"))
        .where(payment.installment_id.in_(select(window.c.id)))
        .group_by(payment.installment_id)
        .subquery("paid")
    )
    sizes = known.of(Installment, name="sizes")
    count = (
        select(sizes.pledge_id, func.count(sizes.id).label("of"))
        .where(sizes.pledge_id.in_(select(window.c.pledge_id)))
        .group_by(sizes.pledge_id)
        .subquery("counts")
    )
    outstanding = window.c.amount_minor - func.coalesce(paid.c.paid, 0)
    standing = known.standing(Pledge)
    installments = (
        select(
            window.c.due_on,
            window.c.seq,
            count.c.of,
            outstanding.label("left"),
            pledge_entity.id,
            pledge_entity.donor,
            pledge_entity.recipient,
            pledge_entity.currency,
            pledge_entity.schedule_assumed,
            standing.c.rank,
        )
        .select_from(window)
        .join(pledge_entity, pledge_entity.id == window.c.pledge_id)
        .join(count, count.c.pledge_id == window.c.pledge_id)
        .outerjoin(paid, paid.c.installment_id == window.c.id)
        .outerjoin(standing, standing.c.record_id == pledge_entity.id)
        .where(outstanding > 0, counted(pledge_entity, known))
        # A flow recorded from another system (it has the source's version: OCHA FTS) with
        # a schedule fintrack assumed has no due date of its own: an FTS commitment is not
        # overdue on the day it was made, so it is left out rather than listed as overdue.
        .where(or_(pledge_entity.version.is_(None), pledge_entity.schedule_assumed.is_(False)))
        # Installments of one pledge due on one day stay in the order of their numbers.
        .order_by(window.c.due_on, window.c.pledge_id, window.c.seq)
    )
    if where.donor:
        installments = installments.where(named(pledge_entity.donor, where.donor))
    if where.recipient:
        installments = installments.where(named(pledge_entity.recipient, where.recipient))
    rows: list[dict[str, Any]] = []
    labels: dict[int | None, str] = {}  # each rank's standing, found once
    # Columns, not Pledge objects: a window may hold many thousands of installments; each row
    # is `_deadline`'s, built here without a call per row.
    for (
        due_on,
        seq,
        of,
        left,
        pledge_id,
        donor,
        recipient,
        currency,
        assumed,
        rank,
    ) in session.connection().execute(installments).all():  # Core, fetched at once
        label = labels.get(rank)
        if label is None:
            label = labels[rank] = standing_label(rank)
        days = (due_on - as_of).days
        rows.append(
            {
                "date": due_on,
                "days_left": days,
                "state": _state(days),
                "kind": "installment",
                "subject": f"{donor} → {recipient}",
                "detail": f"installment {seq} of {of} (date assumed)"
                if assumed
                else f"installment {seq} of {of}",
                "currency": currency,
                "amount": int(left),
                "record": "pledge",
                "record_id": pledge_id,
                "confidence": label,
            }
        )
    return rows


def _acted_on(action: Any, day: Any, known: Known) -> ColumnElement[bool]:
    """True when a later action is recorded for a sanction date `day` of `action`.

    A later action is another action of the same authority and program (both without a
    program count as the same), not revoked, that is announced or effective on or after
    `day`, or that has a deadline or expiry after `day`: a renewal made before the date
    (as the EU renews its regimes days before they run out) pushes the date on, and so the
    earlier one no longer needs attention.
    """
    other = known.of(SanctionAction, name="later")
    same_program = or_(
        other.program == action.program,
        and_(other.program.is_(None), action.program.is_(None)),
    )
    return exists().where(
        other.id != action.id,
        other.authority == action.authority,
        same_program,
        other.status != SanctionStatus.REVOKED.value,
        or_(
            other.announced_on >= day,
            other.effective_on >= day,
            other.deadline_on > day,
            other.expires_on > day,
        ),
    )


def _sanction_dates(
    session: Session, as_of: date, within: int, known: Known, where: DeadlineFilter
) -> list[dict[str, Any]]:
    """Sanction deadlines and expiries in the window, and earlier ones that lapsed."""
    end = shift(as_of, within)
    actions = known.of(SanctionAction, name="action")
    standing = known.standing(SanctionAction)
    live = actions.status != SanctionStatus.REVOKED.value
    rows = []
    for column, kind in (
        (actions.deadline_on, DeadlineKind.DEADLINE),
        (actions.expires_on, DeadlineKind.EXPIRY),
    ):
        if not where.wants(kind):
            continue
        lapsed = and_(column < as_of, ~_acted_on(actions, column, known))
        when_ok = lapsed if where.overdue else or_(and_(column >= as_of, column <= end), lapsed)
        query = (
            select(actions, standing.c.rank)
            .outerjoin(standing, standing.c.record_id == actions.id)
            .where(live, when_ok)
        )
        if where.authority:
            query = query.where(named(actions.authority, where.authority))
        for action, rank in session.execute(query.execution_options(populate_existing=True)):
            subject = " ".join(part for part in (action.authority, action.program) if part)
            if kind is DeadlineKind.DEADLINE:
                detail = action.deadline_label or f"{action.action}: {action.target}"
                when = action.deadline_on
            else:
                detail = f"{action.action} on {action.target} expires"
                if action.legal_ref:
                    detail += f" ({action.legal_ref})"
                when = action.expires_on
            assert when is not None
            row = _deadline(rank, when, as_of, kind.value, subject, detail, "sanction", action.id)
            if when < as_of:
                row["state"] = LAPSED
            rows.append(row)
    return rows


def _deadline(
    rank: int | None,  # the best rank among the record's sources (see `Known.standing`)
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
        "confidence": standing_label(rank),
    }


# The longest window `deadlines` looks ahead: a century, far enough for any renewal cycle.
MAX_WITHIN_DAYS = 36_500


def deadlines_report(
    session: Session,
    as_of: date | None,
    within: int,
    target: str | None = None,
    max_rate_age: int = MAX_RATE_AGE_DAYS,
    known: Known = NOW,
    where: DeadlineFilter | None = None,
) -> tuple[date, list[dict[str, Any]]]:
    """The day counted from (`as_of`, else the day of the view, else today) and what falls
    due from it to `within` days later; amounts converted into `target` when given."""
    if not 0 <= within <= MAX_WITHIN_DAYS:
        raise InputError("within", f"'{within}' must be from 0 to {MAX_WITHIN_DAYS} days")
    day = as_of or known.day or date.today()
    book = RateBook(session, target, max_rate_age, known) if target is not None else None
    return day, deadlines(session, day, within, book, known, where)

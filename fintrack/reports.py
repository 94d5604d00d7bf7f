"""Reports: totals of pledged, disbursed and outstanding money, and upcoming deadlines, in SQL."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from fractions import Fraction
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, case, exists, extract, func, or_, select
from sqlalchemy.orm import Session

from fintrack.dates import shift
from fintrack.errors import InputError
from fintrack.known import NOW, Known, standing_label
from fintrack.models import Disbursement, Installment, Pledge, SanctionAction
from fintrack.money import normalize_currency, percent
from fintrack.pledges import counted, dated, named, paid_per_installment
from fintrack.rates import RateBook, to_minor
from fintrack.vocab import CONFIDENCE_RANK, MAX_RATE_AGE_DAYS, Confidence, SanctionStatus

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
    # The records as known on a day, and only those sure enough (default: now, all).
    known: Known = NOW
    # Pledges whose date (`fintrack.pledges.pledge_date`) is from `since` to `until`.
    since: date | None = None
    until: date | None = None


class _Tables:
    """The pledges, installments and payments a report reads: those `known` holds."""

    def __init__(self, known: Known) -> None:
        self.known = known
        self.pledge = known.of(Pledge, name="pledge")
        self.installment = known.of(Installment, name="installment")
        self.disbursement = known.of(Disbursement, name="disbursement")


def _group_columns(by: Grouping, t: _Tables) -> list[ColumnElement[Any]]:
    if by is Grouping.MONTH:
        return [
            extract("year", t.installment.due_on).label("year"),
            extract("month", t.installment.due_on).label("month"),
        ]
    columns = {"donor": t.pledge.donor, "recipient": t.pledge.recipient}
    return [columns[key].label(key) for key in GROUP_KEYS[by]]


def _filtered(query: Q, where: TotalsFilter, t: _Tables) -> Q:
    """The query restricted to counted pledges (not replaced) matching the filter."""
    pledge = t.pledge
    query = query.where(counted(pledge, t.known))
    if where.donor:
        query = query.where(named(pledge.donor, where.donor))
    if where.recipient:
        query = query.where(named(pledge.recipient, where.recipient))
    if where.currency:
        query = query.where(pledge.currency == normalize_currency(where.currency, "currency"))
    return query.where(*dated(pledge, where.since, where.until, t.known))


def _not_confirmed(rank: Any) -> ColumnElement[bool]:
    return func.coalesce(rank, 0) != CONFIDENCE_RANK[Confidence.CONFIRMED]


def _key_values(by: Grouping, record: Any) -> dict[str, Any]:
    row: dict[str, Any] = {key: None for key in ("donor", "recipient", "month")}
    if by is Grouping.MONTH:
        row["month"] = f"{int(record['year']):04d}-{int(record['month']):02d}"
    else:
        row.update({key: record[key] for key in GROUP_KEYS[by]})
    return row


def _sum_rows(session: Session, by: Grouping, where: TotalsFilter) -> list[dict[str, Any]]:
    t = _Tables(where.known)
    paid = paid_per_installment(known=where.known, unconfirmed=True)
    keys = _group_columns(by, t)
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
                case((_not_confirmed(standing.c.rank), installment.amount_minor), else_=0)
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
    for record in session.execute(_filtered(query, where, t)).mappings():
        row = _key_values(by, record)
        pledged, disbursed = int(record["pledged"]), int(record["disbursed"])
        row.update(
            currency=record["currency"],
            pledges=int(record["pledges"]),
            pledged=pledged,
            disbursed=disbursed,
            outstanding=pledged - disbursed,
            fulfilled_pct=percent(disbursed, pledged),
            pledged_unconfirmed=int(record["pledged_unconfirmed"]),
            disbursed_unconfirmed=int(record["disbursed_unconfirmed"]),
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


def _installment_dates(
    session: Session, as_of: date, within: int, known: Known, where: DeadlineFilter
) -> list[dict[str, Any]]:
    """Installments with money outstanding due by the end of the window (overdue included)."""
    end = shift(as_of, within)
    t = _Tables(known)
    installment, pledge_entity = t.installment, t.pledge
    paid = paid_per_installment(known=known)
    outstanding = installment.amount_minor - func.coalesce(paid.c.paid, 0)
    standing = known.standing(Pledge)
    sizes = known.of(Installment, name="sizes")
    count = (
        select(sizes.pledge_id, func.count(sizes.id).label("of"))
        .group_by(sizes.pledge_id)
        .subquery("counts")
    )
    installments = (
        select(
            installment.due_on,
            installment.seq,
            count.c.of,
            outstanding.label("left"),
            pledge_entity,
            standing.c.rank,
        )
        .join(pledge_entity, pledge_entity.id == installment.pledge_id)
        .join(count, count.c.pledge_id == pledge_entity.id)
        .outerjoin(paid, paid.c.installment_id == installment.id)
        .outerjoin(standing, standing.c.record_id == pledge_entity.id)
        .where(
            installment.due_on < as_of if where.overdue else installment.due_on <= end,
            outstanding > 0,
            counted(pledge_entity, known),
        )
    )
    if where.donor:
        installments = installments.where(named(pledge_entity.donor, where.donor))
    if where.recipient:
        installments = installments.where(named(pledge_entity.recipient, where.recipient))
    rows: list[dict[str, Any]] = []
    options = {"populate_existing": True}
    query = installments.execution_options(**options)
    for due_on, seq, of, left, pledge, rank in session.execute(query):
        detail = f"installment {seq} of {of}"
        if pledge.schedule_assumed:
            detail += " (date assumed)"
        rows.append(
            _deadline(
                rank,
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


# The three figures of a converted total, and the value date each is converted at.
PLEDGED, DISBURSED, OUTSTANDING = "pledged", "disbursed", "outstanding"
# The part of a figure that rests on sources that do not confirm it.
UNCONFIRMED = {PLEDGED: "pledged_unconfirmed", DISBURSED: "disbursed_unconfirmed"}
FIGURES = (PLEDGED, DISBURSED, OUTSTANDING, *UNCONFIRMED.values())


def _group_key(by: Grouping, record: Any) -> tuple[Any, ...]:
    """The group of a record when amounts are converted: currencies merge, except by currency."""
    values = _key_values(by, record)
    key = tuple(values[name] for name in ("donor", "recipient", "month"))
    return (*key, record["currency"]) if by is Grouping.CURRENCY else key


def _parts(session: Session, by: Grouping, where: TotalsFilter) -> list[tuple[Any, ...]]:
    """(group, figure, currency, value date, minor units, of which unconfirmed): the sums to
    convert, one per date.

    Pledged amounts are dated by the pledge's date (its first due date when it has none),
    disbursements by the day they were paid, and what is outstanding on an installment by its
    due date. The sums are taken in SQL, so only distinct dates reach Python.
    """
    t = _Tables(where.known)
    installment, pledge, disbursement = t.installment, t.pledge, t.disbursement
    keys = _group_columns(by, t)
    sizes = where.known.of(Installment, name="sizes")
    firsts = (
        select(
            sizes.pledge_id.label("pledge_id"),
            func.min(sizes.due_on).label("first_due"),
        )
        .group_by(sizes.pledge_id)
        .subquery("firsts")
    )
    pledge_date = func.coalesce(pledge.announced_on, firsts.c.first_due)
    paid = paid_per_installment(known=where.known)
    left = installment.amount_minor - func.coalesce(paid.c.paid, 0)
    pledge_standing = where.known.standing(Pledge)
    paid_standing = where.known.standing(Disbursement)
    figures: list[tuple[str, Any, Any, Any, Select[Any]]] = [
        (
            PLEDGED,
            pledge_date,
            installment.amount_minor,
            _not_confirmed(pledge_standing.c.rank),
            select(installment)
            .join(pledge, pledge.id == installment.pledge_id)
            .join(firsts, firsts.c.pledge_id == pledge.id)
            .outerjoin(pledge_standing, pledge_standing.c.record_id == pledge.id),
        ),
        (
            DISBURSED,
            disbursement.paid_on,
            disbursement.amount_minor,
            _not_confirmed(paid_standing.c.rank),
            select(disbursement)
            .join(installment, installment.id == disbursement.installment_id)
            .join(pledge, pledge.id == installment.pledge_id)
            .outerjoin(paid_standing, paid_standing.c.record_id == disbursement.id),
        ),
        (
            OUTSTANDING,
            installment.due_on,
            left,
            None,
            select(installment)
            .join(pledge, pledge.id == installment.pledge_id)
            .outerjoin(paid, paid.c.installment_id == installment.id),
        ),
    ]
    parts: list[tuple[Any, ...]] = []
    for figure, value_date, amount, unsure, joined in figures:
        unconfirmed = func.sum(case((unsure, amount), else_=0)) if unsure is not None else None
        query = joined.with_only_columns(
            *keys,
            pledge.currency.label("currency"),
            value_date.label("value_date"),
            func.sum(amount).label("minor"),
            (unconfirmed if unconfirmed is not None else func.sum(0)).label("unconfirmed"),
            maintain_column_froms=True,
        ).group_by(*keys, pledge.currency, value_date)
        for record in session.execute(_filtered(query, where, t)).mappings():
            if int(record["minor"]) != 0:
                parts.append(
                    (
                        _group_key(by, record),
                        figure,
                        record["currency"],
                        record["value_date"],
                        int(record["minor"]),
                        int(record["unconfirmed"] or 0),
                    )
                )
    return parts


def _pledge_counts(
    session: Session, by: Grouping, where: TotalsFilter
) -> tuple[dict[tuple[Any, ...], int], int]:
    """How many pledges each group and the whole report count."""
    t = _Tables(where.known)
    keys = _group_columns(by, t)
    extra = [t.pledge.currency.label("currency")] if by is Grouping.CURRENCY else []
    query = (
        select(*keys, *extra, func.count(func.distinct(t.pledge.id)).label("pledges"))
        .select_from(t.installment)
        .join(t.pledge, t.pledge.id == t.installment.pledge_id)
        .group_by(*keys, *extra)
    )
    groups = {
        _group_key(by, record): int(record["pledges"])
        for record in session.execute(_filtered(query, where, t)).mappings()
    }
    everything = select(func.count(t.pledge.id)).select_from(t.pledge)
    return groups, int(session.scalar(_filtered(everything, where, t)) or 0)


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
        lambda: dict.fromkeys(FIGURES, Fraction(0))
    )
    currencies: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    merged: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for group, figure, currency, value_date, minor, unconfirmed in _parts(session, by, where):
        sums = merged[group, figure, currency, min(value_date, rates_on)]
        sums[0] += minor
        sums[1] += unconfirmed
    working = []
    order = (PLEDGED, DISBURSED, OUTSTANDING)
    for (group, figure, currency, value_date), (minor, unconfirmed) in sorted(
        merged.items(),
        key=lambda item: (*_sort_key(item[0]), order.index(item[0][1]), *item[0][2:]),
    ):
        conversion = book.convert(currency, value_date)
        amount = conversion.exact(minor)
        exact[group][figure] += amount
        if figure in UNCONFIRMED:
            exact[group][UNCONFIRMED[figure]] += conversion.exact(unconfirmed)
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
            for figure in FIGURES
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
        **{name: to_minor(figures[name]) for name in UNCONFIRMED.values()},
        "total": False,
    }


# The longest window `deadlines` looks ahead: a century, far enough for any renewal cycle.
MAX_WITHIN_DAYS = 36_500


def totals_report(
    session: Session,
    by: Grouping,
    where: TotalsFilter,
    target: str | None = None,
    max_rate_age: int = MAX_RATE_AGE_DAYS,
    rates_on: date | None = None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The totals rows, and converted into `target` the working too: every conversion made.
    Amounts not yet due convert at the rate of `rates_on` (default: the day of the view, else
    today)."""
    if target is None:
        return totals(session, by, where), []
    book = RateBook(session, target, max_rate_age, where.known)
    today = rates_on or where.known.day or date.today()
    return converted_totals(session, by, where, book, today)


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

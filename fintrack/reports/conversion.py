"""Totals converted into one currency, each amount at the rate of its own value date, with
the working: every conversion made."""

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from fintrack.models import Disbursement, Installment, Pledge
from fintrack.money import exponent, percent
from fintrack.pledges import paid_per_installment
from fintrack.rates import RateBook, to_minor
from fintrack.reports.totals import (
    Grouping,
    Tables,
    TotalsFilter,
    filtered,
    group_columns,
    key_values,
    not_confirmed,
)

# The three figures of a converted total, and the value date each is converted at.
PLEDGED, DISBURSED, OUTSTANDING = "pledged", "disbursed", "outstanding"
# The part of a figure that rests on sources that do not confirm it.
UNCONFIRMED = {PLEDGED: "pledged_unconfirmed", DISBURSED: "disbursed_unconfirmed"}
FIGURES = (PLEDGED, DISBURSED, OUTSTANDING, *UNCONFIRMED.values())


def _group_key(by: Grouping, record: Any) -> tuple[Any, ...]:
    """The group of a record when amounts are converted: currencies merge, except by currency."""
    values = key_values(by, record)
    key = tuple(values[name] for name in ("donor", "recipient", "month"))
    return (*key, record["currency"]) if by is Grouping.CURRENCY else key


def _parts(session: Session, by: Grouping, where: TotalsFilter) -> list[tuple[Any, ...]]:
    """(group, figure, currency, value date, minor units, of which unconfirmed): the sums to
    convert, one per date.

    Pledged amounts are dated by the pledge's date (its first due date when it has none),
    disbursements by their value date (else the day they were paid), and what is outstanding
    on an installment by its due date. The sums are taken in SQL, so only distinct dates
    reach Python.
    """
    t = Tables(where.known)
    installment, pledge, disbursement = t.installment, t.pledge, t.disbursement
    keys = group_columns(by, t)
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
            not_confirmed(pledge_standing.c.rank),
            select(installment)
            .join(pledge, pledge.id == installment.pledge_id)
            .join(firsts, firsts.c.pledge_id == pledge.id)
            .outerjoin(pledge_standing, pledge_standing.c.record_id == pledge.id),
        ),
        (
            DISBURSED,
            # A payment's value date when its source gives one (IATI value-date), else its day.
            func.coalesce(disbursement.value_on, disbursement.paid_on),
            disbursement.amount_minor,
            not_confirmed(paid_standing.c.rank),
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
    width = len(keys)
    group_of = _tuple_key(by)
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
        # Tuples through Core, not mappings through the ORM: there is a row per group and date.
        for record in session.connection().execute(filtered(query, where, t)).all():
            currency, day, minor, unsure_minor = record[width:]
            minor = int(minor)
            if minor != 0:
                group = group_of(record, currency)
                parts.append((group, figure, currency, day, minor, int(unsure_minor or 0)))
    return parts


def _tuple_key(by: Grouping) -> Callable[[Any, str], tuple[Any, ...]]:
    """`_group_key` of a row given as a tuple: the group columns first, then the currency."""
    if by is Grouping.PAIR:
        return lambda record, _: (record[0], record[1], None)
    if by is Grouping.DONOR:
        return lambda record, _: (record[0], None, None)
    if by is Grouping.RECIPIENT:
        return lambda record, _: (None, record[0], None)
    if by is Grouping.MONTH:
        return lambda record, _: (None, None, f"{int(record[0]):04d}-{int(record[1]):02d}")
    return lambda _, currency: (None, None, None, currency)


def _pledge_counts(
    session: Session, by: Grouping, where: TotalsFilter
) -> tuple[dict[tuple[Any, ...], int], int]:
    """How many pledges each group and the whole report count."""
    t = Tables(where.known)
    keys = group_columns(by, t)
    extra = [t.pledge.currency.label("currency")] if by is Grouping.CURRENCY else []
    query = (
        select(*keys, *extra, func.count(func.distinct(t.pledge.id)).label("pledges"))
        .select_from(t.installment)
        .join(t.pledge, t.pledge.id == t.installment.pledge_id)
        .group_by(*keys, *extra)
    )
    groups = {
        _group_key(by, record): int(record["pledges"])
        for record in session.execute(filtered(query, where, t)).mappings()
    }
    everything = select(func.count(t.pledge.id)).select_from(t.pledge)
    return groups, int(session.scalar(filtered(everything, where, t)) or 0)


def converted_totals(
    session: Session,
    by: Grouping,
    where: TotalsFilter,
    book: RateBook,
    rates_on: date,
) -> tuple[list[dict[str, Any]], Callable[[], list[dict[str, Any]]]]:
    """Totals in one currency, each amount converted at the rate of its own value date.

    Returns the rows (each group, then the total) and a function that gives the working:
    every conversion made, with the original amount, the rate, the rate's date and the
    converted amount (worked out only when called: a report may make tens of thousands). A
    value date after `rates_on` (an installment not yet due) is converted at the rates of
    `rates_on`, since no rate of that day exists yet. Each figure is summed exactly and
    rounded once, half to even, so a total is the rounded sum of exact amounts, not the sum
    of rounded rows.
    """
    currencies: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    merged: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for group, figure, currency, value_date, minor, unconfirmed in _parts(session, by, where):
        both = merged[group, figure, currency, min(value_date, rates_on)]
        both[0] += minor
        both[1] += unconfirmed
    # Exact sums without a Fraction per conversion: each rate (scaled to the currencies'
    # minor units) is a numerator over a denominator, and the amounts converted at rates of
    # one denominator add up as whole numbers; a Fraction is made per denominator at the end.
    over: dict[tuple[Any, ...], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    scaled: dict[tuple[str, date], tuple[int, int]] = {}
    for (group, figure, currency, value_date), (minor, unconfirmed) in merged.items():
        ratio = scaled.get((currency, value_date))
        if ratio is None:
            rate = book.convert(currency, value_date).rate
            shift = exponent(book.target) - exponent(currency)
            ratio = scaled[currency, value_date] = (
                (rate.numerator * 10**shift, rate.denominator)
                if shift >= 0
                else (rate.numerator, rate.denominator * 10**-shift)
            )
        numerator, denominator = ratio
        over[group, figure][denominator] += minor * numerator
        if figure in UNCONFIRMED:
            over[group, UNCONFIRMED[figure]][denominator] += unconfirmed * numerator
        currencies[group].add(currency)
    exact: dict[tuple[Any, ...], dict[str, Fraction]] = defaultdict(
        lambda: dict.fromkeys(FIGURES, Fraction(0))
    )
    for (group, figure), sums in over.items():
        exact[group][figure] = sum(
            (Fraction(numerator, denominator) for denominator, numerator in sums.items()),
            Fraction(0),
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
    return rows, lambda: _working(merged, book)


def _working(merged: dict[tuple[Any, ...], list[int]], book: RateBook) -> list[dict[str, Any]]:
    """Every conversion behind converted totals, in the order of the groups and figures."""
    working = []
    order = (PLEDGED, DISBURSED, OUTSTANDING)
    for (group, figure, currency, value_date), (minor, _) in sorted(
        merged.items(),
        key=lambda item: (*_sort_key(item[0]), order.index(item[0][1]), *item[0][2:]),
    ):
        conversion = book.convert(currency, value_date)
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
                "converted": to_minor(conversion.exact(minor)),
            }
        )
    return working


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

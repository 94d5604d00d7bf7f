"""Exchange rates by value date, and exact conversion of minor units between currencies."""

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.errors import FintrackError, InputError, Refused
from fintrack.known import NOW, Known
from fintrack.models import ExchangeRate
from fintrack.money import MAX_PRECISION, exponent, normalize_currency, plain_decimal
from fintrack.text import check_row, clean
from fintrack.vocab import MAX_RATE_AGE_DAYS

MAX_RATE_AGE_LIMIT = 366

# Significant digits of a derived (inverse or cross) rate when it is shown; the conversion
# itself uses the exact fraction.
SHOWN_DIGITS = 12

_RATE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+", re.ASCII)
MAX_RATE_DIGITS = 30


def parse_rate(text: str, field: str = "rate") -> Decimal:
    """A positive exact decimal such as 1.1275 or 3.64, as the user or a file writes it."""
    value = text.strip()
    if value.startswith("-") and _RATE.fullmatch(value[1:]):
        raise InputError(field, f"'{text}' must be greater than zero")
    if not _RATE.fullmatch(value):
        raise InputError(
            field,
            f"'{text}' is not a rate; use a positive decimal number in the digits 0-9 "
            "such as 1.1275",
        )
    try:
        rate = Decimal(value.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only decimal numbers
        raise InputError(field, f"'{text}' is not a rate") from None
    if rate <= 0:
        raise InputError(field, f"'{text}' must be greater than zero")
    if len(plain_decimal(rate).as_tuple().digits) > MAX_RATE_DIGITS:
        raise InputError(field, f"'{text}' has more than {MAX_RATE_DIGITS} significant digits")
    return plain_decimal(rate)


# A rate's pair and day: (base, quote, rate_on).
RateKey = tuple[str, str, date]


@dataclass(frozen=True)
class KnownRate:
    """The rate already known for a pair and day, in one direction or the other, as a new
    rate for that pair and day meets it: a rate and its inverse for one day are one fact."""

    base: str
    quote: str
    on: date
    rate: Decimal
    inverse: bool  # stored the other way round from the new rate
    agrees: bool  # the new rate states the same fact: the same rate, or this one's inverse

    @property
    def key(self) -> RateKey:
        return self.base, self.quote, self.on

    def described(self) -> str:
        """The known rate, said of the new rate's pair: `1.1275`, or for an inverse
        `its inverse, EUR/USD 1.3 (= USD/EUR 0.769230769231)`."""
        if not self.inverse:
            return str(self.rate)
        return (
            f"its inverse, {self.base}/{self.quote} {self.rate:f} "
            f"(= {self.quote}/{self.base} {shown_rate(1 / Fraction(self.rate))})"
        )


def _rounded(value: Fraction, like: Decimal) -> Decimal:
    """`value` rounded (half to even) to the decimal places of `like`."""
    with localcontext() as context:
        context.prec = MAX_PRECISION + 20
        exact = Decimal(value.numerator) / Decimal(value.denominator)
        places = Decimal(1).scaleb(int(like.as_tuple().exponent))
        return exact.quantize(places, rounding=ROUND_HALF_EVEN)


def _restates(known: Decimal, inverse: bool, rate: Decimal) -> bool:
    """Whether `rate` states the known fact: the same rate, or the known rate's inverse,
    exact or as each other's inverse to the places each is given to (1.1275 and 0.8869,
    as 1/1.1275 = 0.88691... and 1/0.8869 = 1.12752...; not 1.3 and 0.8, as 1/0.8 = 1.25)."""
    if not inverse:
        return known == rate
    if Fraction(known) * Fraction(rate) == 1:
        return True
    return (
        _rounded(1 / Fraction(known), rate) == rate and _rounded(1 / Fraction(rate), known) == known
    )


def known_rate(
    known: Mapping[RateKey, Decimal], base: str, quote: str, on: date, rate: Decimal
) -> KnownRate | None:
    """What `known` (stored rates, or those earlier in a file) holds for `base`/`quote` on
    `on`, in that direction or the other, and whether `rate` agrees with it; None if nothing.
    The same direction is looked at first (a database of an older fintrack may hold both)."""
    for stored_key, inverse in (((base, quote, on), False), ((quote, base, on), True)):
        stored = known.get(stored_key)
        if stored is not None:
            agrees = _restates(stored, inverse, rate)
            return KnownRate(*stored_key, stored, inverse, agrees)
    return None


def add_rate(
    session: Session,
    base: str,
    quote: str,
    rate: str,
    on: date,
    source: str | None = None,
    replace: bool = False,
) -> tuple[ExchangeRate, str, str | None]:
    """Record that one `base` was worth `rate` `quote` on `on`.

    A rate and its inverse for one day are one fact, stored once: the rate serves both
    directions. Returns the stored rate row and what happened: "added", "unchanged" (the
    same rate was already there), "inverse" (its inverse was: the row returned), or
    "replaced" (with `replace`, a different rate for the pair and day, either way round),
    and for "replaced" the rate it replaced (`USD/EUR 0.8`).
    """
    base_code = normalize_currency(base, "base")
    quote_code = normalize_currency(quote, "quote")
    if base_code == quote_code:
        raise InputError("quote", f"'{quote_code}' is the base currency too; a rate needs two")
    value = parse_rate(rate)
    source = clean(source)
    check_row(ExchangeRate, {"source": source})
    stored = {
        (row.base, row.quote, row.rate_on): row
        for row in session.scalars(
            select(ExchangeRate).where(
                ExchangeRate.rate_on == on,
                ((ExchangeRate.base == base_code) & (ExchangeRate.quote == quote_code))
                | ((ExchangeRate.base == quote_code) & (ExchangeRate.quote == base_code)),
            )
        )
    }
    known = known_rate(
        {key: row.rate for key, row in stored.items()}, base_code, quote_code, on, value
    )
    if known is None:
        row = ExchangeRate(base=base_code, quote=quote_code, rate_on=on, rate=value, source=source)
        session.add(row)
        session.flush()
        return row, "added", None
    existing = stored[known.key]
    doubled = len(stored) > 1  # both directions, from an older fintrack
    if known.agrees and not (replace and doubled):
        return existing, "inverse" if known.inverse else "unchanged", None
    if not replace:
        change = "change it to" if not known.inverse else "store"
        recorded = f"as {known.described()}" if known.inverse else f"({known.rate:f})"
        new = f"{value:f}" if not known.inverse else f"{base_code}/{quote_code} {value:f} instead"
        raise Refused(
            f"the {base_code}/{quote_code} rate for {on.isoformat()} is already recorded "
            f"{recorded}; use --replace to {change} {new}"
        )
    # One row keeps the fact, turned the new way round if need be; its history keeps the
    # old rate (and direction), so views as known on an earlier day still use it.
    before = " and ".join(f"{b}/{q} {stored[b, q, d].rate:f}" for b, q, d in sorted(stored))
    own = (base_code, quote_code, on)
    row = stored.pop(own) if own in stored else stored.pop(known.key)
    for other in stored.values():  # the other direction of an older database
        session.delete(other)
    session.flush()
    row.base, row.quote, row.rate = base_code, quote_code, value
    row.source = source or row.source
    session.flush()
    return row, "replaced", before


@dataclass
class RateFilter:
    currency: str | None = None  # either side of the pair
    since: date | None = None
    until: date | None = None


def list_rates(session: Session, where: RateFilter, known: Known = NOW) -> list[dict[str, Any]]:
    """The rates as `known` holds them (with --known-on, a rate replaced since is the old one)."""
    rates = known.of(ExchangeRate)
    query = select(rates).order_by(rates.base, rates.quote, rates.rate_on)
    if where.currency:
        code = normalize_currency(where.currency, "currency")
        query = query.where((rates.base == code) | (rates.quote == code))
    if where.since:
        query = query.where(rates.rate_on >= where.since)
    if where.until:
        query = query.where(rates.rate_on <= where.until)
    options = {"populate_existing": True}
    return [rate_row(rate) for rate in session.scalars(query.execution_options(**options))]


def rate_row(rate: ExchangeRate) -> dict[str, Any]:
    return {
        "base": rate.base,
        "quote": rate.quote,
        "on": rate.rate_on,
        "rate": rate.rate,
        "source": rate.source,
    }


@dataclass(frozen=True)
class DoubledRate:
    """A pair stored both ways round for one day, which fintrack now refuses but a database
    of an older version may hold: the rate recorded first is the one conversions use."""

    counted: dict[str, Any]
    ignored: dict[str, Any]
    agrees: bool  # the ignored rate restates the counted one (its inverse, maybe rounded)


def doubled_rates(session: Session, known: Known = NOW) -> list[DoubledRate]:
    """Each pair and day stored in both directions, as `known` holds the rates."""
    first = known.of(ExchangeRate, name="first_rate")
    later = known.of(ExchangeRate, name="later_rate")
    query = (
        select(first, later)
        .join(
            later,
            (later.base == first.quote)
            & (later.quote == first.base)
            & (later.rate_on == first.rate_on)
            & (later.id > first.id),
        )
        .order_by(first.rate_on, first.base, first.quote)
    )
    found = []
    for counted, ignored in session.execute(query.execution_options(populate_existing=True)):
        agrees = _restates(counted.rate, True, ignored.rate)
        found.append(DoubledRate(rate_row(counted), rate_row(ignored), agrees))
    return found


class MissingRate(FintrackError):
    """No rate converts a currency on a value date: never guessed, always reported."""

    def __init__(self, source: str, target: str, on: date, max_age: int) -> None:
        window = "on that day" if max_age == 0 else f"or in the {max_age} days before it"
        super().__init__(
            f"no {source}/{target} exchange rate for {on.isoformat()} {window}, "
            f"direct, inverse or through one other currency; add one with "
            f"`fintrack rate add {source} {target} RATE --on {on.isoformat()}`"
        )
        self.pair = (source, target)
        self.on = on


def shown_rate(rate: Fraction) -> Decimal:
    """A rate for people: exact when it is a finite decimal, else to 12 significant digits."""
    numerator, denominator = rate.numerator, rate.denominator
    stripped = denominator
    for prime in (2, 5):
        while stripped % prime == 0:
            stripped //= prime
    if stripped == 1:  # a finite decimal: show it exactly
        with localcontext() as context:
            context.prec = MAX_PRECISION
            return plain_decimal(Decimal(numerator) / Decimal(denominator))
    quotient = Decimal(numerator) / Decimal(denominator)
    digits = quotient.adjusted() - SHOWN_DIGITS + 1
    return plain_decimal(quotient.quantize(Decimal(1).scaleb(digits)))


@dataclass(frozen=True)
class Conversion:
    """How an amount in `source` on `value_date` becomes `target`: the rate, its date, its route."""

    source: str
    target: str
    value_date: date
    rate: Fraction  # units of target per unit of source, exact
    rate_on: date | None  # the date of the rate used (the older one for a cross rate)
    route: str  # "same", "direct", "inverse" or "via XXX"

    @property
    def shown_rate(self) -> Decimal:
        return shown_rate(self.rate)

    def exact(self, minor: int) -> Fraction:
        """`minor` units of the source currency in minor units of the target, unrounded."""
        shift = exponent(self.target) - exponent(self.source)
        return Fraction(minor) * self.rate * Fraction(10) ** shift


def to_minor(exact: Fraction) -> int:
    """Round once, at the end: to the nearest minor unit, half to even."""
    return round(exact)


class RateBook:
    """The recorded rates, read once, answering "what converts X to Y on day D"."""

    def __init__(
        self,
        session: Session,
        target: str,
        max_age: int = MAX_RATE_AGE_DAYS,
        known: "Known | None" = None,
    ) -> None:
        self.target = normalize_currency(target, "target")
        if not 0 <= max_age <= MAX_RATE_AGE_LIMIT:
            raise InputError("max_age", f"'{max_age}' must be from 0 to {MAX_RATE_AGE_LIMIT} days")
        self.max_age = max_age
        dates: dict[tuple[str, str], list[date]] = defaultdict(list)
        values: dict[tuple[str, str], list[Fraction]] = defaultdict(list)
        rates = (known or NOW).of(ExchangeRate)  # with --known-on, the rates known then
        query = select(rates.id, rates.base, rates.quote, rates.rate_on, rates.rate)
        rows = session.execute(query.order_by(rates.rate_on, rates.id)).all()
        # A pair stored both ways round for one day (by an older fintrack) is one fact: the
        # rate recorded first converts both ways, as fintrack would have refused the other.
        first: dict[tuple[frozenset[str], date], int] = {}
        for row_id, base, quote, on, _ in rows:
            first.setdefault((frozenset((base, quote)), on), row_id)
        for row_id, base, quote, on, rate in rows:
            if first[frozenset((base, quote)), on] != row_id:
                continue
            dates[base, quote].append(on)
            values[base, quote].append(Fraction(rate))
        self._dates = dict(dates)
        self._values = dict(values)
        self.currencies = sorted({code for pair in self._dates for code in pair})
        self._cache: dict[tuple[str, date], Conversion] = {}

    def _latest(self, base: str, quote: str, on: date) -> tuple[date, Fraction] | None:
        """The newest recorded base/quote rate from `on` or up to max_age days before it."""
        days = self._dates.get((base, quote))
        if not days:
            return None
        index = bisect_right(days, on) - 1
        if index < 0 or (on - days[index]).days > self.max_age:
            return None
        return days[index], self._values[base, quote][index]

    def _one_step(self, source: str, target: str, on: date) -> tuple[date, Fraction, str] | None:
        """A direct or inverse rate, whichever is newer; the direct one when they tie."""
        direct = self._latest(source, target, on)
        inverse = self._latest(target, source, on)
        if inverse is not None and (direct is None or inverse[0] > direct[0]):
            return inverse[0], 1 / inverse[1], "inverse"
        if direct is not None:
            return direct[0], direct[1], "direct"
        return None

    def convert(self, source: str, on: date) -> Conversion:
        """The conversion of `source` into the target currency at the rate of `on`."""
        key = (source, on)
        if key not in self._cache:
            self._cache[key] = self._find(source, on)
        return self._cache[key]

    def _find(self, source: str, on: date) -> Conversion:
        target = self.target
        if source == target:
            return Conversion(source, target, on, Fraction(1), None, "same")
        step = self._one_step(source, target, on)
        if step is not None:
            return Conversion(source, target, on, step[1], step[0], step[2])
        best: tuple[date, Fraction, str] | None = None
        for pivot in self.currencies:
            if pivot in (source, target):
                continue
            first = self._one_step(source, pivot, on)
            second = self._one_step(pivot, target, on) if first else None
            if first is None or second is None:
                continue
            older = min(first[0], second[0])
            if best is None or older > best[0]:
                best = (older, first[1] * second[1], f"via {pivot}")
        if best is None:
            raise MissingRate(source, target, on, self.max_age)
        return Conversion(source, target, on, best[1], best[0], best[2])

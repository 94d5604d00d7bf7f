"""Exchange rates by value date, and exact conversion of minor units between currencies."""

import re
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.dates import shift
from fintrack.errors import FintrackError, InputError, Refused
from fintrack.known import NOW, Known
from fintrack.models import ExchangeRate
from fintrack.money import MAX_PRECISION, exponent, normalize_currency, plain_decimal
from fintrack.text import check_row, clean

# A rate counts for a value date when it is from that day or from up to this many days before:
# enough to bridge weekends and holidays of daily reference rates (the ECB publishes none on
# TARGET holidays: four days at Easter, more at the turn of the year), not enough to pass off a
# stale rate as the rate of the day.
MAX_RATE_AGE_DAYS = 7
MAX_RATE_AGE_LIMIT = 366

# Significant digits of a derived (inverse or cross) rate when it is shown; the conversion
# itself uses the exact fraction.
SHOWN_DIGITS = 12

_RATE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+", re.ASCII)
MAX_RATE_DIGITS = 30


def parse_rate(text: str, field: str = "RATE") -> Decimal:
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


def add_rate(
    session: Session,
    base: str,
    quote: str,
    rate: str,
    on: date,
    source: str | None = None,
    replace: bool = False,
) -> tuple[ExchangeRate, str]:
    """Record that one `base` was worth `rate` `quote` on `on`.

    Returns the rate row and what happened: "added", "unchanged" (the same rate was already
    there) or "replaced" (with `replace`, a different rate for the same pair and day).
    """
    base_code = normalize_currency(base, "BASE")
    quote_code = normalize_currency(quote, "QUOTE")
    if base_code == quote_code:
        raise InputError("QUOTE", f"'{quote_code}' is the base currency too; a rate needs two")
    value = parse_rate(rate)
    source = clean(source)
    check_row(ExchangeRate, {"source": source})
    existing = session.scalar(
        select(ExchangeRate).where(
            ExchangeRate.base == base_code,
            ExchangeRate.quote == quote_code,
            ExchangeRate.rate_on == on,
        )
    )
    if existing is not None:
        if existing.rate == value:
            return existing, "unchanged"
        if not replace:
            raise Refused(
                f"the {base_code}/{quote_code} rate for {on.isoformat()} is already recorded "
                f"({existing.rate}); use --replace to change it to {value}"
            )
        existing.rate = value
        existing.source = source or existing.source
        session.flush()
        return existing, "replaced"
    row = ExchangeRate(base=base_code, quote=quote_code, rate_on=on, rate=value, source=source)
    session.add(row)
    session.flush()
    return row, "added"


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
        code = normalize_currency(where.currency, "--currency")
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
        self.target = normalize_currency(target, "--in")
        if not 0 <= max_age <= MAX_RATE_AGE_LIMIT:
            raise InputError(
                "--max-rate-age", f"'{max_age}' must be from 0 to {MAX_RATE_AGE_LIMIT} days"
            )
        self.max_age = max_age
        dates: dict[tuple[str, str], list[date]] = defaultdict(list)
        values: dict[tuple[str, str], list[Fraction]] = defaultdict(list)
        rates = (known or NOW).of(ExchangeRate)  # with --known-on, the rates known then
        query = select(rates.base, rates.quote, rates.rate_on, rates.rate).order_by(rates.rate_on)
        for base, quote, on, rate in session.execute(query):
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
        if index < 0 or days[index] < shift(on, -self.max_age):
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

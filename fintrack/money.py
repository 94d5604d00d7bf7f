"""Amounts: parsing, ISO 4217 exponents, integer minor units, splitting and formatting."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation, localcontext
from functools import cache

from fintrack.errors import InputError

# Decimal digits for exact work on rates: far more than any rate or amount fintrack accepts.
MAX_PRECISION = 200

# The largest amount a BIGINT column holds, in minor units.
MAX_MINOR = 2**63 - 1

_MULTIPLIERS = {
    "": 1,
    "k": 10**3,
    "thousand": 10**3,
    "m": 10**6,
    "mn": 10**6,
    "mln": 10**6,
    "million": 10**6,
    "b": 10**9,
    "bn": 10**9,
    "billion": 10**9,
}
# ASCII digits only: Python would read Arabic-Indic or fullwidth digits too.
_AMOUNT = re.compile(
    r"(?P<number>(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)\s*(?P<suffix>[A-Za-z]*)", re.ASCII
)
# Numbers written as a European would group thousands: 29.000, 1.500.000.
_PARTS = re.compile(r"(?P<number>[\d.,]+)\s*(?P<suffix>[A-Za-z]*)", re.ASCII)
_DOT_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+", re.ASCII)
# The common amount that no rule below can refuse or read otherwise (`1250000.50`): read
# at once, without Decimal; any other text takes the full path (and its exact messages).
_PLAIN = re.compile(r"(0|[1-9][0-9]{0,17})(?:\.([0-9]{1,2}))?", re.ASCII)
ACCEPTED_AMOUNTS = (
    "a positive number in the digits 0-9 such as 29000000, 29,000,000, 29M, 1.5bn or "
    "29000000.50 (a dot is the decimal point; a comma may separate thousands)"
)


@cache
def _exponent(code: str) -> int | None:
    from iso4217 import Currency

    return Currency(code).exponent


# Codes already accepted, as given and as returned: every amount read from the database is
# checked again (`Money`), and a report holds many thousands of them in a few currencies.
_ACCEPTED: dict[str, str] = {}


def normalize_currency(code: str, field: str = "currency") -> str:
    """Return the upper-case ISO 4217 code, or raise InputError naming what is accepted."""
    known = _ACCEPTED.get(code) if isinstance(code, str) else None
    if known is not None:
        return known
    text = code.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise InputError(
            field, f"'{code}' is not an ISO 4217 code (three letters, such as USD, EUR or QAR)"
        )
    try:
        exponent = _exponent(text)
    except ValueError:
        raise InputError(
            field, f"'{code}' is not an ISO 4217 currency code (such as USD, EUR or QAR)"
        ) from None
    if exponent is None:
        raise InputError(
            field, f"'{text}' has no minor unit in ISO 4217 (funds, metals and test codes)"
        )
    if len(_ACCEPTED) < 1024:  # a bound, should a program feed it endless distinct spellings
        _ACCEPTED[code] = text
    return text


@cache
def exponent(currency: str) -> int:
    """The number of minor-unit digits of an ISO 4217 currency: USD 2, JPY 0, KWD 3."""
    value = _exponent(normalize_currency(currency))
    assert value is not None  # normalize_currency refuses codes without one
    return value


def not_ascii_digits(text: str) -> bool:
    """Whether `text` holds a digit other than 0-9 (Arabic-Indic, fullwidth, ...)."""
    return not text.isascii() and any(char.isdigit() and not char.isascii() for char in text)


def _dot_grouped(text: str, number: str, suffix: str, currency: str) -> str | None:
    """Why `number` is refused, if its dots may separate thousands (`29.000`).

    A dot followed by exactly three digits, after one to three digits that do not start
    with 0, reads as a thousands separator to much of the world and as the decimal point
    to the rest. Where both readings are amounts of the currency it is refused as
    ambiguous (USD 29.000, JPY 29.000, USD 1.500M), except for one such dot without a unit
    in a currency with three decimals (KWD 29.000 is 29 dinars), as that currency's amounts
    are written. USD 1.234 can only be thousands, and is refused for its decimals; two or
    more such dots (1.500.000) are refused as thousands. `29,000.500`, `1234.500` and
    `0.500` are not ambiguous.
    """
    if not _DOT_GROUPED.fullmatch(number):
        return None
    thousands = f"{int(number.replace('.', '')):,}{suffix}"
    if number.count(".") > 1:
        return f"'{text}' has dots between thousands; write {thousands}"
    if not suffix and exponent(currency) == 3:
        return None
    as_decimal = (Decimal(number) * _MULTIPLIERS[suffix.lower()]).scaleb(exponent(currency))
    if as_decimal != as_decimal.to_integral_value():
        return None  # not a decimal amount of the currency: too many decimals, as it says
    whole, _, fraction = number.partition(".")
    decimal = f"{whole}.{fraction.rstrip('0')}".rstrip(".") + suffix
    if len(fraction.rstrip("0")) == 3:  # as ambiguous as typed: the number written out
        decimal = f"{int(Decimal(number) * _MULTIPLIERS[suffix.lower()]):,}"
    return (
        f"'{text}' is ambiguous: a dot followed by three digits may separate thousands; "
        f"write {thousands} for thousands, or {decimal} for the decimal number"
    )


def parse_amount(text: str, currency: str, field: str = "amount") -> int:
    """Parse a user-written amount into integer minor units of `currency`.

    The digits are 0-9; a dot is the decimal point and a comma separates thousands, so a
    number that a European would read as dots between thousands is refused as ambiguous
    (see `_dot_grouped`).
    """
    written = text.strip()
    plain = _PLAIN.fullmatch(written)
    if plain is not None:
        whole, fraction = plain.group(1), plain.group(2)
        digits = exponent(currency)
        if fraction is None or len(fraction) <= digits:
            units: int = int(whole) * 10**digits + int((fraction or "").ljust(digits, "0") or 0)
            if 0 < units <= MAX_MINOR:
                return units
    if not_ascii_digits(text):
        raise InputError(field, f"'{text}' is not an amount; use {ACCEPTED_AMOUNTS}")
    parts = _PARTS.fullmatch(written)
    if parts is not None and parts.group("suffix").lower() in _MULTIPLIERS:
        ambiguous = _dot_grouped(text, parts.group("number"), parts.group("suffix"), currency)
        if ambiguous is not None:
            raise InputError(field, ambiguous)
    match = _AMOUNT.fullmatch(written)
    suffix = match.group("suffix").lower() if match else ""
    if match is None or suffix not in _MULTIPLIERS:
        raise InputError(field, f"'{text}' is not an amount; use {ACCEPTED_AMOUNTS}")
    try:
        value = Decimal(match.group("number").replace(",", "")) * _MULTIPLIERS[suffix]
    except InvalidOperation:
        raise InputError(field, f"'{text}' is not an amount; use {ACCEPTED_AMOUNTS}") from None
    digits = exponent(currency)
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise InputError(field, f"'{text}' has more decimals than {currency} allows ({digits})")
    if minor <= 0:
        raise InputError(field, f"'{text}' must be greater than zero")
    if minor > MAX_MINOR:
        raise InputError(field, f"'{text}' is too large")
    return int(minor)


def to_decimal(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal with the currency's digits: 8700000000 USD -> 87000000.00."""
    digits = exponent(currency)
    return Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits))


def format_amount(minor: int, currency: str, grouping: bool = True) -> str:
    """Text for an amount: `87,000,000.00` for people, `87000000.00` for machines."""
    digits = exponent(currency)
    whole, fraction = divmod(abs(minor), 10**digits)
    sign = "-" if minor < 0 else ""
    text = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{text}.{fraction:0{digits}d}" if digits else f"{sign}{text}"


@cache
def exact_formatter(currency: str) -> Callable[[int], str]:
    """`format_amount(minor, currency, grouping=False)` for one currency, as a function that
    an export calls for millions of amounts: integer arithmetic, no grouping."""
    digits = exponent(currency)
    if not digits:
        return str
    scale, pattern = 10**digits, f"%d.%0{digits}d"

    def text(minor: int) -> str:
        written: str = (
            "-" + pattern % divmod(-minor, scale) if minor < 0 else (pattern % divmod(minor, scale))
        )
        return written

    return text


def split_evenly(total: int, parts: int) -> list[int]:
    """Split minor units into `parts` equal amounts, the remainder on the last one."""
    if parts < 1:
        raise ValueError("parts must be at least 1")
    base = total // parts
    return [base] * (parts - 1) + [total - base * (parts - 1)]


def percent(part: int, whole: int) -> Decimal | None:
    """`part` as a percentage of `whole`, to one decimal place, half to even."""
    if whole == 0:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_EVEN)


def plain_decimal(value: Decimal) -> Decimal:
    """The exact value without trailing zeros or an exponent: 1.10 -> 1.1, 1E+2 -> 100."""
    with localcontext() as context:
        context.prec = MAX_PRECISION  # normalize() rounds to the context's precision
        return Decimal(format(value.normalize(), "f"))


# Compact amounts name the same units the parser reads (29M, 1.5bn), from thousands up.
_COMPACT_UNITS = ((10**3, "k"), (10**6, "M"), (10**9, "bn"), (10**12, "tn"))


def compact_amount(minor: int, currency: str) -> str:
    """A short, rounded form for a narrow table: `87.0M`, `2.5bn`, `125.4k`.

    Below a thousand the amount is written exactly; above, to one decimal of the largest
    unit that keeps it under a thousand (half to even), so `999,950` is `1.0M`, not `1,000.0k`.
    """
    value = to_decimal(minor, currency)
    if abs(value) < 1000:
        return format_amount(minor, currency)
    for size, suffix in _COMPACT_UNITS:
        scaled = (value / size).quantize(Decimal("0.1"), ROUND_HALF_EVEN)
        if abs(scaled) < 1000 or suffix == "tn":
            return f"{scaled:,}{suffix}"
    raise AssertionError("unreachable")  # pragma: no cover


@dataclass(frozen=True)
class Money:
    """An exact amount of one currency: integer minor units and an ISO 4217 code.

    `Money.parse("29M", "USD")` reads what a person writes (the CLI's and the importer's
    rules), `Money.of(Decimal("29000000"), "USD")` takes a number; `.amount` gives it back as
    a Decimal with the currency's digits and `str()` as `USD 29,000,000.00`. Amounts of two
    currencies are never added together.
    """

    minor: int
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.minor, bool) or not isinstance(self.minor, int):
            raise InputError("amount", f"{self.minor!r} is not a whole number of minor units")
        if abs(self.minor) > MAX_MINOR:
            raise InputError("amount", f"{self.minor} minor units is too large")
        code = normalize_currency(self.currency)
        if code != self.currency:
            object.__setattr__(self, "currency", code)

    @classmethod
    def parse(cls, text: str, currency: str) -> "Money":
        """An amount as people write it: `29M`, `29,000,000`, `1.5bn`, `29000000.50`."""
        code = normalize_currency(currency)
        return cls(parse_amount(text, code), code)

    @classmethod
    def of(cls, amount: "Decimal | int | str", currency: str) -> "Money":
        """An amount as a number of the currency's units (`Decimal("29000000.50")`, `87`), or
        as text for `parse`. Refused when it has more decimals than the currency has."""
        if isinstance(amount, str):
            return cls.parse(amount, currency)
        code = normalize_currency(currency)
        if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
            raise InputError("amount", f"{amount!r} is not an amount: give a Decimal or an int")
        value = Decimal(amount)
        if not value.is_finite():
            raise InputError("amount", f"'{amount}' is not an amount")
        digits = exponent(code)
        minor = value.scaleb(digits)
        if minor != minor.to_integral_value():
            raise InputError(
                "amount", f"'{amount}' has more decimals than {code} allows ({digits})"
            )
        return cls(int(minor), code)

    @property
    def amount(self) -> Decimal:
        """The amount in units of the currency, exact: `Decimal('29000000.00')`."""
        return to_decimal(self.minor, self.currency)

    def format(self, grouping: bool = True) -> str:
        """The figure without its code: `29,000,000.00` (`29000000.00` without grouping)."""
        return format_amount(self.minor, self.currency, grouping)

    def __str__(self) -> str:
        return f"{self.currency} {self.format()}"

    def _same(self, other: "Money") -> None:
        if other.currency != self.currency:
            raise InputError(
                "currency", f"{self.currency} and {other.currency} amounts cannot be added"
            )

    def __add__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same(other)
        return Money(self.minor - other.minor, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.minor, self.currency)


def minor_of(value: "str | Money", currency: str, field: str = "amount") -> int:
    """Minor units of `currency` from text people write (`29M`) or from a `Money` of that
    currency; greater than zero either way."""
    if isinstance(value, str):
        return parse_amount(value, currency, field)
    if value.currency != currency:
        raise InputError(field, f"{value} is not in {currency}")
    if value.minor <= 0:
        raise InputError(field, f"{value} must be greater than zero")
    return value.minor

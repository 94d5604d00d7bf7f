"""Checking cells: the parsers of a row's columns, problems collected rather than raised."""

import re
from collections.abc import Callable
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from fintrack.errors import InputError
from fintrack.interchange.reading import Record
from fintrack.money import normalize_currency, parse_amount, plain_decimal
from fintrack.text import check_row, clean, required
from fintrack.vocab import parse_choice

T = TypeVar("T")
_SPACE_GROUPED = re.compile(r"\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?:\.\d+)?")
# Dots between thousands without a decimal comma (29.000) are parse_amount's to judge.
_DECIMAL_COMMA = re.compile(r"\d{1,3}(?:\.\d{3})+,\d+|\d+,\d{1,2}")
# Digits with a decimal point or none: the common amount, which neither pattern matches.
_PLAIN = re.compile(r"[0-9]+(?:\.[0-9]+)?")


# The columns of the files whose names differ from the fields of the library's inputs
# (SanctionInput.announced_on is the column announced); the others have the same name.
COLUMN_OF_FIELD = {
    "announced_on": "announced",
    "effective_on": "effective",
    "expires_on": "expires",
    "deadline_on": "deadline",
    "published_on": "published",
    "retrieved_on": "retrieved",
}


def column_of(field: str) -> str:
    """The column of a file that holds a field of the library's inputs: its one mapping."""
    return COLUMN_OF_FIELD.get(field, field)


def column_message(exc: InputError) -> str:
    """An error's problem, the fields it mentions named by their columns."""
    return exc.worded(lambda field, _word: column_of(field))


class Cells:
    """The cells of one row, parsed a column at a time; problems are collected, not raised."""

    def __init__(self, record: Record) -> None:
        self.values = record.values
        self.errors: list[tuple[str | None, str]] = []
        if record.problem:
            self.errors.append((None, record.problem))

    def get(self, column: str) -> str | None:
        value = self.values.get(column)
        return value if value is not None and value.strip() else None

    def parse(self, column: str, parser: Callable[[str, str], T], need: bool = False) -> T | None:
        value = self.values.get(column)  # as `get`, without a call for each cell
        if value is None or not value.strip():
            if need:
                self.errors.append((column, "is empty; a value is required"))
            return None
        try:
            return parser(value, column)
        except InputError as exc:
            self.errors.append((column, column_message(exc)))
            return None

    def text(self, column: str) -> str | None:
        return clean(self.values.get(column))

    def fail(self, column: str | None, message: str) -> None:
        self.errors.append((column, message))


def fits(cells: Cells, model: Any, row: dict[str, Any]) -> bool:
    """Whether a row's text is stored as it is, checked as `add` checks it (`check_row`)."""
    try:
        check_row(model, row)
    except InputError as exc:
        cells.fail(column_of(exc.field), column_message(exc))
        return False
    return True


_INTEGER = re.compile(r"[0-9]{1,9}")


def parse_integer(text: str, column: str) -> int:
    value = text.strip()
    if not _INTEGER.fullmatch(value) or int(value) < 1:
        raise InputError(column, f"'{text}' is not a whole number from 1 up")
    return int(value)


def parse_boolean(text: str, column: str) -> bool:
    value = text.strip().lower()
    if value in ("true", "yes", "1"):
        return True
    if value in ("false", "no", "0"):
        return False
    raise InputError(column, f"'{text}' is not true or false")


def parse_required(text: str, column: str) -> str:
    return required(text, column)


def amount_parser(currency: str) -> Callable[[str, str], int]:
    """Parse an amount as `add` does, also with spaces between groups of thousands."""

    def parse(text: str, column: str) -> int:
        value = text.strip()
        if _PLAIN.fullmatch(value):  # neither grouped with spaces nor with a decimal comma
            return parse_amount(value, currency, column)
        if _SPACE_GROUPED.fullmatch(value):
            value = re.sub(r"[ \u00a0\u202f]", ",", value)
        elif _DECIMAL_COMMA.fullmatch(value):
            raise InputError(
                column,
                f"'{text}' has a decimal comma; write amounts with a decimal point "
                "and , or a space between thousands: 29,000,000.50",
            )
        return parse_amount(value, currency, column)

    return parse


_EXACT = re.compile(r"-?[0-9]{1,40}(?:\.[0-9]{1,40})?", re.ASCII)


def parse_exact(text: str, column: str) -> Decimal:
    """An exact decimal number as another system recorded it (0, 2000000, -12.5): at most
    40 characters as fintrack stores it."""
    value = text.strip()
    if not _EXACT.fullmatch(value) or len(str(plain_decimal(Decimal(value)))) > 40:
        raise InputError(column, f"'{text}' is not a decimal number of at most 40 digits")
    return plain_decimal(Decimal(value))


def choice_parser(kind: type[StrEnum]) -> Callable[[str, str], Any]:
    return lambda text, column: parse_choice(kind, text, column)


def parse_currency(text: str, column: str) -> str:
    return normalize_currency(text, column)

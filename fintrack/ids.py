"""Ids and counts as the user writes them: the digits 0-9, no larger than a database integer."""

import re

from fintrack.errors import InputError

# The largest whole number an option takes (a BIGINT): SQLite raises OverflowError for a
# larger one before a query runs.
MAX_ID = 2**63 - 1
# The largest id a record can have on every engine: ids are INTEGER columns, 32 bits on
# PostgreSQL (SQLite's hold 64), which refuses to compare a larger number with one.
MAX_STORED_ID = 2**31 - 1

# The digits 0-9 only: Python's int() also reads Arabic-Indic and fullwidth digits, and 1_0.
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_SIGNED = re.compile(r"-?[0-9]+", re.ASCII)

DIGITS_ONLY = "use the digits 0-9 only, such as 12"


def parse_whole(
    text: str, field: str, what: str = "a whole number", signed: bool = False, most: int = MAX_ID
) -> int:
    """A whole number written in the digits 0-9 (with a leading - if `signed`), at most `most`."""
    value = text.strip()
    if not (_SIGNED if signed else _DIGITS).fullmatch(value):
        raise InputError(field, f"'{text}' is not {what}; {DIGITS_ONLY}")
    number = int(value)
    if abs(number) > most:
        raise InputError(field, f"'{text}' is too large for {what} (at most {most:,})")
    return number


def parse_id(text: str, field: str) -> int:
    """A record's id, such as 12, as a command or a file gives it: the digits 0-9 only (not
    `²`, `٢`, fullwidth digits or `1_0`, which Python's int() would take), from 1 to the
    largest id every engine stores."""
    number = parse_whole(text, field, "an id", most=MAX_STORED_ID)
    if number < 1:
        raise InputError(field, f"'{text}' is not an id: ids start at 1")
    return number

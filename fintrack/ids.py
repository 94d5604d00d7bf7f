"""Record ids as people and files give them: digits 0-9, within what every engine stores."""

from fintrack.errors import InputError

# The largest id: ids are INTEGER columns, 32 bits on PostgreSQL (SQLite would store 64), and a
# file or a command must mean the same on both engines.
MAX_ID = 2**31 - 1


def parse_id(text: str, field: str) -> int:
    """An id: ASCII digits only (not `²`, `٢`, fullwidth digits or `1_0`, which Python's int()
    would take), from 1 to MAX_ID."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_ID:
        raise InputError(field, f"'{text}' is not an id: a whole number from 1 to {MAX_ID:,}")
    return int(value)

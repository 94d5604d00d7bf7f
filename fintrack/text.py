"""Clean free text given by the user, and check it fits its column the same on every engine."""

import re
from collections.abc import Mapping
from typing import Any

from fintrack.errors import InputError

# Characters no text field takes: NUL, which PostgreSQL refuses and SQLite stores, and lone
# surrogates (an undecodable byte of an argument), which neither can encode. They are refused
# here, before any write, with one message on both engines. Other control characters are
# data, stored as given and shown made visible (ESC as ␛). Long text (a TEXT column: a
# summary, a purpose) may hold line breaks; a one-line field (a VARCHAR: a name, a ref)
# folds spaces and tabs when cleaned, and refuses a line break.
_NOT_TEXT = re.compile(r"[\x00\n\r\ud800-\udfff]")
_NOT_LONG_TEXT = re.compile(r"[\x00\ud800-\udfff]")


def clean(text: str | None) -> str | None:
    """Trimmed text with runs of spaces folded (line breaks kept in long text); None when empty."""
    if text is None:
        return None
    value = text.strip() if "\n" in text else " ".join(text.split())
    return value or None


def required(text: str | None, field: str) -> str:
    value = clean(text)
    if value is None:
        raise InputError(field, "must not be empty")
    return value


# Lengths found, by the column's id: an ORM attribute's `.type` is a slow proxy, read for
# every cell of an import. The column is kept with its length, so that its id stays its own.
_LENGTHS: dict[int, tuple[Any, int | None]] = {}


def max_length(column: Any) -> int | None:
    """The characters a column (`Pledge.donor` or a table's column) holds; None for TEXT."""
    known = _LENGTHS.get(id(column))
    if known is None or known[0] is not column:
        known = _LENGTHS[id(column)] = (column, getattr(column.type, "length", None))
    return known[1]


def check_text(value: str, column: Any, field: str) -> str:
    """`value` if `column` stores it as it is on every engine, else InputError naming `field`:
    no NUL or undecodable character, no line break in a one-line field, at most the column's
    length in characters."""
    limit = max_length(column)
    bad = (_NOT_TEXT if limit is not None else _NOT_LONG_TEXT).search(value)
    if bad is not None:
        char, at = bad.group(), bad.start() + 1
        if char in "\n\r":
            raise InputError(field, f"must be one line; it has a line break at character {at}")
        what = "a NUL character" if char == "\x00" else "a byte that is not UTF-8"
        raise InputError(field, f"has {what} (U+{ord(char):04X}) at character {at}; remove it")
    if limit is not None and len(value) > limit:
        raise InputError(field, f"at most {limit} characters (got {len(value)})")
    return value


# The columns of a model's table by key, found once: its ColumnCollection is slow to ask for
# every cell of an import. The model is kept with them, so that its id stays its own.
_COLUMNS: dict[int, tuple[Any, dict[str, Any]]] = {}


def check_row(model: Any, row: Mapping[str, Any]) -> None:
    """Check every text value of a row against the columns of `model` (`check_text`); the
    error names the column, which is the field of the same name (`deadline_label`)."""
    known = _COLUMNS.get(id(model))
    if known is None or known[0] is not model:
        known = _COLUMNS[id(model)] = (model, dict(model.__table__.c.items()))
    columns = known[1]
    for name, value in row.items():
        if isinstance(value, str) and (column := columns.get(name)) is not None:
            check_text(value, column, name)

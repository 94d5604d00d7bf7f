"""Clean free text given by the user."""

from fintrack.errors import InputError


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

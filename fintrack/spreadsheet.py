"""Text cells a spreadsheet would run as formulas: neutralised on export, restored on import."""

import re

# Where a reader may begin a cell: the start of the text, and after a separator that fintrack's
# import accepts, `,` or `;` (a spreadsheet in a semicolon locale splits at `;` even inside a
# cell quoted for commas, and the import splits a list of measures there), a tab, a line
# break or a double quote (a spreadsheet may split at them too, or end a quoted cell there).
# A cell that begins, after spaces, with one of =+-@, a tab or a carriage return is run as a
# formula (OWASP "CSV injection"); a quote in front makes it plain text. Text that already has
# quotes there gets one more, so that `unneutralise` gives back exactly the original text.
_CELL_START = r'(?:^|(?<=[,;\t\r\n"]))(?P<space> *)'
_FORMULA = re.compile(_CELL_START + r"(?P<rest>'*[=+\-@\t\r])")
_NEUTRALISED = re.compile(_CELL_START + r"'(?P<rest>'*[=+\-@\t\r])")


def neutralise(text: str) -> str:
    """Text that a spreadsheet shows as text, however it splits it into cells: `=1+2` ->
    `'=1+2`, `x; =1+2` -> `x; '=1+2`."""
    return _FORMULA.sub(r"\g<space>'\g<rest>", text)


def unneutralise(text: str) -> str:
    """Undo `neutralise` exactly: `'=1+2` -> `=1+2`; text without such quotes is unchanged."""
    if "'" not in text:  # the common cell, left as it is without a regular expression
        return text
    return _NEUTRALISED.sub(r"\g<space>\g<rest>", text)

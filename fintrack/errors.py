"""Exceptions the library raises and the CLI turns into one `Error: ...` line."""

import re
from collections.abc import Callable
from dataclasses import dataclass


class FintrackError(Exception):
    """An expected failure the user can fix; its message is shown as is."""

    exit_code = 1


# A field named inside an error's text, as `mention` writes it: the CLI shows it as its option
# (--each AMOUNT), an import as its column, the library as the field. Unicode noncharacters
# (reserved for a program's own use) mark it, so that no ordinary text is taken for one.
_MENTION = re.compile("\ufdd0([a-z][a-z0-9_]*)(?:\ufdd1([^\ufdd0-\ufdd2]*))?\ufdd2")

# How a reader names a field mentioned in an error: (field, the word for its value in a
# command line, such as DATE, or "") -> text.
Naming = Callable[[str, str], str]


def mention(field: str, word: str = "") -> str:
    """A field named in the text of an InputError: `mention("each", "AMOUNT")` reads
    `each` from Python, `--each AMOUNT` on the command line, `each` in an import."""
    return f"\ufdd0{field}" + (f"\ufdd1{word}" if word else "") + "\ufdd2"


def _field(field: str, word: str) -> str:
    return field


class InputError(FintrackError):
    """A value given by the user is not acceptable.

    `field` is the library's name of the input (`donor`, `first_due`: the attribute of the
    input dataclass or the parameter of the function) and `problem` what is wrong with it;
    str() is `field: problem`. The CLI names the field by its option, an import by its column
    (`worded`)."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self._problem = problem
        super().__init__(f"{field}: {self.problem}")

    @property
    def problem(self) -> str:
        """What is wrong, without the field, other fields named as the library names them."""
        return self.worded(_field)

    def of(self, field: str) -> "InputError":
        """The same problem, of another field (the option or column that gave the value)."""
        return InputError(field, self._problem)

    def worded(self, name: Naming) -> str:
        """The problem with each field it mentions named by `name`."""
        return _MENTION.sub(lambda found: name(found.group(1), found.group(2) or ""), self._problem)


class NotFound(FintrackError):
    """A record named by id does not exist."""

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"no {kind} with id {ident}")


class NotYetKnown(FintrackError):
    """A record asked for as known on a day before it was recorded."""

    def __init__(self, kind: str, ident: object, day: object) -> None:
        super().__init__(f"{kind} {ident} was not yet recorded on {day}")


class Refused(FintrackError):
    """The operation would break a rule (such as paying past a pledge's total)."""


class DuplicatePledge(Refused):
    """A new pledge repeats one on record (`earlier`): the same donor, recipient, currency,
    total and date, the same announcement entered twice. Nothing was added."""

    def __init__(self, earlier: int) -> None:
        self.earlier = earlier
        super().__init__(
            f"pledge {earlier} has the same donor, recipient, currency, amount and date; "
            "nothing added (pass allow_duplicate=True to add it anyway)"
        )


class DatabaseError(FintrackError):
    """The database cannot be opened, read or migrated."""


# Bad rows listed in full before "... and N more".
MAX_LISTED = 20


@dataclass(frozen=True)
class RowError:
    """A bad cell or row of an imported file: `FILE:LINE: column C: what is wrong` (for an
    XML file, `line` is an XPath: `FILE:/gesmes:Envelope/Cube/Cube[2]/@time: ...`)."""

    file: str
    line: int | str
    column: str | None
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}:"
        if self.column is None:
            return f"{place} {self.message}"
        return f"{place} column {self.column}: {self.message}"


@dataclass(frozen=True)
class PathError:
    """A bad value of an imported document, named by its path in it: a JSON pointer
    (`FILE:/data/flows/17/amountUSD: ...`) or an XPath
    (`FILE:/iati-activities/iati-activity[3]/transaction[2]/value: ...`)."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.path}: {self.message}"


class InvalidRows(FintrackError):
    """Rows of an import that fail their checks; nothing was written. `listing()` gives
    one line per problem, `FILE:LINE: ...` (`FILE:PATH: ...` for a document). `unit` is what
    the file holds (rows, days, activities, flows)."""

    # What the rows are called in the message, unless `unit` says.
    rows = "rows"

    def __init__(
        self,
        errors: "list[RowError] | list[PathError]",
        invalid: int,
        total: int,
        unit: str | None = None,
    ) -> None:
        unit = unit or self.rows
        super().__init__(f"{invalid} of {total} {unit} are invalid; nothing was imported")
        self.errors = errors
        self.invalid = invalid

    def listing(self, limit: int = MAX_LISTED) -> list[str]:
        lines = [str(error) for error in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"... and {len(self.errors) - limit} more")
        return lines


class InvalidFlows(InvalidRows):
    """Flows of an OCHA FTS import that fail their checks; nothing was written. Only the
    first problems are kept (`problems` counts them all), so that a file of countless bad
    flows does not fill the memory."""

    rows = "flows"

    def __init__(self, errors: list[PathError], invalid: int, total: int, problems: int) -> None:
        super().__init__(errors, invalid, total)
        self.problems = problems

    def listing(self, limit: int = MAX_LISTED) -> list[str]:
        lines = [str(error) for error in self.errors[:limit]]
        if self.problems > limit:
            lines.append(f"... and {self.problems - limit} more")
        return lines


class InvalidElements(InvalidRows):
    """Parts of an imported document (`unit`: its activities, say) that fail their checks;
    nothing was written. `listing()` gives one line per problem, `FILE:PATH: ...`."""

    def __init__(self, errors: list[PathError], invalid: int, total: int, unit: str) -> None:
        super().__init__(errors, invalid, total, unit)

"""Exceptions the library raises and the CLI turns into one `Error: ...` line."""


class FintrackError(Exception):
    """An expected failure the user can fix; its message is shown as is."""

    exit_code = 1


class InputError(FintrackError):
    """A value given by the user is not acceptable."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


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


class DatabaseError(FintrackError):
    """The database cannot be opened, read or migrated."""

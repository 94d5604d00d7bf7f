"""What the command modules share: the database of this run, common options, value parsing."""

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.output import OutputFormat, safe, stderr_console
from fintrack.dates import parse_date
from fintrack.store import Database, default_url
from fintrack.vocab import Confidence, choices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fintrack.known import Known
    from fintrack.models import Change


@dataclass
class RunState:
    """Set for each run: the database URL given with --db, if any, and the arguments."""

    db_url: str | None = None
    argv: list[str] = field(default_factory=list)


state = RunState()


def database() -> Database:
    return Database(state.db_url or default_url())


def note(message: str) -> None:
    """A message for the person at the terminal, on stderr, so stdout stays clean for pipes.

    Messages carry stored and typed values, so they are never read as markup and their
    control characters are made visible.
    """
    stderr_console().print(safe(message))


def optional_date(value: str | None, field: str) -> date | None:
    return None if value is None else parse_date(value, field)


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table for people; csv, json or jsonl (one object a line; exact amounts, "
        "no colour) for other programs.",
    ),
]


AnalystOption = Annotated[
    str | None,
    typer.Option(
        envvar="FINTRACK_ANALYST",
        help="Who makes the change, for its history. Default: $FINTRACK_ANALYST, else your "
        "login name.",
    ),
]
ReasonOption = Annotated[str | None, typer.Option(help="Why: kept in the record's history.")]
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        help="A source of the record (repeat for more): a URL, stored as a source on first "
        "use, or the id of a source (fintrack source list).",
    ),
]
ConfidenceOption = Annotated[
    str,
    typer.Option(
        "--confidence", help=f"How sure --source makes the record: {choices(Confidence)}."
    ),
]
KnownOnOption = Annotated[
    str | None,
    typer.Option(
        metavar="DATE",
        help="Show the records as the database held them at the end of DATE (UTC): later "
        "additions, edits and voids are left out.",
    ),
]
MinConfidenceOption = Annotated[
    str | None,
    typer.Option(
        metavar="LEVEL",
        help="Count only records whose sources make them confirmed, or at least reported "
        "(confirmed or reported); unverified and denied ones are left out.",
    ),
]


def known(known_on: str | None, min_confidence: str | None = None) -> "Known":
    """The point of view of --known-on and --min-confidence."""
    from fintrack.errors import InputError
    from fintrack.known import MIN_CONFIDENCE, Known
    from fintrack.vocab import parse_choice

    level = None
    if min_confidence is not None:
        level = parse_choice(Confidence, min_confidence, "--min-confidence")
        if level not in MIN_CONFIDENCE:
            raise InputError("--min-confidence", "use confirmed or reported")
    return Known.on(optional_date(known_on, "--known-on"), level)


def confidence(text: str) -> Confidence:
    from fintrack.vocab import parse_choice

    return parse_choice(Confidence, text, "--confidence")


def begin(session: "Session", reason: str | None = None, analyst: str | None = None) -> "Change":
    """Open this command's change: its history names the command as it was typed."""
    import shlex

    from fintrack.changes import begin_change
    from fintrack.store import mask_url

    # A database URL may hold a password, which must not end up in the history.
    words = [mask_url(word) if "://" in word else word for word in state.argv]
    return begin_change(session, shlex.join(["fintrack", *words]), reason, analyst)


def plural(n: int, word: str, words: str | None = None) -> str:
    """A count with its noun in agreement: `1 pledge`, `2 pledges`, `1,234 rows`.

    `words` is the plural where adding an s is wrong (`entry`, `entries`).
    """
    return f"{n:,} {word if n == 1 else words or word + 's'}"

"""What the command modules share: the database of this run, common options, value parsing."""

from dataclasses import dataclass
from datetime import date
from typing import Annotated

import typer

from fintrack.cli.output import OutputFormat, stderr_console
from fintrack.dates import parse_date
from fintrack.store import Database, default_url


@dataclass
class RunState:
    """Set by the root callback for each run: the database URL given with --db, if any."""

    db_url: str | None = None


state = RunState()


def database() -> Database:
    return Database(state.db_url or default_url())


def note(message: str, markup: bool = True) -> None:
    """A message for the person at the terminal, on stderr, so stdout stays clean for pipes."""
    stderr_console().print(message, markup=markup)


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

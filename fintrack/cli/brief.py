"""`fintrack brief`: the one screen an analyst reads first, or a briefing note (Markdown, HTML)."""

import os
import sys
from datetime import date
from enum import StrEnum
from typing import Annotated

import typer

from fintrack.cli.common import (
    KnownOnOption,
    MinConfidenceOption,
    cli_date,
    note,
    tracker,
)


class BriefFormat(StrEnum):
    TABLE = "table"
    MARKDOWN = "markdown"
    HTML = "html"


# Width of the brief written to a file as text, where there is no terminal to measure.
FILE_WIDTH = 80


def brief_command(
    as_of: Annotated[
        date | None,
        typer.Option(
            "--as-of",
            parser=cli_date,
            metavar="DATE",
            help="The day of the brief (default: today).",
        ),
    ] = None,
    recipient: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Only money for this recipient.")
    ] = None,
    donor: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Only money from this donor.")
    ] = None,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: Annotated[
        BriefFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="table for the terminal; markdown or html (exact figures) for a briefing note.",
        ),
    ] = BriefFormat.TABLE,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
) -> None:
    """One screen to read first: money per donor, what is overdue, the next deadlines, the
    latest sanction actions and the claims not confirmed.

    Money per donor and per month is drawn as bars, one chart per currency (amounts in
    different currencies are never added). In the terminal amounts are rounded (87.0M);
    --format markdown and --format html give exact figures. --donor and --recipient narrow
    the money; sanction actions and claims are shown whatever they say. Claims listed are
    those whose standing is denied, unverified or only reported.

    Examples:

        fintrack brief --as-of 2025-05-20

        fintrack brief --format html -o brief.html
    """
    from pathlib import Path

    from fintrack.cli import brief_render
    from fintrack.cli.output import atomic_text_file, stdout_console

    target = Path(output) if output is not None else None
    if target is not None and target.is_dir():
        from fintrack.errors import InputError

        raise InputError("--output", f"'{target}' is a directory; give a file name")
    brief = brief_render.plain(tracker().brief(as_of, donor, recipient, known_on, min_confidence))

    if fmt is BriefFormat.TABLE and target is None:
        brief_render.print_brief(stdout_console(), brief)
        return
    if fmt is BriefFormat.TABLE:
        text = brief_render.brief_text(brief, _file_width())
    elif fmt is BriefFormat.MARKDOWN:
        text = brief_render.brief_markdown(brief)
    else:
        text = brief_render.brief_html(brief)
    if target is None:
        sys.stdout.write(text)
        return
    with atomic_text_file(target, "--output") as handle:
        handle.write(text)
    note(f"Wrote the brief to {target}")


def _file_width() -> int:
    try:
        return max(40, int(os.environ.get("COLUMNS", "")))
    except ValueError:
        return FILE_WIDTH

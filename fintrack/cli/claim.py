"""`fintrack claim`: statements that are neither sanctions nor money, kept with their sources."""

from datetime import date
from typing import Annotated

import typer

from fintrack.cli.common import (
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    MinConfidenceOption,
    SourceOption,
    change,
    cli_date,
    listing,
    note,
    tracker,
)
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import CLAIM_COLUMNS

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record claims that reports differ on (a reported back channel, a denial).",
    no_args_is_help=True,
)


@app.command("add")
def claim_add(
    subject: Annotated[str, typer.Option(help="Who or what it is about: UAE, Syria-Israel, ...")],
    statement: Annotated[str, typer.Option(help="What is claimed.")],
    on: Annotated[
        date | None, typer.Option("--on", parser=cli_date, help="Date it was first stated.")
    ] = None,
    source: SourceOption = None,
    level: ConfidenceOption = "reported",
    ref: Annotated[str | None, typer.Option(help="Your own stable key (must be unique).")] = None,
    analyst: AnalystOption = None,
) -> None:
    """Record a claim and print its id; link a denial later with `fintrack source link`.

    Example:

        fintrack claim add --subject "UAE back channel" --on 2025-05-07 \\
            --statement "The UAE set up a back channel between Syria and Israel" \\
            --source https://example.org/report --confidence reported
    """
    with change(analyst=analyst) as ch:
        claim = ch.add_claim(
            subject, statement, stated=on, ref=ref, sources=source or (), confidence=level
        )
    note(f"Added claim {claim.id}")
    print(claim.id)


@app.command("list")
@listing()
def claim_list(
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List claims with their standing: confirmed, reported, unverified or denied.

    Example:

        fintrack claim list
    """
    rows = tracker().claims(known_on=known_on, min_confidence=min_confidence)
    render(rows, CLAIM_COLUMNS, fmt, title="Claims", empty="No claims match.")


@app.command("show")
def claim_show(
    claim_id: Annotated[int, typer.Argument(metavar="ID", help="The claim's id.")],
    known_on: KnownOnOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show a claim with its sources.

    Example:

        fintrack claim show 1
    """
    from fintrack.cli.output import show_with_sources

    shown = tracker().claim_detail(claim_id, known_on=known_on)
    show_with_sources(shown.claim, shown.sources, CLAIM_COLUMNS, fmt, f"Claim {claim_id}")

"""`fintrack claim`: statements that are neither sanctions nor money, kept with their sources."""

from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.common import (
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    MinConfidenceOption,
    SourceOption,
    begin,
    confidence,
    database,
    known,
    listing,
    note,
    optional_date,
)
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import KEEP, MAIN, Column

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record claims that reports differ on (a reported back channel, a denial).",
    no_args_is_help=True,
)

CLAIM_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("stated", "Stated", "date", priority=MAIN),
    Column("subject", "Subject", priority=KEEP),
    Column("statement", "Statement", min_width=30, priority=MAIN),
    Column("confidence", "Confidence", wrap=False, priority=KEEP),
    Column("ref", "Ref", in_table=False),
    Column("voided", "Voided", "datetime", in_table=False),
]


@app.command("add")
def claim_add(
    subject: Annotated[str, typer.Option(help="Who or what it is about: UAE, Syria-Israel, ...")],
    statement: Annotated[str, typer.Option(help="What is claimed.")],
    on: Annotated[str | None, typer.Option("--on", help="Date it was first stated.")] = None,
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
    from fintrack.claims import ClaimInput, add_claim

    data = ClaimInput(
        subject=subject,
        statement=statement,
        stated_on=optional_date(on, "--on"),
        ref=ref,
        sources=source or (),
        confidence=confidence(level),
    )

    def record(session: "Session") -> int:
        begin(session, analyst=analyst)
        return add_claim(session, data).id

    claim_id = database().transaction(record)
    note(f"Added claim {claim_id}")
    print(claim_id)


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
    from fintrack.claims import list_claims

    view = known(known_on, min_confidence)
    with database().session() as session:
        rows = list_claims(session, view)
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
    from fintrack.claims import known_claim
    from fintrack.cli.output import show_with_sources
    from fintrack.models import Claim
    from fintrack.sources import sources_of

    view = known(known_on)
    with database().session() as session:
        row = known_claim(session, claim_id, view)
        cited = sources_of(session, Claim, [claim_id], view)[claim_id]
    show_with_sources(row, cited, CLAIM_COLUMNS, fmt, f"Claim {claim_id}")

"""`fintrack source`: record sources, list and show them, and link them to records."""

from datetime import date
from typing import Annotated

import typer

from fintrack.cli.common import (
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    ReasonOption,
    change,
    cli_date,
    listing,
    note,
    tracker,
)
from fintrack.cli.output import OutputFormat, render, render_with_list
from fintrack.formats import LINK_COLUMNS, SOURCE_COLUMNS

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record where figures come from, and link sources to records.",
    no_args_is_help=True,
)


@app.command("add")
def source_add(
    url: Annotated[str | None, typer.Option(help="Where to read it: http:// or https://.")] = None,
    title: Annotated[
        str | None, typer.Option(help="Its title, or a citation of an act or statement.")
    ] = None,
    publisher: Annotated[
        str | None, typer.Option(help="Who published it: Reuters, EUR-Lex, OFAC, ...")
    ] = None,
    published: Annotated[
        date | None, typer.Option(parser=cli_date, help="Date it was published.")
    ] = None,
    retrieved: Annotated[
        date | None, typer.Option(parser=cli_date, help="Date you read it (default: today).")
    ] = None,
    analyst: AnalystOption = None,
) -> None:
    """Record a source and print its id; give it to --source on the add and edit commands.

    A source needs a --url, a --title, or both. A URL given straight to --source is
    stored as a source on first use, so this command is for sources you want to describe,
    or that have no URL (a statement, a printed act).

    Example:

        fintrack source add --publisher "UAE Ministry of Foreign Affairs" \\
            --title "Statement denying a back channel between Syria and Israel" \\
            --published 2025-05-08
    """
    with change(analyst=analyst) as ch:
        added = ch.add_source(url, title, publisher, published, retrieved)
    note(f"Added source {added.id}: {added.url or added.title or ''}")
    print(added.id)


@app.command("list")
@listing()
def source_list(known_on: KnownOnOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List sources with the number of records each speaks for.

    Example:

        fintrack source list --format csv
    """
    rows = tracker().sources(known_on=known_on)
    render(rows, SOURCE_COLUMNS, fmt, title="Sources", empty="No sources yet.")


@app.command("show")
def source_show(
    source_id: Annotated[int, typer.Argument(metavar="ID", help="The source's id.")],
    known_on: KnownOnOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show a source and the records it speaks for, with their confidence.

    Example:

        fintrack source show 3
    """
    shown = tracker().source_detail(source_id, known_on=known_on)
    render_with_list(
        shown.source, SOURCE_COLUMNS, fmt, f"Source {source_id}", "records", shown.links,
        LINK_COLUMNS, "Records", "It speaks for no record yet.",
    )  # fmt: skip


@app.command("link")
def source_link(
    kind: Annotated[str, typer.Argument(help="sanction, pledge, payment or claim.")],
    record_id: Annotated[int, typer.Argument(metavar="ID", help="The record's id.")],
    source: Annotated[str, typer.Argument(help="A source id or a URL.")],
    level: ConfidenceOption = "reported",
    reason: ReasonOption = None,
    analyst: AnalystOption = None,
) -> None:
    """Let a source speak for a record, or change how sure it makes the record.

    The link and every change of its confidence are kept in the record's history.

    Example (a report later denied by a party concerned):

        fintrack source link claim 1 4 --confidence denied --reason "UAE statement"
    """
    from fintrack.vocab import KIND_NAMES

    with change(reason, analyst) as ch:
        done = ch.link(kind, record_id, source, level)
    source_id, chosen = done.source_id, done.confidence
    what = f"{KIND_NAMES[done.kind]} {record_id}"
    messages = {
        "added": f"Linked source {source_id} to {what} as {chosen}",
        "changed": f"Source {source_id} now makes {what} {chosen}",
        "unchanged": f"Nothing to change: source {source_id} already makes {what} {chosen}",
    }
    note(messages[done.outcome])

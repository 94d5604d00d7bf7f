"""`fintrack source`: record sources, list and show them, and link them to records."""

from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.common import (
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    ReasonOption,
    begin,
    confidence,
    database,
    known,
    listing,
    note,
    optional_date,
)
from fintrack.cli.output import OutputFormat, render, render_with_list
from fintrack.formats import EXTRA, KEEP, MAIN, MORE, Column

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record where figures come from, and link sources to records.",
    no_args_is_help=True,
)

SOURCE_COLUMNS = [
    Column("id", "ID", "int", priority=KEEP),
    Column("publisher", "Publisher", priority=MAIN),
    Column("title", "Title", min_width=20, priority=MAIN),
    Column("url", "URL", min_width=20, priority=MAIN),
    Column("published", "Published", "date", priority=MORE),
    Column("retrieved", "Retrieved", "date", priority=EXTRA),
    Column("links", "Records", "int", priority=MORE),
]
LINK_COLUMNS = [
    Column("kind", "Kind", priority=KEEP),
    Column("record_id", "Record", "int", priority=KEEP),
    Column("confidence", "Confidence", wrap=False, priority=KEEP),
]


@app.command("add")
def source_add(
    url: Annotated[str | None, typer.Option(help="Where to read it: http:// or https://.")] = None,
    title: Annotated[
        str | None, typer.Option(help="Its title, or a citation of an act or statement.")
    ] = None,
    publisher: Annotated[
        str | None, typer.Option(help="Who published it: Reuters, EUR-Lex, OFAC, ...")
    ] = None,
    published: Annotated[str | None, typer.Option(help="Date it was published.")] = None,
    retrieved: Annotated[
        str | None, typer.Option(help="Date you read it (default: today).")
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
    from fintrack.sources import SourceInput, add_source

    data = SourceInput(
        url=url,
        title=title,
        publisher=publisher,
        published_on=optional_date(published, "--published"),
        retrieved_on=optional_date(retrieved, "--retrieved"),
    )

    def record(session: "Session") -> tuple[int, str]:
        begin(session, analyst=analyst)
        source = add_source(session, data)
        return source.id, source.url or source.title or ""

    source_id, described = database().transaction(record)
    note(f"Added source {source_id}: {described}")
    print(source_id)


@app.command("list")
@listing()
def source_list(known_on: KnownOnOption = None, fmt: FormatOption = OutputFormat.TABLE) -> None:
    """List sources with the number of records each speaks for.

    Example:

        fintrack source list --format csv
    """
    from fintrack.sources import list_sources

    view = known(known_on)
    with database().session() as session:
        rows = list_sources(session, view)
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
    from fintrack.sources import get_source, links_of_source, source_row

    view = known(known_on)
    with database().session() as session:
        source = get_source(session, source_id)
        links = links_of_source(session, source_id, view)
        row = source_row(source, len(links))
    render_with_list(
        row, SOURCE_COLUMNS, fmt, f"Source {source_id}", "records", links, LINK_COLUMNS,
        "Records", "It speaks for no record yet.",
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
    from fintrack.changes import finish_change
    from fintrack.history import KIND_NAMES, KINDS, get_record, parse_kind, refuse_void
    from fintrack.sources import link, resolve_source

    name = parse_kind(kind)
    chosen = confidence(level)

    def record(session: "Session") -> tuple[int, str]:
        begin(session, reason, analyst)
        refuse_void(get_record(session, name, record_id), name, "take new sources")
        found = resolve_source(session, source, "SOURCE")
        done = link(session, KINDS[name], record_id, found, chosen)
        finish_change(session)
        return found.id, done

    source_id, done = database().transaction(record)
    what = f"{KIND_NAMES[name]} {record_id}"
    messages = {
        "added": f"Linked source {source_id} to {what} as {chosen}",
        "changed": f"Source {source_id} now makes {what} {chosen}",
        "unchanged": f"Nothing to change: source {source_id} already makes {what} {chosen}",
    }
    note(messages[done])

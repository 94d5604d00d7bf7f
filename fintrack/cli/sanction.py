"""`fintrack sanction`: record, list and show sanction actions."""

from datetime import date
from typing import Annotated

import typer

from fintrack.cli.ask import NoInputOption
from fintrack.cli.common import (
    CLEARED,
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    MinConfidenceOption,
    ReasonOption,
    SourceOption,
    change,
    cli_date,
    cli_date_or_clear,
    listing,
    note,
    tracker,
)
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import SANCTION_COLUMNS
from fintrack.vocab import SanctionActionKind, SanctionStatus, choices

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record, list and show sanction actions.",
    no_args_is_help=True,
)


@app.command("add")
def sanction_add(
    ctx: typer.Context,
    authority: Annotated[
        str | None, typer.Option(help="Who acts: EU, US, UK, UN, ... [required]")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(help="An ISO 3166 country code (SY) or a named entity. [required]"),
    ] = None,
    action: Annotated[
        str | None, typer.Option(help=f"One of: {choices(SanctionActionKind)}. [required]")
    ] = None,
    program: Annotated[
        str | None, typer.Option(help="Program key {ISSUER}-{TARGET}, such as EU-SYR.")
    ] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option(
            "--measure", "-m", help="A measure concerned (repeat): energy, asset freeze, ..."
        ),
    ] = None,
    announced: Annotated[
        date | None, typer.Option(parser=cli_date, help="Date announced (YYYY-MM-DD).")
    ] = None,
    effective: Annotated[
        date | None, typer.Option(parser=cli_date, help="Date it takes effect.")
    ] = None,
    expires: Annotated[
        date | None, typer.Option(parser=cli_date, help="Date it ends unless renewed.")
    ] = None,
    deadline: Annotated[
        date | None,
        typer.Option(parser=cli_date, help="A date to watch: renewal, review or a target date."),
    ] = None,
    deadline_label: Annotated[str | None, typer.Option(help="What happens on --deadline.")] = None,
    status: Annotated[
        str | None,
        typer.Option(
            help=f"One of: {choices(SanctionStatus)}. "
            "Default: in-force when --effective is given, announced otherwise."
        ),
    ] = None,
    legal_ref: Annotated[
        str | None, typer.Option(help="Legal act, such as 'Regulation (EU) 2025/407'.")
    ] = None,
    summary: Annotated[str | None, typer.Option(help="What the action does.")] = None,
    source: SourceOption = None,
    level: ConfidenceOption = "reported",
    ref: Annotated[
        str | None, typer.Option(help="Your own stable key for the record (must be unique).")
    ] = None,
    no_input: NoInputOption = False,
    analyst: AnalystOption = None,
) -> None:
    """Record a sanction action and print its id.

    An action is one act of an authority on a program: it imposes, extends, amends,
    suspends, eases, licenses, waives, delists, lifts or lets measures expire. Its
    --deadline and --expires dates appear in `fintrack deadlines`.

    On a terminal, `fintrack sanction add` without the required options asks for each field
    in turn (known authorities and programs offered); --no-input fails instead.

    Example:

        fintrack sanction add --authority EU --program EU-SYR --target SY \\
            --action suspend --measure energy --measure transport \\
            --effective 2025-02-24 --legal-ref "Regulation (EU) 2025/407" \\
            --deadline 2025-06-01 --deadline-label "regime lapses unless renewed"
    """
    from fintrack.cli.ask import ask_sanction, guided

    if guided(ctx, no_input, lacking=False, authority=authority, target=target, action=action):
        answers = ask_sanction(ctx, dict(ctx.params))
        authority, target, action = answers["authority"], answers["target"], answers["action"]
        program, measure, status = answers["program"], answers["measure"], answers["status"]
        announced, effective = answers["announced"], answers["effective"]
        expires, deadline = answers["expires"], answers["deadline"]
        deadline_label, legal_ref = answers["deadline_label"], answers["legal_ref"]
        summary, source, level = answers["summary"], answers["source"], answers["level"]
    assert authority is not None and target is not None and action is not None
    with change(analyst=analyst) as ch:
        added = ch.add_sanction(
            authority=authority,
            target=target,
            action=action,
            status=status,
            program=program,
            measures=measure or (),
            announced=announced,
            effective=effective,
            expires=expires,
            deadline=deadline,
            deadline_label=deadline_label,
            legal_ref=legal_ref,
            summary=summary,
            sources=source or (),
            confidence=level,
            ref=ref,
        )
    note(f"Added sanction action {added.id}: {added.authority} {added.action} on {added.target}")
    print(added.id)


@app.command("edit")
def sanction_edit(
    sanction_id: Annotated[int, typer.Argument(metavar="ID", help="The sanction action's id.")],
    authority: Annotated[str | None, typer.Option(help="Who acts.")] = None,
    target: Annotated[str | None, typer.Option(help="The target.")] = None,
    action: Annotated[
        str | None, typer.Option(help=f"One of: {choices(SanctionActionKind)}.")
    ] = None,
    status: Annotated[str | None, typer.Option(help=f"One of: {choices(SanctionStatus)}.")] = None,
    program: Annotated[str | None, typer.Option(help='Program key; "" clears it.')] = None,
    measure: Annotated[
        list[str] | None,
        typer.Option("--measure", "-m", help="The measures concerned (repeat): replaces them."),
    ] = None,
    announced: Annotated[
        date | None, typer.Option(parser=cli_date_or_clear, help="Date announced.")
    ] = None,
    effective: Annotated[
        date | None, typer.Option(parser=cli_date_or_clear, help="Date it takes effect.")
    ] = None,
    expires: Annotated[
        date | None, typer.Option(parser=cli_date_or_clear, help='Date it ends; "" clears it.')
    ] = None,
    deadline: Annotated[
        date | None, typer.Option(parser=cli_date_or_clear, help='A date to watch; "" clears it.')
    ] = None,
    deadline_label: Annotated[str | None, typer.Option(help="What happens on --deadline.")] = None,
    legal_ref: Annotated[str | None, typer.Option(help="Legal act.")] = None,
    summary: Annotated[str | None, typer.Option(help="What the action does.")] = None,
    ref: Annotated[str | None, typer.Option(help="Your own stable key.")] = None,
    source: SourceOption = None,
    level: ConfidenceOption = "reported",
    reason: ReasonOption = None,
    analyst: AnalystOption = None,
) -> None:
    """Change a sanction action; what it was before is kept in its history.

    Give only what changes. Text and dates given as "" are cleared; --measure replaces the
    list of measures; --source adds a source (or, for one already linked, sets its
    --confidence).

    Example (the EU regime renewed to 1 June 2026):

        fintrack sanction edit 4 --expires 2026-06-01 --status in-force \
            --reason "renewed by Council Decision (CFSP) 2025/1098"
    """
    from fintrack.errors import InputError

    # In this order the fields are checked, and the first wrong one reported.
    given = {
        "authority": authority,
        "target": target,
        "program": program,
        "deadline_label": deadline_label,
        "legal_ref": legal_ref,
        "summary": summary,
        "ref": ref,
        "announced": announced,
        "effective": effective,
        "expires": expires,
        "deadline": deadline,
        "action": action,
        "status": status,
    }
    changes = {
        name: None if value is CLEARED else value
        for name, value in given.items()
        if value is not None
    }
    if not changes and measure is None and not source:
        raise InputError("edit", "give at least one field to change (see --help)")
    with change(reason, analyst) as ch:
        ch.edit_sanction(sanction_id, measure, source or (), level, **changes)
    note(
        f"Changed sanction action {sanction_id}; see fintrack history sanction {sanction_id}"
        if ch.wrote
        else f"Nothing to change: sanction action {sanction_id} already has these values"
    )


@app.command("list")
@listing()
def sanction_list(
    authority: Annotated[str | None, typer.Option(help="Only this authority.")] = None,
    program: Annotated[str | None, typer.Option(help="Only this program (EU-SYR).")] = None,
    target: Annotated[str | None, typer.Option(help="Target contains this text.")] = None,
    status: Annotated[str | None, typer.Option(help=f"One of: {choices(SanctionStatus)}.")] = None,
    action: Annotated[
        str | None, typer.Option(help=f"One of: {choices(SanctionActionKind)}.")
    ] = None,
    since: Annotated[
        date | None,
        typer.Option(parser=cli_date, help="Announced (or else effective) on or after this date."),
    ] = None,
    until: Annotated[
        date | None, typer.Option(parser=cli_date, help="... on or before this date.")
    ] = None,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List sanction actions, oldest first.

    Example:

        fintrack sanction list --authority EU --since 2025-01-01 --format csv
    """
    rows = tracker().sanctions(
        authority=authority,
        program=program,
        target=target,
        status=status or None,
        action=action or None,
        since=since,
        until=until,
        known_on=known_on,
        min_confidence=min_confidence,
    )
    render(
        rows, SANCTION_COLUMNS, fmt, title="Sanction actions", empty="No sanction actions match."
    )


@app.command("show")
def sanction_show(
    sanction_id: Annotated[int, typer.Argument(metavar="ID", help="The sanction action's id.")],
    known_on: KnownOnOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show one sanction action in full, with its sources.

    Example:

        fintrack sanction show 2
    """
    from fintrack.cli.output import show_with_sources

    shown = tracker().sanction_detail(sanction_id, known_on=known_on)
    show_with_sources(
        shown.sanction, shown.sources, SANCTION_COLUMNS, fmt, f"Sanction action {sanction_id}"
    )

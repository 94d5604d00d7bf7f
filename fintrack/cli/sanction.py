"""`fintrack sanction`: record, list and show sanction actions."""

from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.ask import NoInputOption
from fintrack.cli.common import (
    AnalystOption,
    ConfidenceOption,
    FormatOption,
    KnownOnOption,
    MinConfidenceOption,
    ReasonOption,
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
from fintrack.formats import SANCTION_COLUMNS
from fintrack.vocab import SanctionActionKind, SanctionStatus, choices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

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
    announced: Annotated[str | None, typer.Option(help="Date announced (YYYY-MM-DD).")] = None,
    effective: Annotated[str | None, typer.Option(help="Date it takes effect.")] = None,
    expires: Annotated[str | None, typer.Option(help="Date it ends unless renewed.")] = None,
    deadline: Annotated[
        str | None, typer.Option(help="A date to watch: renewal, review or a target date.")
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
    from fintrack.sanctions import SanctionInput, add_sanction
    from fintrack.vocab import parse_choice

    if guided(ctx, no_input, lacking=False, authority=authority, target=target, action=action):
        answers = ask_sanction(ctx, dict(ctx.params))
        authority, target, action = answers["authority"], answers["target"], answers["action"]
        program, measure, status = answers["program"], answers["measure"], answers["status"]
        announced, effective = answers["announced"], answers["effective"]
        expires, deadline = answers["expires"], answers["deadline"]
        deadline_label, legal_ref = answers["deadline_label"], answers["legal_ref"]
        summary, source, level = answers["summary"], answers["source"], answers["level"]
    assert authority is not None and target is not None and action is not None
    effective_on = optional_date(effective, "--effective")
    data = SanctionInput(
        authority=authority,
        target=target,
        action=parse_choice(SanctionActionKind, action, "--action"),
        status=parse_choice(SanctionStatus, status, "--status")
        if status is not None
        else (SanctionStatus.IN_FORCE if effective_on else SanctionStatus.ANNOUNCED),
        program=program,
        measures=measure or [],
        announced_on=optional_date(announced, "--announced"),
        effective_on=effective_on,
        expires_on=optional_date(expires, "--expires"),
        deadline_on=optional_date(deadline, "--deadline"),
        deadline_label=deadline_label,
        legal_ref=legal_ref,
        summary=summary,
        sources=source or (),
        confidence=confidence(level),
        ref=ref,
    )

    def record(session: "Session") -> tuple[int, str]:
        begin(session, analyst=analyst)
        added = add_sanction(session, data)
        return added.id, f"{added.authority} {added.action} on {added.target}"

    record_id, described = database().transaction(record)
    note(f"Added sanction action {record_id}: {described}")
    print(record_id)


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
    announced: Annotated[str | None, typer.Option(help="Date announced.")] = None,
    effective: Annotated[str | None, typer.Option(help="Date it takes effect.")] = None,
    expires: Annotated[str | None, typer.Option(help='Date it ends; "" clears it.')] = None,
    deadline: Annotated[str | None, typer.Option(help='A date to watch; "" clears it.')] = None,
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
    from fintrack.vocab import parse_choice

    changes: dict[str, object] = {}
    texts = {
        "authority": authority,
        "target": target,
        "program": program,
        "deadline_label": deadline_label,
        "legal_ref": legal_ref,
        "summary": summary,
        "ref": ref,
    }
    changes.update({name: value for name, value in texts.items() if value is not None})
    dates = {
        "announced_on": (announced, "--announced"),
        "effective_on": (effective, "--effective"),
        "expires_on": (expires, "--expires"),
        "deadline_on": (deadline, "--deadline"),
    }
    for name, (value, option) in dates.items():
        if value is not None:
            changes[name] = optional_date(value, option) if value.strip() else None
    if action is not None:
        changes["action"] = parse_choice(SanctionActionKind, action, "--action")
    if status is not None:
        changes["status"] = parse_choice(SanctionStatus, status, "--status")
    chosen = confidence(level)
    if not changes and measure is None and not source:
        raise InputError("edit", "give at least one field to change (see --help)")

    def record(session: "Session") -> bool:
        from fintrack.changes import finish_change
        from fintrack.sanctions import edit_sanction

        begin(session, reason, analyst)
        edit_sanction(session, sanction_id, changes, measure, source or (), chosen)
        return finish_change(session)

    changed = database().transaction(record)
    note(
        f"Changed sanction action {sanction_id}; see fintrack history sanction {sanction_id}"
        if changed
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
        str | None, typer.Option(help="Announced (or else effective) on or after this date.")
    ] = None,
    until: Annotated[str | None, typer.Option(help="... on or before this date.")] = None,
    known_on: KnownOnOption = None,
    min_confidence: MinConfidenceOption = None,
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List sanction actions, oldest first.

    Example:

        fintrack sanction list --authority EU --since 2025-01-01 --format csv
    """
    from fintrack.sanctions import SanctionFilter, list_sanctions
    from fintrack.vocab import parse_choice

    where = SanctionFilter(
        authority=authority,
        program=program,
        target=target,
        status=parse_choice(SanctionStatus, status, "--status") if status else None,
        action=parse_choice(SanctionActionKind, action, "--action") if action else None,
        since=optional_date(since, "--since"),
        until=optional_date(until, "--until"),
    )
    view = known(known_on, min_confidence)
    with database().session() as session:
        rows = list_sanctions(session, where, view)
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
    from fintrack.models import SanctionAction
    from fintrack.sanctions import known_sanction
    from fintrack.sources import sources_of

    view = known(known_on)
    with database().session() as session:
        row = known_sanction(session, sanction_id, view)
        cited = sources_of(session, SanctionAction, [sanction_id], view)[sanction_id]
    show_with_sources(row, cited, SANCTION_COLUMNS, fmt, f"Sanction action {sanction_id}")

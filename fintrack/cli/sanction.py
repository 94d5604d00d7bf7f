"""`fintrack sanction`: record, list and show sanction actions."""

from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.common import FormatOption, database, note, optional_date
from fintrack.cli.output import Column, OutputFormat, render, render_one
from fintrack.vocab import SanctionActionKind, SanctionStatus, choices

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    rich_markup_mode="markdown",
    help="Record, list and show sanction actions.",
    no_args_is_help=True,
)

COLUMNS = [
    Column("id", "ID", "int"),
    Column("authority", "Authority"),
    Column("program", "Program"),
    Column("target", "Target"),
    Column("action", "Action"),
    Column("measures", "Measures", "list"),
    Column("status", "Status", wrap=False),
    Column("announced", "Announced", "date"),
    Column("effective", "Effective", "date"),
    Column("expires", "Expires", "date"),
    Column("deadline", "Deadline", "date"),
    Column("deadline_label", "Deadline label", in_table=False),
    Column("legal_ref", "Legal reference", in_table=False),
    Column("summary", "Summary", in_table=False),
    Column("source", "Source", in_table=False),
    Column("ref", "Ref", in_table=False),
]


@app.command("add")
def sanction_add(
    authority: Annotated[str, typer.Option(help="Who acts: EU, US, UK, UN, ...")],
    target: Annotated[str, typer.Option(help="An ISO 3166 country code (SY) or a named entity.")],
    action: Annotated[str, typer.Option(help=f"One of: {choices(SanctionActionKind)}.")],
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
    source: Annotated[
        str | None, typer.Option(help="Where this comes from: a URL or a citation.")
    ] = None,
    ref: Annotated[
        str | None, typer.Option(help="Your own stable key for the record (must be unique).")
    ] = None,
) -> None:
    """Record a sanction action and print its id.

    An action is one act of an authority on a program: it imposes, extends, amends,
    suspends, eases, licenses, waives, delists, lifts or lets measures expire. Its
    --deadline and --expires dates appear in `fintrack deadlines`.

    Example:

        fintrack sanction add --authority EU --program EU-SYR --target SY \\
            --action suspend --measure energy --measure transport \\
            --effective 2025-02-24 --legal-ref "Regulation (EU) 2025/407" \\
            --deadline 2025-06-01 --deadline-label "regime lapses unless renewed"
    """
    from fintrack.sanctions import SanctionInput, add_sanction
    from fintrack.vocab import parse_choice

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
        source=source,
        ref=ref,
    )

    def record(session: "Session") -> tuple[int, str]:
        added = add_sanction(session, data)
        return added.id, f"{added.authority} {added.action} on {added.target}"

    record_id, described = database().transaction(record)
    note(f"Added sanction action {record_id}: {described}")
    print(record_id)


@app.command("list")
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
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """List sanction actions, oldest first.

    Example:

        fintrack sanction list --authority EU --since 2025-01-01 --format csv
    """
    from fintrack.sanctions import SanctionFilter, list_sanctions, sanction_row
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
    with database().session() as session:
        rows = [sanction_row(r) for r in list_sanctions(session, where)]
    render(rows, COLUMNS, fmt, title="Sanction actions", empty="No sanction actions match.")


@app.command("show")
def sanction_show(
    sanction_id: Annotated[int, typer.Argument(metavar="ID", help="The sanction action's id.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show one sanction action in full.

    Example:

        fintrack sanction show 2
    """
    from fintrack.sanctions import get_sanction, sanction_row

    with database().session() as session:
        row = sanction_row(get_sanction(session, sanction_id))
    render_one(row, COLUMNS, fmt, title=f"Sanction action {sanction_id}")

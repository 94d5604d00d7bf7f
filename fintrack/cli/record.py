"""`fintrack void` and `fintrack history`: records are voided, never deleted; their past stays."""

from typing import Annotated

import typer

from fintrack.cli.common import AnalystOption, FormatOption, change, listing, note, tracker
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import HISTORY_COLUMNS


def void(
    kind: Annotated[str, typer.Argument(help="sanction, pledge, payment or claim.")],
    record_id: Annotated[int, typer.Argument(metavar="ID", help="The record's id.")],
    reason: Annotated[str, typer.Option(help="Why it is voided: kept in its history.")],
    analyst: AnalystOption = None,
) -> None:
    """Void a record entered in error or withdrawn, in place of deleting it.

    A voided record leaves every list, total and deadline from then on, but stays on
    record: `fintrack history KIND ID` shows it, and --known-on a date before the void
    still counts it. A voided pledge takes its payments out of the totals with it; a
    pledge that a voided one replaced counts again.

    Example:

        fintrack void payment 7 --reason "entered twice"
    """
    from fintrack.errors import InputError

    if not reason.strip():
        raise InputError("--reason", "must not be empty: say why the record is voided")
    with change(reason, analyst) as ch:
        voided = ch.void(kind, record_id)
    note(
        f"Voided {voided.label} {voided.id}; its history keeps it "
        f"(fintrack history {voided.kind} {voided.id})"
    )


@listing()
def history(
    kind: Annotated[str, typer.Argument(help="sanction, pledge, payment or claim.")],
    record_id: Annotated[int, typer.Argument(metavar="ID", help="The record's id.")],
    fmt: FormatOption = OutputFormat.TABLE,
) -> None:
    """Show every change to a record: when, who, which field from what to what, and why.

    A pledge's history includes its installments and payments; every record's includes
    its sources and their confidence. Times are UTC.

    Example:

        fintrack history pledge 1
    """
    found = tracker().record_history(kind, record_id)
    # The columns are named as the files have always named them: from and to.
    rows = [{**vars(row), "from": row.old, "to": row.new} for row in found.changes]
    title = f"History of {found.record.label} {found.record.id}"
    render(rows, HISTORY_COLUMNS, fmt, title=title)

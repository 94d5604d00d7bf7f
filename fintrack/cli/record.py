"""`fintrack void` and `fintrack history`: records are voided, never deleted; their past stays."""

from typing import TYPE_CHECKING, Annotated

import typer

from fintrack.cli.common import AnalystOption, FormatOption, begin, database, listing, note
from fintrack.cli.output import OutputFormat, render
from fintrack.formats import KEEP, MAIN, MORE, Column

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

HISTORY_COLUMNS = [
    Column("change", "Change", "int", priority=KEEP),
    Column("at", "When", "datetime", priority=MAIN),
    Column("analyst", "Who", wrap=False, priority=MORE),
    Column("what", "What", priority=KEEP),
    Column("field", "Field", priority=KEEP),
    Column("from", "From", min_width=12, priority=MAIN),
    Column("to", "To", min_width=12, priority=MAIN),
    Column("reason", "Why", min_width=12, priority=MORE),
    Column("command", "Command", in_table=False),
]


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
    from fintrack.history import KIND_NAMES, parse_kind
    from fintrack.history import void as void_record

    name = parse_kind(kind)
    if not reason.strip():
        raise InputError("--reason", "must not be empty: say why the record is voided")

    def work(session: "Session") -> None:
        begin(session, reason, analyst)
        void_record(session, name, record_id)

    database().transaction(work)
    note(
        f"Voided {KIND_NAMES[name]} {record_id}; its history keeps it "
        f"(fintrack history {name} {record_id})"
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
    from fintrack.history import KIND_NAMES, parse_kind, record_history

    name = parse_kind(kind)
    with database().session() as session:
        rows = record_history(session, name, record_id)
    render(rows, HISTORY_COLUMNS, fmt, title=f"History of {KIND_NAMES[name]} {record_id}")

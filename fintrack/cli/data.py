"""`fintrack seed` and `fintrack export`: load the founding case, write CSV files."""

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from fintrack.cli.common import database, note
from fintrack.cli.output import Column, atomic_text_file, write_csv


class ExportKind(StrEnum):
    SANCTIONS = "sanctions"
    PLEDGES = "pledges"
    INSTALLMENTS = "installments"
    DISBURSEMENTS = "disbursements"
    DEADLINES = "deadlines"
    TOTALS = "totals"


def seed(
    folder: Annotated[
        Path | None,
        typer.Option(
            help="A folder of .toml seed files (default: the founding case shipped with fintrack)."
        ),
    ] = None,
) -> None:
    """Load the founding case: 2025 sanctions actions on Syria and Qatar's pledge, with sources.

    Every record has a stable ref, so running it twice adds nothing.

    Example:

        fintrack seed && fintrack totals
    """
    from fintrack.seed import load_seed
    from fintrack.store import resource_dir

    db = database()
    result = db.transaction(lambda session: load_seed(session, folder or resource_dir("seed")))
    note(
        f"Seeded {db.display}: {result.sanctions_added} sanction actions and "
        f"{result.pledges_added} pledges added, {result.already_present} already present"
    )


def _rows(
    kind: ExportKind, as_of: str | None, within: int, by: str
) -> tuple[list[Column], list[dict[str, Any]]]:
    from fintrack.cli import pledge, report, sanction

    if kind is ExportKind.DEADLINES:
        return report.DEADLINE_COLUMNS, report.deadlines_rows(as_of, within)[1]
    if kind is ExportKind.TOTALS:
        grouping, rows = report.totals_rows(by, None, None, None)
        return report.totals_columns(grouping), rows
    from fintrack.pledges import PledgeFilter, disbursement_rows, installment_rows, list_pledges
    from fintrack.sanctions import SanctionFilter, list_sanctions, sanction_row

    with database().session() as session:
        if kind is ExportKind.SANCTIONS:
            rows = [sanction_row(r) for r in list_sanctions(session, SanctionFilter())]
            return sanction.COLUMNS, rows
        if kind is ExportKind.PLEDGES:
            return pledge.PLEDGE_COLUMNS, list_pledges(session, PledgeFilter())
        if kind is ExportKind.INSTALLMENTS:
            return pledge.INSTALLMENT_COLUMNS, installment_rows(session, date.today())
        return pledge.DISBURSEMENT_COLUMNS, disbursement_rows(session)


def export(
    kind: Annotated[ExportKind, typer.Argument(case_sensitive=False, help="What to export.")],
    output: Annotated[
        str, typer.Option("--output", "-o", help="The CSV file to write, or - for stdout.")
    ],
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="deadlines: count days from this date.")
    ] = None,
    within: Annotated[int, typer.Option(help="deadlines: look this many days ahead.")] = 90,
    by: Annotated[
        str, typer.Option(help="totals: the grouping, as for `fintrack totals`.")
    ] = "pair",
) -> None:
    """Write sanctions, pledges, installments, disbursements, deadlines or totals to a CSV file.

    Amounts are exact, with the currency's minor digits and no thousands separators
    (87000000.00); dates are ISO. The file is replaced only once it is completely written.

    Example:

        fintrack export pledges -o pledges.csv
    """
    columns, rows = _rows(kind, as_of, within, by)
    if output == "-":
        write_csv(rows, columns, sys.stdout)
        return
    target = Path(output)
    with atomic_text_file(target, "--output") as handle:
        count = write_csv(rows, columns, handle)
    note(f"Wrote {count} rows of {kind.value} to {target}")

"""`fintrack seed`, `export` and `import`: load the founding case, write and read CSV files."""

import sys
from contextlib import ExitStack
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fintrack.cli.common import AnalystOption, begin, database, note, optional_date, plural
from fintrack.cli.output import OutputFormat, atomic_text_file, stderr_console
from fintrack.formats import (
    DEADLINE_COLUMNS,
    Column,
    FileFormat,
    file_columns,
    totals_columns,
    write_rows,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fintrack.seed import SeedResult


class ExportKind(StrEnum):
    SANCTIONS = "sanctions"
    PLEDGES = "pledges"
    INSTALLMENTS = "installments"
    DISBURSEMENTS = "disbursements"
    RATES = "rates"
    SOURCES = "sources"
    LINKS = "links"
    DEADLINES = "deadlines"
    TOTALS = "totals"


def seed(
    folder: Annotated[
        Path | None,
        typer.Option(
            help="A folder of .toml seed files (default: the founding case shipped with fintrack)."
        ),
    ] = None,
    analyst: AnalystOption = None,
) -> None:
    """Load the founding case: 2025 sanctions actions on Syria, Qatar's pledge and a denied
    claim, each linked to its sources with a confidence.

    Every record has a stable ref and every source a URL or title, so running it twice
    adds nothing.

    Example:

        fintrack seed && fintrack totals
    """
    from fintrack.changes import finish_change
    from fintrack.seed import load_seed
    from fintrack.store import resource_dir

    def work(session: "Session") -> "SeedResult":
        begin(session, analyst=analyst)
        result = load_seed(session, folder or resource_dir("seed"))
        finish_change(session)
        return result

    from sqlalchemy.exc import IntegrityError

    db = database()
    try:
        result = db.transaction(work)
    except IntegrityError as exc:
        raise _changed_meanwhile("seed", exc) from None
    note(
        f"Seeded {db.display}: {plural(result.sanctions_added, 'sanction action')}, "
        f"{plural(result.pledges_added, 'pledge')}, {plural(result.claims_added, 'claim')} and "
        f"{plural(result.sources_added, 'source')} added, "
        f"{plural(result.already_present, 'record')} already present"
    )


def _changed_meanwhile(command: str, exc: Any) -> Exception:
    """The error for a record that another command (`sanction add --ref`, say) stored while
    an import or seed ran, between its check and its write: imports and seeds wait for each
    other, other commands do not (on PostgreSQL; on SQLite every writer waits)."""
    from fintrack.errors import Refused
    from fintrack.store import hide_password

    reason = " ".join(str(exc.orig).split())
    return Refused(
        f"another command added a record while this {command} ran "
        f"({hide_password(reason, database().url)}); nothing was written; run the {command} again"
    )


def _report_rows(
    kind: ExportKind, as_of: str | None, within: int, by: str
) -> tuple[list[Column], list[dict[str, Any]]]:
    from fintrack.known import NOW
    from fintrack.reports import Grouping, TotalsFilter, deadlines_report, totals_report
    from fintrack.vocab import parse_choice

    if kind is ExportKind.DEADLINES:
        day = optional_date(as_of, "--as-of")
        with database().session() as session:
            return DEADLINE_COLUMNS, deadlines_report(session, day, within)[1]
    grouping = parse_choice(Grouping, by, "by")
    with database().session() as session:
        rows, _ = totals_report(session, grouping, TotalsFilter(known=NOW))
    return totals_columns(grouping), rows


def _progress(quiet: bool) -> Any:
    """A progress bar on stderr, or None when stderr is not a terminal or with --quiet."""
    console = stderr_console()
    if quiet or not console.is_terminal:
        return None
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )


def export(
    kind: Annotated[
        ExportKind,
        typer.Argument(
            case_sensitive=False,
            help="What to export: sanctions, pledges, installments, disbursements, rates, "
            "sources, links, deadlines or totals.",
        ),
    ],
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="The file to write (default, or -: stdout)."),
    ] = None,
    fmt: Annotated[
        FileFormat,
        typer.Option(
            "--format",
            "-f",
            case_sensitive=False,
            help="csv (default), json (one array) or jsonl (one object a line).",
        ),
    ] = FileFormat.CSV,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="deadlines: count days from this date.")
    ] = None,
    within: Annotated[int, typer.Option(help="deadlines: look this many days ahead.")] = 90,
    by: Annotated[
        str, typer.Option(help="totals: the grouping, as for `fintrack totals`.")
    ] = "pair",
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")
    ] = False,
) -> None:
    """Write sanctions, pledges, installments, disbursements, rates, sources, links,
    deadlines or totals.

    Amounts are exact, with the currency's minor digits and no thousands separators
    (87000000.00; text in JSON); dates are ISO. Text cells that a spreadsheet would run as
    a formula get a ' in front. Without -o the rows go to stdout; a file is replaced only
    once it is completely written.
    Only live records are written: voided ones, and their installments, payments and links,
    are left out. All but deadlines and totals read back with `fintrack import`.

    Example:

        fintrack export pledges -o pledges.csv
        fintrack export totals --format json
    """
    target = None if output in (None, "-") else Path(output)
    written = OutputFormat(fmt.value)
    if kind in (ExportKind.DEADLINES, ExportKind.TOTALS):
        columns, listed = _report_rows(kind, as_of, within, by)
        if target is None:
            write_rows(listed, columns, written, sys.stdout)
            return
        with atomic_text_file(target, "--output") as handle:
            count = write_rows(listed, columns, written, handle)
    else:
        from fintrack.interchange import Kind, count_rows, export_rows

        columns = file_columns(kind.value)
        with database().session() as session:
            rows = export_rows(session, Kind(kind.value), date.today())
            progress = _progress(quiet) if target is not None else None
            if progress is not None:
                task = progress.add_task(
                    f"Exporting {kind.value}", total=count_rows(session, Kind(kind.value))
                )
                rows = progress.track(rows, task_id=task)
            if target is None:
                write_rows(rows, columns, written, sys.stdout)
                return
            with atomic_text_file(target, "--output") as handle:
                if progress is None:
                    count = write_rows(rows, columns, written, handle)
                else:
                    with progress:
                        count = write_rows(rows, columns, written, handle)
    if not quiet:
        note(f"Wrote {plural(count, 'row')} of {kind.value} to {target}")


class ImportKind(StrEnum):
    SANCTIONS = "sanctions"
    PLEDGES = "pledges"
    INSTALLMENTS = "installments"
    DISBURSEMENTS = "disbursements"
    RATES = "rates"
    SOURCES = "sources"
    LINKS = "links"


class OnError(StrEnum):
    STOP = "stop"
    SKIP = "skip"


def _counted(counts: dict[str, int]) -> str:
    """`3 pledges, 1 installment` from counts keyed by the plural (`pledges`)."""
    return ", ".join(plural(n, kind.removesuffix("s"), kind) for kind, n in counts.items())


def import_(
    kind: Annotated[
        ImportKind,
        typer.Argument(
            case_sensitive=False,
            help="What the file holds: sanctions, pledges, installments, disbursements, "
            "rates, sources or links.",
        ),
    ],
    file: Annotated[Path, typer.Argument(help="A CSV file, as `fintrack export KIND` writes.")],
    installments: Annotated[
        Path | None,
        typer.Option(help="pledges: their installments, as `fintrack export installments`."),
    ] = None,
    pledges: Annotated[
        Path | None,
        typer.Option(help="installments: their pledges, as `fintrack export pledges`."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and say what would be added.")
    ] = False,
    on_error: Annotated[
        OnError,
        typer.Option(
            case_sensitive=False,
            help="stop: import nothing when a row is bad; skip: import the good rows "
            "and write the bad ones to --rejects.",
        ),
    ] = OnError.STOP,
    rejects: Annotated[
        Path | None,
        typer.Option(help="With --on-error skip: a CSV file for the bad rows and why."),
    ] = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")
    ] = False,
    analyst: AnalystOption = None,
) -> None:
    """Add the records of a CSV file that are not stored yet, in one transaction.

    Every row is checked before anything is written; bad rows are listed with their file,
    line and column. Records are matched by their stable key (a ref, or one derived from
    the content; rates by base, quote and day; sources by URL), so importing a file twice
    adds nothing; a record voided in this database stays void. The import is one change in
    the records' history. Import sources before links, and links after the records they
    name. Files may come from a spreadsheet: UTF-8 with or without a byte-order mark, , or ;
    between cells, amounts with separators between thousands.

    Example:

        fintrack import pledges pledges.csv --installments installments.csv
    """
    from sqlalchemy.exc import IntegrityError

    from fintrack import interchange
    from fintrack.errors import InputError
    from fintrack.interchange import CsvFile, InvalidRows, Kind, Options

    if installments is not None and kind is not ImportKind.PLEDGES:
        raise InputError("--installments", "goes with `fintrack import pledges`")
    if pledges is not None and kind is not ImportKind.INSTALLMENTS:
        raise InputError("--pledges", "goes with `fintrack import installments`")
    if (on_error is OnError.SKIP) != (rejects is not None):
        raise InputError(
            "--rejects", "goes with --on-error skip, which needs it: --on-error skip --rejects FILE"
        )

    if rejects is not None:
        # The rejects replace their file once written: never a file being imported.
        replaced = {rejects.resolve()}
        if installments is not None or pledges is not None:
            other = "installments" if installments is not None else "pledges"
            replaced.add(rejects.with_name(f"{rejects.stem}.{other}{rejects.suffix}").resolve())
        for given in (file, installments, pledges):
            if given is not None and given.resolve() in replaced:
                raise InputError(
                    "--rejects", f"would replace {given}, which is imported; give another file"
                )

    def source(path: Path, of: str) -> CsvFile:
        return CsvFile(path, Kind(of), [c.key for c in file_columns(of)], str(path))

    main = source(file, kind.value)
    companion = None
    if installments is not None:
        companion = source(installments, "installments")
    if pledges is not None:
        companion = source(pledges, "pledges")
    progress = _progress(quiet)
    options = Options(dry_run=dry_run)
    if progress is not None:

        def track(description: str, total: int) -> interchange.Progress:
            task = progress.add_task(description, total=total)
            return lambda done: progress.update(task, completed=done)

        options.progress = track

    with ExitStack() as stack:
        writers: dict[str, Any] = {}
        if rejects is not None:
            if dry_run:
                options.reject = lambda _source, _raw, _reason: None
            else:
                options.reject = _rejects_writer(stack, writers, main, rejects)
        if progress is not None:
            stack.enter_context(progress)
        db = database()
        try:
            with db.session(write=not dry_run) as session:
                if not dry_run:
                    options.change = begin(session, analyst=analyst)
                if kind is ImportKind.SANCTIONS:
                    result = interchange.import_sanctions(session, main, options)
                elif kind is ImportKind.PLEDGES:
                    result = interchange.import_pledges(session, main, companion, options)
                elif kind is ImportKind.INSTALLMENTS:
                    result = interchange.import_pledges(session, companion, main, options)
                elif kind is ImportKind.DISBURSEMENTS:
                    result = interchange.import_disbursements(session, main, options)
                elif kind is ImportKind.SOURCES:
                    result = interchange.import_sources(session, main, options)
                elif kind is ImportKind.LINKS:
                    result = interchange.import_links(session, main, options)
                else:
                    result = interchange.import_rates(session, main, options)
                if options.change is not None and not result.wrote:
                    session.delete(options.change)  # nothing was written: no change to keep
        except InvalidRows as exc:
            if progress is not None:
                progress.stop()
            for line in exc.listing():
                print(line, file=sys.stderr)
            raise
        except IntegrityError as exc:
            raise _changed_meanwhile("import", exc) from None
        if rejects is not None and not dry_run and main.label not in writers:
            _rejects_writer(stack, writers, main, rejects)(main, [], "")
    if quiet:
        return
    added = _counted(result.added) or f"no {kind.value}"
    present = _counted(result.present) or "nothing"
    changed = _counted(result.changed)
    if dry_run:
        change = f" and change the confidence of {changed}" if changed else ""
        message = (
            f"Dry run of {file}: would add {added}{change}; {present} already present; "
            "nothing written"
        )
    else:
        change = f", the confidence of {changed} changed" if changed else ""
        message = (
            f"Imported {file} into {db.display}: {added} added{change}, {present} already present"
        )
    if result.voided:
        message += f"; {_counted(result.voided)} voided in this database left out"
    if result.rejected:
        written = "" if dry_run else f", written to {rejects}"
        message += f"; {plural(result.rejected, 'bad row')} rejected{written}"
    print(message, file=sys.stderr)


def _rejects_writer(stack: ExitStack, writers: dict[str, Any], main: Any, target: Path) -> Any:
    """Write rejected rows, as read plus a reason, to `target` (and a sibling file for the
    rows of the second file of an import: rejects.csv -> rejects.installments.csv)."""
    from fintrack.formats import CsvWriter
    from fintrack.interchange import REASON
    from fintrack.spreadsheet import neutralise, unneutralise

    def reject(source: Any, raw: list[str], reason: str) -> None:
        writer = writers.get(source.label)
        if writer is None:
            path = target
            if source.label != main.label:
                path = target.with_name(f"{target.stem}.{source.kind.value}{target.suffix}")
            handle = stack.enter_context(atomic_text_file(path, "--rejects"))
            writer = writers[source.label] = CsvWriter(handle)
            writer.writerow([*(c for c in source.header if c != REASON), REASON])
        if not raw and not reason:
            return
        cells = [c for name, c in zip(source.header, raw, strict=False) if name != REASON]
        writer.writerow([*(neutralise(unneutralise(c)) for c in cells), neutralise(reason)])

    return reject

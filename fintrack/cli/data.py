"""`fintrack seed`, `export` and `import`: load the founding case, write and read CSV files."""

import sys
from contextlib import nullcontext
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from fintrack.cli.common import AnalystOption, cli_date, note, plural, tracker, typed_command
from fintrack.cli.output import stderr_console
from fintrack.formats import FileFormat
from fintrack.vocab import (
    FTS_RATE_SLACK_USD,
    FTS_RATE_TOLERANCE,
    ExportChoice,
    ExternalFormat,
    FileKind,
    ImportChoice,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from fintrack.api import FtsImportSummary, ImportSummary

# `fintrack export` writes every kind of record file and the reports; `import` reads the files,
# and other systems' (OCHA FTS flows).
ExportKind = ExportChoice
ImportKind = ImportChoice


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
    tracking = tracker()
    result = tracking.seed_summary(folder, analyst, command=typed_command())
    note(
        f"Seeded {tracking.display}: {plural(result.sanctions, 'sanction action')}, "
        f"{plural(result.pledges, 'pledge')}, {plural(result.claims, 'claim')} and "
        f"{plural(result.sources, 'source')} added, "
        f"{plural(result.already_present, 'record')} already present"
    )


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
            metavar="csv|json|jsonl|ftm",
            help="csv (default), json (one array) or jsonl (one object a line); for "
            "sanctions also ftm (FollowTheMoney entities, one a line).",
        ),
    ] = FileFormat.CSV,
    as_of: Annotated[
        date | None,
        typer.Option("--as-of", parser=cli_date, help="deadlines: count days from this date."),
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
    records = kind.value in set(FileKind)  # the reports are written at once, no bar
    progress = _progress(quiet) if target is not None and records else None
    with progress if progress is not None else nullcontext():
        count = tracker().export(
            kind.value,  # type: ignore[arg-type]  # one of ExportKind's values
            sys.stdout if target is None else target,
            fmt,
            as_of,
            within,
            by,  # type: ignore[arg-type]  # the tracker checks it and names the option
            progress=None if progress is None else _tracked(progress),
        )
    if target is not None and not quiet:
        what = plural(count, "FtM entity", "FtM entities") if fmt is FileFormat.FTM else None
        note(f"Wrote {what or plural(count, 'row')} of {kind.value} to {target}")


def _imported(quiet: bool, run: "Callable[[Any], ImportSummary]") -> "ImportSummary":
    """An import run with its progress bar (unless `quiet`), given the bar's callback; its
    bad rows or elements listed on stderr, one a line, before the error."""
    from fintrack.errors import InvalidRows

    progress = _progress(quiet)
    try:
        with progress if progress is not None else nullcontext():
            return run(None if progress is None else _tracked(progress))
    except InvalidRows as exc:
        for line in exc.listing():
            print(line, file=sys.stderr)
        raise


def _tracked(progress: Any) -> Any:
    """The tracker's `progress(description, total)`, drawn by a Rich progress bar."""

    def track(description: str, total: int) -> Any:
        task = progress.add_task(description, total=total)
        return lambda done: progress.update(task, completed=done)

    return track


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
            "rates, sources or links; fts: OCHA FTS flows; iati: an IATI activity XML file.",
        ),
    ],
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE",
            help="A CSV file, as `fintrack export KIND` writes; for fts, the JSON pages of "
            "one FTS flow search (public/fts/flow, API v1); for iati, an IATI XML file; for "
            "rates also the ECB's euro reference rates as published (eurofxref-hist.zip, .csv, "
            ".xml).",
        ),
    ],
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

    `fintrack import fts PAGE.json...` reads OCHA FTS flows: one pledge per flow id (ref
    fts:ID) in USD as FTS reports it (amountUSD), keeping the original amount, currency and
    rate as recorded; a paid flow has its payment; each cites FTS (confidence reported).
    A newer versionId of a stored flow edits it (its history keeps the old version); flows
    shared with other locations or years, and internal ones, are kept but left out of
    totals, as FTS counts. The summary sets FTS's totals beside fintrack's.

    `fintrack import iati FILE` reads IATI activity XML 2.0x: each activity gives one pledge
    per direction, counterpart and currency (its commitments, else its pledges, else its
    payments: the same money is never counted twice), payments as disbursements and
    planned disbursements as installments. Bad elements are listed as FILE:XPATH; a pledge
    whose figures changed in the file is edited, its history kept.

    Rates may be the ECB's euro reference rates as published (eurofxref-hist.zip, its CSV,
    eurofxref-daily.xml, eurofxref-hist-90d.xml): N/A cells are skipped, and currencies no
    longer in ISO 4217 (CYP, TRL, ...) are left out and named.

    Examples:

        fintrack import pledges pledges.csv --installments installments.csv

        fintrack import fts page-1.json page-2.json page-3.json

        fintrack import iati activities.xml --dry-run

        fintrack import rates eurofxref-hist.zip
    """
    from fintrack.errors import InputError

    if kind.value == "fts":
        for option, given in (("--installments", installments), ("--pledges", pledges)):
            if given is not None:
                raise InputError(option, "goes with an import of CSV files, not fts")
        if on_error is not OnError.STOP or rejects is not None:
            raise InputError("--on-error", "fts imports every flow or none: leave it out")
        _import_fts(files, dry_run, quiet, analyst)
        return
    if len(files) > 1:
        raise InputError("FILE", f"one file for an import of {kind.value}; several only with fts")
    file = files[0]
    if installments is not None and kind.value != FileKind.PLEDGES:
        raise InputError("--installments", "goes with `fintrack import pledges`")
    if pledges is not None and kind.value != FileKind.INSTALLMENTS:
        raise InputError("--pledges", "goes with `fintrack import installments`")
    if (on_error is OnError.SKIP) != (rejects is not None):
        raise InputError(
            "--rejects", "goes with --on-error skip, which needs it: --on-error skip --rejects FILE"
        )
    tracking = tracker()
    result = _imported(
        quiet,
        lambda progress: tracking.import_file(
            kind.value,  # type: ignore[arg-type]  # one of ImportKind's values
            file,
            installments,
            dry_run,
            analyst=analyst,
            pledges=pledges,
            rejects=rejects,
            progress=progress,
            command=typed_command(),
        ),
    )
    if quiet:
        return
    added = _counted(result.added) or (
        "nothing" if kind.value == ExternalFormat.IATI else f"no {kind.value}"
    )
    present = _counted(result.present) or "nothing"
    changed = _counted(result.changed)
    skipped = spread = ""
    reference = result.reference
    if reference is not None:  # the ECB's reference rates: per day and currency
        if reference.days:
            spread = (
                f" for {plural(reference.days, 'day')} and "
                f"{plural(len(reference.currencies), 'currency', 'currencies')}"
            )
        if reference.not_available:
            skipped = f"; {plural(reference.not_available, 'N/A cell')} skipped"
        if reference.left_out:
            skipped += (
                f"; {plural(len(reference.left_out), 'currency', 'currencies')} not in "
                f"ISO 4217 left out: {', '.join(reference.left_out)}"
            )
    if dry_run:
        change = f" and change the confidence of {changed}" if changed else ""
        message = (
            f"Dry run of {file}: would add {added}{spread}{change}; {present} already present"
            f"{skipped}; nothing written"
        )
    else:
        change = f", the confidence of {changed} changed" if changed else ""
        into = tracking.display
        message = (
            f"Imported {file} into {into}: {added} added{spread}{change}, "
            f"{present} already present{skipped}"
        )
    if result.edited:
        edit = "would edit" if dry_run else "edited"
        message += f"; {_counted(result.edited)} {edit} to what the file says"
    if result.voided:
        message += f"; {_counted(result.voided)} voided in this database left out"
    if result.left_out:
        message += "; left out: " + ", ".join(
            plural(n, what, "{}s {}".format(*what.split(" ", 1)))
            for what, n in result.left_out.items()
        )
    if result.rejected:
        written = "" if dry_run else f", written to {rejects}"
        message += f"; {plural(result.rejected, 'bad row')} rejected{written}"
    print(message, file=sys.stderr)


def _side_by_side(result: "FtsImportSummary") -> list[str]:
    """FTS's totals of the search beside fintrack's of the imported flows, one figure a line
    and one source a column, so that the two read across even on a narrow terminal."""
    head = ("", "FTS (the search)", "fintrack (these flows)")
    rows = [
        (f"Funding {result.funding.currency}", result.fts_funding, result.funding),
        (f"Pledges {result.pledged.currency}", result.fts_pledges, result.pledged),
    ]
    cells = [head] + [
        (name, "not given" if fts is None else fts.format(), ours.format())
        for name, fts, ours in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    lines = [
        f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}}".rstrip()
        for row in cells
    ]
    lines.append(
        "Counted as FTS counts: commitment and paid as funding, pledges apart; flows into the "
        "location, neither shared nor internal."
    )
    return lines


def _import_fts(files: list[Path], dry_run: bool, quiet: bool, analyst: str | None) -> None:
    """`fintrack import fts`: the import, then its summary with FTS's totals beside ours."""
    from fintrack.api import FtsImportSummary

    tracking = tracker()
    result = _imported(
        quiet,
        lambda progress: tracking.import_file(
            "fts",
            files,
            dry_run=dry_run,
            analyst=analyst,
            progress=progress,
            command=typed_command(),
        ),
    )
    if quiet:
        return
    assert isinstance(result, FtsImportSummary)
    named = files[0] if len(files) == 1 else plural(len(files), "file")
    added = _counted(result.added) or "no flows"
    present = _counted(result.present) or "nothing"
    changed = _counted(result.changed)
    if dry_run:
        change = f" and change {changed} (a newer versionId)" if changed else ""
        lines = [
            f"Dry run of {named}: would add {added}{change}; {present} already present; "
            "nothing written"
        ]
    else:
        change = f", {changed} changed (a newer versionId)" if changed else ""
        lines = [
            f"Imported {named} into {tracking.display}: {added} added{change}, "
            f"{present} already present"
        ]
    if result.voided:
        lines[0] += f"; {_counted(result.voided)} voided in this database left out"
    if result.repeated:
        lines[0] += f"; {plural(result.repeated, 'flow')} given twice (the newest version kept)"
    lines.extend(_side_by_side(result))
    if not result.complete:
        lines.append(
            f"These files hold {plural(result.flows, 'flow')} of the search's "
            f"{result.search_flows:,}: FTS's totals count them all; import every page to compare"
        )
    if result.links_outside:
        lines.append(
            f"{plural(result.links_outside, 'parent/child link')} name a flow not imported"
        )
    if result.relinked:
        lines.append(f"{plural(result.relinked, 'stored flow')} linked to the flow it is part of")
    if result.rate_disagrees:
        share = format((FTS_RATE_TOLERANCE * 100).normalize(), "f")
        lines.append(
            f"{plural(len(result.rate_disagrees), 'flow')} whose originalAmount / exchangeRate "
            f"differs from amountUSD by more than {share}% and {FTS_RATE_SLACK_USD} USD "
            f"(kept as FTS records them): {', '.join(result.rate_disagrees)}"
        )
    for line in lines:
        print(line, file=sys.stderr)

"""The two passes of an import: check every row, then write the valid ones."""

from collections.abc import Iterator

from fintrack.interchange.kinds import Kind
from fintrack.interchange.problems import ImportResult, InvalidRows, Options, Problems
from fintrack.interchange.reading import CsvFile, Record


def read_records(
    source: CsvFile, options: Options, verb: str
) -> Iterator[Record]:  # one reading of a file
    progress = None
    if options.progress is not None:
        size = source.path.stat().st_size if source.path.is_file() else 0
        progress = options.progress(f"{verb} {source.label}", size)
    return source.records(progress)


def judge(problems: Problems, result: ImportResult, options: Options) -> None:
    if problems.errors and options.reject is None:
        order = {label: i for i, label in enumerate(problems.bad)}
        problems.errors.sort(key=lambda e: (order.get(e.file, 0), e.line))
        raise InvalidRows(problems.errors, problems.rows, result.rows)
    result.rejected = problems.rows


def reject(source: CsvFile, record: Record, reason: str, options: Options) -> None:
    if options.reject is not None:
        options.reject(source, record.raw, f"line {record.line}: {reason}")


def valid_records(source: CsvFile, options: Options, problems: Problems) -> Iterator[Record]:
    """The second reading of a file: its valid records; the invalid ones go to the rejects."""
    for record in read_records(source, options, "Importing" if not options.dry_run else "Reading"):
        reason = problems.reason(source, record.line)
        if reason is None:
            yield record
        else:
            reject(source, record, reason, options)


def count_stored(result: ImportResult, kind: Kind, live: bool) -> None:
    """Count a row whose record is stored already: present, or voided in this database."""
    if live:
        result.count(kind, added=False)
    else:
        result.tally(result.voided, kind)

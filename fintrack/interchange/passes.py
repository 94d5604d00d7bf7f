"""The two passes of an import: check every row, then write the valid ones."""

from collections.abc import Callable, Iterator, Sequence

from sqlalchemy.orm import Session

from fintrack.errors import InvalidRows
from fintrack.interchange.kinds import Kind
from fintrack.interchange.problems import ImportResult, Options, Problems
from fintrack.interchange.reading import CsvFile, Record
from fintrack.store import serialize_imports

# A row's problems: (column or None for the whole row, message).
Errors = Sequence[tuple[str | None, str]]


class RowImport:
    """One import, driven in two passes: every row of its files is checked, and the problems
    are collected (or the bad rows rejected, when the import skips them) before any row is
    written; then the valid rows are written, in batches.

    A kind of file supplies what differs: in `__init__` it reads what is stored (after the
    import has waited for any other import), and it gives its row check (`check`: the row's
    problems, or None for a valid row) and its row write (`write`, which counts the row in
    `result`). The hooks between the steps default to doing nothing. An import of one file
    runs `run`; one of several files drives the same passes itself.
    """

    def __init__(self, session: Session, options: Options, *sources: CsvFile | None) -> None:
        if not options.dry_run:
            # Before the import reads what is stored: wait for any other import to end.
            serialize_imports(session)
        self.session = session
        self.options = options
        self.result = ImportResult()
        self.problems = Problems(*sources)

    def check(self, record: Record) -> Errors | None:
        """The first pass's check of one row: its problems, or None if it is valid."""
        raise NotImplementedError

    def checked(self) -> None:
        """After the first pass, before its problems are judged: plans made across rows."""

    def writing(self) -> None:
        """Before the second pass: the state that keys rows started again, batches opened."""

    def write(self, record: Record) -> None:
        """The second pass's write of one valid row, counted in `result`."""
        raise NotImplementedError

    def skipped(self, record: Record) -> None:
        """A row of the second pass that is rejected, before it goes to the rejects."""

    def written(self) -> None:
        """After the second pass: the last batches written."""

    def run(self, source: CsvFile) -> ImportResult:
        self.check_pass(source, self.check)
        self.checked()
        self.judge()
        self.writing()
        self.write_pass(source, self.write, self.skipped)
        self.written()
        return self.result

    def check_pass(self, source: CsvFile, check: Callable[[Record], Errors | None]) -> None:
        """The first reading of a file: every row checked, its problems collected."""
        for record in self.read(source, "Checking"):
            self.result.rows += 1
            errors = check(record)
            if errors is not None:
                self.problems.add(source, record.line, errors)

    def judge(self) -> None:
        """Refuse the import if a row is invalid, unless its bad rows are to be rejected."""
        problems = self.problems
        if problems.errors and self.options.reject is None:
            order = {label: i for i, label in enumerate(problems.bad)}
            problems.errors.sort(key=lambda e: (order.get(e.file, 0), e.line))
            raise InvalidRows(problems.errors, problems.rows, self.result.rows)
        self.result.rejected = problems.rows

    def write_pass(
        self,
        source: CsvFile,
        write: Callable[[Record], None],
        skipped: Callable[[Record], None] | None = None,
    ) -> None:
        """The second reading of a file: its valid rows written; the invalid ones rejected."""
        verb = "Importing" if not self.options.dry_run else "Reading"
        for record in self.read(source, verb):
            reason = self.problems.reason(source, record.line)
            if reason is None:
                write(record)
                continue
            if skipped is not None:
                skipped(record)
            self.reject(source, record, reason)

    def read(self, source: CsvFile, verb: str) -> Iterator[Record]:
        """One reading of a file, with its progress bar."""
        progress = None
        if self.options.progress is not None:
            size = source.path.stat().st_size if source.path.is_file() else 0
            progress = self.options.progress(f"{verb} {source.label}", size)
        return source.records(progress)

    def reject(self, source: CsvFile, record: Record, reason: str) -> None:
        if self.options.reject is not None:
            self.options.reject(source, record.raw, f"line {record.line}: {reason}")

    def stored(self, kind: Kind, live: bool) -> None:
        """Count a row whose record is stored already: present, or voided in this database."""
        if live:
            self.result.count(kind, added=False)
        else:
            self.result.tally(self.result.voided, kind)

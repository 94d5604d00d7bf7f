"""Problems and results: the bad rows of an import, its counts and its options."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from fintrack.errors import RowError
from fintrack.interchange.kinds import Kind
from fintrack.interchange.reading import CsvFile, Progress
from fintrack.models import Change, utcnow


class Problems:
    """Every bad row of the files of one import, with the reasons it is bad."""

    def __init__(self, *sources: CsvFile | None) -> None:
        self.errors: list[RowError] = []
        # Listed file by file, in the order the import names them.
        self.bad: dict[str, dict[int, str]] = {s.label: {} for s in sources if s is not None}

    def add(self, source: CsvFile, line: int, errors: Sequence[tuple[str | None, str]]) -> None:
        for column, message in errors:
            self.errors.append(RowError(source.label, line, column, message))
        reason = "; ".join(str(RowError("", 0, c, m))[4:] for c, m in errors)
        lines = self.bad.setdefault(source.label, {})
        lines[line] = f"{lines[line]}; {reason}" if line in lines else reason

    def reason(self, source: CsvFile, line: int) -> str | None:
        return self.bad.get(source.label, {}).get(line)

    @property
    def rows(self) -> int:
        return sum(len(lines) for lines in self.bad.values())


@dataclass
class ReferenceCounts:
    """What an import of a central bank's reference rates held besides its rates: the days
    and currencies it added rates for, the cells without a rate (N/A), and the currencies it
    left out (not in ISO 4217 as fintrack knows it: withdrawn ones such as CYP or TRL)."""

    source: str  # the source the rates are stored with
    days: set[date] = field(default_factory=set)
    currencies: set[str] = field(default_factory=set)
    not_available: int = 0
    left_out: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    added: dict[str, int] = field(default_factory=dict)
    present: dict[str, int] = field(default_factory=dict)
    # Links stored with another confidence, changed to the file's.
    changed: dict[str, int] = field(default_factory=dict)
    # Records voided in this database: counted as present, and left void.
    voided: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    rows: int = 0
    # Records of a file from another system edited to what the file now says (the history
    # keeps what they were), and what it holds that fintrack leaves out, by what it is.
    edited: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    reference: ReferenceCounts | None = None  # an import of reference rates (the ECB's)

    def count(self, kind: Kind, added: bool) -> None:
        self.tally(self.added if added else self.present, kind)

    @staticmethod
    def tally(counts: dict[str, int], kind: Kind) -> None:
        counts[kind.value] = counts.get(kind.value, 0) + 1

    @property
    def wrote(self) -> bool:
        return bool(self.added or self.changed or self.edited)


Reject = Callable[[CsvFile, list[str], str], None]


@dataclass
class Options:
    dry_run: bool = False
    reject: Reject | None = None  # given: bad rows go there, the good ones are imported
    progress: Callable[[str, int], Progress] | None = None  # (description, total) -> advance
    # The change the import's rows belong to (begin_change); None only for a dry run.
    change: Change | None = None

    def now(self) -> datetime:
        """When the records are stored: the time of the import's change."""
        return self.change.at if self.change is not None else utcnow()

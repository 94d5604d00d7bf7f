"""fintrack as a library: `fintrack.open()` gives a `Tracker`, the one object a script needs.

    import fintrack
    from datetime import date

    with fintrack.open("syria.db") as tracker:
        with tracker.change(reason="Qatar's salary support") as ch:
            pledge = ch.add_pledge(
                donor="Qatar", recipient="Syria", each=fintrack.Money.parse("29M", "USD"),
                installments=3, every="month", on=date(2025, 5, 8),
            )
            ch.pay(pledge.id, fintrack.Money.parse("29M", "USD"), on=date(2025, 6, 1))
        for row in tracker.totals(by="donor"):
            print(row.donor, row.pledged, row.fulfilled_pct)

Reads go through the tracker; writes through `tracker.change(...)`, one change in the history
and one transaction: everything in the `with` block is kept, or nothing is. When the database
aborts the transaction for a transient reason (SQLite busy, a PostgreSQL serialization
failure), the change runs its calls again in a new transaction, as the CLI's commands do, and
goes on only if each gives what it gave before. Amounts are `Money`, dates `datetime.date`,
rows frozen dataclasses; errors are `fintrack.FintrackError`s naming the field.
"""

import functools
import inspect
import shlex
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from decimal import Decimal
from os import PathLike
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar

from fintrack.errors import FintrackError, InputError
from fintrack.formats import (
    DEADLINE_COLUMNS,
    DISBURSEMENT_COLUMNS,
    INSTALLMENT_COLUMNS,
    PLEDGE_COLUMNS,
    RATE_COLUMNS,
    SANCTION_COLUMNS,
    Column,
    FileFormat,
    converted_columns,
    file_columns,
    totals_columns,
    write_rows,
)
from fintrack.money import Money
from fintrack.vocab import (
    MAX_RATE_AGE_DAYS,
    Confidence,
    Period,
    PledgeStatus,
    SanctionActionKind,
    SanctionStatus,
    parse_choice,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from fintrack.interchange import ImportResult, Options
    from fintrack.known import Known
    from fintrack.store import Database

T = TypeVar("T")
R = TypeVar("R")
# What an import of another system's document returns: an ImportResult, or one that says more.
Imported = TypeVar("Imported", bound="ImportResult")

RecordKind = Literal["sanction", "pledge", "payment", "claim"]
# The kinds of record file (`fintrack.vocab.FileKind`, whose values these are: a test checks) and
# the reports an export writes besides (`fintrack.vocab.REPORT_KINDS`). Literals, so that a
# script's `tracker.export("pledges", ...)` is checked by mypy and completed by an editor.
ImportKind = Literal[
    "sanctions", "pledges", "installments", "disbursements", "rates", "sources", "links"
]
ExportKind = Literal[ImportKind, "deadlines", "totals"]
# Other systems' files that an import reads (`fintrack.vocab.ExternalFormat`: a test checks):
# OCHA FTS flow JSON, IATI activity XML.
ExternalKind = Literal["fts", "iati"]
Grouping = Literal["pair", "donor", "recipient", "month", "currency"]
# The fields whose known values `Tracker.names` gives: of pledges, of sanction actions.
NameField = Literal["donor", "recipient", "currency", "authority", "program", "target", "measure"]


# --- Rows --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PledgeRow:
    """A pledge with what was disbursed against it and what is outstanding."""

    id: int
    donor: str
    recipient: str
    purpose: str | None
    pledged: Money
    disbursed: Money
    outstanding: Money
    fulfilled_pct: Decimal | None
    status: str
    announced: date | None
    installments: int
    next_due: date | None
    schedule_assumed: bool
    confidence: str
    ref: str | None
    replaces: int | None
    replaced_by: int | None
    voided: datetime | None
    # As another system (OCHA FTS) records the pledge: the amount, currency and rate it was
    # given in (as recorded, never recomputed), the value date, the source's version of the
    # record, the pledge (flow) it is part of, and why the source's counting rules leave it
    # out of totals (shared, internal; None: it counts).
    original_amount: Decimal | None = None
    original_currency: str | None = None
    exchange_rate: Decimal | None = None
    value_on: date | None = None
    version: str | None = None
    part_of: int | None = None
    boundary: str | None = None


@dataclass(frozen=True)
class InstallmentRow:
    """One installment of a pledge's schedule: its amount, what was paid, its state."""

    pledge_id: int
    seq: int
    due: date
    amount: Money
    paid: Money
    outstanding: Money
    state: str
    pledge_ref: str | None = None


@dataclass(frozen=True)
class PaymentRow:
    """A disbursement: money paid against one installment of a pledge."""

    id: int
    pledge_id: int
    installment: int
    paid_on: date
    amount: Money
    confidence: str


@dataclass(frozen=True)
class Outstanding:
    """What is still to be paid on a pledge: in all (`total`, the unpaid parts of its
    installments added up) and on `installment`, the earliest installment not paid in full
    (or the one asked for), which lacks `next`; both None when none is left to pay."""

    pledge_id: int
    total: Money
    installment: int | None
    next: Money | None


@dataclass(frozen=True)
class SanctionRow:
    """A sanction action: who acts, on whom, how, and its dates."""

    id: int
    authority: str
    program: str | None
    target: str
    action: str
    measures: tuple[str, ...]
    status: str
    announced: date | None
    effective: date | None
    expires: date | None
    deadline: date | None
    deadline_label: str | None
    legal_ref: str | None
    summary: str | None
    confidence: str
    ref: str | None
    voided: datetime | None


@dataclass(frozen=True)
class TotalRow:
    """Totals of one group (or, with `total`, of one currency): pledged, disbursed,
    outstanding and percent fulfilled. Converted totals (`totals(in_=...)`) are in the target
    currency, and `currencies` names the currencies they were converted from."""

    donor: str | None
    recipient: str | None
    month: str | None
    pledges: int
    pledged: Money
    disbursed: Money
    outstanding: Money
    fulfilled_pct: Decimal | None
    pledged_unconfirmed: Money
    disbursed_unconfirmed: Money
    total: bool
    currencies: tuple[str, ...] = ()


_Day = date  # a field named `date` hides the type inside the class below


@dataclass(frozen=True)
class DeadlineRow:
    """Something due: an installment with money outstanding, a sanction deadline or expiry.
    `converted` holds the outstanding amount in the currency of `deadlines(in_=...)`."""

    date: date
    days_left: int
    state: str
    kind: str
    subject: str
    detail: str
    amount: Money | None
    record: str
    record_id: int
    confidence: str
    converted: Money | None = None
    # With `in_`: the rate used, its date and its route (`direct`, `inverse`, `via USD`).
    rate: Decimal | None = None
    rate_on: "_Day | None" = None
    route: str | None = None


@dataclass(frozen=True)
class WorkingRow:
    """One conversion behind converted totals: a figure (`pledged`, `disbursed`,
    `outstanding`) of a group, in its own currency at its value date, and converted."""

    donor: str | None
    recipient: str | None
    month: str | None
    figure: str
    value_date: date
    amount: Money
    rate: Decimal
    rate_on: date | None  # None: the same currency, no rate needed
    route: str
    converted: Money


@dataclass(frozen=True)
class TotalsReport:
    """The totals report: its grouping (`by`), the currency converted into (`in_`, None when
    not converted), the rows, and with `in_` the working, every conversion made.

    `rows` and `working` are typed rows, made when first read; `records` are the same rows as
    the library's files and the CLI's tables take them (dicts keyed as the report's columns,
    amounts in minor units beside their currency), and `working_records` the working so.
    The working is worked out only when `working` or `working_records` is read (a report
    may convert tens of thousands of sums); its figures are those the rows were summed from.
    """

    by: str
    in_: str | None
    records: "Sequence[dict[str, Any]]" = field(repr=False)
    _working: "Callable[[], Sequence[dict[str, Any]]]" = field(repr=False, compare=False)

    @functools.cached_property
    def rows(self) -> tuple[TotalRow, ...]:
        return _typed_rows(TotalRow, self.records, totals_columns(self.by, self.in_))

    @functools.cached_property
    def working_records(self) -> "Sequence[dict[str, Any]]":
        return self._working()

    @functools.cached_property
    def working(self) -> tuple[WorkingRow, ...]:
        return _typed_rows(WorkingRow, self.working_records, _WORKING)


@dataclass(frozen=True)
class DeadlinesReport:
    """The deadlines report: the day counted from (`as_of`: the one asked, else the day of
    `known_on`, else today), the days looked ahead, the currency converted into, the rows
    (typed when first read; `records` are the same rows as dicts, as in `TotalsReport`)."""

    as_of: date
    within: int
    in_: str | None
    records: "Sequence[dict[str, Any]]" = field(repr=False)

    @functools.cached_property
    def rows(self) -> tuple[DeadlineRow, ...]:
        columns = [*DEADLINE_COLUMNS, *(converted_columns(self.in_) if self.in_ else [])]
        return _typed_rows(DeadlineRow, self.records, columns)


@dataclass(frozen=True)
class RateRow:
    """One EUR was worth `rate` USD on `on` (base EUR, quote USD)."""

    base: str
    quote: str
    on: date
    rate: Decimal
    source: str | None


@dataclass(frozen=True)
class RateAdded(RateRow):
    """A rate as `add_rate` left it, and what happened: `added`, `unchanged` (already
    recorded), `inverse` (its inverse is recorded: this row) or `replaced` (with `replace`;
    `replaced` names the rate or rates it replaced, `USD/EUR 0.8`)."""

    outcome: str = "added"
    replaced: str | None = None


@dataclass(frozen=True)
class RateConflict:
    """A pair stored both ways round for one day with rates that contradict each other (a
    database of an older fintrack): conversions use `counted`, recorded first."""

    counted: RateRow
    ignored: RateRow


@dataclass(frozen=True)
class RateListing:
    """Exchange rates, and the contradictions among them that conversions resolve."""

    rates: tuple[RateRow, ...]
    conflicts: tuple[RateConflict, ...]


@dataclass(frozen=True)
class ConversionRow:
    """An amount converted at the rate of its value date: the rate used, its date and its
    route (`direct`, `inverse`, `via USD`)."""

    value_date: date
    amount: Money
    rate: Decimal
    rate_on: date | None  # None: the same currency, no rate needed
    route: str
    converted: Money


@dataclass(frozen=True)
class SourceRow:
    id: int
    url: str | None
    title: str | None
    publisher: str | None
    published: date | None
    retrieved: date | None
    links: int


@dataclass(frozen=True)
class ClaimRow:
    id: int
    subject: str
    statement: str
    stated: date | None
    confidence: str
    ref: str | None
    voided: datetime | None


@dataclass(frozen=True)
class CitedRow:
    """A source that speaks for a record, and how sure it makes the record."""

    id: int
    confidence: str
    publisher: str | None
    title: str | None
    url: str | None
    published: date | None


@dataclass(frozen=True)
class LinkRow:
    """A record a source speaks for (`kind` sanction, pledge, payment or claim), and how
    sure the source makes it."""

    kind: str
    record_id: int
    confidence: str


@dataclass(frozen=True)
class Linked:
    """What `Change.link` did: source `source_id` now speaks for the record with
    `confidence`; `outcome` is `added`, `changed` (its confidence) or `unchanged`."""

    source_id: int
    kind: str
    record_id: int
    confidence: str
    outcome: str


@dataclass(frozen=True)
class SourceDetail:
    """A source with the records it speaks for."""

    source: SourceRow
    links: tuple[LinkRow, ...]


@dataclass(frozen=True)
class PledgeDetail:
    """A pledge with its installments, its disbursements and its sources, read together."""

    pledge: PledgeRow
    installments: tuple[InstallmentRow, ...]
    payments: tuple[PaymentRow, ...]
    sources: tuple[CitedRow, ...]


@dataclass(frozen=True)
class SanctionDetail:
    """A sanction action with its sources."""

    sanction: SanctionRow
    sources: tuple[CitedRow, ...]


@dataclass(frozen=True)
class ClaimDetail:
    """A claim with its sources."""

    claim: ClaimRow
    sources: tuple[CitedRow, ...]


@dataclass(frozen=True)
class HistoryRow:
    """One field of a record that a change set, changed or removed."""

    change: int
    at: datetime
    analyst: str
    command: str
    what: str
    field: str
    old: str
    new: str
    reason: str | None


@dataclass(frozen=True)
class BriefReport:
    """The brief as of a day (`fintrack brief`): money per donor and per month (each
    currency's rows followed by its total row), what is overdue (and its total per currency,
    never added across currencies), the next deadlines and lapsed sanction dates, the latest
    sanction actions and the claims not confirmed. Each list holds its first items; `*_more`
    says how many more the full listing has."""

    as_of: date
    donor: str | None
    recipient: str | None
    known_on: date | None
    min_confidence: str | None
    within: int
    donors: tuple[TotalRow, ...]
    months: tuple[TotalRow, ...]
    overdue: tuple[DeadlineRow, ...]
    overdue_more: int
    overdue_totals: tuple[Money, ...]
    upcoming: tuple[DeadlineRow, ...]
    upcoming_more: int
    sanctions: tuple[SanctionRow, ...]
    sanctions_more: int
    claims: tuple[ClaimRow, ...]
    claims_more: int


@dataclass(frozen=True)
class RecordRef:
    """A record named by kind and id: `kind` as the library takes it (`sanction`, `pledge`,
    `payment`, `claim`) and `label` as messages name it (`sanction action`)."""

    kind: str
    id: int
    label: str


@dataclass(frozen=True)
class RecordHistory:
    """A record and what changed on it, change by change."""

    record: RecordRef
    changes: tuple[HistoryRow, ...]


@dataclass(frozen=True)
class SeedSummary:
    """What loading the founding case (or seed files) added, and how many of its records
    were already present."""

    sanctions: int
    pledges: int
    claims: int
    sources: int
    already_present: int

    @property
    def added(self) -> int:
        return self.sanctions + self.pledges + self.claims + self.sources


@dataclass(frozen=True)
class ReferenceRates:
    """What an import of the ECB's euro reference rates held besides its rates: the source
    the rates are stored with, the days and the currencies rates were added for, the cells
    skipped as N/A, and the currencies left out (not in ISO 4217 as fintrack knows it: those
    withdrawn, such as CYP or TRL)."""

    source: str
    days: int
    currencies: tuple[str, ...]
    not_available: int
    left_out: tuple[str, ...]


@dataclass(frozen=True)
class ImportSummary:
    """What an import added, found already present, changed, left void and rejected,
    counted by kind of record; for the ECB's reference rates, `reference` says more."""

    added: dict[str, int]
    present: dict[str, int]
    changed: dict[str, int]
    voided: dict[str, int]
    rejected: int
    # A file of another system: records edited to what it now says (their history keeps
    # what they were), and what it holds that fintrack leaves out, by what it is.
    edited: dict[str, int] = field(default_factory=dict)
    left_out: dict[str, int] = field(default_factory=dict)
    reference: ReferenceRates | None = None


@dataclass(frozen=True, kw_only=True)
class FtsImportSummary(ImportSummary):
    """What an import of OCHA FTS flows did, and FTS's own figures for the search beside
    fintrack's totals of the imported flows, counted by the same rules (only flows into the
    search's location, neither shared nor internal; commitments and payments as funding,
    pledges apart)."""

    files: int
    flows: int  # distinct flow ids in the files
    repeated: int  # flows given again with the same id: the highest versionId is kept
    search_flows: int | None  # meta.count: the flows of the whole search
    fts_funding: Money | None  # data.incoming.fundingTotal
    fts_pledges: Money | None  # data.incoming.pledgeTotal
    funding: Money  # fintrack's: commitment and paid
    pledged: Money  # fintrack's: pledge
    rate_disagrees: tuple[str, ...]  # flow ids whose originalAmount / exchangeRate is off
    links_outside: int  # parent/child links naming flows neither imported nor stored
    relinked: int  # stored flows linked now to the flow they are part of

    @property
    def complete(self) -> bool:
        """Whether the files hold every flow of the search (so the figures should agree)."""
        return self.search_flows is None or self.flows >= self.search_flows


def _typed(cls: type[T], row: dict[str, Any], columns: Sequence[Column]) -> T:
    """A row of the library (a dict keyed as its file's columns) as its dataclass: amounts
    as Money in the currency the column names, lists as tuples."""
    return _typed_rows(cls, (row,), columns)[0]


def _typed_rows(
    cls: type[T], rows: Iterable[dict[str, Any]], columns: Sequence[Column]
) -> tuple[T, ...]:
    """`_typed` of each row, the fields and amounts of the columns looked up once for all."""
    names = [item.name for item in fields(cls)]  # type: ignore[arg-type]
    by_key = {column.key: column for column in columns}
    money = [
        (name, by_key[name].currency_key)
        for name in names
        if name in by_key and by_key[name].kind == "money"
    ]
    typed = []
    for row in rows:
        values: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value
            for name in names
            if name in row
            for value in (row[name],)
        }
        for name, currency_key in money:
            value = values.get(name)
            if value is not None:
                values[name] = Money(int(value), row[currency_key])
        typed.append(cls(**values))
    return tuple(typed)


# --- The tracker -------------------------------------------------------------------------------


def open(url_or_path: "str | PathLike[str] | None" = None) -> "Tracker":
    """The tracker of a database: a SQLAlchemy URL (`postgresql+psycopg://...`), a path to a
    SQLite file, or None for the CLI's default (`$FINTRACK_DATABASE_URL`, else the SQLite file
    in the user's data folder). The database is created and migrated on first use."""
    from fintrack.store import Database, default_url, normalize_url, sqlite_url

    if url_or_path is None:
        url = default_url()
    elif isinstance(url_or_path, PathLike):
        url = sqlite_url(Path(url_or_path))
    else:
        url = normalize_url(url_or_path)
    return Tracker(Database(url))


def _view(known_on: date | None, min_confidence: Confidence | str | None) -> "Known":
    from fintrack.known import MIN_CONFIDENCE, Known

    level = None
    if min_confidence is not None:
        level = parse_choice(Confidence, str(min_confidence), "min_confidence")
        if level not in MIN_CONFIDENCE:
            raise InputError("min_confidence", "use confirmed or reported")
    return Known.on(known_on, level)


def _choice(kind: type[T], value: T | str | None, field: str) -> T | None:
    if value is None or isinstance(value, kind):
        return value
    return parse_choice(kind, str(value), field)  # type: ignore[type-var]


def _statuses(
    value: "Sequence[PledgeStatus | str] | PledgeStatus | str | None", field: str
) -> frozenset[PledgeStatus]:
    """The statuses named (one, several, or a comma list); empty for none."""
    if value is None:
        return frozenset()
    given = [value] if isinstance(value, str) else list(value)
    names = [part for text in given for part in str(text).split(",") if part.strip()]
    return frozenset(parse_choice(PledgeStatus, name, field) for name in names)


def _confidence(value: Confidence | str) -> Confidence:
    """The confidence a write's sources give its record (reported unless said)."""
    return _choice(Confidence, value, "confidence") or Confidence.REPORTED


def _cited(rows: "Sequence[dict[str, Any]]") -> tuple[CitedRow, ...]:
    return tuple(_typed(CitedRow, row, ()) for row in rows)


def _sources(sources: Sequence[int | str]) -> tuple[str, ...]:
    """Sources as the domain takes them: ids and URLs as text."""
    return tuple(str(source) for source in sources)


C = TypeVar("C", bound=type)


def _ids_checked(cls: C) -> C:
    """Check the ids every public method of `cls` takes (`pledge_id`, `replaces`, ...) before
    it runs: an id that is not a whole number, or is larger than any record's id (SQLite could
    not even compare it), is an InputError naming the argument."""
    from fintrack.ids import MAX_STORED_ID

    def checking(method: Callable[..., Any], names: list[str]) -> Callable[..., Any]:
        signature = inspect.signature(method)

        @functools.wraps(method)
        def run(*args: Any, **kwargs: Any) -> Any:
            given = signature.bind(*args, **kwargs).arguments
            for name in names:
                value = given.get(name)
                if value is None:
                    continue
                if isinstance(value, bool) or not isinstance(value, int):
                    raise InputError(name, f"{value!r} is not an id: give a whole number")
                if abs(value) > MAX_STORED_ID:
                    raise InputError(
                        name, f"'{value}' is too large for an id (at most {MAX_STORED_ID:,})"
                    )
            return method(*args, **kwargs)

        return run

    for name, method in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(method):
            continue
        names = [
            parameter
            for parameter in inspect.signature(method).parameters
            if parameter.endswith("_id") or parameter in ("replaces", "installment")
        ]
        if names:
            setattr(cls, name, checking(method, names))
    return cls


@_ids_checked
class Tracker:
    """One database of sanction actions, pledges, payments, rates, sources and claims.

    Use it as a context manager, or call `close()`, to release the database's connections.
    """

    def __init__(self, database: "Database") -> None:
        self._db = database

    @property
    def url(self) -> str:
        """The database's URL, with any password hidden."""
        from fintrack.store import mask_url

        return mask_url(self._db.url)

    @property
    def display(self) -> str:
        """The database as messages name it: a SQLite file's path, else the URL with any
        password hidden."""
        return self._db.display

    def _changed_meanwhile(self, command: str, exc: Any) -> FintrackError:
        """The error for a record that another command stored while an import or seed ran,
        between its check and its write (an IntegrityError): nothing was written."""
        from fintrack.errors import Refused
        from fintrack.store import hide_password

        reason = " ".join(str(exc.orig).split())
        return Refused(
            f"another command added a record while this {command} ran "
            f"({hide_password(reason, self._db.url)}); nothing was written; run the {command} again"
        )

    def __enter__(self) -> "Tracker":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database's connections (the tracker opens them again if used)."""
        self._db.close()

    def _read(self, work: "Callable[[Session], T]") -> T:
        with self._db.session() as session:
            return work(session)

    # --- writing --------------------------------------------------------------------------

    def change(
        self, reason: str | None = None, analyst: str | None = None, command: str | None = None
    ) -> "Change":
        """One change: `with tracker.change(reason=...) as ch: ch.add_pledge(...)`. The
        history records its time, `analyst` (default: the system user), `command` (default:
        the script's command line) and `reason`."""
        return Change(self._db, reason, analyst, command)

    def seed(self, folder: "str | PathLike[str] | None" = None, analyst: str | None = None) -> int:
        """Load the founding case (or the .toml files of `folder`); returns the records added."""
        return self.seed_summary(folder, analyst).added

    def seed_summary(
        self,
        folder: "str | PathLike[str] | None" = None,
        analyst: str | None = None,
        command: str | None = None,
    ) -> SeedSummary:
        """`seed`, saying what was added by kind and what was already present; `command` is
        what the history records (default `fintrack seed`)."""
        from sqlalchemy.exc import IntegrityError

        from fintrack.seed import SeedResult, load_seed
        from fintrack.store import resource_dir, update_statistics

        def seed(session: "Session") -> SeedResult:
            loaded = load_seed(session, Path(folder) if folder else resource_dir("seed"))
            update_statistics(session.connection())
            return loaded

        try:
            with self.change(analyst=analyst, command=command or "fintrack seed") as ch:
                result = ch.run(seed)
        except IntegrityError as exc:
            raise self._changed_meanwhile("seed", exc) from None
        return SeedSummary(
            result.sanctions_added,
            result.pledges_added,
            result.claims_added,
            result.sources_added,
            result.already_present,
        )

    def import_file(
        self,
        kind: ImportKind | ExternalKind,
        path: "str | PathLike[str] | Sequence[str | PathLike[str]]",
        installments: "str | PathLike[str] | None" = None,
        dry_run: bool = False,
        reason: str | None = None,
        analyst: str | None = None,
        pledges: "str | PathLike[str] | None" = None,
        rejects: "str | PathLike[str] | None" = None,
        progress: "Callable[[str, int], Callable[[int], None]] | None" = None,
        command: str | None = None,
    ) -> ImportSummary:
        """Import a file as `fintrack import` does: every row checked before any is written,
        one change. `installments` is the companion file of an import of pledges, `pledges`
        that of an import of installments. A bad row raises InvalidRows (its `listing()` says
        `FILE:LINE: ...`) and nothing is written; with `rejects`, bad rows are written to that
        CSV file with the reason (a companion file's to NAME.KIND.csv beside it) and the good
        ones imported. `progress(description, total)` gives a function told the rows done.

        `kind` "fts" reads OCHA FTS flow JSON, one page or every page of one search (a list
        of paths): see `import_fts`, whose FtsImportSummary it returns. `iati` reads an IATI
        activity XML file (`fintrack.interchange.iati`): a bad element raises
        InvalidElements (`FILE:XPATH: ...`) and nothing is written.

        Rates may also be the ECB's euro reference rates as published (eurofxref-hist.zip,
        its CSV, eurofxref-daily.xml, eurofxref-hist-90d.xml), told by the file's content:
        errors name the CSV line or the XML element (`FILE:/gesmes:Envelope/Cube/...`)."""
        from sqlalchemy.exc import IntegrityError

        from fintrack import interchange
        from fintrack.changes import begin_change
        from fintrack.interchange import CsvFile, Kind, Options
        from fintrack.interchange.problems import ImportResult
        from fintrack.store import update_statistics

        def source(file: "str | PathLike[str]", of: Kind) -> CsvFile:
            return CsvFile(Path(file), of, [c.key for c in file_columns(of)], str(file))

        if str(kind).strip().lower() == "fts":
            if installments is not None or pledges is not None or rejects is not None:
                raise InputError("kind", "fts takes the pages of one search, and nothing else")
            return self.import_fts(path, dry_run, reason, analyst, progress, command)

        def one(
            given: "str | PathLike[str] | Sequence[str | PathLike[str]]",
        ) -> "str | PathLike[str]":
            if isinstance(given, str | PathLike):
                return given
            paths = list(given)
            if len(paths) != 1:
                raise InputError("path", f"one file for an import of {kind}; several only with fts")
            return paths[0]

        if str(kind).strip().lower() == "iati":
            for name, given in (
                ("installments", installments),
                ("pledges", pledges),
                ("rejects", rejects),
            ):
                if given is not None:
                    raise InputError(name, "goes with an import of CSV files, not of IATI XML")
            return self._import_iati(Path(one(path)), dry_run, reason, analyst, command)
        path = one(path)
        of = parse_choice(Kind, str(kind), "kind")
        if installments is not None and of is not Kind.PLEDGES:
            raise InputError("installments", "goes with an import of pledges")
        if pledges is not None and of is not Kind.INSTALLMENTS:
            raise InputError("pledges", "goes with an import of installments")
        if rejects is not None:
            _check_rejects(Path(rejects), [path, installments, pledges])
        main = source(path, of)
        ecb = None
        if of is Kind.RATES:
            from fintrack.interchange.ecb import EcbFile, ecb_form

            form = ecb_form(Path(path), str(path))
            if form is not None:
                ecb = EcbFile(Path(path), str(path), form)
                if rejects is not None:
                    raise InputError(
                        "rejects",
                        "goes with fintrack's own rates files; the ECB's reference rates are "
                        "imported whole or not at all",
                    )
        companion = None
        if installments is not None:
            companion = source(installments, Kind.INSTALLMENTS)
        if pledges is not None:
            companion = source(pledges, Kind.PLEDGES)
        options = Options(dry_run=dry_run, progress=progress)
        with ExitStack() as stack:
            writers: dict[str, Any] = {}
            if rejects is not None:
                if dry_run:
                    options.reject = lambda _source, _raw, _reason: None
                else:
                    options.reject = _rejects_writer(stack, writers, main, Path(rejects))
            try:
                with self._db.session(write=not dry_run) as session:
                    if not dry_run:
                        typed = command or shlex.join(["fintrack", "import", of, str(path)])
                        options.change = begin_change(session, typed, reason, analyst)
                    result: ImportResult
                    if ecb is not None:
                        from fintrack.interchange.ecb import import_ecb_rates

                        result = import_ecb_rates(session, ecb, options)
                    elif of is Kind.PLEDGES:
                        result = interchange.import_pledges(session, main, companion, options)
                    elif of is Kind.INSTALLMENTS:
                        result = interchange.import_pledges(session, companion, main, options)
                    else:
                        importer = {
                            Kind.SANCTIONS: interchange.import_sanctions,
                            Kind.DISBURSEMENTS: interchange.import_disbursements,
                            Kind.RATES: interchange.import_rates,
                            Kind.SOURCES: interchange.import_sources,
                            Kind.LINKS: interchange.import_links,
                        }[of]
                        result = importer(session, main, options)
                    if options.change is not None and not result.wrote:
                        session.delete(options.change)  # nothing was written: no change to keep
                    elif result.wrote and not dry_run:
                        update_statistics(session.connection())
            except IntegrityError as exc:
                raise self._changed_meanwhile("import", exc) from None
            if rejects is not None and not dry_run and main.label not in writers:
                _rejects_writer(stack, writers, main, Path(rejects))(main, [], "")
        return _summary(result)

    def import_fts(
        self,
        paths: "str | PathLike[str] | Sequence[str | PathLike[str]]",
        dry_run: bool = False,
        reason: str | None = None,
        analyst: str | None = None,
        progress: "Callable[[str, int], Callable[[int], None]] | None" = None,
        command: str | None = None,
    ) -> FtsImportSummary:
        """Import OCHA FTS flows (API v1 `public/fts/flow` JSON): one page, or every page of
        one search. Every flow of every file is checked before any is written; a bad one
        raises InvalidFlows (`listing()`: `FILE:/data/flows/17/amountUSD: ...`) and a file
        that is not FTS flow JSON an InputError; nothing is written then. Each flow id is
        one pledge (ref `fts:<id>`) in USD as FTS reports it, with the original amount,
        currency and rate as recorded, citing FTS (confidence reported); a paid flow has
        its payment. A flow stored already is left as it is unless its versionId is newer:
        then it is edited, its earlier version kept in its history."""
        from fintrack.interchange import Options
        from fintrack.interchange.fts import CURRENCY, FtsFile, FtsResult, import_fts

        given = [paths] if isinstance(paths, str | PathLike) else list(paths)
        if not given:
            raise InputError("paths", "give the JSON file of a page of an FTS flow search")
        files = [FtsFile(Path(path), str(path)) for path in given]
        options = Options(dry_run=dry_run, progress=progress)
        typed = command or shlex.join(["fintrack", "import", "fts", *map(str, given)])
        result: FtsResult = self._import_document(
            lambda session: import_fts(session, files, options), options, typed, reason, analyst
        )

        def usd(amount: Decimal | None) -> Money | None:
            return None if amount is None else Money.of(amount, CURRENCY)

        return FtsImportSummary(
            added=dict(result.added),
            present=dict(result.present),
            changed=dict(result.changed),
            voided=dict(result.voided),
            rejected=result.rejected,
            files=len(files),
            flows=result.flows,
            repeated=result.repeated,
            search_flows=result.search_flows,
            fts_funding=usd(result.fts_funding),
            fts_pledges=usd(result.fts_pledges),
            funding=Money(result.funding_minor, CURRENCY),
            pledged=Money(result.pledges_minor, CURRENCY),
            rate_disagrees=tuple(result.rate_disagrees),
            links_outside=result.links_outside,
            relinked=result.relinked,
        )

    def _import_iati(
        self,
        path: Path,
        dry_run: bool,
        reason: str | None,
        analyst: str | None,
        command: str | None,
    ) -> ImportSummary:
        from fintrack.interchange import Options
        from fintrack.interchange.iati import import_iati

        options = Options(dry_run=dry_run)
        typed = command or shlex.join(["fintrack", "import", "iati", str(path)])
        result = self._import_document(
            lambda session: import_iati(session, path, str(path), options),
            options,
            typed,
            reason,
            analyst,
        )
        return _summary(result)

    def _import_document(
        self,
        run: "Callable[[Session], Imported]",
        options: "Options",
        command: str,
        reason: str | None,
        analyst: str | None,
    ) -> Imported:
        """Run the import of another system's document as one change (none for a dry run,
        and none kept when nothing was written), refreshing the planner's statistics after
        a write."""
        from sqlalchemy.exc import IntegrityError

        from fintrack.changes import begin_change
        from fintrack.store import update_statistics

        try:
            with self._db.session(write=not options.dry_run) as session:
                if not options.dry_run:
                    options.change = begin_change(session, command, reason, analyst)
                result = run(session)
                if options.change is not None and not result.wrote:
                    session.delete(options.change)  # nothing was written: no change to keep
                elif result.wrote and not options.dry_run:
                    update_statistics(session.connection())
        except IntegrityError as exc:
            raise self._changed_meanwhile("import", exc) from None
        return result

    # --- reading --------------------------------------------------------------------------

    def pledges(
        self,
        donor: str | None = None,
        recipient: str | None = None,
        currency: str | None = None,
        status: PledgeStatus | str | None = None,
        since: date | None = None,
        until: date | None = None,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
        include_void: bool = False,
    ) -> list[PledgeRow]:
        """Pledges matching every filter given (names match whole, ignoring case)."""
        from fintrack.pledges import PledgeFilter, list_pledges

        where = PledgeFilter(
            donor=donor,
            recipient=recipient,
            status=_choice(PledgeStatus, status, "status"),
            currency=currency,
            since=since,
            until=until,
        )
        view = _view(known_on, min_confidence)
        rows = self._read(lambda s: list_pledges(s, where, view, include_void))
        return [_typed(PledgeRow, row, PLEDGE_COLUMNS) for row in rows]

    def pledge(self, pledge_id: int, known_on: date | None = None) -> PledgeRow:
        """One pledge (voided ones too); NotFound when there is none with that id."""
        from fintrack.pledges import pledge_summary

        view = _view(known_on, None)
        row = self._read(lambda s: pledge_summary(s, pledge_id, view))
        return _typed(PledgeRow, row, PLEDGE_COLUMNS)

    def pledge_detail(
        self, pledge_id: int, as_of: date | None = None, known_on: date | None = None
    ) -> PledgeDetail:
        """A pledge with its installments (states as of `as_of`, default today or
        `known_on`), disbursements and sources, read in one transaction."""
        from fintrack.models import Pledge
        from fintrack.pledges import disbursement_rows, installment_rows, pledge_summary
        from fintrack.sources import sources_of

        view = _view(known_on, None)
        day = as_of or view.day or date.today()

        def work(session: "Session") -> PledgeDetail:
            row = pledge_summary(session, pledge_id, view)
            return PledgeDetail(
                _typed(PledgeRow, row, PLEDGE_COLUMNS),
                tuple(
                    _typed(InstallmentRow, item, INSTALLMENT_COLUMNS)
                    for item in installment_rows(session, day, pledge_id, view)
                ),
                tuple(
                    _typed(PaymentRow, item, DISBURSEMENT_COLUMNS)
                    for item in disbursement_rows(session, pledge_id, view)
                ),
                _cited(sources_of(session, Pledge, [pledge_id], view)[pledge_id]),
            )

        return self._read(work)

    def installments(
        self, pledge_id: int | None = None, as_of: date | None = None, known_on: date | None = None
    ) -> list[InstallmentRow]:
        """The installments of one pledge, or of all; states (`overdue`, ...) as of `as_of`."""
        from fintrack.pledges import installment_rows

        view = _view(known_on, None)
        day = as_of or view.day or date.today()
        rows = self._read(lambda s: installment_rows(s, day, pledge_id, view))
        return [_typed(InstallmentRow, row, INSTALLMENT_COLUMNS) for row in rows]

    def payments(
        self, pledge_id: int | None = None, known_on: date | None = None
    ) -> list[PaymentRow]:
        """The disbursements of one pledge, or of all."""
        from fintrack.pledges import disbursement_rows

        view = _view(known_on, None)
        rows = self._read(lambda s: disbursement_rows(s, pledge_id, view))
        return [_typed(PaymentRow, row, DISBURSEMENT_COLUMNS) for row in rows]

    def open_pledges(self) -> list[PledgeRow]:
        """The pledges money can still be paid against: not voided, not replaced, with an
        amount outstanding; by id."""
        from fintrack.pledges import PledgeFilter, iter_pledges

        def work(session: "Session") -> list[PledgeRow]:
            return [
                _typed(PledgeRow, row, PLEDGE_COLUMNS)
                for row in iter_pledges(session, PledgeFilter())
                if row["outstanding"] > 0 and row["replaced_by"] is None
            ]

        return self._read(work)

    def outstanding(self, pledge_id: int, installment: int | None = None) -> Outstanding:
        """What a pledge (voided ones too; NotFound when there is none) still lacks in all,
        and on its earliest installment not paid in full or on `installment`."""
        from fintrack.pledges import get_pledge, installment_rows

        def work(session: "Session") -> tuple[str, list[dict[str, Any]]]:
            currency = get_pledge(session, pledge_id).currency
            return currency, installment_rows(session, date.today(), pledge_id)

        currency, schedule = self._read(work)
        unpaid = [row for row in schedule if row["outstanding"] > 0]
        due = [row for row in unpaid if installment in (None, row["seq"])]
        return Outstanding(
            pledge_id=pledge_id,
            total=Money(sum(row["outstanding"] for row in unpaid), currency),
            installment=due[0]["seq"] if due else None,
            next=Money(due[0]["outstanding"], currency) if due else None,
        )

    def names(self, field: NameField, limit: int = 100) -> list[str]:
        """The values of a field that records not voided hold (pledges' donors, recipients
        and currencies; sanction actions' authorities, programs, targets and measures), the
        most used first: what a person is likely to type again."""
        from fintrack.known import most_used
        from fintrack.models import Pledge, SanctionAction, SanctionMeasure

        columns = {
            "donor": Pledge.donor,
            "recipient": Pledge.recipient,
            "currency": Pledge.currency,
            "authority": SanctionAction.authority,
            "program": SanctionAction.program,
            "target": SanctionAction.target,
            "measure": SanctionMeasure.measure,
        }
        if field not in columns:
            raise InputError("field", f"'{field}' is not one of {', '.join(columns)}")
        column = columns[field]
        return self._read(lambda s: most_used(s, column, limit))

    def sanctions(
        self,
        authority: str | None = None,
        program: str | None = None,
        target: str | None = None,
        action: SanctionActionKind | str | None = None,
        status: SanctionStatus | str | None = None,
        since: date | None = None,
        until: date | None = None,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
    ) -> list[SanctionRow]:
        """Sanction actions matching every filter given (`target` matches a part)."""
        from fintrack.sanctions import SanctionFilter, list_sanctions

        where = SanctionFilter(
            authority=authority,
            program=program,
            target=target,
            status=_choice(SanctionStatus, status, "status"),
            action=_choice(SanctionActionKind, action, "action"),
            since=since,
            until=until,
        )
        view = _view(known_on, min_confidence)
        rows = self._read(lambda s: list_sanctions(s, where, view))
        return [_typed(SanctionRow, row, SANCTION_COLUMNS) for row in rows]

    def sanction_detail(self, sanction_id: int, known_on: date | None = None) -> SanctionDetail:
        """A sanction action (voided ones too) with its sources, read in one transaction."""
        from fintrack.models import SanctionAction
        from fintrack.sanctions import known_sanction
        from fintrack.sources import sources_of

        view = _view(known_on, None)

        def work(session: "Session") -> SanctionDetail:
            row = known_sanction(session, sanction_id, view)
            cited = sources_of(session, SanctionAction, [sanction_id], view)[sanction_id]
            return SanctionDetail(_typed(SanctionRow, row, SANCTION_COLUMNS), _cited(cited))

        return self._read(work)

    def sanction(self, sanction_id: int, known_on: date | None = None) -> SanctionRow:
        from fintrack.sanctions import known_sanction

        view = _view(known_on, None)
        row = self._read(lambda s: known_sanction(s, sanction_id, view))
        return _typed(SanctionRow, row, SANCTION_COLUMNS)

    def totals(
        self,
        by: Grouping = "pair",
        donor: str | None = None,
        recipient: str | None = None,
        currency: str | None = None,
        since: date | None = None,
        until: date | None = None,
        in_: str | None = None,
        rates_on: date | None = None,
        max_rate_age: int = MAX_RATE_AGE_DAYS,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
        status: "Sequence[PledgeStatus | str] | PledgeStatus | str | None" = None,
    ) -> list[TotalRow]:
        """Pledged, disbursed, outstanding and percent fulfilled per group and per currency
        (rows with `total` set); with `in_`, every amount converted into that currency at
        its own value date (`MissingRate` when a rate is missing); `status` keeps pledges of
        that status or those statuses (pledge, commitment, paid)."""
        report = self.totals_report(
            by, donor, recipient, currency, since, until, in_, rates_on, max_rate_age,
            known_on, min_confidence, status,
        )  # fmt: skip
        return list(report.rows)

    def totals_report(
        self,
        by: Grouping = "pair",
        donor: str | None = None,
        recipient: str | None = None,
        currency: str | None = None,
        since: date | None = None,
        until: date | None = None,
        in_: str | None = None,
        rates_on: date | None = None,
        max_rate_age: int = MAX_RATE_AGE_DAYS,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
        status: "Sequence[PledgeStatus | str] | PledgeStatus | str | None" = None,
    ) -> TotalsReport:
        """`totals` with what a report shows beside its rows: the grouping, the currency
        converted into, and with `in_` the working (every conversion made; amounts not yet
        due convert at the rates of `rates_on`, default the day of `known_on`, else today)."""
        from fintrack.money import normalize_currency
        from fintrack.pledges import check_range
        from fintrack.reports import TotalsFilter, totals_report

        target = normalize_currency(in_, "in_") if in_ is not None else None
        check_range(since, until)
        view = _view(known_on, min_confidence)
        grouping = _grouping(by)
        where = TotalsFilter(
            donor, recipient, currency, view, since, until, _statuses(status, "status")
        )
        rows, working = self._read(
            lambda s: totals_report(s, grouping, where, target, max_rate_age, rates_on)
        )
        return TotalsReport(grouping.value, target, rows, working)

    def deadlines(
        self,
        as_of: date | None = None,
        within: int = 90,
        donor: str | None = None,
        recipient: str | None = None,
        authority: str | None = None,
        kinds: Sequence[str] | None = None,
        overdue: bool = False,
        in_: str | None = None,
        max_rate_age: int = MAX_RATE_AGE_DAYS,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
    ) -> list[DeadlineRow]:
        """What falls due from `as_of` (default today) to `within` days later: installments
        with money outstanding (overdue ones too), sanction deadlines and expiries, and
        sanction dates that lapsed; `kinds` keeps installment, deadline and/or expiry."""
        report = self.deadlines_report(
            as_of, within, donor, recipient, authority, kinds, overdue, in_, max_rate_age,
            known_on, min_confidence,
        )  # fmt: skip
        return list(report.rows)

    def deadlines_report(
        self,
        as_of: date | None = None,
        within: int = 90,
        donor: str | None = None,
        recipient: str | None = None,
        authority: str | None = None,
        kinds: Sequence[str] | None = None,
        overdue: bool = False,
        in_: str | None = None,
        max_rate_age: int = MAX_RATE_AGE_DAYS,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
    ) -> DeadlinesReport:
        """`deadlines` with the day counted from (`as_of`, else the day of `known_on`, else
        today), which the rows' `days_left` count from."""
        from fintrack.money import normalize_currency
        from fintrack.reports import DeadlineFilter, DeadlineKind, deadlines_report

        target = normalize_currency(in_, "in_") if in_ is not None else None
        wanted = None
        if kinds is not None:
            wanted = frozenset(parse_choice(DeadlineKind, kind, "kinds") for kind in kinds)
        where = DeadlineFilter(donor, recipient, authority, wanted, overdue)
        view = _view(known_on, min_confidence)
        day, rows = self._read(
            lambda s: deadlines_report(s, as_of, within, target, max_rate_age, view, where)
        )
        return DeadlinesReport(day, within, target, rows)

    def brief(
        self,
        as_of: date | None = None,
        donor: str | None = None,
        recipient: str | None = None,
        known_on: date | None = None,
        min_confidence: Confidence | str | None = None,
    ) -> BriefReport:
        """The brief as of `as_of` (default: the day of `known_on`, else today), its money
        narrowed to `donor` and `recipient`, read in one transaction."""
        from fintrack.brief import build_brief
        from fintrack.reports import Grouping as Groups

        view = _view(known_on, min_confidence)
        day = as_of or view.day or date.today()
        found = self._read(lambda s: build_brief(s, day, donor, recipient, view))
        by_donor, by_month = totals_columns(Groups.DONOR), totals_columns(Groups.MONTH)
        return BriefReport(
            as_of=found.as_of,
            donor=found.donor,
            recipient=found.recipient,
            known_on=view.day,
            min_confidence=None if view.min_confidence is None else view.min_confidence.value,
            within=found.within,
            donors=tuple(_typed(TotalRow, row, by_donor) for row in found.donors),
            months=tuple(_typed(TotalRow, row, by_month) for row in found.months),
            overdue=tuple(_typed(DeadlineRow, row, DEADLINE_COLUMNS) for row in found.overdue.rows),
            overdue_more=found.overdue.more,
            overdue_totals=tuple(Money(m, c) for c, m in found.overdue_totals.items()),
            upcoming=tuple(
                _typed(DeadlineRow, row, DEADLINE_COLUMNS) for row in found.upcoming.rows
            ),
            upcoming_more=found.upcoming.more,
            sanctions=tuple(
                _typed(SanctionRow, row, SANCTION_COLUMNS) for row in found.sanctions.rows
            ),
            sanctions_more=found.sanctions.more,
            claims=tuple(_typed(ClaimRow, row, ()) for row in found.claims.rows),
            claims_more=found.claims.more,
        )

    def rates(
        self,
        currency: str | None = None,
        since: date | None = None,
        until: date | None = None,
        known_on: date | None = None,
    ) -> list[RateRow]:
        """Exchange rates with `currency` on either side, by day."""
        from fintrack.rates import RateFilter, list_rates

        where = RateFilter(currency, since, until)
        view = _view(known_on, None)
        rows = self._read(lambda s: list_rates(s, where, view))
        return [_typed(RateRow, row, RATE_COLUMNS) for row in rows]

    def rate_listing(
        self,
        currency: str | None = None,
        since: date | None = None,
        until: date | None = None,
        known_on: date | None = None,
    ) -> RateListing:
        """The rates of `rates(...)`, and the contradictions among them (a pair stored both
        ways round for a day, from an older fintrack), read in one transaction."""
        from fintrack.rates import RateFilter, doubled_rates, list_rates

        where = RateFilter(currency, since, until)
        view = _view(known_on, None)

        def work(session: "Session") -> RateListing:
            rates = tuple(
                _typed(RateRow, row, RATE_COLUMNS) for row in list_rates(session, where, view)
            )
            listed = {(rate.base, rate.quote, rate.on) for rate in rates}
            conflicts = tuple(
                RateConflict(
                    _typed(RateRow, pair.counted, RATE_COLUMNS),
                    _typed(RateRow, pair.ignored, RATE_COLUMNS),
                )
                for pair in doubled_rates(session, view)
                if not pair.agrees
                and (pair.counted["base"], pair.counted["quote"], pair.counted["on"]) in listed
            )
            return RateListing(rates, conflicts)

        return self._read(work)

    def convert(
        self, amount: Money, to: str, on: date, max_rate_age: int = MAX_RATE_AGE_DAYS
    ) -> ConversionRow:
        """`amount` in currency `to` at the rate of `on` (or of up to `max_rate_age` days
        before), exactly, rounded once half to even; `MissingRate` when there is none."""
        from fintrack.rates import RateBook, to_minor

        def work(session: "Session") -> RateBook:
            return RateBook(session, to, max_rate_age)

        book = self._read(work)
        conversion = book.convert(amount.currency, on)
        return ConversionRow(
            value_date=on,
            amount=amount,
            rate=conversion.shown_rate,
            rate_on=conversion.rate_on,
            route=conversion.route,
            converted=Money(to_minor(conversion.exact(amount.minor)), book.target),
        )

    def sources(self, known_on: date | None = None) -> list[SourceRow]:
        from fintrack.sources import list_sources

        view = _view(known_on, None)
        return [_typed(SourceRow, row, ()) for row in self._read(lambda s: list_sources(s, view))]

    def find_source(self, source: int | str) -> int | None:
        """The id of the source that `source` names, checked without writing anything: a
        source id (12 or "#12"), which must exist (NotFound), or a URL, None when no source
        has it yet (a record citing it stores it)."""
        from sqlalchemy import select

        from fintrack.errors import NotFound
        from fintrack.ids import parse_id
        from fintrack.models import Source
        from fintrack.sources import is_url

        text = str(source).strip()
        number = text.removeprefix("#")
        if number.isdigit():
            source_id = parse_id(number, "source")
            if not self._read(lambda s: s.get(Source, source_id) is not None):
                raise NotFound("source", source_id)
            return source_id
        if not is_url(text):
            raise InputError("source", f"'{text}' is neither a URL nor a source id")
        return self._read(lambda s: s.scalar(select(Source.id).where(Source.url == text)))

    def source_detail(self, source_id: int, known_on: date | None = None) -> SourceDetail:
        """A source with the records it speaks for (as known on `known_on`), read in one
        transaction; NotFound when there is none with that id."""
        from fintrack.sources import get_source, links_of_source, source_row

        view = _view(known_on, None)

        def work(session: "Session") -> SourceDetail:
            source = get_source(session, source_id)
            links = tuple(
                _typed(LinkRow, row, ()) for row in links_of_source(session, source_id, view)
            )
            return SourceDetail(_typed(SourceRow, source_row(source, len(links)), ()), links)

        return self._read(work)

    def claim_detail(self, claim_id: int, known_on: date | None = None) -> ClaimDetail:
        """A claim (voided ones too) with its sources, read in one transaction."""
        from fintrack.claims import known_claim
        from fintrack.models import Claim
        from fintrack.sources import sources_of

        view = _view(known_on, None)

        def work(session: "Session") -> ClaimDetail:
            row = known_claim(session, claim_id, view)
            cited = sources_of(session, Claim, [claim_id], view)[claim_id]
            return ClaimDetail(_typed(ClaimRow, row, ()), _cited(cited))

        return self._read(work)

    def claims(
        self, known_on: date | None = None, min_confidence: Confidence | str | None = None
    ) -> list[ClaimRow]:
        """Claims with their standing (confirmed, reported, unverified or denied)."""
        from fintrack.claims import list_claims

        view = _view(known_on, min_confidence)
        return [_typed(ClaimRow, row, ()) for row in self._read(lambda s: list_claims(s, view))]

    def history(self, kind: RecordKind, record_id: int) -> list[HistoryRow]:
        """What changed on a record, change by change: when, who, which field, from, to."""
        return list(self.record_history(kind, record_id).changes)

    def record_history(self, kind: RecordKind | str, record_id: int) -> RecordHistory:
        """`history`, with the record named as messages name it (`sanction action 3`)."""
        from fintrack.history import KIND_NAMES, parse_kind, record_history

        name = parse_kind(kind)
        rows = self._read(lambda s: record_history(s, name, record_id))
        changes = tuple(
            HistoryRow(
                change=row["change"],
                at=row["at"],
                analyst=row["analyst"],
                command=row["command"],
                what=row["what"],
                field=row["field"],
                old=row["from"],
                new=row["to"],
                reason=row["reason"],
            )
            for row in rows
        )
        return RecordHistory(RecordRef(name, record_id, KIND_NAMES[name]), changes)

    def export(
        self,
        kind: ExportKind,
        to: "str | PathLike[str] | IO[str]",
        format: FileFormat | str = FileFormat.CSV,
        as_of: date | None = None,
        within: int = 90,
        by: Grouping = "pair",
        progress: "Callable[[str, int], Callable[[int], None]] | None" = None,
    ) -> int:
        """Write the records of a kind (or the deadlines or totals report) as `fintrack
        export` does, to a path (replaced only once complete) or an open text file; returns
        the number of rows. Files of records read back with `import_file`. For records,
        `progress(description, total)` gives a function told the rows written so far.
        Sanctions also go out as FollowTheMoney entities (`format="ftm"`): a `Sanction` for
        each action and a `LegalEntity` for each target, one JSON object a line; the
        number returned is then of entities."""
        from fintrack.formats import write_plain
        from fintrack.interchange import Kind, count_rows, export_rows
        from fintrack.interchange.export import PLAIN_KINDS, export_plain
        from fintrack.outfile import text_file

        written = parse_choice(FileFormat, str(format), "format")
        if written is FileFormat.FTM and kind != "sanctions":
            raise InputError(
                "format",
                f"ftm (FollowTheMoney entities) is written for sanctions only, not {kind}; "
                "use csv, json or jsonl",
            )

        def write(out: IO[str]) -> int:
            from fintrack.reports import TotalsFilter, deadlines_report, totals_report

            if written is FileFormat.FTM:
                from fintrack.interchange.ftm import ftm_entities, write_ftm

                with self._db.session() as session:
                    return write_ftm(ftm_entities(session), out)
            if kind == "totals":
                grouping = _grouping(by)
                rows = self._read(lambda s: totals_report(s, grouping, TotalsFilter())[0])
                return write_rows(rows, totals_columns(grouping), written, out)
            if kind == "deadlines":
                rows = self._read(lambda s: deadlines_report(s, as_of, within)[1])
                return write_rows(rows, DEADLINE_COLUMNS, written, out)
            record_kind = parse_choice(Kind, kind, "kind")
            with self._db.session() as session:
                # The large kinds as plain tuples, not `export_rows`' dicts: the same bytes,
                # a few times faster.
                plain = record_kind in PLAIN_KINDS
                found: Iterable[Any] = (export_plain if plain else export_rows)(
                    session, record_kind, date.today()
                )
                if progress is not None:
                    total = count_rows(session, record_kind)
                    found = _told(found, progress(f"Exporting {record_kind.value}", total))
                return (write_plain if plain else write_rows)(
                    found, file_columns(record_kind.value), written, out
                )

        if isinstance(to, str | PathLike):
            with text_file(Path(to), "to") as handle:
                return write(handle)
        return write(to)


def _told(rows: "Iterable[T]", advance: Callable[[int], None]) -> "Iterator[T]":
    """The rows, telling `advance` how many were taken so far."""
    for done, row in enumerate(rows, 1):
        yield row
        advance(done)


# The columns of the working of converted totals, as far as typing its rows needs them.
_WORKING = [Column("amount", "Amount", "money"), *converted_columns("")]


def _grouping(by: str) -> Any:
    from fintrack.reports import Grouping as Groups

    return parse_choice(Groups, by, "by")


def _check_rejects(rejects: Path, imported: "Sequence[str | PathLike[str] | None]") -> None:
    """The rejects replace their file once written: never a file being imported."""
    given = [Path(path) for path in imported if path is not None]
    replaced = {rejects.resolve()}
    if len(given) > 1:
        other = "installments" if imported[1] is not None else "pledges"
        replaced.add(rejects.with_name(f"{rejects.stem}.{other}{rejects.suffix}").resolve())
    for path in given:
        if path.resolve() in replaced:
            raise InputError(
                "rejects", f"would replace {path}, which is imported; give another file"
            )


def _rejects_writer(stack: ExitStack, writers: dict[str, Any], main: Any, target: Path) -> Any:
    """Write rejected rows, as read plus a reason, to `target` (and a sibling file for the
    rows of the second file of an import: rejects.csv -> rejects.installments.csv)."""
    from fintrack.formats import CsvWriter
    from fintrack.interchange import REASON
    from fintrack.outfile import text_file
    from fintrack.spreadsheet import neutralise, unneutralise

    def reject(source: Any, raw: list[str], reason: str) -> None:
        writer = writers.get(source.label)
        if writer is None:
            path = target
            if source.label != main.label:
                path = target.with_name(f"{target.stem}.{source.kind.value}{target.suffix}")
            handle = stack.enter_context(text_file(path, "rejects"))
            writer = writers[source.label] = CsvWriter(handle)
            writer.writerow([*(c for c in source.header if c != REASON), REASON])
        if not raw and not reason:
            return
        cells = [c for name, c in zip(source.header, raw, strict=False) if name != REASON]
        writer.writerow([*(neutralise(unneutralise(c)) for c in cells), neutralise(reason)])

    return reject


def _summary(result: "ImportResult") -> ImportSummary:
    reference = None
    if result.reference is not None:
        counts = result.reference
        reference = ReferenceRates(
            counts.source,
            len(counts.days),
            tuple(sorted(counts.currencies)),
            counts.not_available,
            tuple(counts.left_out),
        )
    return ImportSummary(
        dict(result.added),
        dict(result.present),
        dict(result.changed),
        dict(result.voided),
        result.rejected,
        dict(result.edited),
        dict(result.left_out),
        reference,
    )


# --- Changes -----------------------------------------------------------------------------------


class ChangedMeanwhile(FintrackError):
    """A change ran again after a transient failure and its calls gave other results."""


@_ids_checked
class Change:
    """The writes of one change, in one transaction: committed when the `with` block ends
    without an exception, rolled back (nothing written) when it raises.

    Each call runs at once, so its result (a new pledge's id) can be used by the next. When the
    database aborts the transaction for a transient reason, the calls made so far run again,
    in order, in a new transaction, up to the database's attempts; if one of them gives
    another result than the first time (another writer took the id), ChangedMeanwhile is
    raised and nothing is written.
    """

    def __init__(
        self, db: "Database", reason: str | None, analyst: str | None, command: str | None
    ) -> None:
        self._db = db
        self._reason = reason
        self._analyst = analyst
        program, *arguments = sys.argv or ["python"]
        self._command = command or shlex.join([Path(program).name or "python", *arguments])
        self._journal: list[tuple[Callable[[Session], Any], Any]] = []
        self._stack: ExitStack | None = None
        self._session: Session | None = None
        # Set when the change is committed: False when it changed nothing (an edit to the
        # same values), and then left out of the history.
        self.wrote: bool | None = None

    def __enter__(self) -> "Change":
        for attempt in range(1, self._db.max_attempts + 1):
            try:
                self._begin()
                return self
            except Exception as failure:
                self._give_up(failure, attempt)
            self._pause(attempt)
        raise AssertionError("unreachable")

    @staticmethod
    def _pause(attempt: int) -> None:
        import random
        import time

        from fintrack.store import RETRY_PAUSE_S

        time.sleep(random.uniform(0, RETRY_PAUSE_S * 2**attempt))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._end(exc)
            return
        for attempt in range(1, self._db.max_attempts + 1):
            try:
                self._end(None)
                return
            except Exception as failure:
                self._give_up(failure, attempt)
            self._replay()

    def _begin(self) -> None:
        from fintrack.changes import begin_change

        stack = ExitStack()
        session = stack.enter_context(self._db.session(write=True))
        self._stack, self._session = stack, session
        try:
            begin_change(session, self._command, self._reason, self._analyst)
        except BaseException as exc:
            self._end(exc)
            raise

    def _end(self, exc: BaseException | None) -> None:
        """Commit (exc None) or roll back the transaction."""
        from fintrack.changes import finish_change

        stack, session = self._stack, self._session
        self._stack = self._session = None
        if stack is None:
            return
        if exc is None:
            assert session is not None
            try:
                self.wrote = finish_change(session)
            except BaseException as failure:
                stack.__exit__(type(failure), failure, failure.__traceback__)
                raise
            stack.close()
        else:
            stack.__exit__(type(exc), exc, exc.__traceback__)

    @staticmethod
    def _transient(failure: BaseException) -> bool:
        from fintrack.store import is_transient

        return is_transient(failure)

    def _give_up(self, failure: BaseException, attempt: int) -> None:
        """Raise `failure` unless it is transient and attempts are left; after the last
        attempt, the one error of a database that stayed busy (as `Database.transaction`)."""
        if not self._transient(failure):
            raise failure
        if attempt == self._db.max_attempts:
            raise self._db.stayed_busy(failure, attempt) from None

    def _replay(self) -> None:
        """Run the calls made so far again in a new transaction; each must give what it gave."""
        for attempt in range(1, self._db.max_attempts + 1):
            self._pause(attempt)
            try:
                self._begin()
            except Exception as failure:
                self._give_up(failure, attempt)
                continue
            assert self._session is not None
            try:
                for work, result in self._journal:
                    if work(self._session) != result:
                        raise ChangedMeanwhile(
                            "another writer changed the database while this change ran; "
                            "nothing was written: run it again"
                        )
                return
            except Exception as failure:
                self._end(failure)
                self._give_up(failure, attempt)
        raise AssertionError("unreachable")

    def run(self, work: "Callable[[Session], R]") -> R:
        """Run `work(session)` in this change's transaction (run again with the others after
        a transient failure); the way to any library function not wrapped here. Return plain
        values (ids, rows), not ORM objects: a call run again must give an equal result."""
        if self._session is None:
            raise FintrackError("this change is over: open another with tracker.change()")
        for attempt in range(1, self._db.max_attempts + 1):
            try:
                result = work(self._session)
                break
            except Exception as failure:
                self._give_up(failure, attempt)
                self._end(failure)
                self._replay()
        self._journal.append((work, result))
        return result

    # --- records --------------------------------------------------------------------------

    def add_pledge(
        self,
        donor: str,
        recipient: str,
        amount: Money | str | None = None,
        each: Money | str | None = None,
        installments: int | None = None,
        every: Period | str | None = None,
        first_due: date | None = None,
        on: date | None = None,
        status: PledgeStatus | str = PledgeStatus.PLEDGE,
        purpose: str | None = None,
        sources: Sequence[int | str] = (),
        confidence: Confidence | str = Confidence.REPORTED,
        ref: str | None = None,
        replaces: int | None = None,
        schedule_assumed: bool | None = None,
        currency: str | None = None,
        allow_duplicate: bool = False,
    ) -> PledgeRow:
        """A pledge of `amount` (or `installments` times `each`), due `every` month, week,
        quarter or year from `first_due` (default: `on`, marked assumed). Its currency is the
        Money's, or `currency` for amounts given as text as people write them (`"29M"`).

        A pledge that counts in totals with the same donor, recipient, currency, total and
        date (names ignoring case) is the same announcement entered twice: DuplicatePledge
        (naming it) is raised and nothing added, unless `allow_duplicate`."""
        from fintrack.errors import DuplicatePledge
        from fintrack.pledges import PledgeInput, add_pledge, duplicate_of, pledge_summary

        given = amount if amount is not None else each
        if currency is None:
            if given is None:
                raise InputError("amount", "give amount or each (a Money), with installments")
            if not isinstance(given, Money):
                raise InputError("currency", "is needed for an amount given as text")
            currency = given.currency
        data = PledgeInput(
            donor=donor,
            recipient=recipient,
            currency=currency,
            amount=amount,
            each=each,
            installments=installments,
            every=_choice(Period, every, "every"),
            first_due=first_due,
            announced_on=on,
            status=_choice(PledgeStatus, status, "status") or PledgeStatus.PLEDGE,
            purpose=purpose,
            sources=_sources(sources),
            confidence=_confidence(confidence),
            ref=ref,
            replaces=replaces,
            schedule_assumed=schedule_assumed,
        )

        def work(session: "Session") -> PledgeRow:
            # Checked before anything is written, not even an id drawn from a sequence.
            earlier = None if allow_duplicate else duplicate_of(session, data)
            if earlier is not None:
                raise DuplicatePledge(earlier)
            pledge = add_pledge(session, data)
            return _typed(PledgeRow, pledge_summary(session, pledge.id), PLEDGE_COLUMNS)

        return self.run(work)

    def edit_pledge(
        self,
        pledge_id: int,
        donor: str | None = None,
        recipient: str | None = None,
        purpose: str | None = None,
        amount: Money | str | None = None,
        each: Money | str | None = None,
        installments: int | None = None,
        every: Period | str | None = None,
        first_due: date | None = None,
        on: date | None = None,
        status: PledgeStatus | str | None = None,
        schedule_assumed: bool | None = None,
        ref: str | None = None,
        sources: Sequence[int | str] = (),
        confidence: Confidence | str = Confidence.REPORTED,
        currency: str | None = None,
    ) -> PledgeRow:
        """Change a pledge in place (None leaves a field as it is, "" clears optional text);
        a new amount in another currency (the Money's, or `currency` with amounts given as
        text) changes the currency, while no money is paid. The schedule keeps installments
        by number, so paid ones must stay at least as large."""
        from fintrack.pledges import PledgeEdit, edit_pledge, pledge_summary

        given = amount if amount is not None else each
        if currency is None and isinstance(given, Money):
            currency = given.currency
        edit = PledgeEdit(
            donor=donor,
            recipient=recipient,
            purpose=purpose,
            currency=currency,
            amount=amount,
            each=each,
            installments=installments,
            every=_choice(Period, every, "every"),
            first_due=first_due,
            announced_on=on,
            status=_choice(PledgeStatus, status, "status"),
            schedule_assumed=schedule_assumed,
            ref=ref,
            sources=_sources(sources),
            confidence=_confidence(confidence),
        )

        def work(session: "Session") -> PledgeRow:
            edit_pledge(session, pledge_id, edit)
            return _typed(PledgeRow, pledge_summary(session, pledge_id), PLEDGE_COLUMNS)

        return self.run(work)

    def pay(
        self,
        pledge_id: int,
        amount: Money | str,
        on: date,
        installment: int | None = None,
        force: bool = False,
        sources: Sequence[int | str] = (),
        confidence: Confidence | str = Confidence.REPORTED,
    ) -> list[PaymentRow]:
        """A disbursement against a pledge, to the earliest unpaid installment (or the one
        named), spilling over to the next; past the pledge's total only with `force`. The
        amount is a Money or text as people write it (`"29M"`) in the pledge's currency.
        Returns the disbursements written, one per installment the money went to."""
        from fintrack.pledges import pay

        level = _confidence(confidence)

        def work(session: "Session") -> list[PaymentRow]:
            rows = pay(session, pledge_id, amount, on, installment, force, _sources(sources), level)
            return [
                PaymentRow(
                    id=row.id,
                    pledge_id=pledge_id,
                    installment=row.installment.seq,
                    paid_on=row.paid_on,
                    amount=Money(row.amount_minor, row.pledge.currency),
                    confidence=level.value,
                )
                for row in rows
            ]

        return self.run(work)

    def add_sanction(
        self,
        authority: str,
        target: str,
        action: SanctionActionKind | str,
        status: SanctionStatus | str | None = None,
        program: str | None = None,
        measures: Sequence[str] = (),
        announced: date | None = None,
        effective: date | None = None,
        expires: date | None = None,
        deadline: date | None = None,
        deadline_label: str | None = None,
        legal_ref: str | None = None,
        summary: str | None = None,
        sources: Sequence[int | str] = (),
        confidence: Confidence | str = Confidence.REPORTED,
        ref: str | None = None,
    ) -> SanctionRow:
        """A sanction action: `authority` (EU, US, ...) does `action` (impose, ease, lift,
        ...) on `target`, with its measures and dates; its status defaults to in-force when
        it has an effective date, else announced."""
        from fintrack.sanctions import SanctionInput, add_sanction, known_sanction

        data = SanctionInput(
            authority=authority,
            target=target,
            action=parse_choice(SanctionActionKind, str(action), "action"),
            status=_choice(SanctionStatus, status, "status")
            or (SanctionStatus.IN_FORCE if effective else SanctionStatus.ANNOUNCED),
            program=program,
            measures=list(measures),
            announced_on=announced,
            effective_on=effective,
            expires_on=expires,
            deadline_on=deadline,
            deadline_label=deadline_label,
            legal_ref=legal_ref,
            summary=summary,
            sources=_sources(sources),
            confidence=_confidence(confidence),
            ref=ref,
        )

        def work(session: "Session") -> SanctionRow:
            action_row = add_sanction(session, data)
            return _typed(SanctionRow, known_sanction(session, action_row.id), SANCTION_COLUMNS)

        return self.run(work)

    def edit_sanction(
        self,
        sanction_id: int,
        measures: Sequence[str] | None = None,
        sources: Sequence[int | str] = (),
        confidence: Confidence | str = Confidence.REPORTED,
        **changes: "str | date | SanctionActionKind | SanctionStatus | None",
    ) -> SanctionRow:
        """Change a sanction action in place: `changes` are fields of `add_sanction`
        (`expires=date(2026, 6, 1)`, `status="revoked"`, `program=None` to clear it);
        `measures` replaces the list."""
        from fintrack.sanctions import edit_sanction, known_sanction

        names = {"announced": "announced_on", "effective": "effective_on",
                 "expires": "expires_on", "deadline": "deadline_on"}  # fmt: skip
        fields_ = {names.get(name, name): value for name, value in changes.items()}
        if "action" in fields_:
            fields_["action"] = parse_choice(SanctionActionKind, str(fields_["action"]), "action")
        if "status" in fields_:
            fields_["status"] = parse_choice(SanctionStatus, str(fields_["status"]), "status")
        level = _confidence(confidence)

        def work(session: "Session") -> SanctionRow:
            edit_sanction(session, sanction_id, fields_, measures, _sources(sources), level)
            return _typed(SanctionRow, known_sanction(session, sanction_id), SANCTION_COLUMNS)

        return self.run(work)

    def add_rate(
        self,
        base: str,
        quote: str,
        rate: Decimal | str,
        on: date,
        source: str | None = None,
        replace: bool = False,
    ) -> RateAdded:
        """One `base` was worth `rate` `quote` on `on`. A rate and its inverse for a day are
        one fact: a contradiction is refused unless `replace`. The result is the rate that
        serves, and what happened (its `outcome`)."""
        from fintrack.rates import add_rate, rate_row

        if isinstance(rate, Decimal):
            rate = format(rate, "f")

        def work(session: "Session") -> RateAdded:
            row, outcome, before = add_rate(session, base, quote, rate, on, source, replace)
            added = {**rate_row(row), "outcome": outcome, "replaced": before}
            return _typed(RateAdded, added, RATE_COLUMNS)

        return self.run(work)

    def add_source(
        self,
        url: str | None = None,
        title: str | None = None,
        publisher: str | None = None,
        published: date | None = None,
        retrieved: date | None = None,
    ) -> SourceRow:
        """A source (a URL, or a title for a citation without one)."""
        from fintrack.sources import SourceInput, add_source, source_row

        data = SourceInput(url, title, publisher, published, retrieved)
        return self.run(lambda s: _typed(SourceRow, source_row(add_source(s, data)), ()))

    def link(
        self,
        kind: RecordKind | str,
        record_id: int,
        source: int | str,
        confidence: Confidence | str = Confidence.REPORTED,
    ) -> Linked:
        """Let a source (an id, or a URL, stored on first use) speak for a record, or change
        how sure it makes the record; a voided record takes no new sources."""
        from fintrack.history import get_record, parse_kind, refuse_void
        from fintrack.sources import link, resolve_source

        name = parse_kind(kind)
        level = _confidence(confidence)

        def work(session: "Session") -> Linked:
            record = get_record(session, name, record_id)
            refuse_void(record, name, "take new sources")
            found = resolve_source(session, str(source), "source")
            done = link(session, type(record), record_id, found, level)
            return Linked(found.id, name, record_id, level.value, done)

        return self.run(work)

    def add_claim(
        self,
        subject: str,
        statement: str,
        stated: date | None = None,
        ref: str | None = None,
        sources: Sequence[int | str] = (),
        confidence: Confidence | str = Confidence.REPORTED,
    ) -> ClaimRow:
        """A claim someone made (denied, unverified, ...), with the sources that report it."""
        from fintrack.claims import ClaimInput, add_claim, known_claim

        level = _confidence(confidence)
        data = ClaimInput(subject, statement, stated, ref, _sources(sources), level)
        return self.run(lambda s: _typed(ClaimRow, known_claim(s, add_claim(s, data).id), ()))

    def void(self, kind: RecordKind | str, record_id: int) -> RecordRef:
        """Take a record out of every view; its history keeps it. Returns the record named
        as messages name it."""
        from fintrack.history import KIND_NAMES, parse_kind, void

        name = parse_kind(kind)

        def work(session: "Session") -> int:
            return int(void(session, name, record_id).id)

        self.run(work)
        return RecordRef(name, record_id, KIND_NAMES[name])

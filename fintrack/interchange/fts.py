"""Importing OCHA FTS flows (API v1 `public/fts/flow` JSON): one pledge per flow id."""

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from fintrack.errors import MAX_LISTED, InputError, InvalidFlows, PathError
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import open_imported
from fintrack.interchange.writing import Batches
from fintrack.keys import source_key, source_keys
from fintrack.models import (
    HISTORY,
    Disbursement,
    Installment,
    Pledge,
    Source,
    SourceLink,
)
from fintrack.money import MAX_MINOR, plain_decimal
from fintrack.store import serialize_imports
from fintrack.text import check_text, clean
from fintrack.vocab import (
    FTS_RATE_SLACK_USD,
    FTS_RATE_TOLERANCE,
    Boundary,
    Confidence,
    PledgeStatus,
)

# The largest page an import reads, in bytes: FTS serves a search in pages of a few MB, and a
# larger file (or one that never ends) is refused before it is held in memory.
MAX_PAGE_BYTES = 64 * 1024 * 1024
# When a flow's rate disagrees: see fintrack.vocab.
RATE_TOLERANCE = FTS_RATE_TOLERANCE
RATE_SLACK_USD = FTS_RATE_SLACK_USD
PUBLISHER = "OCHA FTS"
# The donor (or recipient) of a flow whose source (destination) names no Organization,
# Location or Plan, as FTS shows it (a flow reported by its recipient only, say).
UNNAMED = "Not specified"
REF_PREFIX = "fts:"
CURRENCY = "USD"
# Refs looked up per query (an IN list).
_CHUNK = 500
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
_ISO_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})(T[0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?")
_DIGITS = re.compile(r"[0-9]{1,18}")


def fts_ref(flow_id: str) -> str:
    """The ref of the pledge (and of the disbursement) that holds an FTS flow."""
    return f"{REF_PREFIX}{flow_id}"


@dataclass(frozen=True)
class Flow:
    """One FTS flow, checked: what its pledge, installment, disbursement and source hold."""

    id: str
    version: int
    status: PledgeStatus
    amount_minor: int
    original_amount: Decimal | None
    original_currency: str | None
    exchange_rate: Decimal | None
    donor: str
    recipient: str
    purpose: str | None
    announced_on: date
    on: date
    boundary: Boundary | None
    incoming: bool
    parent: str | None
    children: tuple[str, ...]
    report: str
    reported_on: date | None

    @property
    def ref(self) -> str:
        return fts_ref(self.id)

    @property
    def rate_disagrees(self) -> bool:
        """originalAmount / exchangeRate differs from amountUSD beyond the tolerance."""
        if self.original_amount is None or not self.exchange_rate:
            return False
        usd = Decimal(self.amount_minor) / 100
        implied = self.original_amount / self.exchange_rate
        return abs(implied - usd) > max(RATE_SLACK_USD, abs(usd) * RATE_TOLERANCE)

    def pledge_row(self) -> dict[str, Any]:
        assumed = self.status is not PledgeStatus.PAID and self.amount_minor > 0
        return {
            "ref": self.ref,
            "donor": self.donor,
            "recipient": self.recipient,
            "purpose": self.purpose,
            "currency": CURRENCY,
            "amount_minor": self.amount_minor,
            "status": self.status,
            "announced_on": self.announced_on,
            "schedule_assumed": assumed,
            "original_amount": self.original_amount,
            "original_currency": self.original_currency,
            "exchange_rate": self.exchange_rate,
            "version": str(self.version),
            "boundary": self.boundary,
        }


@dataclass(frozen=True)
class _Chosen:
    """What the first pass keeps of the flow it imports for an id (the highest version)."""

    version: int
    file: int
    position: int
    status: PledgeStatus
    amount_minor: int
    counted: bool
    incoming: bool
    parent: str | None
    children: tuple[str, ...]
    rate_disagrees: bool


@dataclass
class FtsResult(ImportResult):
    """What an FTS import did, and the figures to set beside FTS's own."""

    flows: int = 0  # distinct flow ids in the files
    repeated: int = 0  # flows given again with the same id (the highest version kept)
    search_flows: int | None = None  # meta.count: the flows of the whole search
    fts_funding: Decimal | None = None  # data.incoming.fundingTotal
    fts_pledges: Decimal | None = None  # data.incoming.pledgeTotal
    funding_minor: int = 0  # fintrack's: commitment and paid, counted incoming flows
    pledges_minor: int = 0  # fintrack's: pledge status, counted incoming flows
    rate_disagrees: list[str] = field(default_factory=list)
    links_outside: int = 0  # parent/child links to flows neither imported nor stored
    relinked: int = 0  # stored flows linked to a parent flow imported now

    @property
    def wrote(self) -> bool:
        return bool(self.added or self.changed or self.relinked)


@dataclass
class _Page:
    label: str
    count: int | None
    funding: Decimal | None
    pledges: Decimal | None
    flows: list[Any]


def _bad_file(label: str, problem: str) -> InputError:
    return InputError(label, problem)


_NOT_FTS = "give a page of OCHA FTS's public/fts/flow search (API v1), as the API returns it"


def _read_bytes(path: Path, label: str) -> bytes:
    """The file's bytes, at most MAX_PAGE_BYTES; only a regular file (the import reads it
    twice: it checks every flow before it writes one)."""
    with open_imported(path, label, "a JSON file", "the page") as handle:
        data = handle.read(MAX_PAGE_BYTES + 1)
    if len(data) > MAX_PAGE_BYTES:
        raise _bad_file(
            label,
            f"is larger than {MAX_PAGE_BYTES // (1024 * 1024)} MB; FTS serves a search in "
            "pages of a few MB: import the pages",
        )
    return data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def read_page(path: Path, label: str) -> _Page:
    """A page of an FTS flow search: its flows as parsed (numbers with a fraction as exact
    Decimals) and FTS's figures for the whole search. A file that is not one is one error."""
    data = _read_bytes(path, label)
    try:
        document = json.loads(data, parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise _bad_file(label, f"is nested too deeply to be FTS flow JSON; {_NOT_FTS}") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}: {exc.msg}"
        raise _bad_file(label, f"is not JSON ({where}); {_NOT_FTS}") from None
    except ValueError as exc:  # not UTF-8, NaN, a number of thousands of digits
        reason = " ".join(str(exc).split())[:200]
        raise _bad_file(label, f"is not JSON that fintrack reads ({reason}); {_NOT_FTS}") from None
    body = document.get("data") if isinstance(document, dict) else None
    flows = body.get("flows") if isinstance(body, dict) else None
    if not isinstance(flows, list):
        raise _bad_file(label, f"is not OCHA FTS flow JSON: it has no data.flows list; {_NOT_FTS}")
    assert isinstance(document, dict) and isinstance(body, dict)
    meta = document.get("meta")
    count = meta.get("count") if isinstance(meta, dict) else None
    if count is not None and not _whole(count):
        raise _bad_file(label, "/meta/count: must be a whole number of flows")
    incoming = body.get("incoming")
    totals: list[Decimal | None] = []
    for name in ("fundingTotal", "pledgeTotal"):
        value = incoming.get(name) if isinstance(incoming, dict) else None
        if value is not None and (not _number(value) or not _cents(Decimal(value))):
            raise _bad_file(label, f"/data/incoming/{name}: must be a number of US dollars")
        totals.append(None if value is None else Decimal(value))
    return _Page(label, count, totals[0], totals[1], flows)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_MINOR


def _cents(value: Decimal) -> bool:
    cents = value * 100
    return cents == cents.to_integral_value()


def _number(value: Any) -> bool:
    """A JSON number (never a bool), of at most 40 digits before or after the point: a
    larger or finer one (1E+999999999) is refused before any arithmetic with it."""
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        return False
    number = Decimal(value)
    return number.is_zero() or (number.adjusted() < 40 and number.as_tuple().exponent >= -40)  # type: ignore[operator]


class _Checks:
    """The problems of one flow, each named by its JSON pointer."""

    def __init__(self, raw: dict[str, Any], at: str) -> None:
        self.raw = raw
        self.at = at
        self.errors: list[tuple[str, str]] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append((f"{self.at}/{path}", message))

    def text(
        self, name: str, column: Any, value: Any = None, path: str | None = None
    ) -> str | None:
        value = self.raw.get(name) if path is None else value
        path = path or name
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(path, "must be text")
            return None
        cleaned = clean(value)
        if cleaned is None:
            return None
        try:
            return check_text(cleaned, column, path)
        except InputError as exc:
            self.fail(path, exc.problem)
            return None

    def flow_id(self, value: Any, path: str) -> str | None:
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            value = str(value)
        if isinstance(value, str) and _DIGITS.fullmatch(value):
            return str(int(value))
        self.fail(path, f"{_shown(value)} is not an FTS flow id (a whole number)")
        return None

    def day(self, name: str, need: bool) -> date | None:
        value = self.raw.get(name)
        if value is None:
            if need:
                self.fail(name, "is missing; a flow needs its date")
            return None
        if isinstance(value, str):
            found = _ISO_DAY.fullmatch(value.strip())
            if found is not None:
                try:
                    return date.fromisoformat(found.group(1))
                except ValueError:
                    pass
        self.fail(name, f"{_shown(value)} is not a date (YYYY-MM-DD or an ISO timestamp)")
        return None

    def decimal(self, name: str, positive: bool = False) -> Decimal | None:
        value = self.raw.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.fail(name, f"{_shown(value)} must be a number")
            return None
        if not _number(value):
            self.fail(name, f"{_shown(value)} has more than 40 digits")
            return None
        number = plain_decimal(Decimal(value))
        if positive and number <= 0:
            self.fail(name, f"{_shown(value)} must be more than 0")
            return None
        if len(str(number)) > 40:
            self.fail(name, f"{_shown(value)} has more than 40 digits")
            return None
        return number


def _shown(value: Any) -> str:
    """A value of the file in a message: a scalar as JSON, cut short; never a whole (perhaps
    deeply nested) object or list."""
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = json.dumps(value, default=str, ensure_ascii=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _names(checks: _Checks, name: str) -> str | None:
    """The names of a flow's source or destination: its Organizations, else its Location,
    else its Plan, several joined by `; `; UNNAMED when it names none of them."""
    objects = checks.raw.get(name)
    if objects is None:
        objects = []
    if not isinstance(objects, list):
        checks.fail(name, "must be a list of objects")
        return None
    found: dict[str, list[str]] = {"Organization": [], "Location": [], "Plan": []}
    for index, item in enumerate(objects):
        if not isinstance(item, dict):
            checks.fail(f"{name}/{index}", "must be an object")
            continue
        kind = item.get("type")
        if kind not in found:
            continue
        text = checks.text("name", Pledge.donor, item.get("name"), f"{name}/{index}/name")
        if text is not None and text not in found[kind]:
            found[kind].append(text)
    for kind in ("Organization", "Location", "Plan"):
        if found[kind]:
            joined = "; ".join(found[kind])
            try:
                return check_text(joined, Pledge.donor, name)
            except InputError as exc:
                checks.fail(name, exc.problem)
                return None
    return UNNAMED


def _report(checks: _Checks, flow_id: str) -> tuple[str, date | None]:
    """The title of the source a flow cites: FTS, and who reported the flow, how and when."""
    details = checks.raw.get("reportDetails")
    title = f"OCHA FTS flow {flow_id}"
    if details is None:
        return title, None
    if not isinstance(details, list):
        checks.fail("reportDetails", "must be a list of objects")
        return title, None
    for index, item in enumerate(details):
        if not isinstance(item, dict):
            checks.fail(f"reportDetails/{index}", "must be an object")
            return title, None
    if not details:
        return title, None
    first = details[0]
    at = "reportDetails/0"
    organization = checks.text("", Source.title, first.get("organization"), f"{at}/organization")
    channel = checks.text("", Source.title, first.get("reportChannel"), f"{at}/reportChannel")
    day = None
    given = first.get("date")
    if isinstance(given, str) and _ISO_DAY.fullmatch(given.strip()):
        try:
            day = date.fromisoformat(given.strip()[:10])
        except ValueError:
            day = None
    if given is not None and day is None:
        checks.fail(f"{at}/date", f"{_shown(given)} is not a date")
    if organization:
        title += f", reported by {organization}"
    how = ", ".join(part for part in (channel, day.isoformat() if day else None) if part)
    if how:
        title += f" ({how})"
    return title, day


def parse_flow(raw: Any, at: str) -> tuple[Flow | None, list[tuple[str, str]]]:
    """A flow of a page checked: the Flow, or its problems as (JSON pointer, message)."""
    if not isinstance(raw, dict):
        return None, [(at, "must be an object (a flow)")]
    checks = _Checks(raw, at)
    flow_id = checks.flow_id(raw.get("id"), "id")
    version = raw.get("versionId")
    if not _whole(version):
        checks.fail("versionId", f"{_shown(version)} must be a whole number (the flow's version)")
    status = raw.get("status")
    if status not in {s.value for s in PledgeStatus}:
        checks.fail("status", f"{_shown(status)} is not pledge, commitment or paid")
    amount = raw.get("amountUSD")
    minor = None
    if amount is None:
        checks.fail("amountUSD", "is missing; a flow needs its amount in USD")
    elif isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        checks.fail("amountUSD", f"{_shown(amount)} must be a number of US dollars")
    elif not _number(amount):
        checks.fail("amountUSD", f"{_shown(amount)} is too large (or has too many decimals)")
    else:
        cents = Decimal(amount) * 100
        if cents != cents.to_integral_value():
            checks.fail("amountUSD", f"{_shown(amount)} must be a whole number of cents")
        elif cents < 0:
            checks.fail("amountUSD", f"{_shown(amount)} must not be negative")
        elif cents > MAX_MINOR:
            checks.fail("amountUSD", f"{_shown(amount)} is too large")
        else:
            minor = int(cents)
    original_amount = checks.decimal("originalAmount")
    exchange_rate = checks.decimal("exchangeRate", positive=True)
    currency = raw.get("originalCurrency")
    if currency is not None:
        if not isinstance(currency, str) or not _CURRENCY_CODE.fullmatch(currency.strip().upper()):
            checks.fail("originalCurrency", f"{_shown(currency)} is not a currency code")
            currency = None
        else:
            currency = currency.strip().upper()
    on = checks.day("date", need=True)
    decided = checks.day("decisionDate", need=False)
    boundary_text = raw.get("boundary")
    if boundary_text not in (None, "incoming", "outgoing", "internal"):
        checks.fail("boundary", f"{_shown(boundary_text)} is not incoming, outgoing or internal")
    on_boundary = raw.get("onBoundary")
    if on_boundary not in (None, "single", "shared"):
        checks.fail("onBoundary", f"{_shown(on_boundary)} is not single or shared")
    parent = None
    if raw.get("parentFlowId") is not None:
        parent = checks.flow_id(raw.get("parentFlowId"), "parentFlowId")
    children: list[str] = []
    given_children = raw.get("childFlowIds")
    if given_children is not None:
        if not isinstance(given_children, list):
            checks.fail("childFlowIds", "must be a list of flow ids")
        else:
            for index, child in enumerate(given_children):
                child_id = checks.flow_id(child, f"childFlowIds/{index}")
                if child_id is not None and child_id not in children:
                    children.append(child_id)
    purpose = checks.text("description", Pledge.purpose)
    donor = _names(checks, "sourceObjects")
    recipient = _names(checks, "destinationObjects")
    report, reported_on = _report(checks, flow_id or "")
    if checks.errors:
        return None, checks.errors
    assert flow_id is not None and minor is not None and on is not None
    assert donor is not None and recipient is not None
    boundary = None
    if boundary_text == "internal":
        boundary = Boundary.INTERNAL
    elif on_boundary == "shared":
        boundary = Boundary.SHARED
    assert isinstance(version, int) and isinstance(status, str)
    flow = Flow(
        id=flow_id,
        version=version,
        status=PledgeStatus(status),
        amount_minor=minor,
        original_amount=original_amount,
        original_currency=currency,
        exchange_rate=exchange_rate,
        donor=donor,
        recipient=recipient,
        purpose=purpose,
        announced_on=decided or on,
        on=on,
        boundary=boundary,
        incoming=boundary_text in (None, "incoming"),
        parent=parent if parent != flow_id else None,
        children=tuple(child for child in children if child != flow_id),
        report=report,
        reported_on=reported_on,
    )
    return flow, []


@dataclass(frozen=True)
class FtsFile:
    path: Path
    label: str


def import_fts(session: Session, files: Sequence[FtsFile], options: Options) -> FtsResult:
    """The flows of FTS search pages, in one transaction: every flow of every file checked
    before any is written (InvalidFlows lists the bad ones by JSON pointer).

    A flow id is one pledge (ref `fts:<id>`); a flow stored already is left as it is unless
    the file has a newer versionId, which edits it (its history keeps the earlier version).
    """
    return _FtsImport(session, list(files), options).run()


class _FtsImport:
    def __init__(self, session: Session, files: list[FtsFile], options: Options) -> None:
        if not options.dry_run:
            serialize_imports(session)
        self.session = session
        self.files = files
        self.options = options
        self.result = FtsResult()
        self.chosen: dict[str, _Chosen] = {}
        # ref -> (pledge id, stored version, voided)
        self.stored: dict[str, tuple[int, str | None, bool]] = {}

    def run(self) -> FtsResult:
        self.check()
        self.stored = self.lookup(fts_ref(flow_id) for flow_id in self.chosen)
        self.classify()
        if not self.options.dry_run:
            self.write()
        self.link()
        self.figures()
        return self.result

    # --- the first pass: every flow checked ---------------------------------------------

    def check(self) -> None:
        errors: list[PathError] = []
        listed_errors = 0
        invalid = total = 0
        first: _Page | None = None
        for number, file in enumerate(self.files):
            page = read_page(file.path, file.label)
            if first is None:
                first = page
                self.result.search_flows = page.count
                self.result.fts_funding = page.funding
                self.result.fts_pledges = page.pledges
            elif (page.count, page.funding, page.pledges) != (
                first.count,
                first.funding,
                first.pledges,
            ):
                raise _bad_file(
                    file.label,
                    f"its search (meta.count and data.incoming totals) is not that of "
                    f"{first.label}: give the pages of one search, and import each search apart",
                )
            for position, raw in enumerate(page.flows):
                total += 1
                flow, problems = parse_flow(raw, f"/data/flows/{position}")
                if flow is None:
                    invalid += 1
                    listed_errors += len(problems)
                    for pointer, message in problems:
                        if len(errors) <= MAX_LISTED:
                            errors.append(PathError(file.label, pointer, message))
                    continue
                self.choose(flow, number, position)
        if invalid:
            raise InvalidFlows(errors, invalid, total, listed_errors)
        self.result.flows = len(self.chosen)
        self.result.rate_disagrees = sorted(
            (flow_id for flow_id, chosen in self.chosen.items() if chosen.rate_disagrees),
            key=int,
        )

    def choose(self, flow: Flow, number: int, position: int) -> None:
        earlier = self.chosen.get(flow.id)
        if earlier is not None:
            self.result.repeated += 1
            if earlier.version >= flow.version:
                return
        self.chosen[flow.id] = _Chosen(
            flow.version,
            number,
            position,
            flow.status,
            flow.amount_minor,
            flow.boundary is None,
            flow.incoming,
            flow.parent,
            flow.children,
            flow.rate_disagrees,
        )

    def lookup(self, refs: Iterator[str] | list[str]) -> dict[str, tuple[int, str | None, bool]]:
        """The pledges stored with these refs, voided ones too."""
        wanted = list(refs)
        found: dict[str, tuple[int, str | None, bool]] = {}
        for start in range(0, len(wanted), _CHUNK):
            query = select(Pledge.ref, Pledge.id, Pledge.version, Pledge.voided_at).where(
                Pledge.ref.in_(wanted[start : start + _CHUNK])
            )
            for ref, pledge_id, version, voided_at in self.session.execute(query):
                assert ref is not None
                found[ref] = (pledge_id, version, voided_at is not None)
        return found

    def classify(self) -> None:
        """Each chosen flow: new, newer than stored (an edit), stored already, or voided."""
        self.new: set[str] = set()
        self.newer: set[str] = set()
        counts = self.result
        # Listed in this order: the records of a flow, then its source and its link.
        counts.added = dict.fromkeys(
            ("pledges", "installments", "disbursements", "sources", "links"), 0
        )
        for flow_id, chosen in self.chosen.items():
            stored = self.stored.get(fts_ref(flow_id))
            if stored is None:
                self.new.add(flow_id)
                _tally(counts.added, "pledges")
                if chosen.amount_minor > 0:
                    _tally(counts.added, "installments")
                    if chosen.status is PledgeStatus.PAID:
                        _tally(counts.added, "disbursements")
                        _tally(counts.added, "links")
                _tally(counts.added, "sources")
                _tally(counts.added, "links")
            elif stored[2]:
                _tally(counts.voided, "pledges")
                _tally(counts.present, "pledges")
            elif _older(stored[1], chosen.version):
                self.newer.add(flow_id)
                _tally(counts.changed, "pledges")
            else:
                _tally(counts.present, "pledges")
        counts.added = {kind: n for kind, n in counts.added.items() if n}

    # --- the second pass: the flows written -----------------------------------------------

    def flows(self) -> Iterator[Flow]:
        """The chosen flows to write (new or newer), read again from their files."""
        wanted = self.new | self.newer
        advance = None
        if self.options.progress is not None:
            advance = self.options.progress("Importing flows", len(wanted))
        done = 0
        for number, file in enumerate(self.files):
            page = read_page(file.path, file.label)
            for position, raw in enumerate(page.flows):
                flow, _ = parse_flow(raw, f"/data/flows/{position}")
                if flow is None:
                    raise _bad_file(
                        file.label,
                        "changed while it was imported; nothing was written; import it again",
                    )
                chosen = self.chosen.get(flow.id)
                if chosen is None or (chosen.file, chosen.position) != (number, position):
                    continue
                if flow.id in wanted:
                    yield flow
                    done += 1
                    if advance is not None:
                        advance(done)

    def write(self) -> None:
        session, options = self.session, self.options
        change = options.change
        assert change is not None
        self.ids = {ref: stored[0] for ref, stored in self.stored.items()}
        next_pledge = _next_id(session, Pledge)
        next_installment = _next_id(session, Installment)
        next_source = _next_id(session, Source)
        next_payment = _next_id(session, Disbursement)
        sources = {key: source_id for source_id, key in source_keys(session).items()}
        # Each batch names the one written before it, so that a full batch never reaches the
        # database before the rows it refers to: pledges, installments, payments, sources, links.
        pledges = Batches(session, Pledge, options)
        installments = Batches(session, Installment, options, parent=pledges)
        payments = Batches(session, Disbursement, options, parent=installments)
        source_rows = Batches(session, Source, options, parent=payments)
        links = Batches(session, SourceLink, options, parent=source_rows)
        now = change.at
        edits: list[Flow] = []
        for flow in self.flows():
            if flow.id in self.newer:
                edits.append(flow)
                if len(edits) >= _CHUNK:
                    self.edit(edits)
                    edits = []
                continue
            pledge_id = next_pledge
            next_pledge += 1
            payment_id: int | None = None
            self.ids[flow.ref] = pledge_id
            pledges.add({"id": pledge_id, **flow.pledge_row(), "created_at": now})
            if flow.amount_minor > 0:
                installment_id = next_installment
                next_installment += 1
                installments.add(
                    {
                        "id": installment_id,
                        "pledge_id": pledge_id,
                        "seq": 1,
                        "due_on": flow.on,
                        "amount_minor": flow.amount_minor,
                    }
                )
                if flow.status is PledgeStatus.PAID:
                    payment_id = next_payment
                    next_payment += 1
                    payments.add(
                        {
                            "id": payment_id,
                            "ref": flow.ref,
                            "pledge_id": pledge_id,
                            "installment_id": installment_id,
                            "paid_on": flow.on,
                            "amount_minor": flow.amount_minor,
                            "created_at": now,
                        }
                    )
            key = source_key(None, flow.report, PUBLISHER, flow.reported_on)
            source_id = sources.get(key)
            if source_id is None:
                source_id = sources[key] = next_source
                next_source += 1
                source_rows.add(
                    {
                        "id": source_id,
                        "url": None,
                        "title": flow.report,
                        "publisher": PUBLISHER,
                        "published_on": flow.reported_on,
                        "retrieved_on": now.date(),
                        "created_at": now,
                        "change_id": change.id,
                    }
                )
            links.add(
                {
                    "source_id": source_id,
                    "pledge_id": pledge_id,
                    "disbursement_id": None,
                    "confidence": Confidence.REPORTED,
                }
            )
            if payment_id is not None:  # FTS reports the payment as it reports the flow
                links.add(
                    {
                        "source_id": source_id,
                        "pledge_id": None,
                        "disbursement_id": payment_id,
                        "confidence": Confidence.REPORTED,
                    }
                )
        links.flush()
        if edits:
            self.edit(edits)

    def edit(self, flows: list[Flow]) -> None:
        """Stored pledges given with a newer version: edited through the ORM, so that each
        keeps its earlier version in its history; its installment and payment follow."""
        session = self.session
        for flow in flows:
            pledge_id = self.stored[flow.ref][0]
            pledge = session.get(Pledge, pledge_id)
            assert pledge is not None
            for name, value in flow.pledge_row().items():
                if getattr(pledge, name) != value:
                    setattr(pledge, name, value)
            first = next((i for i in pledge.installments if i.seq == 1), None)
            payment = session.scalar(select(Disbursement).where(Disbursement.ref == flow.ref))
            paid = flow.status is PledgeStatus.PAID and flow.amount_minor > 0
            if payment is not None and not paid:
                # The payment goes (its history keeps it), and the links citing it with it.
                cited = select(SourceLink).where(SourceLink.disbursement_id == payment.id)
                for link in session.scalars(cited):
                    session.delete(link)
                session.delete(payment)
                payment = None
            if flow.amount_minor > 0:
                if first is None:
                    first = Installment(seq=1, due_on=flow.on, amount_minor=flow.amount_minor)
                    pledge.installments.append(first)
                else:
                    if first.amount_minor != flow.amount_minor:
                        first.amount_minor = flow.amount_minor
                    if first.due_on != flow.on:
                        first.due_on = flow.on
            elif first is not None:
                for other in list(first.disbursements):
                    cited = select(SourceLink).where(SourceLink.disbursement_id == other.id)
                    for link in session.scalars(cited):
                        session.delete(link)
                    session.delete(other)
                pledge.installments.remove(first)
                first = None
            if paid:
                assert first is not None
                if payment is None:
                    payment = Disbursement(
                        pledge=pledge,
                        installment=first,
                        ref=flow.ref,
                        paid_on=flow.on,
                        amount_minor=flow.amount_minor,
                    )
                    session.add(payment)
                    session.flush()
                    self.cite_payment(pledge.id, payment.id)
                else:
                    if payment.installment_id != first.id:
                        payment.installment = first
                    if payment.paid_on != flow.on:
                        payment.paid_on = flow.on
                    if payment.amount_minor != flow.amount_minor:
                        payment.amount_minor = flow.amount_minor
            session.flush()

    def cite_payment(self, pledge_id: int, payment_id: int) -> None:
        """The payment of a flow edited to paid cites the sources FTS gave for the flow."""
        cited = (
            select(SourceLink.source_id)
            .join(Source, Source.id == SourceLink.source_id)
            .where(SourceLink.pledge_id == pledge_id, Source.publisher == PUBLISHER)
        )
        for source_id in set(self.session.scalars(cited)):
            self.session.add(
                SourceLink(
                    source_id=source_id,
                    disbursement_id=payment_id,
                    confidence=Confidence.REPORTED,
                )
            )

    # --- parent and child flows -----------------------------------------------------------

    def link(self) -> None:
        """Each flow linked to the flow it is part of (parentFlowId, or the flow whose
        childFlowIds name it), when that flow is imported now or stored."""
        chosen = self.chosen
        pairs: set[tuple[str, str]] = set()
        for flow_id, flow in chosen.items():
            if flow.parent is not None:
                pairs.add((flow.parent, flow_id))
            for child in flow.children:
                pairs.add((flow_id, child))
        others = {ref for pair in pairs for ref in pair if ref not in chosen}
        known = self.lookup([fts_ref(flow_id) for flow_id in others])
        present = set(chosen) | {ref.removeprefix(REF_PREFIX) for ref in known}
        self.result.links_outside = sum(
            1 for parent, child in pairs if parent not in present or child not in present
        )
        wanted: dict[str, str] = {}
        for flow_id, flow in chosen.items():  # a flow's own parentFlowId first
            if flow.parent is not None and flow.parent in present:
                wanted[flow_id] = flow.parent
        for flow_id, flow in chosen.items():
            for child in flow.children:
                if child in present and child not in wanted:
                    if chosen.get(child) is not None and chosen[child].parent is not None:
                        continue  # its own parentFlowId names a flow not imported
                    wanted[child] = flow_id
        if self.options.dry_run or not wanted:
            return
        ids = dict(getattr(self, "ids", {}))
        for ref, (pledge_id, _, _) in known.items():
            ids[ref] = pledge_id
        new_links = []
        stored_links: dict[int, int] = {}
        for child, parent in wanted.items():
            child_id = ids.get(fts_ref(child))
            parent_id = ids.get(fts_ref(parent))
            if child_id is None or parent_id is None:
                continue
            if child in self.new:
                new_links.append({"pledge": child_id, "parent": parent_id})
            else:
                stored_links[child_id] = parent_id
        if new_links:
            # Only pledges this change has just added: they have no earlier version to keep.
            self.session.connection().execute(
                update(Pledge)
                .where(Pledge.id == bindparam("pledge"))
                .values(part_of_id=bindparam("parent")),
                new_links,
            )
        for pledge_id, parent_id in stored_links.items():
            pledge = self.session.get(Pledge, pledge_id)
            if pledge is None or pledge.voided_at is not None or pledge.part_of_id == parent_id:
                continue
            pledge.part_of_id = parent_id
            self.result.relinked += 1
        self.session.flush()

    # --- the figures beside FTS's ---------------------------------------------------------

    def figures(self) -> None:
        """fintrack's totals of the imported flows by the rules of `fintrack totals` (the
        database's after the write; in a dry run, the files' for what would change)."""
        from fintrack.reports.totals import Tables, TotalsFilter, filtered

        counted: dict[str, tuple[PledgeStatus, int]] = {}
        refs = [fts_ref(flow_id) for flow_id, c in self.chosen.items() if c.incoming]
        t = Tables(TotalsFilter().known)
        for start in range(0, len(refs), _CHUNK):
            query = (
                select(t.pledge.ref, t.pledge.status, func.sum(t.installment.amount_minor))
                .select_from(t.installment)
                .join(t.pledge, t.pledge.id == t.installment.pledge_id)
                .where(t.pledge.ref.in_(refs[start : start + _CHUNK]))
                .group_by(t.pledge.ref, t.pledge.status)
            )
            query = filtered(query, TotalsFilter(currency=CURRENCY), t)
            for ref, status, amount in self.session.execute(query):
                counted[ref] = (PledgeStatus(status), int(amount))
        if self.options.dry_run:
            for flow_id in self.new | self.newer:
                chosen = self.chosen[flow_id]
                counted.pop(fts_ref(flow_id), None)
                if chosen.incoming and chosen.counted and chosen.amount_minor > 0:
                    counted[fts_ref(flow_id)] = (chosen.status, chosen.amount_minor)
        for status, amount in counted.values():
            if status is PledgeStatus.PLEDGE:
                self.result.pledges_minor += amount
            else:
                self.result.funding_minor += amount


def _tally(counts: dict[str, int], name: str) -> None:
    counts[name] = counts.get(name, 0) + 1


def _older(stored: str | None, version: int) -> bool:
    """Whether a stored version is older than `version` (none, or not a number: older)."""
    if stored is None or not stored.isdigit():
        return True
    return int(stored) < version


def _next_id(session: Session, model: Any) -> int:
    """The first id after every one the table and its history have used."""
    table = model.__table__
    largest = session.scalar(select(func.max(table.c.id))) or 0
    history = HISTORY.get(table.name)
    if history is not None:
        largest = max(largest, session.scalar(select(func.max(history.c.id))) or 0)
    return int(largest) + 1

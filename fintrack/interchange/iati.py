"""Importing IATI activity XML 2.0x: transactions as pledges and payments, planned
disbursements as installments."""

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fintrack.errors import InputError, InvalidElements, PathError
from fintrack.history import void
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import open_imported
from fintrack.interchange.writing import Batches
from fintrack.models import Disbursement, Installment, Pledge
from fintrack.money import MAX_MINOR, exponent, format_amount, normalize_currency
from fintrack.text import check_text
from fintrack.vocab import PledgeStatus

ROOT, ACTIVITY = "iati-activities", "iati-activity"
# The transaction types fintrack reads (IATI codelist TransactionType), as (direction, kind):
# incoming money has the transaction's provider-org as donor and the reporting-org as
# recipient; outgoing money the reporting-org as donor and the receiver-org as recipient.
# The other types (4 expenditure, 5 interest payment, 6 loan repayment, 7 reimbursement,
# 8-9 equity, 10 credit guarantee) are spending or finance, not aid flows: left out.
COMMITMENT, PLEDGE, FUNDS = "commitment", "pledge", "funds"
TRANSACTION_TYPES = {
    "11": ("in", COMMITMENT),  # incoming commitment
    "13": ("in", PLEDGE),  # incoming pledge
    "1": ("in", FUNDS),  # incoming funds
    "2": ("out", COMMITMENT),  # outgoing commitment
    "12": ("out", PLEDGE),  # outgoing pledge
    "3": ("out", FUNDS),  # disbursement
}
# planned-disbursement/@type (IATI codelist BudgetType): 1 original, 2 revised.
ORIGINAL, REVISED = "1", "2"
# What the summary says was left out, each counted under a phrase whose first word is the
# element, made plural by an s.
OTHER_TYPES = "transaction of another type"
UNMATCHED = "planned-disbursement matching no one pledge"
ZERO_PLANS = "planned-disbursement of zero"
# The columns names and titles go to (table columns: their length is read without the ORM).
NAMES = Pledge.__table__.c["donor"]
TITLES = Pledge.__table__.c["purpose"]
# Stored pledges compared with the file's at a time (one IN list of ids).
COMPARED = 500
# Refs longer than a ref column holds are replaced by a hash of their text.
MAX_REF = 200
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)", re.ASCII)


def _ref(text: str) -> str:
    if len(text) <= MAX_REF:
        return text
    return "iati:sha256:" + hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Flow:
    """A transaction fintrack reads: its amount signed as the file gives it."""

    kind: str
    minor: int
    on: date
    value_on: date | None
    ref: str
    position: int


@dataclass
class Plan:
    """A planned disbursement, before original and revised ones are told apart."""

    start: date
    end: date | None
    kind: str
    minor: int


@dataclass(frozen=True)
class Payment:
    ref: str
    paid_on: date
    value_on: date | None
    seq: int
    minor: int


@dataclass
class PlannedPledge:
    """A pledge as the file gives it, with its installments and payments."""

    ref: str
    donor: str
    recipient: str
    purpose: str | None
    currency: str
    amount_minor: int
    status: PledgeStatus
    announced_on: date
    value_on: date | None
    schedule_assumed: bool
    installments: list[tuple[int, date, int]]
    payments: list[Payment]

    def state(self) -> tuple[Any, ...]:
        return (
            self.donor,
            self.recipient,
            self.purpose,
            self.currency,
            self.amount_minor,
            self.status,
            self.announced_on,
            self.value_on,
            self.schedule_assumed,
            self.installments,
            sorted(self.payments, key=lambda p: p.ref),
        )


@dataclass
class _Group:
    """The transactions of one activity with one counterpart in one currency."""

    donor: str
    recipient: str
    currency: str
    flows: list[Flow] = field(default_factory=list)
    plans: list[Plan] = field(default_factory=list)


class _Activity:
    """One iati-activity element read into pledges, with the problems found on the way."""

    def __init__(self, element: Element, base: str, label: str) -> None:
        self.base = base
        self.label = label
        self.errors: list[PathError] = []
        self.left_out: dict[str, int] = defaultdict(int)
        self.identifier: str | None = None
        self.pledges: list[PlannedPledge] = []
        self._read(element)

    def fail(self, place: str, message: str) -> None:
        self.errors.append(PathError(self.label, place, message))

    def _name(
        self, element: Element | None, place: str, field: str, column: Any = NAMES
    ) -> str | None:
        """An organisation's name (or a title): its first narrative, else its @ref."""
        if element is None:
            return None
        texts = [" ".join((n.text or "").split()) for n in element.findall("narrative")]
        name = next((text for text in texts if text), None) or (element.get("ref") or "").strip()
        if not name:
            return None
        try:
            return check_text(name, column, field)
        except InputError as exc:
            self.fail(place, exc.problem)
            return None

    def _date(self, element: Element | None, attribute: str, place: str) -> date | None:
        text = element.get(attribute) if element is not None else None
        if text is None:
            self.fail(place, f"needs @{attribute}, a date such as 2025-05-08")
            return None
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            self.fail(f"{place}/@{attribute}", f"'{text}' is not a date such as 2025-05-08")
            return None

    def _value(self, element: Element | None, place: str, default: str | None) -> Any:
        """(currency, signed minor units, value date) of a value element, or None."""
        if element is None:
            self.fail(place, "is missing: give the amount")
            return None
        given = element.get("currency")
        if given is None and default is None:
            self.fail(place, "has no @currency and the activity no @default-currency")
            return None
        try:
            currency = normalize_currency(given or default or "", "currency")
        except InputError as exc:
            self.fail(
                f"{place}/@currency" if given else f"{self.base}/@default-currency", exc.problem
            )
            return None
        text = (element.text or "").strip()
        if not _DECIMAL.fullmatch(text):
            self.fail(place, f"'{text}' is not a decimal amount such as 29000000.00")
            return None
        minor = Decimal(text).scaleb(exponent(currency))
        if minor != minor.to_integral_value():
            self.fail(
                place, f"'{text}' has more decimals than {currency} allows ({exponent(currency)})"
            )
            return None
        if abs(minor) > MAX_MINOR:
            self.fail(place, f"'{text}' is too large")
            return None
        value_on = None
        if element.get("value-date") is not None:
            value_on = self._date(element, "value-date", place)
        return currency, int(minor), value_on

    def _read(self, element: Element) -> None:
        base = self.base
        found = element.find("iati-identifier")
        identifier = " ".join((found.text or "").split()) if found is not None else ""
        if not identifier:
            self.fail(f"{base}/iati-identifier", "is missing or empty: every activity needs one")
            return
        self.identifier = identifier
        reporting = element.find("reporting-org")
        reporter = self._name(reporting, f"{base}/reporting-org", "reporting-org")
        if reporter is None:
            if not self.errors:
                self.fail(
                    f"{base}/reporting-org", "needs a narrative or @ref: it names who reports"
                )
            return
        default = element.get("default-currency")
        if default is not None:
            try:
                default = normalize_currency(default, "default-currency")
            except InputError as exc:
                self.fail(f"{base}/@default-currency", exc.problem)
                return
        titles = element.find("title")
        purpose = self._name(titles, f"{base}/title", "title", TITLES)
        transactions = [
            (position, child) for position, child in enumerate(element.findall("transaction"), 1)
        ]
        given = [(child.get("ref") or "").strip() for _, child in transactions]
        groups: dict[tuple[str, str, str], _Group] = {}
        for (position, child), own in zip(transactions, given, strict=True):
            # A transaction's own ref names its payment when the activity uses it once.
            key = own if own and given.count(own) == 1 else f"#{position}"
            self._transaction(child, position, key, reporter, default, groups)
        plans: list[tuple[str, str | None, Plan]] = []
        for position, child in enumerate(element.findall("planned-disbursement"), 1):
            planned = self._plan(child, f"{base}/planned-disbursement[{position}]", default)
            if planned is not None:
                plans.append(planned)
        if self.errors:
            return
        for currency, receiver, plan in plans:
            matching = [
                group
                for (direction, name, code), group in groups.items()
                if direction == "out"
                and code == currency
                and (receiver is None or name == receiver)
            ]
            if len(matching) == 1:
                matching[0].plans.append(plan)
            else:
                self.left_out[UNMATCHED] += 1
        for (direction, name, _), group in groups.items():
            pledge = self._pledge(direction, name, group, purpose)
            if pledge is not None:
                self.pledges.append(pledge)

    def _transaction(
        self,
        child: Element,
        position: int,
        key: str,
        reporter: str,
        default: str | None,
        groups: dict[tuple[str, str, str], _Group],
    ) -> None:
        place = f"{self.base}/transaction[{position}]"
        typed = child.find("transaction-type")
        code = (typed.get("code") or "").strip() if typed is not None else ""
        if not code:
            self.fail(f"{place}/transaction-type", "needs @code, a TransactionType code")
            return
        if code not in TRANSACTION_TYPES:
            self.left_out[OTHER_TYPES] += 1
            return
        direction, kind = TRANSACTION_TYPES[code]
        value = self._value(child.find("value"), f"{place}/value", default)
        on = self._date(child.find("transaction-date"), "iso-date", f"{place}/transaction-date")
        org = "provider-org" if direction == "in" else "receiver-org"
        counterpart = self._name(child.find(org), f"{place}/{org}", org)
        if counterpart is None and not any(
            e.path.startswith(f"{place}/{org}") for e in self.errors
        ):
            role = "donor of incoming" if direction == "in" else "recipient of outgoing"
            self.fail(place, f"has no {org} with a narrative or @ref: the {role} money")
        if value is None or on is None or counterpart is None:
            return
        currency, minor, value_on = value
        donor, recipient = (counterpart, reporter) if direction == "in" else (reporter, counterpart)
        group = groups.setdefault(
            (direction, counterpart, currency), _Group(donor, recipient, currency)
        )
        ref = _ref(f"iati:{self.identifier}:tx:{key}")
        group.flows.append(Flow(kind, minor, on, value_on, ref, position))

    def _plan(
        self, child: Element, place: str, default: str | None
    ) -> tuple[str, str | None, Plan] | None:
        kind = (child.get("type") or ORIGINAL).strip()
        if kind not in (ORIGINAL, REVISED):
            self.fail(f"{place}/@type", f"'{kind}' is not 1 (original) or 2 (revised)")
        start = self._date(child.find("period-start"), "iso-date", f"{place}/period-start")
        end = None
        if child.find("period-end") is not None:
            end = self._date(child.find("period-end"), "iso-date", f"{place}/period-end")
        value = self._value(child.find("value"), f"{place}/value", default)
        receiver = self._name(child.find("receiver-org"), f"{place}/receiver-org", "receiver-org")
        if value is None or start is None:
            return None
        currency, minor, _ = value
        if minor < 0:
            self.fail(f"{place}/value", "is negative: a planned disbursement plans a payment")
            return None
        if end is not None and end < start:
            self.fail(f"{place}/period-end", f"{end} is before period-start {start}")
            return None
        if minor == 0:
            self.left_out[ZERO_PLANS] += 1
            return None
        return currency, receiver, Plan(start, end, kind, minor)

    def _pledge(
        self, direction: str, name: str, group: _Group, purpose: str | None
    ) -> PlannedPledge | None:
        currency = group.currency
        by_kind = {
            kind: [f for f in group.flows if f.kind == kind] for kind in (COMMITMENT, PLEDGE, FUNDS)
        }
        basis = next((kind for kind in (COMMITMENT, PLEDGE) if by_kind[kind]), FUNDS)
        payments = self._net(by_kind[FUNDS], group)
        if payments is None:
            return None
        disbursed = sum(minor for _, minor in payments)
        amount = disbursed if basis == FUNDS else sum(f.minor for f in by_kind[basis])
        money = f"{currency} {format_amount(amount, currency)}"
        whom = f"from {name}" if direction == "in" else f"to {name}"
        if amount < 0:
            self.fail(self.base, f"its {basis} transactions {whom} in {currency} sum to {money}")
            return None
        if amount == 0 and disbursed > 0:
            self.fail(
                self.base,
                f"its {basis} transactions {whom} in {currency} sum to zero, yet "
                f"{currency} {format_amount(disbursed, currency)} is disbursed against them",
            )
            return None
        first = min(by_kind[basis], key=lambda f: (f.on, f.position))
        status = {COMMITMENT: PledgeStatus.COMMITMENT, PLEDGE: PledgeStatus.PLEDGE}.get(
            basis, PledgeStatus.PAID
        )
        if 0 < amount <= disbursed:
            status = PledgeStatus.PAID
        schedule, assumed = _schedule(group.plans, amount, first.on)
        identifier = self.identifier
        return PlannedPledge(
            ref=_ref(f"iati:{identifier}:{direction}:{name}:{currency}"),
            donor=group.donor,
            recipient=group.recipient,
            purpose=purpose,
            currency=currency,
            amount_minor=amount,
            status=status,
            announced_on=first.on,
            value_on=first.value_on,
            schedule_assumed=assumed,
            installments=schedule,
            payments=_paid(payments, schedule),
        )

    def _net(self, flows: list[Flow], group: _Group) -> list[tuple[Flow, int]] | None:
        """The payments with negative ones netted: a negative disbursement (a reversal, a
        refund) reduces the latest payments before it, then the next ones after it."""
        kept: list[tuple[Flow, int]] = []
        owed = 0
        for flow in sorted(flows, key=lambda f: (f.on, f.position)):
            if flow.minor >= 0:
                minor = flow.minor - min(owed, flow.minor)
                owed -= flow.minor - minor
                kept.append((flow, minor))
                continue
            owed -= flow.minor
            for index in range(len(kept) - 1, -1, -1):
                taken = min(owed, kept[index][1])
                kept[index] = (kept[index][0], kept[index][1] - taken)
                owed -= taken
        if owed:
            currency = group.currency
            self.fail(
                self.base,
                f"its payments from {group.donor} to {group.recipient} in {currency} sum to "
                f"{currency} {format_amount(-owed, currency)}: a negative disbursement exceeds "
                "the payments it reverses",
            )
            return None
        return [(flow, minor) for flow, minor in kept if minor > 0]


def _schedule(
    plans: list[Plan], amount: int, first: date
) -> tuple[list[tuple[int, date, int]], bool]:
    """The installments of a pledge: its planned disbursements, a revised one replacing the
    originals of its period, due at the end of the period (else its start).

    Without plans the pledge is one installment due on its first transaction's date, an
    assumed schedule. Plans that fall short of the pledge get a last installment of the rest,
    due with the last plan; plans beyond it are cut where they reach it. Either makes the
    schedule assumed.
    """
    if amount == 0:
        return [], not plans
    periods: dict[tuple[date, date | None], list[Plan]] = defaultdict(list)
    for plan in plans:
        periods[plan.start, plan.end].append(plan)
    dues: list[tuple[date, int]] = []
    for (start, end), given in periods.items():
        revised = [plan for plan in given if plan.kind == REVISED]
        dues.append((end or start, sum(plan.minor for plan in revised or given)))
    dues.sort()
    if not dues:
        return [(1, first, amount)], True
    kept: list[tuple[date, int]] = []
    left = amount
    for due, minor in dues:
        if left == 0:
            break
        kept.append((due, min(minor, left)))
        left -= min(minor, left)
    assumed = left > 0 or sum(minor for _, minor in dues) != amount
    if left > 0:
        kept.append((kept[-1][0], left))
    return [(seq, due, minor) for seq, (due, minor) in enumerate(kept, 1)], assumed


def _paid(payments: list[tuple[Flow, int]], schedule: list[tuple[int, date, int]]) -> list[Payment]:
    """Payments against the installments, earliest unpaid first, as `fintrack pay` lays them
    out: what exceeds an installment spills to the next, each part a payment of its own (ref
    `/2`, `/3`, ...); what exceeds the pledge stays on the last installment."""
    rooms = [[seq, minor] for seq, _, minor in schedule]
    laid: list[Payment] = []
    index = 0
    for flow, minor in payments:
        part = 1
        while minor > 0:
            while index < len(rooms) - 1 and rooms[index][1] <= 0:
                index += 1
            seq, room = rooms[index]
            taken = minor if index == len(rooms) - 1 else min(minor, room)
            rooms[index][1] -= taken
            ref = flow.ref if part == 1 else _ref(f"{flow.ref}/{part}")
            laid.append(Payment(ref, flow.on, flow.value_on, seq, taken))
            minor -= taken
            part += 1
    return laid


def _open(path: Path, label: str) -> IO[bytes]:
    """The file, a regular one: it is read twice (checked in full, then written)."""
    return open_imported(path, label, "an IATI activity XML file", "the activities")


def read_activities(path: Path, label: str) -> Iterator[_Activity]:
    """The activities of an IATI activity file, one at a time, each element cleared once
    read so that a file of any size takes the memory of one activity. The parser refuses a
    DTD, entities and external references (defusedxml): the file is untrusted."""
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import iterparse

    with _open(path, label) as handle:
        position = 0
        root: Element | None = None
        try:
            for event, element in iterparse(handle, events=("start", "end"), forbid_dtd=True):
                if root is None:
                    root = element
                    if element.tag != ROOT:
                        raise InputError(
                            label,
                            f"is not IATI activity XML: its root is <{element.tag}>, not <{ROOT}>",
                        )
                    version = (element.get("version") or "2").strip()
                    if not version.startswith("2."):
                        raise InputError(
                            label, f"is IATI version {version}; fintrack reads version 2.0x"
                        )
                    continue
                if event != "end" or element.tag != ACTIVITY:
                    continue
                position += 1
                yield _Activity(element, f"/{ROOT}/{ACTIVITY}[{position}]", label)
                root.clear()  # the activities read so far, and their text
        except DefusedXmlException:
            raise InputError(
                label,
                "is refused: it declares a DTD, an entity or an external reference, which IATI "
                "files do not need and which can expand without end or read other files",
            ) from None
        except ParseError as exc:
            raise InputError(label, f"is not well-formed XML: {exc}") from None
        if root is None:
            raise InputError(label, "is empty; give an IATI activity XML file")


def import_iati(session: Session, path: Path, label: str, options: Options) -> ImportResult:
    """Pledges, installments and payments from an IATI activity file, checked in full first.

    Each activity gives one pledge per direction, counterpart and currency (ref
    `iati:ID:in|out:NAME:CUR`), whose total counts its money once: the sum of its commitments,
    else of its pledges, else of its payments. Payments are matched by ref, so importing a
    file again adds nothing; a pledge whose figures changed in the file is edited, its earlier
    version kept in its history.
    """
    errors: list[PathError] = []
    invalid = total = 0
    seen: dict[str, str] = {}
    for activity in read_activities(path, label):
        total += 1
        identifier = activity.identifier
        if identifier is not None and identifier in seen:
            activity.fail(
                f"{activity.base}/iati-identifier",
                f"'{identifier}' is also the identifier of {seen[identifier]}",
            )
        elif identifier is not None:
            seen[identifier] = activity.base
        if activity.errors:
            invalid += 1
            errors.extend(activity.errors)
    del seen
    if errors:
        raise InvalidElements(errors, invalid, total, "activities")
    return _Writer(session, options).write(read_activities(path, label))


class _Writer:
    def __init__(self, session: Session, options: Options) -> None:
        self.session = session
        self.options = options
        self.result = ImportResult()
        self.now = options.now()
        iati = Pledge.ref.like("iati:%")
        self.stored: dict[str, tuple[int, bool]] = {
            str(ref): (pledge_id, voided is not None)
            for pledge_id, ref, voided in session.execute(
                select(Pledge.id, Pledge.ref, Pledge.voided_at).where(iati)
            )
        }
        self.paid_refs = set(
            session.scalars(select(Disbursement.ref).where(Disbursement.ref.like("iati:%")))
        )
        self.later: list[tuple[int | None, PlannedPledge]] = []
        # The live pledges of each activity by its identifier, to find those its file no
        # longer gives (a ref may hold `:in:` or `:out:` in the identifier: each is a guess).
        self.of_activity: dict[str, list[str]] = defaultdict(list)
        for ref, (_, voided) in self.stored.items():
            if not voided:
                for found in re.finditer(":(?:in|out):", ref):
                    self.of_activity[ref[len("iati:") : found.start()]].append(ref)
        self.withdrawn: list[int] = []
        # Stored pledges of the file, compared with what the file gives COMPARED at a time.
        self.compared: list[tuple[int, PlannedPledge]] = []

    def count(self, counts: dict[str, int], kind: str, n: int = 1) -> None:
        if n:
            counts[kind] = counts.get(kind, 0) + n

    def write(self, activities: Iterator[_Activity]) -> ImportResult:
        dry = self.options.dry_run
        if not dry:
            session = self.session
            self.next_pledge = (session.scalar(select(func.max(Pledge.id))) or 0) + 1
            self.next_installment = (session.scalar(select(func.max(Installment.id))) or 0) + 1
            self.pledges = Batches(session, Pledge, self.options)
            self.installments = Batches(session, Installment, self.options, self.pledges)
            self.payments = Batches(session, Disbursement, self.options, self.installments)
        for activity in activities:
            for kind, n in activity.left_out.items():
                self.count(self.result.left_out, kind, n)
            for pledge in activity.pledges:
                self.pledge(pledge)
            self.withdraw(activity)
        self.compare()
        if not dry:
            self.payments.flush()
            for pledge_id in self.withdrawn:
                void(self.session, "pledge", pledge_id)
            for stored_id, plan in self.later:
                _sync(self.session, stored_id, plan, self.now)
            self.session.flush()
        return self.result

    def compare(self) -> None:
        """Count the stored pledges waiting to be compared as present or edited."""
        states = _states(self.session, [pledge_id for pledge_id, _ in self.compared])
        for pledge_id, plan in self.compared:
            if states[pledge_id] == plan.state():
                self.count(self.result.present, "pledges")
            else:
                self.count(self.result.edited, "pledges")
                self.later.append((pledge_id, plan))
        self.compared = []

    def withdraw(self, activity: _Activity) -> None:
        """Void the pledges an earlier import made of this activity that the file no longer
        gives (a counterpart renamed, a currency changed): the activity is given whole."""
        given = {pledge.ref for pledge in activity.pledges}
        for ref in self.of_activity.get(activity.identifier or "", ()):
            if ref not in given:
                self.count(self.result.edited, "pledges")
                self.withdrawn.append(self.stored[ref][0])

    def pledge(self, plan: PlannedPledge) -> None:
        stored = self.stored.get(plan.ref)
        if stored is not None:
            pledge_id, voided = stored
            if voided:
                self.count(self.result.voided, "pledges")
                return
            self.compared.append((pledge_id, plan))
            if len(self.compared) >= COMPARED:
                self.compare()
            return
        self.count(self.result.added, "pledges")
        self.count(self.result.added, "installments", len(plan.installments))
        moved = sum(payment.ref in self.paid_refs for payment in plan.payments)
        self.count(self.result.added, "disbursements", len(plan.payments) - moved)
        if self.options.dry_run:
            return
        if moved:
            self.later.append((None, plan))  # a payment stored under another pledge moves
            return
        pledge_id, self.next_pledge = self.next_pledge, self.next_pledge + 1
        self.pledges.add({"id": pledge_id, **_columns(plan), "created_at": self.now})
        ids: dict[int, int] = {}
        for seq, due, minor in plan.installments:
            ids[seq], self.next_installment = self.next_installment, self.next_installment + 1
            self.installments.add(
                {
                    "id": ids[seq],
                    "pledge_id": pledge_id,
                    "seq": seq,
                    "due_on": due,
                    "amount_minor": minor,
                }
            )
        for payment in plan.payments:
            self.payments.add(
                {
                    "pledge_id": pledge_id,
                    "installment_id": ids[payment.seq],
                    "paid_on": payment.paid_on,
                    "value_on": payment.value_on,
                    "amount_minor": payment.minor,
                    "ref": payment.ref,
                    "created_at": self.now,
                }
            )


def _columns(plan: PlannedPledge) -> dict[str, Any]:
    return {
        "ref": plan.ref,
        "donor": plan.donor,
        "recipient": plan.recipient,
        "purpose": plan.purpose,
        "currency": plan.currency,
        "amount_minor": plan.amount_minor,
        "status": plan.status,
        "announced_on": plan.announced_on,
        "value_on": plan.value_on,
        "schedule_assumed": plan.schedule_assumed,
    }


def _iati_payments(pledge: Pledge) -> list[Disbursement]:
    """The live payments of a pledge that an IATI import wrote."""
    return [
        d
        for d in pledge.disbursements
        if d.voided_at is None and d.ref is not None and d.ref.startswith("iati:")
    ]


def _states(session: Session, ids: list[int]) -> dict[int, tuple[Any, ...]]:
    """Stored pledges as `PlannedPledge.state` gives planned ones, read in three queries."""
    pledges = {
        row.id: row for row in session.execute(select(Pledge).where(Pledge.id.in_(ids))).scalars()
    }
    schedules: dict[int, list[tuple[int, date, int]]] = defaultdict(list)
    seqs: dict[int, int] = {}
    query = (
        select(
            Installment.id,
            Installment.pledge_id,
            Installment.seq,
            Installment.due_on,
            Installment.amount_minor,
        )
        .where(Installment.pledge_id.in_(ids))
        .order_by(Installment.pledge_id, Installment.seq)
    )
    for row_id, pledge_id, seq, due, minor in session.execute(query):
        schedules[pledge_id].append((seq, due, minor))
        seqs[row_id] = seq
    paid: dict[int, list[Payment]] = defaultdict(list)
    # A payment voided in this database stays void: it is compared as the file gives it.
    payments = select(
        Disbursement.pledge_id,
        Disbursement.ref,
        Disbursement.paid_on,
        Disbursement.value_on,
        Disbursement.installment_id,
        Disbursement.amount_minor,
    ).where(Disbursement.pledge_id.in_(ids), Disbursement.ref.like("iati:%"))
    for pledge_id, ref, paid_on, value_on, installment_id, minor in session.execute(payments):
        paid[pledge_id].append(Payment(str(ref), paid_on, value_on, seqs[installment_id], minor))
    return {
        pledge_id: (
            pledge.donor,
            pledge.recipient,
            pledge.purpose,
            pledge.currency,
            pledge.amount_minor,
            pledge.status,
            pledge.announced_on,
            pledge.value_on,
            pledge.schedule_assumed,
            schedules[pledge_id],
            sorted(paid[pledge_id], key=lambda p: p.ref),
        )
        for pledge_id, pledge in pledges.items()
    }


def _sync(session: Session, pledge_id: int | None, plan: PlannedPledge, now: Any) -> None:
    """Make a stored pledge (or a new one) what the file gives, through the ORM so that the
    history keeps every version it ends: installments kept by number, payments by ref; a
    payment of an earlier import that the file no longer gives is voided."""
    if pledge_id is None:
        pledge = Pledge(created_at=now, **_columns(plan))
        session.add(pledge)
    else:
        found = session.get(Pledge, pledge_id)
        assert found is not None
        pledge = found
        for name, value in _columns(plan).items():
            if getattr(pledge, name) != value:
                setattr(pledge, name, value)
    by_seq = {i.seq: i for i in pledge.installments}
    for seq, due, minor in plan.installments:
        installment = by_seq.get(seq)
        if installment is None:
            installment = Installment(seq=seq, due_on=due, amount_minor=minor)
            pledge.installments.append(installment)
            by_seq[seq] = installment
        else:
            if installment.due_on != due:
                installment.due_on = due
            if installment.amount_minor != minor:
                installment.amount_minor = minor
    planned = {payment.ref for payment in plan.payments}
    for stale in _iati_payments(pledge):
        if stale.ref not in planned:
            stale.voided_at = now
    for payment in plan.payments:
        found_payment = session.scalar(select(Disbursement).where(Disbursement.ref == payment.ref))
        if found_payment is not None and found_payment.voided_at is not None:
            continue  # voided in this database: it stays void
        target = by_seq[payment.seq]
        if found_payment is None:
            found_payment = Disbursement(ref=payment.ref, created_at=now)
            pledge.disbursements.append(found_payment)
        values = {
            "pledge": pledge,
            "installment": target,
            "paid_on": payment.paid_on,
            "value_on": payment.value_on,
            "amount_minor": payment.minor,
        }
        for name, value in values.items():
            if getattr(found_payment, name) is not value and getattr(found_payment, name) != value:
                setattr(found_payment, name, value)
    count = len(plan.installments)
    extra = [i for i in pledge.installments if i.seq > count]
    if extra:
        last = by_seq.get(count)
        for installment in extra:
            for other in list(installment.disbursements):
                if last is not None:
                    other.installment = last  # a payment entered by hand stays on record
            pledge.installments.remove(installment)
            session.delete(installment)
    session.flush()

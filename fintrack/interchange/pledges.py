"""Importing pledges with their installments, from one or both files."""

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.ids import parse_id
from fintrack.interchange.cells import (
    Cells,
    amount_parser,
    choice_parser,
    fits,
    parse_boolean,
    parse_currency,
    parse_exact,
    parse_integer,
    parse_required,
)
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import Errors, RowImport
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, IdPlan
from fintrack.keys import KeyNumbering, pledge_content, pledge_keys
from fintrack.models import Installment, Pledge
from fintrack.money import format_amount
from fintrack.rates import parse_rate
from fintrack.vocab import Boundary, PledgeStatus


@dataclass(slots=True)
class PledgeCheck:
    """What the first pass keeps of a new pledge, to check its installments against it
    (slotted and small: an import may hold one for each of a million pledges)."""

    line: int
    currency: str
    pledged: int
    count: int | None
    due: date | None
    installments: int = 0
    total: int = 0
    top: int = 0  # while the seqs seen are 1, 2, 3... in order: the last of them
    seqs: set[int] | None = None  # once they are not: the seq of every installment seen
    broken: int | None = None  # the line of an invalid installment of this pledge

    def saw(self, seq: int) -> bool:
        """Note an installment's seq (from 1 up); False if the pledge has one with it already."""
        if self.seqs is None:
            if seq == self.top + 1:
                self.top = seq
                return True
            if seq <= self.top:  # 1 to top are all seen
                return False
            self.seqs = set(range(1, self.top + 1))
        if seq in self.seqs:
            return False
        self.seqs.add(seq)
        return True

    def highest(self) -> int:
        return self.top if self.seqs is None else max(self.seqs)


_ZERO = re.compile(r"0+(?:\.0+)?")


def _pledge(cells: Cells) -> tuple[dict[str, Any], str] | None:
    cells.parse("id", parse_id)
    donor = cells.parse("donor", parse_required, need=True)
    recipient = cells.parse("recipient", parse_required, need=True)
    currency = cells.parse("currency", parse_currency, need=True)
    version = cells.text("version")
    # A pledge of nothing is read back when it records another system's version (an FTS
    # flow parked at zero), with no installments; any other is refused, as `add` refuses it.
    zero = version is not None and _ZERO.fullmatch((cells.get("pledged") or "").strip())
    pledged = None
    if zero:
        pledged = 0
    elif currency:
        pledged = cells.parse("pledged", amount_parser(currency), need=True)
    status = cells.parse("status", choice_parser(PledgeStatus)) or PledgeStatus.PLEDGE
    announced = cells.parse("announced", parse_date)
    if zero and (cells.get("installments") or "").strip() == "0":
        count: int | None = 0
    else:
        count = cells.parse("installments", parse_integer)
    next_due = cells.parse("next_due", parse_date)
    assumed = cells.parse("schedule_assumed", parse_boolean)
    replaces = cells.parse("replaces", parse_id)
    original_amount = cells.parse("original_amount", parse_exact)
    original_currency = cells.parse("original_currency", parse_currency)
    exchange_rate = cells.parse("exchange_rate", parse_rate)
    value_on = cells.parse("value_on", parse_date)
    part_of = cells.parse("part_of", parse_id)
    boundary = cells.parse("boundary", choice_parser(Boundary))
    if cells.errors:
        return None
    assert donor and recipient and currency and pledged is not None
    ref = cells.text("ref")
    purpose = cells.text("purpose")
    row: dict[str, Any] = {
        "ref": ref,
        "donor": donor,
        "recipient": recipient,
        "purpose": purpose,
        "currency": currency,
        "amount_minor": pledged,
        "status": status.value,
        "announced_on": announced,
        "schedule_assumed": bool(assumed),
        "original_amount": original_amount,
        "original_currency": original_currency,
        "exchange_rate": exchange_rate,
        "value_on": value_on,
        "version": version,
        "boundary": None if boundary is None else boundary.value,
        # Not columns of a pledge: checked against its installments, then dropped.
        "count": count,
        "due": next_due or announced,
        "replaces": replaces,
        "part_of": part_of,
    }
    if not fits(cells, Pledge, row):
        return None
    if ref is not None:
        return row, ref
    return row, pledge_content(donor, recipient, purpose, currency, pledged, announced)


def import_pledges(
    session: Session,
    pledges: CsvFile | None,
    installments: CsvFile | None,
    options: Options,
) -> ImportResult:
    """Pledges with their installments, from the two export files, in one transaction.

    A new pledge's installments must add up to its total; a pledge given without any gets one
    installment of its total, due on its next_due (else announced) date. Installments of
    pledges already stored are skipped with them.
    """
    return _Pledges(session, options, pledges, installments).import_files()


class _Pledges(RowImport):
    """Two files in the passes of one import: the installments of the pledges file's new
    pledges are checked against them, and rows of either file can make the other's invalid."""

    rows: Batches

    def __init__(
        self,
        session: Session,
        options: Options,
        pledges: CsvFile | None,
        installments: CsvFile | None,
    ) -> None:
        super().__init__(session, options, pledges, installments)
        self.pledges = pledges
        self.installments = installments
        # Every pledge stored, voided ones too (they are not brought back), and the live ones.
        # A key names a live pledge first: the keys of the two sets are counted apart.
        self.known = {
            key: pledge_id for pledge_id, key in pledge_keys(session, include_void=True).items()
        }
        self.live = {key: pledge_id for pledge_id, key in pledge_keys(session).items()}
        self.ids = IdPlan(set(self.known.values()))
        self.new: dict[str, PledgeCheck] = {}
        # key -> line in the pledges file, for every readable pledge
        self.lines: dict[str, int] = {}
        # `replaces` names a pledge by its id in the same file.
        self.file_ids: dict[int, str] = {}
        self.replacing: dict[str, int] = {}
        # `part_of` names the flow a pledge is part of by its id in the same file.
        self.parts: dict[str, int] = {}
        self.part_of: dict[str, str] = {}  # key of a new pledge -> key of the one it is part of
        self.replaced: dict[str, str] = {}  # key of a new pledge -> key of the one it replaces
        self.rejected: set[str] = set()  # keys of new pledges rejected
        self.numbering = KeyNumbering()

    def import_files(self) -> ImportResult:
        pledges, installments = self.pledges, self.installments
        if pledges is not None:
            self.check_pass(pledges, self.check)
            self.ids.finish()
        if installments is not None:
            self.check_pass(installments, self.check_installment)
        if pledges is not None:
            self.check_schedules(pledges)
            self.check_replaces(pledges)
            self.check_parts(pledges)
        # Needed no more: their memory goes before the second pass fills its own.
        self.file_ids.clear()
        self.replacing.clear()
        self.judge()
        if pledges is not None:
            self.rejected = {
                key for key, check in self.new.items() if self.problems.reason(pledges, check.line)
            }

        self.now = self.options.now()
        if pledges is not None:
            self.rows = Batches(self.session, Pledge, self.options)
            self.numbering = KeyNumbering()
            self.lines.clear()
            self.write_pass(pledges, self.write)
            self.rows.flush()
            self.write_replaces()
            self.write_parts()
        if installments is not None:
            self.rows = Batches(self.session, Installment, self.options)
            self.write_pass(installments, self.write_installment)
            self.rows.flush()
        if pledges is not None:
            self.rows = Batches(self.session, Installment, self.options)
            self.write_single_installments()
            self.rows.flush()
        return self.result

    def keyed(self, record: Record) -> tuple[Cells, dict[str, Any] | None, str]:
        lines = self.lines
        cells = Cells(record)
        parsed = _pledge(cells)
        if parsed is None:
            ref = cells.text("ref")
            return cells, None, ref or ""
        row, key = parsed
        if row["ref"] is None:
            key = self.numbering(key)
        elif key in lines and lines[key] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {lines[key]}")
            return cells, None, key
        return cells, row, key

    def check(self, record: Record) -> Errors | None:
        cells, row, key = self.keyed(record)
        if row is None:
            return cells.errors
        self.lines[key] = record.line
        file_id = cells.parse("id", parse_id)
        if file_id is not None:
            self.file_ids[file_id] = key
        if key in self.known:
            return None
        if row["replaces"] is not None:
            self.replacing[key] = row["replaces"]
        if row["part_of"] is not None:
            self.parts[key] = row["part_of"]
        self.new[key] = PledgeCheck(
            record.line, row["currency"], row["amount_minor"], row["count"], row["due"]
        )
        self.ids.claim(key, cells.parse("id", parse_id))
        return None

    def installment(self, record: Record) -> tuple[Cells, str | None, dict[str, Any] | None]:
        cells = Cells(record)
        key = cells.parse("pledge_ref", parse_required, need=True)
        seq = cells.parse("seq", parse_integer, need=True)
        due = cells.parse("due", parse_date, need=True)
        currency = cells.parse("currency", parse_currency)
        if key is None:
            return cells, None, None
        check = self.new.get(key)
        if check is None:
            if key in self.known:
                return cells, key, None
            if key in self.lines:
                cells.fail(
                    "pledge_ref",
                    f"'{key}' is the pledge on line {self.lines[key]}, which is invalid",
                )
            else:
                pledges = self.pledges
                where = f"in {pledges.label} nor " if pledges is not None else ""
                cells.fail("pledge_ref", f"no pledge '{key}' {where}in the database")
            return cells, key, None
        if currency is not None and currency != check.currency:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {check.currency}")
        amount = cells.parse("amount", amount_parser(check.currency), need=True)
        if cells.errors or seq is None or due is None or amount is None:
            return cells, key, None
        return cells, key, {"seq": seq, "due_on": due, "amount_minor": amount}

    def check_installment(self, record: Record) -> Errors | None:
        cells, owner, row = self.installment(record)
        check = self.new.get(owner) if owner is not None else None
        if row is None or check is None:
            if cells.errors:
                if check is not None and check.broken is None:
                    check.broken = record.line
                return cells.errors
            return None
        if not check.saw(row["seq"]):
            check.broken = check.broken or record.line
            return [("seq", f"'{row['seq']}' appears twice for pledge '{owner}'")]
        check.installments += 1
        check.total += row["amount_minor"]
        return None

    def check_schedules(self, pledges: CsvFile) -> None:
        for check in self.new.values():
            errors = _schedule_errors(check, self.installments)
            if errors:
                self.problems.add(pledges, check.line, errors)

    def check_replaces(self, pledges: CsvFile) -> None:
        query = select(Pledge.replaces_id).where(Pledge.replaces_id.is_not(None))
        taken = set(self.session.scalars(query))
        targets: dict[str, str] = {}
        for key, wanted in self.replacing.items():
            target = self.file_ids.get(wanted)
            message = None
            if target is None or target == key:
                message = f"'{wanted}' is not the id of another pledge in {pledges.label}"
            elif target in self.known and target not in self.live:
                message = f"'{wanted}': that pledge is voided in the database"
            elif target in targets or self.live.get(target) in taken:
                message = f"'{wanted}': that pledge is already replaced by another"
            if message is not None:
                self.problems.add(pledges, self.new[key].line, [("replaces", message)])
            else:
                assert target is not None
                targets[target] = key
                self.replaced[key] = target

    def write(self, record: Record) -> None:
        _, row, key = self.keyed(record)
        assert row is not None
        self.lines[key] = record.line
        if key not in self.new:
            self.stored(Kind.PLEDGES, key in self.live)
            return
        self.result.count(Kind.PLEDGES, added=True)
        row.pop("count")
        row.pop("due")
        row.pop("replaces")
        row.pop("part_of")
        if not self.options.dry_run:
            self.rows.add({"id": self.ids.ids[key], **row, "created_at": self.now})

    def write_replaces(self) -> None:
        ids, rejected = self.ids.ids, self.rejected
        links = [
            {"pledge": ids[key], "replaced": ids.get(target) or self.live[target]}
            for key, target in self.replaced.items()
            if key not in rejected and target not in rejected
        ]
        if links and not self.options.dry_run:
            # Only pledges this change has just added are updated: they have no earlier
            # version for the history to keep.
            self.session.connection().execute(
                update(Pledge)
                .where(Pledge.id == bindparam("pledge"))
                .values(replaces_id=bindparam("replaced")),
                links,
            )

    def check_parts(self, pledges: CsvFile) -> None:
        for key, wanted in self.parts.items():
            target = self.file_ids.get(wanted)
            if target is None or target == key:
                message = f"'{wanted}' is not the id of another pledge in {pledges.label}"
                self.problems.add(pledges, self.new[key].line, [("part_of", message)])
            else:
                self.part_of[key] = target

    def write_parts(self) -> None:
        ids, rejected = self.ids.ids, self.rejected
        links = []
        for key, target in self.part_of.items():
            parent = ids.get(target) if target not in self.known else self.known[target]
            if key in rejected or target in rejected or parent is None:
                continue
            links.append({"pledge": ids[key], "parent": parent})
        if links and not self.options.dry_run:
            # Only pledges this change has just added: they have no earlier version to keep.
            self.session.connection().execute(
                update(Pledge)
                .where(Pledge.id == bindparam("pledge"))
                .values(part_of_id=bindparam("parent")),
                links,
            )

    def write_installment(self, record: Record) -> None:
        assert self.installments is not None
        owner, row = self.installment(record)[1:]
        if owner in self.rejected:
            reason = f"its pledge '{owner}' (line {self.new[owner].line}) is not imported"
            self.reject(self.installments, record, reason)
            return
        if row is None or owner is None:  # the installment of a pledge stored already
            self.stored(Kind.INSTALLMENTS, owner in self.live)
            return
        self.result.count(Kind.INSTALLMENTS, added=True)
        if not self.options.dry_run:
            self.rows.add({"pledge_id": self.ids.ids[owner], **row})

    def write_single_installments(self) -> None:
        """The one installment of each new pledge given without any."""
        for key, check in self.new.items():
            if check.installments or key in self.rejected or check.pledged == 0:
                continue
            assert check.due is not None
            self.result.count(Kind.INSTALLMENTS, added=True)
            if not self.options.dry_run:
                self.rows.add(
                    {
                        "pledge_id": self.ids.ids[key],
                        "seq": 1,
                        "due_on": check.due,
                        "amount_minor": check.pledged,
                    }
                )


def _schedule_errors(
    check: PledgeCheck, installments: CsvFile | None
) -> list[tuple[str | None, str]]:
    if check.broken is not None:
        assert installments is not None
        return [(None, f"its installment on {installments.label}:{check.broken} is invalid")]
    if check.pledged == 0:  # a pledge of nothing (see `_pledge`) has no installments
        if check.installments or check.count not in (None, 0):
            return [("installments", "a pledge of 0 has no installments")]
        return []
    if check.installments == 0:
        if check.count not in (None, 1):
            given = f"{installments.label} has none for it" if installments else "none are given"
            return [
                (
                    "installments",
                    f"'{check.count}' installments, but {given}; "
                    "give them with --installments FILE",
                )
            ]
        if check.due is None:
            return [
                (
                    "next_due",
                    "is empty, and so is announced: a pledge given without "
                    "installments needs the due date of its one installment",
                )
            ]
        return []
    errors: list[tuple[str | None, str]] = []
    assert installments is not None
    if check.count is not None and check.count != check.installments:
        errors.append(
            (
                "installments",
                f"'{check.count}', but {installments.label} has "
                f"{check.installments} for this pledge",
            )
        )
    elif check.highest() != check.installments:  # distinct seqs, so 1 to n exactly
        errors.append(
            (
                "installments",
                f"its {check.installments} installments in "
                f"{installments.label} are not numbered 1 to {check.installments}",
            )
        )
    if check.total != check.pledged:
        pledged = format_amount(check.pledged, check.currency, grouping=False)
        total = format_amount(check.total, check.currency, grouping=False)
        errors.append(
            (
                "pledged",
                f"'{pledged}' is not the sum of its installments in {installments.label} ({total})",
            )
        )
    return errors

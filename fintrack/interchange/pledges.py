"""Importing pledges with their installments, from one or both files."""

import pickle
import re
import struct
import tempfile
from array import array
from collections.abc import Iterator
from datetime import date
from typing import IO, Any

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
from fintrack.interchange.writing import Batches
from fintrack.keys import KeyNumbering, pledge_content, pledge_key_pairs
from fintrack.models import Installment, Pledge
from fintrack.money import MAX_MINOR, format_amount
from fintrack.rates import parse_rate
from fintrack.vocab import Boundary, PledgeStatus


class _Taken:
    """A set of ids: a bitmap of the small ones (a bit each, not a set entry and an int
    object of some 60 bytes), a set of the others."""

    BITMAP = 1 << 24  # ids below it: a bitmap of at most 2 MB

    def __init__(self, ids: set[int]) -> None:
        self.bits = bytearray()
        self.others: set[int] = set()
        self.highest = 0
        for number in ids:
            self.add(number)

    def has(self, number: int) -> bool:
        if number >= self.BITMAP or number < 0:
            return number in self.others
        byte = number >> 3
        return byte < len(self.bits) and bool(self.bits[byte] >> (number & 7) & 1)

    def add(self, number: int) -> None:
        self.highest = max(self.highest, number)
        if number >= self.BITMAP or number < 0:
            self.others.add(number)
            return
        byte = number >> 3
        if byte >= len(self.bits):
            self.bits.extend(bytes(max(byte + 1, 2 * len(self.bits)) - len(self.bits)))
        self.bits[byte] |= 1 << (number & 7)


class PledgeStates:
    """What the first pass keeps of the pledges of a file, to check their installments against
    them: a number for each readable pledge's key, and arrays indexed by it (an import may hold
    a million pledges: some 90 bytes and the key each, not objects or dicts of their own)."""

    def __init__(self, taken: set[int]) -> None:
        self.numbers: dict[str, int] = {}  # key -> number, of every readable pledge
        self.line = array("q")  # its line in the pledges file
        self.new = bytearray()  # 1 for a new pledge: the arrays below are its check's
        self.rejected = bytearray()  # 1 for a new pledge rejected
        self.currencies: list[str] = []  # one string per currency, not one per pledge
        self.codes: dict[str, int] = {}
        self.currency = array("l")
        self.pledged = array("q")
        self.count = array("q")  # -1: no count given
        self.due = array("l")  # the date's ordinal; 0: none
        self.installments = array("q")
        self.total = array("q")
        self.big: dict[int, int] = {}  # totals past a 64-bit integer (the array keeps none)
        self.top = array("q")  # while the seqs seen are 1, 2, 3... in order: the last of them
        self.seqs: dict[int, set[int]] = {}  # once they are not: the seq of every one seen
        self.broken = array("q")  # the line of an invalid installment of the pledge; 0: none
        self.file_id = array("q")  # the pledge's id in the file; 0: none
        # Ids for new pledges, planned as IdPlan plans them: the file's when free.
        self.taken = _Taken(taken)
        self.id = array("q")  # 0: pending
        self.pending = array("q")

    def number(self, key: str, line: int) -> int:
        """The number of a pledge's key (a new one if unseen), its line noted."""
        n = self.numbers.get(key)
        if n is None:
            n = self.numbers[key] = len(self.line)
            self.line.append(line)
            for column in (self.currency, self.due):
                column.append(0)
            for wide in (self.pledged, self.installments, self.total, self.top, self.broken):
                wide.append(0)
            self.count.append(-1)
            self.id.append(0)
            self.file_id.append(0)
            self.new.append(0)
            self.rejected.append(0)
        else:
            self.line[n] = line
        return n

    def start(
        self, n: int, currency: str, pledged: int, count: int | None, due: date | None
    ) -> None:
        """Number n is a new pledge: its check starts."""
        code = self.codes.get(currency)
        if code is None:
            code = self.codes[currency] = len(self.currencies)
            self.currencies.append(currency)
        self.new[n] = 1
        self.currency[n] = code
        self.pledged[n] = pledged
        self.count[n] = -1 if count is None else count
        self.due[n] = 0 if due is None else due.toordinal()
        self.installments[n] = self.total[n] = self.top[n] = self.broken[n] = 0
        self.big.pop(n, None)
        self.seqs.pop(n, None)

    def checked(self, key: str | None) -> int | None:
        """The number of a new pledge's key; None for another key."""
        n = self.numbers.get(key) if key is not None else None
        return n if n is not None and self.new[n] else None

    def currency_of(self, n: int) -> str:
        return self.currencies[self.currency[n]]

    def count_of(self, n: int) -> int | None:
        count = self.count[n]
        return None if count < 0 else count

    def due_of(self, n: int) -> date | None:
        due = self.due[n]
        return date.fromordinal(due) if due else None

    def total_of(self, n: int) -> int:
        return self.big.get(n, self.total[n])

    def add(self, n: int, amount: int) -> None:
        """An installment of pledge n counted in its total."""
        self.installments[n] += 1
        total = self.total_of(n) + amount
        if total > MAX_MINOR or n in self.big:
            self.big[n] = total
        else:
            self.total[n] = total

    def saw(self, n: int, seq: int) -> bool:
        """Note an installment's seq (from 1 up); False if the pledge has one with it already."""
        seqs = self.seqs.get(n)
        if seqs is None:
            top = self.top[n]
            if seq == top + 1:
                self.top[n] = seq
                return True
            if seq <= top:  # 1 to top are all seen
                return False
            seqs = self.seqs[n] = set(range(1, top + 1))
        if seq in seqs:
            return False
        seqs.add(seq)
        return True

    def highest(self, n: int) -> int:
        seqs = self.seqs.get(n)
        return self.top[n] if seqs is None else max(seqs)

    def claim(self, n: int, number: int | None) -> None:
        if number is not None and not self.taken.has(number):
            self.taken.add(number)
            self.id[n] = number
        else:
            self.pending.append(n)

    def finish(self) -> None:
        following = self.taken.highest + 1
        for n in self.pending:
            self.id[n] = following
            following += 1
        self.pending = array("q")

    def file_keys(self, wanted: set[int]) -> dict[int, str]:
        """The keys of the pledges whose ids in the file are wanted (the last row's of an id)."""
        found: dict[int, str] = {}
        if wanted:
            file_id = self.file_id
            for key, n in self.numbers.items():
                if file_id[n] in wanted:
                    found[file_id[n]] = key
        return found

    def new_numbers(self) -> Iterator[int]:
        """The numbers of the new pledges, in the order their keys were first read."""
        new = self.new
        return (n for n in range(len(new)) if new[n])


# An installment row as the first pass keeps it: what it is (a new pledge's, or a stored
# live or voided pledge's), its pledge's number, seq, due date (ordinal) and amount.
_SPILLED = struct.Struct("<BiiiQ")
_NEW, _LIVE, _VOID = 1, 2, 3
# The columns of a pledge row that are written, in the order `_pledge` gives them.
_WRITTEN = (
    "ref", "donor", "recipient", "purpose", "currency", "amount_minor", "status",
    "announced_on", "schedule_assumed", "original_amount", "original_currency",
    "exchange_rate", "value_on", "version", "boundary",
)  # fmt: skip
# Whether a second pass with no bad row to reject reads the rows the first kept;
# off, it reads and parses the file again (the plain path, which tests compare it with).
SPILL = True

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
    spill: IO[bytes]
    spilled_pledges: IO[bytes]

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
            key: pledge_id for pledge_id, key in pledge_key_pairs(session, include_void=True)
        }
        self.live = {key: pledge_id for pledge_id, key in pledge_key_pairs(session)}
        # Every readable pledge of the file by its key, and the checks of the new ones.
        self.state = PledgeStates(set(self.known.values()))
        # `replaces` names a pledge by its id in the same file.
        self.file_ids: dict[int, str] = {}  # of the pledges that others name, once checked
        self.replacing: dict[str, int] = {}
        # `part_of` names the flow a pledge is part of by its id in the same file.
        self.parts: dict[str, int] = {}
        self.part_of: dict[str, str] = {}  # key of a new pledge -> key of the one it is part of
        self.replaced: dict[str, str] = {}  # key of a new pledge -> key of the one it replaces
        self.numbering = KeyNumbering()
        self.kept: list[tuple[int, tuple[Any, ...] | None]] = []

    def import_files(self) -> ImportResult:
        # The valid installments as the first pass parsed them, for a second pass that has
        # no bad row to reject in the file's order: a file on disk, not memory.
        with (
            tempfile.TemporaryFile() as self.spill,
            tempfile.TemporaryFile() as self.spilled_pledges,
        ):
            return self.passes()

    def passes(self) -> ImportResult:
        pledges, installments = self.pledges, self.installments
        if pledges is not None:
            self.check_pass(pledges, self.check)
            pickle.dump(self.kept, self.spilled_pledges)
            self.kept = []
            self.state.finish()
        if installments is not None:
            self.check_pass(installments, self.check_installment)
            self.spill.flush()
        if pledges is not None:
            named = set(self.replacing.values()) | set(self.parts.values())
            self.file_ids = self.state.file_keys(named)
            self.check_schedules(pledges)
            self.check_replaces(pledges)
            self.check_parts(pledges)
        # Needed no more: their memory goes before the second pass fills its own.
        self.file_ids.clear()
        self.replacing.clear()
        self.judge()
        if pledges is not None:
            state = self.state
            for n in state.new_numbers():
                if self.problems.reason(pledges, state.line[n]):
                    state.rejected[n] = 1

        self.now = self.options.now()
        if pledges is not None:
            self.rows = Batches(self.session, Pledge, self.options)
            self.numbering = KeyNumbering()
            if SPILL and not self.problems.rows:
                self.write_kept(pledges)
            else:
                self.write_pass(pledges, self.write, self.renumber)
            self.rows.flush()
            self.write_replaces()
            self.write_parts()
        if installments is not None:
            self.rows = Batches(self.session, Installment, self.options)
            if SPILL and not self.problems.rows:
                self.write_spilled(installments)
            else:
                self.write_pass(installments, self.write_installment)
            self.rows.flush()
        if pledges is not None:
            self.rows = Batches(self.session, Installment, self.options)
            self.write_single_installments()
            self.rows.flush()
        return self.result

    def keyed(self, record: Record) -> tuple[Cells, dict[str, Any] | None, str]:
        state = self.state
        cells = Cells(record)
        parsed = _pledge(cells)
        if parsed is None:
            ref = cells.text("ref")
            return cells, None, ref or ""
        row, key = parsed
        if row["ref"] is None:
            key = self.numbering(key)
        elif (n := state.numbers.get(key)) is not None and state.line[n] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {state.line[n]}")
            return cells, None, key
        return cells, row, key

    def check(self, record: Record) -> Errors | None:
        cells, row, key = self.keyed(record)
        if row is None:
            return cells.errors
        state = self.state
        n = state.number(key, record.line)
        file_id = cells.parse("id", parse_id)
        if file_id is not None:
            state.file_id[n] = file_id
        if key in self.known:
            self.keep((int(key in self.live), None))
            return None
        self.keep((n, tuple(row[name] for name in _WRITTEN)))
        if row["replaces"] is not None:
            self.replacing[key] = row["replaces"]
        if row["part_of"] is not None:
            self.parts[key] = row["part_of"]
        state.start(n, row["currency"], row["amount_minor"], row["count"], row["due"])
        state.claim(n, file_id)
        return None

    def installment(
        self, record: Record
    ) -> tuple[Cells, str | None, int | None, dict[str, Any] | None]:
        """The row's cells, its pledge's key and number (if new), and its installment."""
        state = self.state
        cells = Cells(record)
        key = cells.parse("pledge_ref", parse_required, need=True)
        seq = cells.parse("seq", parse_integer, need=True)
        due = cells.parse("due", parse_date, need=True)
        currency = cells.parse("currency", parse_currency)
        if key is None:
            return cells, None, None, None
        n = state.checked(key)
        if n is None:
            if key in self.known:
                return cells, key, None, None
            if (read := state.numbers.get(key)) is not None:
                cells.fail(
                    "pledge_ref",
                    f"'{key}' is the pledge on line {state.line[read]}, which is invalid",
                )
            else:
                pledges = self.pledges
                where = f"in {pledges.label} nor " if pledges is not None else ""
                cells.fail("pledge_ref", f"no pledge '{key}' {where}in the database")
            return cells, key, None, None
        money = state.currency_of(n)
        if currency is not None and currency != money:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {money}")
        amount = cells.parse("amount", amount_parser(money), need=True)
        if cells.errors or seq is None or due is None or amount is None:
            return cells, key, n, None
        return cells, key, n, {"seq": seq, "due_on": due, "amount_minor": amount}

    def check_installment(self, record: Record) -> Errors | None:
        state = self.state
        cells, owner, n, row = self.installment(record)
        if row is None or n is None:
            if cells.errors:
                if n is not None and not state.broken[n]:
                    state.broken[n] = record.line
                return cells.errors
            # The installment of a pledge stored already.
            self.spill.write(_SPILLED.pack(_LIVE if owner in self.live else _VOID, 0, 0, 0, 0))
            return None
        if not state.saw(n, row["seq"]):
            state.broken[n] = state.broken[n] or record.line
            return [("seq", f"'{row['seq']}' appears twice for pledge '{owner}'")]
        state.add(n, row["amount_minor"])
        due = row["due_on"].toordinal()
        self.spill.write(_SPILLED.pack(_NEW, n, row["seq"], due, row["amount_minor"]))
        return None

    def write_spilled(self, installments: CsvFile) -> None:
        """The second pass over an installments file none of whose rows is bad, nor any of
        the pledges': the valid rows as the first pass parsed them, not parsed again."""
        progress = None
        size = installments.path.stat().st_size
        if self.options.progress is not None:
            verb = "Importing" if not self.options.dry_run else "Reading"
            progress = self.options.progress(f"{verb} {installments.label}", size)
        state, spill, dry_run = self.state, self.spill, self.options.dry_run
        spill.seek(0)
        while chunk := spill.read(_SPILLED.size * 4096):
            for kind, n, seq, due, amount in _SPILLED.iter_unpack(chunk):
                if kind != _NEW:
                    self.stored(Kind.INSTALLMENTS, kind == _LIVE)
                    continue
                self.result.count(Kind.INSTALLMENTS, added=True)
                if not dry_run:
                    self.rows.add(
                        {
                            "pledge_id": state.id[n],
                            "seq": seq,
                            "due_on": date.fromordinal(due),
                            "amount_minor": amount,
                        }
                    )
        if progress is not None:
            progress(size)

    def check_schedules(self, pledges: CsvFile) -> None:
        state = self.state
        for n in state.new_numbers():
            errors = _schedule_errors(state, n, self.installments)
            if errors:
                self.problems.add(pledges, state.line[n], errors)

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
                line = self.state.line[self.state.numbers[key]]
                self.problems.add(pledges, line, [("replaces", message)])
            else:
                assert target is not None
                targets[target] = key
                self.replaced[key] = target

    def write(self, record: Record) -> None:
        _, row, key = self.keyed(record)
        assert row is not None
        state = self.state
        n = state.number(key, record.line)
        if not state.new[n]:
            self.stored(Kind.PLEDGES, key in self.live)
            return
        self.result.count(Kind.PLEDGES, added=True)
        row.pop("count")
        row.pop("due")
        row.pop("replaces")
        row.pop("part_of")
        if not self.options.dry_run:
            self.rows.add({"id": state.id[n], **row, "created_at": self.now})

    def keep(self, kept: tuple[int, tuple[Any, ...] | None]) -> None:
        """Keep a valid pledge row as the first pass parsed it, for `write_kept`."""
        self.kept.append(kept)
        if len(self.kept) >= 1_000:
            pickle.dump(self.kept, self.spilled_pledges)
            self.kept = []

    def write_kept(self, pledges: CsvFile) -> None:
        """The second pass over a pledges file when no row of either file is bad: the rows
        as the first pass parsed them (pickled a thousand at a time), not parsed again."""
        progress = None
        size = pledges.path.stat().st_size
        if self.options.progress is not None:
            verb = "Importing" if not self.options.dry_run else "Reading"
            progress = self.options.progress(f"{verb} {pledges.label}", size)
        state, spill, dry_run, now = (
            self.state,
            self.spilled_pledges,
            self.options.dry_run,
            self.now,
        )
        spill.seek(0)
        while True:
            try:
                batch = pickle.load(spill)  # the import's own temporary file
            except EOFError:
                break
            for n, values in batch:
                if values is None:  # a pledge stored already: n says if it is live
                    self.stored(Kind.PLEDGES, bool(n))
                    continue
                self.result.count(Kind.PLEDGES, added=True)
                if not dry_run:
                    row = {"id": state.id[n]}
                    row.update(zip(_WRITTEN, values, strict=True))
                    row["created_at"] = now
                    self.rows.add(row)
        if progress is not None:
            progress(size)

    def renumber(self, record: Record) -> None:
        """A rejected row is keyed again as the first pass keyed it: a pledge rejected after
        its key was numbered (its schedule is bad) keeps its number, not its twin's."""
        self.keyed(record)

    def write_replaces(self) -> None:
        state = self.state
        links = []
        for key, target in self.replaced.items():
            n, t = state.numbers[key], state.numbers[target]
            if state.rejected[n] or state.rejected[t]:
                continue
            links.append({"pledge": state.id[n], "to": state.id[t] or self.live[target]})
        self.link_new("replaces_id", links)

    def check_parts(self, pledges: CsvFile) -> None:
        for key, wanted in self.parts.items():
            target = self.file_ids.get(wanted)
            if target is None or target == key:
                message = f"'{wanted}' is not the id of another pledge in {pledges.label}"
                line = self.state.line[self.state.numbers[key]]
                self.problems.add(pledges, line, [("part_of", message)])
            else:
                self.part_of[key] = target

    def write_parts(self) -> None:
        state = self.state
        links = []
        for key, target in self.part_of.items():
            n, t = state.numbers[key], state.numbers[target]
            parent = (state.id[t] or None) if target not in self.known else self.known[target]
            if state.rejected[n] or state.rejected[t] or parent is None:
                continue
            links.append({"pledge": state.id[n], "to": parent})
        self.link_new("part_of_id", links)

    def link_new(self, column: str, links: list[dict[str, int]]) -> None:
        """Point `column` of each new pledge (`pledge`) at another (`to`). Only pledges this
        change has just added are updated: they have no earlier version for the history."""
        if links and not self.options.dry_run:
            self.session.connection().execute(
                update(Pledge)
                .where(Pledge.id == bindparam("pledge"))
                .values({column: bindparam("to")}),
                links,
            )

    def write_installment(self, record: Record) -> None:
        assert self.installments is not None
        state = self.state
        _, owner, n, row = self.installment(record)
        if n is not None and state.rejected[n]:
            reason = f"its pledge '{owner}' (line {state.line[n]}) is not imported"
            self.reject(self.installments, record, reason)
            return
        if row is None or n is None:  # the installment of a pledge stored already
            self.stored(Kind.INSTALLMENTS, owner in self.live)
            return
        self.result.count(Kind.INSTALLMENTS, added=True)
        if not self.options.dry_run:
            self.rows.add({"pledge_id": state.id[n], **row})

    def write_single_installments(self) -> None:
        """The one installment of each new pledge given without any."""
        state = self.state
        for n in state.new_numbers():
            if state.installments[n] or state.rejected[n] or state.pledged[n] == 0:
                continue
            due = state.due_of(n)
            assert due is not None
            self.result.count(Kind.INSTALLMENTS, added=True)
            if not self.options.dry_run:
                self.rows.add(
                    {
                        "pledge_id": state.id[n],
                        "seq": 1,
                        "due_on": due,
                        "amount_minor": state.pledged[n],
                    }
                )


def _schedule_errors(
    state: PledgeStates, n: int, installments: CsvFile | None
) -> list[tuple[str | None, str]]:
    """The problems of new pledge n with its installments."""
    count, seen = state.count_of(n), state.installments[n]
    if state.broken[n]:
        assert installments is not None
        return [(None, f"its installment on {installments.label}:{state.broken[n]} is invalid")]
    if state.pledged[n] == 0:  # a pledge of nothing (see `_pledge`) has no installments
        if seen or count not in (None, 0):
            return [("installments", "a pledge of 0 has no installments")]
        return []
    if seen == 0:
        if count not in (None, 1):
            given = f"{installments.label} has none for it" if installments else "none are given"
            return [
                (
                    "installments",
                    f"'{count}' installments, but {given}; give them with --installments FILE",
                )
            ]
        if state.due[n] == 0:
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
    if count is not None and count != seen:
        errors.append(
            (
                "installments",
                f"'{count}', but {installments.label} has {seen} for this pledge",
            )
        )
    elif state.highest(n) != seen:  # distinct seqs, so 1 to n exactly
        errors.append(
            (
                "installments",
                f"its {seen} installments in {installments.label} are not numbered 1 to {seen}",
            )
        )
    if state.total_of(n) != state.pledged[n]:
        currency = state.currency_of(n)
        pledged = format_amount(state.pledged[n], currency, grouping=False)
        total = format_amount(state.total_of(n), currency, grouping=False)
        errors.append(
            (
                "pledged",
                f"'{pledged}' is not the sum of its installments in {installments.label} ({total})",
            )
        )
    return errors

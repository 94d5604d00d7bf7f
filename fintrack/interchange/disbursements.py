"""Importing disbursements against pledges already stored."""

from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.ids import parse_id
from fintrack.interchange.cells import (
    Cells,
    amount_parser,
    parse_currency,
    parse_integer,
    parse_required,
)
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import Errors, RowImport
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, IdSequence
from fintrack.keys import (
    KeyNumbering,
    disbursement_content,
    disbursement_keys,
    pledge_key_pairs,
    pledge_keys,
)
from fintrack.models import Disbursement, Installment, Pledge
from fintrack.text import clean

# Rows read ahead: the installments of their pledges are looked up in one query, and only
# theirs are kept, so that neither the queries nor the memory grow with the pledges.
LOOKAHEAD_ROWS = 5_000


def import_disbursements(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Disbursements against pledges already stored, matched by pledge key and installment.

    Payments of a pledge voided in this database, and payments voided in it, are left out.
    """
    return _Disbursements(session, options).run(source)


class _Disbursements(RowImport):
    rows: Batches

    def __init__(self, session: Session, options: Options) -> None:
        super().__init__(session, options)
        # Read a pledge at a time: a mapping from ids to keys as well is for stored payments.
        self.pledges = {key: pledge_id for pledge_id, key in pledge_key_pairs(session)}
        self.voided_pledges: set[str] = set()
        if session.scalar(select(exists().where(Pledge.voided_at.is_not(None)))):
            every = pledge_keys(session, include_void=True)
            self.voided_pledges = set(every.values()) - set(self.pledges)
            del every
        self.present: set[str] = set()
        self.live: set[str] = set()
        if session.scalar(select(exists().where(Disbursement.id.is_not(None)))):
            keys = pledge_keys(session)
            self.present = set(disbursement_keys(session, keys, include_void=True).values())
            self.live = set(disbursement_keys(session, keys).values())
            del keys
        # The ids of the new payments, in the order of the rows; the currencies and the
        # installments (seq -> id) of the pledges of the rows read ahead.
        self.ids = IdSequence(set(session.scalars(select(Disbursement.id))))
        self.currencies: dict[int, str] = {}
        self.schedules: dict[int, dict[int, int]] = {}
        self.numbering = _Numbering(self.present)

    def read(self, source: CsvFile, verb: str) -> Iterator[Record]:
        records = super().read(source, verb)
        while chunk := list(islice(records, LOOKAHEAD_ROWS)):
            self.look_up(chunk)
            yield from chunk

    def look_up(self, chunk: list[Record]) -> None:
        """The installments (seq -> id) of the pledges that a chunk of rows names, in one query."""
        wanted = {
            pledge_id
            for record in chunk
            if (pledge_id := self.pledges.get(clean(record.values.get("pledge_ref")) or ""))
            is not None
        }
        self.schedules = {pledge_id: {} for pledge_id in wanted}
        self.currencies = {}
        if not wanted:
            return
        codes: dict[str, str] = {}  # one string per currency, not one per pledge
        connection = self.session.connection()  # Core rows: cheaper than the ORM's
        for pledge_id, code in connection.execute(
            select(Pledge.id, Pledge.currency).where(Pledge.id.in_(wanted))
        ):
            self.currencies[pledge_id] = codes.setdefault(code, code)
        query = select(Installment.pledge_id, Installment.seq, Installment.id).where(
            Installment.pledge_id.in_(wanted)
        )
        for pledge_id, seq, row_id in connection.execute(query):
            self.schedules[pledge_id][seq] = row_id

    def currency(self, pledge_id: int) -> str:
        if pledge_id not in self.currencies:
            query = select(Pledge.currency).where(Pledge.id == pledge_id)
            self.currencies[pledge_id] = self.session.execute(query).scalar_one()
        return self.currencies[pledge_id]

    def schedule(self, pledge_id: int) -> dict[int, int]:
        if pledge_id not in self.schedules:
            query = select(Installment.seq, Installment.id).where(
                Installment.pledge_id == pledge_id
            )
            self.schedules[pledge_id] = {seq: row_id for seq, row_id in self.session.execute(query)}
        return self.schedules[pledge_id]

    def keyed(self, record: Record) -> tuple[Cells, dict[str, Any] | None, str | None]:
        """The row's cells, its disbursement and key; no key for a payment of a voided pledge."""
        cells = Cells(record)
        cells.parse("id", parse_id)
        key = cells.parse("pledge_ref", parse_required, need=True)
        seq = cells.parse("installment", parse_integer, need=True)
        paid_on = cells.parse("paid_on", parse_date, need=True)
        currency = cells.parse("currency", parse_currency)
        pledge_id = self.pledges.get(key) if key is not None else None
        if key is not None and pledge_id is None:
            if key in self.voided_pledges and not cells.errors:
                return cells, None, None
            cells.fail("pledge_ref", f"no pledge '{key}' in the database; import pledges first")
        if pledge_id is None or seq is None:
            return cells, None, ""
        money = self.currency(pledge_id)
        if currency is not None and currency != money:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {money}")
        installment_id = self.schedule(pledge_id).get(seq)
        if installment_id is None:
            cells.fail(
                "installment",
                f"'{seq}' is not an installment of pledge '{key}' "
                f"(it has 1 to {len(self.schedule(pledge_id))})",
            )
        amount = cells.parse("amount", amount_parser(money), need=True)
        if cells.errors or paid_on is None or amount is None or installment_id is None:
            return cells, None, ""
        row = {
            "pledge_id": pledge_id,
            "installment_id": installment_id,
            "paid_on": paid_on,
            "amount_minor": amount,
        }
        assert key is not None
        if not self.present:  # no key can name a stored payment: it is not worked out
            return cells, row, _NEW
        return cells, row, self.numbering(disbursement_content(key, seq, paid_on, amount))

    def check(self, record: Record) -> Errors | None:
        cells, row, key = self.keyed(record)
        if row is None and key is not None:
            return cells.errors
        if key is not None and key not in self.present:
            self.ids.claim(cells.parse("id", parse_id))
        return None

    def checked(self) -> None:
        self.ids.finish()

    def writing(self) -> None:
        self.numbering = _Numbering(self.present)
        self.rows = Batches(self.session, Disbursement, self.options)
        self.now = self.options.now()

    def write(self, record: Record) -> None:
        _, row, key = self.keyed(record)
        if key is None or key in self.present:  # its pledge, or the payment, is stored already
            self.stored(Kind.DISBURSEMENTS, key in self.live)
            return
        assert row is not None
        self.result.count(Kind.DISBURSEMENTS, added=True)
        if not self.options.dry_run:
            # The rows written are the rows whose ids the first pass planned, in its order.
            self.rows.add({"id": self.ids.next(), **row, "created_at": self.now})

    def written(self) -> None:
        self.rows.flush()
        if not self.options.dry_run:
            assert self.ids.given == len(self.ids.ids), "the passes wrote other rows"


# The key of every payment of a file when the database has none: no derived key is this.
_NEW = "new"


class _Numbering:
    """KeyNumbering for the keys of a file's payments, counted only where it matters: a key
    whose content no stored payment has cannot name one, whatever its number, so only the
    contents of stored payments are counted (not one entry for each of a million rows)."""

    def __init__(self, stored: set[str]) -> None:
        self.contents = {key.partition("-")[0] for key in stored}
        self.numbering = KeyNumbering()

    def __call__(self, key: str) -> str:
        return self.numbering(key) if key in self.contents else key

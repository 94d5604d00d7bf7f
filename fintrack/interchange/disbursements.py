"""Importing disbursements against pledges already stored."""

from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import select
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
from fintrack.interchange.writing import Batches, IdPlan
from fintrack.keys import KeyNumbering, disbursement_content, disbursement_keys, pledge_keys
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
        keys = pledge_keys(session)
        self.pledges = {key: pledge_id for pledge_id, key in keys.items()}
        self.voided_pledges = set(pledge_keys(session, include_void=True).values()) - set(
            self.pledges
        )
        codes: dict[str, str] = {}  # one string per currency, not one per pledge
        self.currencies = {
            pledge_id: codes.setdefault(code, code)
            for pledge_id, code in session.execute(select(Pledge.id, Pledge.currency))
        }
        self.present = set(disbursement_keys(session, keys, include_void=True).values())
        self.live = set(disbursement_keys(session, keys).values())
        self.ids = IdPlan(set(session.scalars(select(Disbursement.id))))
        self.schedules: dict[int, dict[int, int]] = {}
        self.numbering = KeyNumbering()

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
        if not wanted:
            return
        query = select(Installment.pledge_id, Installment.seq, Installment.id).where(
            Installment.pledge_id.in_(wanted)
        )
        for pledge_id, seq, row_id in self.session.execute(query):
            self.schedules[pledge_id][seq] = row_id

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
        money = self.currencies[pledge_id]
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
        return cells, row, self.numbering(disbursement_content(key, seq, paid_on, amount))

    def check(self, record: Record) -> Errors | None:
        cells, row, key = self.keyed(record)
        if row is None and key is not None:
            return cells.errors
        if key is not None and key not in self.present:
            self.ids.claim(key, cells.parse("id", parse_id))
        return None

    def checked(self) -> None:
        self.ids.finish()

    def writing(self) -> None:
        self.numbering = KeyNumbering()
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
            # Taken out of the plan as it is written: the keys of the first pass go as the
            # second pass numbers its own.
            self.rows.add({"id": self.ids.ids.pop(key), **row, "created_at": self.now})

    def written(self) -> None:
        self.rows.flush()

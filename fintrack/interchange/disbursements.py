"""Importing disbursements against pledges already stored."""

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
from fintrack.interchange.passes import count_stored, judge, read_records, valid_records
from fintrack.interchange.problems import ImportResult, Options, Problems
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, IdPlan, begin
from fintrack.keys import KeyNumbering, disbursement_content, disbursement_keys, pledge_keys
from fintrack.models import Disbursement, Installment, Pledge


def import_disbursements(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Disbursements against pledges already stored, matched by pledge key and installment.

    Payments of a pledge voided in this database, and payments voided in it, are left out.
    """
    begin(session, options)
    result = ImportResult()
    problems = Problems()
    keys = pledge_keys(session)
    pledges = {key: pledge_id for pledge_id, key in keys.items()}
    voided_pledges = set(pledge_keys(session, include_void=True).values()) - set(pledges)
    currencies = {
        pledge_id: code for pledge_id, code in session.execute(select(Pledge.id, Pledge.currency))
    }
    present = set(disbursement_keys(session, keys, include_void=True).values())
    live = set(disbursement_keys(session, keys).values())
    ids = IdPlan(set(session.scalars(select(Disbursement.id))))
    schedules: dict[int, dict[int, int]] = {}

    def schedule(pledge_id: int) -> dict[int, int]:
        if pledge_id not in schedules:
            query = select(Installment.seq, Installment.id).where(
                Installment.pledge_id == pledge_id
            )
            schedules[pledge_id] = {seq: row_id for seq, row_id in session.execute(query)}
        return schedules[pledge_id]

    def keyed(
        record: Record, numbering: KeyNumbering
    ) -> tuple[Cells, dict[str, Any] | None, str | None]:
        """The row's cells, its disbursement and key; no key for a payment of a voided pledge."""
        cells = Cells(record)
        cells.parse("id", parse_id)
        key = cells.parse("pledge_ref", parse_required, need=True)
        seq = cells.parse("installment", parse_integer, need=True)
        paid_on = cells.parse("paid_on", parse_date, need=True)
        currency = cells.parse("currency", parse_currency)
        pledge_id = pledges.get(key) if key is not None else None
        if key is not None and pledge_id is None:
            if key in voided_pledges and not cells.errors:
                return cells, None, None
            cells.fail("pledge_ref", f"no pledge '{key}' in the database; import pledges first")
        if pledge_id is None or seq is None:
            return cells, None, ""
        money = currencies[pledge_id]
        if currency is not None and currency != money:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {money}")
        installment_id = schedule(pledge_id).get(seq)
        if installment_id is None:
            cells.fail(
                "installment",
                f"'{seq}' is not an installment of pledge '{key}' "
                f"(it has 1 to {len(schedule(pledge_id))})",
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
        return cells, row, numbering(disbursement_content(key, seq, paid_on, amount))

    numbering = KeyNumbering()
    for record in read_records(source, options, "Checking"):
        result.rows += 1
        cells, row, key = keyed(record, numbering)
        if row is None and key is not None:
            problems.add(source, record.line, cells.errors)
        elif key is not None and key not in present:
            ids.claim(key, cells.parse("id", parse_id))
    ids.finish()
    judge(problems, result, options)

    numbering = KeyNumbering()
    rows = Batches(session, Disbursement, options)
    now = options.now()
    for record in valid_records(source, options, problems):
        _, row, key = keyed(record, numbering)
        if key is None or key in present:  # its pledge, or the payment, is stored already
            count_stored(result, Kind.DISBURSEMENTS, key in live)
            continue
        assert row is not None
        result.count(Kind.DISBURSEMENTS, added=True)
        if not options.dry_run:
            rows.add({"id": ids.ids[key], **row, "created_at": now})
    rows.flush()
    return result

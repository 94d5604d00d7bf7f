"""Importing pledges with their installments, from one or both files."""

from dataclasses import dataclass, field
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
    parse_integer,
    parse_required,
)
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import count_stored, judge, read_records, reject, valid_records
from fintrack.interchange.problems import ImportResult, Options, Problems
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, IdPlan, begin
from fintrack.keys import KeyNumbering, pledge_content, pledge_keys
from fintrack.models import Installment, Pledge
from fintrack.money import format_amount
from fintrack.vocab import PledgeStatus


@dataclass
class PledgeCheck:
    """What the first pass keeps of a new pledge, to check its installments against it."""

    line: int
    currency: str
    pledged: int
    count: int | None
    due: date | None
    installments: int = 0
    total: int = 0
    seqs: set[int] = field(default_factory=set)  # the seq of every installment seen
    broken: int | None = None  # the line of an invalid installment of this pledge


def _pledge(cells: Cells) -> tuple[dict[str, Any], str] | None:
    cells.parse("id", parse_id)
    donor = cells.parse("donor", parse_required, need=True)
    recipient = cells.parse("recipient", parse_required, need=True)
    currency = cells.parse("currency", parse_currency, need=True)
    pledged = cells.parse("pledged", amount_parser(currency), need=True) if currency else None
    status = cells.parse("status", choice_parser(PledgeStatus)) or PledgeStatus.PLEDGE
    announced = cells.parse("announced", parse_date)
    count = cells.parse("installments", parse_integer)
    next_due = cells.parse("next_due", parse_date)
    assumed = cells.parse("schedule_assumed", parse_boolean)
    replaces = cells.parse("replaces", parse_id)
    if cells.errors:
        return None
    assert donor and recipient and currency and pledged
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
        # Not columns of a pledge: checked against its installments, then dropped.
        "count": count,
        "due": next_due or announced,
        "replaces": replaces,
    }
    if not fits(cells, Pledge, row):
        return None
    content = pledge_content(donor, recipient, purpose, currency, pledged, announced)
    return row, ref if ref is not None else content


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
    begin(session, options)
    result = ImportResult()
    problems = Problems(pledges, installments)
    # Every pledge stored, voided ones too (they are not brought back), and the live ones. A
    # key names a live pledge first: the keys of the two sets are counted apart.
    stored = {key: pledge_id for pledge_id, key in pledge_keys(session, include_void=True).items()}
    live = {key: pledge_id for pledge_id, key in pledge_keys(session).items()}
    ids = IdPlan(set(stored.values()))
    new: dict[str, PledgeCheck] = {}
    lines: dict[str, int] = {}  # key -> line in the pledges file, for every readable pledge
    # `replaces` names a pledge by its id in the same file.
    file_ids: dict[int, str] = {}
    replacing: dict[str, int] = {}

    def keyed(record: Record, numbering: KeyNumbering) -> tuple[Cells, dict[str, Any] | None, str]:
        cells = Cells(record)
        parsed = _pledge(cells)
        if parsed is None:
            ref = cells.text("ref")
            return cells, None, ref or ""
        row, key = parsed
        if row["ref"] is None:
            key = numbering(key)
        elif key in lines and lines[key] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {lines[key]}")
            return cells, None, key
        return cells, row, key

    if pledges is not None:
        numbering = KeyNumbering()
        for record in read_records(pledges, options, "Checking"):
            result.rows += 1
            cells, row, key = keyed(record, numbering)
            if row is None:
                problems.add(pledges, record.line, cells.errors)
                continue
            lines[key] = record.line
            file_id = cells.parse("id", parse_id)
            if file_id is not None:
                file_ids[file_id] = key
            if key in stored:
                continue
            if row["replaces"] is not None:
                replacing[key] = row["replaces"]
            new[key] = PledgeCheck(
                record.line, row["currency"], row["amount_minor"], row["count"], row["due"]
            )
            ids.claim(key, cells.parse("id", parse_id))
        ids.finish()

    def installment(record: Record) -> tuple[Cells, str | None, dict[str, Any] | None]:
        cells = Cells(record)
        key = cells.parse("pledge_ref", parse_required, need=True)
        seq = cells.parse("seq", parse_integer, need=True)
        due = cells.parse("due", parse_date, need=True)
        currency = cells.parse("currency", parse_currency)
        if key is None:
            return cells, None, None
        check = new.get(key)
        if check is None:
            if key in stored:
                return cells, key, None
            if key in lines:
                cells.fail(
                    "pledge_ref", f"'{key}' is the pledge on line {lines[key]}, which is invalid"
                )
            else:
                where = f"in {pledges.label} nor " if pledges is not None else ""
                cells.fail("pledge_ref", f"no pledge '{key}' {where}in the database")
            return cells, key, None
        if currency is not None and currency != check.currency:
            cells.fail("currency", f"'{currency}' is not the pledge's currency {check.currency}")
        amount = cells.parse("amount", amount_parser(check.currency), need=True)
        if cells.errors or seq is None or due is None or amount is None:
            return cells, key, None
        return cells, key, {"seq": seq, "due_on": due, "amount_minor": amount}

    if installments is not None:
        for record in read_records(installments, options, "Checking"):
            result.rows += 1
            cells, owner, row = installment(record)
            check = new.get(owner) if owner is not None else None
            if row is None or check is None:
                if cells.errors:
                    problems.add(installments, record.line, cells.errors)
                    if check is not None and check.broken is None:
                        check.broken = record.line
                continue
            if row["seq"] in check.seqs:
                problems.add(
                    installments,
                    record.line,
                    [("seq", f"'{row['seq']}' appears twice for pledge '{owner}'")],
                )
                check.broken = check.broken or record.line
                continue
            check.seqs.add(row["seq"])
            check.installments += 1
            check.total += row["amount_minor"]

    replaced: dict[str, str] = {}  # key of a new pledge -> key of the pledge it replaces
    if pledges is not None:
        for check in new.values():
            errors = _schedule_errors(check, installments)
            if errors:
                problems.add(pledges, check.line, errors)
        query = select(Pledge.replaces_id).where(Pledge.replaces_id.is_not(None))
        taken = set(session.scalars(query))
        targets: dict[str, str] = {}
        for key, wanted in replacing.items():
            target = file_ids.get(wanted)
            message = None
            if target is None or target == key:
                message = f"'{wanted}' is not the id of another pledge in {pledges.label}"
            elif target in stored and target not in live:
                message = f"'{wanted}': that pledge is voided in the database"
            elif target in targets or live.get(target) in taken:
                message = f"'{wanted}': that pledge is already replaced by another"
            if message is not None:
                problems.add(pledges, new[key].line, [("replaces", message)])
            else:
                assert target is not None
                targets[target] = key
                replaced[key] = target
    judge(problems, result, options)
    rejected = (
        {key for key, check in new.items() if problems.reason(pledges, check.line)}
        if pledges
        else set()
    )

    now = options.now()
    verb = "Importing" if not options.dry_run else "Reading"
    if pledges is not None:
        rows = Batches(session, Pledge, options)
        numbering = KeyNumbering()
        lines.clear()
        for record in valid_records(pledges, options, problems):
            _, row, key = keyed(record, numbering)
            assert row is not None
            lines[key] = record.line
            if key not in new:
                count_stored(result, Kind.PLEDGES, key in live)
                continue
            result.count(Kind.PLEDGES, added=True)
            row.pop("count")
            row.pop("due")
            row.pop("replaces")
            if not options.dry_run:
                rows.add({"id": ids.ids[key], **row, "created_at": now})
        rows.flush()
        links = [
            {"pledge": ids.ids[key], "replaced": ids.ids.get(target) or live[target]}
            for key, target in replaced.items()
            if key not in rejected and target not in rejected
        ]
        if links and not options.dry_run:
            # Only pledges this change has just added are updated: they have no earlier
            # version for the history to keep.
            session.connection().execute(
                update(Pledge)
                .where(Pledge.id == bindparam("pledge"))
                .values(replaces_id=bindparam("replaced")),
                links,
            )

    if installments is not None:
        rows = Batches(session, Installment, options)
        for record in read_records(installments, options, verb):
            reason = problems.reason(installments, record.line)
            owner, row = installment(record)[1:] if reason is None else (None, None)
            if reason is None and owner in rejected:
                reason = f"its pledge '{owner}' (line {new[owner].line}) is not imported"
            if reason is not None:
                reject(installments, record, reason, options)
                continue
            if row is None or owner is None:  # the installment of a pledge stored already
                count_stored(result, Kind.INSTALLMENTS, owner in live)
                continue
            result.count(Kind.INSTALLMENTS, added=True)
            if not options.dry_run:
                rows.add({"pledge_id": ids.ids[owner], **row})
        rows.flush()

    if pledges is not None:
        rows = Batches(session, Installment, options)
        for key, check in new.items():
            if check.installments or key in rejected:
                continue
            assert check.due is not None
            result.count(Kind.INSTALLMENTS, added=True)
            if not options.dry_run:
                rows.add(
                    {
                        "pledge_id": ids.ids[key],
                        "seq": 1,
                        "due_on": check.due,
                        "amount_minor": check.pledged,
                    }
                )
        rows.flush()
    return result


def _schedule_errors(
    check: PledgeCheck, installments: CsvFile | None
) -> list[tuple[str | None, str]]:
    if check.broken is not None:
        assert installments is not None
        return [(None, f"its installment on {installments.label}:{check.broken} is invalid")]
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
    elif max(check.seqs) != check.installments:  # distinct seqs, so 1 to n exactly
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

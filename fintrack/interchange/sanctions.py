"""Importing sanctions and their measures."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.errors import InputError
from fintrack.ids import parse_id
from fintrack.interchange.cells import Cells, choice_parser, column_message, column_of
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import count_stored, judge, read_records, valid_records
from fintrack.interchange.problems import ImportResult, Options, Problems
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, IdPlan, begin
from fintrack.keys import KeyNumbering, sanction_content, sanction_keys
from fintrack.models import SanctionAction, SanctionMeasure
from fintrack.sanctions import SanctionInput, SanctionValues, sanction_values
from fintrack.vocab import SanctionActionKind, SanctionStatus


def _sanction(cells: Cells) -> tuple[SanctionValues, str] | None:
    cells.parse("id", parse_id)
    action = cells.parse("action", choice_parser(SanctionActionKind), need=True)
    status = cells.parse("status", choice_parser(SanctionStatus))
    when = {c: cells.parse(c, parse_date) for c in ("announced", "effective", "expires")}
    deadline = cells.parse("deadline", parse_date)
    measures = [m for m in (cells.get("measures") or "").split(";") if m.strip()]
    if cells.errors or action is None:
        return None
    data = SanctionInput(
        authority=cells.get("authority") or "",
        target=cells.get("target") or "",
        action=action,
        status=status
        or (SanctionStatus.IN_FORCE if when["effective"] else SanctionStatus.ANNOUNCED),
        program=cells.text("program"),
        measures=measures,
        announced_on=when["announced"],
        effective_on=when["effective"],
        expires_on=when["expires"],
        deadline_on=deadline,
        deadline_label=cells.text("deadline_label"),
        legal_ref=cells.text("legal_ref"),
        summary=cells.text("summary"),
        ref=cells.text("ref"),
    )
    try:
        values = sanction_values(data)
    except InputError as exc:
        cells.fail(column_of(exc.field), column_message(exc))
        return None
    ref = values.row["ref"]
    return values, ref if ref is not None else sanction_content(values.row, values.measures)


def import_sanctions(session: Session, source: CsvFile, options: Options) -> ImportResult:
    begin(session, options)
    result = ImportResult()
    problems = Problems()
    # Keys of every record, voided ones too (they are not brought back), and of live ones.
    present = set(sanction_keys(session, include_void=True).values())
    live = set(sanction_keys(session).values())
    ids = IdPlan(set(session.scalars(select(SanctionAction.id))))
    seen: dict[str, int] = {}

    def keyed(record: Record) -> tuple[Cells, SanctionValues | None, str | None]:
        cells = Cells(record)
        parsed = _sanction(cells)
        if parsed is None:
            return cells, None, None
        values, key = parsed
        if values.row["ref"] is None:
            key = numbering(key)
        elif key in seen and seen[key] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {seen[key]}")
            return cells, None, None
        return cells, values, key

    numbering = KeyNumbering()
    for record in read_records(source, options, "Checking"):
        result.rows += 1
        cells, values, key = keyed(record)
        if values is None or key is None:
            problems.add(source, record.line, cells.errors)
            continue
        seen.setdefault(key, record.line)
        if key not in present:
            ids.claim(key, cells.parse("id", parse_id))
    ids.finish()
    judge(problems, result, options)

    numbering = KeyNumbering()
    seen.clear()
    actions = Batches(session, SanctionAction, options)
    measures = Batches(session, SanctionMeasure, options, parent=actions)
    now = options.now()
    for record in valid_records(source, options, problems):
        _, values, key = keyed(record)
        assert values is not None and key is not None
        seen.setdefault(key, record.line)
        if key in present:
            count_stored(result, Kind.SANCTIONS, key in live)
            continue
        present.add(key)
        result.count(Kind.SANCTIONS, added=True)
        if options.dry_run:
            continue
        record_id = ids.ids[key]
        actions.add({"id": record_id, **values.row, "created_at": now})
        for position, measure in enumerate(values.measures):
            measures.add({"sanction_id": record_id, "position": position, "measure": measure})
    measures.flush()
    return result

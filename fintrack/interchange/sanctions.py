"""Importing sanctions and their measures."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.errors import InputError
from fintrack.ids import parse_id
from fintrack.interchange.cells import Cells, choice_parser, column_message, column_of
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import Errors, RowImport
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, IdPlan
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
    return _Sanctions(session, options).run(source)


class _Sanctions(RowImport):
    actions: Batches
    measures: Batches

    def __init__(self, session: Session, options: Options) -> None:
        super().__init__(session, options)
        # Keys of every record, voided ones too (they are not brought back), and of live ones.
        self.present = set(sanction_keys(session, include_void=True).values())
        self.live = set(sanction_keys(session).values())
        self.ids = IdPlan(set(session.scalars(select(SanctionAction.id))))
        self.seen: dict[str, int] = {}
        self.numbering = KeyNumbering()

    def keyed(self, record: Record) -> tuple[Cells, SanctionValues | None, str | None]:
        cells = Cells(record)
        parsed = _sanction(cells)
        if parsed is None:
            return cells, None, None
        values, key = parsed
        if values.row["ref"] is None:
            key = self.numbering(key)
        elif key in self.seen and self.seen[key] != record.line:
            cells.fail("ref", f"'{key}' is also the ref of line {self.seen[key]}")
            return cells, None, None
        return cells, values, key

    def check(self, record: Record) -> Errors | None:
        cells, values, key = self.keyed(record)
        if values is None or key is None:
            return cells.errors
        self.seen.setdefault(key, record.line)
        if key not in self.present:
            self.ids.claim(key, cells.parse("id", parse_id))
        return None

    def checked(self) -> None:
        self.ids.finish()

    def writing(self) -> None:
        self.numbering = KeyNumbering()
        self.seen.clear()
        self.actions = Batches(self.session, SanctionAction, self.options)
        self.measures = Batches(self.session, SanctionMeasure, self.options, parent=self.actions)
        self.now = self.options.now()

    def write(self, record: Record) -> None:
        _, values, key = self.keyed(record)
        assert values is not None and key is not None
        self.seen.setdefault(key, record.line)
        if key in self.present:
            self.stored(Kind.SANCTIONS, key in self.live)
            return
        self.present.add(key)
        self.result.count(Kind.SANCTIONS, added=True)
        if self.options.dry_run:
            return
        record_id = self.ids.ids[key]
        self.actions.add({"id": record_id, **values.row, "created_at": self.now})
        for position, measure in enumerate(values.measures):
            self.measures.add({"sanction_id": record_id, "position": position, "measure": measure})

    def written(self) -> None:
        self.measures.flush()

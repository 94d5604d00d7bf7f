"""Sanction actions: record, list and show what authorities impose, suspend, ease or lift."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Select, false, func, select
from sqlalchemy.orm import Session, selectinload

from fintrack.errors import InputError, NotFound, mention
from fintrack.history import refuse_void
from fintrack.known import NOW, Known
from fintrack.models import SanctionAction, SanctionMeasure
from fintrack.sources import cite, standings
from fintrack.text import check_row, check_text, clean, max_length, required
from fintrack.vocab import Confidence, SanctionActionKind, SanctionStatus


@dataclass
class SanctionInput:
    """A sanction action as the user gives it; validated by `add_sanction`."""

    authority: str
    target: str
    action: SanctionActionKind
    status: SanctionStatus
    program: str | None = None
    measures: Sequence[str] = field(default_factory=list)
    announced_on: date | None = None
    effective_on: date | None = None
    expires_on: date | None = None
    deadline_on: date | None = None
    deadline_label: str | None = None
    legal_ref: str | None = None
    summary: str | None = None
    # Source ids or URLs, linked with `confidence`.
    sources: Sequence[str] = field(default_factory=tuple)
    confidence: Confidence = Confidence.REPORTED
    ref: str | None = None


@dataclass
class SanctionValues:
    """A validated sanction action: the columns of its row and its measures, in order."""

    row: dict[str, Any]
    measures: list[str]


# What separates the measures of an action in a CSV cell: a measure may not hold it, so that
# an export reads back as the same measures.
MEASURE_SEPARATOR = ";"


def check_measure(measure: str, field: str = "measures") -> str:
    """A measure as stored (`check_text`), without the separator of measures in a file."""
    if MEASURE_SEPARATOR in measure:
        raise InputError(
            field,
            f"'{measure}' holds '{MEASURE_SEPARATOR}', which separates measures in exported "
            f"files; give each measure its own {mention('measures')}",
        )
    return check_text(measure, SanctionMeasure.measure, field)


def sanction_values(data: SanctionInput, check: bool = True) -> SanctionValues:
    """Validate a sanction action without touching the database (the ref is not checked).

    With `check`, every text is checked against its column (`check_row`); `edit_sanction`
    checks only what it changes, so that text stored by an older fintrack blocks no edit.
    """
    authority = required(data.authority, "authority").upper()
    target = required(data.target, "target")
    program = clean(data.program)
    if data.deadline_label and data.deadline_on is None:
        raise InputError("deadline_label", f"needs {mention('deadline_on', 'DATE')}")
    if data.effective_on and data.expires_on and data.expires_on < data.effective_on:
        raise InputError(
            "expires_on",
            f"{data.expires_on} is before {mention('effective_on')} {data.effective_on}",
        )
    measures: list[str] = []
    for raw in data.measures:
        measure = required(raw, "measures").lower()
        if check:
            check_measure(measure)
        if measure not in measures:
            measures.append(measure)
    row = {
        "ref": clean(data.ref),
        "authority": authority,
        "program": program.upper() if program else None,
        "target": target,
        "action": data.action.value,
        "status": data.status.value,
        "announced_on": data.announced_on,
        "effective_on": data.effective_on,
        "expires_on": data.expires_on,
        "deadline_on": data.deadline_on,
        "deadline_label": clean(data.deadline_label),
        "legal_ref": clean(data.legal_ref),
        "summary": clean(data.summary),
    }
    if check:
        check_row(SanctionAction, row)
    return SanctionValues(row, measures)


def add_sanction(session: Session, data: SanctionInput) -> SanctionAction:
    """Validate and store one sanction action; returns it with its new id."""
    values = sanction_values(data)
    ref = values.row["ref"]
    if ref is not None and session.scalar(
        select(SanctionAction.id).where(SanctionAction.ref == ref)
    ):
        raise InputError("ref", f"'{ref}' is already used by another sanction action")

    record = SanctionAction(
        **values.row,
        measures=[SanctionMeasure(position=i, measure=m) for i, m in enumerate(values.measures)],
    )
    session.add(record)
    session.flush()
    cite(session, SanctionAction, record.id, data.sources, data.confidence)
    return record


# The fields of SanctionInput that `sanction edit` can change, and the column each is stored in.
EDITABLE = {
    "authority": "authority",
    "target": "target",
    "action": "action",
    "status": "status",
    "program": "program",
    "announced_on": "announced_on",
    "effective_on": "effective_on",
    "expires_on": "expires_on",
    "deadline_on": "deadline_on",
    "deadline_label": "deadline_label",
    "legal_ref": "legal_ref",
    "summary": "summary",
    "ref": "ref",
}


def edit_sanction(
    session: Session,
    sanction_id: int,
    changes: dict[str, Any],
    measures: Sequence[str] | None = None,
    sources: Sequence[str] = (),
    confidence: Confidence = Confidence.REPORTED,
) -> SanctionAction:
    """Change a sanction action in place, validated as a whole, as `sanction add` would.

    `changes` maps fields of SanctionInput to new values (None clears an optional one);
    `measures`, when given, replaces the list of measures.
    """
    record = get_sanction(session, sanction_id, lock=True)
    refuse_void(record, "sanction", "be edited")
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise InputError(sorted(unknown)[0], "cannot be edited")
    current = SanctionInput(
        authority=record.authority,
        target=record.target,
        action=record.action,
        status=record.status,
        measures=[m.measure for m in record.measures],
        **{
            name: getattr(record, column)
            for name, column in EDITABLE.items()
            if name not in ("authority", "target", "action", "status")
        },
    )
    wanted = replace(current, **changes)
    if measures is not None:
        wanted.measures = list(measures)
    values = sanction_values(wanted, check=False)
    check_row(SanctionAction, {EDITABLE[name]: values.row[EDITABLE[name]] for name in changes})
    if measures is not None:
        for measure in values.measures:
            check_measure(measure)
    ref = values.row["ref"]
    if ref is not None and session.scalar(
        select(SanctionAction.id).where(SanctionAction.ref == ref, SanctionAction.id != record.id)
    ):
        raise InputError("ref", f"'{ref}' is already used by another sanction action")
    for column, value in values.row.items():
        if getattr(record, column) != value:
            setattr(record, column, value)
    if measures is not None:
        _set_measures(session, record, values.measures)
    cite(session, SanctionAction, record.id, sources, confidence)
    return record


def _set_measures(session: Session, record: SanctionAction, measures: list[str]) -> None:
    kept = {m.measure: m for m in record.measures}
    for measure, row in kept.items():
        if measure not in measures:
            record.measures.remove(row)
            session.delete(row)
    session.flush()  # the removed rows go before any that comes back under its name
    for position, measure in enumerate(measures):
        existing = kept.get(measure)
        if existing is None:
            record.measures.append(SanctionMeasure(position=position, measure=measure))
        elif existing.position != position:
            existing.position = position


def get_sanction(session: Session, sanction_id: int, lock: bool = False) -> SanctionAction:
    record = session.get(
        SanctionAction,
        sanction_id,
        options=[selectinload(SanctionAction.measures)],
        with_for_update=lock,
    )
    if record is None:
        raise NotFound("sanction action", sanction_id)
    return record


def known_sanction(session: Session, sanction_id: int, known: Known = NOW) -> dict[str, Any]:
    """One sanction action as a row, as `known` holds it; voided ones too, marked as such."""
    rows = list_sanctions(session, SanctionFilter(sanction_id=sanction_id), known, True)
    if not rows:
        raise known.missing(session, SanctionAction, "sanction action", sanction_id)
    return rows[0]


@dataclass
class SanctionFilter:
    sanction_id: int | None = None
    authority: str | None = None
    program: str | None = None
    target: str | None = None
    status: SanctionStatus | None = None
    action: SanctionActionKind | None = None
    since: date | None = None
    until: date | None = None


def list_sanctions(
    session: Session, where: SanctionFilter, known: Known = NOW, include_void: bool = False
) -> list[dict[str, Any]]:
    """Sanction actions matching every given filter, oldest first, as rows.

    The date range applies to the action's date: announced, or effective when no announcement
    date is known.
    """
    actions = known.of(SanctionAction, include_void=include_void, name="action")
    when = func.coalesce(actions.announced_on, actions.effective_on)
    query = select(actions)
    if where.sanction_id is not None:
        query = query.where(actions.id == where.sanction_id)
    if where.authority:
        query = query.where(func.upper(actions.authority) == where.authority.upper())
    if where.program:
        query = query.where(func.upper(actions.program) == where.program.upper())
    if where.target:
        # A part of the target, as typed: % and _ are characters, not LIKE's wildcards. A part
        # longer than any stored target matches none (and would be too long a LIKE pattern).
        part = where.target.lower()
        if len(part) > (max_length(SanctionAction.target) or len(part)):
            query = query.where(false())
        else:
            query = query.where(func.lower(actions.target).contains(part, autoescape=True))
    if where.status:
        query = query.where(actions.status == where.status.value)
    if where.action:
        query = query.where(actions.action == where.action.value)
    if where.since:
        query = query.where(when >= where.since)
    if where.until:
        query = query.where(when <= where.until)
    query = query.order_by(when.is_(None), when, actions.id)
    records = list(session.scalars(query.execution_options(populate_existing=True)))
    # The ids as a query, not a list: a list is one parameter per record (see `standings`).
    ids = query.with_only_columns(actions.id).order_by(None)
    measures = _measures_of(session, ids, known)
    standing = standings(session, SanctionAction, ids, known)
    return [
        {
            **sanction_row(record, measures.get(record.id, [])),
            "confidence": standing.get(record.id, Confidence.UNVERIFIED.value),
        }
        for record in records
    ]


def _measures_of(session: Session, ids: Select[Any], known: Known) -> dict[int, list[str]]:
    measures = known.of(SanctionMeasure)
    found: dict[int, list[str]] = defaultdict(list)
    query = (
        select(measures.sanction_id, measures.measure)
        .where(measures.sanction_id.in_(ids.scalar_subquery()))
        .order_by(measures.sanction_id, measures.position)
    )
    for sanction_id, measure in session.execute(query):
        found[sanction_id].append(measure)
    return found


def sanction_row(record: SanctionAction, measures: list[str]) -> dict[str, Any]:
    """One sanction action as a flat row for tables, CSV and JSON."""
    return {
        "id": record.id,
        "authority": record.authority,
        "program": record.program,
        "target": record.target,
        "action": record.action.value,
        "measures": measures,
        "status": record.status.value,
        "announced": record.announced_on,
        "effective": record.effective_on,
        "expires": record.expires_on,
        "deadline": record.deadline_on,
        "deadline_label": record.deadline_label,
        "legal_ref": record.legal_ref,
        "summary": record.summary,
        "ref": record.ref,
        "voided": record.voided_at,
    }

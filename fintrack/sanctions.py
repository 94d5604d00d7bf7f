"""Sanction actions: record, list and show what authorities impose, suspend, ease or lift."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from fintrack.errors import InputError, NotFound
from fintrack.models import SanctionAction, SanctionMeasure
from fintrack.text import clean, required
from fintrack.vocab import SanctionActionKind, SanctionStatus


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
    source: str | None = None
    ref: str | None = None


@dataclass
class SanctionValues:
    """A validated sanction action: the columns of its row and its measures, in order."""

    row: dict[str, Any]
    measures: list[str]


def sanction_values(data: SanctionInput) -> SanctionValues:
    """Validate a sanction action without touching the database (the ref is not checked)."""
    authority = required(data.authority, "--authority").upper()
    target = required(data.target, "--target")
    program = clean(data.program)
    if data.deadline_label and data.deadline_on is None:
        raise InputError("--deadline-label", "needs --deadline DATE")
    if data.effective_on and data.expires_on and data.expires_on < data.effective_on:
        raise InputError(
            "--expires", f"{data.expires_on} is before --effective {data.effective_on}"
        )
    measures: list[str] = []
    for raw in data.measures:
        measure = required(raw, "--measure").lower()
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
        "source": clean(data.source),
    }
    return SanctionValues(row, measures)


def add_sanction(session: Session, data: SanctionInput) -> SanctionAction:
    """Validate and store one sanction action; returns it with its new id."""
    values = sanction_values(data)
    ref = values.row["ref"]
    if ref is not None and session.scalar(
        select(SanctionAction.id).where(SanctionAction.ref == ref)
    ):
        raise InputError("--ref", f"'{ref}' is already used by another sanction action")

    record = SanctionAction(
        **values.row,
        measures=[SanctionMeasure(position=i, measure=m) for i, m in enumerate(values.measures)],
    )
    session.add(record)
    session.flush()
    return record


def get_sanction(session: Session, sanction_id: int) -> SanctionAction:
    record = session.get(
        SanctionAction, sanction_id, options=[selectinload(SanctionAction.measures)]
    )
    if record is None:
        raise NotFound("sanction action", sanction_id)
    return record


@dataclass
class SanctionFilter:
    authority: str | None = None
    program: str | None = None
    target: str | None = None
    status: SanctionStatus | None = None
    action: SanctionActionKind | None = None
    since: date | None = None
    until: date | None = None


def list_sanctions(session: Session, where: SanctionFilter) -> list[SanctionAction]:
    """Sanction actions matching every given filter, oldest first.

    The date range applies to the action's date: announced, or effective when no announcement
    date is known.
    """
    when = func.coalesce(SanctionAction.announced_on, SanctionAction.effective_on)
    query = select(SanctionAction).options(selectinload(SanctionAction.measures))
    if where.authority:
        query = query.where(func.upper(SanctionAction.authority) == where.authority.upper())
    if where.program:
        query = query.where(func.upper(SanctionAction.program) == where.program.upper())
    if where.target:
        query = query.where(func.lower(SanctionAction.target).contains(where.target.lower()))
    if where.status:
        query = query.where(SanctionAction.status == where.status.value)
    if where.action:
        query = query.where(SanctionAction.action == where.action.value)
    if where.since:
        query = query.where(when >= where.since)
    if where.until:
        query = query.where(when <= where.until)
    query = query.order_by(when.is_(None), when, SanctionAction.id)
    return list(session.scalars(query))


def sanction_row(record: SanctionAction) -> dict[str, Any]:
    """One sanction action as a flat row for tables, CSV and JSON."""
    return {
        "id": record.id,
        "authority": record.authority,
        "program": record.program,
        "target": record.target,
        "action": record.action,
        "measures": [m.measure for m in record.measures],
        "status": record.status,
        "announced": record.announced_on,
        "effective": record.effective_on,
        "expires": record.expires_on,
        "deadline": record.deadline_on,
        "deadline_label": record.deadline_label,
        "legal_ref": record.legal_ref,
        "summary": record.summary,
        "source": record.source,
        "ref": record.ref,
    }

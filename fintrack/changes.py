"""Changes: every write is one change (when, who, why), and no version of a record is lost."""

import getpass
from collections.abc import Mapping
from typing import Any

from sqlalchemy import DateTime, Integer, bindparam, event, inspect, select
from sqlalchemy.orm import Session

from fintrack.models import HISTORY, Change, Versioned, utcnow
from fintrack.store import mask_text
from fintrack.text import check_row

CHANGE_KEY = "fintrack.change"
WROTE_KEY = "fintrack.wrote"


def system_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without a passwd entry)
        return "unknown"


def begin_change(
    session: Session, command: str, reason: str | None = None, analyst: str | None = None
) -> Change:
    """Open the change that this transaction's writes belong to, and return it.

    A transaction that writes records must begin a change first: the versioning below
    refuses to write a versioned record without one.
    """
    name = (analyst or "").strip() or system_user()
    why = (reason or "").strip() or None
    check_row(Change, {"analyst": name, "reason": why})
    # Secrets are hidden before the command is cut to its column's length, so that no part
    # of one is kept.
    change = Change(at=utcnow(), analyst=name, command=mask_text(command)[:200], reason=why)
    session.add(change)
    session.flush()
    session.info[CHANGE_KEY] = change
    return change


def current_change(session: Session) -> Change:
    change = session.info.get(CHANGE_KEY)
    if change is None:
        raise RuntimeError("a record was written outside a change: call begin_change first")
    assert isinstance(change, Change)
    return change


def wrote(session: Session) -> bool:
    """Whether this transaction has written any record yet (flushing what is pending)."""
    session.flush()
    return bool(session.info.get(WROTE_KEY, False))


def mark_written(session: Session) -> None:
    """Note a write that the versioning does not see (a new source)."""
    session.info[WROTE_KEY] = True


def finish_change(session: Session) -> bool:
    """End the change: if it wrote nothing (an edit to the same values, a seed already
    loaded), its row goes too, so the log holds only changes that changed something."""
    if wrote(session):
        return True
    change = session.info.pop(CHANGE_KEY, None)
    if change is not None:
        session.delete(change)
        session.flush()
    return False


def stamp(row: Mapping[str, Any], change: Change) -> dict[str, Any]:
    """A row for a bulk (Core) insert, as the first version of its record in `change`."""
    return {**row, "known_from": change.at, "change_id": change.id}


def _keep_version(session: Session, record: Versioned, change: Change) -> None:
    """Copy the stored row of `record` to its history table, ended by `change`."""
    table = record.__table__  # type: ignore[attr-defined]
    history = HISTORY[table.name]
    names = [column.name for column in table.columns]
    copy = history.insert().from_select(
        [*names, "known_until", "ended_by"],
        select(
            *(table.c[name] for name in names),
            bindparam("until", change.at, type_=DateTime),
            bindparam("ended_by", change.id, type_=Integer),
        ).where(table.c.id == record.id),  # type: ignore[attr-defined]
    )
    session.connection().execute(copy)


@event.listens_for(Session, "before_flush")
def _version_records(session: Session, _context: Any, _instances: Any) -> None:
    """Stamp new versions with their change, and keep the versions that edits and removals end.

    A record written twice in one change keeps only its state before the change, so the
    history holds one version per change.
    """
    new = [r for r in session.new if isinstance(r, Versioned)]
    dirty = [
        r
        for r in session.dirty
        if isinstance(r, Versioned) and session.is_modified(r, include_collections=False)
    ]
    deleted = [r for r in session.deleted if isinstance(r, Versioned)]
    if not (new or dirty or deleted):
        return
    change = current_change(session)
    session.info[WROTE_KEY] = True
    for record in new:
        record.known_from = change.at
        record.change_id = change.id
    for record in (*dirty, *deleted):
        if inspect(record).attrs.change_id.loaded_value != change.id:
            _keep_version(session, record, change)
    for record in dirty:
        record.known_from = change.at
        record.change_id = change.id

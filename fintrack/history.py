"""A record's history, change by change, and voiding: records are corrected, never removed."""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import pairwise
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from fintrack.changes import current_change
from fintrack.errors import InputError, NotFound, Refused
from fintrack.models import (
    HISTORY,
    Change,
    Claim,
    Disbursement,
    Installment,
    Pledge,
    SanctionAction,
    SanctionMeasure,
    Source,
    SourceLink,
)
from fintrack.money import format_amount
from fintrack.vocab import KIND_NAMES as KIND_NAMES  # also read from here by cli/record.py

# The kinds of record a user names on the command line (void, history, source link).
KINDS: dict[str, type[Any]] = {
    "sanction": SanctionAction,
    "pledge": Pledge,
    "payment": Disbursement,
    "claim": Claim,
}
KIND_OF_COLUMN = {
    "sanction_id": "sanction",
    "pledge_id": "pledge",
    "disbursement_id": "payment",
    "claim_id": "claim",
}
_KIND_ALIASES = {
    "sanctions": "sanction",
    "sanction-action": "sanction",
    "pledges": "pledge",
    "payments": "payment",
    "disbursement": "payment",
    "disbursements": "payment",
    "claims": "claim",
}
# Bookkeeping columns that a history does not show as changes of their own.
_QUIET = {"id", "known_from", "change_id", "created_at", "position"}


def parse_kind(text: str) -> str:
    key = text.strip().lower()
    key = _KIND_ALIASES.get(key, key)
    if key not in KINDS:
        raise InputError("kind", f"'{text}' is not one of {', '.join(KINDS)}")
    return key


def get_record(session: Session, kind: str, record_id: int, lock: bool = False) -> Any:
    record = session.get(KINDS[kind], record_id, with_for_update=lock)
    if record is None:
        raise NotFound(KIND_NAMES[kind], record_id)
    return record


def refuse_void(record: Any, kind: str, doing: str) -> None:
    """Refuse to change a voided record: it is kept as it was when voided."""
    if record.voided_at is not None:
        raise Refused(
            f"{KIND_NAMES[kind]} {record.id} was voided on {record.voided_at:%Y-%m-%d}; "
            f"a voided record cannot {doing} (see fintrack history {kind} {record.id})"
        )


def void(session: Session, kind: str, record_id: int) -> Any:
    """Mark a record void as of this change; its versions and sources stay on record."""
    record = get_record(session, kind, record_id, lock=True)
    refuse_void(record, kind, "be voided again")
    record.voided_at = current_change(session).at
    session.flush()
    return record


@dataclass
class _Part:
    """A table whose versions belong to the record's history, and how to show its rows."""

    table: Table
    owner: str  # the column naming the record
    key: Callable[[dict[str, Any]], Any]  # what identifies one thing across its versions
    label: Callable[[dict[str, Any]], str]
    summary: Callable[[dict[str, Any]], str]


def _field(name: str) -> str:
    if name == "amount_minor":
        return "amount"
    if name == "voided_at":
        return "voided"
    return name.removesuffix("_on").removesuffix("_id").replace("_", " ")


class _Shown:
    """Turns stored values into what a person reads: amounts in their currency, plain dates."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._seqs: dict[int, int] = {}

    def value(self, name: str, value: Any, row: dict[str, Any] | None = None) -> str:
        """`value` of column `name` as shown; an amount in the currency of its version `row`."""
        if value is None:
            return ""
        currency = _currency_of(row) if row is not None else None
        if name == "amount_minor" and currency:
            return f"{currency} {format_amount(int(value), currency)}"
        if name == "installment_id":
            return str(self.seq(int(value)))
        if isinstance(value, datetime):
            return f"{value:%Y-%m-%d %H:%M:%S} UTC"
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return "yes" if value else "no"
        return str(value)

    def seq(self, installment_id: int) -> int | str:
        """An installment's number in its schedule (what `pay --installment` takes), not its
        row id; an installment keeps its number for as long as it exists."""
        if installment_id not in self._seqs:
            tables: tuple[Table, ...] = (Installment.__table__, HISTORY["installments"])  # type: ignore[assignment]
            for table in tables:
                query = select(table.c.seq).where(table.c.id == installment_id).limit(1)
                found = self.session.scalar(query)
                if found is not None:
                    self._seqs[installment_id] = int(found)
                    break
        return self._seqs.get(installment_id, f"#{installment_id}")

    def source(self, source_id: int) -> str:
        source = self.session.get(Source, source_id)  # each source read once per session
        name = (source.url or source.title or "") if source else ""
        return f"source {source_id}" + (f" ({name})" if name else "")


def _parts(kind: str, shown: _Shown) -> list[_Part]:
    def own(row: dict[str, Any]) -> str:
        return f"{kind} {row['id']}"

    def described(row: dict[str, Any]) -> str:
        skip = _QUIET | {"voided_at"}
        return ", ".join(
            f"{_field(name)} {shown.value(name, value, row)}"
            for name, value in row.items()
            if name not in skip and value is not None and name in main_columns
        )

    main = KINDS[kind].__table__
    main_columns = {column.name for column in main.columns}
    parts = [_Part(main, "id", lambda row: row["id"], own, described)]
    link_column = {v: k for k, v in KIND_OF_COLUMN.items()}[kind]
    parts.append(
        _Part(
            SourceLink.__table__,  # type: ignore[arg-type]
            link_column,
            lambda row: row["source_id"],
            lambda row: shown.source(row["source_id"]),
            lambda row: str(row["confidence"]),
        )
    )
    if kind == "sanction":
        parts.append(
            _Part(
                SanctionMeasure.__table__,  # type: ignore[arg-type]
                "sanction_id",
                lambda row: row["measure"],
                lambda row: "measure",
                lambda row: str(row["measure"]),
            )
        )
    if kind == "pledge":
        parts.append(
            _Part(
                Installment.__table__,  # type: ignore[arg-type]
                "pledge_id",
                lambda row: row["seq"],
                lambda row: f"installment {row['seq']}",
                lambda row: (
                    f"due {shown.value('due_on', row['due_on'])}, "
                    f"{shown.value('amount_minor', row['amount_minor'], row)}"
                ),
            )
        )
        parts.append(
            _Part(
                Disbursement.__table__,  # type: ignore[arg-type]
                "pledge_id",
                lambda row: row["id"],
                lambda row: f"payment {row['id']}",
                lambda row: (
                    f"paid {shown.value('paid_on', row['paid_on'])}, "
                    f"{shown.value('amount_minor', row['amount_minor'], row)}"
                ),
            )
        )
    return parts


def _versions(session: Session, part: _Part, record_id: int) -> list[dict[str, Any]]:
    """Every version of the part's rows for the record, past and current, oldest first."""
    table = part.table
    history = HISTORY[table.name]
    past = session.execute(select(history).where(history.c[part.owner] == record_id)).mappings()
    now = session.execute(select(table).where(table.c[part.owner] == record_id)).mappings()
    rows = [dict(row) for row in past]
    rows += [{**row, "known_until": None, "ended_by": None} for row in now]
    rows.sort(key=lambda row: (row["known_from"], row["known_until"] is None))
    return rows


# A version's place in time: when it became known and the change that made it (for ties).
_Moment = tuple[datetime, int]


def _currency_of(row: dict[str, Any]) -> str | None:
    """The currency of a version's amount: its own column (a pledge), or the currency its
    pledge had while the version was current (an installment or a payment)."""
    currency = row.get("_currency", row.get("currency"))
    return None if currency is None else str(currency)


def _currencies(session: Session, pledge_id: int) -> list[tuple[_Moment, str]]:
    """When the pledge's currency was set to what, oldest first, one entry per version."""
    table: Table = Pledge.__table__  # type: ignore[assignment]
    history = HISTORY[table.name]
    versions = [
        ((known_from, change_id), currency)
        for source in (table, history)
        for known_from, change_id, currency in session.execute(
            select(source.c.known_from, source.c.change_id, source.c.currency).where(
                source.c.id == pledge_id
            )
        )
    ]
    versions.sort()
    return versions


def _in_currency(
    versions: list[dict[str, Any]], currencies: list[tuple[_Moment, str]]
) -> list[dict[str, Any]]:
    """The versions of an installment or payment, each with the currency of its amount.

    The amount of an installment or payment is in its pledge's currency, which can change
    without the row changing (a pledge edited from JPY 1,000 to KWD 1.000 keeps 1000 minor
    units): a version that spans such a change is split there, so the history shows the
    amount changing with the currency, and each amount in the currency it was in. A voided
    payment is kept as it was when voided: it stays in the currency it had then.
    """
    split: list[dict[str, Any]] = []
    for version in versions:
        start: _Moment = (version["known_from"], version["change_id"])
        end: _Moment | None = None
        if version["ended_by"] is not None:
            end = (version["known_until"], version["ended_by"])
        before = [currency for moment, currency in currencies if moment <= start]
        current = before[-1] if before else (currencies[0][1] if currencies else None)
        part = {**version, "_currency": current}
        for moment, currency in currencies:
            if version.get("voided_at") is not None:
                break
            if moment <= start or (end is not None and moment >= end) or currency == current:
                continue
            split.append({**part, "known_until": moment[0], "ended_by": moment[1]})
            current = currency
            part = {**version, "known_from": moment[0], "change_id": moment[1]}
            part["_currency"] = currency
        split.append(part)
    return split


def record_history(session: Session, kind: str, record_id: int) -> list[dict[str, Any]]:
    """What changed on a record and its parts, change by change: when, who, what, why.

    Built from the versions themselves, so it shows exactly what the database held.
    """
    record = get_record(session, kind, record_id)
    pledge_id = {"pledge": record_id, "payment": getattr(record, "pledge_id", None)}.get(kind)
    currencies = _currencies(session, pledge_id) if pledge_id is not None else []
    shown = _Shown(session)
    events: dict[int, list[tuple[Any, dict[str, Any]]]] = defaultdict(list)
    order: tuple[Any, ...] = ()

    def add(change: int, what: str, field: str, old: str, new: str) -> None:
        event = {"what": what, "field": field, "from": old, "to": new}
        events[change].append(((*order, len(events[change])), event))

    for number, part in enumerate(_parts(kind, shown)):
        by_key: dict[Any, list[dict[str, Any]]] = defaultdict(list)
        for row in _versions(session, part, record_id):
            by_key[part.key(row)].append(row)
        for key, versions in sorted(by_key.items(), key=lambda item: str(item[0]).zfill(12)):
            order = (number, str(key).zfill(12))
            if currencies and "amount_minor" in part.table.c and "currency" not in part.table.c:
                versions = _in_currency(versions, currencies)
            first = versions[0]
            verb = "recorded" if part.owner == "id" else "added"
            add(first["change_id"], part.label(first), verb, "", part.summary(first))
            for before, after in pairwise(versions):
                if before["ended_by"] != after["change_id"]:  # removed, then added again
                    add(before["ended_by"], part.label(before), "removed", part.summary(before), "")
                    add(after["change_id"], part.label(after), "added", "", part.summary(after))
                    continue
                for name, value in after.items():
                    if name in _QUIET or name in ("known_until", "ended_by", "history_id"):
                        continue
                    if name.startswith("_"):  # what the history adds, such as _currency
                        continue
                    old_text = shown.value(name, before.get(name), before)
                    new_text = shown.value(name, value, after)
                    # An amount changes when its currency does, even in the same minor units.
                    if before.get(name) != value or old_text != new_text:
                        add(after["change_id"], part.label(after), _field(name), old_text, new_text)
            last = versions[-1]
            if last["ended_by"] is not None:
                add(last["ended_by"], part.label(last), "removed", part.summary(last), "")

    changes = {
        change.id: change
        for change in session.scalars(select(Change).where(Change.id.in_(list(events))))
    }
    rows = []
    for change_id in sorted(events, key=lambda c: (changes[c].at, c)):
        change = changes[change_id]
        for _, event in sorted(events[change_id], key=lambda item: item[0]):
            rows.append(
                {
                    "change": change.id,
                    "at": change.at,
                    "analyst": change.analyst,
                    "command": change.command,
                    **event,
                    "reason": change.reason,
                }
            )
    return rows

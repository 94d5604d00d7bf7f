"""Load records from the TOML files of seed/; a record whose ref is already stored is skipped."""

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.errors import InputError
from fintrack.models import Pledge, SanctionAction
from fintrack.pledges import PledgeInput, add_pledge
from fintrack.sanctions import SanctionInput, add_sanction
from fintrack.vocab import Period, PledgeStatus, SanctionActionKind, SanctionStatus, parse_choice

SANCTION_FIELDS = {
    "ref", "authority", "program", "target", "action", "status", "measures", "announced",
    "effective", "expires", "deadline", "deadline_label", "legal_ref", "summary", "source",
}  # fmt: skip
PLEDGE_FIELDS = {
    "ref", "donor", "recipient", "currency", "amount", "each", "installments", "every",
    "first_due", "on", "status", "purpose", "source", "schedule_assumed",
}  # fmt: skip


@dataclass
class SeedResult:
    sanctions_added: int = 0
    pledges_added: int = 0
    already_present: int = 0


def _date(record: dict[str, Any], key: str) -> date | None:
    value = record.get(key)
    if value is None or (isinstance(value, date) and not hasattr(value, "hour")):
        return value
    raise InputError(key, f"'{value}' is not a TOML date such as 2025-06-01")


def _text(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise InputError(key, f"'{value}' must be text")


def _sanction(record: dict[str, Any]) -> SanctionInput:
    return SanctionInput(
        ref=_text(record, "ref"),
        authority=_text(record, "authority") or "",
        target=_text(record, "target") or "",
        program=_text(record, "program"),
        action=parse_choice(SanctionActionKind, _text(record, "action") or "", "action"),
        status=parse_choice(SanctionStatus, _text(record, "status") or "", "status"),
        measures=list(record.get("measures", [])),
        announced_on=_date(record, "announced"),
        effective_on=_date(record, "effective"),
        expires_on=_date(record, "expires"),
        deadline_on=_date(record, "deadline"),
        deadline_label=_text(record, "deadline_label"),
        legal_ref=_text(record, "legal_ref"),
        summary=_text(record, "summary"),
        source=_text(record, "source"),
    )


def _pledge(record: dict[str, Any]) -> PledgeInput:
    every = _text(record, "every")
    installments = record.get("installments")
    if installments is not None and not isinstance(installments, int):
        raise InputError("installments", f"'{installments}' must be a whole number")
    assumed = record.get("schedule_assumed")
    if assumed is not None and not isinstance(assumed, bool):
        raise InputError("schedule_assumed", f"'{assumed}' must be true or false")
    return PledgeInput(
        ref=_text(record, "ref"),
        donor=_text(record, "donor") or "",
        recipient=_text(record, "recipient") or "",
        currency=_text(record, "currency") or "",
        amount=_text(record, "amount"),
        each=_text(record, "each"),
        installments=installments,
        every=parse_choice(Period, every, "every") if every else None,
        first_due=_date(record, "first_due"),
        announced_on=_date(record, "on"),
        status=parse_choice(PledgeStatus, _text(record, "status") or "pledge", "status"),
        purpose=_text(record, "purpose"),
        source=_text(record, "source"),
        schedule_assumed=assumed,
    )


def load_seed(session: Session, folder: Path) -> SeedResult:
    """Add every `[[sanction]]` and `[[pledge]]` record of folder/*.toml not already stored."""
    result = SeedResult()
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise InputError("seed", f"no .toml files in {folder}")
    for path in files:
        try:
            with path.open("rb") as handle:
                document = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(path.name, f"not valid TOML: {exc}") from None
        for kind, records in document.items():
            if kind not in ("sanction", "pledge") or not isinstance(records, list):
                raise InputError(
                    path.name, f"unknown table '{kind}'; use [[sanction]] or [[pledge]]"
                )
            for number, record in enumerate(records, start=1):
                where = f"{path.name} {kind} {record.get('ref') or number}"
                try:
                    _load_one(session, kind, record, result)
                except InputError as exc:
                    raise InputError(where, str(exc)) from None
    return result


def _load_one(session: Session, kind: str, record: dict[str, Any], result: SeedResult) -> None:
    fields = SANCTION_FIELDS if kind == "sanction" else PLEDGE_FIELDS
    unknown = sorted(set(record) - fields)
    if unknown:
        raise InputError(unknown[0], f"is not a field of a {kind}; use {', '.join(sorted(fields))}")
    ref = record.get("ref")
    if not ref:
        raise InputError("ref", "every seed record needs a ref, its stable key")
    model = SanctionAction if kind == "sanction" else Pledge
    if session.scalar(select(model.id).where(model.ref == ref)) is not None:
        result.already_present += 1
        return
    if kind == "sanction":
        add_sanction(session, _sanction(record))
        result.sanctions_added += 1
    else:
        add_pledge(session, _pledge(record))
        result.pledges_added += 1

"""Load records and their sources from the TOML files of seed/; stored refs are skipped."""

import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.claims import ClaimInput, add_claim
from fintrack.errors import InputError
from fintrack.models import Claim, Pledge, SanctionAction, Source
from fintrack.pledges import PledgeInput, add_pledge
from fintrack.sanctions import SanctionInput, add_sanction
from fintrack.sources import SourceInput, add_source, link
from fintrack.store import serialize_imports
from fintrack.vocab import (
    Confidence,
    Period,
    PledgeStatus,
    SanctionActionKind,
    SanctionStatus,
    parse_choice,
)

SANCTION_FIELDS = {
    "ref", "authority", "program", "target", "action", "status", "measures", "announced",
    "effective", "expires", "deadline", "deadline_label", "legal_ref", "summary", "sources",
}  # fmt: skip
PLEDGE_FIELDS = {
    "ref", "donor", "recipient", "currency", "amount", "each", "installments", "every",
    "first_due", "on", "status", "purpose", "sources", "schedule_assumed",
}  # fmt: skip
CLAIM_FIELDS = {"ref", "subject", "statement", "stated", "sources"}
SOURCE_FIELDS = {"key", "url", "title", "publisher", "published", "retrieved"}
# The keys of a seed table whose names differ from the fields of the library's inputs
# (PledgeInput.announced_on is a pledge's `on`); the others have the same name.
SEED_KEYS = {
    "sanction": {
        "announced_on": "announced",
        "effective_on": "effective",
        "expires_on": "expires",
        "deadline_on": "deadline",
    },
    "pledge": {"announced_on": "on"},
    "claim": {"stated_on": "stated"},
    "source": {"published_on": "published", "retrieved_on": "retrieved"},
}
RECORDS: dict[str, tuple[type[Any], set[str]]] = {
    "sanction": (SanctionAction, SANCTION_FIELDS),
    "pledge": (Pledge, PLEDGE_FIELDS),
    "claim": (Claim, CLAIM_FIELDS),
}


def _in_keys(exc: InputError, kind: str) -> str:
    """An error about a seed table, its fields named by their keys: the one mapping."""
    keys = SEED_KEYS.get(kind, {})
    problem = exc.worded(lambda field, _word: keys.get(field, field))
    return f"{keys.get(exc.field, exc.field)}: {problem}"


@dataclass
class SeedResult:
    sanctions_added: int = 0
    pledges_added: int = 0
    claims_added: int = 0
    sources_added: int = 0
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
        schedule_assumed=assumed,
    )


def _claim(record: dict[str, Any]) -> ClaimInput:
    return ClaimInput(
        ref=_text(record, "ref"),
        subject=_text(record, "subject") or "",
        statement=_text(record, "statement") or "",
        stated_on=_date(record, "stated"),
    )


def _source(session: Session, record: dict[str, Any], result: SeedResult) -> Source:
    """The source a [[source]] table describes: the stored one with its URL (or, without a
    URL, its title), else a new one."""
    unknown = sorted(set(record) - SOURCE_FIELDS)
    if unknown:
        raise InputError(
            unknown[0], f"is not a field of a source; use {', '.join(sorted(SOURCE_FIELDS))}"
        )
    url, title = _text(record, "url"), _text(record, "title")
    if not url and not title:
        raise InputError("url", "give the source's url, its title, or both")
    found = session.scalar(
        select(Source).where(Source.url == url if url else Source.title == title).limit(1)
    )
    if found is not None:
        return found
    result.sources_added += 1
    return add_source(
        session,
        SourceInput(
            url=url,
            title=title,
            publisher=_text(record, "publisher"),
            published_on=_date(record, "published"),
            retrieved_on=_date(record, "retrieved"),
        ),
    )


def _read(folder: Path) -> list[tuple[str, str, dict[str, Any]]]:
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise InputError("seed", f"no .toml files in {folder}")
    tables = []
    for path in files:
        try:
            with path.open("rb") as handle:
                document = tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise InputError(path.name, f"not valid TOML: {exc}") from None
        for kind, records in document.items():
            if kind not in (*RECORDS, "source") or not isinstance(records, list):
                raise InputError(
                    path.name,
                    f"unknown table '{kind}'; "
                    "use [[source]], [[sanction]], [[pledge]] or [[claim]]",
                )
            for number, record in enumerate(records, start=1):
                where = f"{path.name} {kind} {record.get('ref') or record.get('key') or number}"
                tables.append((where, kind, dict(record)))
    return tables


def load_seed(session: Session, folder: Path) -> SeedResult:
    """Add the `[[source]]`, `[[sanction]]`, `[[pledge]]` and `[[claim]]` records of
    folder/*.toml that are not already stored, with their links to their sources.

    A seed running at the same time (or an import) is waited for, so that its records are
    found stored rather than added twice."""
    result = SeedResult()
    tables = _read(folder)
    serialize_imports(session)
    sources: dict[str, Source] = {}
    for where, kind, record in tables:
        if kind != "source":
            continue
        try:
            key = _text(record, "key")
            if not key:
                raise InputError("key", "every seed source needs a key for records to cite")
            record.pop("key")
            sources[key] = _source(session, record, result)
        except InputError as exc:
            raise InputError(where, _in_keys(exc, kind)) from None
    for where, kind, record in tables:
        if kind == "source":
            continue
        try:
            _load_one(session, kind, record, sources, result)
        except InputError as exc:
            raise InputError(where, _in_keys(exc, kind)) from None
    return result


def _citations(
    record: dict[str, Any], sources: dict[str, Source]
) -> list[tuple[Source, Confidence]]:
    cited = record.get("sources", [])
    if not isinstance(cited, list):
        raise InputError("sources", "must be a list of { source = KEY, confidence = LEVEL }")
    found = []
    for entry in cited:
        if not isinstance(entry, dict) or set(entry) - {"source", "confidence"}:
            raise InputError("sources", "each entry is { source = KEY, confidence = LEVEL }")
        key = entry.get("source")
        if key not in sources:
            raise InputError("sources", f"'{key}' is not the key of a [[source]]")
        level = parse_choice(Confidence, str(entry.get("confidence", "reported")), "confidence")
        found.append((sources[key], level))
    return found


def _load_one(
    session: Session,
    kind: str,
    record: dict[str, Any],
    sources: dict[str, Source],
    result: SeedResult,
) -> None:
    model, fields = RECORDS[kind]
    unknown = sorted(set(record) - fields)
    if unknown:
        raise InputError(unknown[0], f"is not a field of a {kind}; use {', '.join(sorted(fields))}")
    ref = record.get("ref")
    if not ref:
        raise InputError("ref", "every seed record needs a ref, its stable key")
    if session.scalar(select(model.id).where(model.ref == ref)) is not None:
        result.already_present += 1
        return
    citations = _citations(record, sources)
    added: Any
    if kind == "sanction":
        added = add_sanction(session, _sanction(record))
        result.sanctions_added += 1
    elif kind == "pledge":
        added = add_pledge(session, _pledge(record))
        result.pledges_added += 1
    else:
        added = add_claim(session, _claim(record))
        result.claims_added += 1
    for source, level in citations:
        link(session, model, added.id, source, level)

"""FollowTheMoney: sanction actions as FtM `Sanction` entities, each with its target."""

import hashlib
import json
import re
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.keys import DERIVED_PREFIX, sanction_keys
from fintrack.models import Source, SourceLink
from fintrack.store import YIELD_PER

# What an FtM entity id may be (followthemoney.types.entity): letters, digits, dots and dashes.
_ID = re.compile(r"[0-9a-zA-Z](?:[0-9a-zA-Z.-]{0,100}[0-9a-zA-Z])?", re.ASCII)
SANCTION_PREFIX = "fintrack-sanction-"
TARGET_PREFIX = "fintrack-target-"


def sanction_id(key: str) -> str:
    """The FtM id of a sanction action, from its stable key (the same in every database):
    `fintrack-sanction-<hex>` for a key derived from the content, `fintrack-sanction-ref-<ref>`
    for a ref; a ref with characters an FtM id cannot hold has them as dashes and a digest of
    the ref after them (`seed:eu-2025` -> `ref-seed-eu-2025-<8 hex>`), so no two refs meet."""
    if key.startswith(DERIVED_PREFIX) and _ID.fullmatch(key[1:]):
        return SANCTION_PREFIX + key[1:]
    if _ID.fullmatch(key):
        return f"{SANCTION_PREFIX}ref-{key}"
    plain = re.sub(r"[^0-9a-zA-Z]+", "-", key[:100]).strip("-")
    return f"{SANCTION_PREFIX}ref-{plain + '-' if plain else ''}{_digest(key)[:8]}"


def target_id(target: str) -> str:
    """The FtM id of a target, from its name (case and spacing aside): one entity for every
    action on the same target."""
    return TARGET_PREFIX + _digest(" ".join(target.casefold().split()))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _source_urls(session: Session) -> dict[int, list[str]]:
    """The URLs of the sources linked to each sanction action, in the order linked."""
    query = (
        select(SourceLink.sanction_id, Source.url)
        .join(Source, Source.id == SourceLink.source_id)
        .where(SourceLink.sanction_id.is_not(None), Source.url.is_not(None))
        .order_by(SourceLink.id)
        .execution_options(yield_per=YIELD_PER)
    )
    urls: dict[int, list[str]] = {}
    for action, url in session.execute(query):
        if action is None or url is None:  # excluded by the query; for mypy
            continue
        found = urls.setdefault(action, [])
        if url not in found:
            found.append(url)
    return urls


def ftm_entities(session: Session) -> Iterator[dict[str, Any]]:
    """Each live sanction action as a `Sanction` entity, preceded the first time its target
    is named by a `LegalEntity` for the target (FtM's schema for a party that may be a state,
    a person or a company), which the Sanction's `entity` points to. Values are lists of
    strings, dates ISO; empty properties are left out."""
    from fintrack.sanctions import SanctionFilter, list_sanctions

    keys = sanction_keys(session)
    urls = _source_urls(session)
    targets: set[str] = set()
    for row in list_sanctions(session, SanctionFilter()):
        target = target_id(row["target"])
        if target not in targets:
            targets.add(target)
            yield {"id": target, "schema": "LegalEntity", "properties": {"name": [row["target"]]}}
        key = keys[row["id"]]
        values: dict[str, Any] = {
            "entity": target,
            "authority": row["authority"],
            "program": row["program"],
            "provisions": [*row["measures"], row["action"]],
            "status": row["status"],
            "startDate": row["effective"],
            "endDate": row["expires"],
            "listingDate": row["announced"],
            "date": row["deadline"],
            # FtM's Sanction has no property for a legal act (authorityId is an identifier,
            # without spaces) or a deadline's meaning: they are said in its description.
            "description": [
                f"Legal reference: {row['legal_ref']}" if row["legal_ref"] else None,
                _deadline(row),
            ],
            "summary": row["summary"],
            "sourceUrl": urls.get(row["id"], []),
            "recordId": key,
        }
        properties = {}
        for name, value in values.items():
            listed = value if isinstance(value, list) else [value]
            texts = [_text(item) for item in listed if item is not None and item != ""]
            if texts:
                properties[name] = texts
        yield {"id": sanction_id(key), "schema": "Sanction", "properties": properties}


def _deadline(row: dict[str, Any]) -> str | None:
    if row["deadline"] is None:
        return None
    label = f": {row['deadline_label']}" if row["deadline_label"] else ""
    return f"Deadline {row['deadline'].isoformat()}{label}"


def _text(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def write_ftm(entities: Iterator[dict[str, Any]], out: IO[str]) -> int:
    """The entities as JSON lines, as FtM tools read them (`ftm validate`, `followthemoney`);
    returns the number of lines."""
    count = 0
    for entity in entities:
        out.write(json.dumps(entity, ensure_ascii=False))
        out.write("\n")
        count += 1
    return count

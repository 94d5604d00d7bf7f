"""Stable keys that name a record in any database: its ref, or a key derived from its content."""

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.models import (
    Disbursement,
    Installment,
    Pledge,
    SanctionAction,
    SanctionMeasure,
    Source,
)
from fintrack.text import clean

# Derived keys start with this character, so they never look like a ref a person chose.
DERIVED_PREFIX = "~"


def _part(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "\x1d".join(str(item) for item in value)
    return str(value)


def content_key(kind: str, values: Iterable[Any]) -> str:
    """`~` and 16 hex digits of the SHA-256 of a record's defining fields."""
    text = "\x1f".join([kind, *(_part(v) for v in values)])
    return DERIVED_PREFIX + hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class KeyNumbering:
    """Tells records with the same content apart: the first is `~abc`, the second `~abc-2`.

    Records are numbered in the order they are seen: by id in a database, by line in a file
    (exports list records with the same content in id order).
    """

    def __init__(self) -> None:
        self._seen: Counter[str] = Counter()

    def __call__(self, key: str) -> str:
        self._seen[key] += 1
        count = self._seen[key]
        return key if count == 1 else f"{key}-{count}"


def pledge_content(
    donor: str,
    recipient: str,
    purpose: str | None,
    currency: str,
    amount_minor: int,
    announced_on: date | None,
) -> str:
    """What a pledge without a ref is known by (its status is left out: payments change it)."""
    return content_key("pledge", (donor, recipient, purpose, currency, amount_minor, announced_on))


def sanction_content(row: dict[str, Any], measures: list[str]) -> str:
    """What a sanction action without a ref is known by (its status is left out)."""
    fields = (
        "authority", "program", "target", "action", "announced_on", "effective_on",
        "expires_on", "deadline_on", "deadline_label", "legal_ref", "summary",
    )  # fmt: skip
    return content_key("sanction", [*(row[f] for f in fields), measures])


def disbursement_content(pledge_key: str, seq: int, paid_on: date, amount_minor: int) -> str:
    return content_key("disbursement", (pledge_key, seq, paid_on, amount_minor))


def source_key(
    url: str | None, title: str | None, publisher: str | None, published_on: date | None
) -> str:
    """What a source is known by: its URL, or (without one) a key derived from its title,
    publisher and date of publication, with runs of spaces folded as an import folds them."""
    if url is not None:
        return url
    return content_key("source", (clean(title), clean(publisher), published_on))


def pledge_keys(
    session: Session, derived_only: bool = False, include_void: bool = False
) -> dict[int, str]:
    """Every live pledge's id and stable key: its ref, or the key derived from its content.

    Pledges with the same content are numbered in id order among the live ones, as an export
    lists them. With `derived_only`, only the pledges without a ref (whose key a row cannot
    carry); with `include_void`, voided pledges too, numbered among all pledges.
    """
    return dict(pledge_key_pairs(session, derived_only, include_void))


def pledge_key_pairs(
    session: Session, derived_only: bool = False, include_void: bool = False
) -> Iterator[tuple[int, str]]:
    """`pledge_keys` one (id, key) at a time, in id order: for a mapping the other way."""
    numbering = KeyNumbering()
    query = select(
        Pledge.id,
        Pledge.ref,
        Pledge.donor,
        Pledge.recipient,
        Pledge.purpose,
        Pledge.currency,
        Pledge.amount_minor,
        Pledge.announced_on,
    ).order_by(Pledge.id)
    if derived_only:
        query = query.where(Pledge.ref.is_(None))
    if not include_void:
        query = query.where(Pledge.voided_at.is_(None))
    for row in session.execute(query.execution_options(yield_per=5_000)):
        pledge_id, ref, *_ = row
        if ref is not None:
            yield pledge_id, ref
            continue
        content = pledge_content(
            row.donor,
            row.recipient,
            row.purpose,
            row.currency,
            row.amount_minor,
            row.announced_on,
        )
        yield pledge_id, numbering(content)


def sanction_keys(session: Session, include_void: bool = False) -> dict[int, str]:
    """The id and stable key of each live sanction action (with `include_void`, of each one)."""
    measures: dict[int, list[str]] = {}
    for sanction_id, measure in session.execute(
        select(SanctionMeasure.sanction_id, SanctionMeasure.measure).order_by(
            SanctionMeasure.sanction_id, SanctionMeasure.position
        )
    ):
        measures.setdefault(sanction_id, []).append(measure)
    numbering = KeyNumbering()
    keys = {}
    query = select(SanctionAction).order_by(SanctionAction.id)
    if not include_void:
        query = query.where(SanctionAction.voided_at.is_(None))
    for record in session.scalars(query):
        if record.ref is not None:
            keys[record.id] = record.ref
            continue
        row = {c.key: getattr(record, c.key) for c in SanctionAction.__table__.columns}
        keys[record.id] = numbering(sanction_content(row, measures.get(record.id, [])))
    return keys


def disbursement_keys(
    session: Session, pledges: dict[int, str], include_void: bool = False
) -> dict[int, str]:
    """The id and stable key (derived from its content) of each live disbursement of the
    pledges in `pledges` (id -> key); with `include_void`, voided disbursements too."""
    numbering = KeyNumbering()
    query = (
        select(
            Disbursement.id,
            Disbursement.pledge_id,
            Installment.seq,
            Disbursement.paid_on,
            Disbursement.amount_minor,
        )
        .join(Installment, Installment.id == Disbursement.installment_id)
        .order_by(Disbursement.id)
    )
    if not include_void:
        query = query.where(Disbursement.voided_at.is_(None))
    return {
        row_id: numbering(disbursement_content(pledges[pledge_id], seq, paid_on, amount))
        for row_id, pledge_id, seq, paid_on, amount in session.execute(query)
        if pledge_id in pledges
    }


def source_keys(session: Session) -> dict[int, str]:
    """Every source's id and stable key: its URL, or a key derived from its content
    (sources with the same content numbered in id order)."""
    numbering = KeyNumbering()
    query = select(
        Source.id, Source.url, Source.title, Source.publisher, Source.published_on
    ).order_by(Source.id)
    keys = {}
    for source_id, url, title, publisher, published_on in session.execute(query):
        key = source_key(url, title, publisher, published_on)
        keys[source_id] = key if url is not None else numbering(key)
    return keys

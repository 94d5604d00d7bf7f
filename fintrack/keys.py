"""Stable keys that name a record in any database: its ref, or a key derived from its content."""

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.models import Disbursement, Installment, Pledge, SanctionAction, SanctionMeasure

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
    source: str | None,
) -> str:
    """What a pledge without a ref is known by (its status is left out: payments change it)."""
    return content_key(
        "pledge", (donor, recipient, purpose, currency, amount_minor, announced_on, source)
    )


def sanction_content(row: dict[str, Any], measures: list[str]) -> str:
    """What a sanction action without a ref is known by (its status is left out)."""
    fields = (
        "authority", "program", "target", "action", "announced_on", "effective_on",
        "expires_on", "deadline_on", "deadline_label", "legal_ref", "summary", "source",
    )  # fmt: skip
    return content_key("sanction", [*(row[f] for f in fields), measures])


def disbursement_content(
    pledge_key: str, seq: int, paid_on: date, amount_minor: int, source: str | None
) -> str:
    return content_key("disbursement", (pledge_key, seq, paid_on, amount_minor, source))


def pledge_keys(session: Session, derived_only: bool = False) -> dict[int, str]:
    """Every pledge's id and stable key: its ref, or the key derived from its content.

    With `derived_only`, only the pledges without a ref (whose key a row cannot carry).
    """
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
        Pledge.source,
    ).order_by(Pledge.id)
    if derived_only:
        query = query.where(Pledge.ref.is_(None))
    keys = {}
    for row in session.execute(query.execution_options(yield_per=5_000)):
        pledge_id, ref, *_ = row
        if ref is not None:
            keys[pledge_id] = ref
            continue
        content = pledge_content(
            row.donor,
            row.recipient,
            row.purpose,
            row.currency,
            row.amount_minor,
            row.announced_on,
            row.source,
        )
        keys[pledge_id] = numbering(content)
    return keys


def sanction_keys(session: Session) -> set[str]:
    """The stable keys of the sanction actions stored."""
    measures: dict[int, list[str]] = {}
    for sanction_id, measure in session.execute(
        select(SanctionMeasure.sanction_id, SanctionMeasure.measure).order_by(
            SanctionMeasure.sanction_id, SanctionMeasure.position
        )
    ):
        measures.setdefault(sanction_id, []).append(measure)
    numbering = KeyNumbering()
    keys = set()
    for record in session.scalars(select(SanctionAction).order_by(SanctionAction.id)):
        if record.ref is not None:
            keys.add(record.ref)
            continue
        row = {c.key: getattr(record, c.key) for c in SanctionAction.__table__.columns}
        keys.add(numbering(sanction_content(row, measures.get(record.id, []))))
    return keys


def disbursement_keys(session: Session, pledges: dict[int, str]) -> set[str]:
    """The stable keys of the disbursements stored (derived from their content)."""
    numbering = KeyNumbering()
    query = (
        select(
            Disbursement.pledge_id,
            Installment.seq,
            Disbursement.paid_on,
            Disbursement.amount_minor,
            Disbursement.source,
        )
        .join(Installment, Installment.id == Disbursement.installment_id)
        .order_by(Disbursement.id)
    )
    return {
        numbering(disbursement_content(pledges[pledge_id], seq, paid_on, amount, source))
        for pledge_id, seq, paid_on, amount, source in session.execute(query)
    }

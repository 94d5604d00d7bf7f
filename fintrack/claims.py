"""Claims: statements kept with their sources because reports of them differ."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.errors import InputError
from fintrack.known import NOW, Known, standing_label
from fintrack.models import Claim
from fintrack.sources import cite
from fintrack.text import check_row, clean, required
from fintrack.vocab import Confidence


@dataclass
class ClaimInput:
    subject: str
    statement: str
    stated_on: date | None = None
    ref: str | None = None
    sources: Sequence[str] = field(default_factory=tuple)
    confidence: Confidence = Confidence.REPORTED


def add_claim(session: Session, data: ClaimInput) -> Claim:
    texts = {
        "subject": required(data.subject, "subject"),
        "statement": required(data.statement, "statement"),
        "ref": clean(data.ref),
    }
    check_row(Claim, texts)
    ref = texts["ref"]
    if ref is not None and session.scalar(select(Claim.id).where(Claim.ref == ref)):
        raise InputError("ref", f"'{ref}' is already used by another claim")
    claim = Claim(**texts, stated_on=data.stated_on)
    session.add(claim)
    session.flush()
    cite(session, Claim, claim.id, data.sources, data.confidence)
    return claim


def list_claims(
    session: Session,
    known: Known = NOW,
    claim_id: int | None = None,
    include_void: bool = False,
) -> list[dict[str, Any]]:
    """Claims as known, oldest first, each with its standing."""
    claims = known.of(Claim, include_void=include_void, name="claim")
    standing = known.standing(Claim)
    query = (
        select(claims, standing.c.rank)
        .outerjoin(standing, standing.c.record_id == claims.id)
        .order_by(claims.stated_on.is_(None), claims.stated_on, claims.id)
    )
    if claim_id is not None:
        query = query.where(claims.id == claim_id)
    rows = []
    for claim, rank in session.execute(query.execution_options(populate_existing=True)):
        rows.append(
            {
                "id": claim.id,
                "stated": claim.stated_on,
                "subject": claim.subject,
                "statement": claim.statement,
                "confidence": standing_label(rank),
                "ref": claim.ref,
                "voided": claim.voided_at,
            }
        )
    return rows


def known_claim(session: Session, claim_id: int, known: Known = NOW) -> dict[str, Any]:
    rows = list_claims(session, known, claim_id, include_void=True)
    if not rows:
        raise known.missing(session, Claim, "claim", claim_id)
    return rows[0]

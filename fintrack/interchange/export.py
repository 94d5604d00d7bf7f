"""Export: the rows of each kind of file, streamed from the database."""

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fintrack.interchange.kinds import LINK_KINDS, Kind
from fintrack.keys import disbursement_keys, pledge_keys, sanction_keys, source_keys
from fintrack.models import (
    Disbursement,
    ExchangeRate,
    Installment,
    Pledge,
    SanctionAction,
    Source,
    SourceLink,
)
from fintrack.store import YIELD_PER


def export_rows(session: Session, kind: Kind, today: date) -> Iterator[dict[str, Any]]:
    """The rows `fintrack export KIND` writes, streamed from the database.

    Only live records are written: voided ones, and the installments, payments and links of
    voided records, are left out.
    """
    from fintrack.pledges import (
        PledgeFilter,
        iter_disbursement_rows,
        iter_installment_rows,
        iter_pledges,
    )

    if kind is Kind.SANCTIONS:
        from fintrack.sanctions import SanctionFilter, list_sanctions

        yield from list_sanctions(session, SanctionFilter())
    elif kind is Kind.PLEDGES:
        # A pledge that replaces a voided one is written as replacing none: the voided one is
        # not in the file for `replaces` to name.
        voided = set(session.scalars(select(Pledge.id).where(Pledge.voided_at.is_not(None))))
        for row in iter_pledges(session, PledgeFilter()):
            if row["replaces"] in voided:
                row["replaces"] = None
            yield row
    elif kind is Kind.RATES:
        from fintrack.rates import RateFilter, list_rates

        yield from list_rates(session, RateFilter())
    elif kind is Kind.SOURCES:
        yield from _source_rows(session)
    elif kind is Kind.LINKS:
        yield from _link_rows(session)
    else:
        # Rows carry their pledge's ref; only pledges without one need their key derived.
        derived = pledge_keys(session, derived_only=True)
        rows = (
            iter_installment_rows(session, today)
            if kind is Kind.INSTALLMENTS
            else iter_disbursement_rows(session)
        )
        for row in rows:
            if row["pledge_ref"] is None:
                row["pledge_ref"] = derived[row["pledge_id"]]
            yield row


def _source_rows(session: Session) -> Iterator[dict[str, Any]]:
    """Every source, in the order stored, with its key."""
    keys = source_keys(session)
    query = select(Source).order_by(Source.id).execution_options(yield_per=YIELD_PER)
    for source in session.scalars(query):
        yield {
            "key": keys[source.id],
            "url": source.url,
            "title": source.title,
            "publisher": source.publisher,
            "published": source.published_on,
            "retrieved": source.retrieved_on,
        }


def _link_rows(session: Session) -> Iterator[dict[str, Any]]:
    """The links of live sanctions, pledges and payments, in the order made, each naming its
    record and source by their keys. Links of claims are left out (claims have no file)."""
    pledges = pledge_keys(session)
    records = {
        "sanction": sanction_keys(session),
        "pledge": pledges,
        "payment": disbursement_keys(session, pledges),
    }
    sources = source_keys(session)
    query = (
        select(
            SourceLink.source_id,
            SourceLink.confidence,
            *(getattr(SourceLink, column) for column in LINK_KINDS.values()),
        )
        .order_by(SourceLink.id)
        .execution_options(yield_per=YIELD_PER)
    )
    for source_id, confidence, *targets in session.execute(query):
        for kind, record_id in zip(LINK_KINDS, targets, strict=True):
            key = records[kind].get(record_id) if record_id is not None else None
            if key is not None:
                yield {
                    "kind": kind,
                    "record": key,
                    "source": sources[source_id],
                    "confidence": confidence,
                }


def count_rows(session: Session, kind: Kind) -> int:
    """About how many rows `export_rows` gives, for a progress bar."""
    model: Any = {
        Kind.SANCTIONS: SanctionAction,
        Kind.PLEDGES: Pledge,
        Kind.INSTALLMENTS: Installment,
        Kind.DISBURSEMENTS: Disbursement,
        Kind.RATES: ExchangeRate,
        Kind.SOURCES: Source,
        Kind.LINKS: SourceLink,
    }[kind]
    query = select(func.count()).select_from(model)
    if hasattr(model, "voided_at"):
        query = query.where(model.voided_at.is_(None))
    return int(session.scalar(query) or 0)

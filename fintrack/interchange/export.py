"""Export: the rows of each kind of file, streamed from the database."""

from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Date, String, exists, func, select, type_coerce
from sqlalchemy.orm import Session

from fintrack.interchange.kinds import LINK_KINDS, Kind
from fintrack.keys import disbursement_keys, pledge_keys, sanction_keys, source_keys
from fintrack.known import NOW
from fintrack.models import (
    Disbursement,
    ExchangeRate,
    Installment,
    Pledge,
    SanctionAction,
    Source,
    SourceLink,
)
from fintrack.money import exact_formatter, percent
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


# The kinds that `export_plain` reads straight from the database's rows: the large ones.
PLAIN_KINDS = (Kind.PLEDGES, Kind.INSTALLMENTS, Kind.DISBURSEMENTS)


def export_plain(session: Session, kind: Kind, today: date) -> Iterator[tuple[Any, ...]]:
    """`export_rows` as plain tuples in the order of the file's columns (`plain_values` of
    them, `fintrack.formats.write_plain` writes them): the same rows, read for the large
    kinds straight from the database's rows, amounts written with integer arithmetic."""
    from fintrack.formats import file_columns, plain_values

    if kind is Kind.PLEDGES:
        yield from _plain_pledges(session)
    elif kind is Kind.INSTALLMENTS:
        yield from _plain_installments(session, today)
    elif kind is Kind.DISBURSEMENTS:
        yield from _plain_disbursements(session)
    else:
        yield from plain_values(export_rows(session, kind, today), file_columns(kind.value))


def _driver_rows(session: Session, query: Any) -> Iterator[Sequence[Any]]:
    """The rows of a query of columns as the database's driver gives them (a date may be
    text: see `_dates`), a batch at a time: a million rows skip SQLAlchemy's per-row work.
    The query's few parameters (numbers, words) are written into its text."""
    connection = session.connection()
    sql = str(query.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    driver = connection.connection.driver_connection
    assert driver is not None
    # On PostgreSQL a named (server-side) cursor, so that memory stays flat.
    postgresql = connection.dialect.name == "postgresql"
    cursor = driver.cursor(name="fintrack_export") if postgresql else driver.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(YIELD_PER):
            yield from batch
    finally:
        cursor.close()


def _dates(session: Session) -> Callable[[Any], tuple[date, str]]:
    """A date as the driver gives it -> (the date, its ISO text), as SQLAlchemy reads a Date
    column (SQLite stores text); a few thousand distinct dates among a million rows."""
    dialect = session.connection().dialect
    read = Date().dialect_impl(dialect).result_processor(dialect, None)
    known: dict[Any, tuple[date, str]] = {}

    def of(value: Any) -> tuple[date, str]:
        found = known.get(value)
        if found is None:
            day: Any = value if read is None else read(value)
            found = known[value] = (day, day.isoformat())
        return found

    return of


def _plain_installments(session: Session, today: date) -> Iterator[tuple[Any, ...]]:
    from fintrack.pledges.listing import installment_query

    derived = pledge_keys(session, derived_only=True)
    dates = _dates(session)
    zero: dict[str, str] = {}
    for owner, seq, due_on, amount, currency, got, ref in _driver_rows(
        session, installment_query()
    ):
        amount_text = exact_formatter(currency)
        day, due = dates(due_on)
        got = int(got)
        left = amount - got
        # As `installment_state`, inline: it is asked a million times.
        if left <= 0:
            state = "paid"
        elif day < today:
            state = "overdue"
        elif got > 0:
            state = "part paid"
        else:
            state = "due"
        # Most installments are paid in full or not at all: one amount written, not three.
        whole = amount_text(amount)
        if got == 0:
            paid = zero.get(currency) or zero.setdefault(currency, amount_text(0))
            outstanding = whole
        elif left == 0:
            paid, outstanding = (
                whole,
                zero.get(currency) or zero.setdefault(currency, amount_text(0)),
            )
        else:
            paid, outstanding = amount_text(got), amount_text(left)
        yield (
            owner,
            seq,
            due,
            currency,
            whole,
            paid,
            outstanding,
            state,
            derived[owner] if ref is None else ref,
        )


def _plain_disbursements(session: Session) -> Iterator[tuple[Any, ...]]:
    from fintrack.pledges.listing import disbursement_query

    derived = pledge_keys(session, derived_only=True)
    dates = _dates(session)
    rows = _driver_rows(session, disbursement_query())
    for row_id, owner, seq, paid_on, currency, amount, _rank, ref in rows:
        yield (
            row_id,
            owner,
            seq,
            dates(paid_on)[1],
            currency,
            exact_formatter(currency)(amount),
            derived[owner] if ref is None else ref,
        )


def _plain_pledges(session: Session) -> Iterator[tuple[Any, ...]]:
    from fintrack.pledges.listing import PledgeFilter, pledge_query

    def fields(pledges: Any) -> list[Any]:
        return [
            pledges.id,
            pledges.donor,
            pledges.recipient,
            pledges.purpose,
            pledges.currency,
            pledges.amount_minor,
            # As stored: the enum's value, without making its member.
            type_coerce(pledges.status, String),
            pledges.announced_on,
            pledges.schedule_assumed,
            pledges.ref,
            pledges.replaces_id,
            pledges.original_amount,
            pledges.original_currency,
            pledges.exchange_rate,
            pledges.value_on,
            pledges.version,
            pledges.part_of_id,
            type_coerce(pledges.boundary, String),
        ]

    # As in `export_rows`: a pledge replacing a voided one is written as replacing none.
    voided = set(session.scalars(select(Pledge.id).where(Pledge.voided_at.is_not(None))))
    query = pledge_query(PledgeFilter(), NOW, False, fields)
    dialect = session.connection().dialect
    dates = _dates(session)
    # The driver's values as SQLAlchemy reads the columns (SQLite has no boolean; exact
    # decimals are stored as text).
    exact = Pledge.__table__.c.original_amount.type.dialect_impl(dialect)
    decimal_of = exact.result_processor(dialect, None) or (lambda value: value)
    for (
        pledge_id, donor, recipient, purpose, currency, pledged, status, announced, assumed,
        ref, replaces, original_amount, original_currency, rate, value_on, version, part_of,
        boundary, _installments, disbursed, next_due, replaced_by, _rank,
    ) in _driver_rows(session, query):  # fmt: skip
        amount_text = exact_formatter(currency)
        disbursed = int(disbursed or 0)
        fulfilled = percent(disbursed, pledged)
        yield (
            pledge_id,
            donor,
            recipient,
            purpose,
            currency,
            amount_text(pledged),
            amount_text(disbursed),
            amount_text(pledged - disbursed),
            None if fulfilled is None else str(fulfilled),
            status,
            None if announced is None else dates(announced)[1],
            int(_installments or 0),
            None if next_due is None else dates(next_due)[1],
            None if assumed is None else bool(assumed),
            ref,
            None if replaces in voided else replaces,
            replaced_by,
            None if original_amount is None else str(decimal_of(original_amount)),
            original_currency,
            None if rate is None else str(decimal_of(rate)),
            None if value_on is None else dates(value_on)[1],
            version,
            part_of,
            boundary,
        )


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
    # Keys only of the kinds that some link names: at a million records, the keys of every
    # pledge and payment would take hundreds of megabytes for a file of no links.
    named = {
        kind
        for kind, column in LINK_KINDS.items()
        if session.scalar(select(exists().where(getattr(SourceLink, column).is_not(None))))
    }
    if not named:
        return
    pledges = pledge_keys(session) if named & {"pledge", "payment"} else {}
    records = {
        "sanction": sanction_keys(session) if "sanction" in named else {},
        "pledge": pledges,
        "payment": disbursement_keys(session, pledges) if "payment" in named else {},
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

"""Typed SQLAlchemy 2 mapping of sanctions, pledges, payments, sources and their history."""

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    Enum as SQLEnum,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship
from sqlalchemy.types import TypeEngine

from fintrack.money import plain_decimal
from fintrack.vocab import Boundary, Confidence, PledgeStatus, SanctionActionKind, SanctionStatus

# The Alembic revision these models correspond to. A test checks it is the head of
# migrations/, so that ordinary commands can tell an up-to-date database without importing Alembic.
SCHEMA_REVISION = "0006"

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _values(kind: type[Enum]) -> list[str]:
    return [str(member.value) for member in kind]


def _one_of(kind: type[Enum], name: str, checked: bool = True) -> SQLEnum:
    """A column holding a value of `kind`: stored as its value in a VARCHAR(20), read as a
    member, with (when `checked`) a CHECK named `name`, ck_<table>_<name> by the naming
    convention, that admits only the values."""
    return SQLEnum(
        kind,
        native_enum=False,
        create_constraint=checked,
        values_callable=_values,
        length=20,
        name=name,
    )


class ExactDecimal(TypeDecorator[Decimal]):
    """A Decimal stored as its exact text, because SQLite would round a NUMERIC to a float."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        return None if value is None else str(plain_decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Change(Base):
    """One write to the records: when, by whom, with which command and why.

    Every version of a record names the change that made it, and every version a change
    ended (by an edit, a void or a removal) is kept in the record's history table.
    """

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    # UTC, without a zone, like every timestamp fintrack stores.
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    analyst: Mapped[str] = mapped_column(String(200))
    command: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class Versioned:
    """Columns of a record whose every version is kept: since when this version is known,
    and the change that made it. Its earlier versions are rows of its `_history` table."""

    known_from: Mapped[datetime] = mapped_column(DateTime)

    @declared_attr
    def change_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("changes.id"))


class SanctionAction(Versioned, Base):
    """One act of an authority on a program: impose, suspend, lift, a licence, a waiver, ..."""

    __tablename__ = "sanction_actions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A stable key from the user or the seed data: loading the same record twice adds nothing.
    ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    authority: Mapped[str] = mapped_column(String(50), index=True)
    program: Mapped[str | None] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(300))
    action: Mapped[SanctionActionKind] = mapped_column(_one_of(SanctionActionKind, "action"))
    status: Mapped[SanctionStatus] = mapped_column(_one_of(SanctionStatus, "status"))
    announced_on: Mapped[date | None] = mapped_column(Date)
    effective_on: Mapped[date | None] = mapped_column(Date)
    expires_on: Mapped[date | None] = mapped_column(Date, index=True)
    deadline_on: Mapped[date | None] = mapped_column(Date, index=True)
    deadline_label: Mapped[str | None] = mapped_column(String(300))
    legal_ref: Mapped[str | None] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when the record is voided (entered in error, or withdrawn): it stays on record and in
    # its history, but no listing or report counts it from then on.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)

    measures: Mapped[list["SanctionMeasure"]] = relationship(
        back_populates="sanction",
        cascade="all, delete-orphan",
        order_by="SanctionMeasure.position",
    )


class SanctionMeasure(Versioned, Base):
    """A measure an action concerns: energy, transport, banking, asset freeze, ..."""

    __tablename__ = "sanction_measures"
    __table_args__ = (UniqueConstraint("sanction_id", "measure"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sanction_id: Mapped[int] = mapped_column(
        ForeignKey("sanction_actions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    measure: Mapped[str] = mapped_column(String(100))

    sanction: Mapped[SanctionAction] = relationship(back_populates="measures")


class Pledge(Versioned, Base):
    """A donor's promise of money to a recipient: the parent of its installments."""

    __tablename__ = "pledges"
    # A pledge of nothing is kept when a source records one (an FTS flow parked at zero whose
    # money its child flows carry); fintrack's own commands refuse it.
    __table_args__ = (CheckConstraint("amount_minor >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    donor: Mapped[str] = mapped_column(String(200), index=True)
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    purpose: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    # The total, in integer minor units of `currency` (cents for USD).
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[PledgeStatus] = mapped_column(_one_of(PledgeStatus, "status"))
    announced_on: Mapped[date | None] = mapped_column(Date)
    # True when the source gave no due dates and the schedule was inferred.
    schedule_assumed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The pledge this one replaces (a commitment that firms up an earlier pledge, say). A
    # replaced pledge stays on record but is no longer counted, so no money is counted twice.
    # Only one pledge that is not voided may replace a given one (checked when recorded): a
    # voided replacement stays on record, and the pledge can then be replaced again.
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    # As another system records the money (OCHA FTS, an IATI publisher): the amount in the
    # currency it was given in and the rate the source used, kept as recorded, never
    # recomputed; `currency`/`amount_minor` hold what the source reports (FTS: amountUSD).
    original_amount: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    original_currency: Mapped[str | None] = mapped_column(String(3))
    exchange_rate: Mapped[Decimal | None] = mapped_column(ExactDecimal)
    # The day the value is converted on when it differs from the pledge's own dates (IATI
    # value-date).
    value_on: Mapped[date | None] = mapped_column(Date)
    # The source system's version of the record this version follows (FTS versionId).
    version: Mapped[str | None] = mapped_column(String(50))
    # The flow this one is part of (FTS parentFlowId): a link, not a replacement; both count.
    part_of_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    # Set when the flow is left out of totals by the source's counting rules (see Boundary).
    boundary: Mapped[Boundary | None] = mapped_column(_one_of(Boundary, "boundary"))

    replaces: Mapped["Pledge | None"] = relationship(
        remote_side="Pledge.id", foreign_keys="Pledge.replaces_id"
    )
    installments: Mapped[list["Installment"]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="Installment.seq"
    )
    disbursements: Mapped[list["Disbursement"]] = relationship(
        back_populates="pledge", cascade="all, delete-orphan", order_by="Disbursement.id"
    )


class Installment(Versioned, Base):
    """One scheduled part of a pledge (IATI planned-disbursement); the parts add up to the total."""

    __tablename__ = "installments"
    __table_args__ = (
        UniqueConstraint("pledge_id", "seq"),
        CheckConstraint("amount_minor > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"))
    seq: Mapped[int]
    due_on: Mapped[date] = mapped_column(Date, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    pledge: Mapped[Pledge] = relationship(back_populates="installments")
    disbursements: Mapped[list["Disbursement"]] = relationship(back_populates="installment")


class Disbursement(Versioned, Base):
    """Money actually transferred against one installment of a pledge (IATI transaction type 3)."""

    __tablename__ = "disbursements"
    __table_args__ = (CheckConstraint("amount_minor > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pledge_id: Mapped[int] = mapped_column(ForeignKey("pledges.id", ondelete="CASCADE"), index=True)
    installment_id: Mapped[int] = mapped_column(
        ForeignKey("installments.id", ondelete="CASCADE"), index=True
    )
    paid_on: Mapped[date] = mapped_column(Date, index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The payment's id in the system it came from (an IATI transaction's ref, an FTS flow),
    # so that importing the same file again adds nothing.
    ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The day the value is converted on when it differs from `paid_on` (IATI value-date).
    value_on: Mapped[date | None] = mapped_column(Date)

    pledge: Mapped[Pledge] = relationship(back_populates="disbursements")
    installment: Mapped[Installment] = relationship(back_populates="disbursements")


class ExchangeRate(Versioned, Base):
    """One unit of `base` was worth `rate` units of `quote` on `rate_on` (EUR USD 1.1275)."""

    __tablename__ = "exchange_rates"
    __table_args__ = (
        UniqueConstraint("base", "quote", "rate_on"),
        CheckConstraint("base <> quote", name="distinct_currencies"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate_on: Mapped[date] = mapped_column(Date)
    rate: Mapped[Decimal] = mapped_column(ExactDecimal)
    source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Claim(Versioned, Base):
    """A statement that is neither a sanction action nor money, kept with its sources because
    reports of it differ: a reported back channel that a government denies, say."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(200), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    statement: Mapped[str] = mapped_column(Text)
    stated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)


class Source(Base):
    """Where a record comes from: an official act, a statement, a news report."""

    __tablename__ = "sources"
    __table_args__ = (CheckConstraint("url IS NOT NULL OR title IS NOT NULL", name="named"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str | None] = mapped_column(String(2000), unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(String(200))
    published_on: Mapped[date | None] = mapped_column(Date)
    retrieved_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    change_id: Mapped[int] = mapped_column(ForeignKey("changes.id"))


# The columns of source_links that name the record a source speaks for; exactly one is set.
LINK_TARGETS = ("sanction_id", "pledge_id", "disbursement_id", "claim_id")


class SourceLink(Versioned, Base):
    """A source speaking for one record, with how sure it makes the record (its confidence)."""

    __tablename__ = "source_links"
    __table_args__ = (
        CheckConstraint(
            " + ".join(f"(CASE WHEN {c} IS NULL THEN 0 ELSE 1 END)" for c in LINK_TARGETS) + " = 1",
            name="one_record",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    sanction_id: Mapped[int | None] = mapped_column(ForeignKey("sanction_actions.id"), index=True)
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("disbursements.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    confidence: Mapped[Confidence] = mapped_column(_one_of(Confidence, "confidence"))

    source: Mapped[Source] = relationship()


def _unchecked(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    """A column's type for its history table, which keeps no constraints: an enum without
    its CHECK (its values still read as members, like the current table's)."""
    if isinstance(type_, SQLEnum) and type_.enum_class is not None and type_.name is not None:
        return _one_of(type_.enum_class, type_.name, checked=False)
    return type_


def _history_table(table: Table) -> Table:
    """The table of a versioned table's past versions: its columns, without its constraints,
    and when each version stopped being current and which change ended it."""
    return Table(
        f"{table.name}_history",
        Base.metadata,
        Column("history_id", Integer, primary_key=True),
        *(
            Column(column.name, _unchecked(column.type), nullable=column.nullable)
            for column in table.columns
        ),
        Column("known_until", DateTime, nullable=False),
        Column("ended_by", Integer, ForeignKey("changes.id"), nullable=False),
        Index(f"ix_{table.name}_history_id", "id"),
        *(
            Index(f"ix_{table.name}_history_{'_'.join(columns)}", *columns)
            for columns in HISTORY_INDEXES.get(table.name, ())
        ),
    )


# Columns of history tables looked up once per record of a report with --known-on, indexed
# so that each lookup is a search, not a scan of the history: whether a pledge known at the
# time replaces a pledge, and whether a later action of the same authority and program acted
# on a sanction date.
HISTORY_INDEXES: dict[str, tuple[tuple[str, ...], ...]] = {
    "pledges": (("replaces_id",),),
    "sanction_actions": (("authority", "program"),),
}


VERSIONED: tuple[type[Versioned], ...] = (
    ExchangeRate,
    SanctionAction,
    SanctionMeasure,
    Pledge,
    Installment,
    Disbursement,
    Claim,
    SourceLink,
)
# The history table of each versioned table, by table name.
HISTORY: dict[str, Table] = {
    model.__table__.name: _history_table(model.__table__)  # type: ignore[attr-defined]
    for model in VERSIONED
}


__all__ = [
    "HISTORY",
    "LINK_TARGETS",
    "SCHEMA_REVISION",
    "VERSIONED",
    "Base",
    "Change",
    "Claim",
    "Disbursement",
    "ExchangeRate",
    "Installment",
    "Pledge",
    "SanctionAction",
    "SanctionMeasure",
    "Source",
    "SourceLink",
    "Versioned",
]

"""What is known: the records as the database held them at a time, and only those sure enough."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, FromClause, Subquery, case, exists, func, select, union_all
from sqlalchemy.orm import aliased

from fintrack.errors import FintrackError, NotFound, NotYetKnown
from fintrack.models import HISTORY, Claim, Disbursement, Pledge, SanctionAction, SourceLink
from fintrack.vocab import CONFIDENCE_RANK, Confidence

M = TypeVar("M")

# The column of source_links that names a record of each kind that sources speak for.
LINK_COLUMN: dict[type[Any], str] = {
    SanctionAction: "sanction_id",
    Pledge: "pledge_id",
    Disbursement: "disbursement_id",
    Claim: "claim_id",
}
# The confidence levels --min-confidence accepts, and the standings each lets through.
MIN_CONFIDENCE = {
    Confidence.CONFIRMED: (Confidence.CONFIRMED,),
    Confidence.REPORTED: (Confidence.CONFIRMED, Confidence.REPORTED),
}
_LABELS = {rank: confidence for confidence, rank in CONFIDENCE_RANK.items()}


def end_of_day(day: date) -> datetime:
    """The first instant after `day` (UTC): what was known on `day` was stored before it.

    After 9999-12-31 there is none; its last instant stands for it, as nothing is stored then.
    """
    if day == date.max:
        return datetime.max
    return datetime.combine(day + timedelta(days=1), time.min)


def standing_label(rank: int | None) -> str:
    """A record's standing from the best rank among its sources; unverified without any."""
    return _LABELS.get(rank or 0, Confidence.UNVERIFIED).value


@dataclass(frozen=True)
class Known:
    """A point of view on the records: as known before `before` (None: now), counting only
    records whose standing `min_confidence` lets through (None: all), never voided ones.

    Every listing and report reads the records through `of`, so a date in the past or a
    confidence threshold applies to all of them alike.
    """

    before: datetime | None = None
    min_confidence: Confidence | None = None

    @classmethod
    def on(cls, day: date | None = None, min_confidence: Confidence | None = None) -> "Known":
        return cls(None if day is None else end_of_day(day), min_confidence)

    @property
    def day(self) -> date | None:
        """The day of --known-on, if any."""
        return None if self.before is None else (self.before - timedelta(microseconds=1)).date()

    def versions(self, model: type[Any]) -> FromClause:
        """The version of each record of `model` that was current at the time, voided or not."""
        table = model.__table__
        if self.before is None:
            return table  # type: ignore[no-any-return]
        history = HISTORY[table.name]
        names = [column.name for column in table.columns]
        return union_all(
            select(table).where(table.c.known_from < self.before),
            select(*(history.c[name] for name in names)).where(
                history.c.known_from < self.before, history.c.known_until >= self.before
            ),
        ).subquery(f"{table.name}_known")

    def of(self, model: type[M], include_void: bool = False, name: str | None = None) -> Any:
        """`model` as known: an entity to select from and join, like the model itself."""
        rows = self.versions(model)
        conditions: list[ColumnElement[bool]] = []
        if "voided_at" in rows.c and not include_void:
            conditions.append(rows.c.voided_at.is_(None))
        if self.min_confidence is not None and model in LINK_COLUMN:
            allowed = [CONFIDENCE_RANK[c] for c in MIN_CONFIDENCE[self.min_confidence]]
            standing = self.standing(model)
            # EXISTS, not `id IN (...)`: inside a subquery run for every row (whether a newer
            # pledge replaces this one), SQLite would look up each id of such a list per row.
            conditions.append(
                exists().where(standing.c.record_id == rows.c.id, standing.c.rank.in_(allowed))
            )
        if not conditions and self.before is None:
            return aliased(model, name=name)
        narrowed = select(rows).where(*conditions).subquery(name)
        return aliased(model, narrowed, adapt_on_names=True)

    def missing(self, session: Any, model: type[Any], kind: str, ident: int) -> FintrackError:
        """The error for a record this view does not hold: recorded only after the day of
        --known-on, or not at all."""
        if self.before is not None and session.get(model, ident) is not None:
            return NotYetKnown(kind, ident, self.day)
        return NotFound(kind, ident)

    def standing(self, model: type[Any], record_id: int | None = None) -> Subquery:
        """(record_id, rank): the best confidence rank among each sourced record's links (of
        one record, if given: then only its links are read)."""
        column = LINK_COLUMN[model]
        links = self.versions(SourceLink)
        rank = case(
            {confidence.value: value for confidence, value in CONFIDENCE_RANK.items()},
            value=links.c.confidence,
        )
        one = links.c[column].is_not(None) if record_id is None else links.c[column] == record_id
        return (
            select(links.c[column].label("record_id"), func.max(rank).label("rank"))
            .where(one)
            .group_by(links.c[column])
            .subquery(f"{column}_standing")
        )


NOW = Known()


def most_used(session: Any, column: Any, limit: int = 100) -> list[str]:
    """The distinct values of a column of records that are not voided, the most used first
    (then in order): the donors, recipients, authorities ... a person is likely to type again."""
    entity = NOW.of(column.class_)
    attribute = getattr(entity, column.key)
    query = (
        select(attribute)
        .where(attribute.is_not(None))
        .group_by(attribute)
        .order_by(func.count().desc(), attribute)
        .limit(limit)
    )
    return [str(value) for value in session.scalars(query)]

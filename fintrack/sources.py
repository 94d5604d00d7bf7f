"""Sources: where each record comes from, and how sure each source makes it."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from fintrack.errors import InputError, NotFound, mention
from fintrack.ids import parse_id
from fintrack.known import LINK_COLUMN, NOW, Known, standing_label
from fintrack.models import Source, SourceLink
from fintrack.text import check_row, check_text, clean, max_length
from fintrack.vocab import CONFIDENCE_RANK, Confidence

MAX_URL = max_length(Source.url)


@dataclass
class SourceInput:
    url: str | None = None
    title: str | None = None
    publisher: str | None = None
    published_on: date | None = None
    retrieved_on: date | None = None


def is_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:  # a malformed address: http://[::1 (an IPv6 host left open)
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in text


def source_url(text: str | None, field: str) -> str | None:
    """A source's web address, checked as `source add` and `import sources` store it."""
    value = clean(text)
    if value is None:
        return None
    if not is_url(value):
        raise InputError(field, f"'{value}' is not a web address (http:// or https://)")
    return check_text(value, Source.url, field)


def add_source(session: Session, data: SourceInput) -> Source:
    """Store a source; its URL, when it has one, must not be stored already."""
    url = source_url(data.url, "url")
    title = clean(data.title)
    if url is None and title is None:
        raise InputError(
            "url", f"give the source's {mention('url')}, its {mention('title')}, or both"
        )
    publisher = clean(data.publisher)
    check_row(Source, {"title": title, "publisher": publisher})
    if data.published_on and data.retrieved_on and data.retrieved_on < data.published_on:
        raise InputError(
            "retrieved_on",
            f"{data.retrieved_on} is before {mention('published_on')} {data.published_on}",
        )
    if url is not None:
        existing = session.scalar(select(Source.id).where(Source.url == url))
        if existing is not None:
            raise InputError("url", f"'{url}' is already source {existing}")
    from fintrack.changes import current_change, mark_written

    mark_written(session)
    source = Source(
        url=url,
        title=title,
        publisher=publisher,
        published_on=data.published_on,
        retrieved_on=data.retrieved_on or date.today(),
        change_id=current_change(session).id,
    )
    session.add(source)
    session.flush()
    return source


def resolve_source(session: Session, text: str, field: str = "sources") -> Source:
    """The source `text` names: a source id (12 or #12), or a URL, stored on first use."""
    value = text.strip()
    number = value.removeprefix("#")
    if number.isdigit():  # any digits, so that ٢ or ² is refused as an id, not taken as a URL
        source_id = parse_id(number, field)
        found = session.get(Source, source_id)
        if found is None:
            raise NotFound("source", source_id)
        return found
    if not is_url(value):
        raise InputError(
            field,
            f"'{value}' is neither a URL nor a source id; for a source without a URL, "
            f"run fintrack source add {mention('title', '...')} and give its id",
        )
    check_text(value, Source.url, field)
    found = session.scalar(select(Source).where(Source.url == value))
    return found if found is not None else add_source(session, SourceInput(url=value))


def link(
    session: Session, model: type[Any], record_id: int, source: Source, confidence: Confidence
) -> str:
    """Let `source` speak for a record with `confidence`: added, changed or unchanged."""
    column = LINK_COLUMN[model]
    existing = session.scalar(
        select(SourceLink).where(
            SourceLink.source_id == source.id, getattr(SourceLink, column) == record_id
        )
    )
    if existing is None:
        session.add(SourceLink(source_id=source.id, confidence=confidence, **{column: record_id}))
        session.flush()
        return "added"
    if existing.confidence == confidence:
        return "unchanged"
    existing.confidence = confidence
    session.flush()
    return "changed"


def cite(
    session: Session,
    model: type[Any],
    record_id: int,
    sources: Iterable[str],
    confidence: Confidence,
) -> list[tuple[int, str]]:
    """Link each source named on the command line to a record: (source id, what happened)."""
    done = []
    for text in sources:
        source = resolve_source(session, text)
        done.append((source.id, link(session, model, record_id, source, confidence)))
    return done


def source_row(source: Source, links: int = 0) -> dict[str, Any]:
    return {
        "id": source.id,
        "publisher": source.publisher,
        "title": source.title,
        "url": source.url,
        "published": source.published_on,
        "retrieved": source.retrieved_on,
        "links": links,
    }


def list_sources(session: Session, known: Known = NOW) -> list[dict[str, Any]]:
    """Sources stored by then, with how many records each speaks for."""
    links = known.versions(SourceLink)
    counts = (
        select(links.c.source_id, func.count().label("links"))
        .group_by(links.c.source_id)
        .subquery("counts")
    )
    query = (
        select(Source, func.coalesce(counts.c.links, 0))
        .outerjoin(counts, counts.c.source_id == Source.id)
        .order_by(Source.id)
    )
    if known.before is not None:
        query = query.where(Source.created_at < known.before)
    return [source_row(source, int(count)) for source, count in session.execute(query)]


def get_source(session: Session, source_id: int) -> Source:
    source = session.get(Source, source_id)
    if source is None:
        raise NotFound("source", source_id)
    return source


def links_of_source(session: Session, source_id: int, known: Known = NOW) -> list[dict[str, Any]]:
    """The records a source speaks for, and with what confidence."""
    from fintrack.history import KIND_OF_COLUMN

    links = known.versions(SourceLink)
    rows = []
    for link_row in session.execute(
        select(links).where(links.c.source_id == source_id).order_by(links.c.id)
    ).mappings():
        for column, kind in KIND_OF_COLUMN.items():
            if link_row[column] is not None:
                rows.append(
                    {
                        "kind": kind,
                        "record_id": link_row[column],
                        "confidence": link_row["confidence"].value,
                    }
                )
    return rows


def sources_of(
    session: Session, model: type[Any], record_ids: Sequence[int], known: Known = NOW
) -> dict[int, list[dict[str, Any]]]:
    """The sources speaking for each record, best confidence first."""
    column = LINK_COLUMN[model]
    links = known.versions(SourceLink)
    query = (
        select(links.c[column], links.c.confidence, Source)
        .join(Source, Source.id == links.c.source_id)
        .where(links.c[column].in_(list(record_ids)))
        .order_by(links.c[column], links.c.id)
    )
    found: dict[int, list[dict[str, Any]]] = {record_id: [] for record_id in record_ids}
    for record_id, confidence, source in session.execute(query):
        found[record_id].append({**source_row(source), "confidence": confidence.value})
    for cited in found.values():
        cited.sort(key=lambda row: -CONFIDENCE_RANK[Confidence(row["confidence"])])
    return found


def standings(
    session: Session, model: type[Any], among: Select[Any] | None = None, known: Known = NOW
) -> dict[int, str]:
    """The standing of each sourced record (records without sources are unverified), of
    every record or of those whose ids the query `among` selects.

    `among` is a query, not a list of ids, so the database narrows the records itself: an id
    list in `IN (...)` is one parameter per record, past PostgreSQL's limit of 65,535.
    """
    standing = known.standing(model)
    query = select(standing.c.record_id, standing.c.rank)
    if among is not None:
        query = query.where(standing.c.record_id.in_(among.scalar_subquery()))
    return {record_id: standing_label(rank) for record_id, rank in session.execute(query)}

"""Importing sources, and the links between sources and records."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.errors import InputError
from fintrack.interchange.cells import Cells, choice_parser, fits, parse_required
from fintrack.interchange.kinds import LINK_KINDS, Kind
from fintrack.interchange.passes import judge, read_records, reject, valid_records
from fintrack.interchange.problems import ImportResult, Options, Problems
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches, begin
from fintrack.keys import (
    KeyNumbering,
    disbursement_keys,
    pledge_keys,
    sanction_keys,
    source_key,
    source_keys,
)
from fintrack.models import Source, SourceLink
from fintrack.sources import source_url
from fintrack.vocab import Confidence


def _url(text: str, column: str) -> str:
    url = source_url(text, column)
    assert url is not None  # Cells.parse gives no empty cell
    return url


def import_sources(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Sources, matched by their key: the URL, or one derived from title, publisher and date.

    A source whose key is stored already is left as it is, like a record whose ref is.
    """
    begin(session, options)
    result = ImportResult()
    problems = Problems()
    present = set(source_keys(session).values())
    urls: dict[str, int] = {}  # URL -> the line it is first on

    def keyed(record: Record, numbering: KeyNumbering) -> tuple[Cells, dict[str, Any] | None, str]:
        cells = Cells(record)
        url = cells.parse("url", _url)
        title = cells.text("title")
        publisher = cells.parse("publisher", parse_required)
        published = cells.parse("published", parse_date)
        retrieved = cells.parse("retrieved", parse_date)
        if url is None and title is None and cells.get("url") is None:
            cells.fail("title", "is empty, and so is url; a source needs a url, a title or both")
        if published and retrieved and retrieved < published:
            cells.fail("retrieved", f"'{retrieved}' is before published {published}")
        if url is not None and urls.get(url, record.line) != record.line:
            cells.fail("url", f"'{url}' is also on line {urls[url]}")
        if cells.errors:
            return cells, None, ""
        key = source_key(url, title, publisher, published)
        if url is None:
            key = numbering(key)
        given = cells.get("key")
        if given is not None and given.strip() != key:
            derived = "its url" if url is not None else "derived from title, publisher, published"
            cells.fail("key", f"'{given}' is not this source's key {key} ({derived})")
            return cells, None, ""
        row = {
            "url": url,
            "title": title,
            "publisher": publisher,
            "published_on": published,
            "retrieved_on": retrieved,
        }
        if not fits(cells, Source, row):
            return cells, None, ""
        return cells, row, key

    numbering = KeyNumbering()
    for record in read_records(source, options, "Checking"):
        result.rows += 1
        cells, row, _ = keyed(record, numbering)
        if row is None:
            problems.add(source, record.line, cells.errors)
        elif row["url"] is not None:
            urls.setdefault(row["url"], record.line)
    judge(problems, result, options)

    # Every row is keyed again, rejected ones too, so that sources with the same content are
    # numbered as in the first pass.
    numbering = KeyNumbering()
    rows = Batches(session, Source, options)
    for record in read_records(source, options, "Importing" if not options.dry_run else "Reading"):
        _, row, key = keyed(record, numbering)
        reason = problems.reason(source, record.line)
        if reason is not None:
            reject(source, record, reason, options)
            continue
        assert row is not None
        if key in present:
            result.count(Kind.SOURCES, added=False)
            continue
        present.add(key)
        result.count(Kind.SOURCES, added=True)
        if not options.dry_run:
            assert options.change is not None
            rows.add({**row, "created_at": options.change.at, "change_id": options.change.id})
    rows.flush()
    return result


@dataclass(frozen=True)
class _LinkRow:
    kind: str
    record_id: int
    source_id: int
    confidence: str


def import_links(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Links between sources and records already stored, each named by its stable key.

    A link stored with the same confidence is left as it is; one stored with another is
    changed to the file's, through the ORM, so the record's history keeps the old one. Links
    of records voided in this database are left out.
    """
    begin(session, options)
    result = ImportResult()
    problems = Problems()
    pledges = pledge_keys(session)
    live = {
        "sanction": sanction_keys(session),
        "pledge": pledges,
        "payment": disbursement_keys(session, pledges),
    }
    records = {
        kind: {key: record_id for record_id, key in keys.items()} for kind, keys in live.items()
    }
    every_pledge = pledge_keys(session, include_void=True)
    voided = {
        "sanction": set(sanction_keys(session, include_void=True).values()),
        "pledge": set(every_pledge.values()),
        "payment": set(disbursement_keys(session, pledges, include_void=True).values())
        # Payments of a pledge voided here, named by that pledge's key.
        | set(disbursement_keys(session, every_pledge, include_void=True).values()),
    }
    for kind, keys in voided.items():
        keys -= set(records[kind])
    sources = {key: source_id for source_id, key in source_keys(session).items()}
    stored: dict[tuple[str, int, int], tuple[int, str]] = {}
    query = select(
        SourceLink.id,
        SourceLink.source_id,
        SourceLink.confidence,
        *(getattr(SourceLink, column) for column in LINK_KINDS.values()),
    )
    for link_id, source_id, confidence, *targets in session.execute(query):
        for kind, record_id in zip(LINK_KINDS, targets, strict=True):
            if record_id is not None:
                stored[(kind, record_id, source_id)] = (link_id, confidence)
    seen: dict[tuple[str, int, int], int] = {}

    def parsed(record: Record) -> tuple[Cells, _LinkRow | None, bool]:
        """The row's cells and link; True for the link of a record voided here."""
        cells = Cells(record)
        kind = cells.parse("kind", _link_kind, need=True)
        key = cells.parse("record", parse_required, need=True)
        source_key_ = cells.parse("source", parse_required, need=True)
        confidence = cells.parse("confidence", choice_parser(Confidence), need=True)
        record_id = None
        if kind is not None and key is not None:
            record_id = records[kind].get(key)
            if record_id is None and key in voided[kind]:
                return cells, None, not cells.errors
            if record_id is None:
                files = "pledges" if kind == "pledge" else f"{kind}s"
                files = "disbursements" if kind == "payment" else files
                cells.fail("record", f"no {kind} '{key}' in the database; import {files} first")
        source_id = sources.get(source_key_) if source_key_ is not None else None
        if source_key_ is not None and source_id is None:
            cells.fail("source", f"no source '{source_key_}' in the database; import sources first")
        if cells.errors or kind is None or record_id is None or source_id is None:
            return cells, None, False
        assert confidence is not None
        link = _LinkRow(kind, record_id, source_id, confidence.value)
        where = (kind, record_id, source_id)
        if seen.get(where, record.line) != record.line:
            cells.fail(
                None, f"source '{source_key_}' of {kind} '{key}' is also on line {seen[where]}"
            )
            return cells, None, False
        return cells, link, False

    for record in read_records(source, options, "Checking"):
        result.rows += 1
        cells, link, void = parsed(record)
        if link is not None:
            seen.setdefault((link.kind, link.record_id, link.source_id), record.line)
        elif not void:
            problems.add(source, record.line, cells.errors)
    judge(problems, result, options)

    rows = Batches(session, SourceLink, options)
    for record in valid_records(source, options, problems):
        _, link, void = parsed(record)
        if link is None:
            assert void
            result.tally(result.voided, Kind.LINKS)
            continue
        existing = stored.get((link.kind, link.record_id, link.source_id))
        if existing is None:
            result.count(Kind.LINKS, added=True)
            if not options.dry_run:
                columns: dict[str, int | None] = dict.fromkeys(LINK_KINDS.values())
                columns[LINK_KINDS[link.kind]] = link.record_id
                rows.add({"source_id": link.source_id, **columns, "confidence": link.confidence})
            continue
        link_id, confidence = existing
        if confidence == link.confidence:
            result.count(Kind.LINKS, added=False)
            continue
        result.tally(result.changed, Kind.LINKS)
        if not options.dry_run:
            stored_link = session.get(SourceLink, link_id)
            assert stored_link is not None
            stored_link.confidence = link.confidence
    rows.flush()
    session.flush()
    return result


def _link_kind(text: str, column: str) -> str:
    value = text.strip().lower()
    if value == "claim":
        raise InputError(column, "claims are not imported yet, and neither are their links")
    if value not in LINK_KINDS:
        raise InputError(column, f"'{text}' is not one of {', '.join(LINK_KINDS)}")
    return value

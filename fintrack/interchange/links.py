"""Importing the links between sources and the records they are sources of."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fintrack.errors import InputError
from fintrack.interchange.cells import Cells, choice_parser, parse_required
from fintrack.interchange.kinds import LINK_KINDS, Kind
from fintrack.interchange.passes import Errors, RowImport
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches
from fintrack.keys import disbursement_keys, pledge_keys, sanction_keys, source_keys
from fintrack.models import SourceLink
from fintrack.vocab import Confidence


@dataclass(frozen=True)
class _LinkRow:
    kind: str
    record_id: int
    source_id: int
    confidence: Confidence


def import_links(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Links between sources and records already stored, each named by its stable key.

    A link stored with the same confidence is left as it is; one stored with another is
    changed to the file's, through the ORM, so the record's history keeps the old one. Links
    of records voided in this database are left out.
    """
    return _Links(session, options).run(source)


class _Links(RowImport):
    rows: Batches

    def __init__(self, session: Session, options: Options) -> None:
        super().__init__(session, options)
        pledges = pledge_keys(session)
        live = {
            "sanction": sanction_keys(session),
            "pledge": pledges,
            "payment": disbursement_keys(session, pledges),
        }
        self.records = {
            kind: {key: record_id for record_id, key in keys.items()} for kind, keys in live.items()
        }
        every_pledge = pledge_keys(session, include_void=True)
        self.voided = {
            "sanction": set(sanction_keys(session, include_void=True).values()),
            "pledge": set(every_pledge.values()),
            "payment": set(disbursement_keys(session, pledges, include_void=True).values())
            # Payments of a pledge voided here, named by that pledge's key.
            | set(disbursement_keys(session, every_pledge, include_void=True).values()),
        }
        for kind, keys in self.voided.items():
            keys -= set(self.records[kind])
        self.sources = {key: source_id for source_id, key in source_keys(session).items()}
        self.links: dict[tuple[str, int, int], tuple[int, Confidence]] = {}  # those stored
        query = select(
            SourceLink.id,
            SourceLink.source_id,
            SourceLink.confidence,
            *(getattr(SourceLink, column) for column in LINK_KINDS.values()),
        )
        for link_id, source_id, confidence, *targets in session.execute(query):
            for kind, record_id in zip(LINK_KINDS, targets, strict=True):
                if record_id is not None:
                    self.links[(kind, record_id, source_id)] = (link_id, confidence)
        self.seen: dict[tuple[str, int, int], int] = {}

    def parsed(self, record: Record) -> tuple[Cells, _LinkRow | None, bool]:
        """The row's cells and link; True for the link of a record voided here."""
        cells = Cells(record)
        kind = cells.parse("kind", _link_kind, need=True)
        key = cells.parse("record", parse_required, need=True)
        source_key_ = cells.parse("source", parse_required, need=True)
        confidence = cells.parse("confidence", choice_parser(Confidence), need=True)
        record_id = None
        if kind is not None and key is not None:
            record_id = self.records[kind].get(key)
            if record_id is None and key in self.voided[kind]:
                return cells, None, not cells.errors
            if record_id is None:
                files = "pledges" if kind == "pledge" else f"{kind}s"
                files = "disbursements" if kind == "payment" else files
                cells.fail("record", f"no {kind} '{key}' in the database; import {files} first")
        source_id = self.sources.get(source_key_) if source_key_ is not None else None
        if source_key_ is not None and source_id is None:
            cells.fail("source", f"no source '{source_key_}' in the database; import sources first")
        if cells.errors or kind is None or record_id is None or source_id is None:
            return cells, None, False
        assert confidence is not None
        link = _LinkRow(kind, record_id, source_id, confidence)
        where = (kind, record_id, source_id)
        if self.seen.get(where, record.line) != record.line:
            cells.fail(
                None, f"source '{source_key_}' of {kind} '{key}' is also on line {self.seen[where]}"
            )
            return cells, None, False
        return cells, link, False

    def check(self, record: Record) -> Errors | None:
        cells, link, void = self.parsed(record)
        if link is not None:
            self.seen.setdefault((link.kind, link.record_id, link.source_id), record.line)
        elif not void:
            return cells.errors
        return None

    def writing(self) -> None:
        self.rows = Batches(self.session, SourceLink, self.options)

    def write(self, record: Record) -> None:
        _, link, void = self.parsed(record)
        if link is None:
            assert void
            self.result.tally(self.result.voided, Kind.LINKS)
            return
        existing = self.links.get((link.kind, link.record_id, link.source_id))
        if existing is None:
            self.result.count(Kind.LINKS, added=True)
            if not self.options.dry_run:
                columns: dict[str, int | None] = dict.fromkeys(LINK_KINDS.values())
                columns[LINK_KINDS[link.kind]] = link.record_id
                self.rows.add(
                    {"source_id": link.source_id, **columns, "confidence": link.confidence}
                )
            return
        link_id, confidence = existing
        if confidence == link.confidence:
            self.result.count(Kind.LINKS, added=False)
            return
        self.result.tally(self.result.changed, Kind.LINKS)
        if not self.options.dry_run:
            stored_link = self.session.get(SourceLink, link_id)
            assert stored_link is not None
            stored_link.confidence = link.confidence

    def written(self) -> None:
        self.rows.flush()
        self.session.flush()


def _link_kind(text: str, column: str) -> str:
    value = text.strip().lower()
    if value == "claim":
        raise InputError(column, "claims are not imported yet, and neither are their links")
    if value not in LINK_KINDS:
        raise InputError(column, f"'{text}' is not one of {', '.join(LINK_KINDS)}")
    return value

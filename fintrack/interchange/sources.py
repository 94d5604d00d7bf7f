"""Importing sources, and the links between sources and records."""

from typing import Any

from sqlalchemy.orm import Session

from fintrack.dates import parse_date
from fintrack.interchange.cells import Cells, fits, parse_required
from fintrack.interchange.kinds import Kind
from fintrack.interchange.passes import Errors, RowImport
from fintrack.interchange.problems import ImportResult, Options
from fintrack.interchange.reading import CsvFile, Record
from fintrack.interchange.writing import Batches
from fintrack.keys import KeyNumbering, source_key, source_keys
from fintrack.models import Source
from fintrack.sources import source_url


def _url(text: str, column: str) -> str:
    url = source_url(text, column)
    assert url is not None  # Cells.parse gives no empty cell
    return url


def import_sources(session: Session, source: CsvFile, options: Options) -> ImportResult:
    """Sources, matched by their key: the URL, or one derived from title, publisher and date.

    A source whose key is stored already is left as it is, like a record whose ref is.
    """
    return _Sources(session, options).run(source)


class _Sources(RowImport):
    rows: Batches

    def __init__(self, session: Session, options: Options) -> None:
        super().__init__(session, options)
        self.present = set(source_keys(session).values())
        self.urls: dict[str, int] = {}  # URL -> the line it is first on
        self.numbering = KeyNumbering()

    def keyed(self, record: Record) -> tuple[Cells, dict[str, Any] | None, str]:
        urls = self.urls
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
            key = self.numbering(key)
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

    def check(self, record: Record) -> Errors | None:
        cells, row, _ = self.keyed(record)
        if row is None:
            return cells.errors
        if row["url"] is not None:
            self.urls.setdefault(row["url"], record.line)
        return None

    def writing(self) -> None:
        self.numbering = KeyNumbering()
        self.rows = Batches(self.session, Source, self.options)

    def skipped(self, record: Record) -> None:
        # Every row is keyed again, rejected ones too, so that sources with the same content
        # are numbered as in the first pass.
        self.keyed(record)

    def write(self, record: Record) -> None:
        _, row, key = self.keyed(record)
        assert row is not None
        if key in self.present:
            self.result.count(Kind.SOURCES, added=False)
            return
        self.present.add(key)
        self.result.count(Kind.SOURCES, added=True)
        if not self.options.dry_run:
            change = self.options.change
            assert change is not None
            self.rows.add({**row, "created_at": change.at, "change_id": change.id})

    def written(self) -> None:
        self.rows.flush()

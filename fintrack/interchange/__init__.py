"""CSV import and export: every row checked before anything is written, stable keys, streaming."""

from fintrack.errors import MAX_LISTED, InvalidRows, RowError
from fintrack.interchange.cells import column_of
from fintrack.interchange.disbursements import import_disbursements
from fintrack.interchange.export import count_rows, export_rows
from fintrack.interchange.kinds import DERIVED, LINK_KINDS, ONE_OF, REQUIRED, Kind
from fintrack.interchange.links import import_links
from fintrack.interchange.pledges import import_pledges
from fintrack.interchange.problems import ImportResult, Options, Reject
from fintrack.interchange.rates import import_rates
from fintrack.interchange.reading import MAX_CELL, MAX_LINE, REASON, CsvFile, Progress, Record
from fintrack.interchange.sanctions import import_sanctions
from fintrack.interchange.sources import import_sources
from fintrack.interchange.writing import BATCH_ROWS

__all__ = [
    "BATCH_ROWS",
    "DERIVED",
    "LINK_KINDS",
    "MAX_CELL",
    "MAX_LINE",
    "MAX_LISTED",
    "ONE_OF",
    "REASON",
    "REQUIRED",
    "CsvFile",
    "ImportResult",
    "InvalidRows",
    "Kind",
    "Options",
    "Progress",
    "Record",
    "Reject",
    "RowError",
    "column_of",
    "count_rows",
    "export_rows",
    "import_disbursements",
    "import_links",
    "import_pledges",
    "import_rates",
    "import_sanctions",
    "import_sources",
]

"""fintrack: track sanctions actions and foreign-aid pledges from the terminal or from Python.

    import fintrack

    with fintrack.open("syria.db") as tracker:
        print(tracker.totals())

`fintrack.open()` returns a `Tracker` (see `fintrack.api`); the names below are loaded on first
use, so that the command line starts without the database layer.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

# The one place the version is written: the package's metadata takes it from here (pyproject's
# [tool.hatch.version]), and `fintrack --version` prints it without reading that metadata.
__version__ = "0.1.0"

if TYPE_CHECKING:
    from fintrack.api import (
        BriefReport,
        Change,
        ChangedMeanwhile,
        CitedRow,
        ClaimDetail,
        ClaimRow,
        ConversionRow,
        DeadlineRow,
        DeadlinesReport,
        FtsImportSummary,
        HistoryRow,
        ImportSummary,
        InstallmentRow,
        Linked,
        LinkRow,
        Outstanding,
        PaymentRow,
        PledgeDetail,
        PledgeRow,
        RateAdded,
        RateConflict,
        RateListing,
        RateRow,
        RecordHistory,
        RecordRef,
        ReferenceRates,
        SanctionDetail,
        SanctionRow,
        SeedSummary,
        SourceDetail,
        SourceRow,
        TotalRow,
        TotalsReport,
        Tracker,
        WorkingRow,
        open,
    )
    from fintrack.errors import (
        DatabaseError,
        DuplicatePledge,
        FintrackError,
        InputError,
        InvalidElements,
        InvalidFlows,
        InvalidRows,
        NotFound,
        PathError,
        Refused,
        RowError,
    )
    from fintrack.formats import FileFormat
    from fintrack.money import Money
    from fintrack.rates import MissingRate
    from fintrack.vocab import (
        Confidence,
        Period,
        PledgeStatus,
        SanctionActionKind,
        SanctionStatus,
    )

_HOMES = {
    "fintrack.api": (
        "BriefReport",
        "Change",
        "ChangedMeanwhile",
        "CitedRow",
        "ClaimDetail",
        "ClaimRow",
        "ConversionRow",
        "DeadlineRow",
        "DeadlinesReport",
        "FtsImportSummary",
        "HistoryRow",
        "ImportSummary",
        "InstallmentRow",
        "Outstanding",
        "Linked",
        "LinkRow",
        "PaymentRow",
        "PledgeDetail",
        "PledgeRow",
        "RateAdded",
        "RateConflict",
        "RateListing",
        "RateRow",
        "RecordHistory",
        "ReferenceRates",
        "RecordRef",
        "SanctionDetail",
        "SanctionRow",
        "SeedSummary",
        "SourceDetail",
        "SourceRow",
        "TotalRow",
        "TotalsReport",
        "Tracker",
        "WorkingRow",
        "open",
    ),
    "fintrack.errors": (
        "DatabaseError",
        "DuplicatePledge",
        "FintrackError",
        "InputError",
        "InvalidElements",
        "InvalidFlows",
        "InvalidRows",
        "NotFound",
        "PathError",
        "Refused",
        "RowError",
    ),
    "fintrack.formats": ("FileFormat",),
    "fintrack.money": ("Money",),
    "fintrack.rates": ("MissingRate",),
    "fintrack.vocab": (
        "Confidence",
        "Period",
        "PledgeStatus",
        "SanctionActionKind",
        "SanctionStatus",
    ),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "BriefReport",
    "Change",
    "ChangedMeanwhile",
    "CitedRow",
    "ClaimDetail",
    "ClaimRow",
    "Confidence",
    "ConversionRow",
    "DatabaseError",
    "DeadlineRow",
    "DeadlinesReport",
    "DuplicatePledge",
    "FileFormat",
    "FintrackError",
    "FtsImportSummary",
    "HistoryRow",
    "ImportSummary",
    "InputError",
    "InstallmentRow",
    "InvalidElements",
    "InvalidFlows",
    "InvalidRows",
    "LinkRow",
    "Linked",
    "MissingRate",
    "Money",
    "NotFound",
    "Outstanding",
    "PathError",
    "PaymentRow",
    "Period",
    "PledgeDetail",
    "PledgeRow",
    "PledgeStatus",
    "RateAdded",
    "RateConflict",
    "RateListing",
    "RateRow",
    "RecordHistory",
    "RecordRef",
    "ReferenceRates",
    "Refused",
    "RowError",
    "SanctionActionKind",
    "SanctionDetail",
    "SanctionRow",
    "SanctionStatus",
    "SeedSummary",
    "SourceDetail",
    "SourceRow",
    "TotalRow",
    "TotalsReport",
    "Tracker",
    "WorkingRow",
    "open",
]


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'fintrack' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

"""fintrack: track sanctions actions and foreign-aid pledges from the terminal or from Python.

    import fintrack

    with fintrack.open("syria.db") as tracker:
        print(tracker.totals())

`fintrack.open()` returns a `Tracker` (see `fintrack.api`); the names below are loaded on first
use, so that the command line starts without the database layer.
"""

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

try:
    __version__ = version("fintrack")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

if TYPE_CHECKING:
    from fintrack.api import (
        Change,
        ChangedMeanwhile,
        CitedRow,
        ClaimDetail,
        ClaimRow,
        ConversionRow,
        DeadlineRow,
        HistoryRow,
        ImportSummary,
        InstallmentRow,
        Linked,
        LinkRow,
        PaymentRow,
        PledgeDetail,
        PledgeRow,
        RateAdded,
        RateConflict,
        RateListing,
        RateRow,
        SanctionDetail,
        SanctionRow,
        SourceDetail,
        SourceRow,
        TotalRow,
        Tracker,
        open,
    )
    from fintrack.errors import DatabaseError, FintrackError, InputError, NotFound, Refused
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
        "Change",
        "ChangedMeanwhile",
        "CitedRow",
        "ClaimDetail",
        "ClaimRow",
        "ConversionRow",
        "DeadlineRow",
        "HistoryRow",
        "ImportSummary",
        "InstallmentRow",
        "Linked",
        "LinkRow",
        "PaymentRow",
        "PledgeDetail",
        "PledgeRow",
        "RateAdded",
        "RateConflict",
        "RateListing",
        "RateRow",
        "SanctionDetail",
        "SanctionRow",
        "SourceDetail",
        "SourceRow",
        "TotalRow",
        "Tracker",
        "open",
    ),
    "fintrack.errors": ("DatabaseError", "FintrackError", "InputError", "NotFound", "Refused"),
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
    "Change",
    "ChangedMeanwhile",
    "CitedRow",
    "ClaimDetail",
    "ClaimRow",
    "Confidence",
    "ConversionRow",
    "DatabaseError",
    "DeadlineRow",
    "FileFormat",
    "FintrackError",
    "HistoryRow",
    "ImportSummary",
    "InputError",
    "InstallmentRow",
    "LinkRow",
    "Linked",
    "MissingRate",
    "Money",
    "NotFound",
    "PaymentRow",
    "Period",
    "PledgeDetail",
    "PledgeRow",
    "PledgeStatus",
    "RateAdded",
    "RateConflict",
    "RateListing",
    "RateRow",
    "Refused",
    "SanctionActionKind",
    "SanctionDetail",
    "SanctionRow",
    "SanctionStatus",
    "SourceDetail",
    "SourceRow",
    "TotalRow",
    "Tracker",
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

"""Reports: totals of pledged, disbursed and outstanding money (`totals`), the same converted
into one currency (`conversion`), and what falls due (`deadlines`), in SQL."""

from fintrack.reports.conversion import converted_totals
from fintrack.reports.deadlines import (
    LAPSED,
    MAX_WITHIN_DAYS,
    NEAR_DAYS,
    DeadlineFilter,
    DeadlineKind,
    deadlines,
    deadlines_report,
)
from fintrack.reports.totals import GROUP_KEYS, Grouping, TotalsFilter, totals, totals_report

__all__ = [
    "GROUP_KEYS",
    "LAPSED",
    "MAX_WITHIN_DAYS",
    "NEAR_DAYS",
    "DeadlineFilter",
    "DeadlineKind",
    "Grouping",
    "TotalsFilter",
    "converted_totals",
    "deadlines",
    "deadlines_report",
    "totals",
    "totals_report",
]

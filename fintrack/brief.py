"""The brief: one page of what an analyst reads first, assembled from the reports and listings."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fintrack.claims import list_claims
from fintrack.known import NOW, Known
from fintrack.models import Pledge
from fintrack.reports import Grouping, TotalsFilter, deadlines, totals
from fintrack.sanctions import SanctionFilter, list_sanctions
from fintrack.vocab import Confidence

# How far ahead the brief looks for deadlines, and how many items each list shows.
WITHIN_DAYS = 90
NEXT_DEADLINES = 8
OVERDUE_ITEMS = 8
LATEST_SANCTIONS = 5
CLAIMS = 5
# Claims the brief lists: every standing short of confirmed, denials first (a party says
# it is false), then the unchecked ones, then those only reported.
UNCONFIRMED_ORDER = (Confidence.DENIED, Confidence.UNVERIFIED, Confidence.REPORTED)


@dataclass
class Section:
    """Some rows of a list, and how many more the full listing has."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    more: int = 0


@dataclass
class Brief:
    as_of: date
    donor: str | None
    recipient: str | None
    known: Known
    # Per donor and currency, each currency followed by its total row (as `totals` gives them).
    donors: list[dict[str, Any]]
    # Installments due and paid per month and currency, with total rows.
    months: list[dict[str, Any]]
    overdue: Section
    # Minor units overdue per currency, never added across currencies.
    overdue_totals: dict[str, int]
    # Deadlines ahead (and sanction dates that lapsed), money and sanctions alike.
    upcoming: Section
    sanctions: Section
    claims: Section
    within: int = WITHIN_DAYS


def _pledge_ids(
    session: Session, donor: str | None, recipient: str | None, known: Known
) -> set[int]:
    """The pledges of the donor and recipient asked for (case-insensitive, as `totals` matches)."""
    pledge = known.of(Pledge, name="pledge")
    query = select(pledge.id)
    if donor:
        query = query.where(func.lower(pledge.donor) == donor.strip().lower())
    if recipient:
        query = query.where(func.lower(pledge.recipient) == recipient.strip().lower())
    return set(session.scalars(query))


def _section(rows: list[dict[str, Any]], limit: int) -> Section:
    return Section(rows[:limit], max(0, len(rows) - limit))


def build_brief(
    session: Session,
    as_of: date,
    donor: str | None = None,
    recipient: str | None = None,
    known: Known = NOW,
    within: int = WITHIN_DAYS,
) -> Brief:
    """The brief as of a day, as `known` holds the records.

    Totals and overdue money follow `donor` and `recipient`; so do the money deadlines. Sanction
    actions and claims have no donor or recipient, so they are never narrowed by them. Actions
    and claims dated after `as_of` are left out; the totals count every payment recorded.
    """
    where = TotalsFilter(donor, recipient, None, known)
    donors = totals(session, Grouping.DONOR, where)
    months = totals(session, Grouping.MONTH, where)

    due = deadlines(session, as_of, within, known=known)
    if donor or recipient:
        wanted = _pledge_ids(session, donor, recipient, known)
        due = [row for row in due if row["record"] != "pledge" or row["record_id"] in wanted]
    overdue = [row for row in due if row["record"] == "pledge" and row["days_left"] < 0]
    overdue_totals: dict[str, int] = defaultdict(int)
    for row in overdue:
        overdue_totals[row["currency"]] += row["amount"]
    # What falls due from today on, and sanction dates already passed with no later action
    # (lapsed), should the report list them: those call for a look as much as what is next.
    upcoming = [row for row in due if row["days_left"] >= 0 or row["record"] != "pledge"]

    actions = list_sanctions(session, SanctionFilter(until=as_of), known)
    actions.reverse()  # newest first

    ranks = {confidence.value: rank for rank, confidence in enumerate(UNCONFIRMED_ORDER)}
    claims = [
        row
        for row in list_claims(session, known)
        if row["confidence"] in ranks and (row["stated"] is None or row["stated"] <= as_of)
    ]
    claims.reverse()  # newest first within each standing (the sort below is stable)
    claims.sort(key=lambda row: ranks[row["confidence"]])

    return Brief(
        as_of=as_of,
        donor=donor,
        recipient=recipient,
        known=known,
        donors=donors,
        months=months,
        overdue=_section(overdue, OVERDUE_ITEMS),
        overdue_totals=dict(sorted(overdue_totals.items())),
        upcoming=_section(upcoming, NEXT_DEADLINES),
        sanctions=_section(actions, LATEST_SANCTIONS),
        claims=_section(claims, CLAIMS),
        within=within,
    )

"""The controlled vocabularies of fintrack, shared by the models, the operations and the CLI."""

from decimal import Decimal
from enum import StrEnum
from typing import TypeVar

from fintrack.errors import InputError

# A rate counts for a value date when it is from that day or from up to this many days before:
# enough to bridge weekends and holidays of daily reference rates (the ECB publishes none on
# TARGET holidays: four days at Easter, more at the turn of the year), not enough to pass off a
# stale rate as the rate of the day.
MAX_RATE_AGE_DAYS = 7

# An OCHA FTS flow's rate disagrees when originalAmount / exchangeRate differs from amountUSD by
# more than this share of amountUSD and by more than this many US dollars: FTS rounds
# amountUSD to whole dollars, so a dollar's difference is rounding, not another rate.
FTS_RATE_TOLERANCE = Decimal("0.01")
FTS_RATE_SLACK_USD = Decimal(1)

# The kinds of record a user names (void, history, source link), as messages name them.
KIND_NAMES = {
    "sanction": "sanction action",
    "pledge": "pledge",
    "payment": "payment",
    "claim": "claim",
}


class SanctionActionKind(StrEnum):
    """What an authority did (OpenSanctions / Global Sanctions Database vocabulary)."""

    IMPOSE = "impose"
    EXTEND = "extend"
    AMEND = "amend"
    SUSPEND = "suspend"
    EASE = "ease"
    LICENCE = "licence"
    WAIVER = "waiver"
    DELIST = "delist"
    LIFT = "lift"
    EXPIRE = "expire"


class SanctionStatus(StrEnum):
    PLANNED = "planned"
    ANNOUNCED = "announced"
    IN_FORCE = "in-force"
    EXPIRED = "expired"
    REVOKED = "revoked"


class PledgeStatus(StrEnum):
    """Flow status as OCHA FTS uses it."""

    PLEDGE = "pledge"
    COMMITMENT = "commitment"
    PAID = "paid"


class Boundary(StrEnum):
    """Why a recorded flow is left out of totals (OCHA FTS's counting rules): its money is
    shared with other locations or years of the search it came from, or it moves money
    already counted inside the location. A flow with no boundary counts."""

    SHARED = "shared"
    INTERNAL = "internal"


class Confidence(StrEnum):
    """How sure a source makes a record: its link to the record carries one of these."""

    CONFIRMED = "confirmed"  # official: the act, the donor's or recipient's own statement
    REPORTED = "reported"  # stated by a credible report, not confirmed by the parties
    UNVERIFIED = "unverified"  # a claim nobody has checked yet
    DENIED = "denied"  # a party concerned denies it


# A record's standing is the strongest confidence among its sources, in this order: an official
# confirmation outweighs a denial, and a denial outweighs reports that nobody confirmed.
CONFIDENCE_RANK = {
    Confidence.CONFIRMED: 4,
    Confidence.DENIED: 3,
    Confidence.REPORTED: 2,
    Confidence.UNVERIFIED: 1,
}


class Period(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


# Spellings people type that mean a value of the vocabulary.
_ALIASES = {
    "license": "licence",
    "renew": "extend",
    "in force": "in-force",
    "in_force": "in-force",
    "inforce": "in-force",
    "committed": "commitment",
    "pledged": "pledge",
    "monthly": "month",
    "weekly": "week",
    "quarterly": "quarter",
    "yearly": "year",
    "annual": "year",
}


class FileKind(StrEnum):
    """The kinds of record file that `export` writes and `import` reads back: the one list of
    them (`fintrack.api`'s ImportKind and ExportKind Literals are tested against it)."""

    SANCTIONS = "sanctions"
    PLEDGES = "pledges"
    INSTALLMENTS = "installments"
    DISBURSEMENTS = "disbursements"
    RATES = "rates"
    SOURCES = "sources"
    LINKS = "links"


class ExternalFormat(StrEnum):
    """Other systems' files that `import` reads and `export` does not write (`fintrack.api`'s
    ExternalKind Literal is tested against it)."""

    FTS = "fts"  # OCHA Financial Tracking Service flows (API v1 public/fts/flow JSON)
    IATI = "iati"  # IATI activity XML 2.0x


# What `import` reads: every kind of record file, then other systems' files.
ImportChoice = StrEnum(  # type: ignore[misc]  # built from the lists above, not a literal
    "ImportChoice", [(name.upper(), name) for name in (*FileKind, *ExternalFormat)]
)

# The reports an export writes besides the record files; they are not read back.
REPORT_KINDS = ("deadlines", "totals")
# What `export` writes: every kind of record file, then the reports.
ExportChoice = StrEnum(  # type: ignore[misc]  # built from the lists above, not a literal
    "ExportChoice", [(name.upper(), name) for name in (*FileKind, *REPORT_KINDS)]
)


def choices(kind: type[StrEnum]) -> str:
    return ", ".join(member.value for member in kind)


E = TypeVar("E", bound=StrEnum)


def parse_choice(kind: type[E], text: str, field: str) -> E:
    """The vocabulary value `text` names (case-insensitive, common aliases accepted)."""
    key = text.strip().lower()
    key = _ALIASES.get(key, key)
    try:
        return kind(key)
    except ValueError:
        raise InputError(field, f"'{text}' is not one of {choices(kind)}") from None

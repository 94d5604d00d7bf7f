"""Filters on deadlines (--donor, --recipient, --authority, --kind, --overdue), lapsed sanction
dates, and --since/--until on totals and pledge list."""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine

from tests.conftest import QATAR, Run, added, as_json, assert_error

# --- A small world whose deadlines the tests work out by hand, in Python, below.


@dataclass(frozen=True)
class Due:
    """An installment with money outstanding."""

    on: date
    pledge: int
    donor: str
    recipient: str
    left: str  # outstanding, as JSON prints it


@dataclass(frozen=True)
class Act:
    """A sanction action, as recorded."""

    id: int
    authority: str
    program: str | None
    status: str = "in-force"
    announced: date | None = None
    effective: date | None = None
    deadline: date | None = None
    expires: date | None = None


D = date.fromisoformat
DUES = [
    # Qatar: 3 x 29M from 2025-05-08, the first paid in full.
    Due(D("2025-06-08"), 1, "Qatar", "Syria", "29000000.00"),
    Due(D("2025-07-08"), 1, "Qatar", "Syria", "29000000.00"),
    Due(D("2025-04-27"), 2, "Saudi Arabia", "Syria", "15000000.00"),
    # Germany: no --on, first due 2025-03-17, two quarterly installments.
    Due(D("2025-03-17"), 3, "Germany", "Lebanon", "150000000.00"),
    Due(D("2025-06-17"), 3, "Germany", "Lebanon", "150000000.00"),
    Due(D("2025-06-20"), 4, "[/bold]", "Syria", "1000000.00"),
]
ACTS = [
    # A planned renewal with no date of its own, renewed in time by act 2.
    Act(1, "EU", "EU-SYR", "planned", deadline=D("2025-06-01")),
    Act(
        2,
        "EU",
        "EU-SYR",
        announced=D("2025-05-28"),
        effective=D("2025-05-28"),
        deadline=D("2026-06-01"),
        expires=D("2026-06-01"),
    ),
    Act(
        3,
        "US",
        "US-SYR",
        announced=D("2025-05-23"),
        deadline=D("2025-11-19"),
        expires=D("2025-11-19"),
    ),
    Act(4, "UK", "UK-SYR", announced=D("2025-01-10"), expires=D("2025-03-01")),
    # A revoked action is no later action.
    Act(5, "UK", "UK-SYR", "revoked", announced=D("2025-04-01")),
    # No program: another program of the same authority is not the same regime.
    Act(6, "UN", None, expires=D("2025-02-01")),
    Act(7, "UN", "UN-X", announced=D("2025-03-01")),
]
SANCTION_ARGS = {
    1: ("--action", "extend", "--deadline-label", "EU regime renewal \x1b[2J"),
    2: ("--action", "extend"),
    3: ("--action", "waiver"),
    4: ("--action", "licence"),
    5: ("--action", "lift"),
    6: ("--action", "impose"),
    7: ("--action", "impose"),
}


def record_act(run: Run, act: Act) -> int:
    args = ["sanction", "add", "--authority", act.authority, "--target", "SY"]
    args += ["--status", act.status, *SANCTION_ARGS.get(act.id, ("--action", "amend"))]
    if act.program:
        args += ["--program", act.program]
    for option, value in (
        ("--announced", act.announced),
        ("--effective", act.effective),
        ("--deadline", act.deadline),
        ("--expires", act.expires),
    ):
        if value is not None:
            args += [option, value.isoformat()]
    return added(run, *args)


def world(run: Run) -> None:
    assert added(run, *QATAR) == 1
    assert run("pay", "1", "29M", "--on", "2025-05-20").code == 0
    assert added(run, "pledge", "add", "--donor", "Saudi Arabia", "--recipient", "Syria",
                 "--currency", "USD", "--amount", "15M", "--on", "2025-04-27") == 2  # fmt: skip
    assert added(run, "pledge", "add", "--donor", "Germany", "--recipient", "Lebanon",
                 "--currency", "EUR", "--amount", "300M", "--first-due", "2025-03-17",
                 "--installments", "2", "--every", "quarter") == 3  # fmt: skip
    assert added(run, "pledge", "add", "--donor", "[/bold]", "--recipient", "Syria",
                 "--currency", "USD", "--amount", "1M", "--on", "2025-06-20") == 4  # fmt: skip
    for act in ACTS:
        assert record_act(run, act) == act.id


def acted_on(act: Act, day: date, acts: list[Act]) -> bool:
    """The README's rule, in Python: a later action on the same authority and program."""
    return any(
        other.id != act.id
        and other.authority == act.authority
        and other.program == act.program
        and other.status != "revoked"
        and (
            any(d is not None and d >= day for d in (other.announced, other.effective))
            or any(d is not None and d > day for d in (other.deadline, other.expires))
        )
        for other in acts
    )


def expected(
    as_of: date,
    within: int = 90,
    donor: str | None = None,
    recipient: str | None = None,
    authority: str | None = None,
    kinds: tuple[str, ...] = ("installment", "deadline", "expiry"),
    overdue: bool = False,
    acts: list[Act] = ACTS,
) -> list[tuple[str, str, str, int, str]]:
    """(date, kind, record, id, state) of what `deadlines` must list, worked out by hand."""
    end = as_of + timedelta(days=within)
    money, sanctions = bool(donor or recipient), bool(authority)
    items: list[tuple[date, str, str, int, str]] = []

    def state(day: date, late: str) -> str:
        days = (day - as_of).days
        if days < 0:
            return late
        return "today" if days == 0 else "soon" if days <= 14 else "upcoming"

    if "installment" in kinds and (money or not sanctions):
        for due in DUES:
            if donor and due.donor.lower() != donor.strip().lower():
                continue
            if recipient and due.recipient.lower() != recipient.strip().lower():
                continue
            if due.on < as_of if overdue else due.on <= end:
                items.append(
                    (due.on, "installment", "pledge", due.pledge, state(due.on, "overdue"))
                )
    if sanctions or not money:
        for act in acts:
            if act.status == "revoked":
                continue
            if authority and act.authority != authority.strip().upper():
                continue
            for kind, day in (("deadline", act.deadline), ("expiry", act.expires)):
                if day is None or kind not in kinds:
                    continue
                lapsed = day < as_of and not acted_on(act, day, acts)
                if lapsed or (not overdue and as_of <= day <= end):
                    items.append((day, kind, "sanction", act.id, state(day, "lapsed")))
    items.sort(key=lambda item: (item[0], item[1], item[3]))
    return [(day.isoformat(), kind, record, ident, st) for day, kind, record, ident, st in items]


def listed(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, int, str]]:
    return [(r["date"], r["kind"], r["record"], r["record_id"], r["state"]) for r in rows]


@pytest.fixture
def seeded(run: Run) -> Run:
    world(run)
    return run


# --- deadlines: filters, each checked against the hand-made answer, in JSON and CSV.

CASES: list[tuple[str, list[str], dict[str, Any]]] = [
    ("2025-06-10", [], {}),
    ("2025-12-01", [], {}),
    ("2025-01-01", ["--within", "400"], {"within": 400}),
    ("2025-06-10", ["--donor", "qatar"], {"donor": "qatar"}),
    ("2025-06-10", ["--donor", " GERMANY "], {"donor": " GERMANY "}),
    ("2025-06-10", ["--recipient", "syria"], {"recipient": "syria"}),
    (
        "2025-06-10",
        ["--donor", "Qatar", "--recipient", "Lebanon"],
        {"donor": "Qatar", "recipient": "Lebanon"},
    ),
    ("2025-06-10", ["--donor", "Qatar Fund"], {"donor": "Qatar Fund"}),  # whole names only
    ("2025-12-01", ["--authority", "us"], {"authority": "us"}),
    ("2025-12-01", ["--authority", "UK"], {"authority": "UK"}),
    (
        "2025-12-01",
        ["--donor", "Qatar", "--authority", "UN"],
        {"donor": "Qatar", "authority": "UN"},
    ),
    ("2025-12-01", ["--kind", "deadline,expiry"], {"kinds": ("deadline", "expiry")}),
    (
        "2025-12-01",
        ["--kind", "expiry", "--kind", "Installment"],
        {"kinds": ("expiry", "installment")},
    ),
    ("2025-12-01", ["--kind", "deadline"], {"kinds": ("deadline",)}),
    ("2025-06-10", ["--overdue"], {"overdue": True}),
    ("2025-12-01", ["--overdue", "--authority", "us"], {"overdue": True, "authority": "us"}),
    (
        "2025-06-10",
        ["--overdue", "--kind", "installment", "--recipient", "Lebanon"],
        {"overdue": True, "kinds": ("installment",), "recipient": "Lebanon"},
    ),
    ("2026-07-01", ["--overdue"], {"overdue": True}),
]


@pytest.mark.parametrize(("as_of", "args", "rule"), CASES)
def test_deadlines_filters_match_the_rule_worked_out_by_hand(
    seeded: Run, as_of: str, args: list[str], rule: dict[str, Any]
) -> None:
    want = expected(D(as_of), **rule)
    assert want or "Qatar Fund" in args or "Lebanon" in args  # most cases list something
    rows = as_json(seeded, "deadlines", "--as-of", as_of, *args)
    assert listed(rows) == want
    out = seeded("deadlines", "--as-of", as_of, *args, "--format", "csv").out
    table = list(csv.DictReader(io.StringIO(out)))
    got = [(r["date"], r["kind"], r["record"], int(r["record_id"]), r["state"]) for r in table]
    assert got == want


def test_the_hand_made_answers_are_what_the_analyst_expects(seeded: Run) -> None:
    # A check of `expected` itself, so the comparison above cannot agree on nonsense.
    assert expected(D("2025-06-10")) == [
        ("2025-02-01", "expiry", "sanction", 6, "lapsed"),
        ("2025-03-01", "expiry", "sanction", 4, "lapsed"),
        ("2025-03-17", "installment", "pledge", 3, "overdue"),
        ("2025-04-27", "installment", "pledge", 2, "overdue"),
        ("2025-06-08", "installment", "pledge", 1, "overdue"),
        ("2025-06-17", "installment", "pledge", 3, "soon"),
        ("2025-06-20", "installment", "pledge", 4, "soon"),
        ("2025-07-08", "installment", "pledge", 1, "upcoming"),
    ]
    assert expected(D("2025-12-01"), authority="us") == [
        ("2025-11-19", "deadline", "sanction", 3, "lapsed"),
        ("2025-11-19", "expiry", "sanction", 3, "lapsed"),
    ]


def test_lapsed_dates_stay_however_long_ago_and_go_once_a_later_action_is_recorded(
    seeded: Run,
) -> None:
    rows = as_json(seeded, "deadlines", "--as-of", "2030-01-01", "--authority", "UK")
    assert [(r["date"], r["state"], r["days_left"]) for r in rows] == [
        ("2025-03-01", "lapsed", -1767),
    ]
    # An action announced on the day itself counts as later.
    amend = Act(8, "UK", "UK-SYR", announced=D("2025-03-01"))
    assert record_act(seeded, amend) == 8
    assert as_json(seeded, "deadlines", "--as-of", "2030-01-01", "--authority", "UK") == []
    assert listed(as_json(seeded, "deadlines", "--as-of", "2025-06-10")) == expected(
        D("2025-06-10"), acts=[*ACTS, amend]
    )
    # Voiding it brings the lapse back.
    assert seeded("void", "sanction", "8", "--reason", "entered in error").code == 0
    rows = as_json(seeded, "deadlines", "--as-of", "2030-01-01", "--authority", "UK")
    assert [r["record_id"] for r in rows] == [4]


def test_a_renewal_recorded_before_the_date_with_a_later_deadline_counts(run: Run) -> None:
    record_act(run, ACTS[0])  # EU renewal due 2025-06-01, no date of its own
    rows = as_json(run, "deadlines", "--as-of", "2025-06-10", "--overdue")
    assert listed(rows) == [("2025-06-01", "deadline", "sanction", 1, "lapsed")]
    # Renewed on 28 May, before the date, to 2026: the 2025 date needs no more attention.
    record_act(run, Act(2, "EU", "EU-SYR", announced=D("2025-05-28"), deadline=D("2026-06-01")))
    assert as_json(run, "deadlines", "--as-of", "2025-06-10", "--overdue") == []
    # The record's own later dates do not count for it: an action whose review deadline
    # passed stays lapsed though it expires later.
    assert added(run, "sanction", "add", "--authority", "CA", "--target", "SY", "--action",
                 "impose", "--effective", "2025-01-01", "--deadline", "2025-04-01",
                 "--expires", "2027-01-01") == 3  # fmt: skip
    rows = as_json(run, "deadlines", "--as-of", "2025-06-10", "--overdue")
    assert listed(rows) == [("2025-04-01", "deadline", "sanction", 3, "lapsed")]


def test_a_lapsed_date_before_a_later_action_was_known(run: Run) -> None:
    def at(day: str) -> Any:
        return time_machine.travel(datetime.fromisoformat(day).replace(tzinfo=UTC), tick=False)

    with at("2025-05-30T10:00"):
        record_act(run, ACTS[3])  # UK licence expiring 2025-03-01
    with at("2025-06-15T10:00"):
        record_act(run, Act(2, "UK", "UK-SYR", effective=D("2025-06-01")))
    before = as_json(run, "deadlines", "--known-on", "2025-06-01")
    assert listed(before) == [("2025-03-01", "expiry", "sanction", 1, "lapsed")]
    assert before[0]["days_left"] == -92  # counted from the --known-on day
    assert as_json(run, "deadlines", "--known-on", "2025-06-20") == []


def test_lapsed_items_show_in_the_table(seeded: Run) -> None:
    out = seeded("deadlines", "--as-of", "2025-12-01", "--kind", "deadline").out
    assert "-12 lapsed" in out and "180-day" not in out
    out = seeded("deadlines", "--as-of", "2025-12-01", "--authority", "UK").out
    assert "2025-03-01" in out and "-275 lapsed" in out


def test_filtered_deadlines_show_stored_text_as_data(seeded: Run) -> None:
    result = seeded("deadlines", "--as-of", "2025-06-10", "--donor", "[/bold]")
    assert result.code == 0, result.err
    assert "[/bold] → Syria" in result.out and "1,000,000.00" in result.out
    assert "Qatar" not in result.out and "EU-SYR" not in result.out
    out = seeded("deadlines", "--as-of", "2025-05-01", "--authority", "EU").out
    assert "EU regime renewal" in out and "\x1b" not in out


def test_deadlines_overdue_title_and_nothing_found(seeded: Run) -> None:
    result = seeded("deadlines", "--as-of", "2025-01-01", "--overdue")
    assert result.code == 0 and result.out == ""
    assert "Nothing overdue or lapsed as of 2025-01-01" in result.err
    assert (
        "Overdue and lapsed as of 2025-06-10"
        in seeded("deadlines", "--as-of", "2025-06-10", "--overdue").out
    )


def test_deadlines_filter_errors(seeded: Run) -> None:
    assert_error(seeded("deadlines", "--kind", "payment"), "--kind", "'payment'", "expiry")
    assert_error(seeded("deadlines", "--kind", "deadline,soon"), "--kind", "'soon'")


def test_deadlines_filters_with_conversion(seeded: Run) -> None:
    assert seeded("rate", "add", "USD", "EUR", "0.9", "--on", "2025-06-08").code == 0
    assert seeded("rate", "add", "USD", "EUR", "0.8", "--on", "2025-06-10").code == 0
    rows = as_json(seeded, "deadlines", "--as-of", "2025-06-10", "--donor", "Qatar",
                   "--in", "EUR", "--within", "30")  # fmt: skip
    assert [(r["date"], r["state"], r["converted"]) for r in rows] == [
        ("2025-06-08", "overdue", "26100000.00"),  # at its due date's rate
        ("2025-07-08", "upcoming", "23200000.00"),  # not yet due: at --as-of's rate
    ]


# --- --since and --until on totals and pledge list.


def pledged(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], Decimal]:
    return {
        (r["donor"], r["recipient"], r["currency"], r["total"]): Decimal(r["pledged"]) for r in rows
    }


def test_pledge_list_since_until_by_the_pledge_date(seeded: Run) -> None:
    # Dates: Qatar 2025-05-08, Saudi Arabia 2025-04-27, Germany none (first due 2025-03-17),
    # [/bold] 2025-06-20.
    dates = {1: "2025-05-08", 2: "2025-04-27", 3: "2025-03-17", 4: "2025-06-20"}

    def ids(*args: str) -> list[int]:
        return sorted(r["id"] for r in as_json(seeded, "pledge", "list", *args))

    def between(since: str | None, until: str | None) -> list[int]:
        return sorted(
            i for i, day in dates.items() if (since or "") <= day <= (until or "9999-12-31")
        )

    for since, until in [
        ("2025-03-17", None),
        ("2025-03-18", None),
        (None, "2025-03-17"),
        ("2025-04-27", "2025-05-08"),
        ("2025-05-09", "2025-06-19"),
        ("2025-06-20", "2025-06-20"),
    ]:
        args = [*(["--since", since] if since else []), *(["--until", until] if until else [])]
        assert ids(*args) == between(since, until), args
    assert ids("--since", "2025-04-01", "--recipient", "SYRIA") == [1, 2, 4]
    out = seeded("pledge", "list", "--since", "2025-06-01", "--format", "csv").out
    assert "[/bold]" in out and "Qatar" not in out


def test_totals_since_until_with_every_grouping(seeded: Run) -> None:
    rows = as_json(seeded, "totals", "--since", "2025-04-01", "--until", "2025-05-31")
    assert pledged(rows) == {
        ("Qatar", "Syria", "USD", False): Decimal("87000000.00"),
        ("Saudi Arabia", "Syria", "USD", False): Decimal("15000000.00"),
        (None, None, "USD", True): Decimal("102000000.00"),
    }
    by_month = as_json(seeded, "totals", "--by", "month", "--since", "2025-04-01",
                       "--until", "2025-05-31")  # fmt: skip
    # A kept pledge counts whole: Qatar's June and July installments are in.
    assert [(r["month"], r["pledged"], r["disbursed"]) for r in by_month] == [
        ("2025-04", "15000000.00", "0.00"),
        ("2025-05", "29000000.00", "29000000.00"),
        ("2025-06", "29000000.00", "0.00"),
        ("2025-07", "29000000.00", "0.00"),
        (None, "102000000.00", "29000000.00"),
    ]
    by_donor = as_json(seeded, "totals", "--by", "donor", "--until", "2025-03-31")
    assert [(r["donor"], r["currency"], r["pledged"]) for r in by_donor] == [
        ("Germany", "EUR", "300000000.00"),
        (None, "EUR", "300000000.00"),
    ]
    by_currency = as_json(seeded, "totals", "--by", "currency", "--since", "2025-06-01")
    assert [(r["currency"], r["pledges"], r["pledged"]) for r in by_currency] == [
        ("USD", 1, "1000000.00"),
    ]
    by_recipient = as_json(seeded, "totals", "--by", "recipient", "--since", "2025-05-01",
                           "--recipient", "syria")  # fmt: skip
    assert [(r["recipient"], r["pledges"], r["pledged"]) for r in by_recipient] == [
        ("Syria", 2, "88000000.00"),
        (None, 2, "88000000.00"),
    ]
    assert as_json(seeded, "totals", "--since", "2026-01-01") == []


def test_totals_since_until_converted(seeded: Run) -> None:
    for day in ("2025-03-17", "2025-06-17"):
        assert seeded("rate", "add", "EUR", "USD", "1.25", "--on", day).code == 0
    args = ("totals", "--in", "USD", "--until", "2025-03-31", "--rates-on", "2025-06-17")
    rows = as_json(seeded, *args)
    # Only Germany's EUR 300M, at 1.25: no USD pledge, and no rate for one is needed.
    assert [(r["donor"], r["currencies"], r["pledged"], r["outstanding"]) for r in rows] == [
        ("Germany", ["EUR"], "375000000.00", "375000000.00"),
        (None, ["EUR"], "375000000.00", "375000000.00"),
    ]
    working = as_json(seeded, *args, "--working")
    assert {(r["figure"], r["value_date"]) for r in working} == {
        ("pledged", "2025-03-17"),
        ("outstanding", "2025-03-17"),
        ("outstanding", "2025-06-17"),
    }


def test_since_after_until_is_an_error(seeded: Run) -> None:
    for command in (("totals",), ("pledge", "list")):
        assert_error(
            seeded(*command, "--since", "2025-06-01", "--until", "2025-05-31"),
            "--since",
            "2025-06-01 is after --until 2025-05-31",
        )
        assert_error(seeded(*command, "--since", "June"), "--since", "YYYY-MM-DD")


@pytest.fixture
def moved(run: Run) -> Iterator[Run]:
    """Qatar's pledge recorded on 2025-05-09 dated 2025-05-08, then redated to 2025-04-01
    on 2025-06-01."""

    def at(day: str) -> Any:
        return time_machine.travel(datetime.fromisoformat(day).replace(tzinfo=UTC), tick=False)

    with at("2025-05-09T10:00"):
        added(run, *QATAR)
    with at("2025-06-01T10:00"):
        result = run("pledge", "edit", "1", "--on", "2025-04-01", "--reason", "earlier")
        assert result.code == 0, result.err
    yield run


def test_since_until_use_the_pledge_date_as_known_on_a_day(moved: Run) -> None:
    may = ("--since", "2025-05-01", "--until", "2025-05-31")
    assert [
        r["id"] for r in as_json(moved, "pledge", "list", *may, "--known-on", "2025-05-20")
    ] == [1]
    assert as_json(moved, "pledge", "list", *may) == []
    [row, total] = as_json(moved, "totals", *may, "--known-on", "2025-05-20")
    assert row["pledged"] == total["pledged"] == "87000000.00"
    assert as_json(moved, "totals", *may) == []
    assert len(as_json(moved, "totals", "--until", "2025-04-01")) == 2

"""Provenance and history: sources with confidence, edits and voids, reports as known on a day."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine

from tests.conftest import Run, as_json

QATAR_URL = "https://example.org/finance-minister-2025-05-08"


def at(day: str, hour: int = 10) -> Any:
    """Run what follows as if it were that day (UTC)."""
    return time_machine.travel(
        datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC), tick=False
    )


def ok(run: Run, *args: str) -> str:
    result = run(*args)
    assert result.code == 0, result.err
    return result.out


def error(run: Run, *args: str) -> str:
    """The one error line of a command that must fail, writing nothing to stdout."""
    result = run(*args)
    assert result.code != 0
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.err
    return lines[0]


def counts(db_url: str) -> dict[str, int]:
    """Rows in every table of the database, history and changes included."""
    from sqlalchemy import func, select

    from fintrack.models import Base
    from fintrack.store import Database

    engine = Database(db_url).engine
    with engine.connect() as connection:
        return {
            name: int(connection.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


def totals(run: Run, *args: str) -> list[dict[str, Any]]:
    return [row for row in as_json(run, "totals", *args) if row["total"]]


# The revision history of Qatar's pledge, one step a day: (day, command).
STEPS = [
    ("2025-05-08", ["pledge", "add", "--donor", "Qatar", "--recipient", "Syria",
                    "--currency", "USD", "--each", "29M", "--installments", "3",
                    "--every", "month", "--first-due", "2025-06-01", "--on", "2025-05-08",
                    "--source", QATAR_URL, "--analyst", "ana"]),
    ("2025-05-20", ["pledge", "edit", "1", "--each", "25M", "--analyst", "ben",
                    "--reason", "finance ministry revised the monthly figure",
                    "--source", "https://example.org/revision"]),
    ("2025-06-05", ["pay", "1", "25M", "--on", "2025-06-03",
                    "--source", "https://example.org/transfer", "--confidence", "confirmed"]),
    ("2025-06-20", ["source", "link", "pledge", "1", "https://example.org/qatar-statement",
                    "--confidence", "confirmed", "--reason", "Qatar confirmed"]),
    ("2025-07-02", ["pledge", "edit", "1", "--installments", "4", "--each", "25M",
                    "--reason", "extended by a month"]),
    ("2025-07-10", ["void", "payment", "1", "--reason", "entered against the wrong pledge"]),
]  # fmt: skip


@pytest.fixture
def revised(run: Run) -> Iterator[None]:
    for day, args in STEPS:
        with at(day):
            ok(run, *args)
    yield


# (known on, pledged, disbursed, outstanding, pledged unconfirmed, disbursed unconfirmed)
KNOWN = [
    ("2025-05-08", "87000000.00", "0.00", "87000000.00", "87000000.00", "0.00"),
    ("2025-05-19", "87000000.00", "0.00", "87000000.00", "87000000.00", "0.00"),
    ("2025-05-20", "75000000.00", "0.00", "75000000.00", "75000000.00", "0.00"),
    ("2025-06-05", "75000000.00", "25000000.00", "50000000.00", "75000000.00", "0.00"),
    ("2025-06-20", "75000000.00", "25000000.00", "50000000.00", "0.00", "0.00"),
    ("2025-07-02", "100000000.00", "25000000.00", "75000000.00", "0.00", "0.00"),
    ("2025-07-10", "100000000.00", "0.00", "100000000.00", "0.00", "0.00"),
]


@pytest.mark.parametrize(("day", "pledged", "disbursed", "outstanding", "unsure", "unpaid"), KNOWN)
def test_totals_replay_the_revision_history_as_known_on_each_day(
    run: Run,
    revised: None,
    day: str,
    pledged: str,
    disbursed: str,
    outstanding: str,
    unsure: str,
    unpaid: str,
) -> None:
    [total] = totals(run, "--known-on", day)
    assert (
        total["pledged"],
        total["disbursed"],
        total["outstanding"],
        total["pledged_unconfirmed"],
        total["disbursed_unconfirmed"],
    ) == (pledged, disbursed, outstanding, unsure, unpaid)


def test_before_the_first_record_nothing_is_known(run: Run, revised: None) -> None:
    assert as_json(run, "totals", "--known-on", "2025-05-07") == []
    assert as_json(run, "pledge", "list", "--known-on", "2025-05-07") == []
    assert error(run, "pledge", "show", "1", "--known-on", "2025-05-07") == (
        "Error: pledge 1 was not yet recorded on 2025-05-07"
    )


def test_today_shows_the_latest_state(run: Run, revised: None) -> None:
    assert totals(run) == totals(run, "--known-on", "2025-07-10")
    shown = as_json(run, "pledge", "show", "1")
    assert [(i["seq"], i["amount"]) for i in shown["installments"]] == [
        (1, "25000000.00"),
        (2, "25000000.00"),
        (3, "25000000.00"),
        (4, "25000000.00"),
    ]
    assert shown["disbursements"] == []  # the voided payment is no longer listed
    assert shown["confidence"] == "confirmed"


def test_pledge_show_and_deadlines_as_known_before_the_revision(run: Run, revised: None) -> None:
    shown = as_json(run, "pledge", "show", "1", "--known-on", "2025-05-19")
    assert shown["pledged"] == "87000000.00"
    assert [i["amount"] for i in shown["installments"]] == ["29000000.00"] * 3
    assert [s["url"] for s in shown["sources"]] == [QATAR_URL]
    rows = as_json(run, "deadlines", "--known-on", "2025-05-19", "--within", "90")
    installments = [(r["date"], r["amount"]) for r in rows if r["kind"] == "installment"]
    assert installments == [
        ("2025-06-01", "29000000.00"),
        ("2025-07-01", "29000000.00"),
        ("2025-08-01", "29000000.00"),
    ]
    # Days are counted from the day known on, unless --as-of says otherwise.
    assert rows[0]["days_left"] == 13
    paid = as_json(run, "pledge", "show", "1", "--known-on", "2025-06-05")["disbursements"]
    assert [(d["amount"], d["confidence"]) for d in paid] == [("25000000.00", "confirmed")]


def test_min_confidence_counts_only_what_is_sure_enough(run: Run, revised: None) -> None:
    # Before Qatar confirmed, the pledge rested on reports alone.
    assert totals(run, "--known-on", "2025-06-05", "--min-confidence", "confirmed") == []
    [reported] = totals(run, "--known-on", "2025-06-05", "--min-confidence", "reported")
    assert reported["pledged"] == "75000000.00"
    [confirmed] = totals(run, "--known-on", "2025-06-20", "--min-confidence", "confirmed")
    assert (confirmed["pledged"], confirmed["disbursed"]) == ("75000000.00", "25000000.00")


def test_history_says_when_who_what_and_why(run: Run, revised: None) -> None:
    history = as_json(run, "history", "pledge", "1")
    seen = {(row["what"], row["field"], row["from"], row["to"]) for row in history}
    assert ("pledge 1", "amount", "USD 87,000,000.00", "USD 75,000,000.00") in seen
    assert ("installment 1", "amount", "USD 29,000,000.00", "USD 25,000,000.00") in seen
    assert ("installment 4", "added", "", "due 2025-09-01, USD 25,000,000.00") in seen
    assert ("pledge 1", "amount", "USD 75,000,000.00", "USD 100,000,000.00") in seen
    assert ("pledge 1", "status", "pledge", "paid") not in seen
    revision = [row for row in history if row["from"] == "USD 87,000,000.00"]
    assert [(r["analyst"], r["reason"], r["at"]) for r in revision] == [
        ("ben", "finance ministry revised the monthly figure", "2025-05-20T10:00:00Z")
    ]
    assert revision[0]["command"].startswith("fintrack pledge edit 1 --each 25M")
    payment = [row for row in history if row["what"] == "payment 1"]
    assert [(r["field"], r["at"][:10]) for r in payment] == [
        ("added", "2025-06-05"),
        ("voided", "2025-07-10"),
    ]
    assert payment[1]["reason"] == "entered against the wrong pledge"
    linked = [row for row in history if row["to"] == "confirmed"]
    assert [(r["field"], r["reason"]) for r in linked] == [("added", "Qatar confirmed")]
    # In the order the changes were made.
    assert [row["at"] for row in history] == sorted(row["at"] for row in history)
    assert history[0]["analyst"] == "ana"


def test_no_command_removes_history(run: Run, db_url: str) -> None:
    """Every step only adds: no history row, change or record is ever deleted."""
    with at("2025-05-01"):
        ok(run, "db", "upgrade")
    before = counts(db_url)
    steps = [
        *STEPS,
        ("2025-07-11", ["sanction", "add", "--authority", "EU", "--target", "SY",
                        "--action", "suspend", "--measure", "energy", "--measure", "banking"]),
        ("2025-07-12", ["sanction", "edit", "1", "--measure", "energy", "--reason", "banking kept"]),
        ("2025-07-13", ["void", "sanction", "1", "--reason", "duplicate"]),
        ("2025-07-14", ["void", "pledge", "1", "--reason", "withdrawn"]),
    ]  # fmt: skip
    removable = {"sanction_measures", "installments"}  # their past versions are kept
    for day, args in steps:
        with at(day):
            ok(run, *args)
        after = counts(db_url)
        for table, count in before.items():
            if table not in removable:
                assert after[table] >= count, (args, table)
        before = after
    assert before["sanction_measures_history"] == 1  # banking, removed by the edit
    assert before["sanction_actions"] == 1 and before["pledges"] == 1  # voided, not deleted
    history = as_json(run, "history", "sanction", "1")
    assert ("measure", "removed", "banking") in {
        (row["what"], row["field"], row["from"]) for row in history
    }
    assert as_json(run, "sanction", "show", "1")["voided"] == "2025-07-13T10:00:00Z"


def test_a_voided_record_leaves_lists_and_reports_but_not_the_past(run: Run) -> None:
    with at("2025-05-08"):
        ok(run, "sanction", "add", "--authority", "EU", "--program", "EU-SYR", "--target", "SY",
           "--action", "extend", "--deadline", "2025-06-01", "--expires", "2025-06-01")  # fmt: skip
        ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency",
           "USD", "--amount", "87M", "--on", "2025-05-08")  # fmt: skip
    with at("2025-05-10"):
        ok(run, "void", "sanction", "1", "--reason", "entered twice")
        ok(run, "void", "pledge", "1", "--reason", "entered twice")
    assert as_json(run, "sanction", "list") == []
    assert as_json(run, "pledge", "list") == []
    assert as_json(run, "totals") == []
    assert as_json(run, "deadlines", "--as-of", "2025-05-08") == []
    assert as_json(run, "pledge", "show", "1")["voided"] == "2025-05-10T10:00:00Z"
    assert [r["id"] for r in as_json(run, "sanction", "list", "--known-on", "2025-05-09")] == [1]
    rows = as_json(run, "deadlines", "--known-on", "2025-05-09")
    assert {r["kind"] for r in rows} == {"deadline", "expiry", "installment"}
    assert error(run, "void", "pledge", "1", "--reason", "again") == (
        "Error: pledge 1 was voided on 2025-05-10; a voided record cannot be voided again "
        "(see fintrack history pledge 1)"
    )
    assert "cannot be edited" in error(run, "pledge", "edit", "1", "--amount", "1M")
    assert "cannot take payments" in error(run, "pay", "1", "1M", "--on", "2025-05-11")
    assert "cannot be edited" in error(run, "sanction", "edit", "1", "--status", "expired")


def test_voiding_a_replacement_counts_the_replaced_pledge_again(run: Run) -> None:
    ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
       "--amount", "87M", "--on", "2025-05-08")  # fmt: skip
    ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
       "--amount", "90M", "--on", "2025-05-09", "--replaces", "1")  # fmt: skip
    assert [t["pledged"] for t in totals(run)] == ["90000000.00"]
    assert "already replaced by pledge 2" in error(
        run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
        "--amount", "95M", "--on", "2025-05-10", "--replaces", "1",
    )  # fmt: skip
    ok(run, "void", "pledge", "2", "--reason", "the commitment was never made")
    assert [t["pledged"] for t in totals(run)] == ["87000000.00"]
    # With its replacement voided, the pledge can be replaced again.
    ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
       "--amount", "95M", "--on", "2025-05-10", "--replaces", "1")  # fmt: skip
    assert [t["pledged"] for t in totals(run)] == ["95000000.00"]
    assert [(p["id"], p["replaced_by"]) for p in as_json(run, "pledge", "list")] == [
        (1, 3),
        (3, None),
    ]


def test_sanction_edit_keeps_what_was_known_before(run: Run) -> None:
    with at("2025-05-08"):
        ok(run, "sanction", "add", "--authority", "EU", "--program", "EU-SYR", "--target", "SY",
           "--action", "extend", "--measure", "energy", "--measure", "banking",
           "--expires", "2025-06-01", "--effective", "2024-06-01")  # fmt: skip
    with at("2025-05-28"):
        ok(run, "sanction", "edit", "1", "--expires", "2026-06-01", "--measure", "arms embargo",
           "--reason", "renewed", "--source", "https://example.org/renewal",
           "--confidence", "confirmed")  # fmt: skip
    [old] = as_json(run, "sanction", "list", "--known-on", "2025-05-27")
    [new] = as_json(run, "sanction", "list")
    assert (old["expires"], old["measures"], old["confidence"]) == (
        "2025-06-01",
        ["energy", "banking"],
        "unverified",
    )
    assert (new["expires"], new["measures"], new["confidence"]) == (
        "2026-06-01",
        ["arms embargo"],
        "confirmed",
    )
    assert [r["date"] for r in as_json(run, "deadlines", "--known-on", "2025-05-27")] == [
        "2025-06-01"
    ]
    assert as_json(run, "deadlines", "--as-of", "2025-05-27") == []
    fields = {(r["field"], r["from"], r["to"]) for r in as_json(run, "history", "sanction", "1")}
    assert ("expires", "2025-06-01", "2026-06-01") in fields
    assert ("removed", "banking", "") in fields and ("added", "", "arms embargo") in fields
    # Clearing a date, and an edit that changes nothing.
    ok(run, "sanction", "edit", "1", "--expires", "")
    assert as_json(run, "sanction", "show", "1")["expires"] is None
    result = run("sanction", "edit", "1", "--status", "in-force")
    assert result.code == 0 and "Nothing to change" in result.err


def test_an_edit_that_changes_nothing_leaves_no_change(run: Run, db_url: str) -> None:
    ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
       "--each", "29M", "--installments", "3", "--every", "month", "--on", "2025-05-08")  # fmt: skip
    before = counts(db_url)
    result = run("pledge", "edit", "1", "--each", "29M")
    assert (result.code, result.err.strip()) == (
        0,
        "Nothing to change: pledge 1 already has these values",
    )
    assert counts(db_url) == before


def test_schedule_edits_keep_payments_on_their_installments(run: Run, db_url: str) -> None:
    ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
       "--each", "29M", "--installments", "3", "--every", "month", "--first-due",
       "2025-06-01")  # fmt: skip
    ok(run, "pay", "1", "29M", "--on", "2025-06-02")
    before = counts(db_url)
    assert "installment 1 of pledge 1 has USD 29,000,000.00 paid" in error(
        run, "pledge", "edit", "1", "--each", "25M"
    )
    assert "give --amount TOTAL or --each AMOUNT too" in error(
        run, "pledge", "edit", "1", "--installments", "2"
    )
    assert "currency cannot change" in error(
        run, "pledge", "edit", "1", "--currency", "EUR", "--amount", "1M"
    )
    assert counts(db_url) == before
    ok(run, "pledge", "edit", "1", "--installments", "2", "--amount", "60M")
    shown = as_json(run, "pledge", "show", "1")
    assert [(i["due"], i["amount"], i["paid"]) for i in shown["installments"]] == [
        ("2025-06-01", "30000000.00", "29000000.00"),
        ("2025-07-01", "30000000.00", "0.00"),
    ]
    ok(run, "pledge", "edit", "1", "--first-due", "2025-06-15", "--every", "week")
    shown = as_json(run, "pledge", "show", "1")
    assert [i["due"] for i in shown["installments"]] == ["2025-06-15", "2025-06-22"]
    assert shown["schedule_assumed"] is False


def test_sources_add_list_show_and_reuse(run: Run, db_url: str) -> None:
    source_id = ok(
        run, "source", "add", "--title", "UAE statement", "--publisher", "UAE MFA",
        "--published", "2025-05-08", "--retrieved", "2025-05-09",
    ).strip()  # fmt: skip
    assert source_id == "1"
    ok(run, "claim", "add", "--subject", "UAE back channel", "--statement", "A back channel.",
       "--on", "2025-05-07", "--source", "https://example.org/report")  # fmt: skip
    ok(run, "source", "link", "claim", "1", "1", "--confidence", "denied")
    [claim] = as_json(run, "claim", "list")
    assert claim["confidence"] == "denied"
    assert as_json(run, "claim", "list", "--min-confidence", "reported") == []
    # The same URL given again is the same source.
    ok(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
       "--amount", "1M", "--on", "2025-05-08", "--source", "https://example.org/report",
       "--source", "#1", "--confidence", "confirmed")  # fmt: skip
    sources = as_json(run, "source", "list")
    assert [(s["id"], s["url"], s["title"], s["links"]) for s in sources] == [
        (1, None, "UAE statement", 2),
        (2, "https://example.org/report", None, 2),
    ]
    shown = as_json(run, "source", "show", "1")
    assert (shown["publisher"], shown["published"], shown["retrieved"]) == (
        "UAE MFA",
        "2025-05-08",
        "2025-05-09",
    )
    assert shown["records"] == [
        {"kind": "claim", "record_id": 1, "confidence": "denied"},
        {"kind": "pledge", "record_id": 1, "confidence": "confirmed"},
    ]
    assert as_json(run, "pledge", "list", "--min-confidence", "confirmed")[0]["id"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["source", "add"], "Error: --url: give the source's --url, its --title, or both"),
        (["source", "add", "--url", "example.org"],
         "Error: --url: 'example.org' is not a web address (http:// or https://)"),
        (["source", "add", "--url", "https://example.org/a"],
         "Error: --url: 'https://example.org/a' is already source 1"),
        (["source", "add", "--title", "T", "--published", "2025-05-08", "--retrieved",
          "2025-05-01"], "Error: --retrieved: 2025-05-01 is before --published 2025-05-08"),
        (["pledge", "add", "--donor", "Q", "--recipient", "S", "--currency", "USD", "--amount",
          "1M", "--on", "2025-05-08", "--source", "99"], "Error: no source with id 99"),
        (["pledge", "add", "--donor", "Q", "--recipient", "S", "--currency", "USD", "--amount",
          "1M", "--on", "2025-05-08", "--source", "a report"],
         "Error: --source: 'a report' is neither a URL nor a source id; for a source without "
         "a URL, run fintrack source add --title ... and give its id"),
        (["pledge", "add", "--donor", "Q", "--recipient", "S", "--currency", "USD", "--amount",
          "1M", "--on", "2025-05-08", "--confidence", "likely"],
         "Error: --confidence: 'likely' is not one of confirmed, reported, unverified, denied"),
        (["source", "link", "pledge", "1", "1"], "Error: no pledge with id 1"),
        (["source", "link", "budget", "1", "1"],
         "Error: KIND: 'budget' is not one of sanction, pledge, payment, claim"),
        (["void", "pledge", "1", "--reason", " "],
         "Error: --reason: must not be empty: say why the record is voided"),
        (["void", "payment", "3", "--reason", "x"], "Error: no payment with id 3"),
        (["history", "claim", "5"], "Error: no claim with id 5"),
        (["pledge", "edit", "1"], "Error: edit: give at least one field to change (see --help)"),
        (["sanction", "edit", "7", "--status", "expired"], "Error: no sanction action with id 7"),
        (["totals", "--known-on", "May 8"],
         "Error: --known-on: 'May 8' is not a date; use YYYY-MM-DD, such as 2025-06-01"),
        (["totals", "--min-confidence", "denied"], "Error: --min-confidence: use confirmed or reported"),
    ],
)  # fmt: skip
def test_bad_input_is_one_error_line_and_writes_nothing(
    run: Run, db_url: str, args: list[str], message: str
) -> None:
    ok(run, "source", "add", "--url", "https://example.org/a")
    before = counts(db_url)
    assert error(run, *args) == message
    assert counts(db_url) == before


def test_the_analyst_defaults_to_the_environment_then_the_login(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    monkeypatch.setenv("FINTRACK_ANALYST", "desk-3")
    ok(run, "pledge", "add", "--donor", "Q", "--recipient", "S", "--currency", "USD",
       "--amount", "1M", "--on", "2025-05-08")  # fmt: skip
    monkeypatch.delenv("FINTRACK_ANALYST")
    ok(run, "pledge", "edit", "1", "--amount", "2M")
    ok(run, "pledge", "edit", "1", "--amount", "3M", "--analyst", "cat")
    who = [row["analyst"] for row in as_json(run, "history", "pledge", "1")
           if row["what"] == "pledge 1"]  # fmt: skip
    assert who == ["desk-3", getpass.getuser(), "cat"]


def test_a_password_in_the_command_line_stays_out_of_the_history(run: Run, db_url: str) -> None:
    from fintrack.store import mask_url

    ok(run, "--db", db_url, "pledge", "add", "--donor", "Q", "--recipient", "S",
       "--currency", "USD", "--amount", "1M", "--on", "2025-05-08")  # fmt: skip
    [recorded, *_] = as_json(run, "history", "pledge", "1")
    assert mask_url(db_url) in recorded["command"]
    if "@" in db_url and ":" in db_url.split("@")[0].split("//")[1]:
        password = db_url.split("@")[0].split(":")[-1]
        assert password not in recorded["command"]


def test_seeded_records_carry_sources_and_the_denied_claim(run: Run) -> None:
    ok(run, "seed")
    actions = as_json(run, "sanction", "list")
    assert all(a["confidence"] in ("confirmed", "reported") for a in actions)
    confirmed = as_json(run, "sanction", "list", "--min-confidence", "confirmed")
    assert {a["legal_ref"] for a in confirmed} == {
        "OFAC Syria General License 24",
        "OFAC Syria General License 25",
        "Council Decision (CFSP) 2025/406; Council Regulation (EU) 2025/407",
        "Council Decision 2013/255/CFSP",
    }
    [claim] = as_json(run, "claim", "list")
    assert (claim["subject"], claim["confidence"]) == (
        "UAE back channel between Syria and Israel",
        "denied",
    )
    cited = as_json(run, "claim", "show", str(claim["id"]))["sources"]
    assert [s["confidence"] for s in cited] == ["denied", "reported"]
    [qatar] = totals(run)
    assert (qatar["pledged"], qatar["pledged_unconfirmed"]) == ("87000000.00", "87000000.00")
    assert totals(run, "--min-confidence", "confirmed") == []


def test_converted_totals_known_on_a_day_use_the_rates_known_then(run: Run) -> None:
    with at("2025-05-08"):
        ok(run, "pledge", "add", "--donor", "EU", "--recipient", "Syria", "--currency", "EUR",
           "--amount", "10M", "--on", "2025-05-08")  # fmt: skip
        ok(run, "rate", "add", "EUR", "USD", "1.1275", "--on", "2025-05-08")
    with at("2025-05-20"):
        ok(run, "rate", "add", "EUR", "USD", "1.1300", "--on", "2025-05-07")
        ok(run, "rate", "add", "EUR", "USD", "1.2000", "--on", "2025-05-08", "--replace")
    [then] = totals(run, "--in", "USD", "--known-on", "2025-05-10")
    assert then["pledged"] == "11275000.00"
    [now] = totals(run, "--in", "USD")
    assert now["pledged"] == "12000000.00"
    then_rates = as_json(run, "rate", "list", "--known-on", "2025-05-10")
    assert [(r["on"], r["rate"]) for r in then_rates] == [("2025-05-08", "1.1275")]
    assert [(r["on"], r["rate"]) for r in as_json(run, "rate", "list")] == [
        ("2025-05-07", "1.13"),
        ("2025-05-08", "1.2"),
    ]


def test_deadlines_say_how_sure_each_record_is(run: Run) -> None:
    ok(run, "seed")
    rows = as_json(run, "deadlines", "--as-of", "2025-05-08", "--within", "31")
    assert [(r["date"], r["record"], r["confidence"]) for r in rows] == [
        ("2025-05-08", "pledge", "reported"),
        ("2025-06-01", "sanction", "confirmed"),  # the EU regime's renewal date (EUR-Lex)
        ("2025-06-01", "sanction", "reported"),  # France's push, from the news report
        ("2025-06-08", "pledge", "reported"),
    ]
    assert [r["date"] for r in as_json(
        run, "deadlines", "--as-of", "2025-05-08", "--within", "30", "--min-confidence", "confirmed"
    )] == ["2025-06-01"]  # fmt: skip

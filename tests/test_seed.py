"""The founding case: `fintrack seed`, then the totals and deadlines the README promises."""

import json
from pathlib import Path

from tests.conftest import Run, as_json, assert_error, row_counts

SEEDED = "13 sanction actions, 1 pledge, 1 claim and 13 sources added, 0 records already present"
# Every [[source]] of seed/sources.toml, and the sources entries of the records that cite them.
SOURCES, LINKS = 13, 17


def test_seed_then_totals_show_qatar_to_syria(run: Run) -> None:
    result = run("seed")
    assert result.code == 0
    assert result.err.startswith("Seeded ")
    assert result.err.strip().endswith(f": {SEEDED}")
    table = run("totals").out
    assert "Qatar" in table and "Syria" in table and "USD" in table and "87,000,000.00" in table
    rows = json.loads(run("totals", "--format", "json").out)
    assert rows[0] == {
        "donor": "Qatar",
        "recipient": "Syria",
        "currency": "USD",
        "pledges": 1,
        "pledged": "87000000.00",
        "disbursed": "0.00",
        "outstanding": "87000000.00",
        "fulfilled_pct": "0.0",
        "pledged_unconfirmed": "87000000.00",  # the pledge is reported, not confirmed
        "disbursed_unconfirmed": "0.00",
        "total": False,
    }


def test_seed_then_deadlines_as_of_8_may_2025(run: Run) -> None:
    assert run("seed").code == 0
    rows = json.loads(run("deadlines", "--as-of", "2025-05-08", "--format", "json").out)
    eu = [r for r in rows if r["kind"] == "deadline" and "2013/255/CFSP" in r["detail"]]
    assert [(r["date"], r["days_left"], r["subject"]) for r in eu] == [
        ("2025-06-01", 24, "EU EU-SYR")
    ]
    qatar = [r for r in rows if r["kind"] == "installment"]
    assert [(r["date"], r["days_left"], r["amount"], r["currency"]) for r in qatar] == [
        ("2025-05-08", 0, "29000000.00", "USD"),
        ("2025-06-08", 31, "29000000.00", "USD"),
        ("2025-07-08", 61, "29000000.00", "USD"),
    ]
    assert all("(date assumed)" in r["detail"] for r in qatar)
    france = [r for r in rows if "France" in r["detail"]]
    assert [(r["date"], r["days_left"]) for r in france] == [("2025-06-01", 24)]
    table = run("deadlines", "--as-of", "2025-05-08").out
    assert "2025-06-01" in table and " 24 " in table and "Qatar → Syria" in table


def test_seed_records_all_carry_a_source_and_the_pledge_says_its_schedule_is_assumed(
    run: Run,
) -> None:
    assert run("seed").code == 0
    sanctions = json.loads(run("sanction", "list", "--format", "json").out)
    assert len(sanctions) == 13
    assert all(s["ref"].startswith("seed:") for s in sanctions)
    for listed in sanctions:
        shown = as_json(run, "sanction", "show", str(listed["id"]))
        assert shown["sources"], listed["ref"]
        # Its standing is the best confidence among its sources, all of them confirmed or
        # reported in the seed.
        assert shown["confidence"] == listed["confidence"] == shown["sources"][0]["confidence"]
        assert listed["confidence"] in ("confirmed", "reported"), listed["ref"]
    eu_feb = next(s for s in sanctions if s["ref"] == "seed:eu-2025-406-suspension")
    assert (eu_feb["action"], eu_feb["effective"], eu_feb["status"]) == (
        "suspend",
        "2025-02-24",
        "in-force",
    )
    assert eu_feb["measures"] == ["energy", "transport", "banking", "asset freeze"]
    eu_feb_sources = as_json(run, "sanction", "show", str(eu_feb["id"]))["sources"]
    assert [s["confidence"] for s in eu_feb_sources] == ["confirmed"] * 2
    (qatar,) = json.loads(run("pledge", "list", "--format", "json").out)
    assert qatar["schedule_assumed"] is True and qatar["confidence"] == "reported"
    assert qatar["installments"] == 3
    assert [s["confidence"] for s in as_json(run, "pledge", "show", "1")["sources"]] == ["reported"]
    sources = as_json(run, "source", "list")
    assert len(sources) == SOURCES
    assert all(source["links"] >= 1 for source in sources)  # every source is cited
    assert sum(source["links"] for source in sources) == LINKS


def test_seed_loads_the_uae_claim_reported_and_denied(run: Run) -> None:
    assert run("seed").code == 0
    (claim,) = as_json(run, "claim", "list")
    assert (claim["ref"], claim["stated"], claim["confidence"]) == (
        "seed:uae-back-channel-2025-05",
        "2025-05-07",
        "denied",  # a denial outweighs a report that nobody confirmed
    )
    assert "UAE" in claim["subject"]
    shown = as_json(run, "claim", "show", str(claim["id"]))
    assert sorted(s["confidence"] for s in shown["sources"]) == ["denied", "reported"]


def test_seed_twice_adds_nothing(run: Run, db_path: Path) -> None:
    assert run("seed").code == 0
    counts = row_counts(db_path)
    assert (counts["sources"], counts["source_links"], counts["claims"]) == (SOURCES, LINKS, 1)
    second = run("seed")
    assert second.code == 0
    assert second.err.strip().endswith(
        ": 0 sanction actions, 0 pledges, 0 claims and 0 sources added, 15 records already present"
    )
    # Nothing is written, not even a change: a change that changes nothing leaves no trace.
    assert row_counts(db_path) == counts


def test_a_bad_seed_file_writes_nothing(run: Run, tmp_path: Path, db_path: Path) -> None:
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "a.toml").write_text(
        '[[pledge]]\nref = "ok"\ndonor = "A"\nrecipient = "B"\ncurrency = "USD"\n'
        'amount = "10"\non = 2025-01-01\n'
    )
    (folder / "b.toml").write_text(
        '[[pledge]]\nref = "bad"\ndonor = "A"\nrecipient = "B"\ncurrency = "ZZZ"\n'
        'amount = "10"\non = 2025-01-01\n'
    )
    assert run("db", "upgrade").code == 0
    before = row_counts(db_path)
    assert_error(run("seed", "--folder", str(folder)), "b.toml pledge bad", "'ZZZ'")
    assert row_counts(db_path) == before


def test_seed_file_errors(run: Run, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_error(run("seed", "--folder", str(empty)), "no .toml files")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "x.toml").write_text("[[pledge]\n")
    assert_error(run("seed", "--folder", str(broken)), "x.toml", "not valid TOML")
    (broken / "x.toml").write_text('[[pledge]]\nref = "r"\ncolour = "blue"\n')
    assert_error(run("seed", "--folder", str(broken)), "colour", "is not a field of a pledge")
    (broken / "x.toml").write_text('[[grant]]\nref = "r"\n')
    assert_error(run("seed", "--folder", str(broken)), "unknown table 'grant'")
    (broken / "x.toml").write_text('[[sanction]]\nauthority = "EU"\n')
    assert_error(run("seed", "--folder", str(broken)), "needs a ref")


def test_a_seed_source_without_url_or_title_is_refused(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "a.toml").write_text(
        '[[source]]\nkey = "web"\nurl = "https://example.org/a"\n\n'
        '[[source]]\nkey = "nameless"\npublisher = "Somebody"\n\n'
        '[[pledge]]\nref = "p"\ndonor = "A"\nrecipient = "B"\ncurrency = "USD"\n'
        'amount = "10"\non = 2025-01-01\n'
        'sources = [{ source = "nameless", confidence = "confirmed" }]\n'
    )
    # As `fintrack source add` would: a source needs a URL, a title, or both. It must not
    # become https://example.org/a, which then "confirms" a pledge it never spoke for.
    assert_error(run("seed", "--folder", str(folder)), "nameless", "url, its title, or both")

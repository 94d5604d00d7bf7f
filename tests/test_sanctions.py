"""`fintrack sanction add`, `list` and `show`: every option, each filter, exact CSV and JSON."""

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EMPTY, Run, added, as_json, assert_error, row_counts

HEADER = (
    "id,authority,program,target,action,measures,status,announced,effective,expires,"
    "deadline,deadline_label,legal_ref,summary,confidence,ref,voided"
)
KINDS = [
    "impose", "extend", "amend", "suspend", "ease", "licence", "waiver", "delist", "lift",
    "expire",
]  # fmt: skip
EU_SUSPEND = (
    "--authority", "EU", "--program", "EU-SYR", "--target", "SY", "--action", "suspend",
    "--measure", "energy", "--measure", "transport", "--effective", "2025-02-24",
    "--legal-ref", "Regulation (EU) 2025/407", "--deadline", "2025-06-01",
    "--deadline-label", "regime lapses unless renewed", "--ref", "eu-suspend",
)  # fmt: skip
MINIMAL = ("--authority", "US", "--target", "SY", "--action", "ease")


def add(run: Run, *args: str) -> int:
    return added(run, "sanction", "add", *args)


def shown(run: Run, sanction_id: int) -> dict[str, Any]:
    data: dict[str, Any] = as_json(run, "sanction", "show", str(sanction_id))
    return data


def listed_ids(run: Run, *filters: str) -> list[int]:
    rows = as_json(run, "sanction", "list", *filters)
    return [row["id"] for row in rows]


def record(**fields: Any) -> dict[str, Any]:
    """A sanction action as `list --format json` gives it: every key, None unless given
    (and unverified: no source). `show` adds its `sources`."""
    base: dict[str, Any] = {
        "id": 1,
        "authority": "US",
        "program": None,
        "target": "SY",
        "action": "ease",
        "measures": [],
        "status": "announced",
        "announced": None,
        "effective": None,
        "expires": None,
        "deadline": None,
        "deadline_label": None,
        "legal_ref": None,
        "summary": None,
        "confidence": "unverified",
        "ref": None,
        "voided": None,
    }
    assert set(fields) <= set(base), set(fields) - set(base)
    return {**base, **fields}


def cited(source_id: int, url: str, confidence: str = "reported") -> dict[str, Any]:
    """A source in the `sources` list of `show --format json`, known by its URL alone."""
    return {
        "id": source_id,
        "confidence": confidence,
        "publisher": None,
        "title": None,
        "url": url,
        "published": None,
    }


# --- add ---------------------------------------------------------------------------------


def test_add_prints_the_new_id_alone_on_stdout_and_a_message_on_stderr(run: Run) -> None:
    result = run("sanction", "add", *EU_SUSPEND)
    assert result.code == 0
    assert result.out == "1\n"
    assert result.err.strip() == "Added sanction action 1: EU suspend on SY"

    second = run("sanction", "add", *MINIMAL)
    assert second.code == 0
    assert second.out == "2\n"
    assert second.err.strip() == "Added sanction action 2: US ease on SY"


def test_add_stores_every_option(run: Run, db_path: Path) -> None:
    sanction_id = add(
        run,
        "--authority", "EU", "--program", "EU-SYR", "--target", "SY", "--action", "suspend",
        "--measure", "energy", "-m", "transport", "--announced", "2025-02-20",
        "--effective", "2025-02-24", "--expires", "2026-06-01", "--deadline", "2025-06-01",
        "--deadline-label", "regime lapses unless renewed", "--status", "in-force",
        "--legal-ref", "Regulation (EU) 2025/407", "--summary", "Suspends energy and transport",
        "--source", "https://eur-lex.europa.eu/eli/reg/2025/407/oj", "--confidence", "confirmed",
        "--source", "https://www.consilium.europa.eu/", "--ref", "eu-2025-407",
    )  # fmt: skip
    assert sanction_id == 1
    assert shown(run, 1) == {
        **record(
            authority="EU",
            program="EU-SYR",
            target="SY",
            action="suspend",
            measures=["energy", "transport"],
            status="in-force",
            announced="2025-02-20",
            effective="2025-02-24",
            expires="2026-06-01",
            deadline="2025-06-01",
            deadline_label="regime lapses unless renewed",
            legal_ref="Regulation (EU) 2025/407",
            summary="Suspends energy and transport",
            confidence="confirmed",  # both sources take --confidence confirmed
            ref="eu-2025-407",
        ),
        "sources": [
            cited(1, "https://eur-lex.europa.eu/eli/reg/2025/407/oj", "confirmed"),
            cited(2, "https://www.consilium.europa.eu/", "confirmed"),
        ],
    }
    assert row_counts(db_path) == {
        **EMPTY,
        "sanction_actions": 1,
        "sanction_measures": 2,
        "sources": 2,
        "source_links": 2,
        "changes": EMPTY["changes"] + 1,  # the add, in one change
    }


def test_add_with_only_the_required_options_leaves_the_rest_empty(run: Run) -> None:
    assert add(run, *MINIMAL) == 1
    assert shown(run, 1) == {**record(), "sources": []}


@pytest.mark.parametrize("kind", KINDS)
def test_add_accepts_every_action_kind(run: Run, kind: str) -> None:
    add(run, "--authority", "UN", "--target", "SY", "--action", kind)
    assert shown(run, 1)["action"] == kind


@pytest.mark.parametrize(
    ("given", "stored"),
    [("license", "licence"), ("LICENSE", "licence"), ("Licence", "licence"), ("renew", "extend")],
)
def test_add_action_aliases_and_case(run: Run, given: str, stored: str) -> None:
    add(run, "--authority", "US", "--target", "SY", "--action", given)
    assert shown(run, 1)["action"] == stored


def test_measures_repeat_keep_order_lowercase_and_drop_duplicates(run: Run, db_path: Path) -> None:
    add(
        run, *MINIMAL, "-m", "Energy", "--measure", "asset  freeze", "-m", "ENERGY", "-m", "banking"
    )
    assert shown(run, 1)["measures"] == ["energy", "asset freeze", "banking"]
    assert row_counts(db_path)["sanction_measures"] == 3


def test_status_defaults_to_in_force_when_effective_is_given(run: Run) -> None:
    add(run, *MINIMAL, "--effective", "2025-05-23")
    assert shown(run, 1)["status"] == "in-force"
    assert shown(run, 1)["effective"] == "2025-05-23"


def test_status_defaults_to_announced_without_effective(run: Run) -> None:
    add(run, *MINIMAL, "--announced", "2025-05-13")
    assert shown(run, 1)["status"] == "announced"
    assert shown(run, 1)["announced"] == "2025-05-13"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("planned", "planned"),
        ("announced", "announced"),
        ("in-force", "in-force"),
        ("in force", "in-force"),
        ("IN_FORCE", "in-force"),
        ("expired", "expired"),
        ("revoked", "revoked"),
    ],
)
def test_explicit_status_overrides_the_default(run: Run, given: str, stored: str) -> None:
    add(run, *MINIMAL, "--effective", "2025-05-23", "--status", given)
    assert shown(run, 1)["status"] == stored


def test_authority_and_program_are_uppercased_and_text_is_trimmed(run: Run) -> None:
    add(
        run, "--authority", " eu ", "--program", "eu-syr", "--target", "  Commercial   Bank ",
        "--action", "delist", "--legal-ref", " Reg  2025/1 ", "--ref", " k1 ",
    )  # fmt: skip
    data = shown(run, 1)
    assert data["authority"] == "EU"
    assert data["program"] == "EU-SYR"
    assert data["target"] == "Commercial Bank"
    assert data["legal_ref"] == "Reg 2025/1"
    assert data["ref"] == "k1"


def test_deadline_without_label_and_expires_equal_to_effective(run: Run) -> None:
    add(
        run, *MINIMAL, "--effective", "2025-06-01", "--expires", "2025-06-01", "--deadline", "today"
    )
    data = shown(run, 1)
    assert data["expires"] == "2025-06-01"
    assert data["deadline"] == date.today().isoformat()
    assert data["deadline_label"] is None


def test_expires_without_effective_is_accepted(run: Run) -> None:
    add(run, *MINIMAL, "--announced", "2025-06-01", "--expires", "2025-01-01")
    assert shown(run, 1)["expires"] == "2025-01-01"


# --- add: bad input ----------------------------------------------------------------------


BAD_ADDS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("--action", "bogus"), ("--action", "'bogus' is not one of", "licence")),
    (("--action", "ease", "--status", "active"), ("--status", "'active' is not one of", "in-force")),
    (("--action", "ease", "--effective", "2025-13-01"), ("--effective", "'2025-13-01'", "YYYY-MM-DD")),
    (("--action", "ease", "--announced", "01/06/2025"), ("--announced", "'01/06/2025'", "YYYY-MM-DD")),
    (("--action", "ease", "--expires", "2025-02-30"), ("--expires", "'2025-02-30' is not a date")),
    (("--action", "ease", "--deadline", "June 1"), ("--deadline", "'June 1' is not a date")),
    (("--action", "ease", "--deadline-label", "renewal"), ("--deadline-label", "needs --deadline")),
    (
        ("--action", "ease", "--effective", "2025-06-01", "--expires", "2025-05-31"),
        ("--expires", "2025-05-31 is before --effective 2025-06-01"),
    ),
    (("--action", "ease", "--measure", " "), ("--measure", "must not be empty")),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), BAD_ADDS)
def test_add_refuses_bad_input_and_writes_nothing(
    run: Run, db_path: Path, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    add(run, *EU_SUSPEND)
    before = row_counts(db_path)
    result = run("sanction", "add", "--authority", "US", "--target", "SY", *args)
    assert_error(result, *fragments)
    assert result.code == 1
    assert row_counts(db_path) == before


def test_add_refuses_a_duplicate_ref(run: Run, db_path: Path) -> None:
    add(run, *EU_SUSPEND)
    before = row_counts(db_path)
    result = run("sanction", "add", *MINIMAL, "--ref", "eu-suspend")
    assert_error(result, "--ref", "'eu-suspend' is already used by another sanction action")
    assert result.code == 1
    assert row_counts(db_path) == before
    assert listed_ids(run) == [1]


@pytest.mark.parametrize("empty", ["", "   "])
@pytest.mark.parametrize("option", ["--authority", "--target"])
def test_add_refuses_an_empty_authority_or_target(
    run: Run, empty_db: Path, option: str, empty: str
) -> None:
    values = {"--authority": "EU", "--target": "SY", option: empty}
    args = [part for pair in values.items() for part in pair]
    result = run("sanction", "add", *args, "--action", "impose")
    assert_error(result, option, "must not be empty")
    assert row_counts(empty_db) == EMPTY


@pytest.mark.parametrize("missing", ["--authority", "--target", "--action"])
def test_add_refuses_a_missing_required_option(run: Run, empty_db: Path, missing: str) -> None:
    values = {"--authority": "EU", "--target": "SY", "--action": "impose"}
    del values[missing]
    args = [part for pair in values.items() for part in pair]
    result = run("sanction", "add", *args)
    assert_error(result, f"Missing option '{missing}'")
    assert result.code == 2
    assert row_counts(empty_db) == EMPTY


# --- list --------------------------------------------------------------------------------

US_LICENCE = (
    "--authority", "US", "--program", "US-SYR", "--target", "Syria", "--action", "license",
    "--measure", "energy", "--announced", "2025-01-06", "--effective", "2025-01-06",
    "--expires", "2025-07-07", "--legal-ref", "General License 24", "--ref", "us-gl24",
)  # fmt: skip
UK_DELIST = (
    "--authority", "UK", "--program", "UK-SYR", "--target", "Commercial Bank of Syria",
    "--action", "delist", "--announced", "2025-03-06", "--summary", "Delisted, with 23 others",
)  # fmt: skip
EU_LIFT = (
    "--authority", "eu", "--program", "eu-syr", "--target", "SY", "--action", "lift",
    "-m", "banking", "-m", "asset freeze", "--announced", "2025-05-20",
    "--effective", "2025-05-28", "--status", "planned",
    "--source", "https://www.consilium.europa.eu/",
)  # fmt: skip
UN_AMEND = ("--authority", "UN", "--target", "HTS", "--action", "amend")


@pytest.fixture
def several(run: Run) -> None:
    """Five actions added out of date order; the list puts them oldest first, undated last."""
    assert add(run, *EU_SUSPEND) == 1  # dated by effective 2025-02-24 (no announcement)
    assert add(run, *US_LICENCE) == 2  # announced 2025-01-06
    assert add(run, *UK_DELIST) == 3  # announced 2025-03-06
    assert add(run, *EU_LIFT) == 4  # announced 2025-05-20
    assert add(run, *UN_AMEND) == 5  # no dates


EXPECTED_CSV = (
    HEADER + "\n"
    "2,US,US-SYR,Syria,licence,energy,in-force,2025-01-06,2025-01-06,2025-07-07,,,"
    "General License 24,,unverified,us-gl24,\n"
    "1,EU,EU-SYR,SY,suspend,energy; transport,in-force,,2025-02-24,,2025-06-01,"
    "regime lapses unless renewed,Regulation (EU) 2025/407,,unverified,eu-suspend,\n"
    "3,UK,UK-SYR,Commercial Bank of Syria,delist,,announced,2025-03-06,,,,,,"
    '"Delisted, with 23 others",unverified,,\n'
    "4,EU,EU-SYR,SY,lift,banking; asset freeze,planned,2025-05-20,2025-05-28,,,,,,"
    "reported,,\n"
    "5,UN,,HTS,amend,,announced,,,,,,,,unverified,,\n"
)


@pytest.mark.usefixtures("several")
def test_list_csv_is_exact_and_oldest_first(run: Run) -> None:
    result = run("sanction", "list", "--format", "csv")
    assert result.code == 0
    assert result.err == ""
    assert result.out == EXPECTED_CSV
    rows = list(csv.DictReader(io.StringIO(result.out)))
    assert rows[2]["summary"] == "Delisted, with 23 others"


@pytest.mark.usefixtures("several")
def test_list_json_is_exact(run: Run) -> None:
    assert as_json(run, "sanction", "list") == [
        record(
            id=2, authority="US", program="US-SYR", target="Syria", action="licence",
            measures=["energy"], status="in-force", announced="2025-01-06",
            effective="2025-01-06", expires="2025-07-07", legal_ref="General License 24",
            ref="us-gl24",
        ),
        record(
            id=1, authority="EU", program="EU-SYR", target="SY", action="suspend",
            measures=["energy", "transport"], status="in-force", effective="2025-02-24",
            deadline="2025-06-01", deadline_label="regime lapses unless renewed",
            legal_ref="Regulation (EU) 2025/407", ref="eu-suspend",
        ),
        record(
            id=3, authority="UK", program="UK-SYR", target="Commercial Bank of Syria",
            action="delist", announced="2025-03-06", summary="Delisted, with 23 others",
        ),
        record(
            id=4, authority="EU", program="EU-SYR", target="SY", action="lift",
            measures=["banking", "asset freeze"], status="planned", announced="2025-05-20",
            effective="2025-05-28", confidence="reported",
        ),
        record(id=5, authority="UN", target="HTS", action="amend"),
    ]  # fmt: skip


@pytest.mark.usefixtures("several")
def test_list_table_shows_the_key_columns(run: Run) -> None:
    result = run("sanction", "list")
    assert result.code == 0
    assert "Sanction actions" in result.out
    for text in ("EU-SYR", "US-SYR", "licence", "energy, transport", "Commercial Bank of Syria"):
        assert text in result.out
    assert "2025-07-07" in result.out
    # Long text columns are left to CSV and JSON.
    assert "Delisted, with 23 others" not in result.out


@pytest.mark.usefixtures("several")
@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (("--authority", "EU"), [1, 4]),
        (("--authority", "eu"), [1, 4]),
        (("--authority", "UN"), [5]),
        (("--authority", "FR"), []),
        (("--program", "EU-SYR"), [1, 4]),
        (("--program", "us-syr"), [2]),
        (("--target", "SY"), [2, 1, 3, 4]),
        (("--target", "syria"), [2, 3]),
        (("--target", "bank"), [3]),
        (("--target", "hts"), [5]),
        (("--status", "in-force"), [2, 1]),
        (("--status", "in force"), [2, 1]),
        (("--status", "announced"), [3, 5]),
        (("--status", "planned"), [4]),
        (("--status", "revoked"), []),
        (("--action", "licence"), [2]),
        (("--action", "license"), [2]),
        (("--action", "lift"), [4]),
        (("--action", "impose"), []),
        (("--since", "2025-02-24"), [1, 3, 4]),
        (("--since", "2025-02-25"), [3, 4]),
        (("--until", "2025-03-06"), [2, 1, 3]),
        (("--until", "2025-03-05"), [2, 1]),
        (("--since", "2025-02-01", "--until", "2025-03-31"), [1, 3]),
        (("--since", "2025-05-21", "--until", "2025-12-31"), []),
        (("--authority", "EU", "--status", "planned"), [4]),
        (("--authority", "EU", "--since", "2025-03-01"), [4]),
        (("--program", "EU-SYR", "--action", "suspend", "--target", "sy"), [1]),
    ],
)
def test_list_filters(run: Run, filters: tuple[str, ...], ids: list[int]) -> None:
    assert listed_ids(run, *filters) == ids


@pytest.mark.usefixtures("several")
def test_list_filter_csv_has_only_the_matching_rows(run: Run) -> None:
    result = run("sanction", "list", "--authority", "UN", "--format", "csv")
    assert result.out == HEADER + "\n5,UN,,HTS,amend,,announced,,,,,,,,unverified,,\n"


@pytest.mark.usefixtures("several")
def test_list_with_no_match(run: Run) -> None:
    assert run("sanction", "list", "--authority", "FR", "--format", "csv").out == HEADER + "\n"
    assert run("sanction", "list", "--authority", "FR", "--format", "json").out == "[]\n"
    table = run("sanction", "list", "--authority", "FR")
    assert table.code == 0
    assert table.out == ""
    assert table.err.strip() == "No sanction actions match."


@pytest.mark.usefixtures("several")
@pytest.mark.parametrize(
    ("filters", "fragments"),
    [
        (("--status", "active"), ("--status", "'active' is not one of")),
        (("--action", "ban"), ("--action", "'ban' is not one of")),
        (("--since", "2025-13-01"), ("--since", "'2025-13-01' is not a date")),
        (("--until", "01/06/2025"), ("--until", "'01/06/2025' is not a date")),
        (("--format", "xml"), ("--format",)),
    ],
)
def test_list_refuses_bad_filters(
    run: Run, db_path: Path, filters: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    before = row_counts(db_path)
    assert_error(run("sanction", "list", *filters), *fragments)
    assert row_counts(db_path) == before


# --- show --------------------------------------------------------------------------------


@pytest.mark.usefixtures("several")
def test_show_json(run: Run) -> None:
    assert shown(run, 4) == {
        **record(
            id=4,
            authority="EU",
            program="EU-SYR",
            target="SY",
            action="lift",
            measures=["banking", "asset freeze"],
            status="planned",
            announced="2025-05-20",
            effective="2025-05-28",
            confidence="reported",
        ),
        "sources": [cited(1, "https://www.consilium.europa.eu/")],
    }


@pytest.mark.usefixtures("several")
def test_show_csv_is_one_row(run: Run) -> None:
    result = run("sanction", "show", "3", "--format", "csv")
    assert result.code == 0
    assert result.out == (
        HEADER + "\n"
        "3,UK,UK-SYR,Commercial Bank of Syria,delist,,announced,2025-03-06,,,,,,"
        '"Delisted, with 23 others",unverified,,\n'
    )


@pytest.mark.usefixtures("several")
def test_show_table_has_every_field(run: Run) -> None:
    result = run("sanction", "show", "1")
    assert result.code == 0
    assert result.err.strip() == "No sources: unverified."
    for text in (
        "Sanction action 1",
        "Authority",
        "EU-SYR",
        "suspend",
        "energy, transport",
        "in-force",
        "2025-02-24",
        "2025-06-01",
        "Deadline label",
        "regime lapses unless renewed",
        "Regulation (EU) 2025/407",
        "eu-suspend",
        "Confidence",
        "unverified",
    ):
        assert text in result.out, text

    sourced = run("sanction", "show", "4")
    assert (sourced.code, sourced.err) == (0, "")
    for text in ("Sanction action 4", "Sources", "https://www.consilium.europa.eu/", "reported"):
        assert text in sourced.out, text


@pytest.mark.parametrize("fmt", ["table", "json", "csv"])
def test_show_unknown_id(run: Run, db_path: Path, fmt: str) -> None:
    add(run, *MINIMAL)
    before = row_counts(db_path)
    result = run("sanction", "show", "99", "--format", fmt)
    assert_error(result, "no sanction action with id 99")
    assert result.code == 1
    assert row_counts(db_path) == before


def test_show_refuses_an_id_that_is_not_a_number(run: Run) -> None:
    result = run("sanction", "show", "one")
    assert_error(result, "Invalid value for 'ID'")
    assert result.code == 2


def test_target_filter_takes_percent_and_underscore_as_typed_and_any_length(
    run: Run, empty_db: Path
) -> None:
    add(run, "--authority", "US", "--target", "SY 100% owned", "--action", "ease")
    add(run, "--authority", "US", "--target", "SY bank", "--action", "ease")
    targets = [row["target"] for row in as_json(run, "sanction", "list", "--target", "%")]
    assert targets == ["SY 100% owned"]
    assert as_json(run, "sanction", "list", "--target", "S_") == []
    # Longer than any stored target (300 characters): no match, not a LIKE pattern error.
    result = run("sanction", "list", "--target", "a" * 100_000, "--format", "json")
    assert (result.code, json.loads(result.out)) == (0, [])

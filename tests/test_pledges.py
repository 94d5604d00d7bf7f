"""`fintrack pledge add`, `list` and `show`: amounts, schedules, filters, exact CSV and JSON."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EMPTY, QATAR, Run, added, as_json, assert_error, row_counts

PLEDGE_HEADER = (
    "id,donor,recipient,purpose,currency,pledged,disbursed,outstanding,fulfilled_pct,status,"
    "announced,installments,next_due,schedule_assumed,confidence,ref,"
    "replaces,replaced_by,voided,original_amount,original_currency,exchange_rate,value_on,"
    "version,part_of,boundary"
)
# The fields a pledge from another system (OCHA FTS) has, empty for one entered here.
SOURCE_SYSTEM = dict.fromkeys(
    ("original_amount", "original_currency", "exchange_rate", "value_on", "version", "part_of",
     "boundary"),
)  # fmt: skip
INSTALLMENT_HEADER = "pledge_id,seq,due,currency,amount,paid,outstanding,state"
AB = ("--donor", "A", "--recipient", "B")


def add(run: Run, *args: str) -> int:
    return added(run, "pledge", "add", *args)


def shown(run: Run, pledge_id: int) -> dict[str, Any]:
    data: dict[str, Any] = as_json(run, "pledge", "show", str(pledge_id))
    return data


def schedule(run: Run, pledge_id: int) -> list[tuple[int, str, str]]:
    """(seq, due date, amount) of each installment."""
    return [(i["seq"], i["due"], i["amount"]) for i in shown(run, pledge_id)["installments"]]


def installment(
    pledge_id: int,
    seq: int,
    due: str,
    amount: str,
    paid: str = "0.00",
    outstanding: str | None = None,
    state: str = "overdue",
    currency: str = "USD",
) -> dict[str, Any]:
    return {
        "pledge_id": pledge_id,
        "seq": seq,
        "due": due,
        "currency": currency,
        "amount": amount,
        "paid": paid,
        "outstanding": amount if outstanding is None else outstanding,
        "state": state,
    }


def listed(**fields: Any) -> dict[str, Any]:
    """A pledge as `pledge list --format json` gives it; the Qatar pledge unless overridden."""
    base: dict[str, Any] = {
        "id": 1,
        "donor": "Qatar",
        "recipient": "Syria",
        "purpose": None,
        "currency": "USD",
        "pledged": "87000000.00",
        "disbursed": "0.00",
        "outstanding": "87000000.00",
        "fulfilled_pct": "0.0",
        "status": "pledge",
        "announced": "2025-05-08",
        "installments": 3,
        "next_due": "2025-05-08",
        "schedule_assumed": True,
        "confidence": "unverified",  # no source
        "ref": None,
        "replaces": None,
        "replaced_by": None,
        "voided": None,
        **SOURCE_SYSTEM,
    }
    assert set(fields) <= set(base), set(fields) - set(base)
    return {**base, **fields}


# --- add ---------------------------------------------------------------------------------


def test_qatar_prints_the_id_alone_and_a_message_on_stderr(run: Run, db_path: Path) -> None:
    result = run(*QATAR)
    assert result.code == 0
    assert result.out == "1\n"
    assert (
        result.err.strip() == "Added pledge 1: Qatar → Syria, USD 87,000,000.00 in 3 installments"
    )
    assert row_counts(db_path) == {
        **EMPTY,
        "pledges": 1,
        "installments": 3,
        "changes": EMPTY["changes"] + 1,  # the add, in one change
    }
    second = run("pledge", "add", *AB, "--currency", "EUR", "--amount", "5", "--on", "2025-01-01")
    assert second.out == "2\n"
    assert second.err.strip() == "Added pledge 2: A → B, EUR 5.00 in 1 installment"


def test_qatar_schedule_is_monthly_from_the_pledge_date_and_assumed(run: Run) -> None:
    assert run(*QATAR).code == 0
    assert shown(run, 1) == {
        **listed(),
        "installments": [
            installment(1, 1, "2025-05-08", "29000000.00"),
            installment(1, 2, "2025-06-08", "29000000.00"),
            installment(1, 3, "2025-07-08", "29000000.00"),
        ],
        "disbursements": [],
        "sources": [],
    }


def test_amount_alone_is_one_installment_due_on_the_pledge_date(run: Run) -> None:
    add(run, *AB, "--currency", "USD", "--amount", "15M", "--on", "2025-04-28")
    data = shown(run, 1)
    assert (data["pledged"], data["announced"], data["schedule_assumed"]) == (
        "15000000.00",
        "2025-04-28",
        True,
    )
    assert schedule(run, 1) == [(1, "2025-04-28", "15000000.00")]


def test_amount_alone_with_first_due_and_no_pledge_date(run: Run) -> None:
    add(run, *AB, "--currency", "USD", "--amount", "15M", "--first-due", "2025-09-30")
    data = shown(run, 1)
    assert (data["announced"], data["schedule_assumed"]) == (None, False)
    assert schedule(run, 1) == [(1, "2025-09-30", "15000000.00")]


def test_first_due_wins_over_the_pledge_date(run: Run) -> None:
    add(run, *AB, "--currency", "USD", "--amount", "15M", "--on", "2025-04-28",
        "--first-due", "2025-06-15")  # fmt: skip
    data = shown(run, 1)
    assert (data["announced"], data["schedule_assumed"]) == ("2025-04-28", False)
    assert schedule(run, 1) == [(1, "2025-06-15", "15000000.00")]


def test_each_with_installments_every_and_first_due(run: Run) -> None:
    add(run, *AB, "--currency", "EUR", "--each", "2.5M", "--installments", "4",
        "--every", "month", "--first-due", "2025-06-01", "--on", "2025-05-15")  # fmt: skip
    data = shown(run, 1)
    assert (data["currency"], data["pledged"], data["schedule_assumed"]) == (
        "EUR",
        "10000000.00",
        False,
    )
    assert schedule(run, 1) == [
        (1, "2025-06-01", "2500000.00"),
        (2, "2025-07-01", "2500000.00"),
        (3, "2025-08-01", "2500000.00"),
        (4, "2025-09-01", "2500000.00"),
    ]


@pytest.mark.parametrize(
    ("currency", "amount", "total", "parts"),
    [
        ("USD", "100.00", "100.00", ["33.33", "33.33", "33.34"]),
        ("USD", "100", "100.00", ["33.33", "33.33", "33.34"]),
        ("USD", "0.05", "0.05", ["0.01", "0.01", "0.03"]),
        ("JPY", "100", "100", ["33", "33", "34"]),
        ("KWD", "1", "1.000", ["0.333", "0.333", "0.334"]),
        ("EUR", "87M", "87000000.00", ["29000000.00", "29000000.00", "29000000.00"]),
    ],
)
def test_amount_split_into_installments_adds_up_with_the_rest_on_the_last(
    run: Run, currency: str, amount: str, total: str, parts: list[str]
) -> None:
    add(run, *AB, "--currency", currency, "--amount", amount, "--installments", "3",
        "--every", "month", "--first-due", "2025-01-15")  # fmt: skip
    assert shown(run, 1)["pledged"] == total
    assert [amount for _, _, amount in schedule(run, 1)] == parts


def test_amount_and_each_that_agree(run: Run) -> None:
    add(run, *AB, "--currency", "USD", "--amount", "87M", "--each", "29,000,000",
        "--installments", "3", "--every", "month", "--on", "2025-05-08")  # fmt: skip
    assert shown(run, 1)["pledged"] == "87000000.00"
    assert [amount for _, _, amount in schedule(run, 1)] == ["29000000.00"] * 3


def test_amount_and_each_that_disagree(run: Run, db_path: Path) -> None:
    add(run, *QATAR[2:])
    before = row_counts(db_path)
    result = run("pledge", "add", *AB, "--currency", "USD", "--amount", "10", "--each", "4",
                 "--installments", "3", "--every", "week", "--on", "2025-01-01")  # fmt: skip
    assert_error(result, "--amount: 10.00 is not --each 4.00 times 3 installments (12.00)")
    assert row_counts(db_path) == before


@pytest.mark.parametrize(
    ("first", "every", "count", "dates"),
    [
        ("2025-01-31", "month", 3, ["2025-01-31", "2025-02-28", "2025-03-31"]),
        ("2024-01-31", "monthly", 4, ["2024-01-31", "2024-02-29", "2024-03-31", "2024-04-30"]),
        ("2025-08-31", "month", 3, ["2025-08-31", "2025-09-30", "2025-10-31"]),
        ("2025-01-01", "week", 3, ["2025-01-01", "2025-01-08", "2025-01-15"]),
        ("2025-12-25", "weekly", 2, ["2025-12-25", "2026-01-01"]),
        ("2025-01-31", "quarter", 4, ["2025-01-31", "2025-04-30", "2025-07-31", "2025-10-31"]),
        ("2025-11-30", "quarterly", 2, ["2025-11-30", "2026-02-28"]),
        ("2024-02-29", "year", 3, ["2024-02-29", "2025-02-28", "2026-02-28"]),
        ("2025-05-08", "annual", 2, ["2025-05-08", "2026-05-08"]),
    ],
)
def test_schedules_step_from_the_first_due_date(
    run: Run, first: str, every: str, count: int, dates: list[str]
) -> None:
    add(run, *AB, "--currency", "USD", "--each", "1", "--installments", str(count),
        "--every", every, "--first-due", first)  # fmt: skip
    assert [due for _, due, _ in schedule(run, 1)] == dates


@pytest.mark.parametrize(
    ("currency", "text", "pledged"),
    [
        ("USD", "29000000", "29000000.00"),
        ("USD", "29,000,000", "29000000.00"),
        ("USD", "29M", "29000000.00"),
        ("USD", "29m", "29000000.00"),
        ("USD", "29 million", "29000000.00"),
        ("USD", "1.5bn", "1500000000.00"),
        ("USD", "1.5B", "1500000000.00"),
        ("USD", "2.5k", "2500.00"),
        ("USD", "29000000.50", "29000000.50"),
        ("USD", "29,000,000.05", "29000000.05"),
        ("USD", " 0.01 ", "0.01"),
        ("JPY", "1.5bn", "1500000000"),
        ("KWD", "1.234", "1.234"),
    ],
)
def test_amount_formats(run: Run, currency: str, text: str, pledged: str) -> None:
    add(run, *AB, "--currency", currency, "--amount", text, "--on", "2025-01-01")
    assert shown(run, 1)["pledged"] == pledged
    assert schedule(run, 1) == [(1, "2025-01-01", pledged)]


@pytest.mark.parametrize(
    ("flags", "assumed"),
    [
        (("--on", "2025-01-01"), True),
        (("--first-due", "2025-01-01"), False),
        (("--on", "2025-01-01", "--first-due", "2025-02-01"), False),
        (("--on", "2025-01-01", "--confirmed"), False),
        (("--first-due", "2025-02-01", "--assumed"), True),
        (("--on", "2025-01-01", "--first-due", "2025-02-01", "--assumed"), True),
        (("--on", "2025-01-01", "--assumed"), True),
        (("--first-due", "2025-02-01", "--confirmed"), False),
    ],
)
def test_schedule_assumed(run: Run, flags: tuple[str, ...], assumed: bool) -> None:
    add(run, *AB, "--currency", "USD", "--amount", "10", *flags)
    assert shown(run, 1)["schedule_assumed"] is assumed
    result = run("pledge", "list", "--format", "csv")
    assert result.out.splitlines()[1].split(",")[13] == ("true" if assumed else "false")


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("pledge", "pledge"),
        ("pledged", "pledge"),
        ("commitment", "commitment"),
        ("Committed", "commitment"),
        ("paid", "paid"),
    ],
)
def test_status(run: Run, given: str, stored: str) -> None:
    add(run, *AB, "--currency", "USD", "--amount", "10", "--on", "2025-01-01", "--status", given)
    assert shown(run, 1)["status"] == stored


def test_purpose_source_ref_and_cleaned_text(run: Run) -> None:
    add(run, "--donor", "  Saudi   Arabia ", "--recipient", " Syria", "--currency", " usd ",
        "--amount", "15M", "--on", "2025-04-28", "--purpose", "public-sector  salaries",
        "--source", " https://example.org/a ", "--ref", " sa-2025 ")  # fmt: skip
    data = shown(run, 1)
    fields = ("donor", "recipient", "currency", "purpose", "confidence", "ref")
    assert {k: data[k] for k in fields} == {
        "donor": "Saudi Arabia",
        "recipient": "Syria",
        "currency": "USD",
        "purpose": "public-sector salaries",
        "confidence": "reported",  # the default --confidence
        "ref": "sa-2025",
    }
    assert data["sources"] == [
        {
            "id": 1,
            "confidence": "reported",
            "publisher": None,
            "title": None,
            "url": "https://example.org/a",
            "published": None,
        }
    ]


# --- add: bad input ----------------------------------------------------------------------

ON = ("--on", "2025-01-01")
BAD_ADDS: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("--currency", "XYZ", "--amount", "5", *ON), ("--currency", "'XYZ' is not an ISO 4217")),
    (("--currency", "usdollar", "--amount", "5", *ON), ("--currency", "'usdollar'", "three letters")),
    (("--currency", "XAU", "--amount", "5", *ON), ("--currency", "'XAU' has no minor unit")),
    (("--currency", "US", "--amount", "5", *ON), ("--currency", "'US' is not an ISO 4217")),
    (("--currency", "USD", "--amount", "-5", *ON), ("--amount", "'-5' is not an amount")),
    (("--currency", "USD", "--amount", "0", *ON), ("--amount", "'0' must be greater than zero")),
    (("--currency", "USD", "--amount", "0.00", *ON), ("--amount", "must be greater than zero")),
    (("--currency", "USD", "--amount", "abc", *ON), ("--amount", "'abc' is not an amount", "29M")),
    (("--currency", "USD", "--amount", "1.234", *ON), ("--amount", "'1.234' has more decimals than USD allows (2)")),
    (("--currency", "JPY", "--amount", "1.5", *ON), ("--amount", "'1.5' has more decimals than JPY allows (0)")),
    (("--currency", "USD", "--amount", "29 trillion", *ON), ("--amount", "is not an amount")),
    (("--currency", "USD", "--amount", "1,23", *ON), ("--amount", "'1,23' is not an amount")),
    (("--currency", "USD", "--amount", "9" * 20, *ON), ("--amount", "is too large")),
    (("--currency", "USD", "--each", "abc", "--installments", "2", "--every", "month", *ON), ("--each", "'abc' is not an amount")),
    (("--currency", "USD", "--amount", "5", "--installments", "0", *ON), ("--installments", "'0' must be at least 1")),
    (("--currency", "USD", "--amount", "5", "--installments", "-1", *ON), ("--installments", "'-1' must be at least 1")),
    (("--currency", "USD", "--amount", "5", "--installments", "3", *ON), ("--every", "is required with --installments 3")),
    (("--currency", "USD", "--amount", "5", "--installments", "2", "--every", "fortnight", *ON), ("--every", "'fortnight' is not one of")),
    (("--currency", "USD", "--amount", "0.02", "--installments", "3", "--every", "month", *ON), ("--installments", "smaller than the currency's minor unit")),
    (("--currency", "USD", "--amount", "5"), ("--first-due", "give the first due date, or --on DATE")),
    (("--currency", "USD", *ON), ("--amount", "give --amount TOTAL or --each AMOUNT")),
    (("--currency", "USD", "--amount", "5", *ON, "--status", "promised"), ("--status", "'promised' is not one of pledge, commitment, paid")),
    (("--currency", "USD", "--amount", "5", "--on", "2025-13-01"), ("--on", "'2025-13-01' is not a date")),
    (("--currency", "USD", "--amount", "5", "--first-due", "01/06/2025"), ("--first-due", "'01/06/2025' is not a date")),
    (("--currency", "USD", "--amount", "5", *ON, "--ref", "qatar-2025"), ("--ref", "'qatar-2025' is already used by another pledge")),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragments"), BAD_ADDS)
def test_add_refuses_bad_input_and_writes_nothing(
    run: Run, db_path: Path, args: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    add(run, *QATAR[2:], "--ref", "qatar-2025")
    before = row_counts(db_path)
    result = run("pledge", "add", *AB, *args)
    assert_error(result, *fragments)
    assert result.code == 1
    assert row_counts(db_path) == before
    assert [row["id"] for row in as_json(run, "pledge", "list")] == [1]


@pytest.mark.parametrize("option", ["--donor", "--recipient"])
def test_add_refuses_an_empty_donor_or_recipient(run: Run, empty_db: Path, option: str) -> None:
    values = {"--donor": "Qatar", "--recipient": "Syria", option: "  "}
    args = [part for pair in values.items() for part in pair]
    result = run("pledge", "add", *args, "--currency", "USD", "--amount", "5", *ON)
    assert_error(result, option, "must not be empty")
    assert row_counts(empty_db) == EMPTY


@pytest.mark.parametrize("missing", ["--donor", "--recipient", "--currency"])
def test_add_refuses_a_missing_required_option(run: Run, empty_db: Path, missing: str) -> None:
    values = {"--donor": "Qatar", "--recipient": "Syria", "--currency": "USD"}
    del values[missing]
    args = [part for pair in values.items() for part in pair]
    result = run("pledge", "add", *args, "--amount", "5", *ON)
    assert_error(result, f"Missing option '{missing}'")
    assert result.code == 2
    assert row_counts(empty_db) == EMPTY


# --- list --------------------------------------------------------------------------------

SAUDI = ("--donor", "Saudi Arabia", "--recipient", "Syria", "--currency", "USD", "--amount", "15M",
         "--on", "2025-04-28", "--status", "commitment", "--ref", "sa-2025")  # fmt: skip
GERMANY = ("--donor", "Germany", "--recipient", "Syria", "--currency", "EUR", "--amount", "300M",
           "--on", "2025-03-17", "--first-due", "2025-04-01", "--purpose", "reconstruction",
           "--source", "https://example.org/de")  # fmt: skip
JAPAN = ("--donor", "Japan", "--recipient", "Ukraine", "--currency", "JPY", "--amount", "100",
         "--installments", "3", "--every", "quarter", "--first-due", "2025-01-15")  # fmt: skip


@pytest.fixture
def several(run: Run) -> None:
    """Four pledges added out of date order; listed by pledge date, undated last."""
    assert add(run, *QATAR[2:]) == 1  # 2025-05-08
    assert add(run, *SAUDI) == 2  # 2025-04-28
    assert add(run, *GERMANY) == 3  # 2025-03-17
    assert add(run, *JAPAN) == 4  # no pledge date


SAUDI_ROW = listed(
    id=2, donor="Saudi Arabia", pledged="15000000.00", outstanding="15000000.00",
    status="commitment", announced="2025-04-28", installments=1, next_due="2025-04-28",
    ref="sa-2025",
)  # fmt: skip
GERMANY_ROW = listed(
    id=3, donor="Germany", purpose="reconstruction", currency="EUR", pledged="300000000.00",
    outstanding="300000000.00", announced="2025-03-17", installments=1, next_due="2025-04-01",
    schedule_assumed=False, confidence="reported",
)  # fmt: skip
JAPAN_ROW = listed(
    id=4, donor="Japan", recipient="Ukraine", currency="JPY", pledged="100", disbursed="0",
    outstanding="100", announced=None, installments=3, next_due="2025-01-15",
    schedule_assumed=False,
)  # fmt: skip


@pytest.mark.usefixtures("several")
def test_list_json_is_exact_and_ordered_by_pledge_date(run: Run) -> None:
    assert as_json(run, "pledge", "list") == [GERMANY_ROW, SAUDI_ROW, listed(), JAPAN_ROW]


@pytest.mark.usefixtures("several")
def test_list_csv_is_exact(run: Run) -> None:
    result = run("pledge", "list", "--format", "csv")
    assert result.code == 0
    assert result.err == ""
    assert result.out == (
        PLEDGE_HEADER + "\n"
        "3,Germany,Syria,reconstruction,EUR,300000000.00,0.00,300000000.00,0.0,pledge,"
        "2025-03-17,1,2025-04-01,false,reported,,,,,,,,,,,\n"
        "2,Saudi Arabia,Syria,,USD,15000000.00,0.00,15000000.00,0.0,commitment,"
        "2025-04-28,1,2025-04-28,true,unverified,sa-2025,,,,,,,,,,\n"
        "1,Qatar,Syria,,USD,87000000.00,0.00,87000000.00,0.0,pledge,"
        "2025-05-08,3,2025-05-08,true,unverified,,,,,,,,,,,\n"
        "4,Japan,Ukraine,,JPY,100,0,100,0.0,pledge,,3,2025-01-15,false,unverified,,,,,,,,,,,\n"
    )


@pytest.mark.usefixtures("several")
def test_list_after_payments_shows_disbursed_outstanding_and_next_due(run: Run) -> None:
    assert run("pay", "1", "30M", "--on", "2025-06-01").code == 0
    assert run("pay", "4", "34", "--on", "2025-02-01").code == 0
    rows = {row["id"]: row for row in as_json(run, "pledge", "list")}
    assert rows[1] == listed(
        disbursed="30000000.00",
        outstanding="57000000.00",
        fulfilled_pct="34.5",
        next_due="2025-06-08",
    )
    assert rows[4] == {
        **JAPAN_ROW,
        "disbursed": "34",
        "outstanding": "66",
        "fulfilled_pct": "34.0",
        "next_due": "2025-04-15",
    }
    result = run("pledge", "list", "--donor", "Qatar", "--format", "csv")
    assert result.out.splitlines()[1] == (
        "1,Qatar,Syria,,USD,87000000.00,30000000.00,57000000.00,34.5,pledge,"
        "2025-05-08,3,2025-06-08,true,unverified,,,,,,,,,,,"
    )


@pytest.mark.usefixtures("several")
def test_list_of_a_pledge_paid_in_full_has_no_next_due(run: Run) -> None:
    assert run("pay", "2", "15M", "--on", "2025-05-01").code == 0
    assert as_json(run, "pledge", "list", "--donor", "Saudi Arabia") == [
        {
            **SAUDI_ROW,
            "disbursed": "15000000.00",
            "outstanding": "0.00",
            "fulfilled_pct": "100.0",
            "status": "paid",
            "next_due": None,
        }
    ]


@pytest.mark.usefixtures("several")
def test_list_table_shows_the_key_columns(run: Run) -> None:
    result = run("pledge", "list")
    assert result.code == 0
    assert "Pledges" in result.out
    for text in ("Qatar", "Saudi Arabia", "87,000,000.00", "300,000,000.00", "2025-04-01"):
        assert text in result.out, text
    assert "reconstruction" not in result.out


@pytest.mark.usefixtures("several")
@pytest.mark.parametrize(
    ("filters", "ids"),
    [
        (("--donor", "Qatar"), [1]),
        (("--donor", "qatar"), [1]),
        (("--donor", " saudi arabia "), [2]),
        (("--donor", "Saudi"), []),
        (("--recipient", "Syria"), [3, 2, 1]),
        (("--recipient", "UKRAINE"), [4]),
        (("--status", "pledge"), [3, 1, 4]),
        (("--status", "commitment"), [2]),
        (("--status", "committed"), [2]),
        (("--status", "paid"), []),
        (("--currency", "USD"), [2, 1]),
        (("--currency", "eur"), [3]),
        (("--currency", "JPY"), [4]),
        (("--currency", "GBP"), []),
        (("--recipient", "Syria", "--currency", "USD", "--status", "pledge"), [1]),
        (("--donor", "Germany", "--recipient", "Ukraine"), []),
    ],
)
def test_list_filters(run: Run, filters: tuple[str, ...], ids: list[int]) -> None:
    assert [row["id"] for row in as_json(run, "pledge", "list", *filters)] == ids


@pytest.mark.usefixtures("several")
def test_list_with_no_match(run: Run) -> None:
    assert run("pledge", "list", "--donor", "France", "--format", "csv").out == PLEDGE_HEADER + "\n"
    assert run("pledge", "list", "--donor", "France", "--format", "json").out == "[]\n"
    table = run("pledge", "list", "--donor", "France")
    assert (table.code, table.out, table.err.strip()) == (0, "", "No pledges match.")


@pytest.mark.usefixtures("several")
@pytest.mark.parametrize(
    ("filters", "fragments"),
    [
        (("--status", "promised"), ("--status", "'promised' is not one of")),
        (("--currency", "XYZ"), ("--currency", "'XYZ' is not an ISO 4217")),
        (("--currency", "dollars"), ("--currency", "'dollars'")),
        (("--format", "xml"), ("--format",)),
    ],
)
def test_list_refuses_bad_filters(
    run: Run, db_path: Path, filters: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    before = row_counts(db_path)
    assert_error(run("pledge", "list", *filters), *fragments)
    assert row_counts(db_path) == before


# --- show --------------------------------------------------------------------------------


def test_show_csv_lists_the_installments(run: Run) -> None:
    add(run, *QATAR[2:])
    assert run("pay", "1", "30M", "--on", "2025-06-01").code == 0
    result = run("pledge", "show", "1", "--format", "csv")
    assert result.code == 0
    assert result.err == ""
    assert result.out == (
        INSTALLMENT_HEADER + "\n"
        "1,1,2025-05-08,USD,29000000.00,29000000.00,0.00,paid\n"
        "1,2,2025-06-08,USD,29000000.00,1000000.00,28000000.00,overdue\n"
        "1,3,2025-07-08,USD,29000000.00,0.00,29000000.00,overdue\n"
    )


def test_show_json_has_the_pledge_its_installments_and_disbursements(run: Run) -> None:
    add(run, *QATAR[2:], "--purpose", "public-sector salaries", "--ref", "qatar-2025")
    assert added(run, "source", "add", "--title", "SANA", "--published", "2025-06-01") == 1
    assert run("pay", "1", "30M", "--on", "2025-06-01", "--source", "1").code == 0
    assert run("pay", "1", "1.5M", "--on", "2025-05-20").code == 0
    assert shown(run, 1) == {
        "id": 1,
        "donor": "Qatar",
        "recipient": "Syria",
        "purpose": "public-sector salaries",
        "currency": "USD",
        "pledged": "87000000.00",
        "disbursed": "31500000.00",
        "outstanding": "55500000.00",
        "fulfilled_pct": "36.2",
        "status": "pledge",
        "announced": "2025-05-08",
        "next_due": "2025-06-08",
        "installments": [
            installment(1, 1, "2025-05-08", "29000000.00", "29000000.00", "0.00", "paid"),
            installment(1, 2, "2025-06-08", "29000000.00", "2500000.00", "26500000.00"),
            installment(1, 3, "2025-07-08", "29000000.00"),
        ],
        "schedule_assumed": True,
        "confidence": "unverified",  # the payments' source does not speak for the pledge
        "ref": "qatar-2025",
        "replaces": None,
        "replaced_by": None,
        "voided": None,
        **SOURCE_SYSTEM,
        "sources": [],
        "disbursements": [
            {
                "id": 3,
                "pledge_id": 1,
                "installment": 2,
                "paid_on": "2025-05-20",
                "currency": "USD",
                "amount": "1500000.00",
                "confidence": "unverified",
            },
            {
                "id": 1,
                "pledge_id": 1,
                "installment": 1,
                "paid_on": "2025-06-01",
                "currency": "USD",
                "amount": "29000000.00",
                "confidence": "reported",
            },
            {
                "id": 2,
                "pledge_id": 1,
                "installment": 2,
                "paid_on": "2025-06-01",
                "currency": "USD",
                "amount": "1000000.00",
                "confidence": "reported",
            },
        ],
    }


def test_show_json_next_due_matches_the_list(run: Run) -> None:
    """Regression: show gave next_due null while list gave the date."""
    add(run, *QATAR[2:])
    assert run("pay", "1", "30M", "--on", "2025-06-01").code == 0
    assert as_json(run, "pledge", "list")[0]["next_due"] == "2025-06-08"
    assert shown(run, 1)["next_due"] == "2025-06-08"


def test_show_states_of_future_installments(run: Run) -> None:
    add(run, *AB, "--currency", "USD", "--each", "100", "--installments", "3",
        "--every", "month", "--first-due", "2099-01-01")  # fmt: skip
    assert run("pay", "1", "150", "--on", "2025-06-01").code == 0
    assert [(i["seq"], i["paid"], i["state"]) for i in shown(run, 1)["installments"]] == [
        (1, "100.00", "paid"),
        (2, "50.00", "part paid"),
        (3, "0.00", "due"),
    ]


def test_show_table(run: Run) -> None:
    add(run, *QATAR[2:], "--purpose", "public-sector salaries")
    result = run("pledge", "show", "1")
    assert result.code == 0
    for text in (
        "Pledge 1",
        "Qatar",
        "public-sector salaries",
        "87,000,000.00",
        "Installments",
        "2025-05-08",
        "2025-06-08",
        "2025-07-08",
        "29,000,000.00",
        "overdue",
    ):
        assert text in result.out, text
    assert "confirmed" not in result.out
    assert result.err.strip().splitlines() == ["No disbursements yet.", "No sources: unverified."]

    assert run("pay", "1", "29M", "--on", "2025-06-10", "--source", "https://sana.sy/a",
               "--confidence", "confirmed").code == 0  # fmt: skip
    paid = run("pledge", "show", "1")
    assert "Disbursements" in paid.out
    assert "2025-06-10" in paid.out
    assert "confirmed" in paid.out  # the payment's confidence
    assert "paid" in paid.out
    assert paid.err.strip() == "No sources: unverified."

    assert added(run, "source", "add", "--title", "SANA report") == 2
    assert run("source", "link", "pledge", "1", "2").code == 0
    cited = run("pledge", "show", "1")
    assert "Sources" in cited.out
    assert "SANA report" in cited.out
    assert cited.err == ""


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_show_unknown_id(run: Run, db_path: Path, fmt: str) -> None:
    add(run, *QATAR[2:])
    before = row_counts(db_path)
    result = run("pledge", "show", "2", "--format", fmt)
    assert_error(result, "no pledge with id 2")
    assert result.code == 1
    assert row_counts(db_path) == before

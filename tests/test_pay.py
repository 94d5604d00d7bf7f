"""`fintrack pay`: disbursements fill the earliest unpaid installments, never past the total."""

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EMPTY, QATAR, Run, as_json, assert_error, row_counts

M29 = "29000000.00"
AB = ("--donor", "A", "--recipient", "B")


def shown(run: Run, pledge_id: int = 1) -> dict[str, Any]:
    data: dict[str, Any] = as_json(run, "pledge", "show", str(pledge_id))
    return data


def paid(run: Run, pledge_id: int = 1) -> list[str]:
    """What was paid against each installment, in order."""
    return [i["paid"] for i in shown(run, pledge_id)["installments"]]


def payments(run: Run, pledge_id: int = 1) -> list[tuple[int, int, str, str]]:
    """(id, installment, paid on, amount) of each disbursement."""
    return [
        (d["id"], d["installment"], d["paid_on"], d["amount"])
        for d in shown(run, pledge_id)["disbursements"]
    ]


def pay(run: Run, *args: str) -> list[int]:
    result = run("pay", *args)
    assert result.code == 0, result.err
    return [int(line) for line in result.out.splitlines()]


@pytest.fixture
def qatar(run: Run) -> int:
    """The founding case: USD 29M due on 2025-05-08, 2025-06-08 and 2025-07-08."""
    result = run(*QATAR)
    assert result.code == 0, result.err
    return int(result.out)


# --- where the money goes ----------------------------------------------------------------


def test_pays_the_earliest_unpaid_installment(run: Run, qatar: int, db_path: Path) -> None:
    result = run("pay", str(qatar), "29M", "--on", "2025-06-10")
    assert result.code == 0
    assert result.out == "1\n"
    assert result.err.strip() == (
        "Recorded payment on pledge 1 (USD): installment 1: 29,000,000.00"
    )
    assert row_counts(db_path)["disbursements"] == 1
    data = shown(run)
    assert data["disbursements"] == [
        {
            "id": 1,
            "pledge_id": 1,
            "installment": 1,
            "paid_on": "2025-06-10",
            "currency": "USD",
            "amount": M29,
            "confidence": "unverified",  # no source
        }
    ]
    assert [(i["seq"], i["paid"], i["outstanding"], i["state"]) for i in data["installments"]] == [
        (1, M29, "0.00", "paid"),
        (2, "0.00", M29, "overdue"),
        (3, "0.00", M29, "overdue"),
    ]
    assert (data["disbursed"], data["outstanding"], data["status"]) == (
        M29,
        "58000000.00",
        "pledge",
    )


def test_a_part_payment_stays_on_the_earliest_installment(run: Run, qatar: int) -> None:
    assert pay(run, "1", "10M", "--on", "2025-05-10") == [1]
    assert pay(run, "1", "10M", "--on", "2025-05-20") == [2]
    assert paid(run) == ["20000000.00", "0.00", "0.00"]
    assert payments(run) == [
        (1, 1, "2025-05-10", "10000000.00"),
        (2, 1, "2025-05-20", "10000000.00"),
    ]


def test_a_larger_payment_spills_to_the_next_installments(run: Run, qatar: int) -> None:
    result = run("pay", "1", "30M", "--on", "2025-06-01")
    assert result.code == 0
    assert result.out == "1\n2\n"
    assert result.err.strip() == (
        "Recorded payment on pledge 1 (USD): installment 1: 29,000,000.00, "
        "installment 2: 1,000,000.00"
    )
    assert payments(run) == [(1, 1, "2025-06-01", M29), (2, 2, "2025-06-01", "1000000.00")]
    assert paid(run) == [M29, "1000000.00", "0.00"]


def test_spill_after_a_part_payment_fills_the_rest_first(run: Run, qatar: int) -> None:
    assert pay(run, "1", "10M", "--on", "2025-05-10") == [1]
    assert pay(run, "1", "50,000,000", "--on", "2025-06-10") == [2, 3, 4]
    assert payments(run) == [
        (1, 1, "2025-05-10", "10000000.00"),
        (2, 1, "2025-06-10", "19000000.00"),
        (3, 2, "2025-06-10", M29),
        (4, 3, "2025-06-10", "2000000.00"),
    ]
    assert paid(run) == [M29, M29, "2000000.00"]


def test_installment_option_targets_that_installment(run: Run, qatar: int) -> None:
    assert pay(run, "1", "29M", "--on", "2025-06-10", "--installment", "2") == [1]
    assert paid(run) == ["0.00", M29, "0.00"]
    # The next payment without --installment goes to the earliest unpaid one again.
    assert pay(run, "1", "1M", "--on", "2025-06-11") == [2]
    assert paid(run) == ["1000000.00", M29, "0.00"]


def test_installment_option_spills_to_later_then_earlier_ones(run: Run, qatar: int) -> None:
    assert pay(run, "1", "40M", "--on", "2025-06-10", "--installment", "2") == [1, 2]
    assert payments(run) == [(1, 2, "2025-06-10", M29), (2, 3, "2025-06-10", "11000000.00")]

    result = run("pay", "1", "20M", "--on", "2025-06-11", "--installment", "3")
    assert result.out == "3\n4\n"
    assert result.err.strip() == (
        "Recorded payment on pledge 1 (USD): installment 3: 18,000,000.00, "
        "installment 1: 2,000,000.00"
    )
    assert paid(run) == ["2000000.00", M29, M29]


def test_paying_the_whole_pledge_at_once_sets_status_paid(run: Run, qatar: int) -> None:
    assert pay(run, "1", "87M", "--on", "2025-07-08") == [1, 2, 3]
    assert paid(run) == [M29, M29, M29]
    rows = as_json(run, "pledge", "list")
    assert [(r["status"], r["disbursed"], r["outstanding"], r["fulfilled_pct"]) for r in rows] == [
        ("paid", "87000000.00", "0.00", "100.0")
    ]
    assert rows[0]["next_due"] is None
    assert [i["state"] for i in shown(run)["installments"]] == ["paid", "paid", "paid"]


def test_status_turns_paid_only_with_the_last_payment(run: Run) -> None:
    result = run(*QATAR[:-2], "--on", "2025-05-08", "--status", "commitment")
    assert result.code == 0
    for seq in (1, 2):
        assert pay(run, "1", "29M", "--on", f"2025-0{5 + seq}-08") == [seq]
        assert shown(run)["status"] == "commitment"
    assert pay(run, "1", "29M", "--on", "2025-08-08") == [3]
    assert shown(run)["status"] == "paid"


def test_source_is_linked_to_every_row_of_a_spilled_payment(run: Run, qatar: int) -> None:
    assert pay(run, "1", "30M", "--on", "2025-06-01", "--source", "https://sana.sy/x",
               "--confidence", "confirmed") == [1, 2]  # fmt: skip
    assert [d["confidence"] for d in shown(run)["disbursements"]] == ["confirmed"] * 2
    (source,) = as_json(run, "source", "list")
    assert (source["id"], source["url"], source["links"]) == (1, "https://sana.sy/x", 2)
    assert as_json(run, "source", "show", "1")["records"] == [
        {"kind": "payment", "record_id": 1, "confidence": "confirmed"},
        {"kind": "payment", "record_id": 2, "confidence": "confirmed"},
    ]
    # The pledge itself has no source: the payment's source does not speak for it.
    assert (shown(run)["confidence"], shown(run)["sources"]) == ("unverified", [])


@pytest.mark.parametrize(
    ("amount", "stored"),
    [
        ("29000000", M29),
        ("29,000,000", M29),
        ("29M", M29),
        ("0.5m", "500000.00"),
        ("12.34", "12.34"),
        ("0.01", "0.01"),
    ],
)
def test_amount_formats(run: Run, qatar: int, amount: str, stored: str) -> None:
    assert pay(run, "1", amount, "--on", "2025-06-01") == [1]
    assert payments(run) == [(1, 1, "2025-06-01", stored)]


def test_pays_in_the_currency_of_the_pledge(run: Run) -> None:
    assert run("pledge", "add", *AB, "--currency", "JPY", "--amount", "100", "--installments",
               "3", "--every", "month", "--on", "2025-01-01").code == 0  # fmt: skip
    result = run("pay", "1", "50", "--on", "2025-02-01")
    assert result.out == "1\n2\n"
    assert result.err.strip() == (
        "Recorded payment on pledge 1 (JPY): installment 1: 33, installment 2: 17"
    )
    assert paid(run) == ["33", "17", "0"]


def test_future_installments_are_part_paid_then_paid(run: Run) -> None:
    assert run("pledge", "add", *AB, "--currency", "EUR", "--each", "100", "--installments",
               "2", "--every", "year", "--first-due", "2099-06-30").code == 0  # fmt: skip
    assert pay(run, "1", "60", "--on", "2025-01-01") == [1]
    assert [i["state"] for i in shown(run)["installments"]] == ["part paid", "due"]
    assert pay(run, "1", "40", "--on", "2025-01-02") == [2]
    assert [i["state"] for i in shown(run)["installments"]] == ["paid", "due"]


# --- overpayment -------------------------------------------------------------------------


def test_overpayment_is_refused_and_nothing_is_written(run: Run, qatar: int, db_path: Path) -> None:
    before = row_counts(db_path)
    result = run("pay", "1", "88M", "--on", "2025-06-01")
    assert_error(
        result,
        "a payment of USD 88,000,000.00 exceeds the USD 87,000,000.00 outstanding on pledge 1",
        "(total 87,000,000.00)",
        "--force",
    )
    assert result.code == 1
    assert row_counts(db_path) == before
    assert shown(run)["status"] == "pledge"


def test_overpayment_after_a_part_payment_names_what_is_left(
    run: Run, qatar: int, db_path: Path
) -> None:
    assert pay(run, "1", "30M", "--on", "2025-06-01") == [1, 2]
    before = row_counts(db_path)
    result = run("pay", "1", "57000000.01", "--on", "2025-07-01", "--installment", "3")
    assert_error(result, "USD 57,000,000.01 exceeds the USD 57,000,000.00 outstanding", "--force")
    assert row_counts(db_path) == before
    assert paid(run) == [M29, "1000000.00", "0.00"]


def test_any_payment_on_a_paid_pledge_is_refused(run: Run, qatar: int, db_path: Path) -> None:
    assert pay(run, "1", "87M", "--on", "2025-06-01") == [1, 2, 3]
    before = row_counts(db_path)
    result = run("pay", "1", "0.01", "--on", "2025-06-02")
    assert_error(result, "USD 0.01 exceeds the USD 0.00 outstanding on pledge 1", "--force")
    assert row_counts(db_path) == before


def test_force_records_an_overpayment_on_the_last_installment(run: Run, qatar: int) -> None:
    result = run("pay", "1", "90M", "--on", "2025-06-01", "--force")
    assert result.code == 0
    assert result.out == "1\n2\n3\n"
    assert payments(run) == [
        (1, 1, "2025-06-01", M29),
        (2, 2, "2025-06-01", M29),
        (3, 3, "2025-06-01", "32000000.00"),
    ]
    data = shown(run)
    assert (data["disbursed"], data["outstanding"], data["fulfilled_pct"], data["status"]) == (
        "90000000.00",
        "-3000000.00",
        "103.4",
        "paid",
    )
    assert data["installments"][2]["outstanding"] == "-3000000.00"
    assert data["installments"][2]["state"] == "paid"


def test_force_on_a_paid_installment_puts_the_money_there(run: Run, qatar: int) -> None:
    assert pay(run, "1", "87M", "--on", "2025-06-01") == [1, 2, 3]
    assert pay(run, "1", "1M", "--on", "2025-06-02", "--installment", "1", "--force") == [4]
    assert payments(run)[-1] == (4, 1, "2025-06-02", "1000000.00")
    assert paid(run) == ["30000000.00", M29, M29]


def test_force_within_the_total_behaves_like_a_normal_payment(run: Run, qatar: int) -> None:
    assert pay(run, "1", "30M", "--on", "2025-06-01", "--force") == [1, 2]
    assert paid(run) == [M29, "1000000.00", "0.00"]
    assert shown(run)["status"] == "pledge"


# --- bad input ---------------------------------------------------------------------------

ON = ("--on", "2025-06-01")
BAD_PAYMENTS: list[tuple[tuple[str, ...], tuple[str, ...], int]] = [
    (("2", "29M", *ON), ("no pledge with id 2",), 1),
    (("1", "29M", *ON, "--installment", "4"), ("--installment", "'4' is not an installment of pledge 1 (it has 1 to 3)"), 1),
    (("1", "29M", *ON, "--installment", "0"), ("--installment", "'0' is not an installment"), 1),
    (("1", "abc", *ON), ("AMOUNT", "'abc' is not an amount"), 1),
    (("1", "0", *ON), ("AMOUNT", "'0' must be greater than zero"), 1),
    (("1", "1.234", *ON), ("AMOUNT", "'1.234' has more decimals than USD allows (2)"), 1),
    (("1", "29M", "--on", "2025-13-01"), ("--on", "'2025-13-01' is not a date"), 1),
    (("1", "29M", "--on", "10/06/2025"), ("--on", "'10/06/2025' is not a date", "YYYY-MM-DD"), 1),
    (("1", "29M"), ("Missing option '--on'",), 2),
    (("1",), ("Missing argument 'AMOUNT'",), 2),
    (("one", "29M", *ON), ("Invalid value for 'PLEDGE_ID'",), 2),
    (("1", "29M", *ON, "--installment", "two"), ("Invalid value for '--installment'",), 2),
]  # fmt: skip


@pytest.mark.parametrize(("args", "fragments", "code"), BAD_PAYMENTS)
def test_bad_payments_are_refused_and_nothing_is_written(
    run: Run,
    qatar: int,
    db_path: Path,
    args: tuple[str, ...],
    fragments: tuple[str, ...],
    code: int,
) -> None:
    assert pay(run, "1", "1M", "--on", "2025-05-30") == [1]
    before = row_counts(db_path)
    result = run("pay", *args)
    assert_error(result, *fragments)
    assert result.code == code
    assert row_counts(db_path) == before
    assert paid(run) == ["1000000.00", "0.00", "0.00"]


def test_a_named_installment_already_paid_is_refused(run: Run, qatar: int, db_path: Path) -> None:
    assert pay(run, "1", "29M", "--on", "2025-06-01") == [1]
    before = row_counts(db_path)
    result = run("pay", "1", "1M", "--on", "2025-06-02", "--installment", "1")
    assert_error(
        result,
        "installment 1 of pledge 1 is already paid in full",
        "--installment",
        "--force",
    )
    assert result.code == 1
    assert row_counts(db_path) == before


def test_a_fraction_of_a_yen_is_refused(run: Run, db_path: Path) -> None:
    assert run("pledge", "add", *AB, "--currency", "JPY", "--amount", "100",
               "--on", "2025-01-01").code == 0  # fmt: skip
    before = row_counts(db_path)
    assert_error(
        run("pay", "1", "1.5", *ON), "AMOUNT", "'1.5' has more decimals than JPY allows (0)"
    )
    assert row_counts(db_path) == before


def test_pay_on_an_empty_database(run: Run, db_path: Path) -> None:
    assert run("db", "upgrade").code == 0
    assert_error(run("pay", "1", "5", *ON), "no pledge with id 1")
    assert row_counts(db_path) == EMPTY

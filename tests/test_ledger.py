"""The ledger's consistency: history in each version's currency, one fact per rate pair and
day, standings in SQL, and schedules that shrink past voided payments without losing them."""

from typing import Any

from tests.conftest import Run, as_json, assert_error
from tests.test_provenance import at, ok

# A JPY pledge with a voided payment, then edited to KWD: 1000 minor units either way.
JPY_TO_KWD = [
    ("2025-01-01", ["pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "JPY",
                    "--amount", "1000", "--first-due", "2025-02-01", "--on", "2025-01-01"]),
    ("2025-01-02", ["pay", "1", "300", "--on", "2025-01-02"]),
    ("2025-01-03", ["void", "payment", "1", "--reason", "wrong pledge"]),
    ("2025-01-04", ["pledge", "edit", "1", "--currency", "KWD", "--amount", "1",
                    "--reason", "restated in KWD"]),
]  # fmt: skip


def replay(run: Run, steps: list[tuple[str, list[str]]]) -> None:
    for day, args in steps:
        with at(day):
            ok(run, *args)


def changes(history: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    return [(row["what"], row["field"], row["from"], row["to"]) for row in history]


def test_history_shows_each_version_amount_in_that_version_currency(run: Run) -> None:
    replay(run, JPY_TO_KWD)
    history = changes(as_json(run, "history", "pledge", "1"))
    assert history == [
        ("pledge 1", "recorded", "", "donor A, recipient B, currency JPY, amount JPY 1,000, "
         "status pledge, announced 2025-01-01, schedule assumed no"),
        ("installment 1", "added", "", "due 2025-02-01, JPY 1,000"),
        ("payment 1", "added", "", "paid 2025-01-02, JPY 300"),
        ("payment 1", "voided", "", "2025-01-03 10:00:00 UTC"),
        ("pledge 1", "currency", "JPY", "KWD"),
        # The same 1000 minor units, but not the same amount: the history says so.
        ("pledge 1", "amount", "JPY 1,000", "KWD 1.000"),
        ("installment 1", "amount", "JPY 1,000", "KWD 1.000"),
        # The voided payment is kept as it was when voided: JPY, and unchanged.
    ]  # fmt: skip
    payment = changes(as_json(run, "history", "payment", "1"))
    assert payment == [
        ("payment 1", "recorded", "", "pledge 1, installment 1, paid 2025-01-02, amount JPY 300"),
        ("payment 1", "voided", "", "2025-01-03 10:00:00 UTC"),
    ]
    csv = run("history", "pledge", "1", "--format", "csv").out
    assert "KWD 0.300" not in csv and "JPY 300" in csv


def test_views_as_known_before_a_currency_change_use_the_old_currency(run: Run) -> None:
    replay(run, JPY_TO_KWD)
    before = as_json(run, "pledge", "show", "1", "--known-on", "2025-01-02")
    assert (before["currency"], before["pledged"], before["disbursed"]) == ("JPY", "1000", "300")
    assert [(i["currency"], i["amount"]) for i in before["installments"]] == [("JPY", "1000")]
    assert [(p["currency"], p["amount"]) for p in before["disbursements"]] == [("JPY", "300")]
    [total] = [r for r in as_json(run, "totals", "--known-on", "2025-01-03") if r["total"]]
    assert (total["currency"], total["pledged"]) == ("JPY", "1000")
    [total] = [r for r in as_json(run, "totals", "--known-on", "2025-01-04") if r["total"]]
    assert (total["currency"], total["pledged"]) == ("KWD", "1.000")


def test_a_schedule_shrinks_past_a_voided_payment_and_keeps_it(run: Run, db_url: str) -> None:
    from tests.test_provenance import counts

    replay(run, [
        ("2025-01-01", ["pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "USD",
                        "--amount", "300", "--installments", "3", "--every", "month",
                        "--first-due", "2025-02-01", "--on", "2025-01-01"]),
        ("2025-01-02", ["pay", "1", "100", "--on", "2025-01-02", "--installment", "3"]),
        ("2025-01-03", ["void", "payment", "1", "--reason", "wrong pledge"]),
    ])  # fmt: skip
    before = counts(db_url)
    with at("2025-01-04"):
        ok(run, "pledge", "edit", "1", "--installments", "2", "--amount", "300", "--reason", "x")
    after = counts(db_url)
    assert after["disbursements"] == before["disbursements"] == 1  # the voided payment stays
    assert after["installments"] == 2
    assert after["installments_history"] == before["installments_history"] + 3  # 1, 2 and 3
    shown = as_json(run, "pledge", "show", "1")
    assert [(i["seq"], i["amount"], i["paid"]) for i in shown["installments"]] == [
        (1, "150.00", "0.00"),
        (2, "150.00", "0.00"),
    ]
    # Installments by their number, not their row id; the move is in the payment's history.
    assert changes(as_json(run, "history", "payment", "1")) == [
        (
            "payment 1",
            "recorded",
            "",
            "pledge 1, installment 3, paid 2025-01-02, amount USD 100.00",
        ),
        ("payment 1", "voided", "", "2025-01-03 10:00:00 UTC"),
        ("payment 1", "installment", "3", "2"),
    ]
    # The schedule can grow back; a live payment on a removed installment is still refused.
    with at("2025-01-05"):
        ok(run, "pledge", "edit", "1", "--installments", "3", "--amount", "300", "--reason", "y")
        ok(run, "pay", "1", "50", "--on", "2025-01-05", "--installment", "3")
        result = run("pledge", "edit", "1", "--installments", "2", "--amount", "300")
    assert_error(result, "installment 3 of pledge 1 has USD 50.00 paid against it")


def test_dates_at_the_ends_of_the_calendar_are_clean_errors_or_work(run: Run) -> None:
    """Schedules past 9999-12-31 are refused; windows, views and rate ages near the ends of the
    calendar work instead of ending in an unexpected OverflowError."""
    from tests.conftest import row_counts

    ok(run, "pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "USD",
       "--amount", "300", "--installments", "3", "--every", "month", "--first-due", "2025-01-01")  # fmt: skip
    ok(run, "rate", "add", "EUR", "USD", "1.1", "--on", "0001-01-01")
    before = row_counts()
    past_9999 = "would run past 9999-12-31, the last date fintrack can store"
    for args in (
        ["pledge", "edit", "1", "--installments", "99999", "--amount", "300000"],
        ["pledge", "edit", "1", "--first-due", "9999-12-31"],
        ["pledge", "edit", "1", "--every", "week", "--first-due", "9999-12-20"],
        ["pledge", "add", "--donor", "A", "--recipient", "C", "--currency", "USD", "--amount",
         "3", "--installments", "3", "--every", "month", "--first-due", "9999-12-31"],
    ):  # fmt: skip
        result = run(*args, "--reason", "r") if args[1] == "edit" else run(*args)
        assert_error(result, "Error: --installments: ", past_9999)
        assert result.code == 1
    assert row_counts() == before
    converted = as_json(run, "rate", "convert", "1", "EUR", "--to", "USD", "--on", "0001-01-01")
    assert converted[0]["converted"] == "1.10"
    deadlines = as_json(run, "deadlines", "--as-of", "9999-12-20", "--within", "365")
    assert [row["detail"] for row in deadlines] == [f"installment {i} of 3" for i in (1, 2, 3)]
    assert as_json(run, "rate", "list", "--known-on", "9999-12-31")[0]["rate"] == "1.1"
    [total] = [r for r in as_json(run, "totals", "--known-on", "9999-12-31") if r["total"]]
    assert total["pledged"] == "300.00"

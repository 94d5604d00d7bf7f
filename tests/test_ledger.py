"""The ledger's consistency: history in each version's currency, one fact per rate pair and
day, standings in SQL, and schedules that shrink past voided payments without losing them."""

from typing import Any

from tests.conftest import Run, as_json
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

"""Totals and deadlines: figures per currency, never mixed, and dates with days left."""

import csv
import io

from tests.conftest import QATAR, Run, added, as_json, assert_error


def pledge(run: Run, *args: str) -> int:
    return added(run, "pledge", "add", *args)


def sanction(run: Run, *args: str) -> int:
    return added(run, "sanction", "add", *args)


def several_pledges(run: Run) -> None:
    """Four pledges, two of them part paid; Germany's pledge to Syria and Qatar's payment are
    confirmed by a source, nothing else has one (unconfirmed)."""
    pledge(run, *QATAR[2:])
    pledge(run, "--donor", "Saudi Arabia", "--recipient", "Syria", "--currency", "USD",
           "--amount", "15M", "--on", "2025-04-27")  # fmt: skip
    pledge(run, "--donor", "Germany", "--recipient", "Syria", "--currency", "EUR",
           "--amount", "300M", "--on", "2025-03-17", "--installments", "2", "--every", "quarter",
           "--source", "https://example.org/de-sy", "--confidence", "confirmed")  # fmt: skip
    pledge(run, "--donor", "Germany", "--recipient", "Lebanon", "--currency", "EUR",
           "--amount", "0.10", "--on", "2025-03-17", "--installments", "3", "--every", "month")  # fmt: skip
    assert run("pay", "1", "29M", "--on", "2025-05-20", "--source", "https://example.org/qa-paid",
               "--confidence", "confirmed").code == 0  # fmt: skip
    assert run("pay", "3", "100M", "--on", "2025-04-01").code == 0


def test_totals_per_donor_and_recipient_with_a_total_row_per_currency(run: Run) -> None:
    several_pledges(run)
    result = run("totals", "--format", "csv")
    assert result.out == (
        "donor,recipient,currency,pledges,pledged,disbursed,outstanding,fulfilled_pct,"
        "pledged_unconfirmed,disbursed_unconfirmed,total\n"
        "Germany,Lebanon,EUR,1,0.10,0.00,0.10,0.0,0.10,0.00,false\n"
        "Germany,Syria,EUR,1,300000000.00,100000000.00,200000000.00,33.3,0.00,100000000.00,false\n"
        ",,EUR,2,300000000.10,100000000.00,200000000.10,33.3,0.10,100000000.00,true\n"
        "Qatar,Syria,USD,1,87000000.00,29000000.00,58000000.00,33.3,87000000.00,0.00,false\n"
        "Saudi Arabia,Syria,USD,1,15000000.00,0.00,15000000.00,0.0,15000000.00,0.00,false\n"
        ",,USD,2,102000000.00,29000000.00,73000000.00,28.4,102000000.00,0.00,true\n"
    )


def test_totals_table_labels_total_rows_and_groups_thousands(run: Run) -> None:
    several_pledges(run)
    out = run("totals").out
    assert "Qatar" in out and "87,000,000.00" in out and "33.3%" in out
    assert "102,000,000.00" in out
    assert out.count("Total") == 3  # the title and one row per currency


def test_totals_by_donor_recipient_month_and_currency(run: Run) -> None:
    several_pledges(run)
    by_donor = as_json(run, "totals", "--by", "donor")
    assert [(r["donor"], r["currency"], r["pledged"]) for r in by_donor] == [
        ("Germany", "EUR", "300000000.10"),
        (None, "EUR", "300000000.10"),
        ("Qatar", "USD", "87000000.00"),
        ("Saudi Arabia", "USD", "15000000.00"),
        (None, "USD", "102000000.00"),
    ]
    assert "recipient" not in by_donor[0]
    by_recipient = as_json(run, "totals", "--by", "recipient", "--currency", "eur")
    assert [(r["recipient"], r["outstanding"]) for r in by_recipient] == [
        ("Lebanon", "0.10"),
        ("Syria", "200000000.00"),
        (None, "200000000.10"),
    ]
    by_month = as_json(run, "totals", "--by", "month", "--currency", "USD")
    assert [(r["month"], r["pledged"], r["disbursed"]) for r in by_month] == [
        ("2025-04", "15000000.00", "0.00"),
        ("2025-05", "29000000.00", "29000000.00"),
        ("2025-06", "29000000.00", "0.00"),
        ("2025-07", "29000000.00", "0.00"),
        (None, "102000000.00", "29000000.00"),
    ]
    by_currency = as_json(run, "totals", "--by", "currency")
    assert [(r["currency"], r["pledges"], r["fulfilled_pct"], r["total"]) for r in by_currency] == [
        ("EUR", 2, "33.3", True),
        ("USD", 2, "28.4", True),
    ]


def test_uneven_split_month_totals_add_up_to_the_pledge(run: Run) -> None:
    several_pledges(run)
    rows = as_json(run, "totals", "--by", "month", "--donor", "germany", "--recipient", "Lebanon")
    assert [(r["month"], r["pledged"]) for r in rows] == [
        ("2025-03", "0.03"),
        ("2025-04", "0.03"),
        ("2025-05", "0.04"),
        (None, "0.10"),
    ]


def test_totals_of_an_empty_database(run: Run) -> None:
    result = run("totals")
    assert result.code == 0
    assert result.out == ""
    assert "No pledges match." in result.err
    assert as_json(run, "totals") == []


def test_totals_bad_grouping_and_currency(run: Run) -> None:
    assert_error(run("totals", "--by", "week"), "--by", "pair, donor, recipient, month, currency")
    assert_error(run("totals", "--currency", "XXX1"), "--currency")


def test_forced_overpayment_shows_over_one_hundred_percent(run: Run) -> None:
    pledge(run, "--donor", "A", "--recipient", "B", "--currency", "KWD", "--amount", "1.000",
           "--on", "2025-01-01")  # fmt: skip
    assert run("pay", "1", "1.500", "--on", "2025-01-02", "--force").code == 0
    (row, _total) = as_json(run, "totals")
    assert (row["pledged"], row["disbursed"], row["outstanding"], row["fulfilled_pct"]) == (
        "1.000",
        "1.500",
        "-0.500",
        "150.0",
    )


def test_deadlines_lists_installments_deadlines_and_expiries_in_the_window(run: Run) -> None:
    several_pledges(run)
    sanction(run, "--authority", "EU", "--program", "EU-SYR", "--target", "SY", "--action",
             "extend", "--status", "planned", "--deadline", "2025-06-01", "--deadline-label",
             "regime lapses unless renewed")  # fmt: skip
    sanction(run, "--authority", "US", "--target", "SY", "--action", "waiver",
             "--effective", "2025-05-23", "--expires", "2025-11-19")  # fmt: skip
    sanction(run, "--authority", "UK", "--target", "SY", "--action", "impose",
             "--status", "revoked", "--deadline", "2025-05-30")  # fmt: skip
    rows = as_json(run, "deadlines", "--as-of", "2025-05-08")
    assert [(r["date"], r["days_left"], r["state"], r["kind"], r["amount"]) for r in rows] == [
        ("2025-03-17", -52, "overdue", "installment", "50000000.00"),
        ("2025-03-17", -52, "overdue", "installment", "0.03"),
        ("2025-04-17", -21, "overdue", "installment", "0.03"),
        ("2025-04-27", -11, "overdue", "installment", "15000000.00"),
        ("2025-05-17", 9, "soon", "installment", "0.04"),
        ("2025-06-01", 24, "upcoming", "deadline", None),
        ("2025-06-08", 31, "upcoming", "installment", "29000000.00"),
        ("2025-06-17", 40, "upcoming", "installment", "150000000.00"),
        ("2025-07-08", 61, "upcoming", "installment", "29000000.00"),
    ]
    assert rows[5]["detail"] == "regime lapses unless renewed"
    assert rows[5]["subject"] == "EU EU-SYR"
    assert rows[6]["detail"] == "installment 2 of 3 (date assumed)"
    # --within 0 keeps only what is overdue (and due today); the revoked deadline never shows.
    overdue = as_json(run, "deadlines", "--as-of", "2025-05-08", "--within", "0")
    assert [(r["date"], r["subject"]) for r in overdue] == [
        ("2025-03-17", "Germany → Syria"),
        ("2025-03-17", "Germany → Lebanon"),
        ("2025-04-17", "Germany → Lebanon"),
        ("2025-04-27", "Saudi Arabia → Syria"),
    ]
    later = as_json(run, "deadlines", "--as-of", "2025-11-01", "--within", "30")
    assert ("2025-11-19", 18, "expiry") in [(r["date"], r["days_left"], r["kind"]) for r in later]


def test_deadlines_partly_paid_installment_shows_what_is_left(run: Run) -> None:
    pledge(run, *QATAR[2:])
    assert run("pay", "1", "40M", "--on", "2025-05-10").code == 0
    rows = as_json(run, "deadlines", "--as-of", "2025-05-10", "--within", "30")
    assert [(r["date"], r["amount"], r["detail"]) for r in rows] == [
        ("2025-06-08", "18000000.00", "installment 2 of 3 (date assumed)"),
    ]


def test_deadlines_csv_and_table(run: Run) -> None:
    pledge(run, *QATAR[2:])
    out = run("deadlines", "--as-of", "2025-05-08", "--format", "csv").out
    table = list(csv.DictReader(io.StringIO(out)))
    assert [r["days_left"] for r in table] == ["0", "31", "61"]
    assert table[0]["amount"] == "29000000.00"
    text = run("deadlines", "--as-of", "2025-05-08").out
    assert "Qatar → Syria" in text and "29,000,000.00" in text and "today" in text


def test_deadlines_nothing_due_and_bad_input(run: Run) -> None:
    result = run("deadlines", "--as-of", "2025-01-01")
    assert result.code == 0 and result.out == ""
    assert "Nothing falls due" in result.err
    assert_error(run("deadlines", "--as-of", "8 May 2025"), "--as-of", "YYYY-MM-DD")
    assert_error(run("deadlines", "--within", "-1"), "--within", "from 0 to 36500 days")
    assert_error(run("deadlines", "--within", "99999999999"), "--within", "from 0 to 36500 days")
    assert_error(run("deadlines", "--within", "soon"), "--within")

"""Exchange rates: recording and listing them, and which rate converts what on which day."""

from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest

from fintrack.changes import begin_change
from fintrack.errors import FintrackError
from fintrack.rates import MissingRate, RateBook, add_rate, parse_rate, shown_rate
from fintrack.store import Database
from tests.conftest import Run, as_json, assert_error

MAY8 = date(2025, 5, 8)


def rates(run: Run) -> list[dict[str, str | None]]:
    listed: list[dict[str, str | None]] = as_json(run, "rate", "list")
    return listed


# --- rate add and rate list ----------------------------------------------------------------


def test_add_and_list_keep_the_rate_exact(run: Run) -> None:
    result = run("rate", "add", "EUR", "USD", "1.1275", "--on", "2025-05-08", "--source", "ECB")
    assert (result.code, result.out) == (0, "")
    assert result.err.strip() == "Added EUR/USD 1.1275 on 2025-05-08"
    assert run("rate", "add", "usd", "qar", "3.640", "--on", "2025-05-08").code == 0
    assert (
        run("rate", "add", "USD", "JPY", "145.123456789012345678", "--on", "2025-05-09").code == 0
    )
    assert rates(run) == [
        {"base": "EUR", "quote": "USD", "on": "2025-05-08", "rate": "1.1275", "source": "ECB"},
        {"base": "USD", "quote": "JPY", "on": "2025-05-09", "rate": "145.123456789012345678",
         "source": None},
        {"base": "USD", "quote": "QAR", "on": "2025-05-08", "rate": "3.64", "source": None},
    ]  # fmt: skip
    csv = run("rate", "list", "--currency", "qar", "--format", "csv").out
    assert csv == "base,quote,on,rate,source\nUSD,QAR,2025-05-08,3.64,\n"
    window = as_json(run, "rate", "list", "--from", "2025-05-09", "--to", "2025-05-09")
    assert [r["quote"] for r in window] == ["JPY"]


def test_the_same_rate_twice_changes_nothing_and_a_different_one_needs_replace(run: Run) -> None:
    assert run("rate", "add", "EUR", "USD", "1.1275", "--on", "2025-05-08").code == 0
    again = run("rate", "add", "EUR", "USD", "1.12750", "--on", "2025-05-08")
    assert again.code == 0
    assert "already recorded; nothing changed" in again.err
    assert_error(
        run("rate", "add", "EUR", "USD", "1.13", "--on", "2025-05-08"),
        "EUR/USD rate for 2025-05-08 is already recorded (1.1275)",
        "--replace",
    )
    assert [r["rate"] for r in rates(run)] == ["1.1275"]
    replaced = run("rate", "add", "EUR", "USD", "1.13", "--on", "2025-05-08", "--replace")
    assert replaced.err.strip() == "Replaced EUR/USD 1.13 on 2025-05-08"
    assert [r["rate"] for r in rates(run)] == ["1.13"]


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("EUR", "XYZ", "1.1", "--on", "2025-05-08"), ["QUOTE", "'XYZ' is not an ISO 4217"]),
        (("EURO", "USD", "1.1", "--on", "2025-05-08"), ["BASE", "three letters"]),
        (("XAU", "USD", "1.1", "--on", "2025-05-08"), ["BASE", "no minor unit"]),
        (("EUR", "EUR", "1", "--on", "2025-05-08"), ["the base currency too"]),
        (("EUR", "USD", "0", "--on", "2025-05-08"), ["RATE: '0' must be greater than zero"]),
        (("EUR", "USD", "0.000", "--on", "2025-05-08"), ["must be greater than zero"]),
        (("EUR", "USD", "-1.1", "--on", "2025-05-08"), ["RATE: '-1.1' must be greater than zero"]),
        (("EUR", "USD", "1.1e3", "--on", "2025-05-08"), ["'1.1e3' is not a rate"]),
        (("EUR", "USD", "NaN", "--on", "2025-05-08"), ["'NaN' is not a rate"]),
        (("EUR", "USD", "1,1", "--on", "2025-05-08"), ["'1,1' is not a rate"]),
        (("EUR", "USD", "1." + "1" * 30, "--on", "2025-05-08"), ["more than 30 significant"]),
        (("EUR", "USD", "1.1"), ["Missing option '--on'"]),
        (("EUR", "USD", "1.1", "--on", "8 May"), ["--on", "is not a date"]),
        (("EUR", "USD", "1.1", "--on", ""), ["--on", "is not a date"]),
    ],
)
def test_bad_rates_are_refused_and_nothing_is_written(
    run: Run, args: tuple[str, ...], fragments: list[str]
) -> None:
    assert run("rate", "add", "GBP", "USD", "1.33", "--on", "2025-05-08").code == 0
    assert_error(run("rate", "add", *args), *fragments)
    assert len(rates(run)) == 1


def test_parse_rate_accepts_thousands_separators_and_drops_trailing_zeros() -> None:
    assert parse_rate("1,234.50") == Decimal("1234.5")
    assert str(parse_rate("100")) == "100"
    assert str(parse_rate(".5")) == "0.5"


# --- which rate converts what on which day -------------------------------------------------


@pytest.fixture
def db(empty_db: Path, db_url: str) -> Database:
    return Database(db_url)


def book_with(db: Database, *entries: tuple[str, str, str, date], target: str = "USD",
              max_age: int = 7) -> RateBook:  # fmt: skip
    with db.session(write=True) as session:
        begin_change(session, "test: rates")
        for base, quote, rate, on in entries:
            add_rate(session, base, quote, rate, on)
    with db.session() as session:
        return RateBook(session, target, max_age)


def test_direct_rate_of_the_value_date(db: Database) -> None:
    book = book_with(db, ("EUR", "USD", "1.1275", MAY8), ("EUR", "USD", "1.2", MAY8 + timedelta(1)))
    conversion = book.convert("EUR", MAY8)
    assert (conversion.rate, conversion.rate_on, conversion.route) == (
        Fraction("1.1275"),
        MAY8,
        "direct",
    )
    # 1,000.01 EUR is 1,127.5112750 USD: rounded once, to the cent.
    assert conversion.exact(100001) == Fraction("112751.12750")
    assert round(conversion.exact(100001)) == 112751


def test_an_earlier_rate_counts_up_to_the_tolerance_and_no_further(db: Database) -> None:
    book = book_with(db, ("EUR", "USD", "1.1", MAY8))
    assert book.convert("EUR", MAY8 + timedelta(days=7)).rate_on == MAY8
    with pytest.raises(MissingRate) as missing:
        book.convert("EUR", MAY8 + timedelta(days=8))
    assert "no EUR/USD exchange rate for 2025-05-16 or in the 7 days before it" in str(
        missing.value
    )
    # A rate dated after the value date is never used.
    with pytest.raises(MissingRate):
        book.convert("EUR", MAY8 - timedelta(days=1))


def test_tolerance_zero_means_the_rate_of_that_very_day(db: Database) -> None:
    book = book_with(db, ("EUR", "USD", "1.1", MAY8), max_age=0)
    assert book.convert("EUR", MAY8).rate == Fraction("1.1")
    with pytest.raises(MissingRate, match="on that day"):
        book.convert("EUR", MAY8 + timedelta(days=1))


def test_the_inverse_of_a_rate_converts_the_other_way(db: Database) -> None:
    book = book_with(db, ("USD", "QAR", "3.64", MAY8))
    conversion = book.convert("QAR", MAY8)
    assert (conversion.rate, conversion.route) == (1 / Fraction("3.64"), "inverse")
    assert conversion.shown_rate == Decimal("0.274725274725")
    # QAR 3,640,000.00 is exactly USD 1,000,000.00: the inverse is exact, not 0.2747... times.
    assert round(conversion.exact(364_000_000)) == 100_000_000


def test_the_newer_of_direct_and_inverse_wins(db: Database) -> None:
    book = book_with(db, ("EUR", "USD", "1.10", MAY8), ("USD", "EUR", "0.8", MAY8 + timedelta(2)))
    assert book.convert("EUR", MAY8 + timedelta(3)).route == "inverse"
    assert book.convert("EUR", MAY8 + timedelta(1)).route == "direct"
    # For one day a rate and its inverse are one fact: a contradicting one is refused (a
    # database holding both from an older fintrack: see tests/test_ledger.py).
    with pytest.raises(FintrackError, match="already recorded as its inverse"):
        book_with(db, ("USD", "EUR", "0.9", MAY8 + timedelta(5)),
                  ("EUR", "USD", "1.2", MAY8 + timedelta(5)))  # fmt: skip


def test_a_cross_rate_through_one_currency(db: Database) -> None:
    # Only QAR/USD and EUR/USD are known: QAR to EUR goes through USD.
    book = book_with(
        db,
        ("USD", "QAR", "3.64", MAY8),
        ("EUR", "USD", "1.1275", MAY8 - timedelta(2)),
        target="EUR",
    )
    conversion = book.convert("QAR", MAY8)
    assert conversion.route == "via USD"
    assert conversion.rate == 1 / Fraction("3.64") / Fraction("1.1275")
    assert conversion.rate_on == MAY8 - timedelta(2)  # the older of the two legs
    # QAR 1,000,000.00 -> USD 274,725.2747... -> EUR 243,658.7802...: one rounding at the end.
    assert round(conversion.exact(100_000_000)) == 24_365_878


def test_two_steps_through_other_currencies_are_not_guessed(db: Database) -> None:
    book = book_with(db, ("SAR", "QAR", "0.97", MAY8), ("QAR", "GBP", "0.2", MAY8),
                     ("GBP", "USD", "1.33", MAY8))  # fmt: skip
    assert book.convert("QAR", MAY8).route == "via GBP"
    with pytest.raises(MissingRate, match="no SAR/USD exchange rate for 2025-05-08"):
        book.convert("SAR", MAY8)


def test_the_same_currency_needs_no_rate(db: Database) -> None:
    book = book_with(db)
    conversion = book.convert("USD", MAY8)
    assert (conversion.rate, conversion.rate_on, conversion.route) == (Fraction(1), None, "same")


def test_minor_units_follow_each_currency(db: Database) -> None:
    book = book_with(db, ("USD", "JPY", "145.5", MAY8), ("KWD", "USD", "3.2567", MAY8),
                     target="JPY")  # fmt: skip
    # USD 10.01 (1001 cents) is JPY 1,456.455, rounded half to even to JPY 1,456.
    assert round(book.convert("USD", MAY8).exact(1001)) == 1456
    # KWD 1.000 (1000 fils) is USD 3.2567 = JPY 473.84985: KWD's three decimals count.
    assert round(book.convert("KWD", MAY8).exact(1000)) == 474


def test_shown_rate_is_exact_for_decimals_and_twelve_digits_otherwise() -> None:
    assert shown_rate(Fraction("1.1275")) == Decimal("1.1275")
    assert shown_rate(Fraction(1, 3)) == Decimal("0.333333333333")
    assert shown_rate(Fraction(200, 3)) == Decimal("66.6666666667")


def test_bad_target_and_tolerance(run: Run, db: Database) -> None:
    with pytest.raises(FintrackError, match=r"^max_age: "):
        book_with(db, max_age=-1)
    assert_error(run("totals", "--in", "EURO"), "--in", "three letters")
    assert_error(run("totals", "--in", "EUR", "--max-rate-age", "400"), "--max-rate-age")
    assert_error(run("totals", "--working"), "--working", "needs --in")


def test_convert_command_shows_its_working(run: Run) -> None:
    assert run("rate", "add", "EUR", "USD", "1.1275", "--on", "2025-05-08").code == 0
    [row] = as_json(run, "rate", "convert", "29M", "USD", "--to", "EUR", "--on", "2025-05-10")
    assert row == {
        "value_date": "2025-05-10",
        "currency": "USD",
        "amount": "29000000.00",
        "rate": "0.886917960089",
        "rate_on": "2025-05-08",
        "route": "inverse",
        "target": "EUR",
        "converted": "25720620.84",  # 29,000,000 / 1.1275 = 25,720,620.842572...
    }
    assert_error(
        run("rate", "convert", "29M", "USD", "--to", "EUR", "--on", "2025-05-16"),
        "no USD/EUR exchange rate for 2025-05-16",
    )

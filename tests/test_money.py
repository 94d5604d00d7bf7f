"""Amounts and dates: parsing, ISO 4217 minor units, exact splits and schedules."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintrack.dates import parse_date, schedule
from fintrack.errors import InputError
from fintrack.money import (
    MAX_MINOR,
    exponent,
    format_amount,
    normalize_currency,
    parse_amount,
    percent,
    split_evenly,
    to_decimal,
)
from fintrack.vocab import Period


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("29000000", 2_900_000_000),
        ("29,000,000", 2_900_000_000),
        ("29M", 2_900_000_000),
        ("29m", 2_900_000_000),
        ("29 million", 2_900_000_000),
        ("1.5bn", 150_000_000_000),
        ("2B", 200_000_000_000),
        ("750k", 75_000_000),
        ("29000000.50", 2_900_000_050),
        ("0.01", 1),
        (".5", 50),
        ("1,234.56", 123_456),
    ],
)
def test_parse_amount_in_usd(text: str, minor: int) -> None:
    assert parse_amount(text, "USD") == minor


def test_parse_amount_uses_each_currencys_minor_unit() -> None:
    assert parse_amount("100", "JPY") == 100
    assert parse_amount("1.234", "KWD") == 1234
    assert parse_amount("1.5M", "JPY") == 1_500_000
    with pytest.raises(InputError, match="more decimals than JPY allows"):
        parse_amount("1.5", "JPY")
    with pytest.raises(InputError, match=r"more decimals than USD allows \(2\)"):
        parse_amount("1.234", "USD")


@pytest.mark.parametrize(
    "text", ["", "abc", "-5", "0", "0.00", "1,23", "12,3456", "1.2.3", "5 apples", "1e6", "29MM"]
)
def test_parse_amount_refuses(text: str) -> None:
    with pytest.raises(InputError, match=r"^amount: "):
        parse_amount(text, "USD")


def test_parse_amount_refuses_more_than_a_bigint_holds() -> None:
    assert parse_amount("92233720368547758.07", "USD") == MAX_MINOR
    with pytest.raises(InputError, match="too large"):
        parse_amount("92233720368547758.08", "USD")


def test_currencies_come_from_iso_4217() -> None:
    assert normalize_currency(" qar ") == "QAR"
    assert [exponent(c) for c in ("USD", "JPY", "KWD", "SYP", "EUR", "CLF")] == [2, 0, 3, 2, 2, 4]
    for bad, message in [("XYZ", "not an ISO 4217 currency"), ("dollars", "three letters"),
                         ("XAU", "no minor unit"), ("US", "three letters")]:  # fmt: skip
        with pytest.raises(InputError, match=message):
            normalize_currency(bad)


def test_format_amount() -> None:
    assert format_amount(8_700_000_000, "USD") == "87,000,000.00"
    assert format_amount(8_700_000_000, "USD", grouping=False) == "87000000.00"
    assert format_amount(0, "USD") == "0.00"
    assert format_amount(1234, "JPY") == "1,234"
    assert format_amount(-500, "KWD", grouping=False) == "-0.500"
    assert to_decimal(5, "USD") == Decimal("0.05")


def test_percent_rounds_half_to_even() -> None:
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")
    assert percent(1, 16) == Decimal("6.2")  # 6.25 -> 6.2, half to even
    assert percent(3, 16) == Decimal("18.8")  # 18.75 -> 18.8
    assert percent(5, 0) is None


@given(total=st.integers(min_value=1, max_value=MAX_MINOR), parts=st.integers(1, 500))
def test_split_adds_up_exactly_with_the_remainder_on_the_last(total: int, parts: int) -> None:
    if total < parts:
        return
    amounts = split_evenly(total, parts)
    assert len(amounts) == parts
    assert sum(amounts) == total
    assert len(set(amounts[:-1])) <= 1
    assert 0 <= amounts[-1] - amounts[0] < parts


@given(minor=st.integers(min_value=1, max_value=MAX_MINOR), currency=st.sampled_from(
    ["USD", "JPY", "KWD", "EUR", "QAR", "SAR", "GBP", "CLF", "BHD"]))  # fmt: skip
def test_plain_amounts_parse_back_to_the_same_minor_units(minor: int, currency: str) -> None:
    assert parse_amount(format_amount(minor, currency, grouping=False), currency) == minor
    assert parse_amount(format_amount(minor, currency), currency) == minor


def test_parse_date() -> None:
    assert parse_date("2025-06-01", "--on") == date(2025, 6, 1)
    assert parse_date("today", "--on") == date.today()
    for bad in ["2025-13-01", "2025-02-30", "01/06/2025", "2025-6-1", "20250601", "June 1"]:
        with pytest.raises(InputError, match=r"^--on: .*YYYY-MM-DD"):
            parse_date(bad, "--on")


def test_schedules_step_from_the_first_date() -> None:
    assert schedule(date(2025, 1, 31), 4, Period.MONTH) == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    assert schedule(date(2024, 2, 29), 3, Period.YEAR) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
    ]
    assert schedule(date(2025, 11, 30), 3, Period.QUARTER) == [
        date(2025, 11, 30),
        date(2026, 2, 28),
        date(2026, 5, 30),
    ]
    assert schedule(date(2025, 12, 29), 2, Period.WEEK) == [date(2025, 12, 29), date(2026, 1, 5)]

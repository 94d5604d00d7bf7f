"""Totals and deadlines in one reporting currency, each amount at the rate of its own date."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fintrack.changes import begin_change
from fintrack.models import Installment, Pledge
from fintrack.money import exponent, format_amount
from fintrack.pledges import PledgeInput, add_pledge, pay
from fintrack.rates import RateBook, add_rate
from fintrack.reports import Grouping, TotalsFilter, converted_totals
from fintrack.store import Database
from fintrack.vocab import Period
from tests.conftest import QATAR, Run, added, as_json, assert_error

# EUR/USD reference rates (ECB) on the days the founding case's money moved.
EUR_USD = {
    "2025-03-17": "1.0882",  # the EU's pledge
    "2025-04-01": "1.0807",  # its installment falls due
    "2025-04-15": "1.1323",  # the EU pays part of it
    "2025-05-08": "1.1275",  # Qatar's pledge, and its first installment
    "2025-06-02": "1.1444",  # Qatar pays the first installment
    "2025-06-06": "1.1419",  # the last rate before Qatar's second installment (8 June, a Sunday)
    "2025-07-08": "1.1728",  # Qatar's third installment
}


def reference(amount: str, rate: str | None, invert: bool, digits: int = 2) -> Decimal:
    """An amount converted with Decimal at ample precision, rounded half to even at the end."""
    with localcontext() as context:
        context.prec = 100
        value = Decimal(amount)
        if rate is not None:
            value = value / Decimal(rate) if invert else value * Decimal(rate)
        return value.quantize(Decimal(1).scaleb(-digits), ROUND_HALF_EVEN)


def money(value: Decimal) -> str:
    return f"{value:.2f}"


QATAR_PAID = "https://example.org/qatar-pays-first-installment"


def founding_case(run: Run) -> None:
    """Qatar's USD 87M (seeded, reported) with an EU pledge of EUR 175M beside it (no source),
    part of each paid: the EU's payment without a source, Qatar's confirmed by one."""
    assert run("seed").code == 0
    added(run, "pledge", "add", "--donor", "EU", "--recipient", "Syria", "--currency", "EUR",
          "--amount", "175M", "--on", "2025-03-17", "--first-due", "2025-04-01")  # fmt: skip
    assert run("pay", "2", "50M", "--on", "2025-04-15").code == 0
    assert run("pay", "1", "29M", "--on", "2025-06-02", "--source", QATAR_PAID,
               "--confidence", "confirmed").code == 0  # fmt: skip
    for day, rate in EUR_USD.items():
        assert run("rate", "add", "EUR", "USD", rate, "--on", day, "--source", "ECB").code == 0


def test_founding_case_in_usd(run: Run) -> None:
    founding_case(run)
    eu, qatar, total = as_json(run, "totals", "--in", "USD")
    r = EUR_USD
    eu_pledged = reference("175000000", r["2025-03-17"], invert=False)
    eu_paid = reference("50000000", r["2025-04-15"], invert=False)
    eu_left = reference("125000000", r["2025-04-01"], invert=False)
    assert eu == {
        "donor": "EU", "recipient": "Syria", "currencies": ["EUR"], "currency": "USD", "pledges": 2 - 1,
        "pledged": money(eu_pledged), "disbursed": money(eu_paid), "outstanding": money(eu_left),
        "fulfilled_pct": str((eu_paid * 100 / eu_pledged).quantize(Decimal("0.1"), ROUND_HALF_EVEN)),
        "pledged_unconfirmed": money(eu_pledged), "disbursed_unconfirmed": money(eu_paid),
        "total": False,
    }  # fmt: skip
    assert (qatar["pledged"], qatar["disbursed"], qatar["outstanding"]) == (
        "87000000.00",
        "29000000.00",
        "58000000.00",
    )
    assert (qatar["currencies"], qatar["fulfilled_pct"]) == (["USD"], "33.3")
    # The pledge is only reported; its payment is confirmed.
    assert (qatar["pledged_unconfirmed"], qatar["disbursed_unconfirmed"]) == ("87000000.00", "0.00")
    assert total["total"] is True
    assert total["currencies"] == ["EUR", "USD"]
    assert total["pledges"] == 2
    assert total["pledged"] == money(eu_pledged + 87_000_000)
    assert total["disbursed"] == money(eu_paid + 29_000_000)
    assert total["outstanding"] == money(eu_left + 58_000_000)
    assert total["pledged_unconfirmed"] == money(eu_pledged + 87_000_000)
    assert total["disbursed_unconfirmed"] == money(eu_paid)


def test_founding_case_in_eur(run: Run) -> None:
    founding_case(run)
    eu, qatar, total = as_json(run, "totals", "--in", "EUR")
    assert (eu["pledged"], eu["disbursed"], eu["outstanding"]) == (
        "175000000.00",
        "50000000.00",
        "125000000.00",
    )
    r = EUR_USD
    q_pledged = reference("87000000", r["2025-05-08"], invert=True)
    q_paid = reference("29000000", r["2025-06-02"], invert=True)
    # Outstanding: installment 2 at the rate of 6 June (none on 8 June), 3 at that of 8 July;
    # summed exactly and rounded once.
    with localcontext() as context:
        context.prec = 100
        exact_left = Decimal(29_000_000) / Decimal(r["2025-06-06"]) + Decimal(29_000_000) / Decimal(
            r["2025-07-08"]
        )
    q_left = exact_left.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
    assert (qatar["pledged"], qatar["disbursed"], qatar["outstanding"]) == (
        money(q_pledged),
        money(q_paid),
        money(q_left),
    )
    assert total["pledged"] == money(q_pledged + 175_000_000)
    assert total["disbursed"] == money(q_paid + 50_000_000)
    assert total["outstanding"] == money(q_left + 125_000_000)
    assert (total["pledged_unconfirmed"], total["disbursed_unconfirmed"]) == (
        total["pledged"],
        "50000000.00",  # the EU's payment; Qatar's is confirmed
    )


def test_working_shows_every_conversion_side_by_side(run: Run) -> None:
    founding_case(run)
    working = as_json(run, "totals", "--in", "EUR", "--working")
    qatar = [line for line in working if line["donor"] == "Qatar"]
    assert [(w["figure"], w["value_date"], w["rate_on"], w["route"]) for w in qatar] == [
        ("pledged", "2025-05-08", "2025-05-08", "inverse"),
        ("disbursed", "2025-06-02", "2025-06-02", "inverse"),
        ("outstanding", "2025-06-08", "2025-06-06", "inverse"),
        ("outstanding", "2025-07-08", "2025-07-08", "inverse"),
    ]
    pledged = qatar[0]
    assert (pledged["currency"], pledged["amount"], pledged["target"]) == (
        "USD",
        "87000000.00",
        "EUR",
    )
    assert pledged["rate"] == str((1 / Decimal("1.1275")).quantize(Decimal("1e-12")))
    assert pledged["converted"] == money(reference("87000000", "1.1275", invert=True))
    eu = [line for line in working if line["donor"] == "EU"]
    assert {line["route"] for line in eu} == {"same"}
    table = run("totals", "--in", "EUR", "--working")
    assert "Conversions into EUR" in table.out
    assert "0.886917960089" in table.out


def test_by_month_and_by_currency_in_one_currency(run: Run) -> None:
    founding_case(run)
    months = as_json(run, "totals", "--in", "USD", "--by", "month")
    assert [(m["month"], m["currencies"]) for m in months] == [
        ("2025-04", ["EUR"]),
        ("2025-05", ["USD"]),
        ("2025-06", ["USD"]),
        ("2025-07", ["USD"]),
        (None, ["EUR", "USD"]),
    ]
    by_currency = as_json(run, "totals", "--in", "USD", "--by", "currency")
    assert [(c["currencies"], c["total"]) for c in by_currency] == [
        (["EUR"], False),
        (["USD"], False),
        (["EUR", "USD"], True),
    ]
    csv = run("totals", "--in", "USD", "--by", "currency", "--format", "csv").out
    assert csv.splitlines()[-1].startswith("EUR; USD,USD,2,")
    # The months' pledged figures are the pledges' own, at each pledge's date.
    pair_total = as_json(run, "totals", "--in", "USD")[-1]
    assert months[-1]["pledged"] == by_currency[-1]["pledged"] == pair_total["pledged"]


@pytest.mark.parametrize("width", [40, 50, 80])
def test_by_currency_in_one_currency_keeps_what_tells_its_rows_apart(
    run: Run, monkeypatch: pytest.MonkeyPatch, width: int
) -> None:
    """Converted, every row's currency is the target: the currencies converted from are what
    tells the rows apart, so a narrow terminal leaves other columns out first."""
    founding_case(run)
    monkeypatch.setenv("COLUMNS", str(width))
    lines = run("totals", "--in", "USD", "--by", "currency").out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("From"))
    firsts = [line.split()[0] for line in lines[header + 2 : header + 5]]
    assert firsts == ["EUR", "USD", "EUR,"], lines
    assert all(len(line) <= width for line in lines)


def test_a_missing_rate_names_the_pair_and_the_date_and_shows_nothing(run: Run) -> None:
    founding_case(run)
    assert run("pledge", "add", "--donor", "Saudi Arabia", "--recipient", "Syria", "--currency",
               "SAR", "--amount", "15M", "--on", "2025-04-28").code == 0  # fmt: skip
    assert_error(
        run("totals", "--in", "USD"),
        "no SAR/USD exchange rate for 2025-04-28 or in the 7 days before it",
        "fintrack rate add SAR USD RATE --on 2025-04-28",
    )
    # The rate of 8 days before is too old, unless the tolerance is widened.
    assert run("rate", "add", "USD", "SAR", "3.75", "--on", "2025-04-20").code == 0
    assert_error(run("totals", "--in", "USD"), "SAR/USD", "2025-04-28")
    rows = as_json(run, "totals", "--in", "USD", "--max-rate-age", "8")
    saudi = next(row for row in rows if row["donor"] == "Saudi Arabia")
    assert saudi["pledged"] == "4000000.00"  # 15M SAR / 3.75


def test_amounts_not_yet_due_use_the_rates_of_rates_on(run: Run) -> None:
    added(run, "pledge", "add", "--donor", "EU", "--recipient", "Syria", "--currency", "EUR",
          "--amount", "10M", "--on", "2025-05-08", "--first-due", "2030-01-01")  # fmt: skip
    assert run("rate", "add", "EUR", "USD", "1.1275", "--on", "2025-05-08").code == 0
    assert run("rate", "add", "EUR", "USD", "1.2", "--on", "2025-06-01").code == 0
    rows = as_json(run, "totals", "--in", "USD", "--rates-on", "2025-06-03")
    assert (rows[0]["pledged"], rows[0]["outstanding"]) == ("11275000.00", "12000000.00")
    assert_error(run("totals", "--in", "USD", "--rates-on", "2025-06-20"), "2025-06-20")


def test_deadlines_in_another_currency(run: Run) -> None:
    founding_case(run)
    rows = as_json(run, "deadlines", "--as-of", "2025-06-03", "--within", "40", "--in", "EUR")
    installments = [row for row in rows if row["kind"] == "installment"]
    # The EU's overdue installment (EUR, no rate needed), then Qatar's two: both not yet due
    # on 3 June, so both at the rate of 3 June's latest, 2 June.
    assert [
        (r["date"], r["currency"], r["amount"], r["rate_on"], r["route"]) for r in installments
    ] == [
        ("2025-04-01", "EUR", "125000000.00", None, "same"),
        ("2025-06-08", "USD", "29000000.00", "2025-06-02", "inverse"),
        ("2025-07-08", "USD", "29000000.00", "2025-06-02", "inverse"),
    ]
    assert installments[1]["converted"] == money(reference("29000000", "1.1444", invert=True))
    expiry = next(row for row in rows if row["kind"] == "expiry")
    assert (expiry["converted"], expiry["rate"]) == (None, None)
    later = as_json(run, "deadlines", "--as-of", "2025-07-08", "--within", "0", "--in", "EUR")
    assert [r["rate_on"] for r in later if r["kind"] == "installment"][-1] == "2025-07-08"
    table = run("deadlines", "--as-of", "2025-06-03", "--within", "40", "--in", "EUR")
    assert "In EUR" in table.out
    assert "Rate date" in table.out
    assert_error(run("deadlines", "--as-of", "2025-06-20", "--in", "EUR"), "USD/EUR", "2025-06-20")


# --- no double counting ---------------------------------------------------------------------


def test_a_commitment_that_replaces_a_pledge_is_counted_once(run: Run) -> None:
    assert run(*QATAR).code == 0
    commitment = added(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria",
                       "--currency", "USD", "--each", "25M", "--installments", "3", "--every",
                       "month", "--on", "2025-06-01", "--status", "commitment",
                       "--replaces", "1")  # fmt: skip
    assert commitment == 2
    row, total = as_json(run, "totals")
    assert (row["pledges"], row["pledged"], total["pledged"]) == (1, "75000000.00", "75000000.00")
    listed = as_json(run, "pledge", "list")
    assert [(p["id"], p["replaces"], p["replaced_by"]) for p in listed] == [
        (1, None, 2),
        (2, 1, None),
    ]
    assert "replaced by 2" in run("pledge", "list").out
    deadlines = as_json(run, "deadlines", "--as-of", "2025-05-01", "--within", "120")
    assert {row["record_id"] for row in deadlines if row["kind"] == "installment"} == {2}
    assert_error(run("pay", "1", "1M", "--on", "2025-06-02"), "replaced by pledge 2")
    assert run("pay", "2", "25M", "--on", "2025-06-02").code == 0
    row, _ = as_json(run, "totals")
    assert (row["disbursed"], row["outstanding"]) == ("25000000.00", "50000000.00")


def test_replacing_is_refused_where_it_would_lose_or_double_money(run: Run) -> None:
    assert run(*QATAR).code == 0
    args = ("pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
            "--amount", "75M", "--on", "2025-06-01")  # fmt: skip
    assert_error(run(*args, "--replaces", "9"), "no pledge with id 9")
    assert run("pay", "1", "1M", "--on", "2025-05-09").code == 0
    assert_error(run(*args, "--replaces", "1"), "pledge 1 has payments recorded against it")
    assert len(as_json(run, "pledge", "list")) == 1
    added(run, "pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "EUR",
          "--amount", "5", "--on", "2025-01-01")  # fmt: skip
    assert added(run, *args, "--replaces", "2") == 3
    assert_error(run(*args, "--replaces", "2"), "pledge 2 is already replaced by pledge 3")
    assert len(as_json(run, "pledge", "list")) == 3


# --- properties -----------------------------------------------------------------------------


# The tests that use it run on one worker, so that it is migrated once.
SCRATCH = pytest.mark.xdist_group("conversion-scratch")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A SQLite file migrated to the current schema, shared by the hypothesis examples of this
    module: each works in a transaction of its own that is rolled back (a new file for each
    example, with its schema, took most of the time of these tests)."""
    database = Database(str(tmp_path_factory.mktemp("scratch") / "scratch.db"))
    database.upgrade()
    yield database.engine
    database.engine.dispose()


@contextmanager
def scratch_session(engine: Engine) -> Iterator[Session]:
    """A session on the empty scratch database for one hypothesis example, inside a change, so
    that records can be written; nothing of it is kept."""
    with Session(engine) as session:
        session.begin()
        try:
            assert session.scalar(select(func.count()).select_from(Pledge)) == 0
            begin_change(session, "test")
            yield session
        finally:
            session.rollback()


def _currencies_with_minor_units() -> list[str]:
    from iso4217 import Currency

    return sorted(c.code for c in Currency if c.exponent is not None)


ALL_CURRENCIES = _currencies_with_minor_units()


@SCRATCH
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    currency=st.sampled_from(ALL_CURRENCIES),
    minor=st.integers(min_value=1, max_value=10**15),
    count=st.integers(min_value=1, max_value=120),
)
def test_installments_add_up_to_the_total_in_every_currency(
    scratch: Engine, currency: str, minor: int, count: int
) -> None:
    digits = exponent(currency)
    if minor < count:
        minor = count  # each installment must be at least one minor unit
    amount = format_amount(minor, currency, grouping=False)
    with scratch_session(scratch) as session:
        pledge = add_pledge(session, PledgeInput(donor="D", recipient="R", currency=currency,
                                                 amount=amount, installments=count,
                                                 every=Period.MONTH, announced_on=date(2025, 1, 31)))  # fmt: skip
        total = pledge.amount_minor
        parts = session.scalars(
            select(Installment.amount_minor).where(Installment.pledge_id == pledge.id)
        ).all()
    assert total == minor
    assert sum(parts) == minor
    assert len(parts) == count
    assert max(parts) - min(parts) < count  # the remainder, on the last one
    assert Decimal(amount).as_tuple().exponent == -digits


POOL = ["USD", "EUR", "JPY", "KWD", "QAR", "GBP", "BHD", "CLF"]  # 2, 2, 0, 3, 2, 2, 3, 4 digits
RATES = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("5000"), places=6)
START = date(2025, 1, 1)

pledge_strategy = st.tuples(
    st.sampled_from(POOL),  # currency
    st.integers(min_value=1, max_value=10**13),  # amount, minor units
    st.integers(min_value=0, max_value=20),  # pledge date, days after START
    st.integers(min_value=0, max_value=100),  # percent of it paid
    st.integers(min_value=0, max_value=5),  # days after the pledge it was paid
)


@SCRATCH
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    target=st.sampled_from(POOL),
    pledges=st.lists(pledge_strategy, min_size=1, max_size=6),
    rates=st.dictionaries(
        st.tuples(st.sampled_from(POOL), st.integers(min_value=0, max_value=25)),
        st.tuples(RATES, st.booleans()),
        min_size=0,
    ),
)
def test_converted_totals_equal_a_decimal_reference(
    scratch: Engine,
    target: str,
    pledges: list[tuple[str, int, int, int, int]],
    rates: dict[tuple[str, int], tuple[Decimal, bool]],
) -> None:
    """Every amount converted at its own date's rate (direct or inverse), rounded once."""

    def rate_for(currency: str, day: int) -> tuple[Decimal, bool]:
        # Every currency has a rate on every day an amount is dated; draw one if hypothesis
        # left it out, so that examples do not stop at a missing rate.
        return rates.get((currency, day), (Decimal(day + 1) + Decimal("0.25"), day % 2 == 0))

    expected: dict[str, Decimal] = {"pledged": Decimal(0), "disbursed": Decimal(0),
                                    "outstanding": Decimal(0)}  # fmt: skip
    with localcontext() as context:
        context.prec = 120

        def converted(currency: str, minor: int, day: int) -> Decimal:
            value = Decimal(minor).scaleb(-exponent(currency))
            if currency != target:
                rate, inverse = rate_for(currency, day)
                value = value / rate if inverse else value * rate
            return value.scaleb(exponent(target))

        with scratch_session(scratch) as session:
            stored: set[tuple[str, str, int]] = set()
            for currency, minor, day, share, delay in pledges:
                on = START + timedelta(days=day)
                pledge = add_pledge(session, PledgeInput(
                    donor="D", recipient="R", currency=currency,
                    amount=format_amount(minor, currency, grouping=False), announced_on=on))  # fmt: skip
                paid = minor * share // 100
                if paid:
                    pay(session, pledge.id, format_amount(paid, currency, grouping=False),
                        on + timedelta(days=delay))  # fmt: skip
                for when in (day, day + delay):
                    if currency == target or (currency, target, when) in stored:
                        continue
                    rate, inverse = rate_for(currency, when)
                    base, quote = (target, currency) if inverse else (currency, target)
                    add_rate(session, base, quote, str(rate), START + timedelta(days=when))
                    stored.add((currency, target, when))
                expected["pledged"] += converted(currency, minor, day)
                expected["disbursed"] += converted(currency, paid, day + delay) if paid else 0
                expected["outstanding"] += converted(currency, minor - paid, day)
            book = RateBook(session, target, max_age=0)
            rows, _ = converted_totals(
                session, Grouping.CURRENCY, TotalsFilter(), book, START + timedelta(days=40)
            )
    total: dict[str, Any] = rows[-1]
    assert total["total"] is True
    for figure, value in expected.items():
        assert total[figure] == int(value.quantize(Decimal(1), ROUND_HALF_EVEN)), figure
    # No record has a source, so all of it rests on sources that do not confirm it.
    assert (total["pledged_unconfirmed"], total["disbursed_unconfirmed"]) == (
        total["pledged"],
        total["disbursed"],
    )

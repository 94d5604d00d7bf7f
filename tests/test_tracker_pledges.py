"""The tracker's pledge writes and the reads guided entry asks with, called directly: amounts
as text in a currency, the duplicate check, payments' rows, open pledges, what is
outstanding, known names and sources checked without writing."""

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

import fintrack
from fintrack import DuplicatePledge, InputError, Money, NotFound, Outstanding
from tests.conftest import row_counts

ON = date(2025, 5, 8)


def qatar(ch: fintrack.Change, **changes: object) -> fintrack.PledgeRow:
    """Qatar's three monthly installments of 29M, with `changes`."""
    fields: dict[str, object] = {
        "donor": "Qatar",
        "recipient": "Syria",
        "currency": "USD",
        "each": "29M",
        "installments": 3,
        "every": "month",
        "on": ON,
    }
    return ch.add_pledge(**(fields | changes))  # type: ignore[arg-type]


def test_amounts_as_text_are_read_in_the_currency_given(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            pledge = qatar(ch, currency="usd")
            jpy = ch.add_pledge(
                donor="Japan", recipient="Syria", amount="1.5bn", currency="JPY", on=ON
            )
        assert pledge.pledged == Money(3 * 29_000_000 * 100, "USD")
        assert pledge.installments == 3
        assert jpy.pledged == Money(1_500_000_000, "JPY")
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            ch.add_pledge(donor="Oman", recipient="Syria", amount="5M", on=ON)
        assert caught.value.field == "currency"
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            ch.add_pledge(donor="Oman", recipient="Syria", amount="5.001M", currency="USD", on=ON)
        assert caught.value.field == "amount"
        # A Money in another currency than the one named is refused, not converted.
        with pytest.raises(InputError, match="not in EUR"), tracker.change() as ch:
            ch.add_pledge(
                donor="Oman", recipient="Syria", amount=Money.parse("5M", "USD"),
                currency="EUR", on=ON,
            )  # fmt: skip
        assert [row.id for row in tracker.pledges()] == [pledge.id, jpy.id]


def test_a_duplicate_is_refused_naming_the_earlier_pledge_unless_allowed(
    db_url: str, db_path: Path
) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            first = qatar(ch)
        before = row_counts(db_path)
        with pytest.raises(DuplicatePledge) as caught, tracker.change() as ch:
            qatar(ch, donor="QATAR", recipient="syria")  # names compared ignoring case
        assert caught.value.earlier == first.id
        assert isinstance(caught.value, fintrack.Refused)
        assert str(caught.value) == (
            f"pledge {first.id} has the same donor, recipient, currency, amount and date; "
            "nothing added (pass allow_duplicate=True to add it anyway)"
        )
        assert row_counts(db_path) == before
        # The same total given otherwise (one amount, not three installments) is the same.
        with pytest.raises(DuplicatePledge), tracker.change() as ch:
            ch.add_pledge(donor="Qatar", recipient="Syria", amount="87M", currency="USD", on=ON)
        with tracker.change() as ch:
            second = qatar(ch, allow_duplicate=True)
            other_day = qatar(ch, on=date(2025, 5, 9))
        assert (second.id, other_day.id) == (first.id + 1, first.id + 2)
        # The pledge a new one replaces is not repeated by it.
        with tracker.change() as ch:
            firmer = qatar(ch, on=date(2025, 5, 9), status="commitment", replaces=other_day.id)
        assert firmer.replaces == other_day.id


def test_edits_read_text_amounts_in_the_pledge_currency_or_the_one_given(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            pledge = qatar(ch)
        with tracker.change() as ch:
            edited = ch.edit_pledge(pledge.id, each="25M")
        assert ch.wrote is True
        assert edited.pledged == Money.parse("75M", "USD")
        with tracker.change() as ch:
            euros = ch.edit_pledge(pledge.id, amount="90M", currency="eur")
        assert euros.pledged == Money.parse("90M", "EUR")
        with tracker.change() as ch:
            ch.edit_pledge(pledge.id, amount="90M")
        assert ch.wrote is False  # the same amount: nothing to change


def test_pay_reads_a_text_amount_in_the_pledge_currency_and_returns_each_part(
    db_url: str,
) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            pledge = qatar(ch, currency="EUR")
        with tracker.change() as ch:
            paid = ch.pay(pledge.id, "40M", on=date(2025, 6, 3), sources=["https://e.org/p"])
        assert [(row.pledge_id, row.installment, row.amount) for row in paid] == [
            (pledge.id, 1, Money.parse("29M", "EUR")),
            (pledge.id, 2, Money.parse("11M", "EUR")),
        ]
        assert {(row.paid_on, row.confidence) for row in paid} == {(date(2025, 6, 3), "reported")}
        assert [row.id for row in tracker.payments(pledge.id)] == [row.id for row in paid]
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            ch.pay(pledge.id, "40M", on=date(2025, 6, 3), installment=7)
        assert caught.value.field == "installment_seq"
        with pytest.raises(fintrack.Refused, match="exceeds"), tracker.change() as ch:
            ch.pay(pledge.id, "50M", on=date(2025, 6, 3))


def test_open_pledges_are_those_money_can_still_be_paid_against(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            paid_up = qatar(ch, donor="Oman")
            ch.pay(paid_up.id, "87M", on=ON)
            replaced = qatar(ch, donor="Kuwait")
            firmer = qatar(ch, donor="Kuwait", status="commitment", replaces=replaced.id)
            voided = qatar(ch, donor="Jordan")
            ch.void("pledge", voided.id)
            part_paid = qatar(ch)
            ch.pay(part_paid.id, "10M", on=ON)
        rows = tracker.open_pledges()
        assert [(row.id, row.donor) for row in rows] == [
            (firmer.id, "Kuwait"),
            (part_paid.id, "Qatar"),
        ]
        assert rows[1].outstanding == Money.parse("77M", "USD")
        assert tracker.open_pledges() == tracker.open_pledges()  # typed rows compare equal


def test_outstanding_gives_what_is_left_in_all_and_on_the_next_installment(
    db_url: str,
) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            pledge = qatar(ch, currency="EUR")
            ch.pay(pledge.id, "10M", on=ON)
        usd = Money.parse
        assert tracker.outstanding(pledge.id) == Outstanding(
            pledge.id, usd("77M", "EUR"), 1, usd("19M", "EUR")
        )
        named = tracker.outstanding(pledge.id, installment=3)
        assert (named.installment, named.next) == (3, usd("29M", "EUR"))
        with tracker.change() as ch:
            ch.pay(pledge.id, "77M", on=ON)
        assert tracker.outstanding(pledge.id) == Outstanding(pledge.id, Money(0, "EUR"), None, None)
        with pytest.raises(NotFound, match="no pledge with id 99"):
            tracker.outstanding(99)


def test_names_are_the_values_most_used_first_of_records_not_voided(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            qatar(ch, donor="Saudi Arabia")
            qatar(ch, donor="Qatar", on=date(2025, 6, 1))
            qatar(ch, donor="Qatar", on=date(2025, 7, 1), currency="EUR")
            gone = qatar(ch, donor="Atlantis")
            ch.void("pledge", gone.id)
            for program in ("EU-SYR", "EU-SYR", None):
                ch.add_sanction(
                    authority="EU", target="SY", action="extend", program=program,
                    measures=["asset freeze", "arms embargo"][: 1 if program else 2],
                )  # fmt: skip
            ch.add_sanction(authority="US", target="SY-Bank", action="impose")
        assert tracker.names("donor") == ["Qatar", "Saudi Arabia"]
        assert tracker.names("donor", limit=1) == ["Qatar"]
        assert tracker.names("recipient") == ["Syria"]
        assert tracker.names("currency") == ["USD", "EUR"]
        assert tracker.names("authority") == ["EU", "US"]
        assert tracker.names("program") == ["EU-SYR"]
        assert tracker.names("target") == ["SY", "SY-Bank"]
        assert tracker.names("measure") == ["asset freeze", "arms embargo"]
        with pytest.raises(InputError) as caught:
            tracker.names("colour")  # type: ignore[arg-type]
        assert caught.value.field == "field"


def test_find_source_checks_a_source_named_without_writing(db_url: str, db_path: Path) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            stored = ch.add_source(url="https://example.org/a", title="A")
        before = row_counts(db_path)
        assert tracker.find_source(stored.id) == stored.id
        assert tracker.find_source(f"#{stored.id}") == stored.id
        assert tracker.find_source("https://example.org/a") == stored.id
        assert tracker.find_source("https://example.org/new") is None
        with pytest.raises(NotFound, match="no source with id 42"):
            tracker.find_source("42")
        for text in ("the minister", "٢", "99999999999999999999999"):
            with pytest.raises(InputError) as caught:
                tracker.find_source(text)
            assert caught.value.field == "source"
        assert row_counts(db_path) == before


@pytest.mark.parametrize("bad", [10**20, 2**31, -(2**40), True, "1", 1.0])
def test_an_id_no_record_can_have_is_an_error_naming_the_argument(db_url: str, bad: object) -> None:
    """SQLite cannot compare an integer past 64 bits (OverflowError) and PostgreSQL's ids end
    at 2**31-1: every method taking an id checks it first, reads and writes alike."""
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            pledge = qatar(ch)
        calls: list[tuple[str, Callable[[], object]]] = [
            ("pledge_id", lambda: tracker.pledge(bad)),  # type: ignore[arg-type]
            ("pledge_id", lambda: tracker.pledge_detail(bad)),  # type: ignore[arg-type]
            ("sanction_id", lambda: tracker.sanction(bad)),  # type: ignore[arg-type]
            ("record_id", lambda: tracker.history("pledge", bad)),  # type: ignore[arg-type]
        ]
        for field, call in calls:
            with pytest.raises(InputError) as caught:
                call()
            assert caught.value.field == field
        before = tracker.payments()
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            ch.pay(pledge.id, "1M", on=date(2025, 6, 1), installment=bad)  # type: ignore[arg-type]
        assert caught.value.field == "installment"
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            qatar(ch, replaces=bad, allow_duplicate=True)
        assert caught.value.field == "replaces"
        assert tracker.payments() == before and len(tracker.pledges()) == 1

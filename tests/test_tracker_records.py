"""The tracker's sanctions, claims, sources and rates, as the CLI's commands use them (called
directly, not through `main([...])`), on the test's database."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

import fintrack
from fintrack import InputError, Money

URL = "https://example.org/eu-syr"
TOMORROW = date.today() + timedelta(days=1)
YESTERDAY = date.today() - timedelta(days=1)


# --- Sanctions -------------------------------------------------------------------------------


def test_sanctions_are_added_filtered_shown_with_sources_and_edited(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change(analyst="ana") as ch:
            announced = ch.add_sanction(
                authority="EU", target="SY", action="impose", announced=date(2025, 2, 1)
            )
            in_force = ch.add_sanction(
                authority="US", target="Central Bank", action="ease",
                effective=date(2025, 5, 23), sources=[URL], confidence="confirmed",
                measures=["asset freeze"],
            )  # fmt: skip
        # The status follows the effective date unless given.
        assert (announced.status, in_force.status) == ("announced", "in-force")
        assert in_force.measures == ("asset freeze",)
        assert [s.id for s in tracker.sanctions(action="ease")] == [in_force.id]
        assert [s.id for s in tracker.sanctions(status="announced")] == [announced.id]
        assert [s.id for s in tracker.sanctions(since=date(2025, 3, 1))] == [in_force.id]
        assert [s.id for s in tracker.sanctions(until=date(2025, 3, 1))] == [announced.id]
        assert [s.id for s in tracker.sanctions(min_confidence="confirmed")] == [in_force.id]
        assert tracker.sanctions(known_on=YESTERDAY) == []
        with pytest.raises(InputError) as bad:
            tracker.sanctions(action="sideways")
        assert bad.value.field == "action"

        shown = tracker.sanction_detail(in_force.id)
        assert shown.sanction == in_force
        assert [(c.url, c.confidence) for c in shown.sources] == [(URL, "confirmed")]
        assert tracker.sanction_detail(announced.id).sources == ()
        with pytest.raises(fintrack.FintrackError, match="not yet recorded"):
            tracker.sanction_detail(in_force.id, known_on=YESTERDAY)
        with pytest.raises(fintrack.NotFound):
            tracker.sanction_detail(in_force.id + 1)

        with tracker.change(reason="renewed") as ch:
            edited = ch.edit_sanction(announced.id, expires=date(2026, 6, 1), program="EU-SYR")
        assert ch.wrote is True
        assert (edited.expires, edited.program) == (date(2026, 6, 1), "EU-SYR")
        with tracker.change() as ch:
            cleared = ch.edit_sanction(announced.id, expires=None, program=None)
        assert (cleared.expires, cleared.program) == (None, None)
        with tracker.change() as same:
            same.edit_sanction(announced.id, authority="EU")
        assert same.wrote is False  # the same values: no change recorded


def test_a_write_takes_confidence_as_text_or_enum_and_names_the_field_when_wrong(
    db_url: str,
) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            claim = ch.add_claim("UAE", "a back channel", sources=[URL])
            enum = ch.add_claim(
                "UAE", "denied", sources=[URL], confidence=fintrack.Confidence.DENIED
            )
        assert (claim.confidence, enum.confidence) == ("reported", "denied")
        with pytest.raises(InputError) as bad, tracker.change() as ch:
            ch.add_sanction(authority="EU", target="SY", action="impose", confidence="sure")
        assert bad.value.field == "confidence"
        assert tracker.sanctions() == []  # nothing written


# --- Claims ----------------------------------------------------------------------------------


def test_claims_are_listed_by_standing_and_shown_with_their_sources(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            reported = ch.add_claim(
                "UAE back channel", "set up by the UAE", stated=date(2025, 5, 7), sources=[URL]
            )
            denied = ch.add_claim("Talks", "denied by both", sources=[URL], confidence="denied")
            bare = ch.add_claim("Rumour", "no source at all")
        assert [c.id for c in tracker.claims()] == [reported.id, denied.id, bare.id]
        assert [c.id for c in tracker.claims(min_confidence="reported")] == [reported.id]
        assert tracker.claims(min_confidence="confirmed") == []
        assert tracker.claims(known_on=YESTERDAY) == []
        with pytest.raises(InputError) as bad:
            tracker.claims(min_confidence="denied")
        assert bad.value.field == "min_confidence"
        shown = tracker.claim_detail(reported.id)
        assert (shown.claim, shown.claim.stated) == (reported, date(2025, 5, 7))
        assert [(c.url, c.confidence) for c in shown.sources] == [(URL, "reported")]
        assert tracker.claim_detail(bare.id).sources == ()


# --- Sources and links -----------------------------------------------------------------------


def test_a_source_is_shown_with_the_records_it_speaks_for(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            source = ch.add_source(
                title="Statement", publisher="UAE MFA", published=date(2025, 5, 8)
            )
            claim = ch.add_claim("UAE", "a back channel")
            action = ch.add_sanction(authority="EU", target="SY", action="impose")
        assert (source.url, source.retrieved, source.links) == (None, date.today(), 0)
        assert tracker.source_detail(source.id).links == ()
        with tracker.change() as ch:
            first = ch.link("claim", claim.id, source.id, "denied")
            again = ch.link("claims", claim.id, str(source.id), "denied")
            other = ch.link("sanction", action.id, f"#{source.id}")
        assert (first.source_id, first.kind, first.record_id) == (source.id, "claim", claim.id)
        assert (first.outcome, again.outcome, other.outcome) == ("added", "unchanged", "added")
        assert (first.confidence, other.confidence) == ("denied", "reported")
        with tracker.change() as ch:
            assert ch.link("claim", claim.id, source.id, "confirmed").outcome == "changed"

        shown = tracker.source_detail(source.id)
        assert shown.source.links == 2 and shown.source.title == "Statement"
        assert [(link.kind, link.record_id, link.confidence) for link in shown.links] == [
            ("claim", claim.id, "confirmed"),
            ("sanction", action.id, "reported"),
        ]
        assert tracker.source_detail(source.id, known_on=YESTERDAY).links == ()
        assert [s.links for s in tracker.sources()] == [2]
        with pytest.raises(fintrack.NotFound, match="no source with id"):
            tracker.source_detail(source.id + 1)


def test_a_url_given_to_link_is_stored_as_a_source_on_first_use(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            claim = ch.add_claim("UAE", "a back channel")
            linked = ch.link("claim", claim.id, URL)
        [source] = tracker.sources()
        assert (linked.source_id, source.url) == (source.id, URL)


def test_a_voided_record_takes_no_new_sources(db_url: str) -> None:
    """The CLI refused it (`source link`); the library linked a source to a voided record."""
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            claim = ch.add_claim("UAE", "a back channel")
            source = ch.add_source(url=URL)
        with tracker.change() as ch:
            ch.void("claim", claim.id)
        with (
            pytest.raises(fintrack.Refused, match="cannot take new sources"),
            tracker.change() as ch,
        ):
            ch.link("claim", claim.id, source.id)
        assert tracker.source_detail(source.id).links == ()


# --- Rates -----------------------------------------------------------------------------------


def test_adding_a_rate_says_what_happened(db_url: str) -> None:
    day = date(2025, 5, 8)
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            added = ch.add_rate("EUR", "USD", "1.25", on=day, source="ECB")
        with tracker.change() as ch:
            same = ch.add_rate("eur", "usd", Decimal("1.25"), on=day)
            inverse = ch.add_rate("USD", "EUR", "0.8", on=day)
        assert ch.wrote is False
        with tracker.change() as ch:
            replaced = ch.add_rate("USD", "EUR", "0.75", on=day, replace=True)
        assert [(r.outcome, r.replaced) for r in (added, same, inverse, replaced)] == [
            ("added", None),
            ("unchanged", None),
            ("inverse", None),
            ("replaced", "EUR/USD 1.25"),
        ]
        assert (inverse.base, inverse.quote, inverse.rate) == ("EUR", "USD", Decimal("1.25"))
        assert (replaced.base, replaced.quote, replaced.rate) == ("USD", "EUR", Decimal("0.75"))
        assert isinstance(replaced, fintrack.RateRow)


def test_a_rate_listing_notes_the_contradictions_among_the_rates_listed(db_url: str) -> None:
    """A database of an older fintrack may hold a pair both ways round for a day."""
    from sqlalchemy import update

    from fintrack.models import ExchangeRate
    from fintrack.store import Database

    day, before = date(2025, 5, 8), date(2025, 5, 7)
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            ch.add_rate("USD", "EUR", "0.5", on=day)
            ch.add_rate("EUR", "USD", "1.3", on=before)
            ch.add_rate("GBP", "USD", "1.25", on=day)
            ch.add_rate("USD", "GBP", "0.8", on=before)  # its inverse: they agree
        assert tracker.rate_listing().conflicts == ()
        with Database(db_url).session(write=True) as session:
            session.execute(
                update(ExchangeRate).where(ExchangeRate.rate_on == before).values(rate_on=day)
            )
        listing = tracker.rate_listing()
        assert listing.rates == tuple(tracker.rates())
        assert len(listing.rates) == 4
        [conflict] = listing.conflicts
        counted, ignored = conflict.counted, conflict.ignored
        assert (counted.base, counted.quote, counted.rate) == ("USD", "EUR", Decimal("0.5"))
        assert (ignored.base, ignored.quote, ignored.rate, ignored.on) == (
            "EUR", "USD", Decimal("1.3"), day,
        )  # fmt: skip
        # Only the contradictions among the rates listed.
        assert tracker.rate_listing(currency="GBP").conflicts == ()
        assert len(tracker.rate_listing(currency="eur").conflicts) == 1
        assert tracker.rate_listing(until=before) == fintrack.RateListing((), ())
        assert tracker.rate_listing(known_on=YESTERDAY).rates == ()


def test_rates_filter_by_currency_and_dates_and_convert(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            for day, rate in ((date(2025, 5, 7), "1.1"), (date(2025, 5, 8), "1.125")):
                ch.add_rate("EUR", "USD", rate, on=day)
            ch.add_rate("GBP", "CHF", "1.1", on=date(2025, 5, 8))
        assert [r.on for r in tracker.rates(currency="USD", since=date(2025, 5, 8))] == [
            date(2025, 5, 8)
        ]
        assert [r.rate for r in tracker.rates(currency="usd", until=date(2025, 5, 7))] == [
            Decimal("1.1")
        ]
        with pytest.raises(InputError) as bad:
            tracker.rates(currency="XYZ1")
        assert bad.value.field == "currency"
        converted = tracker.convert(Money.parse("1M", "EUR"), "usd", on=date(2025, 5, 9))
        assert (converted.converted, converted.rate, converted.rate_on, converted.route) == (
            Money.parse("1,125,000", "USD"),
            Decimal("1.125"),
            date(2025, 5, 8),
            "direct",
        )
        assert converted.amount == Money.parse("1M", "EUR")
        with pytest.raises(fintrack.MissingRate):
            tracker.convert(Money.parse("1M", "EUR"), "USD", on=date(2025, 5, 20), max_rate_age=3)
        same = tracker.convert(Money.parse("5", "USD"), "USD", on=TOMORROW)
        assert (same.converted, same.rate_on) == (Money.parse("5", "USD"), None)

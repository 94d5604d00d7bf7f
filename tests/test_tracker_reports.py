"""The tracker's reports, imports, exports, seeding, voids and histories, called directly: what
`fintrack totals`, `deadlines`, `import`, `export`, `seed`, `void` and `history` show comes
from these results."""

import io
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import get_args

import pytest

import fintrack
from fintrack import InputError, Money
from fintrack.api import ExportKind, ImportKind
from fintrack.errors import InvalidRows
from fintrack.vocab import REPORT_KINDS, ExportChoice, FileKind

# The founding case's pledge: Qatar, USD 29M a month from 2025-05-08, three times.
FIRST_DUE = date(2025, 5, 8)


def test_the_kind_lists_are_one_list() -> None:
    assert get_args(ImportKind) == tuple(kind.value for kind in FileKind)
    assert get_args(ExportKind) == (*get_args(ImportKind), *REPORT_KINDS)
    assert tuple(kind.value for kind in ExportChoice) == get_args(ExportKind)


def test_totals_report_gives_the_grouping_the_target_and_the_working(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        tracker.seed()
        with tracker.change() as ch:
            ch.pay(1, Money.parse("29M", "USD"), on=date(2025, 6, 1))
        plain = tracker.totals_report(by="donor")
        assert (plain.by, plain.in_, plain.working) == ("donor", None, ())
        assert list(plain.rows) == tracker.totals(by="donor")
        report = tracker.totals_report(by="donor", in_="usd", rates_on=date(2025, 6, 1))
        assert (report.by, report.in_) == ("donor", "USD")
        assert list(report.rows) == tracker.totals(by="donor", in_="USD", rates_on=date(2025, 6, 1))
        [group, total] = report.rows
        assert group.donor == "Qatar" and total.total
        figures = {row.figure for row in report.working}
        assert figures == {"pledged", "disbursed", "outstanding"}
        for figure in figures:
            worked = [row for row in report.working if row.figure == figure]
            assert all(row.donor == "Qatar" and row.converted == row.amount for row in worked)
            assert sum(row.converted.minor for row in worked) == getattr(group, figure).minor
        with pytest.raises(InputError) as caught:
            tracker.totals_report(in_="dollars")
        assert caught.value.field == "in_"
        with pytest.raises(InputError) as caught:
            tracker.totals_report(since=date(2025, 6, 1), until=date(2025, 5, 1))
        assert caught.value.field == "since"


def test_deadlines_report_gives_the_day_counted_from(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        tracker.seed()
        report = tracker.deadlines_report(known_on=date(2025, 5, 20), within=30)
        assert (report.as_of, report.within, report.in_) == (date(2025, 5, 20), 30, None)
        assert list(report.rows) == tracker.deadlines(known_on=date(2025, 5, 20), within=30)
        assert all(row.days_left == (row.date - report.as_of).days for row in report.rows)
        asked = tracker.deadlines_report(
            as_of=FIRST_DUE, within=400, in_="usd", kinds=["installment"]
        )
        assert asked.as_of == FIRST_DUE and asked.in_ == "USD"
        assert [row.date for row in asked.rows] == [
            date(2025, 5, 8),
            date(2025, 6, 8),
            date(2025, 7, 8),
        ]
        for row in asked.rows:
            assert row.converted == row.amount and row.rate is not None and row.route is not None
        with pytest.raises(InputError) as caught:
            tracker.deadlines_report(kinds=["birthday"])
        assert caught.value.field == "kinds"


def test_void_and_history_name_the_record(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change(reason="sanctioned", analyst="ana") as ch:
            action = ch.add_sanction("EU", "Syria", "impose", effective=date(2025, 5, 1))
        with tracker.change(reason="entered twice") as ch:
            voided = ch.void("SANCTION", action.id)
        assert (voided.kind, voided.id, voided.label) == ("sanction", action.id, "sanction action")
        found = tracker.record_history("sanction", action.id)
        assert found.record == voided
        assert list(found.changes) == tracker.history("sanction", action.id)
        assert {change.reason for change in found.changes} == {"sanctioned", "entered twice"}
        with pytest.raises(InputError) as caught:
            tracker.record_history("planet", 1)
        assert caught.value.field == "kind"


def test_seed_summary_counts_each_kind_and_names_the_command(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        first = tracker.seed_summary(analyst="ana", command="fintrack seed --analyst ana")
        assert first.pledges == 1 and first.sanctions > 0 and first.sources > 0
        assert first.added == first.sanctions + first.pledges + first.claims + first.sources
        assert first.already_present == 0
        again = tracker.seed_summary()
        assert again.added == 0 and again.already_present == first.added - first.sources
        [history] = {h.command for h in tracker.history("pledge", 1)}
        assert history == "fintrack seed --analyst ana"
        assert tracker.display == tracker.url or Path(tracker.display).exists()


def test_export_tells_its_progress(db_url: str, tmp_path: Path) -> None:
    told: list[tuple[str, int, list[int]]] = []

    def progress(description: str, total: int) -> Callable[[int], None]:
        done: list[int] = []
        told.append((description, total, done))
        return done.append

    with fintrack.open(db_url) as tracker:
        tracker.seed()
        count = tracker.export("installments", tmp_path / "i.csv", progress=progress)
        assert count == 3 and told == [("Exporting installments", 3, [1, 2, 3])]
        told.clear()
        tracker.export("totals", io.StringIO(), progress=progress)
        assert told == []  # a report is written at once


def test_import_installments_with_their_pledges_rejects_and_progress(
    db_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "source.db"
    with fintrack.open(source) as tracker:
        tracker.seed()
        tracker.export("pledges", tmp_path / "pledges.csv")
        tracker.export("installments", tmp_path / "installments.csv")
    pledges, installments = tmp_path / "pledges.csv", tmp_path / "installments.csv"
    lines = installments.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines, lines[-1].replace(",3,", ",x,", 1)]) + "\n", encoding="utf-8")
    with fintrack.open(db_url) as tracker:
        with pytest.raises(InputError) as caught:
            tracker.import_file("pledges", pledges, pledges=installments)
        assert caught.value.field == "pledges"
        with pytest.raises(InputError) as caught:
            tracker.import_file("installments", bad, pledges=pledges, rejects=pledges)
        assert caught.value.field == "rejects"
        with pytest.raises(InvalidRows) as invalid:
            tracker.import_file("installments", bad, pledges=pledges)
        assert f"{bad}:5: column seq: 'x' is not a whole number from 1 up" in (
            invalid.value.listing()
        )
        assert tracker.pledges() == []
        told: list[str] = []
        summary = tracker.import_file(
            "installments",
            bad,
            pledges=pledges,
            rejects=tmp_path / "rejects.csv",
            progress=lambda what, total: lambda done: told.append(what),
            command="fintrack import installments bad.csv",
        )
        # The bad installment takes its pledge with it: both are rejected, each to its file.
        assert summary.added == {} and summary.rejected == 2 and told
        rejected = (tmp_path / "rejects.csv").read_text(encoding="utf-8").splitlines()
        assert len(rejected) == 5 and rejected[0].endswith(",reason")
        assert (tmp_path / "rejects.pledges.csv").read_text(encoding="utf-8").count("\n") == 2
        assert tracker.pledges() == []
        summary = tracker.import_file(
            "installments", installments, pledges=pledges, command="fintrack import it"
        )
        assert summary.added == {"pledges": 1, "installments": 3}
        [command] = {h.command for h in tracker.history("pledge", 1)}
        assert command == "fintrack import it"


def test_brief_gives_typed_sections(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        tracker.seed()
        brief = tracker.brief(as_of=date(2025, 7, 20), min_confidence="reported")
        assert (brief.as_of, brief.known_on, brief.min_confidence) == (
            date(2025, 7, 20), None, "reported",
        )  # fmt: skip
        [qatar, total] = brief.donors
        assert qatar.donor == "Qatar" and total.total and qatar.pledged == Money.parse("87M", "USD")
        assert [row.date for row in brief.overdue] == [
            date(2025, 5, 8),
            date(2025, 6, 8),
            date(2025, 7, 8),
        ]
        assert brief.overdue_totals == (Money.parse("87M", "USD"),) and brief.overdue_more == 0
        assert all(row.days_left >= 0 or row.record != "pledge" for row in brief.upcoming)
        assert brief.sanctions and all(row.id > 0 for row in brief.sanctions)
        assert brief.claims == ()  # a denied claim is below "reported"
        every = tracker.brief(as_of=date(2025, 7, 20))
        assert [row.confidence for row in every.claims] == ["denied"]
        known = tracker.brief(known_on=date(2025, 5, 1))
        assert known.as_of == known.known_on == date(2025, 5, 1) and known.donors == ()

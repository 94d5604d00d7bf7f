"""fintrack as a library: `fintrack.open()`, its tracker and changes, Money and typed rows.

The README's example runs here as written (on the test's database), and its printed lines are
checked against the comments under each print.
"""

import contextlib
import io
import re
import subprocess
import sys
import threading
from dataclasses import fields
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import fintrack
from fintrack import InputError, Money
from tests.conftest import EMPTY, Run, engine, row_counts

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from fintrack.formats import Column

README = Path(__file__).resolve().parent.parent / "README.md"
QATAR_EACH = Money.parse("29M", "USD")


def readme_example() -> str:
    text = README.read_text(encoding="utf-8")
    marker = "<!-- tests/test_api.py runs this example -->\n```python\n"
    start = text.index(marker) + len(marker)
    return text[start : text.index("```", start)]


def test_the_readme_example_runs_and_prints_what_its_comments_say(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = readme_example()
    assert '"syria.db"' in code
    monkeypatch.chdir(tmp_path)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code.replace('"syria.db"', repr(db_url)), "README.md", "exec"), {})
    printed = out.getvalue().splitlines()
    # Each print is followed by a comment with what it prints ("..." for the rest of a line).
    expected = [line.strip()[2:] for line in code.splitlines() if line.strip().startswith("# ")]
    assert len(printed) == len(expected) == 2, printed
    for got, want in zip(printed, expected, strict=True):
        pattern = re.escape(want).replace(re.escape("..."), ".*")
        assert re.fullmatch(pattern, got), (got, want)
    # The figures, computed apart from the example: 3 x 29M pledged, 29M paid.
    with fintrack.open(db_url) as tracker:
        [qatar] = [row for row in tracker.totals(by="donor") if not row.total]
    assert qatar.pledged == Money(3 * 29_000_000 * 100, "USD")
    assert qatar.disbursed == Money(29_000_000 * 100, "USD")
    assert qatar.outstanding == qatar.pledged - qatar.disbursed
    assert qatar.fulfilled_pct == Decimal("33.3")


# --- Money ---------------------------------------------------------------------------------------


def test_money_is_exact_in_minor_units_of_an_iso_currency() -> None:
    assert Money.parse("29M", "usd") == Money(2_900_000_000, "USD")
    assert Money.of(Decimal("29000000.50"), "USD").minor == 2_900_000_050
    assert Money.of(87, "JPY") == Money(87, "JPY")
    assert Money.of("1.500", "KWD").amount == Decimal("1.500")
    assert str(Money(8_700_000_000, "USD")) == "USD 87,000,000.00"
    assert Money(8_700_000_000, "USD").format(grouping=False) == "87000000.00"
    assert Money(5, "USD") + Money(7, "USD") - Money(2, "USD") == Money(10, "USD")
    assert -Money(5, "USD") == Money(-5, "USD")


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Money.of(Decimal("1.234"), "USD"), "more decimals than USD allows"),
        (lambda: Money.of(Decimal("1.5"), "JPY"), "more decimals than JPY allows"),
        (lambda: Money.of(Decimal("NaN"), "USD"), "is not an amount"),
        (lambda: Money.of(1.5, "USD"), "is not an amount"),  # type: ignore[arg-type]
        (lambda: Money(1, "XXX"), "no minor unit"),
        (lambda: Money(1, "ZZZ"), "not an ISO 4217"),
        (lambda: Money(True, "USD"), "not a whole number"),
        (lambda: Money(2**63, "USD"), "too large"),
        (lambda: Money(1, "USD") + Money(1, "EUR"), "cannot be added"),
        (lambda: Money.parse("29.000", "USD"), "ambiguous"),
    ],
)
def test_money_refuses_what_is_not_exact(make: object, fragment: str) -> None:
    with pytest.raises(InputError, match=re.escape(fragment)):
        make()  # type: ignore[operator]


# --- The tracker ---------------------------------------------------------------------------------


def test_writes_are_one_change_and_reads_are_typed(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change(reason="founding case", analyst="ana") as ch:
            pledge = ch.add_pledge(
                donor="Qatar",
                recipient="Syria",
                each=QATAR_EACH,
                installments=3,
                every="month",
                first_due=date(2025, 6, 1),
                on=date(2025, 5, 8),
            )
            paid = ch.pay(pledge.id, Money.parse("40M", "USD"), on=date(2025, 6, 3))
            action = ch.add_sanction(
                authority="EU",
                target="SY",
                action="extend",
                program="EU-SYR",
                measures=["asset freeze", "arms embargo"],
                effective=date(2025, 5, 28),
                expires=date(2026, 6, 1),
            )
        assert pledge.pledged == Money(8_700_000_000, "USD") and pledge.installments == 3
        # 40M: 29M to installment 1, the 11M beyond it to installment 2.
        assert [(p.installment, p.amount) for p in paid] == [
            (1, QATAR_EACH),
            (2, Money.parse("11M", "USD")),
        ]
        assert action.measures == ("asset freeze", "arms embargo")
        assert action.status == "in-force"

        [listed] = tracker.pledges(donor="qatar")
        assert listed.disbursed == Money.parse("40M", "USD")
        assert listed.fulfilled_pct == Decimal("46.0")
        assert [i.state for i in tracker.installments(listed.id, as_of=date(2025, 6, 10))] == [
            "paid",
            "part paid",
            "due",
        ]
        assert sum((p.amount for p in tracker.payments(listed.id)), Money(0, "USD")) == Money(
            4_000_000_000, "USD"
        )
        assert [s.program for s in tracker.sanctions(authority="eu")] == ["EU-SYR"]
        due = tracker.deadlines(as_of=date(2025, 6, 10), within=400)
        kinds = {(d.kind, d.record) for d in due}
        assert kinds == {("installment", "pledge"), ("expiry", "sanction")}
        [expiry] = [d for d in due if d.kind == "expiry"]
        assert (expiry.date, expiry.days_left) == (date(2026, 6, 1), 356)
        history = tracker.history("pledge", pledge.id)
        assert {h.reason for h in history} == {"founding case"}
        assert {h.analyst for h in history} == {"ana"}


def test_an_exception_in_the_block_writes_nothing(db_url: str, db_path: Path) -> None:
    with fintrack.open(db_url) as tracker:
        tracker.pledges()  # creates and migrates the database
        before = row_counts(db_path)
        with pytest.raises(RuntimeError), tracker.change() as ch:
            ch.add_pledge(donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8))
            raise RuntimeError("the script fails half way")
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            ch.add_pledge(donor="Oman", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8))
            ch.add_pledge(donor="", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8))
        assert (caught.value.field, caught.value.problem) == ("donor", "must not be empty")
        assert row_counts(db_path) == before == EMPTY
        with pytest.raises(fintrack.FintrackError, match="this change is over"):
            ch.add_pledge(donor="Oman", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8))


def test_totals_convert_and_rates_are_one_fact(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            ch.add_pledge(donor="EU", recipient="Syria", amount=Money.parse("100M", "EUR"),
                          on=date(2025, 5, 8))  # fmt: skip
            rate = ch.add_rate("EUR", "USD", Decimal("1.125"), on=date(2025, 5, 8))
        assert (rate.base, rate.quote, rate.rate) == ("EUR", "USD", Decimal("1.125"))
        [group, total] = tracker.totals(by="donor", in_="USD")
        assert group.pledged == total.pledged == Money.parse("112.5M", "USD")
        assert group.currencies == ("EUR",)
        with pytest.raises(fintrack.Refused, match="already recorded"), tracker.change() as ch:
            ch.add_rate("USD", "EUR", "0.8", on=date(2025, 5, 8))
        assert [r.rate for r in tracker.rates()] == [Decimal("1.125")]


def test_edits_keep_history_and_convert_is_exact(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            pledge = ch.add_pledge(
                donor="Qatar", recipient="Syria", amount=Money.parse("87M", "USD"),
                on=date(2025, 5, 8),
            )  # fmt: skip
            action = ch.add_sanction(
                authority="EU", target="SY", action="extend", effective=date(2025, 5, 28)
            )
            ch.add_rate("EUR", "USD", "1.125", on=date(2025, 5, 8))
        with tracker.change(reason="three installments") as ch:
            edited = ch.edit_pledge(
                pledge.id, each=QATAR_EACH, installments=3, every="month",
                first_due=date(2025, 6, 1),
            )  # fmt: skip
            revoked = ch.edit_sanction(
                action.id, status="revoked", expires=date(2026, 6, 1), measures=["asset freeze"]
            )
        assert ch.wrote is True
        with tracker.change() as same:
            same.edit_pledge(pledge.id, donor="Qatar")
        assert same.wrote is False  # the same value: nothing written, no change recorded
        assert edited.pledged == pledge.pledged and edited.installments == 3
        assert (revoked.status, revoked.expires, revoked.measures) == (
            "revoked",
            date(2026, 6, 1),
            ("asset freeze",),
        )
        assert "three installments" in {h.reason for h in tracker.history("pledge", pledge.id)}
        converted = tracker.convert(Money.parse("29M", "USD"), "EUR", on=date(2025, 5, 10))
        # 29,000,000 / 1.125 = 25,777,777.777... EUR, rounded half to even to the cent.
        assert converted.converted == Money(2_577_777_778, "EUR")
        assert (converted.route, converted.rate_on) == ("inverse", date(2025, 5, 8))
        with pytest.raises(fintrack.MissingRate):
            tracker.convert(Money.parse("1M", "USD"), "JPY", on=date(2025, 5, 10))


def test_sources_claims_links_and_void(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            source = ch.add_source(url="https://example.org/qatar", publisher="Reuters")
            claim = ch.add_claim(
                subject="UAE back channel", statement="denied by both", sources=[source.id],
                confidence="denied",
            )  # fmt: skip
            pledge = ch.add_pledge(
                donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8)
            )
            assert ch.link("pledge", pledge.id, source.url or "", "confirmed").outcome == "added"
        assert claim.confidence == "denied"
        assert [s.links for s in tracker.sources()] == [2]
        assert tracker.pledge(pledge.id).confidence == "confirmed"
        with tracker.change() as ch:
            ch.void("pledge", pledge.id)
        assert tracker.pledges() == []
        assert tracker.pledge(pledge.id).voided is not None
        with pytest.raises(fintrack.NotFound):
            tracker.pledge(pledge.id + 1)


def test_known_on_shows_the_records_of_a_past_day(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            ch.add_pledge(donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8))
        assert tracker.pledges(known_on=date(2000, 1, 1)) == []
        assert len(tracker.pledges(known_on=date.today())) == 1


def test_export_to_a_path_and_a_file_object_and_import_back(db_url: str, tmp_path: Path) -> None:
    with fintrack.open(db_url) as tracker:
        assert tracker.seed() > 0
        for kind in ("sanctions", "sources", "links"):
            assert tracker.export(kind, tmp_path / f"{kind}.csv") > 0
        buffer = io.StringIO()
        rows = tracker.export("pledges", buffer, format="jsonl")
        assert rows == len(buffer.getvalue().splitlines()) == 1
        totals = io.StringIO()
        assert tracker.export("totals", totals, by="donor") == len(tracker.totals(by="donor")) == 2
        assert totals.getvalue().splitlines()[1].startswith("Qatar,USD,1,87000000.00,")
        due = io.StringIO()
        count = tracker.export("deadlines", due, format="json", as_of=date(2025, 5, 8))
        assert count == len(tracker.deadlines(as_of=date(2025, 5, 8))) > 0
        (tmp_path / "pledges.csv").write_text("", encoding="utf-8")
        tracker.export("pledges", tmp_path / "pledges.csv")
        tracker.export("installments", tmp_path / "installments.csv")
    other = tmp_path / "other.db"
    with fintrack.open(other) as copy:
        for kind in ("sanctions", "sources"):
            summary = copy.import_file(kind, tmp_path / f"{kind}.csv")  # type: ignore[arg-type]
            assert summary.rejected == 0 and sum(summary.added.values()) > 0
        summary = copy.import_file(
            "pledges", tmp_path / "pledges.csv", installments=tmp_path / "installments.csv"
        )
        assert summary.added == {"pledges": 1, "installments": 3}
        copy.import_file("links", tmp_path / "links.csv")
        again = io.StringIO()
        copy.export("sanctions", again)
    assert again.getvalue() == (tmp_path / "sanctions.csv").read_text(encoding="utf-8")


def test_bad_arguments_name_the_field(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        with pytest.raises(InputError) as caught:
            tracker.totals(by="planet")  # type: ignore[arg-type]
        assert caught.value.field == "by"
        with pytest.raises(InputError) as caught:
            tracker.deadlines(kinds=["birthday"])
        assert caught.value.field == "kinds"
        with pytest.raises(InputError) as caught, tracker.change() as ch:
            ch.add_pledge(donor="Qatar", recipient="Syria", on=date(2025, 5, 8))
        assert caught.value.field == "amount"


# --- Transient failures: the change runs its calls again ---------------------------------------


def _sqlite_only() -> None:
    if engine() != "sqlite":
        pytest.skip("sqlite only: a second connection holding the write lock")


def _lock_holder(db_url: str) -> "tuple[Engine, Connection]":
    from sqlalchemy import create_engine, text

    engine_ = create_engine(db_url, connect_args={"timeout": 0})
    connection = engine_.connect()
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.execute(text("SELECT 1"))
    return engine_, connection


def test_a_change_waits_for_a_writer_that_holds_the_lock(db_url: str) -> None:
    _sqlite_only()
    with fintrack.open(db_url) as tracker:
        tracker.pledges()  # creates and migrates the database
    with fintrack.open(db_url) as tracker:
        # Give up on the lock at once, so that the change's own retries are what waits.
        tracker._db.sqlite_busy_timeout_ms = 0
        tracker._db.max_attempts = 100
        engine_, connection = _lock_holder(db_url)

        def unlock() -> None:
            connection.rollback()
            connection.close()

        release = threading.Timer(0.3, unlock)
        release.start()
        try:
            with tracker.change() as ch:
                ch.add_pledge(
                    donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8)
                )
        finally:
            release.join()
            engine_.dispose()
        assert len(tracker.pledges()) == 1


def test_a_change_that_stays_locked_gives_up_with_one_clear_error(db_url: str) -> None:
    """After its last attempt a change says the database stayed busy, as the commands always
    did (`Error: the database ... stayed busy through 3 attempts ...`), not SQLite's error."""
    _sqlite_only()
    with fintrack.open(db_url) as tracker:
        tracker.pledges()  # creates and migrates the database
    with fintrack.open(db_url) as tracker:
        tracker._db.sqlite_busy_timeout_ms = 0  # before the engine is made
        tracker._db.max_attempts = 3
        engine_, connection = _lock_holder(db_url)
        try:
            with (
                pytest.raises(fintrack.DatabaseError, match="stayed busy through 3 attempts"),
                tracker.change() as ch,
            ):
                ch.add_pledge(
                    donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8)
                )
        finally:
            connection.rollback()
            connection.close()
            engine_.dispose()
        assert tracker.pledges() == []


def _locked_once(db_url: str) -> object:
    """Work that fails the first time with SQLite's own "database is locked" (a second
    connection cannot write while the change holds the lock), and gives 'done' after."""
    from sqlalchemy import create_engine

    calls = []

    def work(session: object) -> str:
        calls.append(1)
        if len(calls) == 1:
            engine_ = create_engine(db_url, connect_args={"timeout": 0})
            try:
                with engine_.connect() as connection:
                    connection.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                engine_.dispose()
        return "done"

    return work


def test_a_transient_failure_runs_the_calls_again_and_keeps_each_once(db_url: str) -> None:
    _sqlite_only()
    with fintrack.open(db_url) as tracker:
        with tracker.change() as ch:
            first = ch.add_pledge(
                donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8)
            )
            assert ch.run(_locked_once(db_url)) == "done"  # type: ignore[arg-type]
            second = ch.add_pledge(
                donor="Oman", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8)
            )
        assert [p.id for p in tracker.pledges()] == [first.id, second.id]
        assert len({h.change for h in tracker.history("pledge", first.id)}) == 1


def test_a_call_that_gives_another_result_the_second_time_writes_nothing(
    db_url: str, db_path: Path
) -> None:
    _sqlite_only()
    with fintrack.open(db_url) as tracker:
        tracker.pledges()
        before = row_counts(db_path)
        counter = iter(range(100))
        with pytest.raises(fintrack.ChangedMeanwhile), tracker.change() as ch:
            ch.add_pledge(donor="Qatar", recipient="Syria", amount=QATAR_EACH, on=date(2025, 5, 8))
            ch.run(lambda _session: next(counter))  # 0, then 1 when run again
            ch.run(_locked_once(db_url))  # type: ignore[arg-type]
        assert row_counts(db_path) == before


# --- The package ---------------------------------------------------------------------------------


def test_the_public_names_load_and_the_cli_does_not_load_them(run: Run) -> None:
    for name in fintrack.__all__:
        assert getattr(fintrack, name) is not None, name
    rows = [fintrack.PledgeRow, fintrack.TotalRow, fintrack.DeadlineRow, fintrack.SanctionRow]
    for row in rows:
        assert all("Any" not in str(f.type) for f in fields(row)), row
    probe = (
        "import sys, fintrack.cli; "
        "print(any(m.startswith(('sqlalchemy', 'fintrack.api')) for m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "False"


def test_the_public_signatures_have_no_any() -> None:
    import inspect

    from fintrack import api

    for owner in (api.Tracker, api.Change, Money):
        for name, function in inspect.getmembers(owner, inspect.isfunction):
            if name.startswith("_"):
                continue
            signature = str(inspect.signature(function))
            assert "Any" not in signature, (owner.__name__, name, signature)
    assert "Any" not in str(inspect.signature(fintrack.open))


def test_typed_rows_turn_back_into_the_rows_the_files_and_tables_are_written_from(
    db_url: str,
) -> None:
    """The CLI renders the tracker's typed rows: each, turned back with `formats.record`,
    holds every value of the library's own row (amounts in minor units beside their
    currency), so tables and files are what they were before the rows were typed."""
    from fintrack import api
    from fintrack.formats import (
        DEADLINE_COLUMNS,
        INSTALLMENT_COLUMNS,
        PLEDGE_COLUMNS,
        SANCTION_COLUMNS,
        record,
        totals_columns,
    )
    from fintrack.known import Known
    from fintrack.pledges import PledgeFilter, installment_rows, list_pledges
    from fintrack.reports import Grouping, TotalsFilter, deadlines_report, totals_report
    from fintrack.sanctions import SanctionFilter, list_sanctions
    from fintrack.store import Database

    with fintrack.open(db_url) as tracker:
        tracker.seed()
        with tracker.change() as ch:
            ch.pay(1, QATAR_EACH, on=date(2025, 6, 1))
    now = Known.on(None, None)
    cases: list[tuple[type, list[dict[str, Any]], list[Column]]] = []
    database = Database(db_url)
    with database.session() as session:
        cases.append((api.PledgeRow, list_pledges(session, PledgeFilter(), now), PLEDGE_COLUMNS))
        day = date(2025, 6, 2)
        rows = installment_rows(session, day, None, now)
        cases.append((api.InstallmentRow, rows, INSTALLMENT_COLUMNS))
        rows = list_sanctions(session, SanctionFilter(), now)
        cases.append((api.SanctionRow, rows, SANCTION_COLUMNS))
        for grouping in Grouping:
            columns = totals_columns(grouping)
            rows = totals_report(session, grouping, TotalsFilter())[0]
            cases.append((api.TotalRow, rows, columns))
        rows = deadlines_report(session, date(2025, 5, 1), 400)[1]
        cases.append((api.DeadlineRow, rows, DEADLINE_COLUMNS))
    database.close()
    for cls, rows, columns in cases:
        assert rows, cls
        for row in rows:
            back = record(api._typed(cls, row, columns), columns)
            assert {key: back.get(key) for key in row} == row, cls

"""The reports' queries use the indexes that serve them (checked in their plans), and the
optimised queries give exactly what an independent computation from the stored rows gives."""

import importlib.util
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text

import fintrack
from fintrack.api import Grouping
from fintrack.known import end_of_day
from fintrack.models import HISTORY, Base
from fintrack.store import Database, update_statistics

BENCHMARK = Path(__file__).resolve().parent.parent / "benchmarks" / "queries.py"
INTERCHANGE = BENCHMARK.with_name("interchange.py")
PLEDGES, HISTORY_ROWS = 600, 900
# Days of --known-on: before most records were recorded, in the middle of the history, and
# after it all. The generated pledges are recorded from 2024-01-01 over two years.
KNOWN_ON = (date(2024, 6, 1), date(2025, 3, 15), date(2030, 1, 1))
# Early in the schedules (due from 2025-01-01 over about three years), so that the window
# and the overdue installments are a small part of all.
AS_OF = date(2025, 1, 20)
WITHIN = 60
TABLES = {table.name for table in Base.metadata.sorted_tables}
BY: tuple[Grouping, ...] = ("pair", "donor", "recipient", "month", "currency")
# The history that --known-on consults for every pledge (whether a known pledge replaces it).
HISTORIES = {"pledges_history"}


def _populate() -> Callable[[Any, int, int], None]:
    spec = importlib.util.spec_from_file_location("benchmark_queries", BENCHMARK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    populate: Callable[[Any, int, int], None] = module.populate
    return populate


@pytest.fixture
def filled(db_url: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """The test's database with generated pledges, schedules, payments, sources and history
    (edits, replacements made and moved, voids), its statistics updated as an import does
    (unless the test is parametrized with False: records added by commands one by one)."""
    bound = create_engine(db_url)
    with bound.begin() as connection:
        _populate()(connection, PLEDGES, HISTORY_ROWS)
        if getattr(request, "param", True):
            update_statistics(connection)
    bound.dispose()
    yield db_url


def _statements(work: Callable[[], Any]) -> list[tuple[str, Any]]:
    """The SELECT statements `work` runs, with their parameters."""
    seen: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((statement, params))

    event.listen(Engine, "before_cursor_execute", capture)
    try:
        work()
    finally:
        event.remove(Engine, "before_cursor_execute", capture)
    return seen


def _reports(tracker: Any) -> dict[str, Callable[[], Any]]:
    """Every report's read, with and without --known-on and --min-confidence."""
    calls: dict[str, Callable[[], Any]] = {}
    views: list[dict[str, Any]] = [{}, {"known_on": KNOWN_ON[1]}, {"min_confidence": "reported"}]
    for view in views:
        label = ",".join(f"{key}={value}" for key, value in view.items())
        for by in BY:
            calls[f"totals by={by} {label}"] = partial(tracker.totals, by=by, **view)
        window = {"as_of": AS_OF, "within": WITHIN, **view}
        calls[f"deadlines {label}"] = partial(tracker.deadlines, **window)
        calls[f"deadlines overdue {label}"] = partial(tracker.deadlines, overdue=True, **window)
        calls[f"pledges {label}"] = partial(tracker.pledges, **view)
        calls[f"sanctions {label}"] = partial(tracker.sanctions, **view)
    return calls


def _sqlite_plan(bound: Engine, statement: str, params: Any) -> list[tuple[str, list[str]]]:
    """Each step of the plan, with the steps it is nested in (outermost first)."""
    with bound.connect() as connection:
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
    steps: dict[int, tuple[int, str]] = {}
    plan = []
    for node, parent, _, detail in rows:
        steps[node] = (parent, detail)
        outer: list[str] = []
        up = parent
        while up in steps:
            outer.insert(0, steps[up][1])
            up = steps[up][0]
        plan.append((detail, outer))
    return plan


def _aliases(statement: str) -> dict[str, str]:
    """The stored tables of a statement by the names its plan gives them (`installments AS
    sizes` is shown as `sizes`)."""
    named = {table: table for table in TABLES}
    for table, alias in re.findall(r"\b(\w+) AS (\w+)\b", statement):
        if table in TABLES:
            named[alias] = table
    return named


def _full_scan(detail: str, tables: dict[str, str]) -> str | None:
    """The stored table a step reads whole (a covering index read whole is a scan too)."""
    found = re.match(r"SCAN (\w+)", detail)
    return tables.get(found[1]) if found else None


def _sqlite_defects(name: str, statement: str, plan: list[tuple[str, list[str]]]) -> list[str]:
    defects = []
    tables = _aliases(statement)
    for detail, outer in plan:
        if detail.startswith("LIST SUBQUERY") and any(s.startswith("CORRELATED") for s in outer):
            # `x IN (SELECT ...)` inside a subquery run for every row: SQLite may look up each
            # value of the list for every row (the rows times the list: --min-confidence's
            # check of the pledge that replaces another once did so).
            defects.append(f"{name}: {detail}, an IN list, for every row ({' / '.join(outer)})")
        table = _full_scan(detail, tables)
        if table is None:
            continue
        if any(step.startswith("CORRELATED") for step in outer):
            # Run once per row of the outer query: the cost grows with rows times table.
            defects.append(f"{name}: {detail} for every row ({' / '.join(outer)})")
        if name.startswith("deadlines") and "known_on" not in name and table == "installments":
            defects.append(f"{name}: {detail} reads every installment, not the window")
    return defects


@pytest.mark.sqlite_only
@pytest.mark.parametrize("filled", [True, False], ids=["statistics", "none"], indirect=True)
def test_no_report_scans_a_table_where_an_index_serves(filled: str) -> None:
    bound = create_engine(filled)
    defects: list[str] = []
    with fintrack.open(filled) as tracker:
        reports = _reports(tracker)
        for name, work in reports.items():
            statements = _statements(work)
            assert statements, name
            for statement, params in statements:
                plan = _sqlite_plan(bound, statement, params)
                defects += _sqlite_defects(name, statement, plan)
    bound.dispose()
    assert defects == [], "\n".join(defects)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("filled", [False], ids=["none"], indirect=True)
def test_the_plan_check_finds_a_scan_of_the_history_for_every_pledge(filled: str) -> None:
    """The check above can fail: without the index of 0005 (and without statistics, with
    which SQLite may build an index of its own for the statement), the replaced-pledge check
    of --known-on scans pledges_history once per pledge, and it says so."""
    bound = create_engine(filled)
    with bound.begin() as connection:
        connection.execute(text("DROP INDEX ix_pledges_history_replaces_id"))
    with fintrack.open(filled) as tracker:
        [*statements] = _statements(lambda: tracker.totals(by="pair", known_on=KNOWN_ON[1]))
    defects = [
        defect
        for statement, params in statements
        for defect in _sqlite_defects("totals", statement, _sqlite_plan(bound, statement, params))
    ]
    bound.dispose()
    assert defects and all("SCAN pledges_history for every row" in d for d in defects)


@pytest.mark.sqlite_only
@pytest.mark.parametrize("filled", [True, False], ids=["statistics", "none"], indirect=True)
def test_one_pledge_is_read_without_reading_every_pledge(filled: str) -> None:
    """`pledge show`, a library read of one pledge and the summary an edit returns read that
    pledge's installments, payments and sources by its id, not the aggregates of every pledge
    (which made each edit cost as much as a listing: 2,500 edits of a 250,000-pledge database
    took hours)."""
    bound = create_engine(filled)
    one = PLEDGES // 2

    def edit(tracker: Any) -> None:
        with tracker.change(reason="plan check") as change:
            change.edit_pledge(one, purpose="checked")

    defects: list[str] = []
    with fintrack.open(filled) as tracker:
        reads: dict[str, Callable[[], Any]] = {
            "pledge": partial(tracker.pledge, one),
            "pledge detail": partial(tracker.pledge_detail, one),
            "pledge edit": partial(edit, tracker),
        }
        for name, work in reads.items():
            statements = _statements(work)
            assert statements, name
            for statement, params in statements:
                tables = _aliases(statement)
                for detail, _ in _sqlite_plan(bound, statement, params):
                    table = _full_scan(detail, tables)
                    # The documents cited are few beside the records citing them: with
                    # statistics SQLite may rightly read them all and look up their links.
                    if table is not None and table != "sources":
                        defects.append(f"{name}: {detail} ({table} read whole)")
    bound.dispose()
    assert defects == [], "\n".join(defects)


def _pg_nodes(plan: dict[str, Any], per_row: bool = False) -> Iterator[tuple[dict[str, Any], bool]]:
    """Each node of a plan, and whether it runs again for every row of an outer node: below
    the inner side of a nested loop or a SubPlan that is not hashed, unless a Materialize or
    Hash node keeps its rows."""
    yield plan, per_row
    for child in plan.get("Plans", []):
        again = per_row
        if child.get("Parent Relationship") == "Inner" and plan["Node Type"] == "Nested Loop":
            again = True
        if child.get("Parent Relationship") == "SubPlan" and "hashed" not in child.get(
            "Subplan Name", ""
        ):
            again = True
        if child["Node Type"] in ("Materialize", "Hash"):
            again = False
        yield from _pg_nodes(child, again)


def _pg_plan(bound: Engine, statement: str, params: Any, seqscan: bool) -> dict[str, Any]:
    with bound.begin() as connection:
        if not seqscan:
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
        [[plan]] = connection.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, params).all()
    document = plan if isinstance(plan, list) else json.loads(plan)
    found: dict[str, Any] = document[0]["Plan"]
    return found


@pytest.mark.postgresql_only
def test_postgresql_reads_the_window_by_its_index_and_the_history_once(filled: str) -> None:
    """The deadlines window is reached through the due-date index once sequential scans are
    priced out (the tables are small, so the planner would rightly read them whole otherwise);
    no report of --known-on reads the pledges' history whole again for every row (PostgreSQL
    answers the replaced-pledge check with a hashed anti-join, or the history's replaces_id
    index). Only that table is checked here: on tables of a few hundred rows (or none, as
    the sanctions here) a nested loop over a sequential scan is the planner's right choice."""
    bound = create_engine(filled)
    with fintrack.open(filled) as tracker:
        window = _statements(lambda: tracker.deadlines(as_of=AS_OF, within=WITHIN))
        known = {
            name: _statements(work)
            for name, work in _reports(tracker).items()
            if "known_on" in name
        }
    used = False
    for statement, params in window:
        for node, _ in _pg_nodes(_pg_plan(bound, statement, params, seqscan=False)):
            # An Index Scan names its table; a Bitmap Index Scan only its index.
            if node.get("Index Name") == "ix_installments_due_on":
                used = used or "due_on" in node.get("Index Cond", "")
    assert used, "deadlines: no index scan of installments on due_on"
    defects = [
        f"{name}: Seq Scan on {node['Relation Name']} for every row"
        for name, statements in known.items()
        for statement, params in statements
        for node, per_row in _pg_nodes(_pg_plan(bound, statement, params, seqscan=True))
        if per_row and node["Node Type"] == "Seq Scan" and node["Relation Name"] in HISTORIES
    ]
    bound.dispose()
    assert defects == [], "\n".join(defects)


# --- the same answers as an independent computation from the stored rows ---------------------


def _rows(bound: Engine, table: str) -> list[dict[str, Any]]:
    with bound.connect() as connection:
        return [dict(row) for row in connection.execute(text(f"SELECT * FROM {table}")).mappings()]


def _as_time(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _as_day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _known(bound: Engine, table: str, day: date | None) -> list[dict[str, Any]]:
    """The versions of a table's records current at the end of `day` (now without one)."""
    current = _rows(bound, table)
    if day is None:
        return current
    before = end_of_day(day)
    past = _rows(bound, HISTORY[table].name)
    return [row for row in current if _as_time(row["known_from"]) < before] + [
        row for row in past if _as_time(row["known_from"]) < before <= _as_time(row["known_until"])
    ]


# A record's standing is the best of its sources' confidences, in this order; --min-confidence
# keeps the records whose standing it names.
RANKS = ("unverified", "reported", "denied", "confirmed")
LETS_THROUGH = {"confirmed": {"confirmed"}, "reported": {"confirmed", "reported"}}


def _sure(bound: Engine, day: date | None, column: str, level: str | None) -> Callable[[int], bool]:
    """Whether a record (by its id in source_links' `column`) is sure enough for `level`."""
    if level is None:
        return lambda _: True
    best: dict[int, int] = {}
    for link in _known(bound, "source_links", day):
        if link[column] is not None:
            rank = RANKS.index(link["confidence"])
            best[link[column]] = max(best.get(link[column], -1), rank)
    return lambda ident: ident in best and RANKS[best[ident]] in LETS_THROUGH[level]


class Oracle:
    """Totals and deadlines computed in Python from the versions as stored."""

    def __init__(self, bound: Engine, day: date | None, level: str | None = None) -> None:
        sure = _sure(bound, day, "pledge_id", level)
        pledges = [
            p for p in _known(bound, "pledges", day) if p["voided_at"] is None and sure(p["id"])
        ]
        replaced = {p["replaces_id"] for p in pledges if p["replaces_id"] is not None}
        self.pledges = {p["id"]: p for p in pledges if p["id"] not in replaced}
        self.installments = _known(bound, "installments", day)
        self.paid: dict[int, int] = defaultdict(int)
        paid_sure = _sure(bound, day, "disbursement_id", level)
        for payment in _known(bound, "disbursements", day):
            if payment["voided_at"] is None and paid_sure(payment["id"]):
                self.paid[payment["installment_id"]] += int(payment["amount_minor"])

    def totals(self, by: str) -> list[tuple[Any, ...]]:
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [set(), 0, 0])
        for installment in self.installments:
            pledge = self.pledges.get(installment["pledge_id"])
            if pledge is None:
                continue
            due = _as_day(installment["due_on"])
            keys = {
                "pair": (pledge["donor"], pledge["recipient"], None),
                "donor": (pledge["donor"], None, None),
                "recipient": (None, pledge["recipient"], None),
                "month": (None, None, f"{due:%Y-%m}"),
                "currency": (None, None, None),
            }[by]
            group = groups[(pledge["currency"], *keys)]
            group[0].add(pledge["id"])
            group[1] += int(installment["amount_minor"])
            group[2] += self.paid[installment["id"]]
        return sorted(
            (*key, len(ids), pledged, paid) for key, (ids, pledged, paid) in groups.items()
        )

    def deadlines(self, as_of: date, within: int, overdue: bool) -> list[tuple[Any, ...]]:
        sizes: dict[int, int] = defaultdict(int)
        for installment in self.installments:
            sizes[installment["pledge_id"]] += 1
        rows = []
        for installment in self.installments:
            pledge = self.pledges.get(installment["pledge_id"])
            due = _as_day(installment["due_on"])
            left = int(installment["amount_minor"]) - self.paid[installment["id"]]
            last = as_of - timedelta(days=1) if overdue else as_of + timedelta(days=within)
            if pledge is None or due > last or left <= 0:
                continue
            detail = f"installment {installment['seq']} of {sizes[pledge['id']]}"
            rows.append((due, pledge["id"], detail, left))
        return sorted(rows)


@pytest.mark.parametrize(
    ("day", "level"),
    [*((day, None) for day in (None, *KNOWN_ON)), (None, "reported"), (KNOWN_ON[1], "confirmed")],
)
def test_totals_and_deadlines_are_what_the_stored_versions_give(
    filled: str, day: date | None, level: str | None
) -> None:
    bound = create_engine(filled)
    oracle = Oracle(bound, day, level)
    bound.dispose()
    view: dict[str, Any] = {"known_on": day, "min_confidence": level}
    with fintrack.open(filled) as tracker:
        for by in BY:
            rows = [
                (
                    row.pledged.currency,
                    row.donor,
                    row.recipient,
                    row.month,
                    row.pledges,
                    row.pledged.minor,
                    row.disbursed.minor,
                )
                for row in tracker.totals(by=by, **view)
                if not row.total or by == "currency"
            ]
            assert sorted(rows) == oracle.totals(by), by
        # Each currency's total row (summed from the groups, the pledges counted in SQL by
        # month) is what the report by currency sums in SQL directly.
        currencies = tracker.totals(by="currency", **view)
        for by in BY[:-1]:
            ends = [row for row in tracker.totals(by=by, **view) if row.total]
            assert ends == currencies, by
        for overdue in (False, True):
            due = tracker.deadlines(
                as_of=AS_OF, within=WITHIN, overdue=overdue, kinds=["installment"], **view
            )
            got = [
                (row.date, row.record_id, row.detail, row.amount.minor) for row in due if row.amount
            ]
            assert got == oracle.deadlines(AS_OF, WITHIN, overdue)
            assert len(got) == len(due)
    if day == KNOWN_ON[1]:
        assert oracle.deadlines(AS_OF, WITHIN, False), "the window holds some installments"
    if level is not None:
        assert oracle.totals("pair"), "some pledges are sure enough"


# --- planner statistics ------------------------------------------------------------------------


def _analyzed(db_url: str) -> dict[str, int]:
    """The tables the planner has statistics of, with the rows they say each holds."""
    bound = create_engine(db_url)
    with bound.connect() as connection:
        if bound.dialect.name == "sqlite":
            if (
                connection.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"
                ).first()
                is None
            ):
                return {}
            query = "SELECT tbl, max(CAST(stat AS INTEGER)) FROM sqlite_stat1 GROUP BY tbl"
        else:
            query = (
                "SELECT relname, n_live_tup FROM pg_stat_user_tables "
                "WHERE schemaname = current_schema() AND last_analyze IS NOT NULL"
            )
        found = {str(table): int(rows or 0) for table, rows in connection.exec_driver_sql(query)}
    bound.dispose()
    return found


def _interchange_files(folder: Path) -> tuple[Path, Path]:
    spec = importlib.util.spec_from_file_location("benchmark_interchange", INTERCHANGE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    files: tuple[Path, Path] = module.generate(folder, 40, 4)
    return files


def test_statistics_are_refreshed_by_a_seed_and_an_import(db_url: str, tmp_path: Path) -> None:
    with fintrack.open(db_url) as tracker:
        tracker.seed()
        seeded = _analyzed(db_url)
        assert seeded.get("pledges", 0) >= 1, seeded
        pledges, installments = _interchange_files(tmp_path)
        tracker.import_file("pledges", pledges, installments=installments)
    assert _analyzed(db_url)["installments"] > seeded["installments"]


@pytest.mark.new_database
def test_statistics_are_refreshed_by_a_migration(db_url: str) -> None:
    bound = create_engine(db_url)
    with bound.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE marker (id INTEGER)")
        connection.exec_driver_sql("INSERT INTO marker VALUES (1)")
        connection.commit()
    bound.dispose()
    Database(db_url).upgrade()
    analyzed = _analyzed(db_url)
    # SQLite's ANALYZE records the tables that hold rows; PostgreSQL's names fintrack's own.
    assert "marker" in analyzed if "sqlite" in db_url else "pledges" in analyzed

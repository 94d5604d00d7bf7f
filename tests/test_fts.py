"""`fintrack import fts`: the three real pages of one OCHA FTS flow search (Jordan, 2020)."""

import copy
import csv
import io
import json
import os
import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import fintrack
from tests.conftest import QATAR, Result, Run, assert_error, row_counts, url_of

DATA = Path(__file__).parent / "data" / "fts"
PAGES = [
    DATA / "fts_flow_locationid-114_year-2020.json",
    DATA / "fts_flow_locationid-114_year-2020-page-2.json",
    DATA / "fts_flow_locationid-114_year-2020-page-3.json",
]
ALL = [str(page) for page in PAGES]


def load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)


def flows(pages: Iterable[Path] = PAGES) -> list[dict[str, Any]]:
    return [flow for page in pages for flow in load(page)["data"]["flows"]]


def dumps(document: Any) -> str:
    """JSON text of a page as loaded by `load`: its Decimals written as the numbers they are."""
    marked = json.dumps(document, default=lambda value: f"\u0000{value}\u0000")
    return re.sub(r'"\\u0000([^"]*)\\u0000"', r"\1", marked)


def incoming(page: Path = PAGES[0]) -> dict[str, Any]:
    found: dict[str, Any] = load(page)["data"]["incoming"]
    return found


def counted_usd(items: Iterable[dict[str, Any]], statuses: set[str]) -> Decimal:
    """FTS's counting rule, from the raw JSON: flows into the location (boundary incoming),
    not shared with other locations or years (onBoundary single), of these statuses."""
    return sum(
        (
            Decimal(flow["amountUSD"])
            for flow in items
            if flow["boundary"] == "incoming"
            and flow["onBoundary"] == "single"
            and flow["status"] in statuses
        ),
        Decimal(0),
    )


def usd(amount: Decimal) -> str:
    return f"USD {amount:,.2f}"


def side_by_side(err: str) -> dict[str, tuple[Decimal, Decimal]]:
    """The summary's two columns, FTS's total of the search and fintrack's of the flows
    imported, by the figure they are of."""
    lines = err.splitlines()
    (at,) = [n for n, line in enumerate(lines) if "FTS (the search)" in line]
    assert "fintrack (these flows)" in lines[at]
    figures = {}
    for line in lines[at + 1 : at + 3]:
        name, fts, ours = line.rsplit(None, 2)
        figures[name.strip()] = (Decimal(fts.replace(",", "")), Decimal(ours.replace(",", "")))
    return figures


def imported(run: Run, *files: str) -> Result:
    result = run("import", "fts", *files)
    assert result.code == 0, result.err
    assert result.out == ""
    return result


def _query(sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine = create_engine(url_of(database), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()


def plain(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row read alike from either engine: dates as ISO text, booleans as 0 or 1."""
    return tuple(
        value.isoformat() if isinstance(value, date) else int(value) if isinstance(value, bool)
        else value
        for value in row
    )  # fmt: skip


def query(sql: str, database: str | None = None) -> list[tuple[Any, ...]]:
    return [plain(row) for row in _query(sql, database)]


def state(database: str | None = None) -> dict[str, Any]:
    """Every FTS record of a database, by ref: what an import must give whatever the order."""
    pledges = {
        row[0]: row[1:]
        for row in query(
            "SELECT p.ref, p.donor, p.recipient, p.purpose, p.currency, p.amount_minor, p.status,"
            " p.announced_on, p.schedule_assumed, p.original_amount, p.original_currency,"
            " p.exchange_rate, p.version, p.boundary, parent.ref, p.voided_at"
            " FROM pledges p LEFT JOIN pledges parent ON parent.id = p.part_of_id",
            database,
        )
    }
    installments = sorted(
        query(
            "SELECT p.ref, i.seq, i.due_on, i.amount_minor FROM installments i"
            " JOIN pledges p ON p.id = i.pledge_id",
            database,
        )
    )
    payments = sorted(
        query(
            "SELECT d.ref, p.ref, i.seq, d.paid_on, d.amount_minor FROM disbursements d"
            " JOIN pledges p ON p.id = d.pledge_id JOIN installments i ON i.id = d.installment_id",
            database,
        )
    )
    sources = sorted(
        query(
            "SELECT p.ref, s.url, s.title, s.publisher, s.published_on, l.confidence"
            " FROM source_links l JOIN sources s ON s.id = l.source_id"
            " JOIN pledges p ON p.id = l.pledge_id",
            database,
        )
    )
    return {
        "pledges": pledges,
        "installments": installments,
        "payments": payments,
        "sources": sources,
    }


def totals_csv(run: Run, *options: str) -> list[dict[str, str]]:
    result = run("totals", "--by", "currency", *options, "--format", "csv")
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


def test_every_flow_is_one_pledge_with_its_status_amounts_and_source(run: Run) -> None:
    result = imported(run, *ALL)
    raw = flows()
    assert len(raw) == load(PAGES[0])["meta"]["count"]
    by_ref = state()["pledges"]
    assert set(by_ref) == {f"fts:{flow['id']}" for flow in raw}
    paid = [f for f in raw if f["status"] == "paid" and f["amountUSD"] > 0]
    nonzero = [f for f in raw if f["amountUSD"] > 0]
    assert (
        f"{len(raw)} pledges, {len(nonzero)} installments, {len(paid)} disbursements, "
        f"{len(raw)} sources, {len(raw) + len(paid)} links added, nothing already present"
    ) in result.err
    for flow in raw:
        (donor, recipient, purpose, currency, minor, status, announced, assumed, original,
         original_currency, rate, version, boundary, _, voided) = by_ref[f"fts:{flow['id']}"]  # fmt: skip
        assert (currency, minor, status) == ("USD", flow["amountUSD"] * 100, flow["status"])
        assert version == str(flow["versionId"]) and voided is None
        text = flow["description"]
        # Line breaks are kept in long text; a line's runs of spaces are folded.
        assert purpose == (text.strip() if "\n" in text else " ".join(text.split()))
        assert str(announced)[:10] == (flow["decisionDate"] or flow["date"])[:10]
        # The original amount, currency and rate as FTS records them, exactly.
        given = flow.get("originalAmount")
        assert (None if original is None else Decimal(original)) == given
        assert original_currency == flow.get("originalCurrency")
        rate_given = flow.get("exchangeRate")
        assert (None if rate is None else Decimal(rate)) == rate_given
        expected = None
        if flow["boundary"] == "internal":
            expected = "internal"
        elif flow["onBoundary"] == "shared":
            expected = "shared"
        assert boundary == expected
        organizations = [o["name"] for o in flow["sourceObjects"] if o["type"] == "Organization"]
        assert donor == ("; ".join(organizations) if organizations else donor)
        assert donor and recipient
        assert bool(assumed) == (flow["status"] != "paid" and flow["amountUSD"] > 0)
    statuses = {row[0] for row in query("SELECT DISTINCT status FROM pledges")}
    assert statuses == {"pledge", "commitment", "paid"}
    records = state()
    assert {row[0] for row in records["payments"]} == {f"fts:{f['id']}" for f in paid}
    days = {f"fts:{flow['id']}": flow["date"][:10] for flow in raw}
    for ref, pledge_ref, seq, paid_on, minor in records["payments"]:
        assert ref == pledge_ref and seq == 1 and minor == by_ref[ref][4]
        assert str(paid_on)[:10] == days[ref]
    assert len(records["sources"]) == len(raw)
    # Each payment cites FTS too, as FTS reports it.
    cited = query(
        "SELECT d.ref, l.confidence FROM source_links l"
        " JOIN disbursements d ON d.id = l.disbursement_id"
    )
    assert sorted(cited) == sorted((f"fts:{f['id']}", "reported") for f in paid)
    assert {(row[3], row[5]) for row in records["sources"]} == {("OCHA FTS", "reported")}
    # The flow whose source names no organization, location or plan.
    assert by_ref["fts:208834"][0] == "Not specified"


def test_parent_and_child_flows_are_linked(run: Run) -> None:
    result = imported(run, *ALL)
    raw = flows()
    ids = {flow["id"] for flow in raw}
    pairs = set()
    for flow in raw:
        if flow["parentFlowId"] is not None:
            pairs.add((str(flow["parentFlowId"]), flow["id"]))
        for child in flow["childFlowIds"] or []:
            pairs.add((flow["id"], str(child)))
    inside = {(parent, child) for parent, child in pairs if parent in ids and child in ids}
    assert inside  # the pages hold flows of both kinds
    stored = {
        (parent.removeprefix("fts:"), child.removeprefix("fts:"))
        for child, (*_, parent, _voided) in state()["pledges"].items()
        if parent is not None
    }
    assert stored == inside
    outside = len(pairs) - len(inside)
    assert f"{outside} parent/child links name a flow not imported" in result.err


def test_importing_the_pages_again_adds_nothing(run: Run, db_path: Path) -> None:
    imported(run, *ALL)
    before = row_counts(db_path), state(), query("SELECT count(*) FROM changes")
    again = imported(run, *ALL)
    assert "no flows added, 478 pledges already present" in again.err
    # Nothing written, not even a change for the history.
    assert (row_counts(db_path), state(), query("SELECT count(*) FROM changes")) == before


def test_pages_one_and_two_then_three_give_what_all_three_at_once_give(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = imported(run, *ALL[:2])
    assert "These files hold 400 flows of the search's 478" in first.err
    second = imported(run, ALL[2])
    assert "78 pledges" in second.err
    split = state()
    at_once = f"sqlite:///{tmp_path / 'at-once.db'}"
    monkeypatch.setenv("FINTRACK_DATABASE_URL", at_once)
    imported(run, *ALL)
    assert state(at_once) == split


def linked_pair() -> tuple[str, str]:
    """A parent flow of page 1 and a child of it on the same page."""
    page = load(PAGES[0])["data"]["flows"]
    ids = {flow["id"] for flow in page}
    for flow in page:
        for child in flow["childFlowIds"] or []:
            if str(child) in ids:
                return flow["id"], str(child)
    raise AssertionError("page 1 has no parent and child flows")


@pytest.mark.parametrize("later", ["parent", "child"])
def test_a_parent_or_child_flow_imported_later_is_linked(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, later: str
) -> None:
    parent, child = linked_pair()
    held_back = parent if later == "parent" else child
    page = load(PAGES[0])
    first, second = copy.deepcopy(page), copy.deepcopy(page)
    first["data"]["flows"] = [f for f in page["data"]["flows"] if f["id"] != held_back]
    second["data"]["flows"] = [f for f in page["data"]["flows"] if f["id"] == held_back]
    paths = []
    for name, content in (("first.json", first), ("second.json", second)):
        paths.append(tmp_path / name)
        paths[-1].write_text(dumps(content), encoding="utf-8")
    imported(run, str(paths[0]))
    if later == "parent":
        assert state()["pledges"][f"fts:{child}"][13] is None
    result = imported(run, str(paths[1]))
    if later == "parent":  # the stored child is edited: its history keeps it unlinked
        assert "stored flow" in result.err and "linked to the flow it is part of" in result.err
    assert state()["pledges"][f"fts:{child}"][13] == f"fts:{parent}"
    split = state()
    at_once = f"sqlite:///{tmp_path / 'at-once.db'}"
    monkeypatch.setenv("FINTRACK_DATABASE_URL", at_once)
    imported(run, ALL[0])
    assert state(at_once) == split


def test_figures_from_the_json_agree_with_totals_and_the_summary(run: Run) -> None:
    raw = flows()
    funding = counted_usd(raw, {"commitment", "paid"})
    pledged = counted_usd(raw, {"pledge"})
    totals = incoming()
    # The counting rule reproduces FTS's own totals of the search.
    assert (funding, pledged) == (totals["fundingTotal"], totals["pledgeTotal"])
    result = imported(run, *ALL)
    assert side_by_side(result.err) == {
        "Funding USD": (Decimal(totals["fundingTotal"]), funding),
        "Pledges USD": (Decimal(totals["pledgeTotal"]), pledged),
    }
    assert "These files hold" not in result.err
    (row,) = totals_csv(run, "--status", "commitment", "--status", "paid")
    assert Decimal(row["pledged"]) == funding
    (row,) = totals_csv(run, "--status", "commitment,paid")
    assert Decimal(row["pledged"]) == funding
    (row,) = totals_csv(run, "--status", "pledge")
    assert Decimal(row["pledged"]) == pledged
    (row,) = totals_csv(run)
    assert Decimal(row["pledged"]) == funding + pledged
    paid = counted_usd(raw, {"paid"})
    assert Decimal(row["disbursed"]) == paid


def test_pages_one_and_two_alone_do_not_reach_ftss_totals(run: Run) -> None:
    raw = flows(PAGES[:2])
    result = imported(run, *ALL[:2])
    funding = counted_usd(raw, {"commitment", "paid"})
    assert funding < incoming()["fundingTotal"]
    assert side_by_side(result.err)["Funding USD"] == (incoming()["fundingTotal"], funding)
    (row,) = totals_csv(run, "--status", "commitment,paid")
    assert Decimal(row["pledged"]) == funding


def test_a_dry_run_writes_nothing_and_gives_the_same_figures(run: Run, db_path: Path) -> None:
    before = row_counts(db_path)
    dry = run("import", "fts", *ALL, "--dry-run")
    assert dry.code == 0, dry.err
    assert "Dry run of 3 files: would add 478 pledges" in dry.err
    assert row_counts(db_path) == before
    real = imported(run, *ALL)
    assert dry.err.splitlines()[1:] == real.err.splitlines()[1:]


def test_the_rates_that_disagree_are_listed_and_kept(run: Run) -> None:
    result = imported(run, *ALL)
    off = []
    for flow in flows():
        amount, rate = flow.get("originalAmount"), flow.get("exchangeRate")
        if amount is None or not rate:
            continue
        implied = Decimal(amount) / Decimal(rate)
        usd_amount = Decimal(flow["amountUSD"])
        if abs(implied - usd_amount) > max(Decimal(1), usd_amount / 100):
            off.append(flow["id"])
    assert off
    assert f"(kept as FTS records them): {', '.join(sorted(off, key=int))}" in result.err


def with_flow(tmp_path: Path, name: str, change: dict[str, Any], index: int = 0) -> Path:
    """A copy of page 3 with one flow changed."""
    page = load(PAGES[2])
    page["data"]["flows"][index].update(change)
    target = tmp_path / name
    target.write_text(dumps(page), encoding="utf-8")
    return target


def test_a_newer_version_edits_the_pledge_and_keeps_its_history(
    run: Run, tmp_path: Path, db_url: str
) -> None:
    imported(run, *ALL)
    flow = load(PAGES[2])["data"]["flows"][0]
    assert flow["status"] == "paid"
    ref = f"fts:{flow['id']}"
    before = state()
    older = with_flow(tmp_path, "older.json", {"versionId": flow["versionId"], "amountUSD": 5})
    assert "no flows added, 78 pledges already present" in imported(run, str(older)).err
    assert state() == before
    newer = {"versionId": flow["versionId"] + 1, "amountUSD": 300000, "status": "commitment"}
    result = imported(run, str(with_flow(tmp_path, "newer.json", newer)))
    assert "1 pledge changed (a newer versionId), 77 pledges already present" in result.err
    after = state()
    assert after["pledges"][ref][4:6] == (30000000, "commitment")
    assert after["pledges"][ref][11] == str(flow["versionId"] + 1)
    assert [row[3] for row in after["installments"] if row[0] == ref] == [30000000]
    assert ref not in {row[0] for row in after["payments"]}  # a commitment has no payment
    changed = {k: v for k, v in after["pledges"].items() if before["pledges"][k] != v}
    assert set(changed) == {ref}
    with fintrack.open(db_url) as tracker:
        (pledge_id,) = query(f"SELECT id FROM pledges WHERE ref = '{ref}'")[0]
        history = tracker.history("pledge", pledge_id)
    fields = {(row.field, row.old, row.new) for row in history}
    assert any(f == "status" and old == "paid" and new == "commitment" for f, old, new in fields)
    # Paid again in a later version: the payment comes back.
    paid = {"versionId": flow["versionId"] + 2, "status": "paid"}
    imported(run, str(with_flow(tmp_path, "paid.json", paid)))
    assert ref in {row[0] for row in state()["payments"]}
    cited = query(
        "SELECT l.confidence FROM source_links l JOIN disbursements d"
        f" ON d.id = l.disbursement_id WHERE d.ref = '{ref}'"
    )
    assert cited == [("reported",)]
    # Parked at zero in a later version: no installment and no payment are left.
    parked = {"versionId": flow["versionId"] + 3, "amountUSD": 0, "flowType": "Parked"}
    imported(run, str(with_flow(tmp_path, "parked.json", parked)))
    final = state()
    assert final["pledges"][ref][4:6] == (0, "paid")
    assert ref not in {row[0] for row in final["installments"] + final["payments"]}


def test_the_same_flow_twice_in_one_import_keeps_the_highest_version(
    run: Run, tmp_path: Path
) -> None:
    page = load(PAGES[2])
    first = page["data"]["flows"][0]
    later = copy.deepcopy(first)
    later.update(versionId=first["versionId"] + 1, amountUSD=1234)
    page["data"]["flows"].append(later)
    target = tmp_path / "twice.json"
    target.write_text(dumps(page), encoding="utf-8")
    result = imported(run, str(target))
    assert "78 pledges" in result.err and "1 flow given twice" in result.err
    assert state()["pledges"][f"fts:{first['id']}"][4] == 123400


def test_the_library_imports_the_pages_and_sets_the_figures_side_by_side(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        summary = tracker.import_file("fts", PAGES)
    assert isinstance(summary, fintrack.FtsImportSummary)
    assert summary.flows == 478 and summary.complete
    assert summary.fts_funding == summary.funding
    assert summary.fts_pledges == summary.pledged
    assert summary.added["pledges"] == 478


def test_deadlines_leave_out_the_assumed_dates_of_fts_flows(run: Run) -> None:
    imported(run, *ALL)
    assert run(*QATAR).code == 0
    result = run("deadlines", "--overdue", "--as-of", "2026-12-31", "--format", "csv")
    assert result.code == 0, result.err
    rows = list(csv.DictReader(io.StringIO(result.out)))
    # Qatar's installments are overdue; none of FTS's commitments, whose dates fintrack assumed.
    assert len(rows) == 3
    assert {(row["record"], row["record_id"]) for row in rows} == {("pledge", "479")}


# --- bad input: one Error line, nothing written --------------------------------------------


def bad_page(tmp_path: Path, content: bytes) -> str:
    target = tmp_path / "bad.json"
    target.write_bytes(content)
    return str(target)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"<html><body>Service unavailable</body></html>", "is not JSON (line 1 column 1"),
        (b"", "is not JSON"),
        (b'{"status": "ok", "data": {"flows": {}}}', "is not OCHA FTS flow JSON"),
        (b"[1, 2, 3]", "is not OCHA FTS flow JSON"),
        (b'{"data": {"flows": [NaN]}}', "NaN is not a number JSON allows"),
        (b'{"data": {"flows": [' + b"9" * 5000 + b"]}}", "is not JSON that fintrack reads"),
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"data": {"flows": ["a\x01b"]}}', "Invalid control character"),
        (b"\xff\xfe\x00garbage", "is not JSON"),
        (
            b'{"data": {"flows": [], "incoming": {"fundingTotal": "lots"}}}',
            "/data/incoming/fundingTotal: must be a number",
        ),
    ],
)
def test_a_file_that_is_not_fts_flow_json_is_one_error(
    run: Run, tmp_path: Path, db_path: Path, content: bytes, fragment: str
) -> None:
    before = row_counts(db_path)
    result = run("import", "fts", ALL[0], bad_page(tmp_path, content))
    assert_error(result, "bad.json", fragment)
    assert result.code == 1
    assert row_counts(db_path) == before


def test_a_file_that_never_ends_or_is_too_large_is_refused(
    run: Run, tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = row_counts(db_path)
    fifo = tmp_path / "endless.json"
    os.mkfifo(fifo)
    assert_error(run("import", "fts", str(fifo)), "is not a regular file")
    assert_error(run("import", "fts", "/dev/zero"), "is not a regular file")
    import fintrack.interchange.fts as fts

    monkeypatch.setattr(fts, "MAX_PAGE_BYTES", 1000)
    assert_error(run("import", "fts", ALL[0]), "is larger than")
    assert_error(run("import", "fts", str(tmp_path / "missing.json")), "no such file")
    assert row_counts(db_path) == before


@pytest.mark.parametrize(
    ("change", "pointer", "fragment"),
    [
        ({"amountUSD": Decimal("1.005")}, "amountUSD", "must be a whole number of cents"),
        ({"amountUSD": -5}, "amountUSD", "must not be negative"),
        ({"amountUSD": Decimal("1E+400")}, "amountUSD", "is too large"),
        ({"amountUSD": "12"}, "amountUSD", "must be a number of US dollars"),
        ({"status": "promised"}, "status", "is not pledge, commitment or paid"),
        ({"versionId": None}, "versionId", "must be a whole number"),
        ({"date": "yesterday"}, "date", "is not a date"),
        ({"id": "12<script>"}, "id", "is not an FTS flow id"),
        ({"description": "nul\u0000here"}, "description", "NUL character"),
        ({"exchangeRate": 0}, "exchangeRate", "must be more than 0"),
        ({"originalCurrency": "euro"}, "originalCurrency", "is not a currency code"),
        ({"id": json.loads("[" * 900 + "]" * 900)}, "id", "a list is not an FTS flow id"),
        ({"sourceObjects": {"type": "Organization"}}, "sourceObjects", "must be a list"),
    ],
)
def test_a_bad_flow_is_named_by_its_json_pointer_and_nothing_is_written(
    run: Run,
    tmp_path: Path,
    db_path: Path,
    change: dict[str, Any],
    pointer: str,
    fragment: str,
) -> None:
    before = row_counts(db_path)
    target = with_flow(tmp_path, "page-3.json", change, index=17)
    result = run("import", "fts", ALL[0], str(target))
    assert result.code == 1 and result.out == ""
    lines = result.err.strip().splitlines()
    assert lines[0].startswith(f"{target}:/data/flows/17/{pointer}: ")
    assert fragment in lines[0]
    assert lines[-1] == "Error: 1 of 278 flows are invalid; nothing was imported"
    assert "Traceback" not in result.err
    assert row_counts(db_path) == before


def test_a_long_list_of_bad_flows_is_cut_short(run: Run, tmp_path: Path) -> None:
    page = {"data": {"flows": [{"id": "x"}] * 5000}}
    result = run("import", "fts", bad_page(tmp_path, json.dumps(page).encode()))
    lines = result.err.strip().splitlines()
    assert result.code == 1 and len(lines) == 22
    assert lines[-2].startswith("... and ") and lines[-1].startswith("Error: 5000 of 5000 flows")


def test_pages_of_two_searches_are_refused(run: Run, tmp_path: Path, db_path: Path) -> None:
    page = load(PAGES[2])
    page["data"]["incoming"]["fundingTotal"] = 1
    target = tmp_path / "other-search.json"
    target.write_text(dumps(page), encoding="utf-8")
    assert_error(run("import", "fts", ALL[0], str(target)), "give the pages of one search")
    assert row_counts(db_path)["pledges"] == 0


def test_options_of_csv_imports_and_several_csv_files_are_refused(run: Run) -> None:
    assert_error(run("import", "fts", ALL[0], "--installments", ALL[1]), "--installments")
    assert_error(run("import", "pledges", ALL[0], ALL[1]), "several only with fts")


def test_a_bad_status_filter_of_totals_names_the_option(run: Run) -> None:
    assert_error(run("totals", "--status", "promised"), "--status", "'promised'")


def test_the_flows_survive_an_export_and_import_round_trip(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    imported(run, *ALL)
    kinds = ("pledges", "installments", "disbursements", "sources", "links")

    def export(folder: Path) -> dict[str, bytes]:
        folder.mkdir()
        for kind in kinds:
            assert run("export", kind, "-o", str(folder / f"{kind}.csv")).code == 0
        return {kind: (folder / f"{kind}.csv").read_bytes() for kind in kinds}

    first = export(tmp_path / "a")
    header = first["pledges"].split(b"\n", 1)[0].decode()
    for column in ("original_amount", "original_currency", "exchange_rate", "version",
                   "part_of", "boundary"):  # fmt: skip
        assert column in header.split(",")
    copy_url = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv("FINTRACK_DATABASE_URL", copy_url)
    folder = tmp_path / "a"
    steps = [
        ("pledges", str(folder / "pledges.csv"), "--installments", str(folder / "installments.csv")),
        ("disbursements", str(folder / "disbursements.csv")),
        ("sources", str(folder / "sources.csv")),
        ("links", str(folder / "links.csv")),
    ]  # fmt: skip
    for step in steps:
        result = run("import", *step)
        assert result.code == 0, result.err
    assert export(tmp_path / "b") == first
    # The figures are the same: the boundaries came back with the flows.
    (row,) = totals_csv(run, "--status", "commitment,paid")
    assert Decimal(row["pledged"]) == incoming()["fundingTotal"]
    # And the copy is still one import of the pages: importing them adds nothing.
    assert "no flows added, 478 pledges already present" in imported(run, *ALL).err


def test_a_pledge_of_zero_is_refused_unless_it_records_a_source_version(
    run: Run, tmp_path: Path
) -> None:
    header = "donor,recipient,currency,pledged,announced,installments,version\n"
    plain = tmp_path / "zero.csv"
    plain.write_text(header + "A,B,USD,0,2020-01-01,,\n", encoding="utf-8")
    result = run("import", "pledges", str(plain))
    assert result.code == 1 and "must be greater than zero" in result.err
    flow = tmp_path / "flow.csv"
    flow.write_text(header + "A,B,USD,0.00,2020-01-01,0,3\n", encoding="utf-8")
    result = run("import", "pledges", str(flow))
    assert result.code == 0, result.err
    assert query("SELECT amount_minor, version FROM pledges") == [(0, "3")]
    assert query("SELECT count(*) FROM installments") == [(0,)]
    # Listed like any pledge, though it has no installment.
    listed = json.loads(run("pledge", "list", "--format", "json").out)
    assert [(row["pledged"], row["installments"], row["version"]) for row in listed] == [
        ("0.00", 0, "3")
    ]
    assert_error(
        run("pledge", "add", "--donor", "A", "--recipient", "B", "--currency", "USD",
            "--amount", "0", "--on", "2020-01-01"),
        "greater than zero",
    )  # fmt: skip


def test_the_external_kinds_are_the_vocabularys() -> None:
    from typing import get_args

    from fintrack.api import ExternalKind
    from fintrack.vocab import ExternalFormat, FileKind, ImportChoice

    assert get_args(ExternalKind) == tuple(kind.value for kind in ExternalFormat)
    assert [kind.value for kind in ImportChoice] == [*FileKind, *ExternalFormat]


def test_quiet_prints_nothing(run: Run) -> None:
    result = run("import", "fts", *ALL, "--quiet")
    assert (result.code, result.out, result.err) == (0, "", "")
    assert query("SELECT count(*) FROM pledges") == [(478,)]


def test_the_library_filters_totals_by_status(db_url: str) -> None:
    with fintrack.open(db_url) as tracker:
        tracker.import_file("fts", PAGES)
        (funding,) = tracker.totals(by="currency", status=["commitment", "paid"])
        (pledges,) = tracker.totals(by="currency", status="pledge")
        with pytest.raises(fintrack.InputError, match="status: 'promised'"):
            tracker.totals(status="promised")
    totals = incoming()
    assert funding.pledged == fintrack.Money.of(totals["fundingTotal"], "USD")
    assert pledges.pledged == fintrack.Money.of(totals["pledgeTotal"], "USD")

"""The fast paths of imports against the plain ones: batches written by the driver (SQLite's
executemany, PostgreSQL's COPY) store what SQLAlchemy's insert stores; a plain amount and a row
without quotes read as the general parsers read them; the compact state of a pledges import
plans the ids and sums the installments as the plain structures do."""

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, insert, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from fintrack import interchange
from fintrack.errors import InputError
from fintrack.interchange import cells, writing
from fintrack.interchange.problems import Options
from fintrack.interchange.writing import Batches, IdPlan
from fintrack.models import (
    Change,
    Disbursement,
    Installment,
    Pledge,
    SanctionAction,
    SanctionMeasure,
)
from fintrack.money import MAX_MINOR, parse_amount
from fintrack.spreadsheet import unneutralise
from tests.conftest import Run, engine, url_of
from tests.test_import_bulk import write_csv

TEXTS = ["tab\there", "back\\slash \\N", "line\nbreak", "café ünïcode", "'=1+2", 'a "q", c']


def _pledge(n: int) -> dict[str, Any]:
    odd = n % 2 == 1
    return {
        "id": 10 + n,
        "ref": f"r{n}" if n % 3 else None,
        "donor": TEXTS[n % len(TEXTS)].replace("\n", " "),
        "recipient": "Syria",
        "purpose": TEXTS[n % len(TEXTS)] if n % 4 else None,
        "currency": "USD",
        "amount_minor": MAX_MINOR - n if n == 5 else 1000 * n,
        "status": "pledge" if odd else "commitment",
        "announced_on": date(2025, 1, n + 1) if n % 5 else None,
        "schedule_assumed": odd,
        "original_amount": Decimal("-12.50") if odd else None,
        "original_currency": "EUR" if odd else None,
        "exchange_rate": Decimal("1.0800000000000000001") if odd else None,
        "value_on": date(2024, 12, 31) if odd else None,
        "version": "v1" if odd else None,
        "boundary": None,
        "created_at": datetime(2025, 3, 4, 5, 6, 7, 890123),
    }


def _dump(session: Session, table: Any) -> list[Any]:
    """Every row of a table as the database holds it: on SQLite each value quoted with its
    storage class (text, integer, real), on PostgreSQL as its text. A serial id is left out
    (a sequence goes on after a rollback)."""
    connection = session.connection()
    names = [c.name for c in table.columns if c.name != "id" or table.name != "sanction_measures"]
    if connection.dialect.name == "sqlite":
        columns = ", ".join(f"quote({name})" for name in names)
    else:
        columns = ", ".join(f"CAST({name} AS text)" for name in names)
    order = ", ".join(str(i + 1) for i in range(len(names)))
    return [
        tuple(row)
        for row in connection.execute(text(f"SELECT {columns} FROM {table.name} ORDER BY {order}"))
    ]


def _write_all(session: Session, change: Change) -> dict[str, list[Any]]:
    options = Options(change=change)
    pledges = Batches(session, Pledge, options)
    installments = Batches(session, Installment, options, parent=pledges)
    disbursements = Batches(session, Disbursement, options, parent=installments)
    actions = Batches(session, SanctionAction, options)
    measures = Batches(session, SanctionMeasure, options, parent=actions)
    for n in range(1, 12):
        pledges.add(_pledge(n))
        installments.add(
            {"id": 100 + n, "pledge_id": 10 + n, "seq": 1, "due_on": date(2026, 2, n),
             "amount_minor": 1000 * n}
        )  # fmt: skip
        disbursements.add(
            {"id": 200 + n, "pledge_id": 10 + n, "installment_id": 100 + n,
             "paid_on": date(2026, 3, n), "amount_minor": 7 * n,
             "created_at": datetime(2026, 3, n, 1, 2, 3)}
        )  # fmt: skip
        actions.add(
            {"id": 300 + n, "authority": "EU", "target": TEXTS[n % len(TEXTS)].replace("\n", ""),
             "action": "impose", "status": "in-force", "program": None, "ref": f"s{n}",
             "announced_on": date(2025, 2, n), "effective_on": None, "expires_on": None,
             "deadline_on": None, "deadline_label": None, "legal_ref": None,
             "summary": TEXTS[n % len(TEXTS)], "created_at": datetime(2025, 2, n)}
        )  # fmt: skip
        measures.add({"sanction_id": 300 + n, "position": 0, "measure": "asset freeze"})
    disbursements.flush()
    measures.flush()
    tables = [Pledge, Installment, Disbursement, SanctionAction, SanctionMeasure]
    dumped = {model.__tablename__: _dump(session, model.__table__) for model in tables}
    for model in reversed(tables):
        session.execute(delete(model))
    return dumped


def test_batches_written_by_the_driver_store_what_the_insert_stores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interchange, "BATCH_ROWS", 4)  # batches that do not divide the rows
    db = create_engine(url_of(), poolclass=NullPool)
    try:
        with Session(db) as session, session.begin():
            change = Change(at=datetime(2025, 5, 6, 7, 8, 9, 123456), analyst="t", command="t")
            session.add(change)
            session.flush()
            fast = _write_all(session, change)

            def plain(connection: Any, table: Any, rows: list[dict[str, Any]]) -> None:
                connection.execute(insert(table), rows)

            monkeypatch.setattr(writing, "_insert_many", plain)
            monkeypatch.setattr(writing, "_copy", plain)
            assert _write_all(session, change) == fast
            assert all(len(rows) == 11 for rows in fast.values())
            session.rollback()
    finally:
        db.dispose()


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD"])
def test_a_plain_amount_reads_as_the_general_parser_reads_it(
    currency: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = [
        "0", "1", "100", "0.5", "0.50", "0.500", "0.5000", "29000000", "29000000.50",
        "1.234", "29.000", "1.500", "007", "00.10", "9223372036854775807",
        "92233720368547758.07", "92233720368547758.08", "99999999999999999999", "1.2.3",
        "12 345", "12,5", "1,500.50", "2M", " 12.50 ", "١٢", "12.",
    ]  # fmt: skip

    def outcome(text: str) -> int | str:
        try:
            return cells.amount_parser(currency)(text, "amount")
        except InputError as exc:
            return str(exc)

    fast = [outcome(t) for t in written]
    monkeypatch.setattr(cells, "_PLAIN", re.compile(r"(?!)"))  # the fast path off
    assert [outcome(t) for t in written] == fast
    assert fast[2] == parse_amount("100", currency)


def test_a_row_without_quotes_reads_as_a_row_with_them(tmp_path: Path) -> None:
    from fintrack.interchange.kinds import Kind
    from fintrack.interchange.reading import CsvFile

    header = ["donor", "recipient", "currency", "pledged"]
    rows = [["a", "b", "c", "d"], ["'=1", "x", "y", "z"], ["p", "'+2", "q", "''-3"], ["x", "y"]]
    rows.append(["1", "2", "3", "4", "'=5"])
    path = write_csv(tmp_path / "p.csv", header, rows)
    source = CsvFile(path, Kind.PLEDGES, header, "p.csv")
    for record, row in zip(source.records(), rows, strict=True):
        assert record.values == {
            k: unneutralise(v) for k, v in zip(source.header, row, strict=False)
        }


def test_ids_planned_as_the_id_plan_plans_them(run: Run, tmp_path: Path) -> None:
    """File ids: small and large (past the bitmap), repeated, and a pledge without one."""
    file_ids: list[int | None] = [5, 20_000_000, 5, 7, None, 20_000_000, 3, 70_000_000]
    pledges = [
        ["" if i is None else i, "D", "R", "USD", "10.00", "2025-01-01", f"r{n}"]
        for n, i in enumerate(file_ids)
    ]
    path = write_csv(
        tmp_path / "p.csv",
        ["id", "donor", "recipient", "currency", "pledged", "announced", "ref"],
        pledges,
    )
    assert run("import", "pledges", str(path), "--quiet").code == 0
    plan = IdPlan(set())
    for n, i in enumerate(file_ids):
        plan.claim(f"r{n}", i)
    plan.finish()
    db = create_engine(url_of(), poolclass=NullPool)
    try:
        with db.connect() as connection:
            stored: dict[str, int] = dict(
                connection.execute(text("SELECT ref, id FROM pledges")).all()
            )
    finally:
        db.dispose()
    assert stored == plan.ids


def test_installments_past_a_64_bit_total_are_summed_exactly(run: Run, tmp_path: Path) -> None:
    big = f"{(MAX_MINOR - 7) // 100}.00"
    pledges = write_csv(
        tmp_path / "p.csv",
        ["donor", "recipient", "currency", "pledged", "announced", "ref"],
        [["D", "R", "USD", big, "2025-01-01", "r1"]],
    )
    installments = write_csv(
        tmp_path / "i.csv",
        ["pledge_ref", "seq", "due", "amount"],
        [["r1", s, "2025-02-01", big] for s in (1, 2, 3)],
    )
    result = run("import", "pledges", str(pledges), "--installments", str(installments))
    assert result.code == 1
    total = f"{3 * ((MAX_MINOR - 7) // 100)}.00"
    assert f"i.csv ({total})\nError: 1 of 4 rows are invalid" in result.err
    assert engine() in ("sqlite", "postgresql")


def test_a_rejected_pledge_leaves_the_key_of_its_twin_as_the_check_numbered_it(
    run: Run, tmp_path: Path
) -> None:
    """Two pledges with the same content (no ref) are ~key and ~key-2; the first is rejected
    after it was numbered (its schedule is bad): the second is written as ~key-2, with its
    own id and installment, not as the first."""
    pledges = write_csv(
        tmp_path / "p.csv",
        ["id", "donor", "recipient", "currency", "pledged", "announced", "installments"],
        [
            [5, "D", "R", "USD", "10.00", "2025-01-01", 3],
            [9, "D", "R", "USD", "10.00", "2025-01-01", ""],
        ],
    )
    rejects = tmp_path / "rejects.csv"
    result = run("import", "pledges", str(pledges), "--on-error", "skip", "--rejects", str(rejects))
    assert result.code == 0, result.err
    db = create_engine(url_of(), poolclass=NullPool)
    try:
        with db.connect() as connection:
            stored = connection.execute(text("SELECT id FROM pledges")).all()
            installments = connection.execute(text("SELECT pledge_id, seq FROM installments")).all()
    finally:
        db.dispose()
    assert [tuple(r) for r in stored] == [(9,)]
    assert [tuple(r) for r in installments] == [(9, 1)]
    assert "line 2: column installments: '3' installments" in rejects.read_text()


def _ids(table: str) -> list[int]:
    db = create_engine(url_of(), poolclass=NullPool)
    try:
        with db.connect() as connection:
            return [r[0] for r in connection.execute(text(f"SELECT id FROM {table} ORDER BY id"))]
    finally:
        db.dispose()


def test_payments_keyed_only_where_a_stored_one_can_match(run: Run, tmp_path: Path) -> None:
    """Identical payments are told apart by their number only against stored ones: a file
    of three after a file of two adds one; its ids planned as IdPlan plans them."""
    pledges = write_csv(
        tmp_path / "p.csv",
        ["donor", "recipient", "currency", "pledged", "announced", "ref"],
        [
            ["D", "R", "USD", "100.00", "2025-01-01", "p1"],
            ["D", "R", "USD", "9.00", "2025-01-02", "p2"],
        ],
    )
    pledges_csv = str(pledges)
    assert run("import", "pledges", pledges_csv, "--quiet").code == 0
    header = ["id", "pledge_ref", "installment", "paid_on", "amount"]
    same = ["p1", 1, "2025-02-01", "1.00"]
    other = ["p1", 1, "2025-02-02", "2.00"]
    first = write_csv(tmp_path / "d1.csv", header, [[7, *same], [7, *same], ["", *other]])
    assert run("import", "disbursements", str(first), "--quiet").code == 0
    plan = IdPlan(set())
    for n, i in enumerate([7, 7, None]):
        plan.claim(n, i)
    plan.finish()
    assert _ids("disbursements") == sorted(plan.ids.values())
    rows = [[3, *same], [4, *same], [5, *same], [6, *other], [2, "p1", 1, "2025-02-03", "3"]]
    second = write_csv(tmp_path / "d2.csv", header, rows)
    assert run("import", "disbursements", str(second), "--quiet").code == 0
    # The third of the same and the new one are added, with their own ids (free in the file).
    assert _ids("disbursements") == sorted([*plan.ids.values(), 5, 2])
    assert run("import", "disbursements", str(second), "--quiet").code == 0
    assert len(_ids("disbursements")) == 5


def _installment_files(tmp_path: Path, name: str, numbers: range) -> tuple[str, str]:
    pledges, installments = [], []
    for n in numbers:
        count = n % 4  # 0: one installment of the total, made by the import
        amount = max(count, 1) * 350
        odd = n % 2 == 1
        pledges.append(
            ["D", "R", "USD", f"{amount // 100}.{amount % 100:02d}", f"2025-01-{n % 28 + 1:02d}",
             f"p{n}", TEXTS[n % len(TEXTS)], "commitment" if odd else "pledge",
             "true" if odd else "false", "-12.50" if odd else "", "EUR" if odd else "",
             "1.0800000000000000001" if odd else "", "2024-12-31" if odd else "",
             f"v{n}" if odd else ""]
        )  # fmt: skip
        seqs = list(range(1, count + 1))
        if n % 3 == 0:
            seqs.reverse()
        installments += [[f"p{n}", s, f"2026-{s:02d}-{n % 28 + 1:02d}", "3.50"] for s in seqs]
    header = ["donor", "recipient", "currency", "pledged", "announced", "ref", "purpose", "status",
              "schedule_assumed", "original_amount", "original_currency", "exchange_rate",
              "value_on", "version"]  # fmt: skip
    p = write_csv(tmp_path / f"{name}-p.csv", header, pledges)
    i = write_csv(tmp_path / f"{name}-i.csv", ["pledge_ref", "seq", "due", "amount"], installments)
    return str(p), str(i)


def _installments(url: str) -> list[tuple[Any, ...]]:
    db = create_engine(url, poolclass=NullPool)
    try:
        with db.connect() as connection:
            query = (
                "SELECT p.ref, i.seq, i.due_on, i.amount_minor, i.id, p.id FROM installments i "
                "JOIN pledges p ON p.id = i.pledge_id ORDER BY i.id"
            )
            return [tuple(r) for r in connection.execute(text(query))]
    finally:
        db.dispose()


def _pledge_rows(url: str) -> list[dict[str, Any]]:
    """Every pledge, every column typed by the model, in id order."""
    from sqlalchemy import select

    db = create_engine(url, poolclass=NullPool)
    try:
        with db.connect() as connection:
            table = Pledge.__table__
            query = select(table).order_by(table.c.id)
            return [dict(r) for r in connection.execute(query).mappings()]
    finally:
        db.dispose()


def test_rows_kept_by_the_first_pass_are_written_as_the_file_read_again(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second pass over pledges and installments that are all valid reads what the first
    kept, not the files: the same rows and counts as reading them again, across batch edges,
    with pledges (and their installments) stored already."""
    from fintrack.interchange import pledges as pledge_import

    monkeypatch.setattr(interchange, "BATCH_ROWS", 7)
    first = _installment_files(tmp_path, "a", range(1, 31))
    second = _installment_files(tmp_path, "b", range(21, 41))  # p21-p30 are stored
    plain_db = str(tmp_path / "plain.db")
    outputs = {}
    for spill, db in ((True, url_of()), (False, plain_db)):
        monkeypatch.setattr(pledge_import, "SPILL", spill)
        said = []
        for p, i in (first, second):
            result = run("--db", db, "import", "pledges", p, "--installments", i)
            assert result.code == 0, result.err
            said.append(re.sub(r" into .*?: ", " into DB: ", result.out + result.err))
        outputs[spill] = said
    assert outputs[True] == outputs[False]
    assert "already" in outputs[True][1] or "present" in outputs[True][1]
    fast_pledges, plain_pledges = (
        [{k: v for k, v in r.items() if k not in ("created_at", "known_from")} for r in rows]
        for rows in (_pledge_rows(url_of()), _pledge_rows(f"sqlite:///{plain_db}"))
    )
    assert fast_pledges == plain_pledges
    assert len(fast_pledges) == 40
    fast, plain = _installments(url_of()), _installments(f"sqlite:///{plain_db}")
    assert [tuple(str(v) for v in r) for r in fast] == [tuple(str(v) for v in r) for r in plain]
    assert len(fast) == sum(max(n % 4, 1) for n in range(1, 41))

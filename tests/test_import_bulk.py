"""The bulk paths of imports (batched inserts, COPY on PostgreSQL, disbursements' installments
looked up a chunk of rows at a time): every column of every record as the file says, with its
change, and nothing written when a row late in a file is bad, on either engine."""

import csv
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fintrack import interchange
from fintrack.interchange import disbursements as disbursement_import
from tests.conftest import Run, assert_error, engine, row_counts, url_of

PLEDGES = 40
# Purposes that COPY's text format must escape, that the fast paths of reading must leave
# alone, and that a spreadsheet neutralised (a leading quote: restored on import).
PURPOSES = [
    "tab\there",
    "a line\n\twith a tab\\t",
    "back\\slash \\N",
    "line\nbreak",
    'a "quoted", comma',
    "O'Brien's fund",
    "'=SUM(A1)",
    "café ünïcode",
    "",
]
# As stored: None for an empty cell, the neutralising quote taken off.
STORED_PURPOSE = {"": None, "'=SUM(A1)": "=SUM(A1)", "tab\there": "tab here"}
# Amounts in minor units, each written as the file writes it (the fast path and the others).
AMOUNTS = [(150_050, "1,500.50"), (200_000_000, "2M"), (10_000, "100"), (50, "0.5")]

# A pledge's fields from another system (FTS, IATI): empty for a pledge of fintrack's own file.
FROM_ELSEWHERE = dict.fromkeys(
    ("original_amount", "original_currency", "exchange_rate", "value_on", "version", "part_of_id",
     "boundary")
)  # fmt: skip


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)
    return path


def table(name: str) -> list[dict[str, Any]]:
    """Every row of a table, every column typed by the model, in id order."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.pool import NullPool

    from fintrack.models import Base

    engine = create_engine(url_of(), poolclass=NullPool)
    try:
        t = Base.metadata.tables[name]
        with engine.connect() as connection:
            return [dict(r) for r in connection.execute(select(t).order_by(t.c.id)).mappings()]
    finally:
        engine.dispose()


def cents(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


@pytest.fixture
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches and look-ahead chunks far smaller than the files, not dividing them."""
    monkeypatch.setattr(interchange, "BATCH_ROWS", 7)
    monkeypatch.setattr(disbursement_import, "LOOKAHEAD_ROWS", 9)


def test_bulk_imports_store_exactly_the_files_records(
    run: Run, tmp_path: Path, small: None
) -> None:
    pledge_rows: list[list[Any]] = []
    installment_rows: list[list[Any]] = []
    disbursement_rows: list[list[Any]] = []
    expected_pledges: list[dict[str, Any]] = []
    schedules: dict[int, list[tuple[int, date, int]]] = {}
    for n in range(1, PLEDGES + 1):
        pledge_id = 1000 + 3 * n  # the file's ids are kept in an empty database
        purpose = PURPOSES[n % len(PURPOSES)]
        announced = date(2025, 1, 1) + timedelta(days=n)
        each, written = AMOUNTS[n % len(AMOUNTS)]
        count = 0 if n % 5 == 0 else 1 + n % 4  # every fifth without installments
        total = each * max(count, 1)
        ref = f"p  {n}" if n % 7 == 0 else f"p{n}"  # spaces are folded: ref 'p 7'
        stored_ref = " ".join(ref.split())
        replaces = 1000 + 3 * (n - 1) if n % 10 == 0 else ""
        status = "commitment" if n % 3 == 0 else "pledge"
        pledge_rows.append(
            [pledge_id, f"Donor {n % 6}", "Syria", purpose, "USD", cents(total), status,
             announced, count or "", announced + timedelta(days=30),
             "true" if n % 4 == 0 else "false", ref, replaces]
        )  # fmt: skip
        expected_pledges.append(
            {
                "id": pledge_id, "ref": stored_ref, "donor": f"Donor {n % 6}",
                "recipient": "Syria", "purpose": STORED_PURPOSE.get(purpose, purpose),
                "currency": "USD", "amount_minor": total, "status": status,
                "announced_on": announced, "schedule_assumed": n % 4 == 0, "voided_at": None,
                "replaces_id": replaces or None, **FROM_ELSEWHERE,
            }
        )  # fmt: skip
        seqs = list(range(1, count + 1))
        if n % 6 == 1:
            seqs.reverse()  # not in order: the check keeps a set of them
        schedule = [(seq, announced + timedelta(days=91 * seq), each) for seq in seqs]
        for seq, due, _ in schedule:
            installment_rows.append([stored_ref, seq, due, written])
        schedules[pledge_id] = schedule or [(1, announced + timedelta(days=30), total)]
        for seq in (1, min(2, max(count, 1))):
            disbursement_rows.append([ref, seq, announced + timedelta(days=100 + seq), "0.25"])
    files = {
        "pledges": write_csv(
            tmp_path / "pledges.csv",
            [
                "id",
                "donor",
                "recipient",
                "purpose",
                "currency",
                "pledged",
                "status",
                "announced",
                "installments",
                "next_due",
                "schedule_assumed",
                "ref",
                "replaces",
            ],
            pledge_rows,
        ),
        "installments": write_csv(
            tmp_path / "installments.csv", ["pledge_ref", "seq", "due", "amount"], installment_rows
        ),
        "disbursements": write_csv(
            tmp_path / "disbursements.csv",
            ["id", "pledge_ref", "installment", "paid_on", "amount"],
            # Every other payment keeps its file's id; the others follow the largest.
            [[500 + k if k % 2 else "", *row] for k, row in enumerate(disbursement_rows)],
        ),
        "sanctions": write_csv(
            tmp_path / "sanctions.csv",
            ["authority", "target", "action", "measures", "summary", "effective", "ref"],
            [
                [
                    "EU",
                    f"T{k}",
                    "ease",
                    "; ".join(f"m{k}-{j}" for j in range(k % 4)),
                    PURPOSES[k % len(PURPOSES)],
                    date(2025, 3, 1) if k % 2 else "",
                    f"s{k}",
                ]
                for k in range(1, 30)
            ],
        ),
    }
    for command in (
        ["pledges", str(files["pledges"]), "--installments", str(files["installments"])],
        ["disbursements", str(files["disbursements"])],
        ["sanctions", str(files["sanctions"])],
    ):
        result = run("import", *command)
        assert result.code == 0, result.err

    changes = table("changes")
    assert len(changes) == 3
    (pledge_change, payment_change, sanction_change) = [(c["id"], c["at"]) for c in changes]
    assert all(isinstance(at, datetime) for _, at in (pledge_change, payment_change))

    def made(change: tuple[int, datetime], created: bool = True) -> dict[str, Any]:
        stamp = {"known_from": change[1], "change_id": change[0]}
        return {**stamp, "created_at": change[1]} if created else stamp

    assert table("pledges") == [{**p, **made(pledge_change)} for p in expected_pledges]

    # Installments: the file's, in its order, then the one of each pledge given without any.
    expected_installments = []
    given = [p for p in expected_pledges if any(r[0] == p["ref"] for r in installment_rows)]
    for p in given:
        expected_installments += [(p["id"], s) for s in schedules[p["id"]]]
    expected_installments += [
        (p["id"], schedules[p["id"]][0]) for p in expected_pledges if p not in given
    ]
    installments = table("installments")
    assert installments == [
        {"id": k, "pledge_id": pledge_id, "seq": seq, "due_on": due, "amount_minor": amount,
         **made(pledge_change, created=False)}
        for k, (pledge_id, (seq, due, amount)) in enumerate(expected_installments, start=1)
    ]  # fmt: skip
    installment_id = {(i["pledge_id"], i["seq"]): i["id"] for i in installments}

    refs = {p["ref"]: p["id"] for p in expected_pledges}
    claimed = {500 + k for k in range(len(disbursement_rows)) if k % 2}
    following = max(claimed) + 1
    expected_payments = []
    for k, (ref, seq, paid_on, _) in enumerate(disbursement_rows):
        if k % 2:
            payment_id = 500 + k
        else:
            payment_id, following = following, following + 1
        pledge_id = refs[" ".join(ref.split())]
        expected_payments.append(
            {"id": payment_id, "pledge_id": pledge_id,
             "installment_id": installment_id[(pledge_id, seq)], "paid_on": paid_on,
             "amount_minor": 25, "voided_at": None, "ref": None, "value_on": None,
             **made(payment_change)}
        )  # fmt: skip
    assert table("disbursements") == sorted(expected_payments, key=lambda p: p["id"])

    actions = table("sanction_actions")
    assert [(a["id"], a["ref"], a["target"], a["summary"], a["effective_on"]) for a in actions] == [
        (k, f"s{k}", f"T{k}", STORED_PURPOSE.get(s := PURPOSES[k % len(PURPOSES)], s),
         date(2025, 3, 1) if k % 2 else None)
        for k in range(1, 30)
    ]  # fmt: skip
    assert all(
        (a["known_from"], a["change_id"], a["created_at"])
        == (sanction_change[1], sanction_change[0], sanction_change[1])
        for a in actions
    )
    assert table("sanction_measures") == [
        {"id": m, "sanction_id": k, "position": j, "measure": f"m{k}-{j}",
         **made(sanction_change, created=False)}
        for m, (k, j) in enumerate(
            [(k, j) for k in range(1, 30) for j in range(k % 4)], start=1
        )
    ]  # fmt: skip
    # New records are first versions: their history tables stay empty.
    for name in ("pledges", "installments", "disbursements", "sanction_actions"):
        assert table(f"{name}_history") == []

    # Imported again: every record is present, nothing is written, not even a change.
    again = run("import", "disbursements", str(files["disbursements"]))
    assert again.code == 0, again.err
    assert len(table("changes")) == 3 and len(table("disbursements")) == len(expected_payments)


def test_a_next_id_after_a_copied_batch_follows_the_files_ids(
    run: Run, tmp_path: Path, small: None
) -> None:
    """Ids chosen by the file (written by COPY on PostgreSQL) move the id sequence past them."""
    rows = [[100 + n, f"D{n}", "Syria", "EUR", "10", "2025-01-01", f"r{n}"] for n in range(9)]
    path = write_csv(
        tmp_path / "p.csv", ["id", "donor", "recipient", "currency", "pledged", "announced", "ref"],
        rows,
    )  # fmt: skip
    assert run("import", "pledges", str(path)).code == 0
    added = run(
        "pledge", "add", "--donor", "X", "--recipient", "Y", "--currency", "USD",
        "--amount", "5", "--on", "2025-01-01",
    )  # fmt: skip
    assert added.code == 0, added.err
    assert added.out.strip() == "109"


def big_files(tmp_path: Path) -> dict[str, Path]:
    n = 60
    pledges = write_csv(
        tmp_path / "pledges.csv",
        ["donor", "recipient", "currency", "pledged", "announced", "installments", "ref"],
        [[f"D{k}", "Syria", "USD", "400", "2025-01-01", 2, f"p{k}"] for k in range(n)],
    )
    installments = write_csv(
        tmp_path / "installments.csv",
        ["pledge_ref", "seq", "due", "amount"],
        [[f"p{k}", seq, f"2025-0{seq + 1}-01", "200"] for k in range(n) for seq in (1, 2)],
    )
    return {"pledges": pledges, "installments": installments}


@pytest.mark.parametrize("kind", ["pledges", "installments", "disbursements", "sanctions"])
def test_a_bad_row_late_in_a_big_file_writes_nothing(
    run: Run, tmp_path: Path, small: None, kind: str
) -> None:
    files = big_files(tmp_path)
    if kind == "disbursements":
        assert run(
            "import", "pledges", str(files["pledges"]), "--installments", str(files["installments"])
        ).code == 0  # fmt: skip
    before = row_counts()
    changes = len(table("changes"))
    rows: list[list[Any]]
    if kind == "pledges":
        rows = [[f"D{k}", "Syria", "USD", "400", "2025-01-01", f"q{k}"] for k in range(60)]
        rows.append(["Dz", "Syria", "USD", "4OO", "2025-01-01", "qz"])
        path = write_csv(
            tmp_path / "late.csv", ["donor", "recipient", "currency", "pledged", "announced", "ref"],
            rows,
        )  # fmt: skip
        args, line, message = [str(path)], 62, "pledged"
    elif kind == "installments":
        path = files["installments"]
        text = path.read_text(encoding="utf-8").replace(
            "p59,2,2025-03-01,200", "p59,2,2025-03-01,2O0"
        )
        path.write_text(text, encoding="utf-8")
        args = [str(files["pledges"]), "--installments", str(path)]
        line, message = 121, "amount"
    elif kind == "disbursements":
        rows = [[f"p{k}", seq, "2025-03-01", "10"] for k in range(60) for seq in (1, 2)]
        rows.append(["p59", 3, "2025-03-01", "10"])
        path = write_csv(
            tmp_path / "late.csv", ["pledge_ref", "installment", "paid_on", "amount"], rows
        )
        args = [str(path)]
        line, message = 122, "'3' is not an installment of pledge 'p59' (it has 1 to 2)"
    else:
        rows = [["EU", f"T{k}", "ease", "a; b", f"s{k}"] for k in range(60)]
        rows.append(["EU", "Tz", "unfreeze", "a", "sz"])
        path = write_csv(
            tmp_path / "late.csv", ["authority", "target", "action", "measures", "ref"], rows
        )
        args, line, message = [str(path)], 62, "action"
    command = "pledges" if kind == "installments" else kind
    result = run("import", command, *args)
    assert result.code == 1, result
    assert f"{path}:{line}:" in result.err and message in result.err, result.err
    assert row_counts() == before
    assert len(table("changes")) == changes


@pytest.mark.parametrize(
    ("seqs", "problem"),
    [
        ([1, 2, 3], None),
        ([3, 1, 2], None),
        ([2, 1, 2], "installments.csv:4: column seq: '2' appears twice for pledge 'p'"),
        ([1, 2, 2], "installments.csv:4: column seq: '2' appears twice for pledge 'p'"),
        ([1, 3, 1], "installments.csv:4: column seq: '1' appears twice for pledge 'p'"),
        ([1, 3, 4], "are not numbered 1 to 3"),
        ([2, 3, 4], "are not numbered 1 to 3"),
    ],
)
def test_installment_numbers_in_any_order(
    run: Run, tmp_path: Path, seqs: list[int], problem: str | None
) -> None:
    pledges = write_csv(
        tmp_path / "pledges.csv",
        ["donor", "recipient", "currency", "pledged", "announced", "ref"],
        [["D", "Syria", "USD", "300", "2025-01-01", "p"]],
    )
    installments = write_csv(
        tmp_path / "installments.csv",
        ["pledge_ref", "seq", "due", "amount"],
        [["p", seq, f"2025-0{k + 2}-01", "100"] for k, seq in enumerate(seqs)],
    )
    result = run("import", "pledges", str(pledges), "--installments", str(installments))
    if problem is None:
        assert result.code == 0, result.err
        assert sorted(i["seq"] for i in table("installments")) == [1, 2, 3]
    else:
        assert result.code == 1 and problem in result.err, result.err
        assert row_counts()["installments"] == 0


def test_a_duplicate_seen_on_copy_is_the_record_added_meanwhile(
    run: Run, tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A row the database refuses while a batch is written (here: a ref taken behind the
    import's back, between its check and its write) ends as any import's conflict does."""
    if engine() != "postgresql":
        pytest.skip("SQLite's import holds the write lock from its start: nothing comes between")
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from fintrack.interchange.writing import Batches

    path = write_csv(
        tmp_path / "p.csv", ["donor", "recipient", "currency", "pledged", "announced", "ref"],
        [["D", "Syria", "USD", "300", "2025-01-01", "p1"]],
    )  # fmt: skip
    original = Batches.flush

    def flush(self: Batches) -> None:
        if self.rows and self.table.name == "pledges":
            other = create_engine(db_url, poolclass=NullPool)
            with other.begin() as connection:
                change = connection.execute(
                    text("INSERT INTO changes (at, analyst, command) VALUES "
                         "('2025-01-01 00:00:00', 't', 't') RETURNING id")
                ).scalar_one()  # fmt: skip
                connection.execute(
                    text(
                        "INSERT INTO pledges (ref, donor, recipient, currency, amount_minor, "
                        "status, schedule_assumed, created_at, known_from, change_id) VALUES "
                        "('p1', 'D', 'Syria', 'USD', 1, 'pledge', false, '2025-01-01', "
                        "'2025-01-01', :c)"
                    ),
                    {"c": change},
                )
            other.dispose()
        original(self)

    assert run("db", "upgrade").code == 0
    monkeypatch.setattr(Batches, "flush", flush)
    result = run("import", "pledges", str(path))
    assert_error(result, "another command added a record while this import ran")
    assert result.code == 1, result
    assert row_counts()["pledges"] == 1

"""Concurrent writers and killed writers, on either engine: no lost payment, no overpayment,
no lock or serialization error for the user, no partial record."""

import json
import os
import signal
import sqlite3
import subprocess
import threading
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from fintrack.changes import begin_change
from fintrack.errors import DatabaseError
from fintrack.models import SCHEMA_REVISION
from fintrack.pledges import pay
from fintrack.store import Database
from tests.conftest import QATAR, Run, added, as_json, row_counts, url_of
from tests.system import CLI, start_blocked, start_python, stop

WRITERS = 4
PAYMENTS = 50  # by each writer
# Yen, in 4 installments: 200 yen are offered to each pledge, a quarter too many, so that the
# last payments are refused while 1-yen payments still fill the pledge exactly.
PLEDGE_TOTAL = 148

# Each writer waits until all are started, then records its payments one `fintrack pay` at a
# time, alternating between the two pledges with 1, 2 and 3 yen, and prints one JSON line per
# payment: its pledge, amount, exit code, the disbursement ids printed and the error line.
WRITER = """
import contextlib, io, json, sys
from fintrack.cli import main

writer, count = int(sys.argv[1]), int(sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
for k in range(count):
    pledge, amount = 1 + (k + writer) % 2, 1 + (k // 2 + writer) % 3
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["pay", str(pledge), str(amount), "--on", "2025-06-01"])
    errors = [line for line in err.getvalue().splitlines() if line.startswith("Error:")]
    ids = [int(line) for line in out.getvalue().split()]
    print(json.dumps({"pledge": pledge, "amount": amount, "code": code, "ids": ids,
                      "error": errors[0] if errors else None}), flush=True)
"""


def _disbursements() -> dict[int, tuple[int, int]]:
    """Every disbursement in the database: id -> (pledge id, amount), on a connection of its own."""
    engine = create_engine(url_of(), poolclass=NullPool)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, pledge_id, amount_minor FROM disbursements"))
        found = {int(i): (int(p), int(a)) for i, p, a in rows}
    engine.dispose()
    return found


def _pay_in_a_change(session: Session, amount: str) -> int:
    begin_change(session, "test")
    return len(pay(session, 1, amount, date(2025, 6, 1)))


def test_parallel_payments_are_all_kept_and_never_overpay_a_pledge(run: Run) -> None:
    for _ in range(2):
        added(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency",
              "JPY", "--amount", str(PLEDGE_TOTAL), "--installments", "4", "--every", "month",
              "--on", "2025-05-08", "--allow-duplicate")  # fmt: skip
    writers = [start_python(WRITER, str(w), str(PAYMENTS)) for w in range(WRITERS)]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
    for writer in writers:  # all at once
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    outputs = [writer.communicate(timeout=600) for writer in writers]
    assert [writer.returncode for writer in writers] == [0] * WRITERS, outputs
    attempts = [json.loads(line) for out, _ in outputs for line in out.splitlines()]
    assert len(attempts) == WRITERS * PAYMENTS

    accepted = [a for a in attempts if a["code"] == 0]
    refused = [a for a in attempts if a["code"] != 0]
    assert all(a["error"] is None and a["ids"] for a in accepted)
    for attempt in refused:  # refused only for overpaying: never a lock or serialization error
        assert attempt["code"] == 1, attempt
        assert " exceeds the JPY " in attempt["error"], attempt
    assert accepted and refused

    # Every accepted payment is there, in full, and nothing else is.
    stored = _disbursements()
    assert sorted(stored) == sorted(i for a in accepted for i in a["ids"])
    paid = Counter[int]()
    for attempt in accepted:
        paid[attempt["pledge"]] += attempt["amount"]
    stored_paid = Counter[int]()
    for pledge_id, amount in stored.values():
        stored_paid[pledge_id] += amount
    assert stored_paid == paid
    # Payments are refused only once they no longer fit, and 1-yen payments keep coming, so
    # each pledge ends paid exactly in full, never beyond.
    assert paid == {1: PLEDGE_TOTAL, 2: PLEDGE_TOTAL}
    (row, _total) = as_json(run, "totals")
    both = str(2 * PLEDGE_TOTAL)
    assert (row["pledges"], row["pledged"], row["disbursed"], row["outstanding"]) == (
        2, both, both, "0"
    )  # fmt: skip
    assert {p["status"] for p in as_json(run, "pledge", "list")} == {"paid"}


# Pays 60M on the pledge inside a transaction and holds it open until told to commit.
HOLDING_WRITER = """
import os, sys
from datetime import date
from fintrack.changes import begin_change
from fintrack.pledges import pay
from fintrack.store import Database

with Database(os.environ["FINTRACK_DATABASE_URL"]).session(write=True) as session:
    begin_change(session, "test")
    pay(session, 1, "60M", date(2025, 6, 10))
    print("paid", flush=True)
    sys.stdin.readline()
print("committed", flush=True)
"""


def test_a_payment_waits_for_a_concurrent_one_and_cannot_overpay_with_it(run: Run) -> None:
    assert added(run, *QATAR) == 1  # USD 87M
    first = start_python(HOLDING_WRITER)
    second: subprocess.Popen[str] | None = None
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline() == "paid\n"
        # 29M fits what is outstanding as long as the first payment is not committed.
        # It waits for the first payment's lock:
        second = start_blocked(url_of(), CLI, "pay", "1", "29M", "--on", "2025-06-11")
        first.stdin.write("commit\n")
        first.stdin.flush()
        assert first.communicate(timeout=60)[0] == "committed\n"
        out, err = second.communicate(timeout=60)
    finally:
        stop(first, second)
    assert (second.returncode, out) == (1, "")
    assert err == (
        "Error: a payment of USD 29,000,000.00 exceeds the USD 27,000,000.00 outstanding on "
        "pledge 1 (total 87,000,000.00); use --force to record it anyway\n"
    )
    (pledge,) = as_json(run, "pledge", "list")
    assert (pledge["disbursed"], pledge["outstanding"]) == ("60000000.00", "27000000.00")


# Pays the whole pledge (three disbursement rows and the pledge's status), says so, and waits
# inside the open transaction to be killed.
KILLED_WRITER = """
import os, sys, time
from datetime import date
from fintrack.changes import begin_change
from fintrack.pledges import pay
from fintrack.store import Database

with Database(os.environ["FINTRACK_DATABASE_URL"]).session(write=True) as session:
    begin_change(session, "test")
    written = pay(session, 1, "87M", date(2025, 6, 10))
    print(len(written), flush=True)
    time.sleep(600)
"""


def test_a_writer_killed_in_the_middle_of_a_payment_leaves_no_trace(
    run: Run, db_path: Path, db_url: str
) -> None:
    assert added(run, *QATAR) == 1
    before = row_counts(db_path)
    writer = start_python(KILLED_WRITER)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "3\n"  # three rows written, not committed
        assert row_counts(db_path) == before  # others never see them
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=60)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL

    assert row_counts(db_path) == before
    (pledge,) = as_json(run, "pledge", "list")
    assert (pledge["disbursed"], pledge["status"]) == ("0.00", "pledge")
    if Database(db_url).sqlite_path is not None:
        with sqlite3.connect(db_path) as raw:
            assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    # The lock the writer held is gone: the same payment goes through at once.
    result = run("pay", "1", "87M", "--on", "2025-06-10")
    assert result.code == 0, result.err
    assert row_counts(db_path)["disbursements"] == 3
    (pledge,) = as_json(run, "pledge", "list")
    assert (pledge["disbursed"], pledge["status"]) == ("87000000.00", "paid")


@pytest.mark.sqlite_only("SQLite's write lock and busy timeout")
def test_sqlite_busy_past_its_timeout_is_retried(run: Run, db_path: Path, db_url: str) -> None:
    assert added(run, *QATAR) == 1
    db = Database(db_url)
    db.sqlite_busy_timeout_ms = 50
    blocker = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock for 0.3 s
    release = threading.Timer(0.3, blocker.rollback)
    release.start()
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(1)
        begin_change(session, "test")
        return len(pay(session, 1, "1M", date(2025, 6, 1)))

    try:
        assert db.transaction(work) == 1
    finally:
        release.join()
        blocker.close()
    assert len(attempts) >= 2  # the first attempt met the lock and was run again
    assert row_counts(db_path)["disbursements"] == 1


@pytest.mark.sqlite_only("SQLite's write lock and busy timeout")
def test_sqlite_busy_through_every_attempt_is_one_clear_error(
    run: Run, db_path: Path, db_url: str
) -> None:
    assert added(run, *QATAR) == 1
    db = Database(db_url)
    db.sqlite_busy_timeout_ms = 10
    db.max_attempts = 3
    blocker = sqlite3.connect(db_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseError, match="stayed busy through 3 attempts"):
            db.transaction(lambda session: _pay_in_a_change(session, "1M"))
    finally:
        blocker.rollback()
        blocker.close()
    assert row_counts(db_path)["disbursements"] == 0


UPGRADER = """
import sys
from fintrack.cli import main
print("ready", flush=True)
sys.stdin.readline()
sys.exit(main(["db", "upgrade"]))
"""


@pytest.mark.new_database("writers meet a database with no schema")
def test_writers_meeting_a_new_database_at_once_migrate_it_once(run: Run, db_url: str) -> None:
    upgraders = [start_python(UPGRADER) for _ in range(4)]
    for upgrader in upgraders:
        assert upgrader.stdout is not None and upgrader.stdout.readline() == "ready\n"
    for upgrader in upgraders:
        assert upgrader.stdin is not None
        upgrader.stdin.write("go\n")
        upgrader.stdin.flush()
    errs = [upgrader.communicate(timeout=120)[1] for upgrader in upgraders]
    assert [upgrader.returncode for upgrader in upgraders] == [0] * 4, errs
    head = SCHEMA_REVISION
    assert sum(f"from an empty database to revision {head}" in err for err in errs) == 1, errs
    assert sum(f"is already at revision {head}" in err for err in errs) == 3, errs
    assert run("db", "current").out == f"{head} (head)\n"

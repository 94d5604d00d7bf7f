"""Time `totals --known-on` and `deadlines --within 60` beside hand-written SQL for the same answer.

    python benchmarks/queries.py [--pledges 20000] [--history 2500] [--db URL] [--repeat 3]

The database (a new SQLite file, or an empty PostgreSQL schema given with --db) is filled with
N pledges of 4 installments, payments against half of them, and H past versions of pledges
(edits, replacements later voided or moved, voids), deterministically. Each figure is the
median of --repeat runs in this process; the baseline is one SQL statement written by hand
that gives the same totals (checked), run on the same connection.
"""

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

START = datetime(2024, 1, 1)
DONORS = [f"Donor {n}" for n in range(40)]
RECIPIENTS = [f"Recipient {n}" for n in range(25)]
CURRENCIES = ["USD", "EUR", "JPY"]
CONFIDENCES = ["confirmed", "reported", "unverified", "denied"]


def populate(connection: Any, pledges: int, history: int, seed: int = 15) -> None:
    """Fill a migrated, empty fintrack database with generated records and their history.

    Every pledge is recorded at its own minute over two years; each history row is a past
    version of a pledge that an edit, a void or a replacement ended: some past versions
    replace another pledge (a replacement later moved elsewhere), some current ones do."""
    from sqlalchemy import insert

    from fintrack.models import (
        HISTORY,
        Change,
        Disbursement,
        Installment,
        Pledge,
        Source,
        SourceLink,
    )

    rng = random.Random(seed)
    minutes = 2 * 365 * 24 * 60
    step = max(1, minutes // (pledges + history + 1))
    changes = [
        {"id": n, "at": START + timedelta(minutes=n * step), "analyst": "bench", "command": "x"}
        for n in range(1, pledges + history + 2)
    ]
    connection.execute(insert(Change), changes)
    # Which pledges get past versions, and how many each (at least one, at most a few).
    edited = sorted(rng.sample(range(1, pledges + 1), min(pledges, max(1, history // 2))))
    versions: dict[int, int] = dict.fromkeys(edited, 1)
    for _ in range(history - len(edited)):
        pick = edited[rng.randrange(len(edited))]
        versions[pick] += 1
    change_no = pledges + 1
    pledge_rows, past_rows, installment_rows, payment_rows, link_rows = [], [], [], [], []
    for pid in range(1, pledges + 1):
        first = changes[pid - 1]
        amount = rng.randrange(4, 400) * 1000
        row = {
            "id": pid,
            "ref": f"P{pid}",
            "donor": DONORS[rng.randrange(len(DONORS))],
            "recipient": RECIPIENTS[rng.randrange(len(RECIPIENTS))],
            "purpose": None,
            "currency": CURRENCIES[pid % 3],
            "amount_minor": amount,
            "status": "commitment" if pid % 5 == 0 else "pledge",
            "announced_on": (START + timedelta(days=rng.randrange(700))).date(),
            "schedule_assumed": False,
            "created_at": first["at"],
            "voided_at": None,
            "replaces_id": None,
            "known_from": first["at"],
            "change_id": first["id"],
        }
        if pid % 7 == 0 and pid > 10:
            row["replaces_id"] = pid - rng.randrange(1, 10)
        for _ in range(versions.get(pid, 0)):
            # The version so far ends at a later change; the new one differs by amount, by
            # what it replaces, or by being voided.
            ended = changes[min(change_no, len(changes)) - 1]
            change_no += 1
            past_rows.append({**row, "known_until": ended["at"], "ended_by": ended["id"]})
            what = rng.randrange(4)
            if what == 0 and pid > 10:
                row["replaces_id"] = None if row["replaces_id"] else pid - rng.randrange(1, 10)
            elif what == 1 and row["voided_at"] is None and rng.randrange(3) == 0:
                row["voided_at"] = ended["at"]
            else:
                row["amount_minor"] = amount + 1000 * rng.randrange(1, 9)
            row = {**row, "known_from": ended["at"], "change_id": ended["id"]}
        pledge_rows.append(row)
        due = date(2025, 1, 1) + timedelta(days=rng.randrange(900))
        for seq in range(1, 5):
            iid = (pid - 1) * 4 + seq
            installment_rows.append(
                {
                    "id": iid,
                    "pledge_id": pid,
                    "seq": seq,
                    "due_on": due + timedelta(days=90 * (seq - 1)),
                    "amount_minor": amount // 4,
                    "known_from": first["at"],
                    "change_id": first["id"],
                }
            )
            if rng.randrange(2) == 0:
                payment_rows.append(
                    {
                        "id": len(payment_rows) + 1,
                        "pledge_id": pid,
                        "installment_id": iid,
                        "paid_on": due,
                        "amount_minor": amount // 4 - rng.randrange(2) * 500,
                        "created_at": first["at"],
                        "voided_at": None,
                        "known_from": first["at"],
                        "change_id": first["id"],
                    }
                )
        if pid % 3 == 0:
            link_rows.append(
                {
                    "id": len(link_rows) + 1,
                    "source_id": 1,
                    "pledge_id": pid,
                    "confidence": CONFIDENCES[rng.randrange(4)],
                    "known_from": first["at"],
                    "change_id": first["id"],
                }
            )
    connection.execute(
        insert(Source), [{"id": 1, "title": "bench", "created_at": START, "change_id": 1}]
    )
    for model, rows in (
        (Pledge, pledge_rows),
        (Installment, installment_rows),
        (Disbursement, payment_rows),
        (SourceLink, link_rows),
    ):
        for at in range(0, len(rows), 5000):
            connection.execute(insert(model.__table__), rows[at : at + 5000])
    for at in range(0, len(past_rows), 5000):
        connection.execute(insert(HISTORY["pledges"]), past_rows[at : at + 5000])


KNOWN_ON = date(2025, 1, 1)
AS_OF = date(2026, 1, 1)

# The answer of `totals --known-on KNOWN_ON --by currency` (pledged and disbursed per
# currency), written by hand: the versions current at the time, not voided, not replaced by
# a known pledge that is not voided.
TOTALS_SQL = """
WITH p AS (
  SELECT id, currency, voided_at FROM pledges WHERE known_from < :before
  UNION ALL
  SELECT id, currency, voided_at FROM pledges_history
   WHERE known_from < :before AND known_until >= :before
), r AS (
  SELECT replaces_id FROM pledges
   WHERE known_from < :before AND voided_at IS NULL AND replaces_id IS NOT NULL
  UNION
  SELECT replaces_id FROM pledges_history
   WHERE known_from < :before AND known_until >= :before AND voided_at IS NULL
     AND replaces_id IS NOT NULL
), paid AS (
  SELECT installment_id, SUM(amount_minor) AS paid FROM disbursements
   WHERE known_from < :before AND voided_at IS NULL GROUP BY installment_id
)
SELECT p.currency, COUNT(DISTINCT p.id), SUM(i.amount_minor), COALESCE(SUM(paid.paid), 0)
  FROM p JOIN installments i ON i.pledge_id = p.id AND i.known_from < :before
  LEFT JOIN paid ON paid.installment_id = i.id
 WHERE p.voided_at IS NULL AND p.id NOT IN (SELECT replaces_id FROM r)
 GROUP BY p.currency ORDER BY p.currency
"""

# The installments of `deadlines --within 60`: due by the end of the window (overdue ones
# too) with money outstanding, of counted pledges.
DEADLINES_SQL = """
SELECT i.id, i.amount_minor - COALESCE((SELECT SUM(d.amount_minor) FROM disbursements d
         WHERE d.installment_id = i.id AND d.voided_at IS NULL), 0) AS left_
  FROM installments i JOIN pledges p ON p.id = i.pledge_id
 WHERE i.due_on <= :end AND p.voided_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM pledges n WHERE n.replaces_id = p.id AND n.voided_at IS NULL)
   AND i.amount_minor > COALESCE((SELECT SUM(d.amount_minor) FROM disbursements d
         WHERE d.installment_id = i.id AND d.voided_at IS NULL), 0)
"""


def timed(work: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    seconds, result = [], None
    for _ in range(repeat):
        began = time.perf_counter()
        result = work()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pledges", type=int, default=20_000)
    parser.add_argument("--history", type=int, default=2_500)
    parser.add_argument("--db", help="an empty database URL (default: a new SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from sqlalchemy import text

    import fintrack
    from fintrack.dates import shift
    from fintrack.known import end_of_day

    folder = tempfile.TemporaryDirectory()
    url = args.db or str(Path(folder.name) / "bench.db")
    tracker = fintrack.open(url)
    database = tracker._db
    database.upgrade()
    with database.engine.begin() as connection:
        populate(connection, args.pledges, args.history)
    try:  # as an import does; before issue 15, no planner statistics were kept
        from fintrack.store import update_statistics
    except ImportError:
        pass
    else:
        with database.engine.begin() as connection:
            update_statistics(connection)
    print(f"{args.pledges} pledges, {args.history} history rows, {database.engine.dialect.name}")
    print(f"{'figure':40} {'seconds':>9} {'baseline':>9} {'ratio':>6}")

    def report(name: str, ours: Callable[[], Any], sql: str, params: dict[str, Any]) -> Any:
        seconds, result = timed(ours, args.repeat)
        with database.engine.connect() as connection:
            base, rows = timed(lambda: connection.execute(text(sql), params).all(), args.repeat)
        print(f"{name:40} {seconds:9.3f} {base:9.3f} {seconds / base:6.2f}")
        return result, rows

    totals, rows = report(
        f"totals --by currency --known-on {KNOWN_ON}",
        lambda: tracker.totals(by="currency", known_on=KNOWN_ON),
        TOTALS_SQL,
        {"before": end_of_day(KNOWN_ON)},
    )
    mine = [(t.pledged.currency, t.pledges, t.pledged.minor, t.disbursed.minor) for t in totals]
    if mine != [tuple(int(v) if i else v for i, v in enumerate(row)) for row in rows]:
        sys.exit(f"the totals differ from the hand-written SQL's: {mine} != {rows}")
    report(
        f"totals --by pair --known-on {KNOWN_ON}",
        lambda: tracker.totals(by="pair", known_on=KNOWN_ON),
        TOTALS_SQL,
        {"before": end_of_day(KNOWN_ON)},
    )
    due, rows = report(
        f"deadlines --as-of {AS_OF} --within 60",
        lambda: tracker.deadlines(as_of=AS_OF, within=60, kinds=["installment"]),
        DEADLINES_SQL,
        {"end": shift(AS_OF, 60)},
    )
    if sorted(d.amount.minor for d in due if d.amount) != sorted(int(left) for _, left in rows):
        sys.exit(f"deadlines gave {len(due)} installments, the hand-written SQL {len(rows)}")
    folder.cleanup()


if __name__ == "__main__":
    main()

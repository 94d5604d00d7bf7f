"""Concurrent writers on one SQLite file: no lost payment, no overpayment, no lock error."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import Run, row_counts

WRITER = """
import sys
from fintrack.cli import main
codes = [main(["pay", "1", "1", "--on", "2025-06-01"]) for _ in range(int(sys.argv[1]))]
print(codes.count(0), codes.count(1))
"""


def test_parallel_payments_never_overpay_a_pledge(run: Run, db_path: Path) -> None:
    assert run("pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency",
               "JPY", "--amount", "100", "--installments", "4", "--every", "month",
               "--on", "2025-05-08").code == 0  # fmt: skip
    env = {**os.environ, "FINTRACK_DATABASE_URL": f"sqlite:///{db_path}"}
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, "40"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [writer.communicate(timeout=300) for writer in writers]
    for _, err in results:
        for line in err.splitlines():
            if line.startswith("Error:"):
                assert "exceeds" in line, line  # refused overpayments, never a lock error
    # Each writer prints the ids it recorded, then a line with its counts of successes and refusals.
    counts = [out.splitlines()[-1].split() for out, _ in results]
    paid = sum(int(ok) for ok, _ in counts)
    refused = sum(int(no) for _, no in counts)
    assert (paid, refused) == (100, 60)
    assert row_counts(db_path)["disbursements"] == 100
    (row, _total) = json.loads(run("totals", "--format", "json").out)
    assert (row["disbursed"], row["outstanding"]) == ("100", "0")

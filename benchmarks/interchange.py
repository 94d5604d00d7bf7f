"""Import and export N generated installments with fintrack and the sqlite3 shell, side by side.

    python benchmarks/interchange.py [--rows 1000000] [--per-pledge 10] [--keep DIR]

Each step runs in its own process, timed from start to exit, with its peak resident memory
taken from the operating system (wait4). The sqlite3 shell's `.import --csv` and CSV output of
the same file are measured in the same run as a yardstick.
"""

import argparse
import csv
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import measure as measure_process

SQLITE_TABLE = """CREATE TABLE installments (
    pledge_id INTEGER, seq INTEGER, due DATE, currency TEXT, amount TEXT,
    paid TEXT, outstanding TEXT, state TEXT, pledge_ref TEXT
);"""


PLEDGE_HEADER = [
    "id", "donor", "recipient", "currency", "pledged", "status", "announced", "installments", "ref",
]  # fmt: skip
INSTALLMENT_HEADER = [
    "pledge_id", "seq", "due", "currency", "amount", "paid", "outstanding", "state", "pledge_ref",
]  # fmt: skip


@dataclass
class Step:
    name: str
    rows: int
    seconds: float
    peak_mb: float


def generate(folder: Path, rows: int, per_pledge: int) -> tuple[Path, Path]:
    """A pledges file and an installments file as `fintrack export` writes them."""
    pledges_path, installments_path = folder / "pledges.csv", folder / "installments.csv"
    pledge_count = -(-rows // per_pledge)
    start = date(2030, 1, 1)  # in the future, so every state is "due"
    with (
        pledges_path.open("w", encoding="utf-8", newline="") as pledges,
        installments_path.open("w", encoding="utf-8", newline="") as installments,
    ):
        p = csv.writer(pledges, lineterminator="\n")
        i = csv.writer(installments, lineterminator="\n")
        p.writerow(PLEDGE_HEADER)
        i.writerow(INSTALLMENT_HEADER)
        written = 0
        for n in range(1, pledge_count + 1):
            count = min(per_pledge, rows - written)
            each = 1_000_000 + n
            total = f"{each * count}.00"
            ref = f"bench-{n}"
            p.writerow([n, f"Donor {n % 97}", "Syria", "USD", total, "pledge", start, count, ref])
            for seq in range(1, count + 1):
                due = start + timedelta(days=30 * seq)
                amount = f"{each}.00"
                i.writerow([n, seq, due, "USD", amount, "0.00", amount, "due", ref])
            written += count
    return pledges_path, installments_path


def measure(name: str, rows: int, command: list[str], stdout: Path | None = None) -> Step:
    step = measure_process(name, command, stdout)
    return Step(name, rows, step.seconds, step.peak_mb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="installments to generate")
    parser.add_argument("--per-pledge", type=int, default=10, help="installments per pledge")
    parser.add_argument("--keep", type=Path, help="a folder to keep the files in")
    args = parser.parse_args()
    sqlite3 = shutil.which("sqlite3")
    if sqlite3 is None:
        sys.exit("the sqlite3 shell is needed for the comparison (Debian: apt-get install sqlite3)")

    folder = args.keep or Path(tempfile.mkdtemp(prefix="fintrack-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        pledges, installments = generate(folder, args.rows, args.per_pledge)
        size_mb = installments.stat().st_size / 2**20
        db, shell_db = folder / "fintrack.db", folder / "shell.db"
        for path in (db, shell_db):
            path.unlink(missing_ok=True)
        fintrack = [sys.executable, "-m", "fintrack", "--db", str(db)]
        subprocess.run([*fintrack, "db", "upgrade"], check=True, capture_output=True)
        subprocess.run([sqlite3, str(shell_db), SQLITE_TABLE], check=True)
        steps = [
            measure(
                "fintrack import installments (with their pledges)",
                args.rows,
                [
                    *fintrack,
                    "import",
                    "installments",
                    str(installments),
                    "--pledges",
                    str(pledges),
                    "--quiet",
                ],
            ),
            measure(
                "fintrack export installments",
                args.rows,
                [*fintrack, "export", "installments", "-o", str(folder / "out.csv"), "--quiet"],
            ),
            measure(
                "sqlite3 shell .import --csv",
                args.rows,
                [sqlite3, str(shell_db), f".import --csv --skip 1 {installments} installments"],
            ),
            measure(
                "sqlite3 shell CSV output",
                args.rows,
                [sqlite3, "-csv", "-header", str(shell_db), "SELECT * FROM installments"],
                stdout=folder / "shell-out.csv",
            ),
        ]
        exported = (folder / "out.csv").read_bytes()
        same = "yes" if exported == installments.read_bytes() else "no"
        print(
            f"{args.rows:,} installments of {args.per_pledge} per pledge, {size_mb:.1f} MB of CSV"
        )
        print(f"{'step':<52} {'seconds':>8} {'rows/s':>10} {'peak RSS MB':>12}")
        for step in steps:
            rate = step.rows / step.seconds if step.seconds else float("inf")
            print(f"{step.name:<52} {step.seconds:>8.2f} {rate:>10,.0f} {step.peak_mb:>12.1f}")
        print(f"fintrack's export is byte-identical to the generated file: {same}")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Print N pledges and N totals groups as a table and as CSV, side by side, in one run.

    python benchmarks/render.py [--rows 100000] [--width 120] [--keep DIR]

Generates N pledges, each with its own donor (so `totals` has N groups), imports them, then
times each listing in its own process, from start to exit, with its peak resident memory from
the operating system (wait4): the CSV of the rows is the yardstick the table is measured by.
The table is written to a file with COLUMNS set, so it is laid out exactly as on a terminal of
that width (no pager).
"""

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Step
from common import measure as measure_process
from interchange import INSTALLMENT_HEADER, PLEDGE_HEADER


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """N pledges of one installment each, every one from a donor of its own."""
    pledges_path, installments_path = folder / "pledges.csv", folder / "installments.csv"
    start = date(2030, 1, 1)
    with (
        pledges_path.open("w", encoding="utf-8", newline="") as pledges,
        installments_path.open("w", encoding="utf-8", newline="") as installments,
    ):
        p = csv.writer(pledges, lineterminator="\n")
        i = csv.writer(installments, lineterminator="\n")
        p.writerow(PLEDGE_HEADER)
        i.writerow(INSTALLMENT_HEADER)
        for n in range(1, rows + 1):
            amount = f"{1_000_000 + n * 137}.{n % 100:02d}"
            donor = f"Donor number {n} of the benchmark"
            due = start + timedelta(days=n % 365)
            ref = f"bench-{n}"
            p.writerow([n, donor, "Syria", "USD", amount, "pledge", start, 1, ref])
            i.writerow([n, 1, due, "USD", amount, "0.00", amount, "due", ref])
    return pledges_path, installments_path


def measure(name: str, command: list[str], env: dict[str, str], out: Path) -> Step:
    return measure_process(name, command, out, env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="pledges to generate")
    parser.add_argument("--width", type=int, default=120, help="terminal width of the table")
    parser.add_argument("--keep", type=Path, help="a folder to keep the files in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="fintrack-render-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        pledges, installments = generate(folder, args.rows)
        db = folder / "fintrack.db"
        db.unlink(missing_ok=True)
        fintrack = [sys.executable, "-m", "fintrack", "--db", str(db)]
        env = {**os.environ, "COLUMNS": str(args.width), "FINTRACK_PAGER": "cat"}
        env.pop("NO_COLOR", None)
        subprocess.run(
            [*fintrack, "import", "pledges", str(pledges), "--installments", str(installments)],
            check=True,
            capture_output=True,
        )
        pairs = []
        for command in (["pledge", "list"], ["totals"]):
            name = " ".join(command)
            csv_step = measure(
                f"{name} --format csv",
                [*fintrack, *command, "--format", "csv"],
                env,
                folder / f"{command[0]}.csv",
            )
            table_step = measure(
                f"{name} (table, {args.width} columns)",
                [*fintrack, *command],
                env,
                folder / f"{command[0]}.txt",
            )
            pairs.append((csv_step, table_step))
        print(f"{args.rows:,} pledges, each with a donor of its own (so {args.rows:,} groups)")
        print(f"{'step':<36} {'seconds':>8} {'peak RSS MB':>12} {'x CSV time':>11} {'+ MB':>7}")
        for csv_step, table_step in pairs:
            for step in (csv_step, table_step):
                ratio = step.seconds / csv_step.seconds
                extra = step.peak_mb - csv_step.peak_mb
                print(
                    f"{step.name:<36} {step.seconds:>8.2f} {step.peak_mb:>12.1f} "
                    f"{ratio:>11.2f} {extra:>7.1f}"
                )
        widest = max(len(line) for line in (folder / "pledge.txt").read_text("utf-8").splitlines())
        print(f"widest line of the pledge table: {widest} (terminal: {args.width})")
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

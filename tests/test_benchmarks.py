"""The benchmark script runs (on a few rows; timings are never asserted)."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "interchange.py"


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 shell")
def test_interchange_benchmark_runs_on_a_few_rows(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--rows", "25", "--per-pledge", "4", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("25 installments of 4 per pledge")
    assert [line.split("  ")[0] for line in lines[2:6]] == [
        "fintrack import installments (with their pledges)",
        "fintrack export installments",
        "sqlite3 shell .import --csv",
        "sqlite3 shell CSV output",
    ]
    assert lines[-1].endswith("byte-identical to the generated file: yes")


def test_render_benchmark_runs_on_a_few_rows(tmp_path: Path) -> None:
    script = SCRIPT.parent / "render.py"
    result = subprocess.run(
        [sys.executable, str(script), "--rows", "30", "--width", "90", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("30 pledges")
    assert [line.split("  ")[0] for line in lines[2:6]] == [
        "pledge list --format csv",
        "pledge list (table, 90 columns)",
        "totals --format csv",
        "totals (table, 90 columns)",
    ]
    assert lines[-1] == "widest line of the pledge table: 90 (terminal: 90)"
    table = (tmp_path / "pledge.txt").read_text("utf-8")
    assert "Donor" in table and "Left out to fit 90 columns" in table


def test_startup_benchmark_runs_beside_a_bare_app_of_the_same_tree(tmp_path: Path) -> None:
    script = SCRIPT.parent / "startup.py"
    result = subprocess.run(
        [sys.executable, str(script), "--runs", "1", "--keep", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("fintrack ") and lines[0].endswith("medians of 1 runs each")
    assert [line.split("  ")[0] for line in lines[2:6]] == [
        "--help",
        "--version",
        "pledge add --help",
        "totals (empty database)",
    ]
    assert lines[-1] == "bare app has fintrack's command tree: yes"
    # The baseline answers as fintrack does: the same version, the same empty report.
    bare = [sys.executable, str(tmp_path / "bare.py"), "--db", str(tmp_path / "empty.db")]
    ours = [sys.executable, "-m", "fintrack", "--db", str(tmp_path / "empty.db")]
    for words in (["--version"], ["totals"]):
        expected = subprocess.run([*ours, *words], capture_output=True, text=True, check=True)
        got = subprocess.run([*bare, *words], capture_output=True, text=True, check=True)
        assert (got.stdout, got.stderr) == (expected.stdout, expected.stderr)


def test_dataset_is_the_same_for_the_same_seed_and_scale(tmp_path: Path) -> None:
    script = SCRIPT.parent / "dataset.py"
    for folder in ("a", "b"):
        result = subprocess.run(
            [sys.executable, str(script), str(tmp_path / folder), "--scale", "0.0004"],
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("100 pledges, 400 installments, 200 disbursements, 20 sanction")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert "journal.hledger" in names and "rates.csv" in names
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    lines = (tmp_path / "a" / "installments.csv").read_text("utf-8").splitlines()
    assert len(lines) == 401


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="needs the sqlite3 shell")
def test_run_writes_every_figure_into_results(tmp_path: Path) -> None:
    script = SCRIPT.parent / "run.py"
    out = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [
            sys.executable,
            str(script),
            "--scale",
            "0.0004",
            "--repeat",
            "1",
            "--work",
            str(tmp_path / "work"),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    text = out.read_text("utf-8")
    assert "**Scale 0.0004**: 100 pledges" in text
    assert "- Machine: " in text and "- Versions: Python " in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line]
    figures = [row.split(" | ")[0].removeprefix("| ") for row in rows[1:]]
    expected = [
        "SQLite: import pledges+installments",
        "SQLite: import disbursements",
        "SQLite: import sanctions",
        *(
            f"SQLite: fintrack totals --by {by}"
            for by in ("pair", "donor", "recipient", "month", "currency")
        ),
        "SQLite: fintrack totals --format csv",
        "SQLite: fintrack totals --known-on",
        "SQLite: fintrack totals --min-confidence reported",
        "SQLite: fintrack deadlines --as-of 2026-01-01",
        "SQLite: fintrack deadlines --as-of 2026-01-01 --within 60",
        "SQLite: fintrack totals --by currency --in USD",
        "SQLite: fintrack export pledges",
        "SQLite: fintrack export installments",
    ]
    # and a row for each command benchmarks/startup.py times, and the hledger row
    assert len(figures) == len(expected) + 4 + 1
    for figure, start in zip(figures, expected, strict=False):
        assert figure.startswith(start), (figure, start)
    measured = rows[1 : len(expected) + 1]
    for row in measured:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[1]) > 0 and float(cells[3]) > 0, row  # both sides timed
        assert cells[4].endswith("x") and cells[8], row  # a ratio and a verdict
    # The CSV outputs of fintrack and of the hand-written SQL have as many rows.
    for row in measured:
        if "export" in row or "--format csv" in row:
            fintrack_rows, baseline_rows = row.split(" | ")[6].split(" / ")
            assert fintrack_rows == baseline_rows, row
    assert [figure.split("`")[1] for figure in figures[-5:-1]] == [
        "fintrack --help",
        "fintrack --version",
        "fintrack pledge add --help",
        "fintrack totals (empty database)",
    ]
    assert "hledger" in figures[-1]

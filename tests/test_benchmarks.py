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

"""Fixtures: every test gets its own SQLite file and never touches the user's data directory."""

import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fintrack.cli import main


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point fintrack at a fresh database file and a private data directory."""
    path = tmp_path / "fintrack.db"
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FINTRACK_DEBUG", raising=False)
    return path


@pytest.fixture
def db_path(isolated: Path) -> Path:
    return isolated


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """Run the fintrack CLI in-process; returns its exit code, stdout and stderr."""

    def _run(*args: str) -> Result:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return _run


@pytest.fixture
def empty_db(run: Run, db_path: Path) -> Path:
    """A database with the schema and no records, so row counts can be compared."""
    assert run("db", "upgrade").code == 0
    assert row_counts(db_path) == dict.fromkeys(row_counts(db_path), 0)
    return db_path


def as_json(run: Run, *args: str) -> Any:
    """Run a command with --format json; it must succeed, quietly, and print JSON."""
    result = run(*args, "--format", "json")
    assert result.code == 0, result.err
    assert result.err == "", result.err
    return json.loads(result.out)


def added(run: Run, *args: str) -> int:
    """Run an `add` command; it must succeed and print the new id alone."""
    result = run(*args)
    assert result.code == 0, result.err
    return int(result.out)


def row_counts(path: Path) -> dict[str, int]:
    """How many rows each fintrack table holds, read with the stdlib sqlite3 module."""
    tables = ["sanction_actions", "sanction_measures", "pledges", "installments", "disbursements"]
    with sqlite3.connect(path) as connection:
        return {t: connection.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def assert_error(result: Result, *fragments: str) -> None:
    """An expected failure: non-zero exit, one `Error: ...` line on stderr, nothing on stdout."""
    assert result.code != 0, result
    assert result.out == "", result
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert lines[0].startswith("Error: "), result.err
    assert "Traceback" not in result.err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


QATAR = (
    "pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD",
    "--each", "29M", "--installments", "3", "--every", "month", "--on", "2025-05-08",
)  # fmt: skip

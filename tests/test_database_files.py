"""The database file on the system: private when new, readable when read-only, clear errors when
its place, its disk or its schema revision is wrong."""

import os
import sqlite3
import stat
from datetime import date
from pathlib import Path

import pytest

import fintrack
from fintrack import Money
from fintrack.models import SCHEMA_REVISION
from fintrack.store import Database
from tests.conftest import QATAR, Run, added, assert_error, row_counts
from tests.system import fill, fintrack_bound_by_permissions, small_file_system

sqlite_only = pytest.mark.sqlite_only("a SQLite file on the system")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _one_error(result: object, *fragments: str) -> None:
    code, out, err = (getattr(result, name) for name in ("code", "out", "err"))
    assert code == 1, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


@sqlite_only
def test_the_default_database_is_private(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FINTRACK_DATABASE_URL")
    old = os.umask(0o022)
    try:
        assert run(*QATAR).code == 0
        folder = tmp_path / "data-home" / "fintrack"
        database = folder / "fintrack.db"
        assert (_mode(folder), _mode(database)) == (0o700, 0o600)
        # SQLite's -wal and -shm files, which exist while a connection is open, too.
        engine = Database(str(database)).engine
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM pledges").scalar()
            companions = [folder / "fintrack.db-wal", folder / "fintrack.db-shm"]
            assert [_mode(p) for p in companions] == [0o600, 0o600]
        engine.dispose()
    finally:
        os.umask(old)


def test_db_upgrade_and_current_on_a_database_from_a_newer_fintrack(
    run: Run, db_url: str, db_path: Path
) -> None:
    from sqlalchemy import text

    assert added(run, *QATAR) == 1
    with Database(db_url).engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    before = row_counts(db_path)
    newer = ("schema revision 0999", "a newer fintrack wrote it", "upgrade fintrack")
    _one_error(run("db", "upgrade"), *newer)
    current = run("db", "current")
    assert current.code == 0
    assert current.out == (
        f"0999 (a newer fintrack wrote this database; this one knows revisions up to "
        f"{SCHEMA_REVISION}: upgrade fintrack)\n"
    )
    assert "db upgrade" not in current.out
    for command in (("totals",), ("pledge", "list"), ("pay", "1", "1", "--on", "2025-06-01")):
        _one_error(run(*command), *newer)
    assert row_counts(db_path) == before


def test_a_database_under_a_file_is_one_error_line(run: Run, tmp_path: Path) -> None:
    plain = tmp_path / "notes.txt"
    plain.write_text("not a folder\n")
    for place in (plain / "x.db", plain / "deeper" / "x.db"):
        result = run("--db", str(place), "pledge", "list")
        assert_error(result, f"{plain} is a file, not a folder", "--db", "FINTRACK_DATABASE_URL")
        assert result.code == 1
    assert plain.read_text() == "not a folder\n"


@sqlite_only
def test_a_data_directory_that_cannot_be_made_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FINTRACK_DATABASE_URL")
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o555)  # a HOME the user cannot write in
    try:
        result = fintrack_bound_by_permissions(
            "totals", env={"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}
        )
    finally:
        home.chmod(0o755)
    _one_error(result, "cannot create the folder", "permission denied", "--db")
    assert "FINTRACK_DATABASE_URL" in result.err
    assert list(home.iterdir()) == []


def _seeded_file(folder: Path) -> Path:
    """A database with a pledge and a payment, closed (so SQLite has removed its -wal and -shm
    files, as it does when the last connection closes)."""
    folder.mkdir(mode=0o755)
    database = folder / "team.db"
    each = Money.parse("29M", "USD")
    with fintrack.open(str(database)) as tracker, tracker.change(reason="test") as ch:
        pledge = ch.add_pledge(donor="Qatar", recipient="Syria", each=each, installments=3,
                               every="month", on=date(2025, 5, 8))  # fmt: skip
        ch.pay(pledge.id, each, on=date(2025, 5, 20))
    assert sorted(p.name for p in folder.iterdir()) == ["team.db"]
    return database


@sqlite_only
@pytest.mark.parametrize("read_only", ["file", "folder", "both"])
def test_a_read_only_database_can_be_read_but_not_written(tmp_path: Path, read_only: str) -> None:
    database = _seeded_file(tmp_path / "shared")
    folder = database.parent
    content = database.read_bytes()
    if read_only in ("file", "both"):
        database.chmod(0o444)
    if read_only in ("folder", "both"):
        folder.chmod(0o555)
    reading: list[tuple[str, ...]] = [("totals",), ("pledge", "show", "1")]
    writing: list[tuple[str, ...]] = [("pay", "1", "1", "--on", "2025-06-01")]
    if read_only == "both":
        reading += [
            ("deadlines", "--as-of", "2025-05-01"),
            ("pledge", "list"),
            ("history", "pledge", "1"),
            ("export", "pledges"),
            ("db", "current"),
        ]
        writing += [("pledge", "edit", "1", "--donor", "Oman"), ("seed",)]
    try:
        for command in reading:
            result = fintrack_bound_by_permissions("--db", str(database), *command)
            assert result.code == 0 and "Error" not in result.err, (command, result)
            assert result.out
        for command in writing:
            result = fintrack_bound_by_permissions("--db", str(database), *command)
            _one_error(result, f"the database {database} is read-only", "nothing was written")
    finally:
        folder.chmod(0o755)
        database.chmod(0o644)
    assert database.read_bytes() == content
    with sqlite3.connect(database) as raw:
        assert raw.execute("SELECT count(*) FROM disbursements").fetchone() == (1,)


@sqlite_only
def test_a_read_only_database_at_an_older_revision_says_it_cannot_be_migrated(
    tmp_path: Path,
) -> None:
    from alembic import command

    folder = tmp_path / "old"
    folder.mkdir()
    database = Database(str(folder / "old.db"))
    config = database.alembic_config()
    with database.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
    database.engine.dispose()
    (folder / "old.db").chmod(0o444)
    try:
        result = fintrack_bound_by_permissions("--db", str(folder / "old.db"), "totals")
    finally:
        (folder / "old.db").chmod(0o644)
    _one_error(result, "schema revision 0003 and is read-only", "db upgrade")


@sqlite_only
def test_a_full_disk_is_reported_as_such(run: Run, tmp_path: Path) -> None:
    with small_file_system(tmp_path / "small", "4m") as folder:
        database = folder / "fintrack.db"
        assert run("--db", str(database), *QATAR).code == 0
        before = row_counts(database)
        fill(folder)
        result = run("--db", str(database), "pay", "1", "29M", "--on", "2025-05-20")
        assert_error(result, f"the disk holding the database {database} is full")
        assert result.code == 1
        for name in ("filler", "filler-tail"):
            (folder / name).unlink()
        assert row_counts(database) == before


def test_a_database_path_that_is_no_file_is_one_error_line(run: Run, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_error(run("--db", str(tmp_path), "totals"), f"{tmp_path} is a folder")
    assert_error(run("--db", str(fifo), "totals"), f"{fifo} is a device, pipe or socket")
    assert_error(run("--db", str(tmp_path / ("x" * 300)), "totals"), "file name too long")
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_url_with_a_port_that_is_not_a_number_is_one_error_line(run: Run) -> None:
    url = "postgresql+psycopg://ana:s3cret@db.example:notaport/fin"
    for command in (("totals",), ("db", "current"), ("db", "upgrade")):
        result = run("--db", url, *command)
        assert_error(result, "database URL 'postgresql+psycopg://ana:***@db.example:notaport/fin'")
        assert result.code == 1
    path = run("--db", url, "db", "path")
    assert path.out == "postgresql+psycopg://ana:***@db.example:notaport/fin\n"


@pytest.mark.postgresql_only("a server that refuses writes")
def test_a_read_only_postgresql_connection_reads_and_refuses_writes_in_one_line(
    run: Run, db_url: str
) -> None:
    from sqlalchemy.engine import make_url

    assert added(run, *QATAR) == 1
    url = make_url(db_url)
    options = f"{url.query['options']} -cdefault_transaction_read_only=on"
    read_only = url.update_query_dict({"options": options}).render_as_string(False)
    assert run("--db", read_only, "totals").code == 0
    result = run("--db", read_only, "pay", "1", "29M", "--on", "2025-05-20")
    assert_error(result, "is read-only (the server refuses writes", "nothing was written")
    assert result.code == 1
    assert row_counts()["disbursements"] == 0

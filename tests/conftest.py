"""Fixtures: every test gets its own database and never touches the user's data directory.

The engine is chosen with FINTRACK_TEST_DATABASE: `sqlite` (the default) gives each test its own
SQLite file; `postgresql` gives each test its own schema on the server named by
FINTRACK_TEST_PG_URL (a superuser URL such as postgresql+psycopg://postgres:pw@127.0.0.1:5432/postgres),
dropped afterwards. Without a reachable server the PostgreSQL run is skipped on a developer's
machine and fails under CI (CI set to anything but 0 or false).

A test's database is already migrated to the newest schema, with no records: a copy of a template
that Alembic migrates once per session (a migration costs far more than a copy). Tests of creating
or migrating a database mark themselves `new_database` and get one with no schema at all.

The suite runs in parallel (pytest-xdist, `-n auto` in pyproject.toml): each worker is a session
of its own, with its own template, temporary folders and schemas named after it.
"""

import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from fintrack.cli import main

ENGINE_VAR = "FINTRACK_TEST_DATABASE"
PG_URL_VAR = "FINTRACK_TEST_PG_URL"
ENGINES = ("sqlite", "postgresql")
TABLES = [
    "sanction_actions",
    "sanction_measures",
    "pledges",
    "installments",
    "disbursements",
    "claims",
    "sources",
    "source_links",
    "changes",
]
# The row counts of a database just upgraded: no records (the 0003 upgrade writes its "history
# begins" change only on a database that has records).
EMPTY = dict.fromkeys(TABLES, 0)
NEW_DATABASE = "new_database"


def engine() -> str:
    """The engine this test run uses: sqlite or postgresql."""
    name = os.environ.get(ENGINE_VAR, "").strip().lower() or "sqlite"
    if name in ("postgres", "pg"):
        name = "postgresql"
    if name not in ENGINES:
        raise pytest.UsageError(f"{ENGINE_VAR}={name!r}: use one of {', '.join(ENGINES)}")
    return name


def worker() -> str:
    """The pytest-xdist worker running this process (gw0, gw1, ...), or "main" without one."""
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_unless_ci(reason: str) -> None:
    """Skip on a developer's machine; in CI a missing prerequisite is a failure."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{NEW_DATABASE}(why): the test's database has no schema (for tests of creating and "
        "migrating one); other tests get a copy of the migrated template",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"fintrack test database engine: {engine()}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    current = engine()
    for item in items:
        for marker, only in (("sqlite_only", "sqlite"), ("postgresql_only", "postgresql")):
            found = item.get_closest_marker(marker)
            if found is not None and current != only:
                why = found.args[0] if found.args else "engine-specific"
                item.add_marker(pytest.mark.skip(reason=f"{only} only ({why})"))


@dataclass
class Result:
    code: int
    out: str
    err: str


Run = Callable[..., Result]


@dataclass
class TestDatabase:
    """The database of the running test: a SQLite file, or a schema on the PostgreSQL server."""

    __test__ = False  # not a test class, despite its name

    path: Path  # the SQLite file; on PostgreSQL only a name that stands for the schema
    url: str
    schema: str | None = None


_current: TestDatabase | None = None


def _pg_server_url() -> str:
    url = os.environ.get(PG_URL_VAR, "").strip()
    if not url:
        skip_unless_ci(
            f"{ENGINE_VAR}=postgresql needs {PG_URL_VAR}, the URL of a PostgreSQL server "
            "(see the README, Team database)"
        )
    return url


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    """A connection-pool engine on the test server, for creating and dropping schemas."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError

    url = _pg_server_url()
    try:
        admin = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, ModuleNotFoundError) as exc:
        from fintrack.store import hide_password, mask_url

        reason = hide_password(str(getattr(exc, "orig", exc)), url).strip()
        skip_unless_ci(f"no PostgreSQL server at {mask_url(url)}: {reason}")
    yield admin
    admin.dispose()


def schema_url(server_url: str, schema: str) -> str:
    """The server URL with connections confined to one schema (their search_path)."""
    from sqlalchemy.engine import make_url

    url = make_url(server_url).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


class Template:
    """A database migrated once per session by Alembic, copied into each test's database."""

    def copy_to(self, database: TestDatabase) -> None:
        """Make the test's database (its SQLite file, its PostgreSQL schema) as a copy."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the template holds at the end of the session."""


class SQLiteTemplate(Template):
    """The bytes of a migrated SQLite file, written to each test's file with the mode that
    fintrack gives a new database (0600; pytest's folders are 0700 already)."""

    def __init__(self, folder: Path) -> None:
        from fintrack.store import Database

        path = folder / "template.db"
        database = Database(str(path))
        database.upgrade()
        database.engine.dispose()  # the last connection closed: SQLite folds the WAL into the file
        assert not path.with_name(path.name + "-wal").exists()
        self.content = path.read_bytes()

    def copy_to(self, database: TestDatabase) -> None:
        from fintrack.store import FILE_MODE

        descriptor = os.open(database.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        with os.fdopen(descriptor, "wb") as file:
            file.write(self.content)


class PostgreSQLTemplate(Template):
    """The statements Alembic ran to migrate an empty template schema, run again in each
    test's new schema, in the transaction that creates it: the same tables, constraints,
    indexes and rows, without Alembic's own work (loading the scripts, reading the catalogue,
    round trips). The migration's reads are left out."""

    def __init__(self, admin: Any, server_url: str) -> None:
        from sqlalchemy import create_engine, event, text

        from fintrack.store import Database

        schema = f"template_{worker()}_{uuid.uuid4().hex[:16]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        self.statements: list[tuple[str, Any, bool]] = []

        def record(*args: Any) -> None:
            _connection, _cursor, statement, parameters, _context, many = args
            if not statement.lstrip().upper().startswith("SELECT"):
                self.statements.append((statement, parameters, many))

        database = Database(schema_url(server_url, schema))
        event.listen(database.engine, "before_cursor_execute", record)
        try:
            database.upgrade()
        finally:
            database.engine.dispose()
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        named = [s for s, _, _ in self.statements if schema in s]
        assert not named, f"a migration statement names the template's schema: {named[0]}"
        self.engine = create_engine(server_url, pool_size=1)

    def copy_to(self, database: TestDatabase) -> None:
        from sqlalchemy import text

        with self.engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{database.schema}"'))
            connection.execute(text(f'SET LOCAL search_path TO "{database.schema}"'))
            for statement, parameters, many in self.statements:
                connection.exec_driver_sql(statement, list(parameters) if many else parameters)

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture(scope="session")
def template(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Template]:
    """The migrated template that each test's database is copied from."""
    made: Template
    if engine() == "sqlite":
        made = SQLiteTemplate(tmp_path_factory.mktemp("template"))
    else:
        admin = request.getfixturevalue("pg_admin")
        made = PostgreSQLTemplate(admin, admin.url.render_as_string(False))
    yield made
    made.close()


@pytest.fixture
def test_database(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[TestDatabase]:
    """This test's own database on the chosen engine: migrated, with no records (a copy of the
    template), or with no schema at all for a test marked `new_database`."""
    global _current
    path = tmp_path / "fintrack.db"
    new = request.node.get_closest_marker(NEW_DATABASE) is not None
    copied = None if new else request.getfixturevalue("template")
    if engine() == "sqlite":
        database = TestDatabase(path, f"sqlite:///{path}")
        if copied is not None:
            copied.copy_to(database)
        _current = database
        yield database
        _current = None
        return
    from sqlalchemy import text

    admin = request.getfixturevalue("pg_admin")
    schema = f"test_{worker()}_{uuid.uuid4().hex[:16]}"
    database = TestDatabase(path, schema_url(admin.url.render_as_string(False), schema), schema)
    if copied is not None:
        copied.copy_to(database)
    else:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    _current = database
    yield database
    _current = None
    with admin.connect() as connection:
        connection.execute(text("SET lock_timeout = '30s'"))
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(autouse=True)
def isolated(test_database: TestDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point fintrack at the test's fresh database and a private data directory."""
    monkeypatch.setenv("FINTRACK_DATABASE_URL", test_database.url)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("FINTRACK_DEBUG", raising=False)
    return test_database.path


@pytest.fixture
def db_path(isolated: Path) -> Path:
    """The test's database as a path: the SQLite file, or on PostgreSQL a stand-in for the
    schema that `row_counts` understands. Use `db_url` for anything else."""
    return isolated


@pytest.fixture
def db_url(test_database: TestDatabase) -> str:
    """The SQLAlchemy URL of the test's database, on either engine."""
    return test_database.url


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
    assert row_counts(db_path) == EMPTY
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


def url_of(database: Path | str | None = None) -> str:
    """A database URL: the running test's database for None or its `db_path`, the SQLite
    file for any other path, a URL as it is."""
    if isinstance(database, str):
        return database
    if _current is not None and (database is None or database == _current.path):
        return _current.url
    if database is None:
        raise RuntimeError("no test database: call this from a test")
    return f"sqlite:///{database}"


def row_counts(database: Path | str | None = None) -> dict[str, int]:
    """How many rows each fintrack table holds, read on a connection of its own.

    Takes the test's `db_path` (or nothing) for the test's database on either engine, another
    SQLite file's path, or a database URL.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    engine_ = create_engine(url_of(database), poolclass=NullPool)
    try:
        with engine_.connect() as connection:
            return {
                t: int(connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
                for t in TABLES
            }
    finally:
        engine_.dispose()


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

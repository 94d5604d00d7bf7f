"""The database: location, overrides, engine settings, and migrations that match the models."""

import sqlite3
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from fintrack.errors import DatabaseError
from fintrack.models import SCHEMA_REVISION, Base
from fintrack.store import Database, default_url, mask_url, resource_dir
from tests.conftest import QATAR, Run, TestDatabase, assert_error, engine, schema_url


@pytest.mark.new_database("Alembic migrates it from empty")
def test_migrations_create_exactly_the_models_schema(db_url: str) -> None:
    db = Database(db_url)
    before, after = db.upgrade()
    assert (before, after) == (None, SCHEMA_REVISION)
    with db.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def _constraints_and_types(url: str) -> dict[str, Any]:
    """What Alembic's autogenerate leaves out (CHECK constraints), with each table's columns
    (name, type, nullable) and its other constraints and indexes, as the database reports them."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.pool import NullPool

    connectable = create_engine(url, poolclass=NullPool)
    try:
        with connectable.connect() as connection:
            found = inspect(connection)
            return {
                table: {
                    "columns": sorted(
                        (c["name"], str(c["type"]), c["nullable"]) for c in found.get_columns(table)
                    ),
                    "checks": sorted(
                        (c["name"], c["sqltext"]) for c in found.get_check_constraints(table)
                    ),
                    "uniques": sorted(
                        (u["name"], tuple(u["column_names"]))
                        for u in found.get_unique_constraints(table)
                    ),
                    "indexes": sorted(
                        (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                        for i in found.get_indexes(table)
                    ),
                    "foreign_keys": sorted(
                        (f["name"], tuple(f["constrained_columns"]), f["referred_table"])
                        for f in found.get_foreign_keys(table)
                    ),
                    "primary_key": found.get_pk_constraint(table)["name"],
                }
                for table in found.get_table_names()
                if table != "alembic_version"
            }
    finally:
        connectable.dispose()


@pytest.mark.new_database("Alembic migrates it from empty; the models make a second one")
def test_migrations_make_the_models_check_constraints_and_column_types(
    test_database: TestDatabase, request: pytest.FixtureRequest
) -> None:
    """Autogenerate does not compare CHECK constraints: the ones the models make (the enum
    columns' value lists, named by the naming convention) must be the migrations' exactly."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    Database(test_database.url).upgrade()
    admin = None
    if engine() == "sqlite":
        models_url = f"sqlite:///{test_database.path.with_name('models.db')}"
    else:
        admin = request.getfixturevalue("pg_admin")
        schema = f"test_{uuid.uuid4().hex[:16]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        models_url = schema_url(admin.url.render_as_string(False), schema)
    try:
        connectable = create_engine(models_url, poolclass=NullPool)
        Base.metadata.create_all(connectable)
        connectable.dispose()
        migrated = _constraints_and_types(test_database.url)
        assert migrated["pledges"]["checks"] and migrated["sanction_actions_history"]["columns"]
        assert _constraints_and_types(models_url) == migrated
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_models_revision_is_the_head_of_migrations(tmp_path: Path) -> None:
    db = Database(str(tmp_path / "x.db"))
    script = ScriptDirectory.from_config(db.alembic_config())
    assert script.get_heads() == [SCHEMA_REVISION]
    assert db.head_revision() == SCHEMA_REVISION


def test_migrations_downgrade_to_empty_and_up_again(db_url: str) -> None:
    from alembic import command
    from sqlalchemy import inspect

    db = Database(db_url)
    db.upgrade()
    config = db.alembic_config()
    with db.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with db.engine.connect() as connection:
        assert set(inspect(connection).get_table_names()) == {"alembic_version"}
    assert db.upgrade()[1] == SCHEMA_REVISION


@pytest.mark.sqlite_only("the default database is a SQLite file")
def test_default_database_is_created_in_the_user_data_directory(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FINTRACK_DATABASE_URL")
    expected = tmp_path / "data-home" / "fintrack" / "fintrack.db"
    assert default_url() == f"sqlite:///{expected}"
    result = run("db", "path")
    assert result.out == f"{expected}\n"
    assert not expected.exists()
    assert run(*QATAR).code == 0
    assert expected.exists()
    with sqlite3.connect(expected) as raw:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchone() == (
            SCHEMA_REVISION,
        )


def test_db_option_overrides_the_environment(run: Run, tmp_path: Path, db_url: str) -> None:
    other = tmp_path / "other.db"
    assert run("--db", str(other), *QATAR).out == "1\n"
    assert (
        run("--db", f"sqlite:///{other}", "pledge", "list", "--format", "csv").out.count("Qatar")
        == 1
    )
    assert run("pledge", "list", "--format", "csv").out.count("Qatar") == 0
    assert run("db", "path").out == f"{Database(db_url).display}\n"
    assert run("--db", str(other), "db", "path").out == f"{other}\n"


@pytest.mark.new_database("`db current` and `db upgrade` on a database with no schema")
def test_db_current_and_upgrade(run: Run) -> None:
    head = SCHEMA_REVISION
    assert run("db", "current").out == f"none (empty database; newest is {head})\n"
    result = run("db", "upgrade")
    assert result.code == 0
    assert f"to revision {head}" in result.err
    assert run("db", "upgrade").err.strip().endswith(f"is already at revision {head}")
    assert run("db", "current").out == f"{head} (head)\n"


@pytest.mark.sqlite_only("SQLite pragmas")
def test_sqlite_runs_with_foreign_keys_wal_and_busy_timeout(tmp_path: Path) -> None:
    from sqlalchemy import text

    db = Database(str(tmp_path / "pragmas.db"))
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 10_000


def test_foreign_keys_are_enforced(db_url: str) -> None:
    from sqlalchemy.exc import IntegrityError

    from fintrack.changes import begin_change
    from fintrack.models import Installment

    db = Database(db_url)
    # Every other column is valid, so only the missing pledge can be refused (the due date
    # used to be None, and the NOT NULL constraint failed before the foreign key was checked).
    with pytest.raises(IntegrityError, match=r"(?i)foreign key"), db.session() as session:
        begin_change(session, "test")
        session.add(Installment(pledge_id=999, seq=1, due_on=date(2025, 1, 1), amount_minor=1))


def test_a_database_from_a_newer_fintrack_is_refused(run: Run, db_url: str) -> None:
    from sqlalchemy import text

    assert run("db", "upgrade").code == 0
    with Database(db_url).engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'ffff'"))
    assert_error(run("pledge", "list"), "schema revision ffff", "upgrade fintrack")


def test_unreadable_database_is_one_error_line(run: Run, tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("this is not a database\n" * 100)
    assert_error(run("--db", str(not_a_db), "pledge", "list"), "notes.db")


def test_unknown_driver_is_one_error_line(run: Run) -> None:
    assert_error(run("--db", "nosuchdb://user:secret@host/db", "pledge", "list"), "driver")


def test_a_missing_postgresql_driver_says_how_to_install_it(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if psycopg were not installed
    result = run("--db", "postgresql+psycopg://ana:s3cret@db.example/fin", "pledge", "list")
    assert_error(
        result,
        "the driver 'psycopg' for 'postgresql+psycopg://ana:***@db.example/fin' is not installed",
        "pip install 'fintrack[postgres]'",
    )
    assert "s3cret" not in result.err


def test_mask_url_hides_the_password() -> None:
    assert mask_url("postgresql+psycopg://ana:s3cret@db.example/fin") == (
        "postgresql+psycopg://ana:***@db.example/fin"
    )
    assert "s3cret" not in mask_url("postgresql://ana:s3cret@h/x")


def test_error_messages_never_show_a_password(run: Run) -> None:
    result = run("--db", "nosuchdb://ana:s3cret@host/db", "pledge", "list")
    assert result.code != 0
    assert "s3cret" not in result.err


def test_bad_urls_raise_database_errors() -> None:
    with pytest.raises(DatabaseError, match="is not valid"):
        _ = Database("no url://").engine
    with pytest.raises(DatabaseError, match="no driver"):
        _ = Database("sqlite+nothing:///x.db").engine


def test_shipped_resources_are_found() -> None:
    assert (resource_dir("migrations") / "env.py").is_file()
    assert sorted(p.name for p in resource_dir("seed").glob("*.toml")) == [
        "claims.toml",
        "pledges.toml",
        "sanctions.toml",
        "sources.toml",
    ]


def test_an_unreachable_server_is_one_error_line_without_its_password(run: Run) -> None:
    result = run("--db", "postgresql+psycopg://ana:s3cret@127.0.0.1:1/fin", "pledge", "list")
    assert_error(result, "cannot open the database postgresql+psycopg://ana:***@127.0.0.1:1/fin")
    assert "s3cret" not in result.err

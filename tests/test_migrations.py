"""Upgrading a database made by an earlier schema keeps every record; the migrated template that
tests copy their database from is what `fintrack db upgrade` makes of an empty one."""

import sqlite3
import stat
import uuid
from pathlib import Path
from typing import Any

import pytest
from alembic import command

from fintrack.models import SCHEMA_REVISION
from fintrack.store import Database
from tests.conftest import (
    EMPTY,
    Run,
    Template,
    TestDatabase,
    as_json,
    engine,
    row_counts,
    schema_url,
)


def _table_sql(sql: str | None) -> tuple[str, ...] | None:
    """A table's CREATE statement as its columns in order and its constraints in any order
    (Alembic's batch mode, which rebuilds SQLite tables, lists constraints in no fixed order:
    two migrations of empty databases differ there)."""
    if sql is None:
        return None
    parts = [part.strip() for part in sql.split(", \n")]
    columns = tuple(p for p in parts if not p.startswith("CONSTRAINT"))
    constraints = sorted(p.removesuffix("\n)") for p in parts if p.startswith("CONSTRAINT"))
    return (*columns, *constraints)


def _sqlite_contents(path: Path) -> dict[str, Any]:
    """Everything in a SQLite file that a migration decides: its schema, its settings, its rows."""
    with sqlite3.connect(path) as raw:
        master = sorted(
            (kind, name, table, _table_sql(sql))
            for kind, name, table, sql in raw.execute(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"
            )
        )
        settings = [
            raw.execute(f"PRAGMA {name}").fetchone()
            for name in ("journal_mode", "user_version", "application_id", "page_size", "encoding")
        ]
        rows = {
            name: sorted(raw.execute(f'SELECT * FROM "{name}"'))
            for kind, name, _, _ in master
            if kind == "table" and not name.startswith("sqlite_")
        }
    return {"schema": master, "settings": settings, "rows": rows}


def _postgresql_contents(url: str, schema: str) -> dict[str, Any]:
    """Everything in a PostgreSQL schema that a migration decides: columns, constraints,
    indexes, sequences, triggers and rows (the schema's own name left out)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    queries = {
        "columns": """SELECT table_name, column_name, ordinal_position, data_type, is_nullable,
                             column_default, character_maximum_length, numeric_precision,
                             numeric_scale, is_identity
                      FROM information_schema.columns WHERE table_schema = :s""",
        "constraints": """SELECT cl.relname, co.conname, co.contype, pg_get_constraintdef(co.oid)
                          FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid
                          JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE n.nspname = :s""",
        "indexes": "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = :s",
        "sequences": """SELECT sequencename, data_type, start_value, increment_by, last_value
                        FROM pg_sequences WHERE schemaname = :s""",
        "triggers": """SELECT cl.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t
                       JOIN pg_class cl ON cl.oid = t.tgrelid
                       JOIN pg_namespace n ON n.oid = cl.relnamespace
                       WHERE n.nspname = :s AND NOT t.tgisinternal""",
    }
    connectable = create_engine(url, poolclass=NullPool)
    try:
        with connectable.connect() as connection:
            found: dict[str, Any] = {
                name: sorted(
                    tuple(str(v).replace(schema, "SCHEMA") for v in row)
                    for row in connection.execute(text(query), {"s": schema})
                )
                for name, query in queries.items()
            }
            tables = sorted({row[0] for row in found["columns"]})
            found["rows"] = {
                table: sorted(map(tuple, connection.execute(text(f'SELECT * FROM "{table}"'))))
                for table in tables
            }
    finally:
        connectable.dispose()
    return found


@pytest.mark.new_database("migrated here by `fintrack db upgrade`, to compare with the template")
def test_the_tests_template_is_what_db_upgrade_makes_of_an_empty_database(
    run: Run, test_database: TestDatabase, template: Template, request: pytest.FixtureRequest
) -> None:
    upgraded = run("db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    assert f"from an empty database to revision {SCHEMA_REVISION}" in upgraded.err
    assert row_counts() == EMPTY
    if engine() == "sqlite":
        copy = TestDatabase(test_database.path.with_name("copy.db"), "")
        template.copy_to(copy)
        assert stat.S_IMODE(copy.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(test_database.path.stat().st_mode) == 0o600
        assert _sqlite_contents(copy.path) == _sqlite_contents(test_database.path)
        return
    from sqlalchemy import text

    admin = request.getfixturevalue("pg_admin")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    copy = TestDatabase(Path(schema), schema_url(admin.url.render_as_string(False), schema), schema)
    template.copy_to(copy)
    try:
        assert test_database.schema is not None
        fresh = _postgresql_contents(test_database.url, test_database.schema)
        assert fresh["columns"] and fresh["constraints"] and fresh["indexes"]
        assert _postgresql_contents(copy.url, schema) == fresh
        assert Database(copy.url).current_revision() == SCHEMA_REVISION
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def test_upgrade_from_0001_keeps_pledges_payments_and_sanctions(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    url = f"sqlite:///{path}"
    database = Database(url)
    config = database.alembic_config()
    with database.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with sqlite3.connect(path) as raw:
        raw.executescript(
            """
            INSERT INTO pledges (id, ref, donor, recipient, currency, amount_minor, status,
                                 announced_on, schedule_assumed, created_at)
            VALUES (1, 'qatar-2025', 'Qatar', 'Syria', 'USD', 8700000000, 'pledge',
                    '2025-05-08', 1, '2025-05-08 10:00:00');
            INSERT INTO installments (id, pledge_id, seq, due_on, amount_minor) VALUES
                (1, 1, 1, '2025-05-08', 2900000000),
                (2, 1, 2, '2025-06-08', 2900000000),
                (3, 1, 3, '2025-07-08', 2900000000);
            INSERT INTO disbursements (id, pledge_id, installment_id, paid_on, amount_minor,
                                       created_at)
            VALUES (1, 1, 1, '2025-06-02', 2900000000, '2025-06-02 10:00:00');
            INSERT INTO sanction_actions (id, authority, program, target, action, status,
                                          created_at)
            VALUES (1, 'EU', 'EU-SYR', 'SY', 'suspend', 'in-force', '2025-02-24 10:00:00');
            INSERT INTO sanction_measures (id, sanction_id, position, measure)
            VALUES (1, 1, 1, 'energy');
            """
        )
    assert database.current_revision() == "0001"

    [pledge] = as_json(run, "--db", url, "pledge", "list")
    assert Database(url).current_revision() == SCHEMA_REVISION
    assert (pledge["ref"], pledge["pledged"], pledge["disbursed"]) == (
        "qatar-2025",
        "87000000.00",
        "29000000.00",
    )
    assert (pledge["replaces"], pledge["replaced_by"]) == (None, None)
    [action] = as_json(run, "--db", url, "sanction", "list")
    assert (action["target"], action["measures"]) == ("SY", ["energy"])
    assert as_json(run, "--db", url, "rate", "list") == []
    # The new schema works on the old data: a rate, a conversion, a replacing commitment.
    for day, rate in (("2025-05-08", "1.1275"), ("2025-06-02", "1.1444"), ("2025-07-08", "1.17")):
        assert run("--db", url, "rate", "add", "EUR", "USD", rate, "--on", day).code == 0
    assert run("--db", url, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria",
               "--currency", "USD", "--amount", "1M", "--on", "2025-05-09").code == 0  # fmt: skip
    totals = as_json(run, "--db", url, "totals", "--in", "EUR")
    assert totals[-1]["pledges"] == 2


@pytest.mark.new_database("migrated to 0002 here")
def test_upgrade_from_0002_keeps_every_record_and_turns_source_texts_into_sources(
    run: Run, db_url: str
) -> None:
    """Schema 0003 (sources, claims, history): made on either engine, with data of 0002."""
    from sqlalchemy import text

    database = Database(db_url)
    config = database.alembic_config()
    with database.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        for statement in (
            """INSERT INTO pledges (id, ref, donor, recipient, currency, amount_minor, status,
                   announced_on, schedule_assumed, source, created_at) VALUES
               (1, 'qatar-2025', 'Qatar', 'Syria', 'USD', 8700000000, 'pledge', '2025-05-08',
                true, 'Finance minister, 8 May: https://example.org/qatar', '2025-05-08 10:00:00'),
               (2, NULL, 'Qatar', 'Syria', 'USD', 100000000, 'pledge', '2025-05-09', false,
                NULL, '2025-05-09 10:00:00')""",
            "UPDATE pledges SET replaces_id = 2 WHERE id = 1",
            """INSERT INTO installments (id, pledge_id, seq, due_on, amount_minor) VALUES
               (1, 1, 1, '2025-05-08', 2900000000), (2, 1, 2, '2025-06-08', 2900000000),
               (3, 1, 3, '2025-07-08', 2900000000), (4, 2, 1, '2025-05-09', 100000000)""",
            """INSERT INTO disbursements (id, pledge_id, installment_id, paid_on, amount_minor,
                   source, created_at) VALUES
               (1, 1, 1, '2025-06-02', 2900000000, 'https://example.org/qatar',
                '2025-06-02 10:00:00')""",
            """INSERT INTO sanction_actions (id, ref, authority, program, target, action, status,
                   source, created_at) VALUES
               (1, 'eu-406', 'EU', 'EU-SYR', 'SY', 'suspend', 'in-force',
                'Council Decision (CFSP) 2025/406', '2025-02-24 10:00:00')""",
            """INSERT INTO sanction_measures (id, sanction_id, position, measure) VALUES
               (1, 1, 0, 'energy'), (2, 1, 1, 'transport')""",
            """INSERT INTO exchange_rates (id, base, quote, rate_on, rate, created_at) VALUES
               (1, 'EUR', 'USD', '2025-05-08', '1.1275', '2025-05-08 10:00:00')""",
        ):
            connection.execute(text(statement))
    assert database.current_revision() == "0002"

    assert run("db", "upgrade").code == 0
    assert Database(db_url).current_revision() == SCHEMA_REVISION
    pledges = {row["id"]: row for row in as_json(run, "pledge", "list")}
    assert set(pledges) == {1, 2}
    assert (pledges[1]["ref"], pledges[1]["pledged"], pledges[1]["disbursed"]) == (
        "qatar-2025",
        "87000000.00",
        "29000000.00",
    )
    assert (pledges[1]["replaces"], pledges[2]["replaced_by"]) == (2, 1)
    shown = as_json(run, "pledge", "show", "1")
    assert [i["amount"] for i in shown["installments"]] == ["29000000.00"] * 3
    assert [d["amount"] for d in shown["disbursements"]] == ["29000000.00"]
    # The source texts became sources, one per URL (the pledge and its payment share one),
    # linked as unverified: nobody has said yet how sure they are.
    sources = as_json(run, "source", "list")
    assert [(s["url"], s["title"], s["links"]) for s in sources] == [
        (None, "Council Decision (CFSP) 2025/406", 1),
        ("https://example.org/qatar", "Finance minister, 8 May: https://example.org/qatar", 2),
    ]
    assert [s["confidence"] for s in shown["sources"]] == ["unverified"]
    assert shown["disbursements"][0]["confidence"] == "unverified"
    assert pledges[2]["confidence"] == "unverified"  # it had no source
    [action] = as_json(run, "sanction", "list")
    assert (action["ref"], action["measures"], action["confidence"]) == (
        "eu-406",
        ["energy", "transport"],
        "unverified",
    )
    assert as_json(run, "rate", "list")[0]["rate"] == "1.1275"
    # Each record is known from the day it was created: the history starts there.
    assert as_json(run, "pledge", "list", "--known-on", "2025-05-07") == []
    assert [p["id"] for p in as_json(run, "pledge", "list", "--known-on", "2025-05-08")] == [1]
    history = as_json(run, "history", "pledge", "2")
    assert [(row["what"], row["field"], row["command"]) for row in history] == [
        ("pledge 2", "recorded", "db upgrade 0003"),
        ("installment 1", "added", "db upgrade 0003"),
    ]
    # The upgraded records can be edited, and the edit is kept apart from what was before.
    assert run("pledge", "edit", "2", "--amount", "2M", "--reason", "revised").code == 0
    assert as_json(run, "pledge", "show", "2", "--known-on", "2025-05-09")["pledged"] == (
        "1000000.00"
    )

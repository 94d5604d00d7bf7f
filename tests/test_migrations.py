"""Upgrading a database made by an earlier schema keeps every record."""

import sqlite3
from pathlib import Path

from alembic import command

from fintrack.models import SCHEMA_REVISION
from fintrack.store import Database
from tests.conftest import Run, as_json


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

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

"""The secrets a database URL can carry are never printed nor stored, and 0004 scrubs those
that older versions stored in the history."""

import pytest
from alembic import command
from sqlalchemy import text

from fintrack.store import Database, mask_command, mask_url
from tests.conftest import QATAR, Run, as_json, assert_error, row_counts

SECRETS = ("s3cret", "k3yphrase", "t0ken")


def _with_secrets(url: str) -> tuple[str, tuple[str, ...]]:
    """The test database's URL with a password and an SSL key passphrase in its query string,
    and the secrets it holds. A server that checks passwords (CI's) gets its real password
    there too, since libpq uses the query's; a server trusting the test client never asks."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"{url}?password=s3cret&sslpassword=k3yphrase", SECRETS
    password = parsed.password or "s3cret"
    secret = parsed.update_query_dict({"password": str(password), "sslpassword": "k3yphrase"})
    return secret.render_as_string(hide_password=False), (*SECRETS, str(password))


def _shown(*texts: str, secrets: tuple[str, ...] = SECRETS) -> list[str]:
    return [secret for secret in secrets if any(secret in t for t in texts)]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (
            "postgresql+psycopg://ana:s3cret@db.example/fin",
            "postgresql+psycopg://ana:***@db.example/fin",
        ),
        (
            "postgresql+psycopg://ana@db.example/fin?password=s3cret&application_name=x",
            "postgresql+psycopg://ana@db.example/fin?password=***&application_name=x",
        ),
        (
            "postgresql://db.example/fin?sslmode=verify-full&sslpassword=k3yphrase&passfile=/p"
            "&sslkey=/k&PASSWORD=s3cret",
            "postgresql://db.example/fin?sslmode=verify-full&sslpassword=***&passfile=***"
            "&sslkey=***&PASSWORD=***",
        ),
        (
            "mssql+pyodbc://u:p@ss w0rd@h/db?odbc_connect=x&pwd=s3cret",
            "mssql+pyodbc://u:***@ss w0rd@h/db?odbc_connect=x&pwd=***",
        ),
        (
            "snowflake://u@acct/db?token=t0ken&authenticator=oauth",
            "snowflake://u@acct/db?token=***&authenticator=***",
        ),
        ("sqlite:////home/ana/fintrack.db", "sqlite:////home/ana/fintrack.db"),
        (
            "postgresql://h:5432/db?options=-csearch_path%3Dx",
            "postgresql://h:5432/db?options=-csearch_path%3Dx",
        ),
    ],
)
def test_mask_url_hides_every_secret_and_keeps_the_rest(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_command_hides_the_database_url_and_urls_among_the_words() -> None:
    words = [
        "--db", "postgresql://ana:pa ss@h/db?password=s3cret x",
        "pledge", "add", "--donor=Qatar", "--reason", "see https://u:t0ken@x.example/?a=1",
    ]  # fmt: skip
    assert mask_command(words) == [
        "--db", "postgresql://ana:***@h/db?password=***",
        "pledge", "add", "--donor=Qatar", "--reason", "see https://u:***@x.example/?a=1",
    ]  # fmt: skip
    assert mask_command(["--db=postgresql://h/db?sslpassword=k3yphrase", "totals"]) == [
        "--db=postgresql://h/db?sslpassword=***",
        "totals",
    ]


def test_db_path_errors_and_seed_never_show_a_secret_of_the_url(run: Run, db_url: str) -> None:
    secret, secrets = _with_secrets(db_url)
    path = run("--db", secret, "db", "path")
    assert path.code == 0
    assert _shown(path.out, path.err, secrets=secrets) == []
    seed = run("--db", secret, "seed")
    assert seed.code == 0, seed.err
    assert _shown(seed.out, seed.err, secrets=secrets) == []
    unreachable = "postgresql+psycopg://ana@127.0.0.1:1/fin?password=s3cret&sslpassword=k3yphrase"
    for args in (("--db", unreachable, "pledge", "list"), ("--db", unreachable, "db", "path")):
        result = run(*args)
        assert _shown(result.out, result.err) == []
    assert_error(run("--db", unreachable, "pledge", "list"), "cannot open the database")


def test_the_history_never_stores_a_secret_of_the_url(run: Run, db_url: str) -> None:
    secret, secrets = _with_secrets(db_url)
    assert run("--db", secret, *QATAR).code == 0
    assert run(f"--db={secret}", "pay", "1", "29M", "--on", "2025-05-20").code == 0
    history = run("--db", secret, "history", "pledge", "1", "--format", "csv")
    assert history.code == 0
    assert "--db" in history.out and "password=***" in history.out
    assert _shown(history.out, history.err, secrets=secrets) == []
    with Database(db_url).engine.connect() as connection:
        stored = [row[0] for row in connection.execute(text("SELECT command FROM changes"))]
    assert len(stored) == 2
    assert _shown(*stored, secrets=secrets) == []


@pytest.mark.new_database("migrated to 0003 here")
def test_upgrade_to_0004_scrubs_the_secrets_of_stored_commands(run: Run, db_url: str) -> None:
    database = Database(db_url)
    config = database.alembic_config()
    tail = " --db postgresql://u:s3cr"  # cut at the column's length, inside the password
    cut = ("fintrack pledge add --reason " + "x" * 200)[: 200 - len(tail)] + tail
    commands = {
        1: "fintrack --db 'postgresql+psycopg://u@h/db?password=s3cret' pledge add --donor Qatar",
        2: "fintrack '--db=postgresql://ana:s3cret@h/db' pay 1 29M",
        3: "fintrack --db 'postgresql://ana:s3 cret@h/db?sslpassword=k3y phrase&a=1' totals",
        4: "fintrack seed",
        5: "fintrack source add --url 'https://x.example/?token=t0ken&page=2'",
        6: cut,
        7: "db upgrade 0003",
    }
    with database.engine.connect() as connection, connection.begin():
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        for change_id, line in commands.items():
            connection.execute(
                text(
                    "INSERT INTO changes (id, at, analyst, command) "
                    "VALUES (:id, '2025-05-08 10:00:00', 'ana', :command)"
                ),
                {"id": change_id, "command": line},
            )
    assert len(cut) == 200
    assert database.current_revision() == "0003"

    assert run("db", "upgrade").code == 0
    with database.engine.connect() as connection:
        rows = connection.execute(text("SELECT id, command FROM changes ORDER BY id")).all()
    stored = {int(i): str(c) for i, c in rows}
    assert stored == {
        1: "fintrack --db 'postgresql+psycopg://u@h/db?password=***' pledge add --donor Qatar",
        2: "fintrack '--db=postgresql://ana:***@h/db' pay 1 29M",
        3: "fintrack --db 'postgresql://ana:***@h/db?sslpassword=***&a=1' totals",
        4: "fintrack seed",
        5: "fintrack source add --url 'https://x.example/?token=***&page=2'",
        6: cut.removesuffix("s3cr") + "***",
        7: "db upgrade 0003",
    }
    assert row_counts()["changes"] == len(commands)
    assert as_json(run, "pledge", "list") == []

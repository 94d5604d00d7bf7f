"""PostgreSQL as a team database: a role with a password, messages that hide it, retries."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from fintrack.changes import begin_change
from fintrack.models import SCHEMA_REVISION, Pledge
from fintrack.store import Database
from tests.conftest import QATAR, Run, TestDatabase, added, assert_error, skip_unless_ci

pytestmark = pytest.mark.postgresql_only("needs the PostgreSQL test server")


@pytest.fixture
def analyst(pg_admin: Any, test_database: TestDatabase) -> Iterator[tuple[str, str]]:
    """A login role with a password that may work in the test's schema: (its URL, password)."""
    name = f"analyst_{uuid.uuid4().hex[:12]}"
    password = f"s3cret-{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'"))
        connection.execute(
            text(f'GRANT USAGE, CREATE ON SCHEMA "{test_database.schema}" TO {name}')
        )
    url = make_url(test_database.url).set(username=name, password=password)
    try:
        yield url.render_as_string(hide_password=False), password
    finally:
        with pg_admin.connect() as connection:
            connection.execute(text(f"DROP OWNED BY {name} CASCADE"))
            connection.execute(text(f"DROP ROLE {name}"))


@pytest.mark.new_database("the role migrates it, so it owns the tables")
def test_a_role_with_a_password_migrates_and_uses_its_database(
    run: Run, analyst: tuple[str, str]
) -> None:
    url, password = analyst
    upgraded = run("--db", url, "db", "upgrade")
    assert upgraded.code == 0, upgraded.err
    assert f"to revision {SCHEMA_REVISION}" in upgraded.err
    assert ":***@" in upgraded.err
    assert run("--db", url, "db", "current").out == f"{SCHEMA_REVISION} (head)\n"
    assert added(run, "--db", url, *QATAR) == 1
    path = run("--db", url, "db", "path")
    assert path.out.startswith("postgresql+psycopg://analyst_")
    assert ":***@127.0.0.1:" in path.out
    outputs = [upgraded, path, run("--db", url, "seed"), run("--db", url, "totals")]
    assert all(password not in r.out + r.err for r in outputs)


@pytest.mark.new_database("the schema the analyst role would migrate")
def test_a_wrong_password_is_one_error_line_that_hides_it(
    run: Run, analyst: tuple[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = analyst
    wrong = make_url(url).set(password="not-the-Pa55word").render_as_string(hide_password=False)
    probe = run("--db", wrong, "db", "current")
    if probe.code == 0:
        skip_unless_ci("the PostgreSQL test server does not check passwords on 127.0.0.1")
    assert_error(probe, "cannot open the database", ":***@", "password authentication failed")
    assert "not-the-Pa55word" not in probe.err
    monkeypatch.setenv("FINTRACK_DATABASE_URL", wrong)
    for args in (("pledge", "list"), QATAR, ("db", "upgrade"), ("seed",)):
        result = run(*args)
        assert_error(result, "password authentication failed")
        assert "not-the-Pa55word" not in result.err


def test_a_serialization_failure_runs_the_work_again(run: Run, db_url: str) -> None:
    assert added(run, *QATAR) == 1
    db = Database(db_url)
    attempts: list[int] = []

    def work(session: Session) -> int:
        attempts.append(len(attempts) + 1)
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        begin_change(session, "test: a serialization failure")
        pledge = session.get(Pledge, 1)  # the snapshot this transaction sees
        assert pledge is not None
        if len(attempts) == 1:  # someone else changes the row meanwhile
            with db.engine.begin() as other:
                other.execute(text("UPDATE pledges SET purpose = 'other' WHERE id = 1"))
        pledge.purpose = f"attempt {len(attempts)}"
        session.flush()  # PostgreSQL: could not serialize access (40001) on the first attempt
        return len(attempts)

    assert db.transaction(work) == 2
    with db.session() as session:
        pledge = session.get(Pledge, 1)
        assert pledge is not None and pledge.purpose == "attempt 2"


def test_imports_wait_for_each_other_in_one_schema_only(
    pg_admin: Any, test_database: TestDatabase
) -> None:
    """Advisory locks belong to the whole PostgreSQL database: fintrack's import lock is keyed
    by the schema too, so an import into one fintrack database never waits for an import into
    another schema of the same server, and two into one schema still take turns."""
    from sqlalchemy import create_engine
    from sqlalchemy.exc import OperationalError

    from fintrack.store import serialize_imports
    from tests.conftest import _pg_server_url, schema_url

    other = f"test_other_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{other}"'))
    here = create_engine(test_database.url)
    there = create_engine(schema_url(_pg_server_url(), other))
    try:
        with Session(here) as holding, holding.begin():
            serialize_imports(holding)
            with Session(there) as elsewhere, elsewhere.begin():
                elsewhere.execute(text("SET LOCAL lock_timeout = '5s'"))
                serialize_imports(elsewhere)  # another schema: at once
            with (
                pytest.raises(OperationalError, match="lock timeout"),
                Session(here) as same,
                same.begin(),
            ):
                same.execute(text("SET LOCAL lock_timeout = '200ms'"))
                serialize_imports(same)  # the same schema: waits for the first
    finally:
        here.dispose()
        there.dispose()
        with pg_admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{other}" CASCADE'))

"""Engine, sessions, the default database location and Alembic migrations run from code.

Everything that differs between database engines lives in this module.
"""

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fintrack.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

T = TypeVar("T")

ENV_VAR = "FINTRACK_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "fintrack_write"
# A unit of work that the engine aborts for a transient reason is run again from the start,
# this many times in all, with a growing random pause between attempts.
MAX_ATTEMPTS = 8
RETRY_PAUSE_S = 0.02
# PostgreSQL asks the client to retry: serialization_failure, deadlock_detected.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
# SQLite's SQLITE_BUSY and SQLITE_LOCKED, with their extended codes (the low byte).
SQLITE_RETRY_CODES = frozenset({5, 6})
# Serializes concurrent `upgrade()` runs on one PostgreSQL database (any fixed 64-bit key).
PG_MIGRATION_LOCK = 0x66696E747261636B  # "fintrack"
# Serializes imports and seeds on one PostgreSQL database (`serialize_imports`).
PG_IMPORT_LOCK = PG_MIGRATION_LOCK + 1
PG_CONNECT_DEFAULTS = {"connect_timeout": 10, "application_name": "fintrack"}
DRIVER_HINTS = {"postgresql": "pip install 'fintrack[postgres]'"}


def default_url() -> str:
    """`FINTRACK_DATABASE_URL`, or a SQLite file in the user's data directory."""
    configured = os.environ.get(ENV_VAR, "").strip()
    if configured:
        return normalize_url(configured)
    from platformdirs import user_data_path

    return sqlite_url(user_data_path("fintrack", appauthor=False) / "fintrack.db")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.expanduser().resolve()}"


def normalize_url(text: str) -> str:
    """A database URL; a plain file path means a SQLite file."""
    return text if "://" in text else sqlite_url(Path(text))


def mask_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def hide_password(message: str, url: str) -> str:
    """A message with the URL's password, should a driver quote it, replaced by ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(url).password
    except ArgumentError:
        return message
    return message.replace(str(password), "***") if password else message


def is_transient(error: BaseException) -> bool:
    """Whether the engine aborted the work for a reason that running it again may cure."""
    from sqlalchemy.exc import DBAPIError

    if not isinstance(error, DBAPIError) or error.connection_invalidated:
        return False
    original = error.orig
    if getattr(original, "sqlstate", None) in RETRY_SQLSTATES:
        return True
    code = getattr(original, "sqlite_errorcode", None)
    if isinstance(code, int):
        return code & 0xFF in SQLITE_RETRY_CODES
    text = str(original)
    return "database is locked" in text or "database table is locked" in text


def serialize_imports(session: "Session") -> None:
    """Wait until no other import or seed is writing to this database, and keep the next one
    waiting until this transaction ends.

    An import reads which records are stored, then adds the others: two at once would add
    the same records twice, and the second would fail on a duplicate key. Serialized, the
    second finds the first's records stored, as on SQLite, whose writing transactions take
    the write lock at once (BEGIN IMMEDIATE); PostgreSQL takes a transaction's advisory lock.
    """
    from sqlalchemy import text

    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_IMPORT_LOCK})


def resource_dir(name: str) -> Path:
    """A data folder shipped in the wheel as fintrack/NAME, or at the top of a source checkout."""
    packaged = Path(__file__).resolve().parent / name
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / name


class Database:
    """One database: its engine, its schema version and its transactions."""

    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        self._schema_checked = False
        self.sqlite_busy_timeout_ms = SQLITE_BUSY_TIMEOUT_MS
        self.max_attempts = MAX_ATTEMPTS

    @cached_property
    def engine(self) -> "Engine":
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(self.url)
        except ArgumentError:
            raise DatabaseError(f"database URL '{mask_url(self.url)}' is not valid") from None
        try:
            if url.get_backend_name() == "postgresql":
                return self._postgresql_engine()
            if url.get_backend_name() != "sqlite":
                return create_engine(url, pool_pre_ping=True)
            path = self.sqlite_path
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(url)
        except NoSuchModuleError as exc:
            raise DatabaseError(
                f"no driver for database URL '{mask_url(self.url)}': {exc}"
            ) from None
        except ModuleNotFoundError as exc:
            hint = DRIVER_HINTS.get(url.get_backend_name())
            raise DatabaseError(
                f"the driver '{exc.name}' for '{mask_url(self.url)}' is not installed"
                + (f"; install it with: {hint}" if hint else "")
            ) from None
        busy_timeout_ms = self.sqlite_busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
            # Hand transaction control to SQLAlchemy (pysqlite's own is incomplete), then
            # turn on what SQLite leaves off by default.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: "Connection") -> None:
            # A writing transaction takes SQLite's write lock at once, so that what it reads
            # (the outstanding amount of a pledge, say) cannot change before it writes.
            write = connection.get_execution_options().get(WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def _postgresql_engine(self) -> "Engine":
        from sqlalchemy import create_engine
        from sqlalchemy.engine import make_url
        from sqlalchemy.pool import NullPool

        url = make_url(self.url)
        # One fintrack command opens a connection or two and exits, so a pool would only keep
        # idle server connections around; an unreachable server is an error after
        # connect_timeout seconds, not a long hang. Transactions run at PostgreSQL's READ
        # COMMITTED; writes that must not race lock the rows they depend on (FOR UPDATE).
        defaults = {k: v for k, v in PG_CONNECT_DEFAULTS.items() if k not in url.query}
        return create_engine(url, poolclass=NullPool, connect_args=defaults)

    @property
    def sqlite_path(self) -> Path | None:
        """The file of a SQLite database, None for other engines or in-memory ones."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    @property
    def display(self) -> str:
        path = self.sqlite_path
        return str(path) if path is not None else mask_url(self.url)

    def alembic_config(self) -> "Config":
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resource_dir("migrations")))
        return config

    def head_revision(self) -> str:
        from alembic.script import ScriptDirectory

        head = ScriptDirectory.from_config(self.alembic_config()).get_current_head()
        assert head is not None
        return head

    def current_revision(self) -> str | None:
        """The revision stamped in the database, None when it has no schema yet."""
        with self._connect() as connection:
            return _revision(connection)

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema in one transaction; return the revisions before, after.

        The transaction holds the write lock (SQLite) or a migration lock (PostgreSQL) from
        the start, so that two fintrack processes meeting a new database migrate it once.
        """
        from alembic import command
        from sqlalchemy import text

        config = self.alembic_config()
        with (
            self._connect(write=True) as connection,
            self._foreign_keys_deferred(connection),
            connection.begin(),
        ):
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK}
                )
            before = _revision(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            self._check_foreign_keys(connection)
            after = _revision(connection)
        assert after is not None
        self._schema_checked = True
        return before, after

    @contextmanager
    def _foreign_keys_deferred(self, connection: "Connection") -> Iterator[None]:
        """On SQLite, turn foreign keys off while a migration rebuilds tables.

        Alembic changes a SQLite table by copying it to a new one and dropping the old; with
        foreign keys on, that drop would cascade and delete the rows that refer to it (every
        installment of every pledge). SQLite's own procedure for schema changes turns them off
        first and checks them before committing. The pragma only works outside a transaction,
        so it goes straight to the driver.
        """
        if connection.dialect.name != "sqlite":
            yield
            return
        driver = connection.connection.driver_connection
        assert driver is not None
        driver.execute("PRAGMA foreign_keys = OFF")
        try:
            yield
        finally:
            driver.execute("PRAGMA foreign_keys = ON")

    @staticmethod
    def _check_foreign_keys(connection: "Connection") -> None:
        if connection.dialect.name != "sqlite":
            return
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            table, rowid, parent, _ = broken[0]
            raise DatabaseError(
                f"the migration would leave {len(broken)} broken references "
                f"(first: {table} row {rowid} refers to a missing {parent} row); nothing changed"
            )

    def ensure_schema(self) -> None:
        """Create or migrate the schema on first use; cheap when it is already current."""
        if self._schema_checked:
            return
        from fintrack.models import SCHEMA_REVISION

        current = self.current_revision()
        if current != SCHEMA_REVISION:
            if current is not None and not self._known_revision(current):
                raise DatabaseError(
                    f"the database {self.display} has schema revision {current}, "
                    "which this version of fintrack does not know; upgrade fintrack"
                )
            self.upgrade()
        self._schema_checked = True

    def _known_revision(self, revision: str) -> bool:
        from alembic.script import ScriptDirectory
        from alembic.util import CommandError

        try:
            ScriptDirectory.from_config(self.alembic_config()).get_revision(revision)
        except CommandError:
            return False
        return True

    @contextmanager
    def _connect(self, write: bool = False) -> Iterator["Connection"]:
        from sqlalchemy.exc import DBAPIError

        try:
            connection = self.engine.execution_options(**{WRITE_OPTION: write}).connect()
        except DBAPIError as exc:
            if is_transient(exc):
                raise  # for `transaction` to retry
            reason = hide_password(str(exc.orig).strip(), self.url)
            raise DatabaseError(f"cannot open the database {self.display}: {reason}") from None
        with connection:
            yield connection

    @contextmanager
    def session(self, write: bool = False) -> Iterator["Session"]:
        """A session whose work is one transaction: committed at the end, rolled back on error.

        Pass `write=True` for work that writes, so that it holds the write lock from the start.
        """
        from sqlalchemy.orm import Session

        import fintrack.changes  # noqa: F401  (its flush hook keeps every version of a record)

        self.ensure_schema()
        bind = self.engine.execution_options(**{WRITE_OPTION: write})
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session

    def transaction(self, work: "Callable[[Session], T]", write: bool = True) -> T:
        """Run `work(session)` as one transaction and return what it returns.

        When the engine aborts the transaction for a transient reason (SQLite busy past its
        timeout, a PostgreSQL serialization failure or deadlock) nothing of it was kept, and
        `work` runs again from the start in a new transaction, up to `max_attempts` times in
        all; so `work` must only read and write the database, and print nothing.
        """
        from sqlalchemy.exc import DBAPIError

        for attempt in range(1, self.max_attempts + 1):
            try:
                with self.session(write=write) as session:
                    return work(session)
            except DBAPIError as exc:
                if not is_transient(exc):
                    raise
                if attempt == self.max_attempts:
                    reason = hide_password(str(exc.orig).strip(), self.url)
                    raise DatabaseError(
                        f"the database {self.display} stayed busy through {attempt} attempts "
                        f"({reason}); nothing was written, try again"
                    ) from None
                time.sleep(random.uniform(0, RETRY_PAUSE_S * 2**attempt))
        raise AssertionError("unreachable")


def _revision(connection: "Connection") -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None

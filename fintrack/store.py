"""Engine, sessions, the default database location and Alembic migrations run from code.

Everything that differs between database engines lives in this module.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fintrack.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session

ENV_VAR = "FINTRACK_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "fintrack_write"


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
            raise DatabaseError(
                f"the driver '{exc.name}' for '{mask_url(self.url)}' is not installed"
            ) from None

        @event.listens_for(engine, "connect")
        def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
            # Hand transaction control to SQLAlchemy (pysqlite's own is incomplete), then
            # turn on what SQLite leaves off by default.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(connection: "Connection") -> None:
            # A writing transaction takes SQLite's write lock at once, so that what it reads
            # (the outstanding amount of a pledge, say) cannot change before it writes.
            write = connection.get_execution_options().get(WRITE_OPTION, False)
            connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

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
        from sqlalchemy import inspect, text

        with self._connect() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return str(value) if value is not None else None

    def upgrade(self) -> tuple[str | None, str]:
        """Migrate to the newest schema in one transaction; return the revisions before, after."""
        from alembic import command

        before = self.current_revision()
        config = self.alembic_config()
        with (
            self._connect() as connection,
            self._foreign_keys_deferred(connection),
            connection.begin(),
        ):
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            self._check_foreign_keys(connection)
        after = self.current_revision()
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
    def _connect(self) -> Iterator["Connection"]:
        from sqlalchemy.exc import DBAPIError

        try:
            connection = self.engine.connect()
        except DBAPIError as exc:
            raise DatabaseError(f"cannot open the database {self.display}: {exc.orig}") from None
        with connection:
            yield connection

    @contextmanager
    def session(self, write: bool = False) -> Iterator["Session"]:
        """A session whose work is one transaction: committed at the end, rolled back on error.

        Pass `write=True` for work that writes, so that it holds the write lock from the start.
        """
        from sqlalchemy.orm import Session

        self.ensure_schema()
        bind = self.engine.execution_options(**{WRITE_OPTION: write})
        with Session(bind, expire_on_commit=False) as session, session.begin():
            yield session

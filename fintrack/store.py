"""Engine, sessions, the default database location and Alembic migrations run from code.

Everything that differs between database engines lives in this module.
"""

import os
import random
import re
import stat
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fintrack.errors import DatabaseError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import URL, Connection, Engine
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session

T = TypeVar("T")

ENV_VAR = "FINTRACK_DATABASE_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000
WRITE_OPTION = "fintrack_write"
# A unit of work that the engine aborts for a transient reason is run again from the start,
# this many times in all, with a growing random pause between attempts.
MAX_ATTEMPTS = 8
RETRY_PAUSE_S = 0.02
# Rows fetched from the database at a time by the reads that stream (listings, exports).
YIELD_PER = 2_000
# PostgreSQL asks the client to retry: serialization_failure, deadlock_detected.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
# SQLite's SQLITE_BUSY and SQLITE_LOCKED, with their extended codes (the low byte).
SQLITE_RETRY_CODES = frozenset({5, 6})
# PostgreSQL's advisory locks belong to a whole database, and fintrack's tables to one schema
# (the search path's first): the locks take two keys, fintrack's own and the schema's hash, so
# that two fintrack databases in two schemas of one server never wait for each other.
# Serializes concurrent `upgrade()` runs on one fintrack database (any fixed 32-bit key).
PG_MIGRATION_LOCK = 0x66696E74  # "fint"
# Serializes imports and seeds on one fintrack database (`serialize_imports`).
PG_IMPORT_LOCK = PG_MIGRATION_LOCK + 1
PG_LOCK = "SELECT pg_advisory_xact_lock(:key, hashtext(coalesce(current_schema(), '')))"
PG_CONNECT_DEFAULTS = {"connect_timeout": 10, "application_name": "fintrack"}
DRIVER_HINTS = {"postgresql": "pip install 'fintrack[postgres]'"}
# Where the database lives is said in errors that ask the user to choose another place.
CHOOSE_ANOTHER = f"give another database with --db PATH or {ENV_VAR}"
# A new SQLite database is private to its owner: its folder (when fintrack creates it) 0700,
# its file 0600; SQLite gives its -wal and -shm files the mode of the database file.
FOLDER_MODE = 0o700
FILE_MODE = 0o600
# SQLite reports a full disk as SQLITE_FULL when a write finds no room, but as an I/O error
# (or cannot open) when its shared-memory file cannot grow; with less than this much space
# left, such an error is taken for a full disk.
FULL_DISK_BYTES = 1 << 20

# The secrets a database URL can carry: the password of user:password@, and the values of
# query parameters whose name has one of these words in it (password=, sslpassword=,
# passfile=, passphrase=, pwd=, sslkey=, api_key=, token=, secret=, credentials=, auth...).
# They are hidden in everything fintrack prints or stores.
SECRET_PARAMETER = re.compile(r"pass|pwd|secret|token|key|credential|auth", re.IGNORECASE)
MASK = "***"
# user:password@ as SQLAlchemy reads a whole URL (the password runs to the first @) ...
_URL_USERINFO = re.compile(r"^(?P<head>[\w+]+://[^:/]*:)(?P<secret>[^@]*)@")
# ... and as it may appear among other words (no spaces in it; a quote ends it).
_TEXT_USERINFO = re.compile(r"(?P<head>[\w+]+://[^:/@\s]*:)(?P<secret>[^@\s]*)@")
_URL_PARAMETER = re.compile(r"(?P<head>[?&;](?P<name>[^=&;?#\s]*)=)(?P<secret>[^&]*)")
_TEXT_PARAMETER = re.compile(r"(?P<head>[?&;](?P<name>[^=&;?#\s]*)=)(?P<secret>[^&\s'\"]*)")


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


def _mask_parameter(found: "re.Match[str]") -> str:
    if SECRET_PARAMETER.search(found["name"]) and found["secret"]:
        return found["head"] + MASK
    return found[0]


def mask_url(url: str) -> str:
    """The URL with every secret it can carry hidden (its password, and query parameters
    such as password= and sslpassword=), for messages and for the history."""
    masked = _URL_USERINFO.sub(rf"\g<head>{MASK}@", url, count=1)
    return _URL_PARAMETER.sub(_mask_parameter, masked)


def mask_text(text: str) -> str:
    """A text with the secrets of every URL in it hidden, as `mask_url` does for one URL."""
    if "=" not in text and "@" not in text:
        return text
    masked = _TEXT_USERINFO.sub(rf"\g<head>{MASK}@", text)
    return _TEXT_PARAMETER.sub(_mask_parameter, masked)


def mask_command(words: Sequence[str]) -> list[str]:
    """The words of a command line with their secrets hidden: the --db value as a URL, and
    every URL among the other words."""
    masked: list[str] = []
    database_next = False
    for word in words:
        if database_next:
            masked.append(mask_url(word))
        elif word.startswith("--db="):
            masked.append("--db=" + mask_url(word.removeprefix("--db=")))
        else:
            masked.append(mask_text(word))
        database_next = word == "--db"
    return masked


def url_secrets(url: str) -> list[str]:
    """The secrets of a database URL as a driver may quote them: its password and the values
    of its secret query parameters, each as written and as decoded."""
    from urllib.parse import parse_qsl, unquote, unquote_plus

    secrets = []
    found = _URL_USERINFO.match(url)
    if found:
        secrets += [found["secret"], unquote(found["secret"])]
    for parameter in _URL_PARAMETER.finditer(url):
        if SECRET_PARAMETER.search(parameter["name"]):
            secrets += [parameter["secret"], unquote_plus(parameter["secret"])]
    if "?" in url:
        query = url.split("?", 1)[1]
        secrets += [v for k, v in parse_qsl(query) if SECRET_PARAMETER.search(k)]
    return sorted({s for s in secrets if s}, key=len, reverse=True)


def hide_password(message: str, url: str) -> str:
    """A message with the secrets of the URL, should a driver quote them, replaced by ***,
    and those of any URL in it hidden."""
    for secret in url_secrets(url):
        message = message.replace(secret, MASK)
    return mask_text(message)


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
    the write lock at once (BEGIN IMMEDIATE); PostgreSQL takes a transaction's advisory lock,
    of this schema only.
    """
    from sqlalchemy import text

    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text(PG_LOCK), {"key": PG_IMPORT_LOCK})


def advance_id_sequence(session: "Session", table: str) -> None:
    """On PostgreSQL, move the sequence of `table`'s ids past the ids an import chose, so
    that the next record added with a command does not get one of them (SQLite needs
    nothing: its next id follows the largest)."""
    from sqlalchemy import text

    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    connection.execute(
        text(
            # The next id is the largest one's successor; set as the largest, not as its
            # successor, so that an import of the largest id (2**31 - 1) is in range.
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
        )
    )


# SQLite's ANALYZE looks at about this many rows of each index (`PRAGMA analysis_limit`):
# statistics good enough for the planner, in a time that does not grow with the table.
SQLITE_ANALYSIS_LIMIT = 1_000


def update_statistics(connection: "Connection") -> None:
    """Refresh the planner's statistics of fintrack's tables, in the current transaction:
    once after a write of many rows (an import, a seed, a migration), never per row.

    Without them SQLite guesses that every table is large and PostgreSQL waits for its
    autovacuum, so the first reports after an import may scan where an index would serve.
    SQLite's `PRAGMA optimize` would leave a database never analyzed as it is, so this runs
    ANALYZE, sampled (`SQLITE_ANALYSIS_LIMIT`); PostgreSQL's ANALYZE names the tables, so
    that only this schema's are analyzed, not every schema of the database.
    """
    from fintrack.models import Base

    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f"PRAGMA analysis_limit = {SQLITE_ANALYSIS_LIMIT}")
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("PRAGMA analysis_limit = 0")
    elif connection.dialect.name == "postgresql":
        names = ", ".join(table.name for table in Base.metadata.sorted_tables)
        connection.exec_driver_sql(f"ANALYZE {names}")


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

    def close(self) -> None:
        """Close the engine's pooled connections; a later use opens new ones."""
        engine = self.__dict__.pop("engine", None)
        if engine is not None:
            engine.dispose()

    @cached_property
    def engine(self) -> "Engine":
        from sqlalchemy import create_engine, event
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError, NoSuchModuleError

        try:
            url = make_url(self.url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise DatabaseError(f"database URL '{mask_url(self.url)}' is not valid") from None
        try:
            if url.get_backend_name() == "postgresql":
                return self._postgresql_engine()
            if url.get_backend_name() != "sqlite":
                return create_engine(url, pool_pre_ping=True)
            path = self.sqlite_path
            read_only = False
            if path is not None:
                _create_database_file(path)
                read_only = self.read_only
                if read_only:
                    url = _read_only_url(path)
            engine = create_engine(url)
        except NoSuchModuleError as exc:
            raise DatabaseError(
                f"no driver for database URL '{mask_url(self.url)}': {exc}"
            ) from None
        except ValueError as exc:  # a part of the URL of the wrong form: port=notaport
            raise DatabaseError(
                f"database URL '{mask_url(self.url)}' is not valid: {mask_text(str(exc))}"
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
            if not read_only:  # turning WAL on writes to the file (once)
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
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(self.url)
        except (ArgumentError, ValueError):
            return None  # not a valid URL: `engine` says so
        if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        return Path(url.database)

    @cached_property
    def read_only(self) -> bool:
        """Whether this process can only read the SQLite database: its file is not writable,
        or the folder is not, where SQLite keeps the -wal and -shm files it writes beside it."""
        path = self.sqlite_path
        try:
            if path is None or not path.is_file():
                return False
            if not os.access(path, os.W_OK):
                return True
            if os.access(path.parent, os.W_OK | os.X_OK):
                return False
            return not all(os.access(companion, os.W_OK) for companion in _companions(path))
        except OSError:
            return False

    def read_only_message(self) -> str:
        if self.sqlite_path is None:
            return (
                f"the database {self.display} is read-only (the server refuses writes to this "
                "user or connection), so nothing was written: connect as a user who may write"
            )
        return (
            f"the database {self.display} is read-only (its file or its folder is not "
            f"writable), so nothing was written: make it writable, or {CHOOSE_ANOTHER}"
        )

    @contextmanager
    def _explained(self) -> Iterator[None]:
        """Turn a failure of the disk or of permissions into one clear DatabaseError."""
        from sqlalchemy.exc import DBAPIError

        try:
            yield
        except DBAPIError as exc:
            explained = None if is_transient(exc) else self.explain(exc)
            if explained is None:
                raise
            raise DatabaseError(explained) from None

    def explain(self, error: "DBAPIError") -> str | None:
        """What a failure caused by the disk or the database's permissions means for the
        user, in one line; None for other failures."""
        original = error.orig
        name = str(getattr(original, "sqlite_errorname", "") or "")
        state = str(getattr(original, "sqlstate", "") or "")
        if (
            name == "SQLITE_FULL"
            or state == "53100"
            or (name.startswith(("SQLITE_IOERR", "SQLITE_CANTOPEN")) and self._disk_full())
        ):
            return (
                f"the disk holding the database {self.display} is full: nothing was written; "
                "free some space and try again"
            )
        if name.startswith("SQLITE_READONLY") or state == "25006":
            return self.read_only_message()
        return None

    def _disk_full(self) -> bool:
        path = self.sqlite_path
        if path is None:
            return False
        try:
            space = os.statvfs(path.parent)
        except OSError:
            return False
        return space.f_bavail * space.f_frsize < FULL_DISK_BYTES

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

        current = self.current_revision()
        self._check_known(current)
        if self.read_only:
            if current == self.head_revision():
                self._schema_checked = True
                return current, current
            raise DatabaseError(self._cannot_migrate(current))
        config = self.alembic_config()
        with (
            self._explained(),
            self._connect(write=True) as connection,
            self._foreign_keys_deferred(connection),
            connection.begin(),
        ):
            if connection.dialect.name == "postgresql":
                connection.execute(text(PG_LOCK), {"key": PG_MIGRATION_LOCK})
            before = _revision(connection)
            self._check_known(before)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            self._check_foreign_keys(connection)
            if before != _revision(connection):
                update_statistics(connection)
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
            self._check_known(current)
            if self.read_only:
                raise DatabaseError(self._cannot_migrate(current))
            self.upgrade()
        self._schema_checked = True

    def newer(self, revision: str | None) -> bool:
        """Whether a revision stamped in a database is one this fintrack does not know: a
        newer fintrack wrote the database."""
        from fintrack.models import SCHEMA_REVISION

        return revision not in (None, SCHEMA_REVISION) and not self._known_revision(revision)

    def _check_known(self, revision: str | None) -> None:
        if self.newer(revision):
            from fintrack.models import SCHEMA_REVISION

            raise DatabaseError(
                f"the database {self.display} has schema revision {revision}: a newer fintrack "
                f"wrote it (this one knows revisions up to {SCHEMA_REVISION}); upgrade fintrack"
            )

    def _cannot_migrate(self, current: str | None) -> str:
        from fintrack.models import SCHEMA_REVISION

        return (
            f"the database {self.display} has schema revision {current or 'none (empty)'} "
            f"and is read-only, so fintrack cannot migrate it to {SCHEMA_REVISION}: make it "
            "writable, or have its owner run `fintrack db upgrade`"
        )

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
            explained = self.explain(exc)
            if explained is not None:
                raise DatabaseError(explained) from None
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
        if write and self.read_only:
            raise DatabaseError(self.read_only_message())
        bind = self.engine.execution_options(**{WRITE_OPTION: write})
        with (
            self._explained(),
            Session(bind, expire_on_commit=False) as session,
            session.begin(),
        ):
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
                    raise self.stayed_busy(exc, attempt) from None
                time.sleep(random.uniform(0, RETRY_PAUSE_S * 2**attempt))
        raise AssertionError("unreachable")

    def stayed_busy(self, failure: BaseException, attempts: int) -> DatabaseError:
        """The error of a transaction given up after `attempts` transient failures."""
        reason = hide_password(str(getattr(failure, "orig", failure)).strip(), self.url)
        return DatabaseError(
            f"the database {self.display} stayed busy through {attempts} attempts "
            f"({reason}); nothing was written, try again"
        )


def _companions(path: Path) -> list[Path]:
    """The files SQLite keeps beside a database in WAL mode."""
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]


def _create_database_file(path: Path) -> None:
    """Create a new SQLite database's folder (0700) and empty file (0600), so that nobody
    else can read it; an existing database is left as it is."""
    try:
        found = path.stat()
    except FileNotFoundError:
        found = None
    except OSError as exc:
        raise DatabaseError(
            f"cannot use {path} as the database: {_why(exc, path)}; {CHOOSE_ANOTHER}"
        ) from None
    if found is not None:
        if not stat.S_ISREG(found.st_mode):
            kind = "a folder" if stat.S_ISDIR(found.st_mode) else "a device, pipe or socket"
            raise DatabaseError(f"{path} is {kind}, not a database file; {CHOOSE_ANOTHER}")
        return
    try:
        path.parent.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the folder {path.parent} for the database: "
            f"{_why(exc, path.parent)}; {CHOOSE_ANOTHER}"
        ) from None
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    except FileExistsError:
        pass  # another fintrack made it first
    except OSError as exc:
        raise DatabaseError(
            f"cannot create the database {path}: {_why(exc, path)}; {CHOOSE_ANOTHER}"
        ) from None


def _why(error: OSError, path: Path) -> str:
    """Why a file or folder cannot be made at `path`, in words: a file in the way, or the
    system's reason."""
    for ancestor in (path, *path.parents):
        try:
            if ancestor.exists():
                if not ancestor.is_dir():
                    return f"{ancestor} is a file, not a folder"
                break
        except OSError:
            break
    return (error.strerror or str(error)).lower()


def _read_only_url(path: Path) -> "URL":
    """A URL that opens the SQLite file for reading only.

    In a folder it cannot write, SQLite cannot make the -shm file it reads a WAL database
    with; when there is no -wal file either, everything committed is in the database file,
    which SQLite then reads as immutable (without locks).
    """
    from urllib.parse import quote

    from sqlalchemy.engine import URL

    query = {"mode": "ro", "uri": "true"}
    wal, shm = _companions(path)
    try:
        unwritable = not os.access(path.parent, os.W_OK | os.X_OK)
        if unwritable and not shm.exists() and (not wal.exists() or wal.stat().st_size == 0):
            query["immutable"] = "1"
    except OSError:
        pass
    return URL.create("sqlite", database="file:" + quote(str(path)), query=query)


def _revision(connection: "Connection") -> str | None:
    from sqlalchemy import inspect, text

    if not inspect(connection).has_table("alembic_version"):
        return None
    value = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    return str(value) if value is not None else None

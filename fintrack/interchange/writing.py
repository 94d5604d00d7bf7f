"""Writing rows: ids for new records, and batches of rows written one statement each."""

from array import array
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fintrack.changes import stamp
from fintrack.interchange.problems import Options
from fintrack.models import Versioned
from fintrack.store import advance_id_sequence

# Rows written to the database per statement; read as `fintrack.interchange.BATCH_ROWS` when
# a batch fills, so that a test can lower it there.
BATCH_ROWS = 5_000


def _batch_rows() -> int:
    import fintrack.interchange

    return fintrack.interchange.BATCH_ROWS


class IdPlan:
    """Ids for new records: the file's id when the database has no record with it, so a copy
    into an empty database keeps its numbers; the next free number otherwise."""

    def __init__(self, taken: set[int]) -> None:
        self.taken = taken
        self.ids: dict[Any, int] = {}
        self.pending: list[Any] = []

    def claim(self, key: Any, number: int | None) -> None:
        if number is not None and number not in self.taken:
            self.taken.add(number)
            self.ids[key] = number
        else:
            self.pending.append(key)

    def finish(self) -> None:
        following = max(self.taken, default=0) + 1
        for key in self.pending:
            self.ids[key] = following
            following += 1
        self.pending = []


class IdSequence:
    """IdPlan's ids for records that the second pass writes in the order the first pass
    planned them: an array in that order, not a dict of their keys (a million records)."""

    def __init__(self, taken: set[int]) -> None:
        self.taken = taken
        self.ids = array("q")  # 0: pending
        self.given = 0

    def claim(self, number: int | None) -> None:
        if number is not None and number not in self.taken:
            self.taken.add(number)
            self.ids.append(number)
        else:
            self.ids.append(0)

    def finish(self) -> None:
        following = max(self.taken, default=0) + 1
        ids = self.ids
        for i in range(len(ids)):
            if not ids[i]:
                ids[i] = following
                following += 1

    def next(self) -> int:
        """The id of the next record written."""
        number = self.ids[self.given]
        self.given += 1
        return number


class Batches:
    """Rows for one table, written with one executemany statement per batch.

    Rows of a versioned table are stamped as the first version of their record, made by the
    import's change (`stamp`); a Core insert bypasses the ORM's flush hook that would. Rows
    that refer to rows of another batch name it as `parent`: it is written first, so that a
    full batch of children never reaches the database before the parents they point to.
    """

    def __init__(
        self, session: Session, model: Any, options: Options, parent: "Batches | None" = None
    ) -> None:
        self.session = session
        self.parent = parent
        self.table = model.__table__
        self.statement = insert(self.table)
        self.change = options.change if issubclass(model, Versioned) else None
        if self.change is None and issubclass(model, Versioned) and not options.dry_run:
            raise RuntimeError(f"rows of {self.table.name} imported outside a change")
        self.rows: list[dict[str, Any]] = []
        self.explicit_ids = False

    def add(self, row: dict[str, Any]) -> None:
        self.explicit_ids = self.explicit_ids or "id" in row
        self.rows.append(row if self.change is None else stamp(row, self.change))
        if len(self.rows) >= _batch_rows():
            self.flush()

    def flush(self) -> None:
        if self.parent is not None:
            self.parent.flush()
        if self.rows:
            connection = self.session.connection()
            if not self._copyable():
                connection.execute(self.statement, self.rows)
            elif connection.dialect.name == "postgresql":
                _copy(connection, self.table, self.rows)
            else:
                _insert_many(connection, self.table, self.rows)
            self.rows = []
        if self.explicit_ids:
            advance_id_sequence(self.session, self.table.name)
            self.explicit_ids = False

    def _copyable(self) -> bool:
        """Whether COPY writes what the insert would: every column the insert would fill
        from its Python default is given in the rows (COPY knows only the server's)."""
        given = self.rows[0].keys()
        return all(column.default is None or column.name in given for column in self.table.columns)


def _bound(connection: Connection, table: Table, names: list[str]) -> list[Any]:
    """The bind processors of columns of a table (None where a value is bound as it is)."""
    dialect = connection.dialect
    return [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names]


def _insert_many(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows written with the driver's executemany, in the session's transaction, bound as
    the insert binds them (the columns' types' bind processors), without the insert's work
    for each row's parameters; rows that do not all give the same columns go to the insert."""
    names = list(rows[0])
    width = len(names)
    if connection.dialect.paramstyle != "qmark" or any(len(row) != width for row in rows):
        connection.execute(insert(table), rows)
        return
    processors = _bound(connection, table, names)
    take = itemgetter(*names) if width > 1 else lambda row: (row[names[0]],)
    try:
        if all(process is None for process in processors):
            values = [take(row) for row in rows]
        else:
            values = [
                tuple(
                    value if process is None or value is None else process(value)
                    for value, process in zip(take(row), processors, strict=True)
                )
                for row in rows
            ]
    except KeyError:  # a row without a column of the first
        connection.execute(insert(table), rows)
        return
    quote = connection.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
        f"VALUES ({', '.join('?' * width)})"
    )
    connection.exec_driver_sql(statement, values)


def _copy(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows written with PostgreSQL's COPY through psycopg, in the session's transaction:
    the values are bound as the insert binds them (the columns' types' bind processors)."""
    import psycopg

    dialect = connection.dialect
    names = [column.name for column in table.columns if column.name in rows[0]]
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names
    ]
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None or value is None else process(value)
                        for value, process in zip(
                            (row[name] for name in names), processors, strict=True
                        )
                    ]
                )
    except psycopg.Error as exc:
        # As the insert's would be: an IntegrityError is a record added meanwhile.
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from None

"""Alembic environment: runs on the connection fintrack hands over, or on the configured URL."""

from alembic import context
from sqlalchemy.engine import Connection

from fintrack.models import Base

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    from fintrack.store import default_url

    context.configure(
        url=config.get_main_option("sqlalchemy.url") or default_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    from fintrack.store import Database, default_url

    database = Database(config.get_main_option("sqlalchemy.url") or default_url())
    with database.engine.connect() as own_connection:
        _configure(own_connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

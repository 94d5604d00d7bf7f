"""`fintrack db`: where the database is, its schema revision, and migrating it."""

import typer

from fintrack.cli.common import database, note

app = typer.Typer(
    rich_markup_mode="markdown", help="Inspect and migrate the database.", no_args_is_help=True
)


@app.command("path")
def db_path() -> None:
    """Print where the database is: the SQLite file, or the URL with its password hidden.

    Example:

        fintrack db path
    """
    print(database().display)


@app.command("current")
def db_current() -> None:
    """Print the schema revision of the database and whether it is the newest.

    Example:

        FINTRACK_DATABASE_URL=team.db fintrack db current
    """
    db = database()
    current = db.current_revision()
    head = db.head_revision()
    if current is None:
        print(f"none (empty database; newest is {head})")
    elif current == head:
        print(f"{current} (head)")
    elif db.newer(current):
        print(
            f"{current} (a newer fintrack wrote this database; this one knows revisions up to "
            f"{head}: upgrade fintrack)"
        )
    else:
        print(f"{current} (newest is {head}; run `fintrack db upgrade`)")


@app.command("upgrade")
def db_upgrade() -> None:
    """Create the schema or migrate it to the newest revision, in one transaction.

    fintrack also does this by itself on first use; run it by hand after upgrading fintrack
    on a shared database.

    Example:

        fintrack db upgrade
    """
    db = database()
    before, after = db.upgrade()
    if before == after:
        note(f"{db.display} is already at revision {after}")
    else:
        note(f"Upgraded {db.display} from {before or 'an empty database'} to revision {after}")

"""The `fintrack` command: composes the command groups and turns errors into one line."""

import os
import sys
from typing import Annotated

import typer

from fintrack.cli import brief, claim, data, db, pledge, rate, record, report, sanction, source
from fintrack.cli.common import state

app = typer.Typer(
    name="fintrack",
    help="Track sanctions actions and foreign-aid pledges: totals, deadlines, CSV and JSON.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(sanction.app, name="sanction")
app.add_typer(pledge.app, name="pledge")
app.command("pay")(pledge.pay)
app.add_typer(source.app, name="source")
app.add_typer(claim.app, name="claim")
app.command("void")(record.void)
app.command("history")(record.history)
app.add_typer(rate.app, name="rate")
app.command("totals")(report.totals_command)
app.command("deadlines")(report.deadlines_command)
app.command("brief")(brief.brief_command)
app.command("export")(data.export)
app.command("import")(data.import_)
app.command("seed")(data.seed)
app.add_typer(db.app, name="db")


def _version(value: bool) -> None:
    if value:
        from fintrack import __version__

        print(f"fintrack {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    db_url: Annotated[
        str | None,
        typer.Option(
            "--db",
            metavar="URL",
            help="Database URL or SQLite file path. Default: $FINTRACK_DATABASE_URL, "
            "else fintrack.db in your data directory (see `fintrack db path`).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Track sanctions actions and foreign-aid pledges: totals, deadlines, CSV and JSON.

    Start with `fintrack seed` to load the 2025 founding case, then try `fintrack totals`
    and `fintrack deadlines --as-of 2025-05-08`.
    """
    state.db_url = db_url


def _fail(message: str, code: int) -> int:
    from fintrack.cli.output import visible

    line = visible(" ".join(str(message).split()))
    print(f"Error: {line}", file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run fintrack; expected failures end as one `Error: ...` line and a non-zero code."""
    from typer import Abort
    from typer._click.exceptions import ClickException  # typer >= 0.29 vendors click

    from fintrack.errors import FintrackError

    state.db_url = None
    state.argv = list(sys.argv[1:] if argv is None else argv)
    try:
        result = app(args=argv, prog_name="fintrack", standalone_mode=False)
    except ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except FintrackError as exc:
        return _fail(str(exc), exc.exit_code)
    except (Abort, KeyboardInterrupt):
        return _fail("interrupted", 130)
    except Exception as exc:
        if os.environ.get("FINTRACK_DEBUG"):
            raise
        sqlalchemy_errors = sys.modules.get("sqlalchemy.exc")
        if sqlalchemy_errors and isinstance(exc, sqlalchemy_errors.DBAPIError):
            from fintrack.store import default_url, hide_password

            return _fail(hide_password(f"database: {exc.orig}", state.db_url or default_url()), 1)
        return _fail(
            f"unexpected {type(exc).__name__}: {exc} (set FINTRACK_DEBUG=1 for a traceback)", 70
        )
    return result if isinstance(result, int) else 0


def entry() -> None:
    sys.exit(main())

"""The `fintrack` command: composes the command groups and turns errors into one line."""

import functools
import os
import re
import sys
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperArgument, TyperOption

from fintrack.cli import brief, claim, data, db, pledge, rate, record, report, sanction, source
from fintrack.cli.common import in_options, remember_commands, state, whole_numbers
from fintrack.cli.output import VIEW, View

if TYPE_CHECKING:
    from typer import _click

HELP_OPTION_NAMES = ["-h", "--help"]

app = typer.Typer(
    name="fintrack",
    help="Track sanctions actions and foreign-aid pledges: totals, deadlines, CSV and JSON.",
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode="markdown",
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": HELP_OPTION_NAMES},
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
    no_pager: Annotated[
        bool,
        typer.Option(
            "--no-pager",
            help="Print long tables straight to the terminal instead of through $PAGER.",
        ),
    ] = False,
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
    VIEW.pager = not no_pager


# The word that stands for an option's value in --help, chosen by the parameter's name where
# its type (str, int) says too little. Options added later get words from the same rules, and
# an explicit metavar= always wins.
DATE_NAMES = frozenset(
    {
        "on", "announced", "effective", "expires", "deadline", "first_due", "since", "until",
        "as_of", "known_on", "published", "retrieved", "rates_on", "paid_on", "due", "day",
    }
)  # fmt: skip
AMOUNT_NAMES = frozenset({"amount", "each", "total"})
# `to` is a currency (rate convert --to); the dates of rate list's --from/--to are since/until.
CURRENCY_NAMES = frozenset({"currency", "base", "quote", "to", "target_currency"})
DAY_COUNT_NAMES = frozenset({"within", "max_rate_age", "days"})
FOLDER_NAMES = frozenset({"folder", "directory", "dir"})
NAME_WORDS = {
    "url": "URL",
    "db_url": "URL",
    "level": "LEVEL",
    "min_confidence": "LEVEL",
    "source": "SOURCE",
    "output": "FILE",
    "analyst": "NAME",
    "every": "INTERVAL",
    "by": "GROUPING",
    "status": "STATUS",
    "action": "ACTION",
    "kind": "KIND",
    "fmt": "FORMAT",
}
MAX_CHOICES_WIDTH = 16


def value_word(param: "_click.Parameter") -> str:
    """The word for a parameter's value in help: DATE, AMOUNT, ID, N, CUR, FILE, TEXT, ..."""
    from typing import get_args, get_origin

    name = param.name or ""
    described = getattr(param, "type_descriptor", None)
    annotation: Any = getattr(described, "annotation", str)
    if get_origin(annotation) is list:
        (annotation,) = get_args(annotation)
    choices = getattr(described, "choices", None)
    if choices:
        listed = "|".join(str(c.value if isinstance(c, Enum) else c) for c in choices)
        # A long list squeezes the help into a narrow column: the help text names them.
        if len(listed) <= MAX_CHOICES_WIDTH:
            return listed
        return NAME_WORDS.get(name, name.upper())
    if name in DATE_NAMES:
        return "DATE"
    if name in AMOUNT_NAMES:
        return "AMOUNT"
    if name in CURRENCY_NAMES:
        return "CUR"
    if annotation is int:
        if name == "id" or name.endswith("_id"):
            return "ID"
        return "DAYS" if name in DAY_COUNT_NAMES else "N"
    if annotation is float:
        return "NUMBER"
    if getattr(described, "is_path", False):
        return "DIR" if name in FOLDER_NAMES else "FILE"
    return NAME_WORDS.get(name, "TEXT")


class _Argument(TyperArgument):
    """An argument shown as a word: `PLEDGE_ID AMOUNT` in the usage line, not `{PLEDGE_ID}
    {amount}`, and the word for its value (ID, CUR, ...) beside its name when that adds to it."""

    word = ""

    def _usage_display_name(self) -> str:
        name = self.display_name_raw + ("..." if self.nargs != 1 else "")
        return name if self.required else f"[{name}]"

    def display_type_rich(self, ctx: "_click.Context") -> str | None:
        return self.word


def name_values(command: "_click.Command") -> None:
    """Give every option and argument of a command tree words for its values in --help.

    Typer shows Python types (`<str>`, `<list[str]>`, `<bool>` for a flag, `{amount}`); this
    fills in a metavar where none was given: flags get none, the rest a word from
    `value_word`. Arguments are named in capitals (AMOUNT).
    """
    from typer import _click

    context = _click.Context(command, info_name=command.name, help_option_names=HELP_OPTION_NAMES)
    help_option = command.get_help_option(context)
    if help_option is not None and help_option.metavar is None:
        help_option.metavar = ""
    for param in command.params:
        if isinstance(param, TyperArgument):
            word = value_word(param)
            if param.metavar is None:
                param.metavar = (param.name or "value").upper()
            # Typer always shows an argument's Python type and braces around it in the
            # usage line; this subclass shows words instead.
            param.__class__ = _Argument
            assert isinstance(param, _Argument)
            param.word = "" if word in (param.metavar, "TEXT") else word
        elif isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else value_word(param)
    for sub in getattr(command, "commands", {}).values():
        name_values(sub)


# Where people look for payments, which are recorded with the top-level `fintrack pay`.
PAY_HINT = "Record a payment with `fintrack pay PLEDGE_ID AMOUNT --on DATE`"
PAY_ELSEWHERE = {
    "fintrack": {"payment", "payments", "disburse", "disbursement", "disbursements"},
    "fintrack pledge": {"pay", "payment", "payments", "disburse", "disbursement"},
}
NO_SUCH_COMMAND = re.compile(r"No such command '([^']*)'\.")


def _usage_message(exc: "_click.exceptions.ClickException") -> str:
    """The error's message, pointing to `fintrack pay` where someone looks for payments."""
    message = exc.format_message()
    found = NO_SUCH_COMMAND.match(message)
    ctx = getattr(exc, "ctx", None)
    if found and ctx is not None and found.group(1) in PAY_ELSEWHERE.get(ctx.command_path, ()):
        return f"{found.group(0)} {PAY_HINT}"
    return message


def _fail(message: str, code: int) -> int:
    from fintrack.cli.output import visible
    from fintrack.store import mask_text

    line = visible(" ".join(mask_text(str(message)).split()))
    print(f"Error: {line}", file=sys.stderr)
    return code


def _closed_pipe() -> int:
    """The reader of stdout went away (`fintrack ... | head -1`): stop quietly, as git does.

    Python flushes stdout once more on exit, which would fail again and print a warning;
    pointing stdout at /dev/null makes that flush a no-op.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass  # stdout is not a file (tests capture it): nothing will flush it at exit
    return 1


# Python keeps the bytes of an argument that is not valid UTF-8 as lone surrogates.
SURROGATE = re.compile("[\ud800-\udfff]")
CHECKED_ENVIRONMENT = ("FINTRACK_DATABASE_URL", "FINTRACK_ANALYST")


def _shown_bytes(text: str) -> str:
    """A text that is not valid UTF-8, with its bad bytes as \\xNN."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def _not_utf8(words: list[str]) -> tuple[str, int] | None:
    """The error for the first argument (or setting) that is not valid UTF-8, and its code.

    Checked before any command runs, so nothing is written.
    """
    for position, word in enumerate(words, start=1):
        if not SURROGATE.search(word):
            continue
        before = words[position - 2] if position > 1 else ""
        if word.startswith("--") and "=" in word:
            where = f"argument {position} (the value of {word.split('=', 1)[0]})"
        elif before.startswith("-") and len(before) > 1 and not word.startswith("-"):
            where = f"argument {position} (after {before})"
        else:
            where = f"argument {position}"
        shown = _shown_bytes(word)
        return f"{where} is not valid UTF-8 text: '{shown}'; type it again as UTF-8", 2
    for name in CHECKED_ENVIRONMENT:
        value = os.environ.get(name, "")
        if SURROGATE.search(value):
            return f"${name} is not valid UTF-8 text: '{_shown_bytes(value)}'; set it again", 1
    return None


@functools.cache
def _command(_no_shell_detection: str) -> "_click.Command":
    """The Click command tree of `app`, built once per process: Typer builds it from every
    command's signature (tens of milliseconds), which each call of main() in one process (a
    script, the tests) would pay again. Typer reads one variable while it builds the tree
    (_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION: whether the completion options take the
    shell's name), so there is one tree for each of its values."""
    import typer.main

    command = typer.main.get_command(app)
    name_values(command)
    whole_numbers(command)
    remember_commands(command)
    return command


def main(argv: list[str] | None = None) -> int:
    """Run fintrack; expected failures end as one `Error: ...` line and a non-zero code."""
    from typer import Abort
    from typer._click.exceptions import ClickException, NoArgsIsHelpError

    from fintrack.errors import FintrackError, InputError

    state.db_url = None
    state.command = None
    VIEW.__dict__.update(vars(View()))
    state.argv = list(sys.argv[1:] if argv is None else argv)
    bad = _not_utf8(state.argv)
    if bad is not None:
        return _fail(*bad)
    # NO_COLOR (https://no-color.org): Rich honours it for tables and help; the context's
    # colour setting covers what Typer prints itself (e.g. --install-completion).
    color = False if os.environ.get("NO_COLOR") else None
    try:
        command = _command(os.environ.get("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", ""))
        result = command.main(args=argv, prog_name="fintrack", standalone_mode=False, color=color)
    except NoArgsIsHelpError as exc:
        # A group without a subcommand asks for its help: Rich has printed it on stdout.
        if exc.format_message():
            print(exc.format_message())
        return 0
    except ClickException as exc:
        return _fail(_usage_message(exc), exc.exit_code)
    except InputError as exc:
        field, problem = in_options(exc)
        return _fail(f"{field}: {problem}", exc.exit_code)
    except FintrackError as exc:
        return _fail(str(exc), exc.exit_code)
    except (Abort, KeyboardInterrupt):
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return _closed_pipe()
    except SystemExit as exc:
        # Typer's completion options end the run with sys.exit.
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
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
    code = main()
    try:
        # Output still buffered is written now, while a closed pipe can be handled.
        sys.stdout.flush()
    except BrokenPipeError:
        code = _closed_pipe()
    sys.exit(code)

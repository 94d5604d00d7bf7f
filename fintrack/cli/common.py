"""What the command modules share: the database of this run, common options, value parsing."""

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from fintrack.cli.output import OutputFormat, safe, stderr_console
from fintrack.dates import parse_date
from fintrack.store import Database, default_url
from fintrack.vocab import Confidence, choices

if TYPE_CHECKING:
    from fintrack.api import Change as Writing
    from fintrack.api import Tracker
    from fintrack.errors import InputError


@dataclass
class RunState:
    """Set for each run: the database URL given with --db, if any, and the arguments."""

    db_url: str | None = None
    argv: list[str] = field(default_factory=list)
    # The command running (`pledge add`), whose options name the fields of its errors.
    command: Any = None


state = RunState()


def database() -> Database:
    return Database(state.db_url or default_url())


def tracker() -> "Tracker":
    """The tracker of this run's database (--db, else the default): what commands read and
    write through."""
    from fintrack.api import Tracker

    return Tracker(database())


def change(reason: str | None = None, analyst: str | None = None) -> "Writing":
    """This command's change, `with change(...) as ch: ch.add_pledge(...)`: one transaction,
    retried as the library retries, its history naming the command as it was typed."""
    return tracker().change(reason, analyst, command=typed_command())


def typed_command() -> str:
    """The command line of this run, for the history; a password in a URL is masked."""
    import shlex

    from fintrack.store import mask_command

    return shlex.join(["fintrack", *mask_command(state.argv)])


def cli_date(value: str | date) -> date:
    """The `parser=` of a date option or argument: `2025-06-01` or `today`. Its error names
    the option (`Error: --on: ...`, exit 1), as `whole_numbers` arranges."""
    return value if isinstance(value, date) else parse_date(value, "date")


class _Cleared(date):
    """The value of an edit's date option given as "": clear the date."""


CLEARED: date = _Cleared(1, 1, 1)


def cli_date_or_clear(value: str | date) -> date:
    """The `parser=` of an edit's date option, where "" clears the date: `CLEARED` for "",
    else a date as `cli_date` reads it."""
    if isinstance(value, str) and not value.strip():
        return CLEARED
    return cli_date(value)


def note(message: str) -> None:
    """A message for the person at the terminal, on stderr, so stdout stays clean for pipes.

    Messages carry stored and typed values, so they are never read as markup and their
    control characters are made visible.
    """
    stderr_console().print(safe(message))


WideOption = Annotated[
    bool,
    typer.Option(
        "--wide",
        "-w",
        help="Show every column with exact amounts and whole texts, however wide the lines.",
    ),
]
ColumnsOption = Annotated[
    str | None,
    typer.Option(
        "--columns",
        metavar="KEYS",
        help="Only these columns, in this order, by their CSV names: --columns id,donor,pledged.",
    ),
]
SortOption = Annotated[
    str | None,
    typer.Option(
        "--sort",
        metavar="KEYS",
        help="Sort by these columns (CSV names, comma between); -key sorts descending: "
        "--sort -pledged,donor.",
    ),
]
LimitOption = Annotated[
    int | None,
    typer.Option("--limit", metavar="N", min=0, help="Show at most N rows."),
]

Command = TypeVar("Command", bound=Callable[..., Any])


def listing(*, sort: bool = True) -> Callable[[Command], Command]:
    """Give a command that prints a listing the options of how to show it: --wide and
    --columns, and for lists --sort and --limit. The renderer reads them from `VIEW`."""
    from fintrack.cli.output import VIEW

    extra = {"wide": (WideOption, False), "columns": (ColumnsOption, None)}
    if sort:
        extra |= {"sort": (SortOption, None), "limit": (LimitOption, None)}

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command)

        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            VIEW.wide = kwargs.pop("wide")
            columns = kwargs.pop("columns")
            VIEW.columns = [columns] if columns else None
            if sort:
                order = kwargs.pop("sort")
                VIEW.sort = [order] if order else None
                VIEW.limit = kwargs.pop("limit")
            return command(*args, **kwargs)

        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=value, annotation=kind)
            for name, (kind, value) in extra.items()
        ]
        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), *added]
        )
        return run  # type: ignore[return-value]

    return decorate


def _runtime_param(descriptor: Any) -> Any:
    """Typer's coercion of a parameter, built as Typer builds it: on first use, so that a run
    pays only for the parameters of its own command."""
    from typer._coercion import build_runtime_param

    return build_runtime_param(descriptor)


@dataclass(frozen=True)
class _WholeNumbers:
    """The coercion of an integer option or argument, taking the digits 0-9 only.

    Typer reads `1_0` as 10 and a number of any size, which SQLite cannot compare with an
    id (OverflowError) and PostgreSQL neither above 2**31-1; each value is first checked by
    `parse_whole` (an id up to the largest id every engine stores), then coerced as before
    (so `min=` still applies)."""

    descriptor: Any
    what: str

    @functools.cached_property
    def inner(self) -> Any:
        return _runtime_param(self.descriptor)

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        from typer import BadParameter

        from fintrack.errors import InputError
        from fintrack.ids import MAX_ID, MAX_STORED_ID, parse_whole

        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str):
                try:
                    most = MAX_STORED_ID if self.what == "an id" else MAX_ID
                    parse_whole(item, "", self.what, signed=True, most=most)
                except InputError as exc:
                    raise BadParameter(exc.problem, ctx=ctx, param=param) from None
        return self.inner.coerce(value, param=param, ctx=ctx)


@dataclass(frozen=True)
class _Parsed:
    """The coercion of a parameter read by a `parser=` (`cli_date`): the library's InputError
    it raises names the option or argument, as the command's own checks do."""

    descriptor: Any

    @functools.cached_property
    def inner(self) -> Any:
        return _runtime_param(self.descriptor)

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        from fintrack.errors import InputError

        try:
            return self.inner.coerce(value, param=param, ctx=ctx)
        except InputError as exc:
            if param.param_type_name == "argument":
                name = str(param.metavar or (param.name or "").upper())
            else:
                name = next((o for o in param.opts if o.startswith("--")), param.opts[0])
            raise exc.of(name) from None


def whole_numbers(command: Any) -> None:
    """Give every integer option and argument of a command tree the digits 0-9 only, and at
    most the largest database integer: one usage error instead of a crash or a misreading.
    The errors of a parameter read by a `parser=` name the parameter."""
    for param in command.params:
        described = getattr(param, "type_descriptor", None)
        if described is not None and described.parameter_info.parser is not None:
            param._runtime_param = _Parsed(described)
        elif described is not None and described.annotation is int:
            name = param.name or ""
            what = "an id" if name == "id" or name.endswith(("_id", "replaces")) else "a number"
            param._runtime_param = _WholeNumbers(described, what)
    for sub in getattr(command, "commands", {}).values():
        whole_numbers(sub)


def remember_commands(command: Any) -> None:
    """Have every command of a tree note itself in `state.command` when it runs, so that its
    errors can name the fields by its options (`in_options`)."""
    subcommands = getattr(command, "commands", None)
    if subcommands is not None:
        for sub in subcommands.values():
            remember_commands(sub)
        return
    run = command.callback
    if run is None:
        return

    @functools.wraps(run)
    def running(*args: Any, **kwargs: Any) -> Any:
        state.command = command
        return run(*args, **kwargs)

    command.callback = running


# The parameters that give a field of the library's inputs where the names differ, in the
# order tried (PledgeInput.announced_on is `pledge add --on`, SanctionInput's `--announced`);
# a field is otherwise given by the parameter or the option of its own name.
OPTION_NAMES = {
    "announced_on": ("announced", "on"),
    "effective_on": ("effective",),
    "expires_on": ("expires",),
    "deadline_on": ("deadline",),
    "published_on": ("published",),
    "retrieved_on": ("retrieved",),
    "stated_on": ("on",),
    "paid_on": ("on",),
    "measures": ("measure",),
    "sources": ("source",),
    "installment_seq": ("installment",),
    "max_age": ("max_rate_age",),
    "target": ("to",),  # the currency of RateBook: `totals --in`, `rate convert --to`
    "in_": ("in",),  # the tracker's reports: `totals --in`
    "kinds": ("kind",),  # `deadlines --kind`
    "to": ("output",),  # the file of `Tracker.export`: `export --output`
}
_FIELD = re.compile(r"[a-z][a-z0-9_]*")


def _given_by(field: str, command: Any) -> str | None:
    """The option (--first-due) or argument (QUOTE) of `command` that gives `field`."""
    for name in (field, *OPTION_NAMES.get(field, ())):
        option = "--" + name.replace("_", "-")
        for param in getattr(command, "params", ()):
            if param.name != name and option not in param.opts:
                continue
            if param.param_type_name == "argument":
                return str(param.metavar or name.upper())
            return str(next((opt for opt in param.opts if opt.startswith("--")), param.opts[0]))
    return None


def option_of(field: str, mentioned: bool = False) -> str:
    """The words of the running command for a field of the library: its option or argument.

    A field the command has no parameter for keeps its name (`seed: no .toml files`), unless
    it is `mentioned` in an error's text, where it names an option of another command
    (`run fintrack source add --title ...`). A field in command-line words already (--on,
    PLEDGE_ID: the CLI's own checks) is as it is."""
    if not _FIELD.fullmatch(field):
        return field
    given = _given_by(field, state.command)
    if given is not None or not mentioned:
        return given or field
    return "--" + OPTION_NAMES.get(field, (field,))[0].replace("_", "-")


def in_options(exc: "InputError") -> tuple[str, str]:
    """An error's field and problem in the words of the running command: `--each`, and
    `... with --installments N`. The one place that maps the library's fields to options."""
    problem = exc.worded(
        lambda field, word: " ".join(filter(None, (option_of(field, mentioned=True), word)))
    )
    return option_of(exc.field), problem


FormatOption = Annotated[
    OutputFormat,
    typer.Option(
        "--format",
        "-f",
        case_sensitive=False,
        help="table for people; csv, json or jsonl (one object a line; exact amounts, "
        "no colour) for other programs.",
    ),
]


AnalystOption = Annotated[
    str | None,
    typer.Option(
        envvar="FINTRACK_ANALYST",
        help="Who makes the change, for its history. Default: $FINTRACK_ANALYST, else your "
        "login name.",
    ),
]
ReasonOption = Annotated[str | None, typer.Option(help="Why: kept in the record's history.")]
SourceOption = Annotated[
    list[str] | None,
    typer.Option(
        "--source",
        help="A source of the record (repeat for more): a URL, stored as a source on first "
        "use, or the id of a source (fintrack source list).",
    ),
]
ConfidenceOption = Annotated[
    str,
    typer.Option(
        "--confidence", help=f"How sure --source makes the record: {choices(Confidence)}."
    ),
]
MaxRateAge = Annotated[
    int,
    typer.Option(
        "--max-rate-age",
        help="Use a rate from the value date or up to this many days before it.",
    ),
]
KnownOnOption = Annotated[
    date | None,
    typer.Option(
        parser=cli_date,
        metavar="DATE",
        help="Show the records as the database held them at the end of DATE (UTC): later "
        "additions, edits and voids are left out.",
    ),
]
MinConfidenceOption = Annotated[
    str | None,
    typer.Option(
        metavar="LEVEL",
        help="Count only records whose sources make them confirmed, or at least reported "
        "(confirmed or reported); unverified and denied ones are left out.",
    ),
]


PLEDGE_DATE = "the pledge's date: announced (--on), or its first due date when it has none"
SinceOption = Annotated[
    date | None,
    typer.Option(
        "--since",
        parser=cli_date,
        metavar="DATE",
        help=f"Only pledges dated on or after DATE ({PLEDGE_DATE}), e.g. 2025-01-01.",
    ),
]
UntilOption = Annotated[
    date | None,
    typer.Option(
        "--until",
        parser=cli_date,
        metavar="DATE",
        help="Only pledges dated on or before DATE (the same date as --since), e.g. 2025-06-30.",
    ),
]


def plural(n: int, word: str, words: str | None = None) -> str:
    """A count with its noun in agreement: `1 pledge`, `2 pledges`, `1,234 rows`.

    `words` is the plural where adding an s is wrong (`entry`, `entries`).
    """
    return f"{n:,} {word if n == 1 else words or word + 's'}"

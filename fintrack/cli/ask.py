"""Guided entry: a person at a terminal is asked, one question at a time, for what is missing."""

import functools
import sys
from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any, ParamSpec, TypeVar

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

T = TypeVar("T")
P = ParamSpec("P")
E = TypeVar("E", bound=StrEnum)

NoInputOption = Annotated[
    bool,
    typer.Option(
        "--no-input",
        help="Never ask for a missing value: fail as a script expects. Values are asked for only "
        "when stdin and stderr are a terminal.",
    ),
]
# Known values shown in a question: enough to jog the memory, few enough to fit a line or two.
SHOWN = 12
SHOWN_WIDTH = 40


def can_ask(no_input: bool) -> bool:
    """Whether a person is there to answer: stdin and stderr are a terminal and --no-input
    was not given. Questions go to stderr, so stdout still carries only the result."""
    return not no_input and sys.stdin.isatty() and sys.stderr.isatty()


def given(ctx: typer.Context, name: str) -> bool:
    """Whether the parameter `name` was given (on the command line or in the environment)
    rather than left to its default."""
    from typer._click.core import ParameterSource  # typer >= 0.29 vendors click

    source = ctx.get_parameter_source(name)
    return source is not None and source is not ParameterSource.DEFAULT


def guided(ctx: typer.Context, no_input: bool, *, lacking: bool, **required: object) -> bool:
    """Whether to ask for the values: True when one of `required` is None (or the command
    `lacking` something else it needs) and a person can answer.

    Without a person, the first missing value of `required` (in the order given, that of the
    command's parameters) fails exactly as the parser fails for a missing option or argument,
    with exit 2; what `lacking` stands for is left to the command's own check.
    """
    missing = [name for name, value in required.items() if value is None]
    if not missing and not lacking:
        return False
    if can_ask(no_input):
        return True
    if missing:
        from typer._click.exceptions import MissingParameter

        param = next(p for p in ctx.command.params if p.name == missing[0])
        raise MissingParameter(ctx=ctx, param=param)  # type: ignore[arg-type]
    return False


def _console() -> Any:
    from fintrack.cli.output import stderr_console

    return stderr_console()


def interruptible(flow: Callable[P, T]) -> Callable[P, T]:
    """Ctrl-C at any moment of a flow of questions (not only while a line is read: also while
    a question is printed or the database is read) ends as `Error: interrupted`."""

    @functools.wraps(flow)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return flow(*args, **kwargs)
        except KeyboardInterrupt:
            print(file=sys.stderr)
            raise typer.Abort() from None

    return run


def _read(console: Any, prompt: Any) -> str:
    """One line typed at the terminal; Ctrl-D or Ctrl-C abort the command, nothing written."""
    try:
        console.print(prompt, end="")
        console.file.flush()
        line = sys.stdin.readline()
    except KeyboardInterrupt:
        line = ""
    if not line.endswith("\n"):
        # The terminal did not echo a line break for Ctrl-D or Ctrl-C: end the question's line
        # so that the error stands on a line of its own.
        console.print()
        raise typer.Abort()
    return line.strip()


def _why(exc: Exception) -> str:
    """The explanation of an answer refused: the error's problem, without the field."""
    from fintrack.cli.common import in_options
    from fintrack.errors import InputError

    return in_options(exc)[1] if isinstance(exc, InputError) else str(exc)


def _some(values: Sequence[str]) -> str:
    """The first known values, as many as fit in about half a line of an 80-column terminal."""
    shown: list[str] = []
    for value in values[:SHOWN]:
        if shown and len(", ".join([*shown, value])) > SHOWN_WIDTH:
            break
        shown.append(value)
    return ", ".join(shown) + (", …" if len(shown) < len(values) else "")


def ask(
    question: str,
    parse: Callable[[str], T],
    *,
    default: str | None = None,
    hint: str | None = None,
    known: Sequence[str] = (),
    optional: bool = False,
    left_out: str | None = None,
) -> T | None:
    """Ask until the answer parses; return what `parse` makes of it.

    Enter takes the `default` (shown in brackets) or, for an `optional` question, leaves
    the value out; "-" leaves out an optional value that has a default. `known` values
    (from the database, so shown escaped) are offered, and an answer that matches one but
    for case takes its spelling. An answer `parse` refuses gets a one-line reason and the
    question again. `left_out` says how to leave an optional value out and what that does.
    """
    from rich.text import Text

    from fintrack.cli.output import safe
    from fintrack.errors import FintrackError

    console = _console()
    prompt = Text(question)
    notes = [hint] if hint else []
    if known:
        notes.append(f"known: {_some(known)}")
    if optional:
        notes.append(left_out or ("Enter to leave out" if default is None else "- to leave out"))
    if notes:
        prompt.append(" (")
        prompt.append_text(safe("; ".join(notes)))
        prompt.append(")")
    if default is not None:
        prompt.append(" [")
        prompt.append_text(safe(default))
        prompt.append("]")
    prompt.append(": ")
    spelling = {value.casefold(): value for value in known}
    while True:
        answer = _read(console, prompt)
        if not answer:
            if default is None:
                if optional:
                    return None
                console.print(Text("  An answer is needed (Ctrl-D to give up).", style="yellow"))
                continue
            answer = default
        elif optional and answer == "-":
            return None
        answer = spelling.get(answer.casefold(), answer)
        try:
            return parse(answer)
        except FintrackError as exc:
            console.print(Text("  ", style="yellow").append_text(safe(_why(exc))))


def ask_text(
    question: str,
    field: str,
    *,
    known: Sequence[str] = (),
    hint: str | None = None,
    default: str | None = None,
) -> str:
    """A required piece of text, such as a donor's name."""
    from fintrack.text import required

    value = ask(
        question, lambda text: required(text, field), known=known, hint=hint, default=default
    )
    assert value is not None
    return value


def ask_optional_text(question: str, *, known: Sequence[str] = (), hint: str | None = None) -> Any:
    """Text that may be left out: None when it is."""
    return ask(question, lambda text: text, known=known, hint=hint, optional=True)


def ask_choice(question: str, kind: type[E], field: str, default: E | None = None) -> E:
    """One value of a vocabulary, its values listed."""
    from fintrack.vocab import choices, parse_choice

    value = ask(
        question,
        lambda text: parse_choice(kind, text, field),
        hint=choices(kind),
        default=None if default is None else default.value,
    )
    assert value is not None
    return value


def ask_date(
    question: str,
    field: str,
    *,
    default: date | None = None,
    optional: bool = False,
    left_out: str | None = None,
) -> date | None:
    """A date, YYYY-MM-DD (or `today`)."""
    from fintrack.dates import parse_date

    return ask(
        question,
        lambda text: parse_date(text, field),
        hint="YYYY-MM-DD",
        default=None if default is None else default.isoformat(),
        optional=optional,
        left_out=left_out,
    )


def ask_count(question: str, field: str, default: int = 1) -> int:
    """A whole number of at least 1."""
    from fintrack.errors import InputError

    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise InputError(field, f"'{text}' is not a whole number of at least 1")
        return int(text)

    value = ask(question, parse, default=str(default))
    assert value is not None
    return value


@interruptible
def confirm(question: str) -> bool:
    """A yes-or-no question whose answer is no unless the person says yes."""
    from fintrack.errors import InputError

    def parse(text: str) -> bool:
        word = text.lower()
        if word in ("y", "yes"):
            return True
        if word in ("n", "no"):
            return False
        raise InputError("answer", f"'{text}' is not y or n")

    from rich.text import Text

    from fintrack.cli.output import safe

    console = _console()
    prompt = Text(question).append(" [y/N]: ")
    while True:
        answer = _read(console, prompt) or "n"
        try:
            return parse(answer)
        except InputError as exc:
            console.print(Text("  ", style="yellow").append_text(safe(_why(exc))))


def say(text: str) -> None:
    """A line for the person answering, such as a list to choose from (escaped: it carries
    stored values)."""
    from fintrack.cli.output import safe

    _console().print(safe(text))


def known_values(session: "Session", column: Any, limit: int = 100) -> list[str]:
    """The distinct values of a column of records that are not voided, the most used first:
    the donors, recipients, authorities ... a person is likely to type again."""
    from sqlalchemy import func, select

    from fintrack.known import NOW

    entity = NOW.of(column.class_)
    attribute = getattr(entity, column.key)
    query = (
        select(attribute)
        .where(attribute.is_not(None))
        .group_by(attribute)
        .order_by(func.count().desc(), attribute)
        .limit(limit)
    )
    return [str(value) for value in session.scalars(query)]


def _source(text: str) -> str:
    """A source named by its id (which must exist) or by a URL (stored when the record is)."""
    from fintrack.cli.common import database
    from fintrack.errors import InputError, NotFound
    from fintrack.models import Source
    from fintrack.sources import is_url

    number = text.removeprefix("#")
    if number.isdigit():
        with database().session() as session:
            if session.get(Source, int(number)) is None:
                raise NotFound("source", int(number))
    elif not is_url(text):
        raise InputError("--source", f"'{text}' is neither a URL nor a source id")
    return text


def _ask_source(ctx: typer.Context, values: dict[str, Any]) -> None:
    """The source (one, optional) and, for a source given, how sure it makes the record."""
    from fintrack.vocab import Confidence, parse_choice

    if not given(ctx, "source"):
        answer = ask("Source", _source, hint="URL or source id", optional=True)
        values["source"] = [answer] if answer else None
    if values["source"] and not given(ctx, "level"):
        default = parse_choice(Confidence, values["level"], "--confidence")
        values["level"] = ask_choice("Confidence", Confidence, "--confidence", default).value


@interruptible
def ask_pledge(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """Ask for each field of `pledge add` not given on the command line; `values` holds the
    command's parameters by name and comes back with the answers, as they would be typed."""
    from fintrack.cli.common import database
    from fintrack.models import Pledge
    from fintrack.money import normalize_currency, parse_amount
    from fintrack.vocab import Period, PledgeStatus, parse_choice

    with database().session() as session:
        donors = known_values(session, Pledge.donor)
        recipients = known_values(session, Pledge.recipient)
        currencies = known_values(session, Pledge.currency)
    if not given(ctx, "donor"):
        values["donor"] = ask_text("Donor", "--donor", known=donors)
    if not given(ctx, "recipient"):
        values["recipient"] = ask_text("Recipient", "--recipient", known=recipients)
    if not given(ctx, "currency"):
        answer = ask(
            "Currency",
            lambda text: normalize_currency(text, "--currency"),
            hint="ISO 4217 code",
            known=currencies,
            default=currencies[0] if currencies else None,
        )
        values["currency"] = answer
    currency = normalize_currency(values["currency"], "--currency")
    if values["amount"] is None and values["each"] is None:

        def total(text: str) -> str:
            parse_amount(text, currency, "--amount")
            return text

        values["amount"] = ask(
            f"Total amount in {currency}", total, hint="87000000, 87,000,000, 87M, 1.5bn"
        )
    if not given(ctx, "installments"):
        values["installments"] = ask_count("Installments", "--installments")
    if (values["installments"] or 1) > 1 and not given(ctx, "every"):
        values["every"] = ask_choice("Every", Period, "--every", Period.MONTH).value
    if not given(ctx, "on"):
        announced = ask_date(
            "Announced on",
            "--on",
            default=date.today(),
            optional=values["first_due"] is not None,
        )
        values["on"] = None if announced is None else announced.isoformat()
    if not given(ctx, "first_due"):
        first = ask_date(
            "First due",
            "--first-due",
            optional=values["on"] is not None,
            left_out="Enter: the date announced, marked assumed",
        )
        values["first_due"] = None if first is None else first.isoformat()
    if not given(ctx, "status"):
        default = parse_choice(PledgeStatus, values["status"], "--status")
        values["status"] = ask_choice("Status", PledgeStatus, "--status", default).value
    if not given(ctx, "purpose"):
        values["purpose"] = ask_optional_text("Purpose")
    _ask_source(ctx, values)
    return values


@interruptible
def ask_sanction(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """Ask for each field of `sanction add` not given on the command line (see `ask_pledge`)."""
    from fintrack.cli.common import database
    from fintrack.models import SanctionAction, SanctionMeasure
    from fintrack.vocab import SanctionActionKind, SanctionStatus

    with database().session() as session:
        authorities = known_values(session, SanctionAction.authority)
        programs = known_values(session, SanctionAction.program)
        targets = known_values(session, SanctionAction.target)
        measures = known_values(session, SanctionMeasure.measure)
    if not given(ctx, "authority"):
        values["authority"] = ask_text(
            "Authority", "--authority", known=authorities, hint=None if authorities else "EU, US…"
        )
    if not given(ctx, "program"):
        values["program"] = ask_optional_text("Program", known=programs, hint="such as EU-SYR")
    if not given(ctx, "target"):
        values["target"] = ask_text(
            "Target", "--target", known=targets, hint="ISO 3166 code or a named entity"
        )
    if not given(ctx, "action"):
        values["action"] = ask_choice("Action", SanctionActionKind, "--action").value
    if not given(ctx, "measure"):
        answer = ask_optional_text("Measures", known=measures, hint="separated by commas")
        parts = [part.strip() for part in (answer or "").split(",")]
        values["measure"] = [part for part in parts if part] or None
    dates = [
        ("announced", "Announced on", "--announced", date.today()),
        ("effective", "Takes effect on", "--effective", None),
    ]
    for name, question, option, default in dates:
        if not given(ctx, name):
            day = ask_date(question, option, default=default, optional=True)
            values[name] = day
    if not given(ctx, "status"):
        status = SanctionStatus.IN_FORCE if values["effective"] else SanctionStatus.ANNOUNCED
        values["status"] = ask_choice("Status", SanctionStatus, "--status", status).value
    for name, question, option in [
        ("expires", "Expires on", "--expires"),
        ("deadline", "Deadline to watch", "--deadline"),
    ]:
        if not given(ctx, name):
            day = ask_date(question, option, optional=True)
            values[name] = day
    if values["deadline"] and not given(ctx, "deadline_label"):
        values["deadline_label"] = ask_optional_text("What happens on the deadline")
    if not given(ctx, "legal_ref"):
        values["legal_ref"] = ask_optional_text("Legal reference")
    if not given(ctx, "summary"):
        values["summary"] = ask_optional_text("Summary")
    _ask_source(ctx, values)
    return values


@interruptible
def ask_payment(ctx: typer.Context, values: dict[str, Any]) -> dict[str, Any]:
    """Ask for what `pay` lacks: the pledge (the open ones listed with what is outstanding),
    the amount (the next installment's outstanding amount by default) and the date (today)."""
    from fintrack.cli.common import database
    from fintrack.errors import InputError, NotFound, Refused
    from fintrack.models import Pledge
    from fintrack.money import format_amount, parse_amount
    from fintrack.pledges import PledgeFilter, installment_rows, iter_pledges

    force = bool(values["force"])
    if values["pledge_id"] is None:
        with database().session() as session:
            open_rows = [
                row
                for row in iter_pledges(session, PledgeFilter())
                if row["outstanding"] > 0 and row["replaced_by"] is None
            ]
        if not open_rows and not force:
            raise Refused("no pledge has money outstanding (see fintrack pledge list)")
        say("Open pledges (id, donor → recipient, outstanding):")
        for row in open_rows[-SHOWN:]:
            money = format_amount(row["outstanding"], row["currency"])
            say(f"  {row['id']}  {row['donor']} → {row['recipient']}  {row['currency']} {money}")
        if len(open_rows) > SHOWN:
            say(f"  … and {len(open_rows) - SHOWN} more (fintrack pledge list)")
        open_ids = {row["id"] for row in open_rows}

        def pledge_id(text: str) -> int:
            if not text.isdigit():
                raise InputError("PLEDGE_ID", f"'{text}' is not a pledge id")
            number = int(text)
            if number in open_ids:
                return number
            with database().session() as session:
                if session.get(Pledge, number) is None:
                    raise NotFound("pledge", number)
            if force:
                return number
            raise InputError("PLEDGE_ID", f"pledge {number} has nothing outstanding to pay")

        only = str(open_rows[0]["id"]) if len(open_rows) == 1 else None
        values["pledge_id"] = ask("Pledge id", pledge_id, default=only)
    if values["amount"] is None:
        with database().session() as session:
            pledge = session.get(Pledge, values["pledge_id"])
            if pledge is None:
                raise NotFound("pledge", values["pledge_id"])
            currency = pledge.currency
            schedule = installment_rows(session, date.today(), pledge.id)
        left = sum(row["outstanding"] for row in schedule if row["outstanding"] > 0)
        # The default is what the next installment still lacks (or the one named).
        due = [
            row["outstanding"]
            for row in schedule
            if row["outstanding"] > 0 and values["installment"] in (None, row["seq"])
        ]

        def amount(text: str) -> str:
            minor = parse_amount(text, currency, "AMOUNT")
            if minor > left and not force:
                raise InputError(
                    "AMOUNT",
                    f"{currency} {format_amount(minor, currency)} exceeds the {currency} "
                    f"{format_amount(left, currency)} outstanding (use --force to record it)",
                )
            return text

        values["amount"] = ask(
            f"Amount paid in {currency}",
            amount,
            default=format_amount(due[0], currency) if due else None,
        )
    if values["on"] is None:
        paid_on = ask_date("Paid on", "--on", default=date.today())
        assert paid_on is not None
        values["on"] = paid_on.isoformat()
    _ask_source(ctx, values)
    return values

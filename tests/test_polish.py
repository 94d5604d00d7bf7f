"""The small things a careful CLI gets right: help, counts, metavars, completion, colour, pipes."""

import os
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import QATAR, Run, added, assert_error

GROUPS = ["sanction", "pledge", "source", "claim", "rate", "db"]


# 1. A group without a subcommand is a request for its help.


@pytest.mark.parametrize("group", [(), *((g,) for g in GROUPS)], ids=lambda g: " ".join(g) or "-")
def test_a_group_without_a_subcommand_prints_its_help_and_succeeds(
    run: Run, group: tuple[str, ...]
) -> None:
    result = run(*group)
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.lstrip().startswith("Usage: " + " ".join(("fintrack", *group)) + " ")
    assert "Commands" in result.out


# 2. Counts agree in number.


def test_plural_agrees_in_number_and_separates_thousands() -> None:
    from fintrack.cli.common import plural

    assert plural(0, "pledge") == "0 pledges"
    assert plural(1, "pledge") == "1 pledge"
    assert plural(2, "sanction action") == "2 sanction actions"
    assert plural(1, "bad row") == "1 bad row"
    assert plural(1234567, "row") == "1,234,567 rows"
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"


def test_seed_says_one_pledge_and_one_claim(run: Run) -> None:
    result = run("seed")
    assert result.code == 0, result.err
    assert result.err.endswith(
        ": 13 sanction actions, 1 pledge, 1 claim and 13 sources added, 0 records already present\n"
    ), result.err


def test_export_of_one_row_says_one_row(run: Run, tmp_path: Path) -> None:
    added(run, *QATAR)
    target = tmp_path / "p.csv"
    result = run("export", "pledges", "-o", str(target))
    assert result.code == 0, result.err
    assert result.err == f"Wrote 1 row of pledges to {target}\n"


def test_import_says_one_bad_row(run: Run, tmp_path: Path) -> None:
    path = tmp_path / "rates.csv"
    path.write_text("base,quote,on,rate,source\nEUR,USD,2025-05-08,1.1,ECB\nEUR,USD,x,1,ECB\n")
    rejects = tmp_path / "rejects.csv"
    result = run("import", "rates", str(path), "--on-error", "skip", "--rejects", str(rejects))
    assert result.code == 0, result.err
    assert result.err.endswith(
        f": 1 rate added, nothing already present; 1 bad row rejected, written to {rejects}\n"
    ), result.err


def test_deadlines_within_one_day_says_one_day(run: Run) -> None:
    result = run("deadlines", "--as-of", "2025-01-01", "--within", "1")
    assert result.code == 0, result.err
    shown = result.out + result.err
    assert "and 1 day later" in shown, shown
    assert "1 days" not in shown


# 3 and 4. export writes to stdout without -o, and offers only the formats it writes.


def test_export_without_output_writes_to_stdout(run: Run) -> None:
    added(run, *QATAR)
    result = run("export", "pledges")
    assert result.code == 0, result.err
    assert result.err == ""
    assert result.out.startswith("id,donor,recipient,")
    assert result.out == run("export", "pledges", "-o", "-").out
    assert run("export", "installments", "--format", "jsonl").out.count("\n") == 3


def test_export_offers_csv_json_and_jsonl_only(run: Run) -> None:
    help_text = run("export", "--help").out
    assert "csv|json|jsonl" in help_text
    assert "table" not in help_text
    assert "[required]" not in help_text.split("Options", 1)[1]
    assert_error(run("export", "pledges", "--format", "table"), "Invalid value for '--format'")


# 5. Help shows words for values, not Python types.


def _help(run: Run, *command: str) -> str:
    result = run(*command, "--help")
    assert result.code == 0, result.err
    return result.out


def _commands() -> list[tuple[str, ...]]:
    import typer.main
    from typer.core import TyperGroup

    from fintrack.cli import app

    found: list[tuple[str, ...]] = [()]

    def walk(group: TyperGroup, path: tuple[str, ...]) -> None:
        for name, command in group.commands.items():
            found.append((*path, name))
            if isinstance(command, TyperGroup):
                walk(command, (*path, name))

    root = typer.main.get_command(app)
    assert isinstance(root, TyperGroup)
    walk(root, ())
    return found


@pytest.mark.parametrize("command", _commands(), ids=lambda c: " ".join(c) or "-")
def test_help_shows_words_not_python_types(
    run: Run, command: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    text = _help(run, *command)
    for python_type in ("<str>", "<int>", "<bool>", "<list", "<path>", "<float>"):
        assert python_type not in text, (python_type, text)
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage


@pytest.mark.parametrize(
    ("command", "option", "word"),
    [
        (("pledge", "add"), "--on", "DATE"),
        (("pledge", "add"), "--first-due", "DATE"),
        (("pledge", "add"), "--amount", "AMOUNT"),
        (("pledge", "add"), "--each", "AMOUNT"),
        (("pledge", "add"), "--currency", "CUR"),
        (("pledge", "add"), "--installments", "N"),
        (("pledge", "add"), "--replaces", "ID"),
        (("pledge", "add"), "--source", "SOURCE"),
        (("pledge", "add"), "--donor", "TEXT"),
        (("sanction", "add"), "--announced", "DATE"),
        (("sanction", "add"), "--expires", "DATE"),
        (("sanction", "list"), "--since", "DATE"),
        (("source", "add"), "--url", "URL"),
        (("source", "add"), "--published", "DATE"),
        (("rate", "list"), "--from", "DATE"),
        (("rate", "list"), "--to", "DATE"),
        (("rate", "convert"), "--to", "CUR"),
        (("totals",), "--in", "CUR"),
        (("totals",), "--known-on", "DATE"),
        (("totals",), "--min-confidence", "LEVEL"),
        (("totals",), "--rates-on", "DATE"),
        (("deadlines",), "--within", "DAYS"),
        (("deadlines",), "--as-of", "DATE"),
        (("import",), "--rejects", "FILE"),
        (("export",), "--output", "FILE"),
        (("seed",), "--folder", "DIR"),
        (("pay",), "--installment", "N"),
        ((), "--db", "URL"),
        (("totals",), "--format", "FORMAT"),
        (("import",), "--on-error", "stop|skip"),
    ],
)
def test_an_option_shows_the_word_for_its_value(
    run: Run, command: tuple[str, ...], option: str, word: str
) -> None:
    text = _help(run, *command)
    assert re.search(rf"{re.escape(option)}(\s+-\w)?\s+{word}\s", text), (option, word, text)


def test_flags_show_no_value_and_arguments_read_as_words(run: Run) -> None:
    text = _help(run, "pay")
    # Optional to Typer (a person at a terminal is asked for them), required in the help.
    assert "Usage: fintrack pay [OPTIONS] [PLEDGE_ID] [AMOUNT]" in text
    assert re.search(r"AMOUNT\s+The amount paid.*\[required\]", text), text
    assert re.search(r"--force\s+Record a payment", text), text
    assert re.search(r"--help\s+-h\s+Show this message", text), text
    assert re.search(r"PLEDGE_ID\s+ID\s+The pledge", text), text
    assert re.search(r"AMOUNT\s+The amount paid", text), text
    rate = _help(run, "rate", "add")
    assert "Usage: fintrack rate add [OPTIONS] BASE QUOTE RATE" in rate
    assert re.search(r"BASE\s+CUR\s+The currency priced", rate), rate
    assert re.search(r"--replace\s+--no-replace\s+Change the rate", rate), rate
    assert_error(run("pay", "1"), "Missing argument 'AMOUNT'")


def test_words_are_filled_in_for_options_added_later_and_an_explicit_metavar_wins() -> None:
    from typing import Annotated

    import typer
    import typer.main

    from fintrack.cli import name_values

    later = typer.Typer(add_completion=False)

    @later.command()
    def anything(
        record_id: int,
        deadline: Annotated[str, typer.Option()],
        each: Annotated[str, typer.Option()],
        count: Annotated[int, typer.Option()] = 1,
        expires: Annotated[str, typer.Option(metavar="WHEN")] = "",
        strict: Annotated[bool, typer.Option()] = False,
    ) -> None:
        """Nothing."""

    command = typer.main.get_command(later)
    name_values(command)
    metavars = {p.name: p.metavar for p in command.params}
    assert metavars == {
        "record_id": "RECORD_ID",
        "deadline": "DATE",
        "each": "AMOUNT",
        "count": "N",
        "expires": "WHEN",
        "strict": "",
    }


# 6. Shell completion.


def test_completion_can_be_installed_and_shown(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _help(run)
    assert "--install-completion" in text and "--show-completion" in text
    from fintrack import __version__

    assert run("--version").out == f"fintrack {__version__}\n"
    # Name the shell instead of detecting it, so this works without a real shell.
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    result = run("--show-completion", "bash")
    assert result.code == 0, result.err
    assert "_FINTRACK_COMPLETE=complete_bash" in result.out
    assert "complete -o default -F _fintrack_completion fintrack" in result.out


def test_completion_completes_commands(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_FINTRACK_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", "fintrack ple")
    monkeypatch.setenv("COMP_CWORD", "1")
    result = run()
    assert result.code == 0, result.err
    assert result.out.split() == ["pledge"]


# 7. Payments are recorded with `fintrack pay`, wherever people look for them.

PAY_HINT = "Record a payment with `fintrack pay PLEDGE_ID AMOUNT --on DATE`"


@pytest.mark.parametrize(
    ("args", "name"),
    [
        (("pledge", "pay", "1", "29M", "--on", "2025-06-10"), "pay"),
        (("pledge", "payment"), "payment"),
        (("payment", "add", "1", "29M"), "payment"),
        (("payment",), "payment"),
        (("payments",), "payments"),
    ],
)
def test_paying_elsewhere_points_to_fintrack_pay(
    run: Run, args: tuple[str, ...], name: str
) -> None:
    result = run(*args)
    assert_error(result)
    assert result.code == 2
    assert result.err == f"Error: No such command '{name}'. {PAY_HINT}\n"


# 8. NO_COLOR: no colour anywhere, even on a terminal with FORCE_COLOR.

SGR = re.compile(r"\x1b\[([0-9;]*)m")


def _colours(text: str) -> list[str]:
    """The SGR sequences in text that set a colour (foreground or background)."""
    found = []
    for match in SGR.finditer(text):
        codes = [int(c) for c in match.group(1).split(";") if c]
        if any(30 <= c <= 49 or 90 <= c <= 107 for c in codes):
            found.append(match.group(0))
    return found


def _in_terminal(args: list[str], env: dict[str, str], timeout: float = 60) -> tuple[int, str]:
    """Run fintrack in a pseudo-terminal; its exit code and everything it wrote."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.execve(sys.executable, [sys.executable, "-m", "fintrack", *args], env)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                if os.waitpid(pid, os.WNOHANG) != (0, 0):
                    break
                continue
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), b"".join(chunks).decode("utf-8", "replace")


def _terminal_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A colour terminal, with FORCE_COLOR set too, and a home of its own for completion."""
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    env.update(TERM="xterm-256color", FORCE_COLOR="1", PAGER="cat", COLUMNS="120")
    env.update(HOME=str(tmp_path / "home"), **extra)
    return env


def test_no_color_means_no_colour_in_a_terminal(run: Run, tmp_path: Path) -> None:
    added(run, *QATAR)
    (tmp_path / "home").mkdir()
    # Without NO_COLOR the help is coloured, so the check below can see colour.
    code, shown = _in_terminal(["--help"], _terminal_env(tmp_path))
    assert code == 0 and _colours(shown), shown
    env = _terminal_env(tmp_path, NO_COLOR="1", _TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION="1")
    for args, expected in [
        (["pledge", "add", "--help"], 0),
        (["pledge", "list"], 0),  # a table: depends on the table renderer
        (["totals"], 0),
        (["pledge", "show", "99"], 1),
        (["pledge", "list", "--format", "xml"], 2),
        (["--install-completion", "bash"], 0),
    ]:
        code, shown = _in_terminal(args, env)
        assert code == expected, (args, shown)
        assert shown.strip(), args
        assert _colours(shown) == [], (args, shown)


# 9. A closed pipe ends the command quietly, as it does git.


@pytest.mark.parametrize("unbuffered", [False, True], ids=["buffered", "unbuffered"])
@pytest.mark.parametrize(
    "args",
    [("sanction", "list", "--format", "csv"), ("export", "pledges"), ("--version",), ("--help",)],
    ids=" ".join,
)
def test_a_closed_pipe_ends_quietly(run: Run, args: tuple[str, ...], unbuffered: bool) -> None:
    assert run("seed").code == 0
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written, as with `| head -0`
    try:
        process = subprocess.run(
            [sys.executable, "-m", "fintrack", *args],
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)
    assert process.stderr == ""
    assert process.returncode == 1


def test_head_takes_the_first_line_quietly(run: Run) -> None:
    assert run("seed").code == 0
    command = f"{sys.executable} -m fintrack sanction list --format csv | head -1"
    process = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert process.stdout.startswith("id,")
    assert process.stdout.count("\n") == 1
    assert process.stderr == ""

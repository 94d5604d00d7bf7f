"""The command line as a whole: help, version, start-up cost and errors without tracebacks."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from fintrack import __version__
from tests.conftest import Run, assert_error

COMMANDS = [
    ("sanction", "add"), ("sanction", "list"), ("sanction", "show"),
    ("pledge", "add"), ("pledge", "list"), ("pledge", "show"), ("pay",),
    ("totals",), ("deadlines",), ("export",), ("seed",),
    ("db", "path"), ("db", "current"), ("db", "upgrade"),
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_help_has_an_example(run: Run, command: tuple[str, ...]) -> None:
    result = run(*command, "--help")
    assert result.code == 0
    assert "Usage: fintrack " + " ".join(command) in result.out
    assert "Example" in result.out
    assert "fintrack " + command[0] in result.out.split("Example", 1)[1]


def test_root_help_lists_the_commands(run: Run) -> None:
    result = run("--help")
    assert result.code == 0
    for name in ("sanction", "pledge", "pay", "totals", "deadlines", "export", "seed", "db"):
        assert f" {name} " in result.out


def test_version(run: Run) -> None:
    from fintrack import __version__

    assert run("--version").out == f"fintrack {__version__}\n"


def test_unknown_command_and_option_are_one_error_line(run: Run) -> None:
    assert_error(run("frobnicate"), "No such command 'frobnicate'")
    assert_error(run("pledge", "list", "--colour"), "No such option: --colour")
    assert_error(run("pledge", "add", "--donor", "Qatar"), "Missing option")
    assert_error(run("pledge", "show", "one"), "Invalid value for 'ID'", "'one' is not an id")
    assert_error(run("pledge", "list", "--format", "xml"), "--format")


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FINTRACK_DATABASE_URL": f"sqlite:///{tmp_path / 'sub.db'}"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def test_help_does_not_import_sqlalchemy_or_alembic(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from fintrack.cli import main\n"
        "assert main(['--help']) == 0\n"
        "assert main(['pledge', 'add', '--help']) == 0\n"
        "print(sorted(m for m in ('sqlalchemy', 'alembic') if m in sys.modules))\n"
    )
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("[]")


def test_version_and_help_load_only_what_they_show(tmp_path: Path) -> None:
    # --version prints the version written in the package, without importlib.metadata; the
    # coercions of the options (built with pydantic) are built for the command that runs only.
    code = (
        "import sys\n"
        "from fintrack.cli import main\n"
        "assert main(['--version']) == 0\n"
        "assert main(['--help']) == 0\n"
        "heavy = ('importlib.metadata', 'typer._adapters', 'pydantic')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    result = _python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].startswith("fintrack ")
    assert result.stdout.strip().endswith("[]")


def test_the_program_answers_version_before_loading_the_command_line(tmp_path: Path) -> None:
    # The console script (and `python -m fintrack`) is fintrack.launch:entry, which prints the
    # version without importing Typer, Click or the command modules when only the program's
    # own options come with --version; anything else goes to the command line.
    code = (
        "import atexit, sys\n"
        "heavy = ('typer', 'click', 'fintrack.cli', 'sqlalchemy')\n"
        "atexit.register(lambda: print(sorted(m for m in heavy if m in sys.modules),"
        " file=sys.stderr))\n"
        "sys.argv = ['fintrack', *sys.argv[1:]]\n"
        "from fintrack.launch import entry\n"
        "entry()\n"
    )
    db = str(tmp_path / "x.db")
    for words in (
        ["--version"],
        ["--db", db, "--version"],
        ["--no-pager", f"--db={db}", "--version"],
    ):
        fast = subprocess.run(
            [sys.executable, "-c", code, *words], capture_output=True, text=True, check=False
        )
        assert (fast.returncode, fast.stdout, fast.stderr) == (
            0, f"fintrack {__version__}\n", "[]\n"
        ), words  # fmt: skip
    full = subprocess.run(
        [sys.executable, "-c", code, "--version", "--help"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert (full.returncode, full.stdout) == (0, f"fintrack {__version__}\n")
    assert "'fintrack.cli'" in full.stderr
    missing = subprocess.run(
        [sys.executable, "-c", code, "--version", "--db"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2 and "'--db' requires an argument" in missing.stderr
    assert not (tmp_path / "x.db").exists()
    script = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert script["project"]["scripts"] == {"fintrack": "fintrack.launch:entry"}


def test_console_script_reports_bad_input_without_traceback(tmp_path: Path) -> None:
    env = {**os.environ, "FINTRACK_DATABASE_URL": f"sqlite:///{tmp_path / 'script.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "fintrack", "pledge", "add", "--donor", "Qatar", "--recipient",
         "Syria", "--currency", "USD", "--amount", "lots", "--on", "2025-05-08"],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == (
        "Error: --amount: 'lots' is not an amount; use a positive number in the digits 0-9 "
        "such as 29000000, 29,000,000, 29M, 1.5bn or 29000000.50 (a dot is the decimal point; "
        "a comma may separate thousands)\n"
    )


def test_unexpected_errors_are_one_line_unless_debugging(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fintrack.api import Tracker

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(Tracker, "deadlines_report", broken)
    result = run("deadlines")
    assert result.code == 70
    assert (
        result.err
        == "Error: unexpected RuntimeError: boom (set FINTRACK_DEBUG=1 for a traceback)\n"
    )
    monkeypatch.setenv("FINTRACK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        run("deadlines")

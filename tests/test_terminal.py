"""Reports as a person sees them: run in a real terminal (tmux) at 80, 100, 120 and 160 columns."""

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fintrack.money import compact_amount, format_amount
from tests.conftest import Run, skip_unless_ci

WIDTHS = (80, 100, 120, 160)


class Terminal:
    """A tmux server of the test's own, whose windows are real terminals of a given size."""

    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"fintrack-test-{uuid.uuid4().hex[:12]}"
        self.env = env
        # A session that lives as long as the fixture keeps the server up between screens.
        self.tmux("new-session", "-d", "-s", "keep", "sleep 3600")

    def tmux(self, *args: str, timeout: float = 60) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
            env=self.env,
        ).stdout

    def screen(
        self, width: int, *args: str, height: int = 200, env: dict[str, str] | None = None
    ) -> list[str]:
        """What `fintrack ARGS` shows in a terminal `width` columns wide, wrapped lines joined
        (so a line wider than the terminal shows as one long line)."""
        return self.screens(width, [args], height=height, env=env)[0]

    def screens(
        self,
        width: int,
        commands: list[tuple[str, ...]],
        height: int = 200,
        env: dict[str, str] | None = None,
    ) -> list[list[str]]:
        """What each `fintrack ARGS` of `commands` shows, as `screen` says, each in a terminal
        of its own: they run at the same time (each is a process that starts Python)."""
        # The server's environment is the one it started with: more goes in with -e.
        extra = [f"-e{key}={value}" for key, value in (env or {}).items()]
        started: list[tuple[str, str]] = []
        try:
            for args in commands:
                signal = f"done-{uuid.uuid4().hex[:8]}"
                command = (
                    " ".join([sys.executable, "-m", "fintrack", *(f"'{a}'" for a in args)])
                    + f"; tmux -L {self.socket} wait-for -S {signal}; sleep 60"
                )
                name = f"w{uuid.uuid4().hex[:6]}"
                self.tmux(
                    "new-session", "-d", "-s", name, "-x", str(width), "-y", str(height), *extra,
                    command,
                )  # fmt: skip
                started.append((name, signal))
            texts = []
            for name, signal in started:
                self.tmux("wait-for", signal, timeout=120)
                texts.append(self.tmux("capture-pane", "-p", "-J", "-t", name))
        finally:
            for name, _ in started:
                self.tmux("kill-session", "-t", name)
        return [text.rstrip("\n").splitlines() for text in texts]

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)


@pytest.fixture
def terminal(db_url: str, tmp_path: Path) -> Iterator[Terminal]:
    if shutil.which("tmux") is None:
        skip_unless_ci("tmux is needed to run fintrack in a real terminal")
    env = {
        **os.environ,
        "FINTRACK_DATABASE_URL": db_url,
        "FINTRACK_PAGER": "cat",
        "TERM": "xterm-256color",
        "NO_COLOR": "1",
    }
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    env.pop("TMUX", None)
    made = Terminal(env)
    yield made
    made.close()


@pytest.fixture
def founding_case(run: Run) -> None:
    """The seed, a large EU pledge with a long donor name, payments and a rate."""
    assert run("seed").code == 0
    eu = run(
        "pledge", "add", "--donor", "European Union", "--recipient", "Syrian Arab Republic",
        "--currency", "EUR", "--amount", "2.5bn", "--installments", "4", "--every", "quarter",
        "--on", "2025-03-17", "--first-due", "2025-06-30", "--purpose", "Brussels IX conference",
    )  # fmt: skip
    assert eu.code == 0, eu.err
    assert run("pay", "1", "29M", "--on", "2025-06-10").code == 0
    assert run("pay", eu.out.strip(), "312,500,000.50", "--on", "2025-07-01").code == 0
    for day, rate in (("2025-05-08", "1.1275"), ("2025-06-08", "1.1398"), ("2025-07-08", "1.1728")):
        assert run("rate", "add", "EUR", "USD", rate, "--on", day).code == 0


def amounts(run: Run, *args: str) -> list[tuple[int, str]]:
    """Every amount of a listing, from its JSON, with its currency (in minor units)."""
    result = run(*args, "--format", "json")
    assert result.code == 0, result.err
    found = []
    for row in json.loads(result.out):
        for key in ("pledged", "disbursed", "outstanding", "amount"):
            if row.get(key) is not None:
                found.append((parse_amount_any(row[key], row["currency"]), row["currency"]))
    return found


def parse_amount_any(text: str, currency: str) -> int:
    """Minor units of an exact amount as CSV and JSON write it (0.00 included)."""
    from fintrack.money import exponent

    whole, _, fraction = text.lstrip("-").partition(".")
    digits = exponent(currency)
    minor: int = int(whole) * 10**digits + int((fraction or "0").ljust(digits, "0"))
    return -minor if text.startswith("-") else minor


def check_screen(lines: list[str], width: int, money: list[tuple[int, str]]) -> None:
    """No line wider than the terminal; every amount whole, exact or in its compact form."""
    assert lines, "nothing on the screen"
    for line in lines:
        assert len(line) <= width, f"{len(line)} > {width}: {line!r}"
    screen = "\n".join(lines)
    compact = "Amounts rounded" in screen
    for minor, currency in money:
        exact = format_amount(minor, currency)
        short = compact_amount(minor, currency)
        pattern = re.escape(short if compact else exact)
        assert re.search(rf"(?<![\d.,]){pattern}(?![\d.,]*\d)", screen), (exact, short, screen)
    # Nothing that reads as a cut number or date: `87,000,` or `2025-05-2`.
    assert not re.search(r"(?<![\d-])\d{1,3}(,\d{3})*,(?=\s|$)", screen), screen
    assert not re.search(r"\b\d{4}-\d{2}-\d(?!\d)", screen), screen


@pytest.mark.parametrize("width", WIDTHS)
def test_totals_fit_and_show_every_figure_whole(
    terminal: Terminal, run: Run, founding_case: None, width: int
) -> None:
    money = amounts(run, "totals")
    lines = terminal.screen(width, "totals")
    check_screen(lines, width, money)
    screen = "\n".join(lines)
    for donor in ("Qatar", "European", "Total"):
        assert donor in screen
    assert "Left out to fit" in screen or width >= 160


@pytest.mark.parametrize("width", WIDTHS)
def test_totals_by_month_keep_months_whole(
    terminal: Terminal, run: Run, founding_case: None, width: int
) -> None:
    lines = terminal.screen(width, "totals", "--by", "month")
    check_screen(lines, width, amounts(run, "totals", "--by", "month"))
    screen = "\n".join(lines)
    for month in ("2025-05", "2025-06", "2025-07", "2025-09", "2025-12", "2026-03"):
        assert re.search(rf"^{month}\s", screen, re.MULTILINE), (month, screen)


@pytest.mark.parametrize("width", WIDTHS)
def test_deadlines_keep_dates_ids_and_amounts_whole(
    terminal: Terminal, run: Run, founding_case: None, width: int
) -> None:
    args = ("deadlines", "--as-of", "2025-05-08", "--within", "400")
    result = run(*args, "--format", "json")
    rows: list[dict[str, Any]] = json.loads(result.out)
    lines = terminal.screen(width, *args)
    check_screen(lines, width, amounts(run, *args))
    screen = "\n".join(lines)
    for row in rows:
        assert row["date"] in screen
        assert re.search(rf"{row['record']} {row['record_id']}\b", screen), row


@pytest.mark.parametrize("width", WIDTHS)
def test_lists_and_shows_fit(terminal: Terminal, run: Run, founding_case: None, width: int) -> None:
    commands = [
        ("pledge", "list"),
        ("sanction", "list"),
        ("source", "list"),
        ("claim", "list"),
        ("rate", "list"),
        ("history", "pledge", "1"),
        ("pledge", "show", "2"),
        ("sanction", "show", "3"),
        ("totals", "--in", "EUR", "--working"),
        ("deadlines", "--as-of", "2025-06-08", "--in", "EUR"),
    ]
    screens = dict(zip(commands, terminal.screens(width, commands), strict=True))
    for args, lines in screens.items():
        for line in lines:
            assert len(line) <= width, (args, width, line)
        screen = "\n".join(lines)
        assert "Error" not in screen, screen
    check_screen(screens["pledge", "list"], width, amounts(run, "pledge", "list"))
    sanctions = "\n".join(screens["sanction", "list"])
    listed = json.loads(run("sanction", "list", "--format", "json").out)
    for row in listed:
        assert re.search(rf"^\s*{row['id']}\s", sanctions, re.MULTILINE), row["id"]
        if row["effective"]:
            assert row["effective"] in sanctions


def test_wide_shows_every_column_exactly(terminal: Terminal, run: Run, founding_case: None) -> None:
    lines = terminal.screen(80, "totals", "--wide")
    screen = "\n".join(lines)
    assert "Left out" not in screen
    assert "Amounts rounded" not in screen
    assert "unconfirmed" in screen
    assert "2,500,000,000.00" in screen
    assert max(len(line) for line in lines) > 80  # wider than the terminal, as asked


def test_narrow_terminal_compacts_amounts_and_says_so(
    terminal: Terminal, run: Run, founding_case: None
) -> None:
    lines = terminal.screen(60, "totals")
    check_screen(lines, 60, amounts(run, "totals"))
    screen = "\n".join(lines)
    assert "2.5bn" in screen
    assert "exact with --wide or --format csv" in " ".join(screen.split())


def test_piped_table_follows_columns(run: Run, founding_case: None, monkeypatch: Any) -> None:
    monkeypatch.setenv("COLUMNS", "90")
    result = run("sanction", "list")
    assert result.code == 0
    assert max(len(line) for line in result.out.splitlines()) <= 90
    monkeypatch.setenv("COLUMNS", "200")
    wide = run("sanction", "list")
    assert max(len(line) for line in wide.out.splitlines()) > 90


def test_long_tables_go_through_the_pager(
    terminal: Terminal, run: Run, founding_case: None, tmp_path: Path
) -> None:
    """Taller than the terminal: through $FINTRACK_PAGER (here `tee`, which keeps a copy)."""
    copy = tmp_path / "paged.txt"
    pager = {"FINTRACK_PAGER": f"tee {copy}"}
    short = terminal.screen(
        100, "claim", "list", height=30, env=pager
    )  # fits: printed straight out
    assert "Claims" in "\n".join(short)
    assert not copy.exists()
    lines = terminal.screen(100, "sanction", "list", height=15, env=pager)
    assert copy.exists()
    paged = copy.read_text("utf-8")
    assert "Sanction actions" in paged and "EU-SYR" in paged
    assert "EU-SYR" in "\n".join(lines)
    copy.unlink()
    terminal.screen(100, "--no-pager", "sanction", "list", height=15, env=pager)
    assert not copy.exists()

"""Stored text is data: markup and control characters in every text field, through every view."""

import pytest

from tests.conftest import Result, Run, added, assert_error

# Rich markup that would fail to parse ([/bold] closes nothing), markup that would vanish, a
# link, a bidi override, and terminal controls: clear the screen, retitle the window, ring.
# 48 characters, so that with a one-letter label it fits the shortest text column (authority, 50).
HOSTILE = "[/bold][red]x[/red][link=x:y]y[/link]\u202e\x1b[2J\x1b]0;t\x07"
SHOWN = "[/bold][red]x[/red][link=x:y]y[/link]<U+202E>␛[2J␛]0;t␇"


def hostile(label: str) -> str:
    return f"{label}{HOSTILE}"


# A measure may not hold ';', which separates measures in a file: its window title is cut short.
MEASURE = "M" + HOSTILE.replace(";", "")
MEASURE_SHOWN = "M" + SHOWN.replace(";", "")


def check_measure(result: Result) -> None:
    assert MEASURE_SHOWN.casefold() in " ".join(result.out.split()).casefold(), result.out


def check(result: Result, *labels: str) -> None:
    """The command worked, printed each labelled value as typed (controls made visible), and
    sent no control character to the terminal."""
    assert result.code == 0, result.err
    text = result.out + result.err
    words = " ".join(text.split()).casefold()  # authorities are stored in capitals
    for label in labels:
        assert f"{label}{SHOWN}".casefold() in words, (label, text)
    assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, repr(text)


@pytest.fixture
def stored(run: Run) -> dict[str, int]:
    """One record of each kind with every text field hostile."""
    ids = {}
    ids["pledge"] = added(
        run, "pledge", "add", "--donor", hostile("D"), "--recipient", hostile("R"),
        "--currency", "USD", "--amount", "5M", "--on", "2025-05-01", "--first-due", "2025-05-20",
        "--purpose", hostile("P"), "--ref", hostile("F"),
        "--source", "https://example.org/[/bold]", "--analyst", hostile("A"),
    )  # fmt: skip
    ids["sanction"] = added(
        run, "sanction", "add", "--authority", hostile("U"), "--target", hostile("T"),
        "--action", "lift", "--program", "EU-SYR", "--measure", MEASURE,
        "--deadline", "2025-06-01", "--deadline-label", hostile("L"),
        "--legal-ref", hostile("G"), "--summary", hostile("S"), "--ref", hostile("SR"),
    )  # fmt: skip
    ids["claim"] = added(
        run, "claim", "add", "--subject", hostile("CS"), "--statement", hostile("CT"),
        "--on", "2025-05-02",
    )  # fmt: skip
    ids["source"] = added(
        run, "source", "add", "--title", hostile("ST"), "--publisher", hostile("SP"),
    )  # fmt: skip
    result = run(
        "rate", "add", "EUR", "USD", "1.1", "--on", "2025-05-01", "--source", hostile("RS")
    )
    assert result.code == 0, result.err
    edit = run(
        "pledge", "edit", str(ids["pledge"]), "--purpose", hostile("P2"),
        "--reason", hostile("WHY"), "--analyst", hostile("A2"),
    )  # fmt: skip
    assert edit.code == 0, edit.err
    return ids


def test_every_list_and_report_shows_stored_text_as_typed(
    run: Run, stored: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    check(run("pledge", "list", "--wide"), "D", "R", "P2", "F")
    check(run("totals", "--wide"), "D", "R")
    check(run("totals", "--by", "donor", "--in", "EUR", "--rates-on", "2025-05-01", "--wide"), "D")
    check(run("deadlines", "--as-of", "2025-05-10", "--wide"), "D", "R", "L")
    listed = run("sanction", "list", "--wide")
    check(listed, "U", "T", "L", "G", "S", "SR")
    check_measure(listed)
    check(run("claim", "list", "--wide"), "CS", "CT")
    check(run("source", "list", "--wide"), "ST", "SP")
    check(run("rate", "list"), "RS")
    # Narrow tables cut long text with an ellipsis, but never let a control through.
    monkeypatch.setenv("COLUMNS", "80")
    for args in (("pledge", "list"), ("sanction", "list"), ("totals",), ("claim", "list")):
        result = run(*args)
        assert result.code == 0, result.err
        assert "\x1b" not in result.out and "\x07" not in result.out


def test_every_show_and_history_shows_stored_text_as_typed(
    run: Run, stored: dict[str, int]
) -> None:
    check(run("pledge", "show", str(stored["pledge"])), "D", "R", "P2", "F")
    shown = run("sanction", "show", str(stored["sanction"]))
    check(shown, "U", "T", "L", "G", "S")
    check_measure(shown)
    check(run("claim", "show", str(stored["claim"])), "CS", "CT")
    check(run("source", "show", str(stored["source"])), "ST", "SP")
    check(run("history", "pledge", str(stored["pledge"]), "--wide"), "A", "A2", "WHY", "P", "P2")
    history = run("history", "sanction", str(stored["sanction"]), "--wide")
    check(history, "U")
    check_measure(history)


def test_messages_show_typed_text_as_typed(run: Run) -> None:
    result = run(
        "pledge", "add", "--donor", hostile("D"), "--recipient", "Syria", "--currency", "USD",
        "--amount", "1M", "--on", "2025-05-01",
    )  # fmt: skip
    check(result, "D")
    voided = run("void", "pledge", result.out.strip(), "--reason", hostile("V"))
    assert voided.code == 0, voided.err
    check(run("history", "pledge", result.out.strip(), "--wide"), "V")


def test_a_write_is_reported_once_committed(run: Run) -> None:
    """A donor that is bad markup is stored and its message printed: no failure after commit."""
    result = run(
        "pledge", "add", "--donor", "[/bold]", "--recipient", "[/]", "--currency", "USD",
        "--amount", "1M", "--on", "2025-05-01",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "Added pledge 1: [/bold] → [/]" in result.err
    assert run("pledge", "show", "1").code == 0


def test_errors_show_control_characters_visibly(run: Run) -> None:
    result = run("pledge", "list", "--status", "x\x1b[2J\x07")
    assert_error(result, "x␛[2J␇")
    assert "\x1b" not in result.err

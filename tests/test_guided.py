"""Guided entry: answers typed at a real terminal (a pseudo-terminal), and the duplicate check."""

import os
import re
import signal
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pexpect
import pytest

from tests.conftest import EMPTY, QATAR, Run, added, as_json, assert_error, row_counts

TODAY = date.today().isoformat()
AMOUNTS = "87000000, 87,000,000, 87M, 1.5bn"
DATES = "YYYY-MM-DD"
OPTIONAL = "Enter to leave out"
MARKUP_DONOR = (
    "pledge", "add", "--donor", "[/bold]", "--recipient", "Syria", "--currency", "USD",
    "--amount", "1M", "--on", "2025-01-01",
)  # fmt: skip


def spawn(db_url: str, tmp_path: Path, *args: str, shell: str | None = None) -> Any:
    """fintrack run in a pseudo-terminal, as a person at an 80-column xterm runs it; `shell`
    runs it through `sh -c` instead, with `$@` standing for the command."""
    env = {
        **os.environ,
        "FINTRACK_DATABASE_URL": db_url,
        "XDG_DATA_HOME": str(tmp_path / "data-home"),
        "COLUMNS": "80",
        "LINES": "40",
        "TERM": "xterm-256color",
    }
    env.pop("NO_COLOR", None)
    command = [sys.executable, "-m", "fintrack", *args]
    if shell is not None:
        command = ["/bin/sh", "-c", shell, "sh", *command]
    return pexpect.spawn(
        command[0],
        command[1:],
        env=env,
        encoding="utf-8",
        timeout=60,
        dimensions=(40, 80),
        # Ctrl-C must reach fintrack as at a shell prompt, even when pytest was started with
        # SIGINT ignored (in the background of a script), which a child would inherit.
        preexec_fn=_default_sigint,
    )


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def answer(child: Any, prompt: str, text: str) -> None:
    """Wait for the whole question, then type the answer and Enter."""
    child.expect_exact(prompt)
    child.sendline(text)


def finish(child: Any) -> tuple[int, str]:
    """The exit status and the rest of what the terminal showed."""
    child.expect(pexpect.EOF)
    rest = child.before
    child.close()
    return child.exitstatus, rest


def shown_pledge(run: Run, pledge_id: int) -> Any:
    return as_json(run, "pledge", "show", str(pledge_id))


# --- pledge add --------------------------------------------------------------------------


def test_pledge_add_asks_for_each_field_and_stores_the_answers(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    assert added(run, *MARKUP_DONOR) == 1
    child = spawn(db_url, tmp_path, "pledge", "add")
    # Known values come from the database and show as typed, never as markup.
    answer(child, "Donor (known: [/bold]): ", "")
    child.expect_exact("An answer is needed")
    answer(child, "Donor (known: [/bold]): ", "Qatar")
    answer(child, "Recipient (known: Syria): ", "syria")  # takes the known spelling
    answer(child, "Currency (ISO 4217 code; known: USD) [USD]: ", "")  # the default
    answer(child, f"Total amount in USD ({AMOUNTS}): ", "lots")
    child.expect_exact("'lots' is not an amount")
    answer(child, f"Total amount in USD ({AMOUNTS}): ", "87M")
    answer(child, "Installments [1]: ", "3")
    answer(child, "Every (week, month, quarter, year) [month]: ", "")
    answer(child, f"Announced on ({DATES}) [{TODAY}]: ", "2025-05-32")
    child.expect_exact("'2025-05-32' is not a date")
    answer(child, f"Announced on ({DATES}) [{TODAY}]: ", "2025-05-08")
    answer(
        child,
        f"First due ({DATES}; Enter: the date announced, marked assumed): ",
        "",
    )
    answer(child, "Status (pledge, commitment, paid) [pledge]: ", "committed")
    answer(child, f"Purpose ({OPTIONAL}): ", "public-sector salaries")
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "")
    code, rest = finish(child)
    assert code == 0, rest
    assert "Added pledge 2: Qatar → Syria, USD 87,000,000.00 in 3 installments" in rest
    assert rest.strip().splitlines()[-1] == "2"
    pledge = shown_pledge(run, 2)
    assert {k: pledge[k] for k in ("donor", "recipient", "currency", "pledged", "status")} == {
        "donor": "Qatar",
        "recipient": "Syria",
        "currency": "USD",
        "pledged": "87000000.00",
        "status": "commitment",
    }
    assert pledge["announced"] == "2025-05-08"
    assert pledge["purpose"] == "public-sector salaries"
    assert pledge["schedule_assumed"] is True
    assert [i["due"] for i in pledge["installments"]] == ["2025-05-08", "2025-06-08", "2025-07-08"]
    assert [i["amount"] for i in pledge["installments"]] == ["29000000.00"] * 3


def test_pledge_add_asks_only_for_what_is_missing_and_stdout_carries_only_the_id(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "out.txt"
    child = spawn(
        db_url,
        tmp_path,
        "pledge", "add", "--donor", "EU", "--currency", "EUR", "--amount", "2.5bn",
        "--first-due", "2025-07-01", "--source", "https://example.org/eu",
        shell=f'"$@" > {out}',
    )  # fmt: skip
    answer(child, "Recipient: ", "Syria")
    answer(child, "Installments [1]: ", "")
    # --first-due was given, so the date announced may be left out.
    answer(child, f"Announced on ({DATES}; - to leave out) [{TODAY}]: ", "-")
    answer(child, "Status (pledge, commitment, paid) [pledge]: ", "")
    answer(child, f"Purpose ({OPTIONAL}): ", "")
    answer(child, "Confidence (confirmed, reported, unverified, denied) [reported]: ", "confirmed")
    code, rest = finish(child)
    assert code == 0, rest
    assert out.read_text() == "1\n"
    pledge = shown_pledge(run, 1)
    assert pledge["announced"] is None
    assert pledge["installments"][0]["due"] == "2025-07-01"
    assert pledge["schedule_assumed"] is False
    assert pledge["confidence"] == "confirmed"
    assert [s["url"] for s in pledge["sources"]] == ["https://example.org/eu"]


@pytest.mark.parametrize("key", ["eof", "interrupt"])
def test_ctrl_d_or_ctrl_c_aborts_and_writes_nothing(
    run: Run, db_url: str, tmp_path: Path, empty_db: Path, key: str
) -> None:
    before = row_counts(empty_db)
    child = spawn(db_url, tmp_path, "pledge", "add")
    answer(child, "Donor: ", "Qatar")
    child.expect_exact("Recipient: ")
    if key == "eof":
        child.sendeof()
    else:
        child.sendintr()
    code, rest = finish(child)
    assert code == 130
    assert rest.strip().splitlines()[-1] == "Error: interrupted"
    assert "Traceback" not in rest
    assert row_counts(empty_db) == before


# --- sanction add ------------------------------------------------------------------------


def test_sanction_add_asks_for_each_field(run: Run, db_url: str, tmp_path: Path) -> None:
    added(run, "sanction", "add", "--authority", "EU", "--program", "EU-SYR", "--target", "SY", "--action", "impose")  # fmt: skip
    child = spawn(db_url, tmp_path, "sanction", "add", "--summary", "Energy and transport")
    answer(child, "Authority (known: EU): ", "eu")
    answer(child, f"Program (such as EU-SYR; known: EU-SYR; {OPTIONAL}): ", "eu-syr")
    answer(child, "Target (ISO 3166 code or a named entity; known: SY): ", "SY")
    actions = "impose, extend, amend, suspend, ease, licence, waiver, delist, lift, expire"
    answer(child, f"Action ({actions}): ", "pause")
    child.expect_exact("'pause' is not one of impose")
    answer(child, f"Action ({actions}): ", "suspend")
    answer(child, "Measures (separated by commas; ", "energy, transport")
    answer(child, f"Announced on ({DATES}; - to leave out) [{TODAY}]: ", "")
    answer(child, f"Takes effect on ({DATES}; {OPTIONAL}): ", "2025-02-24")
    statuses = "planned, announced, in-force, expired, revoked"
    answer(child, f"Status ({statuses}) [in-force]: ", "")
    answer(child, f"Expires on ({DATES}; {OPTIONAL}): ", "")
    answer(child, f"Deadline to watch ({DATES}; {OPTIONAL}): ", "2025-06-01")
    answer(child, f"What happens on the deadline ({OPTIONAL}): ", "lapses unless renewed")
    answer(child, f"Legal reference ({OPTIONAL}): ", "Regulation (EU) 2025/407")
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "")
    code, rest = finish(child)
    assert code == 0, rest
    assert rest.strip().splitlines()[-1] == "2"
    action = as_json(run, "sanction", "show", "2")
    assert {k: action[k] for k in action if k not in ("sources", "voided")} == {
        "id": 2,
        "authority": "EU",
        "program": "EU-SYR",
        "target": "SY",
        "action": "suspend",
        "measures": ["energy", "transport"],
        "status": "in-force",
        "announced": TODAY,
        "effective": "2025-02-24",
        "expires": None,
        "deadline": "2025-06-01",
        "deadline_label": "lapses unless renewed",
        "legal_ref": "Regulation (EU) 2025/407",
        "summary": "Energy and transport",
        "confidence": "unverified",
        "ref": None,
    }


# --- pay ---------------------------------------------------------------------------------


def test_pay_lists_open_pledges_and_offers_the_next_installment(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    assert added(run, *QATAR) == 1
    assert added(run, "pay", "1", "10M", "--on", "2025-05-10") == 1
    child = spawn(db_url, tmp_path, "pay")
    child.expect_exact("Open pledges")
    child.expect_exact("1  Qatar → Syria  USD 77,000,000.00")
    answer(child, "Pledge id [1]: ", "2")
    child.expect_exact("no pledge with id 2")
    answer(child, "Pledge id [1]: ", "")
    answer(child, "Amount paid in USD [19,000,000.00]: ", "100M")
    child.expect_exact("exceeds the USD 77,000,000.00 outstanding")
    answer(child, "Amount paid in USD [19,000,000.00]: ", "")
    answer(child, f"Paid on ({DATES}) [{TODAY}]: ", "10/06/2025")
    child.expect_exact("'10/06/2025' is not a date")
    answer(child, f"Paid on ({DATES}) [{TODAY}]: ", "2025-06-10")
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "")
    code, rest = finish(child)
    assert code == 0, rest
    assert rest.strip().splitlines()[-1] == "2"
    pledge = shown_pledge(run, 1)
    assert [(d["installment"], d["paid_on"], d["amount"]) for d in pledge["disbursements"]] == [
        (1, "2025-05-10", "10000000.00"),
        (1, "2025-06-10", "19000000.00"),
    ]
    assert pledge["outstanding"] == "58000000.00"


def test_pay_with_the_pledge_given_asks_for_the_rest(run: Run, db_url: str, tmp_path: Path) -> None:
    assert added(run, *QATAR) == 1
    child = spawn(db_url, tmp_path, "pay", "1", "--installment", "2")
    answer(child, "Amount paid in USD [29,000,000.00]: ", "5M")
    answer(child, f"Paid on ({DATES}) [{TODAY}]: ", "")
    # A source is checked as it is named, not after the last question.
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "42")
    child.expect_exact("no source with id 42")
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "the minister")
    child.expect_exact("'the minister' is neither a URL nor a source id")
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "https://example.org/paid")
    answer(child, "Confidence (confirmed, reported, unverified, denied) [reported]: ", "")
    code, rest = finish(child)
    assert code == 0, rest
    (payment,) = shown_pledge(run, 1)["disbursements"]
    assert [payment[k] for k in ("installment", "paid_on", "amount", "confidence")] == [
        2, TODAY, "5000000.00", "reported",
    ]  # fmt: skip


def test_pay_asks_again_for_a_pledge_id_too_large_for_the_database(
    run: Run, db_url: str, tmp_path: Path
) -> None:
    """A pledge id beyond any id stored is refused as an answer (it crashed SQLite's
    lookup with OverflowError), and one in other digits is not read as an id."""
    assert added(run, *QATAR) == 1
    child = spawn(db_url, tmp_path, "pay")
    answer(child, "Pledge id [1]: ", "99999999999999999999")
    child.expect_exact("is too large for an id")
    answer(child, "Pledge id [1]: ", "\u0661")
    child.expect_exact("use the digits 0-9 only")
    answer(child, "Pledge id [1]: ", "")
    answer(child, "Amount paid in USD [29,000,000.00]: ", "")
    answer(child, f"Paid on ({DATES}) [{TODAY}]: ", "2025-06-10")
    answer(child, f"Source (URL or source id; {OPTIONAL}): ", "")
    code, rest = finish(child)
    assert code == 0, rest
    assert rest.strip().splitlines()[-1] == "1"


# --- a duplicate pledge ------------------------------------------------------------------


@pytest.mark.parametrize(("reply", "code", "pledges"), [("n", 1, 1), ("", 1, 1), ("y", 0, 2)])
def test_a_duplicate_is_asked_about_on_a_terminal(
    run: Run, db_url: str, db_path: Path, tmp_path: Path, reply: str, code: int, pledges: int
) -> None:
    assert added(run, *QATAR) == 1
    before = row_counts(db_path)
    child = spawn(db_url, tmp_path, *QATAR)
    question = (
        "Pledge 1 has the same donor, recipient, currency, amount and date. Add another? [y/N]: "
    )
    answer(child, question, "perhaps")
    child.expect_exact("'perhaps' is not y or n")
    answer(child, question, reply)
    status, rest = finish(child)
    assert status == code, rest
    # The attempt refused before the question wrote nothing, not even an id from a sequence.
    assert [row["id"] for row in as_json(run, "pledge", "list")] == list(range(1, pledges + 1))
    if not code:
        assert rest.strip().splitlines()[-1] == "2"
    if code:
        assert rest.strip().splitlines()[-1] == (
            "Error: nothing added: pledge 1 is already on record"
        )
        assert row_counts(db_path) == before


def test_a_duplicate_is_refused_without_a_terminal_unless_allowed(run: Run, db_path: Path) -> None:
    assert added(run, *QATAR) == 1
    before = row_counts(db_path)
    result = run(*QATAR)
    assert_error(
        result,
        "pledge 1 has the same donor, recipient, currency, amount and date",
        "--allow-duplicate",
    )
    assert result.code == 1
    assert row_counts(db_path) == before
    # The same pledge in another letter case is the same pledge.
    renamed = [arg.lower() if arg in ("Qatar", "Syria") else arg for arg in QATAR]
    assert_error(run(*renamed), "pledge 1 has the same")
    assert added(run, *QATAR, "--allow-duplicate") == 2
    assert_error(run(*QATAR, "--no-input"), "pledge 1 has the same")


@pytest.mark.parametrize(
    "change",
    [
        ("--on", "2025-05-09"),
        ("--currency", "EUR"),
        ("--donor", "Qatar Fund for Development"),
        ("--recipient", "Lebanon"),
        ("--each", "29.5M"),
    ],
)
def test_a_pledge_that_differs_in_one_field_is_no_duplicate(
    run: Run, empty_db: Path, change: tuple[str, str]
) -> None:
    assert added(run, *QATAR) == 1
    assert added(run, *QATAR, *change) == 2


def test_a_replacement_or_a_pledge_like_a_voided_one_is_no_duplicate(
    run: Run, empty_db: Path
) -> None:
    assert added(run, *QATAR) == 1
    # A commitment firming up pledge 1 repeats its figures on purpose.
    assert added(run, *QATAR, "--status", "commitment", "--replaces", "1") == 2
    # A copy that would replace pledge 1 again is refused for that, not as a duplicate.
    assert_error(run(*QATAR, "--replaces", "1"), "pledge 1 is already replaced by pledge 2")
    # ... and pledge 2 is what a third copy would repeat.
    assert_error(run(*QATAR), "pledge 2 has the same")
    assert run("void", "pledge", "2", "--reason", "entered in error").code == 0
    # With 2 voided, pledge 1 counts again and is the one repeated.
    assert_error(run(*QATAR), "pledge 1 has the same")
    assert run("void", "pledge", "1", "--reason", "entered in error").code == 0
    assert added(run, *QATAR) == 3


# --- no questions: --no-input, or no terminal --------------------------------------------

MISSING = [
    (("pledge", "add", "--recipient", "Syria"), "Missing option '--donor'"),
    (("pledge", "add", "--donor", "Qatar", "--currency", "USD"), "Missing option '--recipient'"),
    (("sanction", "add", "--authority", "EU"), "Missing option '--target'"),
    (("sanction", "add", "--target", "SY", "--authority", "EU"), "Missing option '--action'"),
    (("pay",), "Missing argument 'PLEDGE_ID'"),
    (("pay", "1"), "Missing argument 'AMOUNT'"),
    (("pay", "1", "29M"), "Missing option '--on'"),
]


@pytest.mark.parametrize(("args", "message"), MISSING)
def test_without_a_terminal_a_missing_option_is_the_usual_error(
    run: Run, empty_db: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(*args)
    assert_error(result)
    # The name of an argument is as the help spells it (amount or AMOUNT), whatever its case.
    assert f"Error: {message}.".lower() == result.err.strip().lower()
    assert result.code == 2
    assert row_counts(empty_db) == EMPTY


@pytest.mark.parametrize(("args", "message"), MISSING[::2])
def test_no_input_on_a_terminal_asks_nothing(
    db_url: str, tmp_path: Path, empty_db: Path, args: tuple[str, ...], message: str
) -> None:
    child = spawn(db_url, tmp_path, *args, "--no-input")
    code, rest = finish(child)
    assert code == 2
    assert [line.lower() for line in rest.strip().splitlines()] == [f"Error: {message}.".lower()]


def test_stdin_not_a_terminal_asks_nothing_even_with_stderr_on_one(
    db_url: str, tmp_path: Path, empty_db: Path
) -> None:
    child = spawn(db_url, tmp_path, "pledge", "add", shell='"$@" < /dev/null')
    code, rest = finish(child)
    assert code == 2
    assert rest.strip().splitlines() == ["Error: Missing option '--donor'."]
    assert row_counts(empty_db)["pledges"] == 0


def test_help_still_marks_the_required_options(run: Run) -> None:
    for command, options in [
        (("pledge", "add"), ["--donor", "--recipient", "--currency"]),
        (("sanction", "add"), ["--authority", "--target", "--action"]),
        (("pay",), ["PLEDGE_ID", "amount", "--on"]),
    ]:
        text = run(*command, "--help").out
        assert "--no-input" in text
        for option in options:
            assert re.search(rf"{option}\b.*\[required\]", text, re.IGNORECASE), option

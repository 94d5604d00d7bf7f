"""Errors without CLI words: the library names fields as it does (`donor`, `first_due`); the
CLI names them by its options, an import by its columns, a seed file by its keys."""

import ast
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

import fintrack
from fintrack.changes import begin_change
from fintrack.dates import check_count
from fintrack.errors import InputError, mention
from fintrack.history import parse_kind
from fintrack.pledges import PledgeInput, add_pledge, check_range, pay, pledge_texts
from fintrack.rates import RateBook, add_rate, parse_rate
from fintrack.sanctions import SanctionInput, sanction_values
from fintrack.sources import SourceInput, add_source, resolve_source
from fintrack.store import Database
from fintrack.vocab import Period, SanctionActionKind, SanctionStatus
from tests.conftest import Run, added, assert_error

MAY_8 = date(2025, 5, 8)


def sanction(**fields: Any) -> SanctionInput:
    return SanctionInput(
        "EU", "Syria", SanctionActionKind.IMPOSE, SanctionStatus.IN_FORCE, **fields
    )


def pledge(**fields: Any) -> PledgeInput:
    return PledgeInput(**{"donor": "Qatar", "recipient": "Syria", "currency": "USD", **fields})


def paid_pledge(session: Session) -> None:
    pay(session, add_pledge(session, pledge(amount="10", announced_on=MAY_8)).id, "1", MAY_8, 9)


def unsourced(session: Session) -> None:
    resolve_source(session, "a report")


# (what to call, with a session when it needs the database; its field; its problem)
DOMAIN_ERRORS: list[tuple[Callable[..., Any], str, str]] = [
    (lambda: pledge_texts(" ", "Syria"), "donor", "must not be empty"),
    (lambda: sanction_values(sanction(deadline_label="renewal")), "deadline_label",
     "needs deadline_on"),
    (lambda: sanction_values(sanction(effective_on=date(2025, 6, 1),
                                      expires_on=date(2025, 5, 31))),
     "expires_on", "2025-05-31 is before effective_on 2025-06-01"),
    (lambda: sanction_values(sanction(measures=["a;b"])), "measures",
     "'a;b' holds ';', which separates measures in exported files; give each measure its own "
     "measures"),
    (lambda: check_range(date(2025, 6, 1), date(2025, 5, 31)), "since",
     "2025-06-01 is after until 2025-05-31"),
    (lambda: check_count(0), "installments", "'0' must be at least 1"),
    (lambda: parse_rate("x"), "rate",
     "'x' is not a rate; use a positive decimal number in the digits 0-9 such as 1.1275"),
    (lambda: parse_kind("x"), "kind",
     "'x' is not one of sanction, pledge, payment, claim"),
    (lambda s: add_pledge(s, pledge(announced_on=MAY_8)), "amount",
     "give amount or each with installments"),
    (lambda s: add_pledge(s, pledge(amount="10")), "first_due",
     "give the first due date, or announced_on for the pledge date"),
    (lambda s: add_pledge(s, pledge(amount="10", each="4", installments=3, every=Period.MONTH,
                                    announced_on=MAY_8)),
     "amount", "10.00 is not each 4.00 times 3 installments (12.00)"),
    (lambda s: add_pledge(s, pledge(currency="ZZZ", amount="10", announced_on=MAY_8)),
     "currency", "'ZZZ' is not an ISO 4217 currency code (such as USD, EUR or QAR)"),
    (lambda s: add_rate(s, "USD", "usd", "1", MAY_8), "quote",
     "'USD' is the base currency too; a rate needs two"),
    (lambda s: RateBook(s, "EURO"), "target",
     "'EURO' is not an ISO 4217 code (three letters, such as USD, EUR or QAR)"),
    (lambda s: RateBook(s, "EUR", -1), "max_age", "'-1' must be from 0 to 366 days"),
    (lambda s: add_source(s, SourceInput()), "url", "give the source's url, its title, or both"),
    (unsourced, "sources",
     "'a report' is neither a URL nor a source id; for a source without a URL, run fintrack "
     "source add title and give its id"),
    (paid_pledge, "installment_seq", "'9' is not an installment of pledge 1 (it has 1 to 1)"),
]  # fmt: skip


@pytest.fixture
def db(empty_db: Path, db_url: str) -> Database:
    return Database(db_url)


@pytest.mark.parametrize(("call", "field", "problem"), DOMAIN_ERRORS)
def test_the_domain_names_fields_as_the_library_does(
    call: Callable[..., Any], field: str, problem: str, request: pytest.FixtureRequest
) -> None:
    with pytest.raises(InputError) as raised:
        if call.__code__.co_argcount:
            db: Database = request.getfixturevalue("db")
            with db.session(write=True) as session:
                begin_change(session, "test: errors")
                call(session)
        else:
            call()
    assert (raised.value.field, raised.value.problem) == (field, problem)
    assert str(raised.value) == f"{field}: {problem}"
    assert "--" not in str(raised.value)


def test_a_mention_reads_as_each_reader_names_the_field() -> None:
    error = InputError("amount", f"give {mention('amount', 'TOTAL')} or {mention('each')}")
    assert error.problem == "give amount or each"
    assert error.worded(lambda field, word: f"<{field}|{word}>") == "give <amount|TOTAL> or <each|>"
    # Braces and the like in a value given by the user are text, not mentions.
    assert InputError("ref", "'{each}' is taken").problem == "'{each}' is taken"


DOMAIN_MODULES = sorted(
    path
    for path in Path(fintrack.__file__).parent.rglob("*.py")
    if "cli" not in path.relative_to(Path(fintrack.__file__).parent).parts
)
OPTION = re.compile(r"--[a-z]")
# The places outside the CLI that read command-line words: masking --db in the history.
# The other: the program's entry point, which answers `--version` before the CLI loads.
READS_ARGUMENTS = {
    ("store.py", "--db"),
    ("store.py", "--db="),
    *(("launch.py", word) for word in ("--version", "--db", "--db=", "--no-pager")),
}


def test_no_domain_module_names_a_command_line_option_in_an_input_error() -> None:
    """No option name (--donor) as a field anywhere in fintrack/*.py, nor in the text of an
    InputError: the CLI maps fields to options (fintrack.cli.common.in_options)."""
    found = []
    for path in DOMAIN_MODULES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            value = node.value if isinstance(node, ast.Constant) else None
            option = isinstance(value, str) and value.startswith("--")
            if option and (path.name, value) not in READS_ARGUMENTS:
                found.append(f"{path.name}:{getattr(node, 'lineno', 0)}: {value!r}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InputError":
                for part in ast.walk(node):
                    if isinstance(part, ast.Constant) and OPTION.search(str(part.value)):
                        found.append(f"{path.name}:{part.lineno}: {part.value!r}")
    assert found == []


# --- The CLI: each field by the running command's option or argument, as before ---------------


def test_the_cli_names_fields_by_the_options_and_arguments_of_the_command(run: Run) -> None:
    base = ("pledge", "add", "--donor", "Qatar", "--recipient", "Syria", "--currency", "USD")
    cases = [
        ((*base, "--on", "2025-05-08"),
         "--amount: give --amount TOTAL or --each AMOUNT with --installments N"),
        ((*base, "--amount", "10"),
         "--first-due: give the first due date, or --on DATE for the pledge date"),
        ((*base, "--amount", "10", "--on", "2025-05-08", "--source", "a report"),
         "--source: 'a report' is neither a URL nor a source id; for a source without a URL, "
         "run fintrack source add --title ... and give its id"),
        (("sanction", "add", "--authority", "EU", "--target", "Syria", "--action", "impose",
          "--deadline-label", "renewal"), "--deadline-label: needs --deadline DATE"),
        (("sanction", "add", "--authority", "EU", "--target", "Syria", "--action", "impose",
          "--effective", "2025-06-01", "--expires", "2025-05-31"),
         "--expires: 2025-05-31 is before --effective 2025-06-01"),
        (("rate", "add", "USD", "usd", "1", "--on", "2025-05-08"),
         "QUOTE: 'USD' is the base currency too; a rate needs two"),
        (("totals", "--in", "EURO"),
         "--in: 'EURO' is not an ISO 4217 code (three letters, such as USD, EUR or QAR)"),
        (("void", "bogus", "1", "--reason", "test"),
         "KIND: 'bogus' is not one of sanction, pledge, payment, claim"),
        (("source", "add"), "--url: give the source's --url, its --title, or both"),
    ]  # fmt: skip
    for args, line in cases:
        result = run(*args)
        assert_error(result, line)
        assert result.err == f"Error: {line}\n"


def test_a_payment_names_its_amount_argument_and_installment_option(run: Run) -> None:
    pledge_id = added(run, "pledge", "add", "--donor", "Qatar", "--recipient", "Syria",
                      "--currency", "USD", "--amount", "10", "--on", "2025-05-08")  # fmt: skip
    result = run("pay", str(pledge_id), "1", "--on", "2025-05-08", "--installment", "9")
    assert result.err == (
        f"Error: --installment: '9' is not an installment of pledge {pledge_id} (it has 1 to 1)\n"
    )
    result = run("pay", str(pledge_id), "1.001", "--on", "2025-05-08")
    assert result.err == "Error: AMOUNT: '1.001' has more decimals than USD allows (2)\n"


def test_rate_convert_names_its_to_option_not_the_in_of_totals(run: Run) -> None:
    result = run("rate", "convert", "1", "USD", "--to", "XYZ", "--on", "2025-05-08")
    assert result.code == 1
    assert result.err == (
        "Error: --to: 'XYZ' is not an ISO 4217 currency code (such as USD, EUR or QAR)\n"
    )


# --- An import: each field by its column ------------------------------------------------------


def test_an_import_names_the_fields_a_row_error_mentions_by_their_columns(
    run: Run, tmp_path: Path
) -> None:
    path = tmp_path / "sanctions.csv"
    path.write_text(
        "authority,target,action,deadline_label,effective,expires\n"
        "EU,Syria,impose,renewal,,\n"
        "EU,Syria,impose,,2025-06-01,2025-05-31\n",
        encoding="utf-8",
    )
    result = run("import", "sanctions", str(path))
    assert result.err.splitlines() == [
        f"{path}:2: column deadline_label: needs deadline",
        f"{path}:3: column expires: 2025-05-31 is before effective 2025-06-01",
        "Error: 2 of 2 rows are invalid; nothing was imported",
    ]


# --- A seed file: each field by its key -------------------------------------------------------


def test_a_seed_file_names_fields_by_their_keys(run: Run, tmp_path: Path) -> None:
    folder = tmp_path / "seed"
    folder.mkdir()
    (folder / "s.toml").write_text(
        '[[sanction]]\nref = "s1"\nauthority = "EU"\ntarget = "Syria"\naction = "impose"\n'
        'status = "in-force"\neffective = 2025-06-01\nexpires = 2025-05-31\n'
    )
    assert run("db", "upgrade").code == 0
    result = run("seed", "--folder", str(folder))
    assert (
        result.err
        == "Error: s.toml sanction s1: expires: 2025-05-31 is before effective 2025-06-01\n"
    )
    (folder / "s.toml").write_text(
        '[[pledge]]\nref = "p1"\ndonor = "Qatar"\nrecipient = "Syria"\ncurrency = "USD"\n'
    )
    result = run("seed", "--folder", str(folder))
    assert result.err == (
        "Error: s.toml pledge p1: amount: give amount or each with installments\n"
    )

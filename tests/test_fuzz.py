"""Fuzz: every writing command and every import kind, driven with hostile text, amounts, dates and ids.

Whatever comes in, a command either succeeds or ends with exactly one `Error:` line and exit 1
or 2 (never 70, never a traceback), and a failed command changes no row of any table. The seed
is fixed (derandomize) and the example count bounded, so a run is repeatable and CI stays fast;
FINTRACK_FUZZ_EXAMPLES raises the count for a longer hunt.
"""

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fintrack.vocab import FileKind
from tests.conftest import Result, Run, TestDatabase

EXAMPLES = int(os.environ.get("FINTRACK_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # a fixed seed: the same examples on every run
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database per test, shared by its examples
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

# Values that broke something once, or that a careless parser takes for something else.
HOSTILE_TEXT = [
    "",
    " ",
    "[/bold]",
    "[red]Qatar[/red][link=https://evil.example]Click[/link]",
    "\x1b]0;title\x07",
    "\x1b[2J",
    "\u202e",
    "a\x00b",
    "\udcff",  # an argument that was not valid UTF-8, as Python hands it over
    "x" * 10_000,
    "Ω" * 301,
    "\r\n",
    "\t",
    "'; DROP TABLE pledges; --",
    "=1+2",
    "x;=1+2",
    "@SUM(A1)",
    "-1",
    "NaN",
    "null",
    "🙂" * 60,
]
HOSTILE_AMOUNTS = [
    "29M", "0", "-1", "1e309", "1e-400", "NaN", "inf", "٢٩", "\uff12\uff19", "29.000", "1.500.000",
    "1_0", "9" * 40, "0x10", " 5 ", "5,5", "", "1.2.3", "29,000.5", "1.5bn", "29000000.50",
    "0.001", "1" + "0" * 30, "2.5tn", "-0", "+5", "5M5",
]  # fmt: skip
HOSTILE_DATES = [
    "9999-12-31", "0001-01-01", "2025-02-29", "2025-13-01", "9999-12-20", "", "\uff12\uff10\uff12\uff15-01-01",
    "2025-1-1", "today", "0000-01-01", "10000-01-01", "-2025-01-01", "2025-06-01T00:00",
    "2025-06-01", "0001-01-02",
]  # fmt: skip
HOSTILE_IDS = [
    "0", "-1", "1", "2", "3", "9223372036854775807", "9223372036854775808", str(2**64), "²",
    "1_0", "٢", "", " 1", "1.0", "1e3", "0x1", "99999999999999999999999999",
]  # fmt: skip
CURRENCIES = ["USD", "usd", "XXX", "EU", "", "JPY", "KWD", "€", "USDD", "XTS", "QAR", "٢٩٢"]

text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=40))
amount = st.one_of(
    st.sampled_from(HOSTILE_AMOUNTS),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
date = st.one_of(st.sampled_from(HOSTILE_DATES), st.dates().map(lambda d: d.isoformat()))
ident = st.one_of(st.sampled_from(HOSTILE_IDS), st.integers(-5, 2**66).map(str))
currency = st.one_of(st.sampled_from(CURRENCIES), text)
count = st.one_of(st.sampled_from(["1", "3", "0", "-1", "99999", "٣", "1_2", ""]), ident)


def options(draw: st.DrawFn, choices: dict[str, st.SearchStrategy[str]]) -> list[str]:
    """Some of the options, each with a drawn value."""
    argv: list[str] = []
    for name in draw(st.lists(st.sampled_from(sorted(choices)), unique=True, max_size=6)):
        argv += [name, draw(choices[name])]
    return argv


def one_of_or(values: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(st.sampled_from(values), text)


PLEDGE = {
    "--donor": text,
    "--recipient": text,
    "--currency": currency,
    "--amount": amount,
    "--each": amount,
    "--installments": count,
    "--every": one_of_or(["week", "month", "quarter", "year"]),
    "--first-due": date,
    "--on": date,
    "--status": one_of_or(["pledge", "commitment", "paid"]),
    "--purpose": text,
    "--source": st.one_of(ident, text),
    "--confidence": one_of_or(["confirmed", "reported", "unverified", "denied"]),
    "--ref": text,
    "--analyst": text,
}
SANCTION = {
    "--authority": text,
    "--target": text,
    "--action": one_of_or(["impose", "extend", "suspend", "ease", "licence", "lift", "expire"]),
    "--program": text,
    "--measure": text,
    "--announced": date,
    "--effective": date,
    "--expires": date,
    "--deadline": date,
    "--deadline-label": text,
    "--status": one_of_or(["active", "suspended", "lifted", "expired"]),
    "--legal-ref": text,
    "--summary": text,
    "--source": st.one_of(ident, text),
    "--ref": text,
    "--analyst": text,
}
KINDS = one_of_or(["sanction", "pledge", "payment", "claim"])


@st.composite
def pledge_add(draw: st.DrawFn) -> list[str]:
    base = ["--donor", "Qatar", "--recipient", "Syria", "--currency", "USD", "--amount", "29M"]
    base += ["--on", "2025-05-08", "--allow-duplicate"]
    extra = options(draw, PLEDGE | {"--replaces": ident})
    return ["pledge", "add", "--no-input", *base, *extra]


@st.composite
def pledge_edit(draw: st.DrawFn) -> list[str]:
    return ["pledge", "edit", draw(ident), *options(draw, PLEDGE | {"--reason": text})]


@st.composite
def pay(draw: st.DrawFn) -> list[str]:
    extra = options(
        draw,
        {
            "--on": date,
            "--installment": count,
            "--source": st.one_of(ident, text),
            "--analyst": text,
            "--confidence": one_of_or(["reported", "denied"]),
        },
    )
    force = draw(st.sampled_from([[], ["--force"]]))
    return ["pay", "--no-input", draw(ident), draw(amount), *extra, *force]


@st.composite
def sanction_add(draw: st.DrawFn) -> list[str]:
    base = ["--authority", "EU", "--target", "SY", "--action", "lift"]
    return ["sanction", "add", "--no-input", *base, *options(draw, SANCTION)]


@st.composite
def sanction_edit(draw: st.DrawFn) -> list[str]:
    return ["sanction", "edit", draw(ident), *options(draw, SANCTION | {"--reason": text})]


@st.composite
def rate_add(draw: st.DrawFn) -> list[str]:
    extra = options(draw, {"--source": st.one_of(ident, text), "--analyst": text})
    replace = draw(st.sampled_from([[], ["--replace"]]))
    argv = ["rate", "add", draw(currency), draw(currency), draw(amount), "--on", draw(date)]
    return [*argv, *extra, *replace]


@st.composite
def source_add(draw: st.DrawFn) -> list[str]:
    url = st.one_of(
        st.sampled_from(["https://example.org/a", "ftp://x", "javascript:alert(1)", "http://"]),
        text.map(lambda t: f"https://example.org/{t}"),
        text,
    )
    extra = options(
        draw, {"--title": text, "--publisher": text, "--published": date, "--retrieved": date}
    )
    return ["source", "add", "--url", draw(url), *extra]


@st.composite
def source_link(draw: st.DrawFn) -> list[str]:
    extra = options(
        draw,
        {"--confidence": one_of_or(["confirmed", "denied"]), "--reason": text, "--analyst": text},
    )
    return ["source", "link", draw(KINDS), draw(ident), draw(st.one_of(ident, text)), *extra]


@st.composite
def claim_add(draw: st.DrawFn) -> list[str]:
    extra = options(
        draw,
        {"--on": date, "--source": st.one_of(ident, text), "--ref": text, "--analyst": text},
    )
    return ["claim", "add", "--subject", draw(text), "--statement", draw(text), *extra]


@st.composite
def void(draw: st.DrawFn) -> list[str]:
    return ["void", draw(KINDS), draw(ident), "--reason", draw(text), "--analyst", draw(text)]


@st.composite
def seed(draw: st.DrawFn) -> list[str]:
    return ["seed", "--analyst", draw(text)]


REPORT = {
    "--donor": text,
    "--recipient": text,
    "--since": date,
    "--until": date,
    "--known-on": date,
    "--min-confidence": one_of_or(["confirmed", "reported"]),
    "--sort": text,
    "--columns": text,
    "--limit": count,
}
DAYS = st.one_of(count, st.sampled_from(["36500000", "365", "-5"]))


@st.composite
def report(draw: st.DrawFn) -> list[str]:
    """A reading command with hostile filters, dates and windows: it must write nothing."""
    command = draw(
        st.sampled_from(
            [
                ["totals"],
                ["deadlines"],
                ["pledge", "list"],
                ["sanction", "list"],
                ["brief"],
                ["history", "pledge", "1"],
            ]
        )
    )
    extra = {
        "totals": {
            "--by": one_of_or(["donor", "recipient", "currency", "month"]),
            "--in": currency,
            "--rates-on": date,
            "--max-rate-age": DAYS,
            "--known-on": date,
            "--since": date,
            "--until": date,
        },
        "deadlines": {
            "--as-of": date,
            "--within": DAYS,
            "--in": currency,
            "--kind": text,
            "--authority": text,
            "--known-on": date,
            "--sort": text,
        },
        "brief": {"--as-of": date, "--known-on": date, "--donor": text},
    }.get(command[0], REPORT)
    if command[0] == "history":
        extra = {"--sort": text, "--columns": text, "--limit": count}
    formats = ["markdown"] if command[0] == "brief" else ["csv", "json"]
    return [*command, *options(draw, extra), "--format", draw(one_of_or(formats))]


COMMANDS: dict[str, Callable[[], st.SearchStrategy[list[str]]]] = {
    "pledge add": pledge_add,
    "pledge edit": pledge_edit,
    "pay": pay,
    "sanction add": sanction_add,
    "sanction edit": sanction_edit,
    "rate add": rate_add,
    "source add": source_add,
    "source link": source_link,
    "claim add": claim_add,
    "void": void,
    "seed": seed,
    "reports (reading)": report,
}


class Snapshot:
    """Every row of every table of the test's database, as one digest per table."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine
        from sqlalchemy.pool import NullPool

        self.engine = create_engine(url, poolclass=NullPool)

    def take(self) -> dict[str, str]:
        from sqlalchemy import inspect, text

        digests = {}
        with self.engine.connect() as connection:
            for table in sorted(inspect(connection).get_table_names()):
                rows = connection.execute(text(f'SELECT * FROM "{table}"')).all()
                lines = sorted(repr(tuple(row)) for row in rows)
                digests[table] = hashlib.sha256("\n".join(lines).encode()).hexdigest()
        return digests

    def close(self) -> None:
        self.engine.dispose()


@pytest.fixture
def snapshot(run: Run, test_database: TestDatabase) -> Iterator[Snapshot]:
    """A seeded database with a payment and a rate, and a way to read all of it."""
    assert run("seed").code == 0
    assert run("pay", "1", "29M", "--on", "2025-06-01").code == 0
    assert run("rate", "add", "EUR", "USD", "1.08", "--on", "2025-05-01").code == 0
    reader = Snapshot(test_database.url)
    yield reader
    reader.close()


def check(result: Result, argv: list[str], before: dict[str, str], after: dict[str, str]) -> None:
    where = f"fintrack {' '.join(map(repr, argv))}"[:2000]
    assert "Traceback" not in result.err, (where, result.err)
    if result.code == 0:
        assert "Error:" not in result.err, (where, result.err)
        return
    assert result.code in (1, 2), (where, result.code, result.err)
    lines = result.err.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error:")]
    assert len(errors) == 1 and lines[-1] == errors[0], (where, result.err)
    assert "unexpected" not in errors[0], (where, result.err)
    assert after == before, (where, "a failed command changed rows", result.err)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_writing_command_fails_cleanly_and_writes_nothing(
    command: str, run: Run, snapshot: Snapshot
) -> None:
    # Reading commands are quick, and their options many: give them more examples.
    examples = EXAMPLES * (4 if command.startswith("reports") else 1)

    @settings(FUZZ, max_examples=examples)
    @given(argv=COMMANDS[command]())
    def one(argv: list[str]) -> None:
        before = snapshot.take()
        result = run(*argv)
        check(result, argv, before, snapshot.take())

    one()


# --- Imports: a valid export with hostile values put into some of its cells.

IMPORT_KINDS = [kind.value for kind in FileKind]


def exported(run: Run, kind: str) -> list[dict[str, str]]:
    result = run("export", kind)
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out)))


CELL = st.one_of(text, amount, date, ident, currency)


@pytest.mark.parametrize("kind", IMPORT_KINDS)
def test_an_import_fails_cleanly_and_writes_nothing(
    kind: str, run: Run, snapshot: Snapshot, tmp_path: Path
) -> None:
    rows = exported(run, kind)
    if not rows:  # disbursements and rates: one each from the fixture
        pytest.fail(f"the fixture exports no {kind}")
    columns = list(rows[0])
    path = tmp_path / f"{kind}.csv"

    @FUZZ
    @given(data=st.data())
    def one(data: Any) -> None:
        row = dict(data.draw(st.sampled_from(rows)))
        # A new record (so that the import has something to add), then hostile cells.
        for key in ("ref", "id"):
            if key in row and kind not in ("links", "installments", "disbursements"):
                row[key] = ""
        for column in data.draw(st.lists(st.sampled_from(columns), min_size=1, max_size=3)):
            row[column] = data.draw(CELL)
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerow(row)
        path.write_bytes(buffer.getvalue().encode("utf-8", "surrogateescape"))
        argv = ["import", kind, str(path)]
        before = snapshot.take()
        result = run(*argv)
        check(result, [*argv, repr(row)], before, snapshot.take())

    one()

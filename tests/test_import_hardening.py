"""Imports under stress: more rows than a batch, hostile cells, endless files, bad ids, and two
imports or seeds of the same records at once, on either engine."""

import csv
import io
import json
import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintrack import interchange
from fintrack.formats import Column, write_csv
from fintrack.spreadsheet import unneutralise
from tests.conftest import EMPTY, Run, assert_error, engine, row_counts
from tests.system import CLI, start_blocked, start_python, stop

# Rows of each kind written below: more than the lowered batch size, and not a multiple of it.
ROWS = 11
SMALL_BATCH = 4


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def exported(run: Run, kind: str) -> list[dict[str, str]]:
    result = run("export", kind, "-o", "-")
    assert result.code == 0, result.err
    return list(csv.DictReader(io.StringIO(result.out, newline="")))


def test_every_kind_imports_with_more_rows_than_a_batch_parents_first(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interchange, "BATCH_ROWS", SMALL_BATCH)
    n = range(1, ROWS + 1)
    files = {
        # Three measures each: the measures' batches fill up long before the actions' do.
        "sanctions": ["authority,target,action,measures,ref"]
        + [f"EU,T{i},ease,a{i}; b{i}; c{i},s{i}" for i in n],
        "pledges": ["id,donor,recipient,currency,pledged,announced,installments,replaces,ref"]
        + [f"{i},D{i},Syria,USD,300,2025-05-01,2,{i - 1 if i > 1 else ''},p{i}" for i in n],
        "installments": ["pledge_ref,seq,due,amount"]
        + [f"p{i},{seq},2025-0{5 + seq}-01,150" for i in n for seq in (1, 2)],
        "disbursements": ["pledge_ref,installment,paid_on,amount"]
        + [f"p{i},{seq},2025-0{5 + seq}-02,100" for i in n for seq in (1, 2)],
        "rates": ["base,quote,on,rate"] + [f"EUR,USD,2025-05-{i:02},1.{i}" for i in n],
        "sources": ["url,title"] + [f"https://example.org/{i},Report {i}" for i in n],
        "links": ["kind,record,source,confidence"]
        + [f"sanction,s{i},https://example.org/{i},confirmed" for i in n]
        + [f"pledge,p{i},https://example.org/{i},reported" for i in n],
        # Without installments: each gets one, all of them written after the pledges.
        "more-pledges": ["donor,recipient,currency,pledged,announced,ref"]
        + [f"Q{i},Syria,EUR,1000,2025-06-01,q{i}" for i in n],
    }
    paths = {kind: write(tmp_path / f"{kind}.csv", lines) for kind, lines in files.items()}
    commands = [
        ("sanctions", str(paths["sanctions"])),
        ("pledges", str(paths["pledges"]), "--installments", str(paths["installments"])),
        ("pledges", str(paths["more-pledges"])),
        ("disbursements", str(paths["disbursements"])),
        ("rates", str(paths["rates"])),
        ("sources", str(paths["sources"])),
        ("links", str(paths["links"])),
    ]
    for command in commands:
        result = run("import", *command)
        assert result.code == 0, (command, result.err)
    counts = row_counts()
    assert counts["sanction_actions"] == ROWS
    assert counts["sanction_measures"] == 3 * ROWS
    assert counts["pledges"] == 2 * ROWS
    assert counts["installments"] == 3 * ROWS
    assert counts["disbursements"] == 2 * ROWS
    assert counts["sources"] == ROWS
    assert counts["source_links"] == 2 * ROWS
    assert len(exported(run, "rates")) == ROWS
    sanctions = exported(run, "sanctions")
    assert [r["measures"] for r in sanctions[:2]] == ["a1; b1; c1", "a2; b2; c2"]
    pledges = {r["ref"]: r for r in exported(run, "pledges")}
    assert pledges["p5"]["replaces"] == "4" and pledges["p4"]["replaced_by"] == "5"
    assert pledges["p7"]["disbursed"] == "200.00"


def test_sanctions_import_at_the_real_batch_size(run: Run, tmp_path: Path) -> None:
    """2,500 actions with two measures each: the first batch of measures (5,000 rows) is full
    before the first batch of actions is."""
    actions = interchange.BATCH_ROWS // 2
    lines = ["authority,target,action,measures,ref"]
    lines += [f"EU,T{i},ease,a{i}; b{i},r{i}" for i in range(actions)]
    result = run("import", "sanctions", str(write(tmp_path / "s.csv", lines)))
    assert result.code == 0, result.err
    counts = row_counts()
    assert (counts["sanction_actions"], counts["sanction_measures"]) == (actions, 2 * actions)


# --- Formula-like text after a separator --------------------------------------------------------

FORMULA_START = re.compile(r"[=+\-@]")


def test_a_formula_after_a_semicolon_is_quoted_and_neutralised_and_reads_back_exactly(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = run(
        "sanction", "add", "--authority", "EU", "--target", "SY", "--action", "ease",
        "--measure", "x", "--measure", "=1+2", "--measure", "'@a", "--summary", "x;=1+2",
        "--legal-ref", "a, @b", "--ref", "r1",
    )  # fmt: skip
    assert created.code == 0, created.err
    first = run("export", "sanctions", "-o", "-").out
    assert ",x; '=1+2; ''@a," in first  # each item neutralised
    assert ",\"a, '@b\",x;'=1+2," in first
    # A spreadsheet that splits cells at ; or at tabs finds no formula in any cell.
    for delimiter in ";\t":
        for row in csv.reader(io.StringIO(first, newline=""), delimiter=delimiter):
            for cell in row:
                assert not FORMULA_START.match(cell.lstrip()), (delimiter, cell)
    target = tmp_path / "s.csv"
    target.write_text(first, encoding="utf-8")
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    result = run("import", "sanctions", str(target))
    assert result.code == 0, result.err
    (row,) = json.loads(run("sanction", "list", "--format", "json").out)
    assert (row["measures"], row["summary"], row["legal_ref"]) == (
        ["x", "=1+2", "'@a"], "x;=1+2", "a, @b"
    )  # fmt: skip
    assert run("export", "sanctions", "-o", "-").out == first


ITEM = st.text(alphabet=st.sampled_from("'=+-@\t\r\n ,\"aZ1é"), max_size=8).map(str.strip)


@given(
    text=st.text(alphabet=st.sampled_from("'=+-@\t\r\n ;,\"aZ1é"), max_size=12),
    items=st.lists(ITEM.filter(bool), max_size=4),
)
def test_no_reader_of_an_export_finds_a_formula_and_fintrack_reads_it_back(
    text: str, items: list[str]
) -> None:
    """Whether a reader splits cells at , or ; or tabs, heeding quotes or not, no cell it finds
    starts a formula; fintrack's import gives back the text and the list's items exactly."""
    out = io.StringIO()
    columns = [Column("summary", "Summary"), Column("measures", "Measures", "list")]
    write_csv([{"summary": text, "measures": items}], columns, out)
    data = out.getvalue()
    for delimiter in ",;\t":
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            reader = csv.reader(io.StringIO(data, newline=""), delimiter=delimiter, quoting=quoting)
            for row in reader:
                for cell in row:
                    assert not FORMULA_START.match(cell.lstrip(" ")), (delimiter, cell)
    header, cells = csv.reader(io.StringIO(data, newline=""))
    assert header == ["summary", "measures"]
    assert unneutralise(cells[0]) == text
    assert [m.strip() for m in unneutralise(cells[1]).split(";") if m.strip()] == items


# --- Files that never end, are huge, or are not files -------------------------------------------

MEMORY_LIMIT = 1 << 30  # bytes of address space for a fintrack run in a process of its own


def limited(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`fintrack ARGS` in a process of its own, with at most MEMORY_LIMIT of memory and
    `timeout` seconds (TimeoutExpired past it)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    return subprocess.run(
        [sys.executable, "-c", "from fintrack.cli import entry; entry()", *args],
        env=dict(os.environ),  # FINTRACK_DATABASE_URL: the test's database
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=limit,
    )


def assert_one_error(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert (result.returncode, result.stdout) == (1, ""), result
    (line,) = result.stderr.splitlines()
    assert line.startswith("Error: "), line
    for fragment in fragments:
        assert fragment in line, (fragment, line)


def test_a_line_of_two_gigabytes_is_refused_without_reading_it_whole(
    tmp_path: Path, empty_db: Path
) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as handle:  # a sparse file: a header, then 2 GiB of NUL bytes
        handle.write(b"authority,target,action\n")
        handle.truncate(2 << 30)
    assert_one_error(
        limited("import", "sanctions", str(huge)),
        f"{huge}: line 2 is longer than 1,048,576 characters",
    )
    header = tmp_path / "header.csv"
    header.write_text("x" * (interchange.MAX_LINE + 1) + "\n", encoding="utf-8")
    assert_one_error(
        limited("import", "sanctions", str(header)),
        f"{header}: line 1 is longer than 1,048,576 characters",
    )
    assert row_counts(empty_db) == EMPTY


@pytest.mark.parametrize("special", ["/dev/zero", "fifo"])
def test_a_device_or_a_pipe_without_a_writer_is_refused_at_once(
    tmp_path: Path, empty_db: Path, special: str
) -> None:
    path = special
    if special == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)
    assert_one_error(
        limited("import", "pledges", path, timeout=30),
        f"{path}: is not a regular file but a pipe or a device",
    )
    assert row_counts(empty_db) == EMPTY


def test_a_row_or_a_cell_too_long_is_an_error_naming_its_line(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    cell = '"' + "y" * 100_000 + '\n"'  # each cell a line of its own
    source = write(
        tmp_path / "rows.csv", ["authority,target,action", "EU,SY,ease", ",".join([cell] * 11)]
    )
    assert_error(
        run("import", "sanctions", str(source)),
        f"{source}: line 3: the row (with the line breaks in its quoted cells) is longer than "
        "1,048,576 characters",
    )
    source = write(
        tmp_path / "cell.csv", ["authority,target,action", "EU,SY,ease", f"EU,{'z' * 200_000},ease"]
    )
    assert_error(
        run("import", "sanctions", str(source)),
        f"{source}: line 3: a cell is longer than 131,072 characters",
    )
    source = tmp_path / "latin.csv"
    source.write_bytes(
        b"authority,target,action\nEU," + b"t" * 300_000 + b",ease\nEU,D\xfcsseldorf,ease\n"
    )
    assert_error(run("import", "sanctions", str(source)), f"{source}: line 3 is not UTF-8 text")
    assert row_counts(empty_db) == EMPTY


# --- Id and number cells -------------------------------------------------------------------------

# Superscript, Arabic-Indic and fullwidth two, and forms Python's int() takes.
NOT_IDS = ["²", "٢", "\uff12", "1_0", "0", "9223372036854775808", "2147483648"]
NOT_NUMBERS = ["²", "٢", "\uff12", "1_0"]
ONE_PLEDGE = ["donor,recipient,currency,pledged,announced,ref", "Q,S,USD,100,2025-05-01,p1"]


def _files(tmp_path: Path, case: str, value: str) -> tuple[list[str], str, int, str]:
    """The import arguments of a case, the file and line with the bad cell, and its column."""

    def put(name: str, lines: list[str]) -> str:
        return str(write(tmp_path / name, lines))

    if case == "sanction id":
        path = put("s.csv", ["id,authority,target,action", f"{value},EU,SY,ease"])
        return ["sanctions", path], path, 2, "id"
    if case == "pledge id":
        lines = ["id,donor,recipient,currency,pledged,announced", f"{value},Q,S,USD,1,2025-05-01"]
        path = put("p.csv", lines)
        return ["pledges", path], path, 2, "id"
    if case == "replaces":
        path = put("p.csv", ["id,donor,recipient,currency,pledged,announced,replaces",
                             "1,Q,S,USD,100,2025-05-01,", f"2,Q,S,USD,200,2025-05-01,{value}"])  # fmt: skip
        return ["pledges", path], path, 3, "replaces"
    if case == "seq":
        pledges = put("p.csv", ONE_PLEDGE)
        path = put("i.csv", ["pledge_ref,seq,due,amount", f"p1,{value},2025-06-01,100"])
        return ["installments", path, "--pledges", pledges], path, 2, "seq"
    if case == "installment":
        path = put("d.csv", ["pledge_ref,installment,paid_on,amount", f"p1,{value},2025-06-01,1"])
        return ["disbursements", path], path, 2, "installment"
    assert case == "payment id"
    path = put("d.csv", ["id,pledge_ref,installment,paid_on,amount", f"{value},p1,1,2025-06-01,1"])
    return ["disbursements", path], path, 2, "id"


@pytest.mark.parametrize(
    ("case", "value"),
    [(case, value) for case in ("sanction id", "pledge id", "replaces", "payment id")
     for value in NOT_IDS]
    + [(case, value) for case in ("seq", "installment") for value in NOT_NUMBERS],
)  # fmt: skip
def test_an_id_or_number_cell_in_other_digits_or_too_large_is_a_row_error(
    run: Run, tmp_path: Path, empty_db: Path, case: str, value: str
) -> None:
    if case in ("installment", "payment id"):
        assert run("import", "pledges", str(write(tmp_path / "one.csv", ONE_PLEDGE))).code == 0
    before = row_counts(empty_db)
    args, path, line, column = _files(tmp_path, case, value)
    result = run("import", *args)
    assert (result.code, result.out) == (1, ""), result
    *rows, last = result.err.splitlines()
    expected = f"{path}:{line}: column {column}: '{value}' is "
    assert any(
        row.startswith(expected) and ("is not" in row or "too large" in row) for row in rows
    ), result.err
    assert last.startswith("Error: ") and last.endswith("invalid; nothing was imported"), last
    assert row_counts(empty_db) == before


def test_the_largest_id_is_kept_and_installment_numbers_far_apart_are_an_error(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    source = write(tmp_path / "s.csv", ["id,authority,target,action", "2147483647,EU,SY,ease"])
    assert run("import", "sanctions", str(source)).code == 0
    assert json.loads(run("sanction", "list", "--format", "json").out)[0]["id"] == 2147483647
    # Installments numbered near 10^9: refused quickly, in little memory.
    pledges = ["donor,recipient,currency,pledged,announced,ref"]
    pledges += [f"Q,S,USD,100,2025-05-01,p{i}" for i in range(30)]
    installments = ["pledge_ref,seq,due,amount"]
    installments += [f"p{i},{999_999_999 - i},2025-06-01,100" for i in range(30)]
    result = limited(
        "import", "pledges", str(write(tmp_path / "p.csv", pledges)),
        "--installments", str(write(tmp_path / "i.csv", installments)),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr[-2000:]
    assert "are not numbered 1 to 1" in result.stderr
    assert (
        result.stderr.splitlines()[-1] == "Error: 30 of 60 rows are invalid; nothing was imported"
    )


# --- Two imports or seeds of the same records at once --------------------------------------------

# Imports (or seeds) in one transaction, says so, and holds it open until told to commit.
HOLDING_IMPORT = """
import os, sys
from pathlib import Path
from fintrack.changes import begin_change
from fintrack.formats import file_columns
from fintrack.interchange import CsvFile, Kind, Options, import_sanctions
from fintrack.seed import load_seed
from fintrack.store import Database, resource_dir

with Database(os.environ["FINTRACK_DATABASE_URL"]).session(write=True) as session:
    change = begin_change(session, "test")
    if sys.argv[1] == "seed":
        load_seed(session, resource_dir("seed"))
    else:
        path = sys.argv[1]
        columns = [c.key for c in file_columns("sanctions")]
        import_sanctions(session, CsvFile(Path(path), Kind.SANCTIONS, columns, path),
                         Options(change=change))
    print("done", flush=True)
    sys.stdin.readline()
print("committed", flush=True)
"""


@pytest.mark.parametrize("what", ["import", "seed"])
def test_a_second_import_or_seed_waits_for_the_first_and_finds_its_records(
    run: Run, tmp_path: Path, empty_db: Path, db_url: str, what: str
) -> None:
    source = write(
        tmp_path / "s.csv",
        ["id,authority,target,action,measures,ref"]
        + [f"{i},EU,T{i},ease,a; b,r{i}" for i in range(1, 201)],
    )
    args = ["import", "sanctions", str(source)] if what == "import" else ["seed"]
    first = start_python(HOLDING_IMPORT, str(source) if what == "import" else "seed")
    second: subprocess.Popen[str] | None = None
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline() == "done\n", first.stderr
        second = start_blocked(db_url, CLI, *args)  # it waits for the first to end
        first.stdin.write("commit\n")
        first.stdin.flush()
        assert first.communicate(timeout=60)[0] == "committed\n"
        out, err = second.communicate(timeout=60)
    finally:
        stop(first, second)
    assert (second.returncode, out) == (0, ""), err
    if what == "import":
        assert err.endswith(": no sanctions added, 200 sanctions already present\n"), err
        assert row_counts(empty_db)["sanction_actions"] == 200
    else:
        assert "0 sanction actions, 0 pledges, 0 claims and 0 sources added" in err, err


# Adds sanction r150 in one transaction, says so, and holds it open until told to commit.
HOLDING_ADD = """
import os, sys
from fintrack.changes import begin_change
from fintrack.sanctions import SanctionInput, add_sanction
from fintrack.store import Database
from fintrack.vocab import SanctionActionKind, SanctionStatus

with Database(os.environ["FINTRACK_DATABASE_URL"]).session(write=True) as session:
    begin_change(session, "test")
    add_sanction(session, SanctionInput(authority="UN", target="X", ref="r150",
                 action=SanctionActionKind.EASE, status=SanctionStatus.ANNOUNCED))
    print("done", flush=True)
    sys.stdin.readline()
print("committed", flush=True)
"""


def test_a_record_added_by_another_command_during_an_import_is_one_clear_error(
    run: Run, tmp_path: Path, empty_db: Path, db_url: str
) -> None:
    """SQLite makes the import wait, and it finds the record stored; on PostgreSQL an `add`
    does not wait for imports, so the import says what happened, writes nothing, and run
    again finds the record stored."""
    lines = ["authority,target,action,ref"] + [f"EU,T{i},ease,r{i}" for i in range(1, 201)]
    source = write(tmp_path / "s.csv", lines)
    first = start_python(HOLDING_ADD)
    second: subprocess.Popen[str] | None = None
    try:
        assert first.stdout is not None and first.stdin is not None
        assert first.stdout.readline() == "done\n", first.stderr
        second = start_blocked(db_url, CLI, "import", "sanctions", str(source))
        first.stdin.write("commit\n")
        first.stdin.flush()
        assert first.communicate(timeout=60)[0] == "committed\n"
        out, err = second.communicate(timeout=60)
    finally:
        stop(first, second)
    if engine() == "postgresql":
        assert (second.returncode, out) == (1, ""), err
        assert err.startswith("Error: another command added a record while this import ran ("), err
        assert err.endswith("); nothing was written; run the import again\n"), err
        assert len(err.splitlines()) == 1, err
        assert row_counts(empty_db)["sanction_actions"] == 1
        result = run("import", "sanctions", str(source))
        assert result.code == 0, result.err
        err = result.err
    else:
        assert (second.returncode, out) == (0, ""), err
    assert err.endswith(": 199 sanctions added, 1 sanction already present\n"), err
    assert row_counts(empty_db)["sanction_actions"] == 200


def test_rejects_never_replace_a_file_being_imported(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    pledges = write(tmp_path / "p.csv", [*ONE_PLEDGE, "Q,S,QQQ,1,2025-05-01,p2"])
    # The rejects of r.csv's second file go to r.installments.csv.
    installments = write(tmp_path / "r.installments.csv", ["pledge_ref,seq,due,amount"])
    before = pledges.read_bytes()
    for rejects, extra in (
        (pledges, ()),
        (tmp_path / "r.csv", ("--installments", str(installments))),
        (tmp_path / "." / "p.csv", ()),
    ):
        result = run("import", "pledges", str(pledges), *extra, "--on-error", "skip",
                     "--rejects", str(rejects))  # fmt: skip
        assert_error(result, "--rejects: would replace", "which is imported; give another file")
    assert pledges.read_bytes() == before
    assert installments.read_text(encoding="utf-8") == "pledge_ref,seq,due,amount\n"
    assert row_counts(empty_db) == EMPTY


def test_the_cell_limit_holds_whatever_another_library_set(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    # The csv module's limit is one setting for the process: followthemoney, imported by a
    # script or a test beside fintrack, raises it to 30 MB. fintrack's own limit still holds,
    # and the setting is given back as it was.
    import csv

    source = write(
        tmp_path / "cell.csv", ["authority,target,action", "EU,SY,ease", f"EU,{'z' * 200_000},ease"]
    )
    before = csv.field_size_limit(30 * 1024 * 1024)
    try:
        assert_error(
            run("import", "sanctions", str(source)),
            f"{source}: line 3: a cell is longer than 131,072 characters",
        )
        assert csv.field_size_limit() == 30 * 1024 * 1024
    finally:
        csv.field_size_limit(before)
    assert row_counts(empty_db) == EMPTY

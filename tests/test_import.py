"""`fintrack import KIND FILE`: checked before writing, idempotent, exact round trips, real files."""

import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintrack.formats import Column, write_csv
from fintrack.spreadsheet import unneutralise
from tests.cases import EU_URL, OFAC_URL, QATAR_REF, QATAR_URL, founding_case, source
from tests.conftest import QATAR, Result, Run, added, assert_error, row_counts, url_of

KINDS = (
    "sanctions", "pledges", "installments", "disbursements", "rates", "sources", "links",
)  # fmt: skip


def count(path: Path, table: str) -> int:
    """The rows of a table in the test's database, on either engine."""
    from sqlalchemy import text

    from fintrack.store import Database

    engine = Database(url_of(path)).engine
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(rows)


def rates_count(path: Path) -> int:
    """Exchange rates stored in the test's database, on either engine."""
    return count(path, "exchange_rates")


def stored(path: Path) -> dict[str, int]:
    """`row_counts`, with the sources, their links, and the changes of the history."""
    tables = ("sources", "source_links", "changes")
    return {**row_counts(path), **{table: count(path, table) for table in tables}}


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def export_all(run: Run, folder: Path) -> dict[str, bytes]:
    folder.mkdir(exist_ok=True)
    files = {}
    for kind in KINDS:
        target = folder / f"{kind}.csv"
        result = run("export", kind, "-o", str(target))
        assert result.code == 0, result.err
        files[kind] = target.read_bytes()
    return files


def import_all(run: Run, folder: Path, *extra: str) -> list[Result]:
    return [
        run("import", "sanctions", str(folder / "sanctions.csv"), *extra),
        run(
            "import", "pledges", str(folder / "pledges.csv"),
            "--installments", str(folder / "installments.csv"), *extra,
        ),
        run("import", "disbursements", str(folder / "disbursements.csv"), *extra),
        run("import", "rates", str(folder / "rates.csv"), *extra),
        run("import", "sources", str(folder / "sources.csv"), *extra),
        run("import", "links", str(folder / "links.csv"), *extra),
    ]  # fmt: skip


@pytest.fixture
def recorded(run: Run) -> Run:
    """The founding case with payments, a hostile pledge, two identical pledges without a ref,
    a pledge with a line break in its purpose, exchange rates, sources with formula-like
    titles, two sources without a URL that read the same, and a claim with its source."""
    founding_case(run)
    hyperlink = source(run, "--title", '=HYPERLINK("http://x")')
    assert run("pay", "1", "40M", "--on", "2025-06-10", "--source", hyperlink).code == 0
    formula = source(run, "--title", "=1+2", "--publisher", "@ministry")
    hostile = ("--donor", "@Saudi", "--recipient", "+Syria", "--currency", "SAR", "--amount", "100M",
               "--installments", "3", "--every", "quarter", "--first-due", "2025-07-01",
               "--on", "2025-06-15", "--purpose", "-budget\nsupport", "--source", formula)  # fmt: skip
    added(run, "pledge", "add", *hostile)
    added(
        run,
        "pledge",
        "add",
        "--donor",
        "@Saudi",
        "--recipient",
        "+Syria",
        "--currency",
        "SAR",
        "--amount",
        "100M",
        "--on",
        "2025-07-01",
        "--status",
        "commitment",
        "--replaces",
        "2",
        "--ref",
        "sa-commitment",
    )
    for confidence in ("unverified", "reported"):
        # Two press conferences that read the same, each the source of one of two pledges
        # that read the same.
        press = source(run, "--title", "Press conference", "--published", "2025-03-01")
        added(
            run,
            "pledge",
            "add",
            "--donor",
            "Kuwait",
            "--recipient",
            "Syria",
            "--currency",
            "KWD",
            "--amount",
            "1.5M",
            "--on",
            "2025-03-01",
            "--source",
            press,
            "--confidence",
            confidence,
            "--allow-duplicate",
        )
    assert run("pay", "4", "500k", "--on", "2025-04-01").code == 0
    added(
        run, "claim", "add", "--subject", "UAE back channel", "--statement", "A back channel",
        "--source", "https://example.org/report",
    )  # fmt: skip
    added(
        run,
        "sanction",
        "add",
        "--authority",
        "UN",
        "--target",
        "SY",
        "--action",
        "ease",
        "--summary",
        "-minus; =plus",
    )
    for day, rate in (("2025-05-01", "1.1275"), ("2025-05-02", "1.13")):
        assert run("rate", "add", "EUR", "USD", rate, "--on", day).code == 0
    assert run("rate", "add", "USD", "SYP", "13,000", "--on", "2025-05-01").code == 0
    return run


def test_round_trip_into_an_empty_database_is_byte_identical_for_every_kind(
    recorded: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = export_all(recorded, tmp_path / "a")
    assert b"'=HYPERLINK" in first["sources"]
    assert b",'@Saudi,'+Syria,\"'-budget\nsupport\"," in first["pledges"]
    other = tmp_path / "other.db"
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{other}")
    for result in import_all(recorded, tmp_path / "a"):
        assert result.code == 0, result.err
    second = export_all(recorded, tmp_path / "b")
    for kind in KINDS:
        assert second[kind] == first[kind], kind
    # The hostile text is stored as it was given, not with the quote added for spreadsheets.
    donors = [row["donor"] for row in as_json_rows(recorded, "pledge", "list")]
    assert "@Saudi" in donors


def as_json_rows(run: Run, *args: str) -> list[dict[str, Any]]:
    result = run(*args, "--format", "json")
    assert result.code == 0, result.err
    rows: list[dict[str, Any]] = json.loads(result.out)
    return rows


def test_importing_the_same_files_twice_adds_nothing(
    recorded: Run, tmp_path: Path, db_path: Path
) -> None:
    export_all(recorded, tmp_path / "a")
    before = stored(db_path), rates_count(db_path)
    results = import_all(recorded, tmp_path / "a")
    assert [r.code for r in results] == [0, 0, 0, 0, 0, 0]
    # Nothing is written, not even a change for the history.
    assert (stored(db_path), rates_count(db_path)) == before
    assert "no pledges added, 5 pledges, 9 installments already present" in results[1].err
    assert "no disbursements added, 3 disbursements already present" in results[2].err
    assert "no sources added, 9 sources already present" in results[4].err
    assert "no links added, 10 links already present" in results[5].err


def test_records_without_a_ref_are_matched_by_their_content(
    recorded: Run, tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_all(recorded, tmp_path / "a")
    pledges = (tmp_path / "a" / "pledges.csv").read_text(encoding="utf-8")
    assert pledges.count("Kuwait") == 2  # two identical pledges, neither with a ref
    installments = (tmp_path / "a" / "installments.csv").read_text(encoding="utf-8").splitlines()
    kuwait = [line.rsplit(",", 1)[1] for line in installments if ",KWD," in line]
    assert len(kuwait) == 2 and kuwait[0].startswith("~") and kuwait[1] == f"{kuwait[0]}-2"
    # Into a database that holds one of the two, exactly the other is added.
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    added(
        recorded,
        "pledge",
        "add",
        "--donor",
        "Kuwait",
        "--recipient",
        "Syria",
        "--currency",
        "KWD",
        "--amount",
        "1.5M",
        "--on",
        "2025-03-01",
    )
    result = recorded(
        "import",
        "pledges",
        str(tmp_path / "a" / "pledges.csv"),
        "--installments",
        str(tmp_path / "a" / "installments.csv"),
    )
    assert result.code == 0, result.err
    assert "4 pledges, 8 installments added, 1 pledge, 1 installment already present" in result.err
    assert [r["donor"] for r in as_json_rows(recorded, "pledge", "list")].count("Kuwait") == 2


def test_dry_run_reports_what_would_be_added_and_writes_nothing(
    recorded: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export_all(recorded, tmp_path / "a")
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert recorded("db", "upgrade").code == 0
    before = row_counts(tmp_path / "empty.db")
    result = recorded(
        "import",
        "pledges",
        str(tmp_path / "a" / "pledges.csv"),
        "--installments",
        str(tmp_path / "a" / "installments.csv"),
        "--dry-run",
    )
    assert result.code == 0, result.err
    assert result.out == ""
    assert (
        "would add 5 pledges, 9 installments; nothing already present; nothing written"
        in result.err
    )
    assert row_counts(tmp_path / "empty.db") == before


PLEDGE_HEADER = "donor,recipient,currency,pledged,announced,ref"


def test_every_bad_row_is_listed_with_file_line_and_column_and_nothing_is_written(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    lines = [PLEDGE_HEADER]
    for n in range(40):
        amount = "29x" if n % 2 else "1000"
        day = "2025-13-01" if n == 5 else "2025-05-01"
        lines.append(f"Qatar,Syria,USD,{amount},{day},p{n}")
    source = write(tmp_path / "pledges.csv", "\n".join(lines) + "\n")
    result = run("import", "pledges", str(source))
    assert result.code == 1 and result.out == ""
    errors = result.err.splitlines()
    assert errors[0] == (
        f"{source}:3: column pledged: '29x' is not an amount; use a positive number in the "
        "digits 0-9 such as 29000000, 29,000,000, 29M, 1.5bn or 29000000.50 (a dot is the "
        "decimal point; a comma may separate thousands)"
    )
    assert (
        errors[3]
        == f"{source}:7: column announced: '2025-13-01' is not a date; use YYYY-MM-DD, such as 2025-06-01"
    )
    assert len(errors) == 22
    assert errors[20] == "... and 1 more"
    assert errors[21] == "Error: 20 of 40 rows are invalid; nothing was imported"
    assert row_counts(empty_db)["pledges"] == 0


def test_on_error_skip_imports_the_good_rows_and_writes_the_bad_ones_with_a_reason(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    source = write(
        tmp_path / "pledges.csv",
        f"{PLEDGE_HEADER}\nQatar,Syria,USD,87M,2025-05-08,q1\nQatar,Syria,QQQ,1M,2025-05-08,q2\n,Syria,USD,5M,2025-05-08,=q3\nQatar,Syria,USD,1M,2025-05-09,q1\n",
    )
    rejects = tmp_path / "rejects.csv"
    result = run("import", "pledges", str(source), "--on-error", "skip", "--rejects", str(rejects))
    assert result.code == 0, result.err
    assert "1 pledge, 1 installment added" in result.err
    assert f"3 bad rows rejected, written to {rejects}" in result.err
    assert row_counts(empty_db)["pledges"] == 1
    rows = list(csv.reader(rejects.open(encoding="utf-8")))
    assert rows[0] == [*PLEDGE_HEADER.split(","), "reason"]
    assert rows[1][:6] == ["Qatar", "Syria", "QQQ", "1M", "2025-05-08", "q2"]
    assert rows[1][6].startswith("line 3: column currency: 'QQQ' is not an ISO 4217 currency code")
    assert rows[2][5] == "'=q3"  # neutralised for the spreadsheet it is opened in
    assert rows[2][6] == "line 4: column donor: is empty; a value is required"
    assert rows[3][6] == "line 5: column ref: 'q1' is also the ref of line 2"
    # Corrected, the rejects file imports as it is (its reason column is ignored).
    fixed = (
        rejects.read_text(encoding="utf-8")
        .replace("QQQ", "USD")
        .replace("\n,Syria", "\nOman,Syria")
        .replace("2025-05-09,q1", "2025-05-09,q4")
    )
    rejects.write_text(fixed, encoding="utf-8")
    result = run("import", "pledges", str(rejects))
    assert result.code == 0, result.err
    refs = sorted(r["ref"] for r in as_json_rows(run, "pledge", "list"))
    assert refs == ["=q3", "q1", "q2", "q4"]


def test_rejects_goes_with_skip(run: Run, tmp_path: Path) -> None:
    source = write(tmp_path / "p.csv", f"{PLEDGE_HEADER}\n")
    assert_error(run("import", "pledges", str(source), "--on-error", "skip"), "--rejects")
    assert_error(
        run("import", "pledges", str(source), "--rejects", str(tmp_path / "r.csv")), "--rejects"
    )
    assert_error(
        run("import", "sanctions", str(source), "--installments", str(source)), "--installments"
    )


def test_a_file_saved_by_excel_is_read(run: Run, tmp_path: Path) -> None:
    """Byte-order mark, ; between cells, CRLF line ends, a quoted line break, amounts with
    separators between thousands, trailing blank and empty-cell lines."""
    text = (
        "donor;recipient;currency;pledged;announced;purpose;ref\r\n"
        'Qatar;Syria;USD;87,000,000.00;2025-05-08;"salaries\r\nthree months";qa-1\r\n'
        "Saudi Arabia;Syria;SAR;100 000 000;2025-06-15;budget;sa-1\r\n"
        "Kuwait;Syria;KWD;1\u00a0500\u00a0000.500;2025-03-01;;kw-1\r\n"
        ";;;;;;\r\n\r\n\r\n"
    )
    source = write(tmp_path / "excel.csv", "\ufeff" + text, encoding="utf-8")
    result = run("import", "pledges", str(source))
    assert result.code == 0, result.err
    rows = as_json_rows(run, "pledge", "list")
    assert [(r["ref"], r["pledged"], r["currency"]) for r in rows] == [
        ("kw-1", "1500000.500", "KWD"),
        ("qa-1", "87000000.00", "USD"),
        ("sa-1", "100000000.00", "SAR"),
    ]
    assert rows[1]["purpose"] == "salaries\r\nthree months"
    assert rows[1]["next_due"] == "2025-05-08"


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"", ("is empty; the first line must name the columns",)),
        (b"donor\trecipient\tcurrency\tpledged\n", ("tabs",)),
        (
            b"donor,recipient,currency,pledged,colour\n",
            ("line 1: 'colour' is not a column of pledges",),
        ),
        (b"donor,recipient,currency\n", ("line 1: no column pledged",)),
        (b"donor,recipient,currency,pledged,donor\n", ("column 'donor' appears twice",)),
        (
            "donor,recipient,currency,pledged\nD\xfcsseldorf,Syria,EUR,1M\n".encode("latin-1"),
            ("line 2 is not UTF-8 text",),
        ),
        (b'donor,recipient,currency,pledged\n"Qatar,Syria,USD,1M\n', ("a quote left open",)),
    ],
)
def test_anything_else_is_a_clear_error(
    run: Run, tmp_path: Path, content: bytes, fragments: tuple[str, ...]
) -> None:
    source = tmp_path / "p.csv"
    source.write_bytes(content)
    assert_error(run("import", "pledges", str(source)), str(source), *fragments)


def test_missing_file_and_decimal_comma(run: Run, tmp_path: Path) -> None:
    assert_error(run("import", "sanctions", str(tmp_path / "nope.csv")), "nope.csv: no such file")
    source = write(
        tmp_path / "p.csv", "donor;recipient;currency;pledged\nQatar;Syria;USD;29.000.000,00\n"
    )
    result = run("import", "pledges", str(source))
    assert "column pledged: '29.000.000,00' has a decimal comma" in result.err
    assert result.err.splitlines()[-1] == "Error: 1 of 1 rows are invalid; nothing was imported"


def test_hostile_cells_are_neutralised_on_export_and_restored_on_import(
    run: Run, tmp_path: Path
) -> None:
    source = write(
        tmp_path / "hostile.csv",
        "authority,target,action,summary,legal_ref,ref\n"
        "EU,'+1+2,ease,=cmd|' /C calc'!A0,@SUM(A1),h1\n"
        "EU,''=already quoted,ease,-2+3,plain 'quote',h2\n",
    )
    result = run("import", "sanctions", str(source))
    assert result.code == 0, result.err
    rows = as_json_rows(run, "sanction", "list")
    assert [(r["summary"], r["target"], r["legal_ref"]) for r in rows] == [
        ("=cmd|' /C calc'!A0", "+1+2", "@SUM(A1)"),
        ("-2+3", "'=already quoted", "plain 'quote'"),
    ]
    exported = run("export", "sanctions", "-o", "-").out
    assert ",'+1+2,ease,,announced," in exported
    assert ",'@SUM(A1),'=cmd|' /C calc'!A0,h1" in exported
    assert ",''=already quoted,ease," in exported
    assert ",plain 'quote','-2+3,h2" in exported
    assert ",1,EU," not in exported and exported.splitlines()[1].startswith(
        "1,EU,"
    )  # numbers stay numbers


def test_pledges_without_installments_get_one_and_schedules_are_checked(
    run: Run, tmp_path: Path, empty_db: Path
) -> None:
    pledges = write(
        tmp_path / "p.csv",
        "donor,recipient,currency,pledged,installments,next_due,ref\nQatar,Syria,USD,87M,3,2025-05-08,q\n",
    )
    assert (
        "'3' installments, but none are given; give them with --installments FILE"
        in run("import", "pledges", str(pledges)).err
    )
    schedule = write(
        tmp_path / "i.csv",
        "pledge_ref,seq,due,amount,currency\nq,1,2025-05-08,29M,USD\nq,2,2025-06-08,29M,USD\nq,2,2025-07-08,29M,USD\nnobody,1,2025-05-08,1M,USD\nq,3,2025-07-08,1,EUR\n",
    )
    errors = run(
        "import", "pledges", str(pledges), "--installments", str(schedule)
    ).err.splitlines()
    assert errors == [
        f"{pledges}:2: its installment on {schedule}:4 is invalid",
        f"{schedule}:4: column seq: '2' appears twice for pledge 'q'",
        f"{schedule}:5: column pledge_ref: no pledge 'nobody' in {pledges} nor in the database",
        f"{schedule}:6: column currency: 'EUR' is not the pledge's currency USD",
        "Error: 4 of 6 rows are invalid; nothing was imported",
    ]
    schedule.write_text(
        "pledge_ref,seq,due,amount\nq,1,2025-05-08,29M\nq,2,2025-06-08,29M\nq,3,2025-07-08,28M\n"
    )
    assert (
        f"{pledges}:2: column pledged: '87000000.00' is not the sum of its installments in {schedule} (86000000.00)"
        in run("import", "pledges", str(pledges), "--installments", str(schedule)).err
    )
    schedule.write_text(
        "pledge_ref,seq,due,amount\nq,1,2025-05-08,29M\nq,2,2025-06-08,29M\nq,3,2025-07-08,29M\n"
    )
    result = run("import", "installments", str(schedule), "--pledges", str(pledges))
    assert result.code == 0, result.err
    assert row_counts(empty_db)["installments"] == 3
    assert run("import", "installments", str(schedule)).code == 0  # its pledge is stored: skipped
    assert row_counts(empty_db)["installments"] == 3


def test_disbursements_and_rates_are_checked_against_what_is_stored(
    run: Run, tmp_path: Path
) -> None:
    added(run, *QATAR, "--ref", "q")
    payments = write(
        tmp_path / "d.csv",
        "pledge_ref,installment,paid_on,amount,currency\nq,1,2025-05-20,29M,USD\nq,4,2025-05-20,1M,USD\nz,1,2025-05-20,1M,USD\nq,2,2025-05-20,1M,EUR\n",
    )
    assert run("import", "disbursements", str(payments)).err.splitlines() == [
        f"{payments}:3: column installment: '4' is not an installment of pledge 'q' (it has 1 to 3)",
        f"{payments}:4: column pledge_ref: no pledge 'z' in the database; import pledges first",
        f"{payments}:5: column currency: 'EUR' is not the pledge's currency USD",
        "Error: 3 of 4 rows are invalid; nothing was imported",
    ]
    assert run("rate", "add", "EUR", "USD", "1.1275", "--on", "2025-05-01").code == 0
    rates = write(
        tmp_path / "r.csv",
        "base,quote,on,rate\nEUR,USD,2025-05-01,1.1275\nEUR,USD,2025-05-01,1.13\nUSD,USD,2025-05-01,1\nGBP,USD,2025-05-01,-1\n",
    )
    errors = run("import", "rates", str(rates)).err.splitlines()
    assert errors[:3] == [
        f"{rates}:3: EUR/USD on 2025-05-01 is also on line 2",
        f"{rates}:4: column quote: 'USD' is the base currency too; a rate needs two",
        f"{rates}:5: column rate: '-1' must be greater than zero",
    ]


def test_export_json_and_jsonl_write_amounts_as_exact_decimal_text(
    run: Run, tmp_path: Path
) -> None:
    added(run, *QATAR)
    target = tmp_path / "i.json"
    assert run("export", "installments", "-o", str(target), "--format", "json").code == 0
    rows = json.loads(target.read_text(encoding="utf-8"))
    assert rows[0]["amount"] == "29000000.00" and rows[0]["currency"] == "USD"
    assert (
        target.read_text(encoding="utf-8") == json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    )
    lines = run("export", "installments", "-o", "-", "--format", "jsonl").out.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == [1, 2, 3]
    listed = run("pledge", "list", "--format", "jsonl").out.splitlines()
    assert len(listed) == 1 and json.loads(listed[0])["pledged"] == "87000000.00"
    assert run("totals", "--format", "jsonl").out.count("\n") == 2
    assert run("export", "pledges", "-o", "-", "--format", "json").out.startswith(
        '[\n  {\n    "id": 1,'
    )
    assert run("sanction", "list", "--format", "json").out == "[]\n"


def test_progress_is_not_shown_when_stderr_is_not_a_terminal(run: Run, tmp_path: Path) -> None:
    added(run, *QATAR)
    target = tmp_path / "p.csv"
    result = run("export", "pledges", "-o", str(target))
    assert result.err == f"Wrote 1 row of pledges to {target}\n"
    assert run("export", "pledges", "-o", str(target), "--quiet").err == ""
    assert run("import", "pledges", str(target), "-q").err == ""


@given(st.text(alphabet=st.sampled_from("'=+-@\t\r\n ;,\"aZ1é"), max_size=12))
def test_neutralised_text_cells_read_back_exactly_through_csv(text: str) -> None:
    out = io.StringIO()
    columns = [Column("summary", "Summary"), Column("count", "Count", "int")]
    write_csv([{"summary": text, "count": -5}], columns, out)
    header, cells = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert header == ["summary", "count"]
    assert cells[1] == "-5"  # numbers stay numbers
    assert not cells[0] or cells[0][0] not in "=+-@\t\r"
    assert unneutralise(cells[0]) == text


def test_every_export_column_is_read_by_import() -> None:
    from fintrack.formats import file_columns
    from fintrack.interchange import DERIVED, REQUIRED, Kind

    for kind in Kind:
        keys = {c.key for c in file_columns(kind.value)}
        assert set(REQUIRED[kind]) <= keys, kind
        assert set(DERIVED[kind]) <= keys, kind


def test_records_added_after_an_import_get_new_ids(run: Run, tmp_path: Path) -> None:
    """The import keeps the file's ids; the next record added with a command gets an id past
    them (on PostgreSQL the import moves each table's sequence on)."""
    pledges = write(
        tmp_path / "p.csv",
        "id,donor,recipient,currency,pledged,announced,ref\n2,Qatar,Syria,USD,87M,2025-05-08,q\n",
    )
    sanctions = write(tmp_path / "s.csv", "id,authority,target,action\n2,EU,SY,ease\n")
    payments = write(
        tmp_path / "d.csv",
        "id,pledge_ref,installment,paid_on,amount\n2,q,1,2025-05-21,1M\n",
    )
    un = ("sanction", "add", "--authority", "UN", "--target", "SY", "--action")
    assert added(run, *QATAR) == 1
    assert added(run, *un, "ease") == 1
    assert added(run, "pay", "1", "1M", "--on", "2025-05-20") == 1
    for kind, path in (("pledges", pledges), ("sanctions", sanctions), ("disbursements", payments)):
        result = run("import", kind, str(path))
        assert result.code == 0, result.err
    # The imported pledge 2 reads like QATAR: a duplicate, added on purpose.
    assert added(run, *QATAR, "--allow-duplicate") == 3
    assert added(run, *un, "lift") == 3
    assert added(run, "pay", "2", "1M", "--on", "2025-05-22") == 3


# --- Sources and links ------------------------------------------------------------------------

SOURCE_HEADER = "key,url,title,publisher,published,retrieved"
LINK_HEADER = "kind,record,source,confidence"


def test_sources_and_links_files_name_every_record_by_its_key(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    founding_case(run)
    files = export_all(run, tmp_path / "a")
    sources = files["sources"].decode().splitlines()
    assert sources[0] == SOURCE_HEADER
    assert sources[1] == f"{QATAR_URL},{QATAR_URL},,,,{date.today()}"
    statement = sources[4].split(",")[0]
    assert statement.startswith("~") and len(statement) == 17
    assert sources[4].endswith(
        ",,Statement of the Syrian finance minister on salaries,SANA,2025-05-08,2025-05-09"
    )
    uk = files["sanctions"].decode().splitlines()[3]
    assert uk.startswith("3,UK,") and uk.endswith(",")  # no ref: its key is derived
    links = files["links"].decode().splitlines()
    assert links[0] == LINK_HEADER
    assert links[1] == f"pledge,{QATAR_REF},{QATAR_URL},confirmed"
    assert links[2] == f"sanction,eu-2025-406-suspension,{EU_URL},confirmed"
    assert links[3] == f"sanction,us-ofac-gl24-2025-01-06,{OFAC_URL},reported"
    uk_key = links[4].split(",")[1]
    assert uk_key.startswith("~") and links[4] == f"sanction,{uk_key},{OFAC_URL},confirmed"
    assert links[5] == f"sanction,{uk_key},{statement},denied"
    assert len(links) == 6

    # Into an empty database: the records, then their sources and links, give each record
    # its standing back.
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    results = import_all(run, tmp_path / "a")
    assert [r.code for r in results] == [0] * 6, [r.err for r in results]
    assert "4 sources added" in results[4].err and "5 links added" in results[5].err
    standing = {r["id"]: r["confidence"] for r in as_json_rows(run, "sanction", "list")}
    assert standing == {1: "confirmed", 2: "reported", 3: "confirmed"}
    assert export_all(run, tmp_path / "b") == files


def one_row_error(result: Result, message: str) -> None:
    """A file with one bad row: its error, then the one `Error:` line, and nothing stored."""
    assert result.code == 1 and result.out == "", result
    assert result.err.splitlines() == [
        message,
        "Error: 1 of 1 rows are invalid; nothing was imported",
    ]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (",ftp://example.org/a,,,,", "url", "'ftp://example.org/a' is not a web address (http:// or https://)"),
        (",https://example .org,,,,", "url", "'https://example .org' is not a web address (http:// or https://)"),
        (",,,SANA,2025-05-08,", "title", "is empty, and so is url; a source needs a url, a title or both"),
        (",,Statement,,2025-05-08,2025-05-01", "retrieved", "'2025-05-01' is before published 2025-05-08"),
        (",,Statement,,2025-13-08,", "published", "'2025-13-08' is not a date; use YYYY-MM-DD, such as 2025-06-01"),
        (",,Statement," + "P" * 201 + ",,", "publisher", "at most 200 characters (got 201)"),
        ("https://example.org/b,https://example.org/a,,,,", "key", "'https://example.org/b' is not this source's key https://example.org/a (its url)"),
    ],
)  # fmt: skip
def test_a_bad_source_row_is_an_error_and_nothing_is_stored(
    run: Run, tmp_path: Path, empty_db: Path, row: str, column: str, message: str
) -> None:
    changes = count(empty_db, "changes")
    path = write(tmp_path / "sources.csv", f"{SOURCE_HEADER}\n{row}\n")
    one_row_error(run("import", "sources", str(path)), f"{path}:2: column {column}: {message}")
    assert count(empty_db, "sources") == 0
    assert count(empty_db, "changes") == changes


def test_sources_are_matched_by_url_or_content_and_a_stored_one_is_left_as_it_is(
    run: Run, tmp_path: Path, db_path: Path
) -> None:
    founding_case(run)
    path = write(
        tmp_path / "sources.csv",
        f"{SOURCE_HEADER}\n"
        f",{QATAR_URL},A title the stored source does not have,Reuters,,\n"
        ",,Press conference,,2025-03-01,\n"
        ",,Press conference,,2025-03-01,\n"
        ",,=1+2,@ministry,,\n"
        ",https://example.org/a,,,,\n"
        ",https://example.org/a,,,,\n",
    )
    result = run("import", "sources", str(path))
    assert result.err.splitlines() == [
        f"{path}:7: column url: 'https://example.org/a' is also on line 6",
        "Error: 1 of 6 rows are invalid; nothing was imported",
    ]
    rejects = tmp_path / "rejects.csv"
    result = run(
        "import", "sources", str(path), "--on-error", "skip", "--rejects", str(rejects), "--dry-run"
    )
    assert result.code == 0, result.err
    assert "would add 4 sources; 1 source already present; nothing written" in result.err
    assert count(db_path, "sources") == 4 and not rejects.exists()
    result = run("import", "sources", str(path), "--on-error", "skip", "--rejects", str(rejects))
    assert result.code == 0, result.err
    assert "4 sources added, 1 source already present; 1 bad row rejected" in result.err
    assert (
        rejects.read_text(encoding="utf-8")
        .splitlines()[1]
        .endswith("line 7: column url: 'https://example.org/a' is also on line 6")
    )
    listed = as_json_rows(run, "source", "list")
    assert listed[0]["url"] == QATAR_URL and listed[0]["title"] is None  # left as it was
    assert [r["title"] for r in listed[4:]] == [
        "Press conference",
        "Press conference",
        "=1+2",
        None,
    ]
    assert listed[6]["publisher"] == "@ministry" and listed[5]["retrieved"] is None
    # The two press conferences are two sources: the file names them ~key and ~key-2.
    exported = run("export", "sources", "-o", "-").out.splitlines()
    press = [line.split(",")[0] for line in exported if "Press conference" in line]
    assert press[1] == f"{press[0]}-2"
    # Corrected or not, the rejected row names a source stored by now.
    assert "1 source already present" in run("import", "sources", str(rejects)).err
    again = run("import", "sources", str(path), "--on-error", "skip", "--rejects", str(rejects))
    assert "no sources added, 5 sources already present" in again.err


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (f"pledge,{QATAR_REF},{QATAR_URL},sure", "confidence", "'sure' is not one of confirmed, reported, unverified, denied"),
        (f"pledge,{QATAR_REF},{QATAR_URL},", "confidence", "is empty; a value is required"),
        (f"pledge,{QATAR_REF},https://example.org/unknown,reported", "source", "no source 'https://example.org/unknown' in the database; import sources first"),
        (f"pledge,~0123456789abcdef,{QATAR_URL},reported", "record", "no pledge '~0123456789abcdef' in the database; import pledges first"),
        (f"sanction,{QATAR_REF},{QATAR_URL},reported", "record", f"no sanction '{QATAR_REF}' in the database; import sanctions first"),
        (f"payment,{QATAR_REF},{QATAR_URL},reported", "record", f"no payment '{QATAR_REF}' in the database; import disbursements first"),
        (f"claim,c1,{QATAR_URL},reported", "kind", "claims are not imported yet, and neither are their links"),
        (f"grant,{QATAR_REF},{QATAR_URL},reported", "kind", "'grant' is not one of sanction, pledge, payment"),
    ],
)  # fmt: skip
def test_a_bad_link_row_is_an_error_and_nothing_is_stored(
    run: Run, tmp_path: Path, db_path: Path, row: str, column: str, message: str
) -> None:
    founding_case(run)
    before = stored(db_path)
    path = write(tmp_path / "links.csv", f"{LINK_HEADER}\n{row}\n")
    one_row_error(run("import", "links", str(path)), f"{path}:2: column {column}: {message}")
    assert stored(db_path) == before


def test_links_are_added_or_changed_once_and_the_history_keeps_the_old_confidence(
    run: Run, tmp_path: Path, db_path: Path
) -> None:
    founding_case(run)
    path = write(
        tmp_path / "links.csv",
        f"{LINK_HEADER}\n"
        f"pledge,{QATAR_REF},{QATAR_URL},denied\n"
        f"sanction,eu-2025-406-suspension,{EU_URL},confirmed\n"
        f"sanction,eu-2025-406-suspension,{OFAC_URL},reported\n"
        f"Pledge,{QATAR_REF},{EU_URL},Unverified\n",
    )
    before = stored(db_path)
    result = run("import", "links", str(path), "--dry-run")
    assert result.code == 0, result.err
    assert (
        "would add 2 links and change the confidence of 1 link; 1 link already present; "
        "nothing written" in result.err
    )
    assert stored(db_path) == before
    changes = count(db_path, "changes")
    result = run("import", "links", str(path), "--analyst", "Lina")
    assert result.code == 0, result.err
    assert "2 links added, the confidence of 1 link changed, 1 link already present" in result.err
    assert count(db_path, "source_links") == before["source_links"] + 2
    assert count(db_path, "changes") == changes + 1
    assert count(db_path, "source_links_history") == 1  # the confirmed link, as it was
    pledge = as_json_rows(run, "history", "pledge", "1")
    changed = [r for r in pledge if r["analyst"] == "Lina"]
    assert [(r["field"], r["from"], r["to"]) for r in changed] == [
        ("confidence", "confirmed", "denied"),
        ("added", "", "unverified"),
    ]
    assert changed[0]["command"].startswith("fintrack import links ")
    duplicate = write(
        tmp_path / "twice.csv", f"{LINK_HEADER}\n" + 2 * f"pledge,{QATAR_REF},{QATAR_URL},denied\n"
    )
    assert run("import", "links", str(duplicate)).err.splitlines()[0] == (
        f"{duplicate}:3: source '{QATAR_URL}' of pledge '{QATAR_REF}' is also on line 2"
    )
    again = run("import", "links", str(path))
    assert "no links added, 4 links already present" in again.err
    assert count(db_path, "changes") == changes + 1


def test_an_import_is_one_change_made_by_the_analyst(
    run: Run, tmp_path: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    founding_case(run)
    export_all(run, tmp_path / "a")
    monkeypatch.setenv("FINTRACK_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    monkeypatch.setenv("FINTRACK_ANALYST", "Omar")
    folder = tmp_path / "a"
    for result in (
        run("import", "sanctions", str(folder / "sanctions.csv"), "--analyst", "Lina"),
        run(
            "import", "pledges", str(folder / "pledges.csv"),
            "--installments", str(folder / "installments.csv"), "--analyst", "Lina",
        ),
    ):  # fmt: skip
        assert result.code == 0, result.err
    assert run("import", "sources", str(tmp_path / "a" / "sources.csv")).code == 0
    from sqlalchemy import text

    from fintrack.store import Database

    engine = Database(f"sqlite:///{tmp_path / 'other.db'}").engine
    with engine.connect() as connection:
        changes = connection.execute(
            text("SELECT id, analyst, command FROM changes ORDER BY id")
        ).all()  # a new database starts with no change
        stamped = {
            table: set(connection.execute(text(f"SELECT change_id FROM {table}")).scalars())
            for table in (
                "sanction_actions",
                "sanction_measures",
                "pledges",
                "installments",
                "sources",
            )
        }
    engine.dispose()
    assert [(analyst, command.split(" ")[:3]) for _, analyst, command in changes] == [
        ("Lina", ["fintrack", "import", "sanctions"]),
        ("Lina", ["fintrack", "import", "pledges"]),
        ("Omar", ["fintrack", "import", "sources"]),
    ]
    sanctions, pledges, sources = (change_id for change_id, _, _ in changes)
    assert stamped == {
        "sanction_actions": {sanctions},
        "sanction_measures": {sanctions},
        "pledges": {pledges},
        "installments": {pledges},
        "sources": {sources},
    }
    history = as_json_rows(run, "history", "sanction", "1")
    assert {(r["change"], r["analyst"]) for r in history} == {(sanctions, "Lina")}


def test_export_leaves_voided_records_out_and_import_leaves_them_void(
    run: Run, tmp_path: Path, db_path: Path
) -> None:
    founding_case(run)
    oman = ("pledge", "add", "--donor", "Oman", "--recipient", "Syria", "--currency", "USD",
            "--amount", "5M", "--on", "2025-05-10", "--source", OFAC_URL)  # fmt: skip
    assert added(run, *oman) == 2
    assert added(run, *oman[:-2], "--status", "commitment", "--replaces", "2", "--ref", "om") == 3
    assert added(run, "pay", "1", "1M", "--on", "2025-05-20", "--source", EU_URL) == 1
    before = export_all(run, tmp_path / "before")
    for kind, record in (("sanction", "3"), ("pledge", "2"), ("payment", "1")):
        assert run("void", kind, record, "--reason", "entered in error").code == 0
    after = export_all(run, tmp_path / "after")
    assert b"UK" in before["sanctions"] and b"UK" not in after["sanctions"]
    pledges = list(csv.DictReader(io.StringIO(after["pledges"].decode())))
    assert [(p["id"], p["replaces"]) for p in pledges] == [("1", ""), ("3", "")]
    assert b"\n2,1,2025-05-10," in before["installments"]
    assert b"\n2,1," not in after["installments"]
    assert len(before["disbursements"].splitlines()) == 2
    assert len(after["disbursements"].splitlines()) == 1
    assert len(before["links"].splitlines()) == 8 and len(after["links"].splitlines()) == 4
    assert after["sources"] == before["sources"]  # sources are never voided

    # The older files name the voided records: they are left void, not brought back.
    counts = stored(db_path)
    results = import_all(run, tmp_path / "before")
    assert [r.code for r in results] == [0] * 6, [r.err for r in results]
    assert "1 sanction voided in this database left out" in results[0].err
    assert "1 pledge, 1 installment voided in this database left out" in results[1].err
    assert "1 disbursement voided in this database left out" in results[2].err
    assert "4 links voided in this database left out" in results[5].err
    assert stored(db_path) == counts
    assert export_all(run, tmp_path / "again") == after
    # A new pledge cannot replace a pledge voided here.
    replacing = write(
        tmp_path / "replacing.csv",
        "id,donor,recipient,currency,pledged,announced,replaces,ref\n"
        "2,Oman,Syria,USD,5M,2025-05-10,,\n"
        "9,Oman,Syria,USD,6M,2025-06-10,2,om-2\n",
    )
    assert run("void", "pledge", "3", "--reason", "the commitment was never made").code == 0
    assert run("import", "pledges", str(replacing)).err.splitlines()[0] == (
        f"{replacing}:3: column replaces: '2': that pledge is voided in the database"
    )


def test_a_file_with_the_old_source_column_is_refused_with_a_hint(run: Run, tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv", "donor,recipient,currency,pledged,source\nQatar,Syria,USD,1M,x\n"
    )
    assert_error(
        run("import", "pledges", str(path)),
        "line 1: 'source' is no longer a column of pledges",
        "fintrack export sources",
    )
    path = write(tmp_path / "s.csv", "url\n")
    assert run("import", "sources", str(path)).code == 0
    path = write(tmp_path / "s.csv", "key,publisher\n")
    assert_error(run("import", "sources", str(path)), "line 1: no column url or title")

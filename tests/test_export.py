"""`fintrack export KIND -o FILE`: the same rows as the listings, as CSV files written whole."""

import csv
import io
from pathlib import Path

import pytest

from tests.cases import QATAR_REF, founding_case, source
from tests.conftest import Run, assert_error


@pytest.fixture
def seeded(run: Run) -> Run:
    founding_case(run)
    ministry = source(run, "--title", "Ministry of Finance", "--publisher", "Syria")
    assert run("pay", "1", "29M", "--on", "2025-05-20", "--source", ministry).code == 0
    return run


def without(text: str, *columns: str) -> str:
    """CSV text without some of its columns."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    keep = [i for i, name in enumerate(rows[0]) if name not in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for row in rows:
        writer.writerow([row[i] for i in keep])
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "listing"),
    [
        ("sanctions", ("sanction", "list")),
        ("pledges", ("pledge", "list")),
        ("totals", ("totals",)),
        ("deadlines", ("deadlines", "--as-of", "2025-05-08")),
    ],
)
def test_export_writes_what_the_listing_prints_as_csv(
    seeded: Run, tmp_path: Path, kind: str, listing: tuple[str, ...]
) -> None:
    target = tmp_path / f"{kind}.csv"
    extra = ("--as-of", "2025-05-08") if kind == "deadlines" else ()
    result = seeded("export", kind, "-o", str(target), *extra)
    assert result.code == 0, result.err
    assert result.out == ""
    expected = seeded(*listing, "--format", "csv").out
    if kind in ("sanctions", "pledges"):
        # A record's standing comes from the links file, and voided records are not exported.
        assert "confidence" in expected.splitlines()[0]
        expected = without(expected, "confidence", "voided")
    assert target.read_text(encoding="utf-8") == expected
    assert f"to {target}" in result.err


def test_export_installments_and_disbursements(seeded: Run, tmp_path: Path) -> None:
    target = tmp_path / "installments.csv"
    assert seeded("export", "installments", "-o", str(target)).code == 0
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [(r["seq"], r["due"], r["amount"], r["paid"], r["outstanding"]) for r in rows] == [
        ("1", "2025-05-08", "29000000.00", "29000000.00", "0.00"),
        ("2", "2025-06-08", "29000000.00", "0.00", "29000000.00"),
        ("3", "2025-07-08", "29000000.00", "0.00", "29000000.00"),
    ]
    target = tmp_path / "disbursements.csv"
    assert seeded("export", "DISBURSEMENTS", "--output", str(target)).code == 0
    assert target.read_text(encoding="utf-8") == (
        "id,pledge_id,installment,paid_on,currency,amount,pledge_ref\n"
        f"1,1,1,2025-05-20,USD,29000000.00,{QATAR_REF}\n"
    )


def test_export_totals_grouping_and_stdout(seeded: Run) -> None:
    result = seeded("export", "totals", "--by", "month", "-o", "-")
    assert result.out.splitlines()[0] == (
        "month,currency,pledges,pledged,disbursed,outstanding,fulfilled_pct,"
        "pledged_unconfirmed,disbursed_unconfirmed,total"
    )
    # The pledge's source confirms it; the payment's only reports it.
    assert result.out.splitlines()[1] == (
        "2025-05,USD,1,29000000.00,29000000.00,0.00,100.0,0.00,29000000.00,false"
    )


def test_export_bad_targets_leave_existing_files_alone(seeded: Run, tmp_path: Path) -> None:
    assert_error(seeded("export", "pledges", "-o", str(tmp_path)), "is a directory")
    assert_error(
        seeded("export", "pledges", "-o", str(tmp_path / "no" / "x.csv")), "does not exist"
    )
    assert_error(seeded("export", "grants", "-o", str(tmp_path / "x.csv")), "grants")
    existing = tmp_path / "keep.csv"
    existing.write_text("old\n")
    assert_error(seeded("export", "totals", "--by", "week", "-o", str(existing)), "--by")
    assert existing.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []

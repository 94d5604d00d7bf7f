"""`fintrack export KIND -o FILE`: the same rows as the listings, as CSV files written whole."""

import csv
from pathlib import Path

import pytest

from tests.conftest import Run, assert_error


@pytest.fixture
def seeded(run: Run) -> Run:
    assert run("seed").code == 0
    assert run("pay", "1", "29M", "--on", "2025-05-20", "--source", "ministry").code == 0
    return run


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
        "id,pledge_id,installment,paid_on,currency,amount,source,pledge_ref\n"
        "1,1,1,2025-05-20,USD,29000000.00,ministry,seed:qa-sy-salaries-2025-05\n"
    )


def test_export_totals_grouping_and_stdout(seeded: Run) -> None:
    result = seeded("export", "totals", "--by", "month", "-o", "-")
    assert result.out.splitlines()[0] == (
        "month,currency,pledges,pledged,disbursed,outstanding,fulfilled_pct,total"
    )
    assert result.out.splitlines()[1] == "2025-05,USD,1,29000000.00,29000000.00,0.00,100.0,false"


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

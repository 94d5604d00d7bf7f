"""Imports under stress: more rows than a batch, hostile cells, endless files, bad ids, and two
imports or seeds of the same records at once, on either engine."""

import csv
import io
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from fintrack import interchange
from tests.conftest import Run, assert_error, row_counts

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

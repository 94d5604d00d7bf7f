"""Arguments that are not valid UTF-8 (Python keeps their bytes as lone surrogates) are one
usage error naming the argument, before anything runs."""

from pathlib import Path

import pytest

from tests.conftest import EMPTY, QATAR, Run, assert_error, row_counts

BAD = b"Qa\xfftar".decode("utf-8", "surrogateescape")


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (("pledge", "add", "--donor", BAD, *QATAR[4:]), "argument 4 (after --donor)"),
        (("pledge", "add", f"--donor={BAD}", *QATAR[4:]), "argument 3 (the value of --donor)"),
        (("pay", "1", "1" + BAD, "--on", "2025-06-01"), "argument 3"),
        (("sanction", "add", BAD), "argument 3"),
        ((BAD,), "argument 1"),
        (("--db", f"/tmp/{BAD}.db", "totals"), "argument 2 (after --db)"),
        (("import", "pledges", f"/tmp/{BAD}.csv"), "argument 3"),
    ],
)
def test_an_argument_that_is_not_utf8_is_one_usage_error(
    run: Run, empty_db: Path, args: tuple[str, ...], where: str
) -> None:
    result = run(*args)
    assert_error(result, f"{where} is not valid UTF-8 text", "Qa\\xfftar")
    assert result.code == 2
    assert row_counts(empty_db) == EMPTY


def test_a_setting_that_is_not_utf8_is_one_error(
    run: Run, empty_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FINTRACK_ANALYST", BAD)
    result = run(*QATAR)
    assert_error(result, "$FINTRACK_ANALYST is not valid UTF-8 text", "Qa\\xfftar")
    assert result.code == 1
    assert row_counts(empty_db)["pledges"] == 0

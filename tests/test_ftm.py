"""`fintrack export sanctions --format ftm`: FollowTheMoney entities, checked with the
followthemoney package itself."""

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from followthemoney import model
from followthemoney.types import registry

import fintrack
from tests.conftest import Run, added, assert_error

if TYPE_CHECKING:
    from followthemoney.schema import ValidationData


def check_entity(data: dict[str, Any]) -> None:
    """One line of an FtM export, as the followthemoney package judges it: a known schema, known
    properties, valid values that its cleaning keeps as they are, the required ones present."""
    schema = model.get(data["schema"])
    assert schema is not None and not schema.abstract, data["schema"]
    assert registry.entity.validate(data["id"]), data["id"]
    for name, values in data["properties"].items():
        assert name in schema.properties, (data["schema"], name)
        assert values and all(isinstance(value, str) for value in values), (name, values)
    for name in schema.required:
        assert data["properties"].get(name), (data["schema"], name)
    schema.validate(cast("ValidationData", data))  # raises InvalidData on a bad value
    proxy = model.get_proxy(data, cleaned=False)  # every value cleaned again, as untrusted
    assert proxy.to_dict()["properties"] == data["properties"]
    assert proxy.schema.name == data["schema"] and proxy.id == data["id"]


def entities(text: str) -> list[dict[str, Any]]:
    lines = text.splitlines()
    assert lines and all(line.startswith("{") for line in lines)
    return [json.loads(line) for line in lines]


@pytest.fixture
def seeded(run: Run) -> Run:
    assert run("seed").code == 0
    return run


def test_every_sanction_action_is_a_valid_ftm_sanction(
    seeded: Run, db_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "sanctions.ftm.json"
    result = seeded("export", "sanctions", "--format", "ftm", "-o", str(target))
    assert (result.code, result.out) == (0, "")
    found = entities(target.read_text(encoding="utf-8"))
    assert result.err == f"Wrote {len(found)} FtM entities of sanctions to {target}\n"
    for data in found:
        check_entity(data)
    by_id = {data["id"]: data for data in found}
    assert len(by_id) == len(found)
    sanctions = [data for data in found if data["schema"] == "Sanction"]
    with fintrack.open(db_url) as tracker:
        live = tracker.sanctions()
        assert len(sanctions) == len(live) > 0
        by_ref = {data["properties"]["recordId"][0]: data for data in sanctions}
        for row in live:
            assert row.ref is not None  # the founding case gives every record a ref
            props = by_ref[row.ref]["properties"]
            subject = by_id[props["entity"][0]]
            # The target comes before the first action on it, as a LegalEntity named as typed.
            assert found.index(subject) < found.index(by_ref[row.ref])
            assert (subject["schema"], subject["properties"]["name"]) == (
                "LegalEntity",
                [row.target],
            )
            assert props["authority"] == [row.authority]
            assert props.get("program") == ([row.program] if row.program else None)
            assert props["provisions"] == [*row.measures, row.action]
            assert props["status"] == [row.status]
            for name, day in (("startDate", row.effective), ("endDate", row.expires),
                              ("listingDate", row.announced), ("date", row.deadline)):  # fmt: skip
                assert props.get(name) == ([day.isoformat()] if day else None), name
            assert props.get("summary") == ([row.summary] if row.summary else None)
            described = [f"Legal reference: {row.legal_ref}"] if row.legal_ref else []
            if row.deadline:
                label = f": {row.deadline_label}" if row.deadline_label else ""
                described.append(f"Deadline {row.deadline.isoformat()}{label}")
            assert props.get("description", []) == described
            urls = [s.url for s in tracker.sanction_detail(row.id).sources if s.url]
            assert props.get("sourceUrl", []) == list(dict.fromkeys(urls))
    targets = {data["id"] for data in found if data["schema"] == "LegalEntity"}
    assert targets == {data["properties"]["entity"][0] for data in sanctions}
    # The same ids on every export: they come from the records' stable keys.
    again = seeded("export", "sanctions", "--format", "ftm")
    assert again.out == target.read_text(encoding="utf-8")


def test_voided_actions_are_left_out_and_actions_without_a_ref_get_stable_ids(
    run: Run, db_url: str
) -> None:
    first = added(run, "sanction", "add", "--authority", "UK", "--target", "Acme Shipping Ltd",
                  "--action", "impose", "--measure", "asset freeze", "--effective", "2025-03-01")  # fmt: skip
    added(run, "sanction", "add", "--authority", "UK", "--target", "acme  shipping LTD",
          "--action", "lift", "--effective", "2025-09-01", "--ref", "uk/2025:9")  # fmt: skip
    voided = added(run, "sanction", "add", "--authority", "EU", "--target", "Other",
                   "--action", "impose")  # fmt: skip
    assert run("void", "sanction", str(voided), "--reason", "entered twice").code == 0
    out = io.StringIO()
    with fintrack.open(db_url) as tracker:
        count = tracker.export("sanctions", out, format="ftm")
    found = entities(out.getvalue())
    assert count == len(found) == 3  # one target for both spellings, two actions
    for data in found:
        check_entity(data)
    target, derived, reffed = found
    assert target["properties"]["name"] == ["Acme Shipping Ltd"]
    assert derived["properties"]["entity"] == reffed["properties"]["entity"] == [target["id"]]
    assert reffed["id"].startswith("fintrack-sanction-ref-uk-2025-9-")
    assert derived["id"].startswith("fintrack-sanction-")
    assert "Other" not in out.getvalue()
    # The id of an action without a ref is its content key: the same after an edit of its
    # status (not part of the key), other after an edit of its content.
    assert run("sanction", "edit", str(first), "--status", "expired").code == 0
    assert entities(run("export", "sanctions", "--format", "ftm").out)[1]["id"] == derived["id"]


@pytest.mark.parametrize("kind", ["pledges", "installments", "rates", "sources", "totals"])
def test_only_sanctions_are_written_as_ftm(run: Run, tmp_path: Path, kind: str) -> None:
    target = tmp_path / "out.json"
    result = run("export", kind, "--format", "ftm", "-o", str(target))
    assert result.code == 1
    assert_error(result, "--format: ftm (FollowTheMoney entities) is written for sanctions only")
    assert not target.exists()
    with fintrack.open() as tracker, pytest.raises(fintrack.InputError, match="sanctions only"):
        tracker.export(kind, io.StringIO(), format="ftm")  # type: ignore[arg-type]


def test_export_help_offers_ftm(run: Run) -> None:
    help_text = run("export", "--help").out
    assert "csv|json|jsonl|ftm" in help_text and "FollowTheMoney" in help_text

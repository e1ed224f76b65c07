"""`conformance explore`: every property holds on the reference; a holder that forgets deletions or
discloses more than chosen is caught, the shrunk example and the seed that replays it reported."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance import cli

from ._faults import discloses_everything, forgetful_delete, hides_matches, registered, with_faulty_role


@pytest.fixture(autouse=True)
def commands(monkeypatch: pytest.MonkeyPatch) -> None:
    registered(monkeypatch)


def explore(tmp_path: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    code = cli.main(["explore", "--seed", "7", "--shrink-seconds", "3", "--report-dir", str(tmp_path), *extra])
    return code, json.loads((tmp_path / "explore.json").read_text())


def outcome(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in report["properties"] if p["name"] == name)


def test_every_property_holds_on_the_reference(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = explore(tmp_path, "--max-examples", "3")
    failed = {p["name"]: p["falsified"] for p in report["properties"] if p["status"] != "passed"}
    assert code == 0 and not failed, failed
    assert {p["name"] for p in report["properties"]} == {
        "disclosure.roundtrip_holder", "disclosure.roundtrip_wallet", "dcql.holder_matches_engine",
        "holder.state_machine"}
    assert all(p["examples"] >= 3 for p in report["properties"])
    assert "[4/4] PASSED" in capsys.readouterr().err
    assert "| `holder.state_machine` | ✅ passed |" in (tmp_path / "explore.md").read_text()


def test_a_holder_that_forgets_deletions_is_caught_by_the_state_machine(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with_faulty_role(monkeypatch, "holder", forgetful_delete)
    code, report = explore(tmp_path, "--property", "holder.state_machine", "--max-examples", "8")
    assert code == 1
    result = outcome(report, "holder.state_machine")
    assert result["status"] == "failed" and "soft delete hides a credential" in result["reason"]
    falsified = result["falsified"]
    assert "state.delete_credential(" in falsified["example"]                 # the steps that reproduce it
    assert falsified["replay"] == ("conformance explore --seed 7 --property holder.state_machine "
                                   "--max-examples 8")
    assert any(e["method"] == "DELETE" and e["status"] == 204 for e in falsified["exchanges"])
    assert any(m["deleted_credentials"] for m in falsified["evidence"]["model"].values())
    assert all("Bearer ey" not in json.dumps(e) for e in falsified["exchanges"])   # tokens redacted
    assert "replay: conformance explore --seed 7" in capsys.readouterr().out
    assert "state.delete_credential(" in (tmp_path / "explore.md").read_text()


def test_a_holder_that_discloses_more_than_chosen_is_caught_and_the_seed_replays_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_faulty_role(monkeypatch, "holder", discloses_everything)
    runs = [explore(tmp_path / run, "--property", "disclosure.roundtrip_holder", "--max-examples", "5")
            for run in ("first", "replay")]
    assert [code for code, _ in runs] == [1, 1]
    first, replay = (outcome(report, "disclosure.roundtrip_holder")["falsified"] for _, report in runs)
    evidence = first["evidence"]
    assert set(evidence["expected"]) < set(evidence["revealed"])            # more claims than chosen
    assert "the verifier reveals" in first["error"] and "case=DisclosureCase(" in first["example"]
    assert replay["example"] == first["example"] and replay["evidence"] == evidence


def test_properties_needing_a_missing_role_are_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.harness import target as target_module
    real = target_module.open_target

    async def without_verifier(spec: str | None, *, seed: int) -> Any:
        target = await real(spec, seed=seed)
        del target.roles["verifier"]
        return target

    monkeypatch.setattr(target_module, "open_target", without_verifier)
    code, report = explore(tmp_path, "--property", "disclosure.roundtrip_holder", "--max-examples", "2")
    assert code == 0
    assert outcome(report, "disclosure.roundtrip_holder") | {"duration_ms": 0} == {
        "name": "disclosure.roundtrip_holder", "status": "skipped", "examples": 0, "duration_ms": 0,
        "reason": "the target has no verifier role", "falsified": None,
        "title": outcome(report, "disclosure.roundtrip_holder")["title"],
        "spec": outcome(report, "disclosure.roundtrip_holder")["spec"]}


def test_an_unknown_property_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explore", "--property", "nope", "--report-dir", str(tmp_path)]) == 2
    assert "unknown property nope" in capsys.readouterr().err
    assert json.loads((tmp_path / "explore.json").read_text())["error"].startswith("unknown property nope")


def test_a_holder_that_hides_matching_credentials_disagrees_with_dcql(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with_faulty_role(monkeypatch, "holder", hides_matches)
    code, report = explore(tmp_path, "--property", "dcql.holder_matches_engine", "--max-examples", "10")
    assert code == 1
    falsified = outcome(report, "dcql.holder_matches_engine")["falsified"]
    assert "OID4VP 1.0 §6.4 matches" in falsified["error"]
    assert falsified["evidence"]["engine"]["matches"]                       # the engine found a match
    assert "case=DcqlCase(" in falsified["example"]


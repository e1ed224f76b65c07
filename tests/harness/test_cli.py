"""`conformance run` and `conformance list` through the real CLI entry point."""

from __future__ import annotations

import json
import sys
import textwrap
import types
from pathlib import Path

import pytest

from conformance import cli
from conformance.harness import environment

from ._doubles import API_KEY, FakeDialect, World, make_target

PASSING = """\
    id: issuance.cli_pass
    title: Receive a credential
    roles: [issuer]
    tags: [smoke]
    spec: ["RFC 9901 §7.1"]
    steps:
      - {name: receive, op: wallet.receive, expect: {status: 200, checks: [sdjwt.issuer_signature]}}
    """
FAILING = """\
    id: issuance.cli_fail
    title: Revoked, says the check
    roles: [issuer]
    spec: ["Token Status List §7.1"]
    steps:
      - {name: receive, op: wallet.receive, expect: {checks: [status.revoked]}}
    """


class TargetError(Exception):
    pass


@pytest.fixture(autouse=True)
def fake_layers(monkeypatch: pytest.MonkeyPatch) -> World:
    """The CLI's commands registered, and the dialect/target layers replaced by test doubles."""
    names = tuple(dict.fromkeys((*cli.COMMANDS, "conformance.cli.run_cmd", "conformance.cli.list_cmd")))
    monkeypatch.setattr(cli, "COMMANDS", names)
    world = World()

    async def open_target(spec: str | None, *, seed: int):
        if spec is not None:
            raise TargetError(f"{spec}: roles.issuer.base_url is required")
        return make_target(world, roles=("issuer", "ledger"))

    module = types.ModuleType("conformance.harness.target")
    module.open_target, module.TargetError = open_target, TargetError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "conformance.harness.target", module)
    monkeypatch.setattr(environment, "default_environment", lambda: FakeDialect(world).environment())
    return world


def scenario_dir(tmp_path: Path, *texts: str) -> Path:
    directory = tmp_path / "scenarios"
    directory.mkdir()
    for i, text in enumerate(texts):
        (directory / f"s{i}.yaml").write_text(textwrap.dedent(text))
    return directory


def test_run_passes_writes_reports_and_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = cli.main(["run", "--scenarios", str(scenario_dir(tmp_path, PASSING)), "--report-dir", str(out), "--seed", "4"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "[1/1] PASS issuance.cli_pass" in captured.err
    assert "1 passed, 0 failed, 0 skipped of 1" in captured.out and "(seed 4)" in captured.out
    data = json.loads((out / "report.json").read_text())
    assert data["seed"] == 4 and data["complete"] and API_KEY not in (out / "report.json").read_text()
    assert {p.name for p in out.iterdir()} == {"junit.xml", "report.json", "summary.md", "report.html"}


def test_a_failed_required_check_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = scenario_dir(tmp_path, PASSING, FAILING)
    assert cli.main(["run", "--scenarios", str(directory), "--report-dir", str(tmp_path / "o")]) == 1
    assert "FAIL issuance.cli_fail" in capsys.readouterr().err
    assert cli.main(["run", "--scenarios", str(directory), "--report-dir", str(tmp_path / "o"), "--tag", "smoke"]) == 0
    assert cli.main(["run", "--scenarios", str(directory), "--report-dir", str(tmp_path / "o"), "-k", "not fail"]) == 0


@pytest.mark.parametrize("args, message", [
    (["-k", "nothing_matches"], "no scenario matches the selection"),
    (["-k", "a and (b"], "-k 'a and (b': missing ')'"),
    (["--target", "broken.yaml"], "target broken.yaml: broken.yaml: roles.issuer.base_url is required"),
])
def test_configuration_errors_exit_2_with_one_line_and_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                args: list[str], message: str) -> None:
    out = tmp_path / "out"
    code = cli.main(["run", "--scenarios", str(scenario_dir(tmp_path, PASSING)), "--report-dir", str(out), *args])
    err = capsys.readouterr().err
    assert code == 2 and f"conformance run: error: {message}" in err and "Traceback" not in err
    assert message in json.loads((out / "report.json").read_text())["error"]
    junit = (out / "junit.xml").read_text()
    assert 'name="configuration"' in junit and "configuration error" in junit


def test_a_malformed_scenario_exits_2_before_running(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = scenario_dir(tmp_path, PASSING.replace("op: wallet.receive", "op: wallet.receive, bogus: 1"))
    code = cli.main(["run", "--scenarios", str(directory), "--report-dir", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "s0.yaml:7: steps[0]: unknown member 'bogus'" in err


def test_unknown_operation_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = scenario_dir(tmp_path, PASSING.replace("op: wallet.receive", "op: walet.receive"))
    assert cli.main(["run", "--scenarios", str(directory), "--report-dir", str(tmp_path / "out")]) == 2
    assert "unknown operation 'walet.receive'" in capsys.readouterr().err


def test_list_shows_checks_and_scenarios(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["list", "--checks"]) == 0
    out = capsys.readouterr().out
    assert "sdjwt.issuer_signature  [required]  RFC 9901 §7.1 step 2; SD-JWT VC §3.5" in out
    assert "needs: presentation, request_object" in out
    directory = scenario_dir(tmp_path, PASSING, FAILING)
    assert cli.main(["list", "--scenarios", "--path", str(directory)]) == 0
    out = capsys.readouterr().out
    assert "roles: issuer" in out and "issuance.cli_fail  Revoked, says the check" in out
    assert "spec: Token Status List §7.1" in out and "Checks (" not in out


def test_help_texts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    text = capsys.readouterr().out
    for fragment in ("--target reference|FILE", "--report-dir DIR", "Exit status: 0", "report.html", "--seed N"):
        assert fragment in text

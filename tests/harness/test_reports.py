"""Reports: junit.xml, report.json, summary.md, report.html - content, incremental writes, no secrets."""

from __future__ import annotations

import asyncio
import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance.harness.checks import REGISTRY
from conformance.harness.events import ScenarioFinished
from conformance.harness.loader import load_scenario_text
from conformance.harness.reports import ProgressReporter, file_reporters, summary_table
from conformance.harness.results import RunResult
from conformance.harness.runner import Runner, target_secrets
from conformance.protocol.jose import b64u_encode, generate_key

from ._doubles import API_KEY, BEARER, PASSWORD, FakeDialect, World, make_target

PRIVATE_KEY = b64u_encode(generate_key().raw())
FILES = ("junit.xml", "report.json", "summary.md", "report.html")

SCENARIOS = [
    f"""\
    id: issuance.reported_pass
    title: Issue and check the credential
    roles: [issuer]
    spec: ["OID4VCI 1.0 §4.1"]
    seed_endpoints: ["POST /v1/offers"]
    conformance_suite: ["oid4vci-1_0-issuer-happy-flow"]
    steps:
      - {{name: create offer, op: issuer.create_offer, capture: {{offer: artefacts.offer}}, expect: {{status: 201, checks: [oid4vci.offer_shape]}}}}
      - {{name: receive, op: wallet.receive, with: {{offer: "${{offer}}"}}, expect: {{checks: [sdjwt.issuer_signature]}}}}
    """,
    """\
    id: issuance.reported_fail
    title: A valid credential is reported revoked
    roles: [issuer]
    spec: ["Token Status List §7.1"]
    seed_endpoints: ["POST /v1/offers"]
    steps:
      - {name: receive, op: wallet.receive, expect: {status: 200, checks: [status.revoked]}}
    """,
    """\
    id: api.reported_no_key
    title: Creating an offer without an API key succeeds (it must not)
    roles: [issuer]
    spec: ["TCS issuer seed: 401"]
    steps:
      - {name: no key, http: {role: issuer, method: POST, path: /v1/offers, json: {password: "%s"}}, expect: {status: 201}}
    """ % PASSWORD,
    f"""\
    id: secrets.echoed
    title: A private key in inputs never reaches a report
    roles: [issuer]
    spec: ["X"]
    vars: {{pk: "{PRIVATE_KEY}"}}
    steps:
      - {{name: echo, op: fake.echo, with: {{private_key: "${{pk}}", note: "${{pk}}"}}, expect: {{body: {{note: {{equals: nope}}}}}}}}
    """,
    """\
    id: secrets.boom
    title: An exception mentioning the API key
    roles: [issuer]
    spec: ["X"]
    steps:
      - {name: boom, op: fake.boom}
    """,
    """\
    id: verification.reported_skip
    title: Needs a verifier
    roles: [verifier]
    spec: ["OID4VP 1.0 §8"]
    steps:
      - {name: echo, op: fake.echo}
    """,
]


def scenarios():
    return [load_scenario_text(textwrap.dedent(text), f"scenarios/{i}.yaml", known_checks=REGISTRY.names())
            for i, text in enumerate(SCENARIOS)]


class Snapshot:
    """Reads report.json each time a scenario finishes: reports must be current during the run."""

    def __init__(self, directory: Path) -> None:
        self.directory, self.counts = directory, []

    def handle_event(self, event: object) -> None:
        if isinstance(event, ScenarioFinished):
            data = json.loads((self.directory / "report.json").read_text())
            self.counts.append((len(data["scenarios"]), data["complete"]))


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, RunResult, Snapshot]:
    directory = tmp_path_factory.mktemp("reports")
    world = World()
    snapshot = Snapshot(directory)

    async def go() -> RunResult:
        target = make_target(world, roles=("issuer", "ledger"))
        handlers = [*file_reporters(directory, target_secrets(target)), snapshot]
        try:
            return await Runner(target, env=FakeDialect(world).environment(), handlers=handlers, seed=99).run(scenarios())
        finally:
            await target.aclose()
    return directory, asyncio.run(go()), snapshot


def test_every_format_is_written_and_kept_current(reports) -> None:
    directory, run, snapshot = reports
    assert all((directory / name).is_file() for name in FILES)
    # Written at the start, then at most REFRESH_SECONDS behind, and complete at the end.
    assert all(count <= i and not complete for i, (count, complete) in enumerate(snapshot.counts, 1))
    final = json.loads((directory / "report.json").read_text())
    assert len(final["scenarios"]) == 6 and final["complete"]
    assert [s.status for s in run.scenarios] == ["passed", "failed", "failed", "failed", "failed", "skipped"]


def test_no_secret_reaches_any_report(reports) -> None:
    directory, _, _ = reports
    for name in FILES:
        text = (directory / name).read_text()
        for secret in (API_KEY, BEARER, PASSWORD, PRIVATE_KEY):
            assert secret not in text, f"{name} leaks a secret"
    data = json.loads((directory / "report.json").read_text())
    echoed = data["scenarios"][3]["steps"][0]["expectations"][0]["message"]
    assert echoed == "body.note Received: [redacted] / Expected: nope"       # the message survives, scrubbed
    sent = data["scenarios"][0]["steps"][0]["exchanges"][0]
    assert sent["request_headers"]["X-API-Key"] == "[redacted]" and sent["request_body"]["password"] == "[redacted]"
    assert data["target"]["roles"]["issuer"]["api_key"] == "[redacted]"


def test_json_report_has_everything(reports) -> None:
    directory, _, _ = reports
    data = json.loads((directory / "report.json").read_text())
    assert data["seed"] == 99 and data["tool"]["version"] and data["complete"] and not data["interrupted"]
    assert data["summary"] == {"total": 6, "passed": 1, "failed": 4, "skipped": 1, "not_run": 0}
    failed = data["scenarios"][1]
    assert failed["failed_checks"][0]["name"] == "status.revoked"
    assert failed["failed_checks"][0]["spec"] == "Token Status List §7.1"
    assert failed["steps"][0]["duration_ms"] > 0 and failed["steps"][0]["exchanges"][0]["url"].startswith("http://")


def test_junit_has_a_testcase_per_scenario_with_failed_checks(reports) -> None:
    directory, _, _ = reports
    suite = ET.parse(directory / "junit.xml").getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "6" and suite.get("failures") == "4" and suite.get("skipped") == "1"
    cases = {case.get("name"): case for case in suite.findall("testcase")}
    failure = cases["issuance.reported_fail"].find("failure")
    assert failure is not None and failure.get("type") == "required check failed"
    assert ("check status.revoked [required, Token Status List §7.1]: status of index 3 in "
            "http://issuer.test/status/1: Received: VALID / Expected: INVALID") in failure.text
    skipped = cases["verification.reported_skip"].find("skipped")
    assert skipped is not None and "has no verifier role" in skipped.get("message")
    assert {p.get("name"): p.get("value") for p in suite.find("properties")}["seed"] == "99"


def test_markdown_and_html_explain_failures(reports) -> None:
    directory, _, _ = reports
    markdown = (directory / "summary.md").read_text()
    assert "| `issuance.reported_fail` | ❌ failed |" in markdown and "**1 passed, 4 failed, 1 skipped** of 6" in markdown
    html = (directory / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html and "<link" not in html
    assert "status.revoked" in html and "Token Status List §7.1" in html
    assert "Offending exchange" in html and "POST http://issuer.test/v1/offers" in html and "HTTP 401" in html
    assert "Coverage: seed endpoints" in html and "oid4vci-1_0-issuer-happy-flow" in html


def test_console_progress_and_summary(reports, capsys: pytest.CaptureFixture[str]) -> None:
    _, run, _ = reports
    table = summary_table(run)
    assert "issuance.reported_fail" in table and "1 passed, 4 failed, 1 skipped of 6" in table
    from conformance.harness.events import ScenarioFinished as Finished
    progress = ProgressReporter()
    progress.handle_event(Finished(scenarios()[1], run.scenarios[1], 2, 6))
    err = capsys.readouterr().err
    assert err.startswith("[2/6] FAIL issuance.reported_fail") and "status.revoked" in err


def test_an_interrupted_run_leaves_its_reports(tmp_path: Path) -> None:
    world = World()
    loaded = scenarios()
    hang = load_scenario_text("id: t.hang\ntitle: t\nroles: [issuer]\nspec: [X]\nsteps: [{name: h, op: fake.hang}]\n",
                              "h.yaml", known_checks=REGISTRY.names())

    async def go() -> None:
        target = make_target(world)
        runner = Runner(target, env=FakeDialect(world).environment(), handlers=file_reporters(tmp_path))
        task = asyncio.create_task(runner.run([loaded[0], hang]))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await target.aclose()

    asyncio.run(go())
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["interrupted"] and not data["complete"] and data["summary"]["not_run"] == 1
    assert [s["id"] for s in data["scenarios"]] == ["issuance.reported_pass"]
    assert "interrupted" in (tmp_path / "summary.md").read_text()

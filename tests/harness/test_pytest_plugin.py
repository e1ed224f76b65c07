"""The pytest plugin: scenario files as items, composing with -k, -m, -x, --junitxml and xdist."""

from __future__ import annotations

import os
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]
# The inner run happens in this process, where `conformance` and `reference` are imported
# already; pytest warns that it cannot assertion-rewrite them, and the outer `-W error` would
# turn that into a crash depending on which tests this worker ran first.
PLUGIN = ("-p", "no:conformance", "-p", "conformance.harness.pytest_plugin", "-p", "no:cacheprovider",
          "-W", "ignore::pytest.PytestAssertRewriteWarning")

# The conftest puts the repository on sys.path itself: xdist workers of the inner run are fresh
# processes, and this must not depend on what they inherit.
CONFTEST = """\
    import sys
    sys.path.insert(0, {repo!r})

    from tests.harness._doubles import FakeDialect, World, make_target

    WORLD = World()


    def pytest_conformance_open_target(config, spec, seed):
        async def open_target():
            return make_target(WORLD, roles=("issuer", "ledger"))
        return open_target()


    def pytest_conformance_environment(config):
        return FakeDialect(WORLD).environment()
    """

PASSING = """\
    id: issuance.plugin_pass
    title: Receive a credential
    roles: [issuer]
    tags: [smoke]
    spec: ["RFC 9901 §7.1"]
    steps:
      - {name: receive, op: wallet.receive, expect: {status: 200, checks: [sdjwt.issuer_signature]}}
    """
FAILING = """\
    id: issuance.plugin_fail
    title: A valid credential reported revoked
    roles: [issuer]
    spec: ["Token Status List §7.1"]
    steps:
      - {name: receive, op: wallet.receive, expect: {checks: [status.revoked]}}
      - {name: after, op: fake.echo}
    """
SKIPPED = """\
    id: verification.plugin_skip
    title: Needs a verifier
    roles: [verifier]
    spec: ["OID4VP 1.0 §8"]
    steps:
      - {name: echo, op: fake.echo}
    """


@pytest.fixture
def project(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))
    monkeypatch.syspath_prepend(str(REPO))
    pytester.makeini("[pytest]\naddopts = --strict-markers\nfilterwarnings = error\n")
    pytester.makeconftest(textwrap.dedent(CONFTEST).format(repo=str(REPO)))
    scenarios = pytester.mkdir("scenarios")
    for name, text in (("pass", PASSING), ("fail", FAILING), ("skip", SKIPPED)):
        (scenarios / f"{name}.yaml").write_text(textwrap.dedent(text))
    (pytester.path / "notes.yaml").write_text("not: a scenario\n")    # outside scenarios/: not collected
    return pytester


def test_scenarios_run_as_items_with_readable_failures(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "--junitxml=junit.xml", "-rs")
    result.assert_outcomes(passed=1, failed=1, skipped=1)
    result.stdout.fnmatch_lines([
        "*scenario issuance.plugin_fail: A valid credential reported revoked",
        "*fail.yaml:1 * spec: Token Status List §7.1",
        "*step 1 'receive' (wallet.receive) failed",
        "*check status.revoked ?required; Token Status List §7.1?: status of index 3 *"
        "Received: VALID / Expected: INVALID",
        "*SKIPPED*skip.yaml:1: target 'fake-deployment' has no verifier role*",
    ])
    cases = {c.get("name"): c for c in ET.parse(project.path / "junit.xml").getroot().iter("testcase")}
    assert set(cases) == {"issuance.plugin_pass", "issuance.plugin_fail", "verification.plugin_skip"}
    spec = cases["issuance.plugin_pass"].find("properties/property[@name='spec']")
    assert spec is not None and spec.get("value") == "RFC 9901 §7.1"


def test_selection_and_stop_on_first_failure(project: pytest.Pytester) -> None:
    project.runpytest(*PLUGIN, "-k", "plugin_pass").assert_outcomes(passed=1)
    project.runpytest(*PLUGIN, "-m", "smoke").assert_outcomes(passed=1)
    stopped = project.runpytest(*PLUGIN, "-x", "scenarios/fail.yaml", "scenarios/pass.yaml")
    stopped.assert_outcomes(failed=1)


def test_a_malformed_scenario_is_a_collection_error_with_its_line(project: pytest.Pytester) -> None:
    (project.path / "scenarios" / "bad.yaml").write_text(textwrap.dedent(PASSING).replace("title:", "titel:"))
    result = project.runpytest(*PLUGIN)
    result.stdout.fnmatch_lines(["*bad.yaml:2: the top level: unknown member 'titel'*", "*1 error*"])
    assert result.ret == pytest.ExitCode.INTERRUPTED


def test_an_unopenable_target_fails_every_item_with_one_message(project: pytest.Pytester) -> None:
    project.makeconftest(textwrap.dedent(CONFTEST).format(repo=str(REPO)).replace(
        "return make_target(WORLD", "raise OSError('connection refused by issuer.test')\n        return make_target(WORLD"))
    result = project.runpytest(*PLUGIN, "scenarios/pass.yaml", "scenarios/fail.yaml")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*cannot open target reference: OSError: connection refused by issuer.test"])
    assert "Traceback" not in result.stdout.str()


def test_runs_under_xdist(project: pytest.Pytester) -> None:
    result = project.runpytest(*PLUGIN, "-n", "2")
    result.assert_outcomes(passed=1, failed=1, skipped=1)

"""The runner over a fake dialect and target: steps, captures, failures, skips, timeouts, events."""

from __future__ import annotations

import asyncio
import textwrap

import pytest

from conformance.harness.checks import REGISTRY
from conformance.harness.events import RunFinished, RunStarted, ScenarioFinished, ScenarioStarted, StepFinished
from conformance.harness.loader import load_scenario_text
from conformance.harness.results import RunResult
from conformance.harness.runner import ConfigurationError, Runner, scenario_rng
from conformance.harness.scenario import Scenario

from ._doubles import API_KEY, FakeDialect, World, make_target


def scenario(text: str, file: str = "s.yaml") -> Scenario:
    return load_scenario_text(textwrap.dedent(text), file, known_checks=REGISTRY.names())


ISSUANCE = scenario("""\
    id: issuance.fake_happy
    title: Issue through the fake issuer
    roles: [issuer]
    spec: ["OID4VCI 1.0 §4.1"]
    vars: {name: "Degree ${random.hex8}"}
    steps:
      - name: create offer
        op: issuer.create_offer
        with: {config_id: "${target.config.default}", claims: {credentialName: "${name}"}}
        capture: {offer_id: body.offer_id, offer: artefacts.offer}
        expect:
          status: 201
          body: {offer_id: {matches: "^[0-9a-f-]{36}$"}, expires_at: {exists: true}}
          checks: [oid4vci.offer_shape, api.json_content_type]
      - name: read the offer raw
        http: {role: issuer, method: GET, path: "/v1/offers/${offer_id}"}
        expect: {status: 200, body: {credential_configuration_ids: {length: 1}}}
      - name: receive
        op: wallet.receive
        with: {offer: "${offer}"}
        expect:
          status: 200
          checks: [sdjwt.issuer_signature, sdjwt.disclosure_digests, sdjwt.vc_claims, oid4vci.issuer_metadata]
    """)


class Recorder:
    def __init__(self) -> None:
        self.events: list = []

    def handle_event(self, event: object) -> None:
        self.events.append(event)


def execute(scenarios: list[Scenario], world: World | None = None, *, roles=("issuer", "ledger", "verifier"),
            seed: int = 5, timeout: float = 5.0, dialect: FakeDialect | None = None) -> tuple[RunResult, Recorder]:
    world = world or World()
    dialect = dialect or FakeDialect(world)
    recorder = Recorder()

    async def go() -> RunResult:
        target = make_target(world, roles)
        try:
            return await Runner(target, env=dialect.environment(), handlers=[recorder], seed=seed,
                                step_timeout=timeout).run(scenarios)
        finally:
            await target.aclose()
    return asyncio.run(go()), recorder


def test_a_passing_scenario_runs_every_step_and_check() -> None:
    run, recorder = execute([ISSUANCE])
    result = run.scenarios[0]
    assert result.status == "passed", result.reason
    assert [s.status for s in result.steps] == ["passed"] * 3
    assert [c.name for c in result.steps[2].checks] == ["sdjwt.issuer_signature", "sdjwt.disclosure_digests",
                                                        "sdjwt.vc_claims", "oid4vci.issuer_metadata"]
    assert all(c.status == "passed" for s in result.steps for c in s.checks)
    assert run.ok and run.info.seed == 5 and run.info.target["name"] == "fake-deployment"
    assert run.info.target["roles"]["issuer"]["api_key"] == "[redacted]"
    kinds = [type(e) for e in recorder.events]
    assert kinds == [RunStarted, ScenarioStarted, StepFinished, StepFinished, StepFinished, ScenarioFinished,
                     RunFinished]


def test_inputs_are_templated_from_vars_target_and_the_seeded_rng() -> None:
    world = World()
    first, second = FakeDialect(world), FakeDialect(world)
    execute([ISSUANCE], world, dialect=first, seed=11)
    execute([ISSUANCE], world, dialect=second, seed=11)
    inputs = first.calls[0][1]
    assert inputs["config_id"] == "degree" and inputs["claims"]["credentialName"].startswith("Degree ")
    assert first.calls[0] == second.calls[0]                      # --seed replays
    expected = f"{scenario_rng(11, 'issuance.fake_happy').getrandbits(32):08x}"
    assert inputs["claims"]["credentialName"] == f"Degree {expected}"
    assert first.calls[1][1]["offer"]["credential_issuer"] == "http://issuer.test"   # a captured object


def test_a_failing_step_stops_the_scenario() -> None:
    world = World()
    world.break_signatures = True
    run, _ = execute([ISSUANCE], world)
    result = run.scenarios[0]
    assert result.status == "failed" and not run.ok
    failed = result.steps[2]
    assert failed.status == "failed"
    assert [c.name for c in failed.failed_checks] == ["sdjwt.issuer_signature"]
    assert result.reason.startswith("step 'receive': sdjwt.issuer_signature: signature_invalid")
    bad_status = scenario(textwrap.dedent("""\
        id: t.status
        title: t
        roles: [issuer]
        spec: [X]
        steps:
          - {name: one, op: fake.echo, with: {status: 500}, expect: {status: 201}}
          - {name: two, op: fake.echo}
        """))
    run, _ = execute([bad_status])
    steps = run.scenarios[0].steps
    assert [s.status for s in steps] == ["failed", "not_run"] and steps[1].reason == "an earlier step failed"
    assert run.scenarios[0].reason == "step 'one': status: Received: 500 / Expected: 201"


MINIMAL = """\
    id: t.{name}
    title: t
    roles: [{role}]
    spec: [X]
    steps:
      - {{name: only, op: {op}}}
    """


def test_scenarios_are_skipped_when_a_role_or_operation_is_missing() -> None:
    needs_verifier = scenario(MINIMAL.format(name="verifier", role="verifier", op="fake.echo"))
    needs_holder_op = scenario(MINIMAL.format(name="holder", role="issuer", op="holder.register"))
    run, _ = execute([needs_verifier, needs_holder_op], roles=("issuer",))
    first, second = run.scenarios
    assert first.status == "skipped"
    assert first.reason == "target 'fake-deployment' has no verifier role (the scenario needs verifier)"
    run, _ = execute([needs_holder_op], roles=("issuer", "holder"))
    assert run.scenarios[0].reason == "dialect 'fake' does not implement holder.register"
    assert run.ok


def test_a_scenario_written_for_other_dialects_is_skipped_with_the_reason() -> None:
    bound = scenario(MINIMAL.format(name="bound", role="issuer", op="fake.echo") + "dialects: [tcs, eudiw]\n")
    assert bound.dialects == ("tcs", "eudiw")
    run, _ = execute([bound], roles=("issuer",))
    (result,) = run.scenarios
    assert result.status == "skipped" and not result.steps
    assert result.reason == ("written for the tcs, eudiw dialects only (dialects: [tcs, eudiw]); "
                             "target 'fake-deployment' speaks 'fake'")

    async def reason_for(dialect: str) -> str | None:
        target = make_target(World(), ("issuer",))
        target.dialect = dialect
        try:
            return Runner(target, env=FakeDialect(World()).environment()).skip_reason(bound)
        finally:
            await target.aclose()
    # A listed dialect passes the gate: what decides next is whether it implements the operations.
    assert asyncio.run(reason_for("eudiw")) == "dialect 'eudiw' does not implement fake.echo"
    unbound = scenario(MINIMAL.format(name="unbound", role="issuer", op="fake.echo"))
    assert unbound.dialects == () and execute([unbound], roles=("issuer",))[0].scenarios[0].status == "passed"


def test_an_unknown_operation_fails_before_anything_runs() -> None:
    typo = scenario(MINIMAL.format(name="typo", role="issuer", op="isuer.create_offer"), file="typo.yaml")
    with pytest.raises(ConfigurationError, match=r"typo.yaml:6: step 'only': unknown operation 'isuer.create_offer'"):
        execute([ISSUANCE, typo])


def test_exceptions_and_hangs_become_failed_steps_without_secrets() -> None:
    boom = scenario(MINIMAL.format(name="boom", role="issuer", op="fake.boom"))
    hang = scenario(MINIMAL.format(name="hang", role="issuer", op="fake.hang"))
    run, _ = execute([boom, hang], timeout=0.2)
    exploded, hung = (s.steps[0] for s in run.scenarios)
    assert exploded.status == "failed" and exploded.error.startswith("fake.boom raised RuntimeError: exploded")
    assert API_KEY not in exploded.error and "[redacted]" in exploded.error
    assert hung.status == "failed" and hung.error == "fake.hang did not finish within 0.2 s"


def test_a_hanging_target_is_bounded_by_the_step_timeout() -> None:
    world = World()
    world.hang = True
    raw = scenario("""\
        id: t.raw
        title: t
        roles: [issuer]
        spec: [X]
        steps:
          - {name: get, http: {role: issuer, method: GET, path: /v1/offers/x}, expect: {status: 200}}
        """)
    run, _ = execute([raw], world, timeout=0.3)
    step = run.scenarios[0].steps[0]
    assert step.status == "failed" and step.error == "http GET issuer /v1/offers/x did not finish within 0.3 s"


def test_captures_and_templates_fail_with_clear_messages() -> None:
    missing_capture = scenario("""\
        id: t.capture
        title: t
        roles: [issuer]
        spec: [X]
        steps:
          - {name: echo, op: fake.echo, with: {a: 1}, capture: {b: body.b}}
        """)
    missing_config = scenario("""\
        id: t.config
        title: t
        roles: [issuer]
        spec: [X]
        steps:
          - {name: echo, op: fake.echo, with: {c: "${target.config.identity}"}}
        """)
    run, _ = execute([missing_capture, missing_config])
    capture = run.scenarios[0].steps[0].failed_expectations[0]
    assert capture.kind == "capture.b" and capture.message == "capture b from body.b: no member 'b' at the top (members: a)"
    error = run.scenarios[1].steps[0].error
    assert error.startswith("step 'echo': unknown variable ${target.config.identity} (the target defines no config")


def test_raw_http_steps_send_templated_requests() -> None:
    raw = scenario("""\
        id: t.raw_post
        title: t
        roles: [issuer]
        spec: [X]
        steps:
          - name: no key
            http: {role: issuer, method: POST, path: /v1/offers, json: {a: 1}}
            expect: {status: 401, body: {error.code: {equals: unauthorized}}, checks: [api.error_shape]}
          - name: with key
            http: {role: issuer, method: POST, path: /v1/offers, headers: {X-API-Key: "${target.api_key.issuer}"}, json: {}}
            capture: {location: headers.content-type, id: body.offer_id}
            expect: {status: 201}
          - name: use it
            op: fake.echo
            with: {id: "${id}", type: "${location}"}
            expect: {body: {type: {equals: application/json}, id: {equals: "${id}"}}}
        """)
    run, _ = execute([raw])
    result = run.scenarios[0]
    assert result.status == "passed", result.reason
    sent = result.steps[1].exchanges[0]
    assert sent["request_headers"]["X-API-Key"] == "[redacted]" and sent["status"] == 201


def test_interrupting_the_run_still_emits_run_finished() -> None:
    recorder = Recorder()
    world = World()
    dialect = FakeDialect(world)
    hang = scenario(MINIMAL.format(name="hang", role="issuer", op="fake.hang"))

    async def go() -> None:
        target = make_target(world)
        runner = Runner(target, env=dialect.environment(), handlers=[recorder], step_timeout=60)
        task = asyncio.create_task(runner.run([ISSUANCE, hang, ISSUANCE]))
        while not any(isinstance(e, ScenarioStarted) and e.position == 2 for e in recorder.events):
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await target.aclose()

    asyncio.run(go())
    finished = recorder.events[-1]
    assert isinstance(finished, RunFinished) and finished.result.interrupted and not finished.result.ok
    assert [s.id for s in finished.result.scenarios] == ["issuance.fake_happy"]


RAW_GET = """\
    id: t.raw{n}
    title: t
    roles: [issuer]
    spec: [X]
    steps:
      - {{name: get, http: {{role: issuer, method: GET, path: /v1/offers/x}}, expect: {{status: 200}}}}
    """


@pytest.mark.parametrize("fault", ["down", "hang"])
def test_a_silent_role_is_given_up_after_two_scenarios(fault: str) -> None:
    world = World()
    setattr(world, fault, True)
    run, _ = execute([scenario(RAW_GET.format(n=n)) for n in range(5)], world, timeout=0.2)
    reasons = [s.reason for s in run.scenarios]
    assert all(s.status == "failed" for s in run.scenarios)
    assert all(r.startswith("not run: the issuer role gave no answer in 2 scenarios in a row") for r in reasons[2:])
    first = run.scenarios[0].steps[0]
    if fault == "down":
        assert first.failed_expectations[0].message == "ConnectError: connection refused"
    else:
        assert first.error == "http GET issuer /v1/offers/x did not finish within 0.2 s"
    assert sum(s.duration_ms for s in run.scenarios) < 2000


def test_a_webhook_scenario_gets_the_receiver_url() -> None:
    hooked = scenario("""\
        id: t.hooks
        title: t
        roles: [issuer]
        spec: [X]
        webhooks: true
        vars: {callback: "${webhooks.url}?offer=1"}
        steps:
          - {name: echo, op: fake.echo, with: {cb: "${callback}"}, expect: {body: {cb: {equals: "http://hooks.test/cb?offer=1"}}}}
        """)
    run, _ = execute([hooked])
    assert run.scenarios[0].status == "passed", run.scenarios[0].reason

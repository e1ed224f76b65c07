"""The eudiw and orgwallet dialects against the reference, through the real runner, harness
wallet and checks: their scenarios (scenarios/vendor/) pass in-process (`reference:eudiw`,
`reference:orgwallet`) and over real HTTP (`conformance serve`'s servers and the example target
files of fixtures/targets/), every check they name really ran, each dialect's scenarios are
skipped elsewhere with the reason, and the dialect-neutral issuance scenarios run unchanged.
Plus the pieces: the embedded targets, callback deduplication, refused inputs."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance import paths
from conformance.dialects import InputError, StepContext, get_operation
from conformance.dialects.eudiw.callbacks import deduplicated, statuses_input
from conformance.dialects.inputs import Inputs
from conformance.harness.environment import default_environment
from conformance.harness.loader import load_scenarios
from conformance.harness.results import PASSED, SKIPPED, RunResult, ScenarioResult
from conformance.harness.runner import Runner
from conformance.harness.scenario import Scenario
from conformance.harness.target import Target, TargetError, open_target
from conformance.protocol.jose import generate_key
from conformance.wallet import HarnessWallet
from tests.harness.test_webhooks import free_base_port

SEED = 20260402
VENDOR = paths.SCENARIOS / "vendor"
ISSUANCE = paths.SCENARIOS / "issuance"
DIALECT_SCENARIOS = {
    "eudiw": {"vendor.eudiw_offer_issued", "vendor.eudiw_offer_failed", "vendor.eudiw_offer_expired"},
    "orgwallet": {"vendor.orgwallet_intime", "vendor.orgwallet_deferred"},
}
# Scenarios that need the embedded reference's controls (its clock): skipped over HTTP.
EMBEDDED_ONLY = {"vendor.eudiw_offer_expired"}
# Issuance scenarios that use nothing TCS-specific in intent: the OID4VCI wire through an offer.
PORTABLE_ISSUANCE = ("issuance.wire_rejections", "issuance.tx_code")
OVER_HTTP = "issuance.tx_code"


# --- running ---------------------------------------------------------------------------------


async def run_on(target: Target, scenarios: list[Scenario]) -> RunResult:
    return await Runner(target, env=default_environment(), seed=SEED, step_timeout=30).run(scenarios)


async def run_embedded(dialect: str, scenarios: list[Scenario]) -> RunResult:
    target = await open_target(f"reference:{dialect}", seed=SEED)
    try:
        return await run_on(target, scenarios)
    finally:
        await target.aclose()


def by_id(run: RunResult) -> dict[str, ScenarioResult]:
    return {s.id: s for s in run.scenarios}


def assert_evidence(results: Iterable[ScenarioResult]) -> None:
    """Passed, and every named check ran and passed (a check skipped for want of an artefact
    would let a scenario pass on no evidence)."""
    for result in results:
        assert result.status == PASSED, (result.id, result.reason)
        idle = [(step.name, c.name, c.message) for step in result.steps for c in step.checks if c.status != PASSED]
        assert not idle, (result.id, idle)


def assert_dialect_run(run: RunResult, dialect: str, *, served: bool = False) -> None:
    results = by_id(run)
    ours = DIALECT_SCENARIOS[dialect] - (EMBEDDED_ONLY if served else set())
    assert ours <= set(results)
    assert_evidence(results[i] for i in ours)
    for scenario_id in set().union(*DIALECT_SCENARIOS.values()) - ours:
        result = results[scenario_id]
        reasons = [f"dialect {dialect!r} does not implement"] + (["has no reference role"] if served else [])
        assert result.status == SKIPPED, (scenario_id, result.status, result.reason)
        assert any(why in (result.reason or "") for why in reasons), (scenario_id, result.reason)
        if scenario_id not in DIALECT_SCENARIOS[dialect]:
            continue
        assert "has no reference role" in (result.reason or ""), (scenario_id, result.reason)


# --- in-process --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", ["eudiw", "orgwallet"])
def test_vendor_scenarios_pass_in_process_and_skip_in_other_dialects(dialect: str) -> None:
    run = asyncio.run(run_embedded(dialect, load_scenarios([VENDOR])))
    assert_dialect_run(run, dialect)


def test_vendor_scenarios_are_skipped_against_the_tcs_reference_with_the_reason() -> None:
    run = asyncio.run(run_embedded("tcs", load_scenarios([VENDOR])))
    for result in run.scenarios:
        assert result.status == SKIPPED and "dialect 'tcs' does not implement" in (result.reason or ""), result


# --- the shared issuance scenarios ---------------------------------------------------------------


# What issuer.create_offer yields as artefacts in every dialect (the catalogue's promise), read
# from the body by scenarios written against the TCS API.
OFFER_FIELDS = ("deep_link", "offer_id", "tx_code_value")


def portable_form(scenario: Scenario) -> Scenario:
    """The scenario with its successful issuer.create_offer steps read through the catalogue's
    artefacts instead of the TCS response body: captures and matchers of `body.<field>` become
    `artefacts.<field>`, the TCS status and schema give way to oid4vci.offer_shape (which needs
    the Credential Offer a successful creation yields). Every other expectation stays; a step
    that reads anything else of the TCS body makes the scenario TCS-bound (ValueError). The
    identity on a scenario that already reads artefacts."""
    return dataclasses.replace(scenario, steps=tuple(_portable_step(scenario.id, step) for step in scenario.steps))


def _portable_step(scenario_id: str, step: Any) -> Any:
    if step.op != "issuer.create_offer":
        return step
    expect = step.expect
    if any(not 200 <= status < 300 for status in expect.status):
        raise ValueError(f"{scenario_id}: step {step.name!r} expects the TCS API's error answer")
    capture = {}
    for name, path in step.capture.items():
        root, _, field = path.partition(".")
        if root == "body" and field not in OFFER_FIELDS:
            raise ValueError(f"{scenario_id}: step {step.name!r} captures {path} of the TCS body")
        capture[name] = f"artefacts.{field}" if root == "body" else path
    if any(m.path not in OFFER_FIELDS for m in expect.body):
        raise ValueError(f"{scenario_id}: step {step.name!r} expects members of the TCS body")
    if not (expect.status or expect.schema or expect.body or step.capture != capture):
        return step
    return dataclasses.replace(step, capture=capture, expect=dataclasses.replace(
        expect, status=(), schema=None, body=(), artefacts=expect.artefacts + expect.body,
        checks=tuple(dict.fromkeys((*expect.checks, "oid4vci.offer_shape")))))


def shared(scenario_id: str) -> Scenario:
    (scenario,) = [s for s in load_scenarios([ISSUANCE]) if s.id == scenario_id]
    return portable_form(scenario)


@pytest.mark.parametrize("dialect", ["eudiw", "orgwallet"])
@pytest.mark.parametrize("scenario_id", PORTABLE_ISSUANCE)
def test_the_wire_issuance_scenarios_pass_through_every_dialect(dialect: str, scenario_id: str) -> None:
    """The OID4VCI-wire scenarios of scenarios/issuance, on offers made through the vendor API:
    unchanged once they read the offer from artefacts (see portable_form)."""
    assert_evidence(asyncio.run(run_embedded(dialect, [shared(scenario_id)])).scenarios)


def test_portable_form_reads_artefacts_and_refuses_tcs_bound_steps() -> None:
    (bound,) = [s for s in load_scenarios([ISSUANCE]) if s.id == "issuance.tx_code"]
    portable = portable_form(bound)
    creating = [s for s in portable.steps if s.op == "issuer.create_offer"]
    assert creating and all(not s.expect.status and not s.expect.body for s in creating)
    assert all(path.startswith("artefacts.") for s in creating for path in s.capture.values())
    assert all("oid4vci.offer_shape" in s.expect.checks for s in creating)
    assert portable_form(portable) == portable
    (negative,) = [s for s in load_scenarios([ISSUANCE]) if s.id == "issuance.offer_validation"]
    with pytest.raises(ValueError, match="error answer"):
        portable_form(negative)


# --- over HTTP: conformance serve's servers and the example target files -------------------------


@dataclass
class Served:
    server: Any
    callbacks_port: int

    def target_file(self, tmp: Path, dialect: str) -> str:
        """The fixtures/targets example, pointed at this deployment's ports."""
        base = self.server.options.port
        text = (paths.FIXTURES / "targets" / f"{dialect}-serve.yaml").read_text()
        for role, offset in (("eudiw", 4), ("orgwallet", 5), ("ledger", 3)):
            text = text.replace(f"127.0.0.1:{8100 + offset}", f"127.0.0.1:{base + offset}")
        text = text.replace("127.0.0.1:8906", f"127.0.0.1:{self.callbacks_port}")
        path = tmp / f"{dialect}.yaml"
        path.write_text(text)
        return str(path)


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


async def serve(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> Served:
    """`conformance serve`'s servers, with the connector's callback URL at a harness receiver
    address (serve has no option for it yet: the deployment is built with it here)."""
    from conformance.cli.serve_cmd import ReferenceServer, ServeOptions
    from reference import deployment

    hook = free_port()
    monkeypatch.setattr(deployment, "build_reference", functools.partial(
        deployment.build_reference, eudiw_callback_url=f"http://127.0.0.1:{hook}/callback"))
    options = ServeOptions(port=free_base_port(), db=tmp / "db", ledger_latency=0.01, drain_timeout=0.5)
    return Served(await ReferenceServer.start(options), hook)


def test_over_http_the_vendor_and_neutral_scenarios_pass_through_the_example_target_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    neutral = [shared(OVER_HTTP)]   # one of them: on served SQLite files each request costs more

    async def scenario() -> dict[str, RunResult]:
        served = await serve(tmp_path, monkeypatch)
        monkeypatch.setenv("ORGWALLET_API_KEY", served.server.deployment.api_keys["orgwallet"])
        runs = {}
        try:
            for dialect in ("eudiw", "orgwallet"):
                target = await open_target(served.target_file(tmp_path, dialect), seed=SEED)
                try:
                    assert target.deployment is None and target.dialect == dialect
                    runs[dialect] = await run_on(target, load_scenarios([VENDOR]) + neutral)
                finally:
                    await target.aclose()
        finally:
            await served.server.stop()
        return runs

    runs = asyncio.run(scenario())
    for dialect, run in runs.items():
        assert_dialect_run(run, dialect, served=True)
        assert_evidence([by_id(run)[OVER_HTTP]])
        expired = by_id(run)["vendor.eudiw_offer_expired"]
        assert expired.status == SKIPPED and "reference" in (expired.reason or "")


# --- the embedded targets ------------------------------------------------------------------------


@pytest.mark.parametrize(("spec", "dialect", "issuer_host", "config"), [
    ("reference", "tcs", "issuer.local", "TuringCerts_Standard_Credential_v2_sd_jwt"),
    ("reference:tcs", "tcs", "issuer.local", "TuringCerts_Standard_Credential_v2_sd_jwt"),
    ("reference:eudiw", "eudiw", "eudiw.local", "TuringCerts_Standard_Credential_v2_sd_jwt"),
    ("reference:orgwallet", "orgwallet", "orgwallet.local", "TuringCertsSdJwt"),
])
def test_the_embedded_reference_as_each_dialect(spec: str, dialect: str, issuer_host: str, config: str) -> None:
    async def opened() -> tuple[Target, dict[str, Any]]:
        target = await open_target(spec, seed=1)
        try:
            return target, target.describe()
        finally:
            await target.aclose()

    target, described = asyncio.run(opened())
    assert target.dialect == dialect and target.deployment is not None and target.has("reference")
    assert target.roles["issuer"].base_url == f"http://{issuer_host}" and target.config_ids["default"] == config
    assert {"issuer", "ledger"} <= set(target.roles)
    assert ("holder" in target.roles) == (dialect == "tcs")
    if dialect == "orgwallet":
        assert described["roles"]["issuer"]["api_key"] == "[redacted]"
        assert target.roles["issuer"].api_key in target.secrets()


def test_an_unknown_embedded_dialect_is_a_target_error_naming_the_known_ones() -> None:
    with pytest.raises(TargetError, match=r"reference:acme.*tcs, eudiw, orgwallet"):
        asyncio.run(open_target("reference:acme", seed=0))


# --- the pieces ------------------------------------------------------------------------------------


def test_the_deferred_credential_is_checked_against_the_key_the_wallet_proved() -> None:
    """collect_deferred hands the checks the holder key it is given: another key fails the cnf check."""
    (deferred,) = load_scenarios([VENDOR / "orgwallet_deferred.yaml"])
    other = generate_key("ES256").public
    steps = [dataclasses.replace(step, inputs={**step.inputs, "holder_key": other})
             if step.op == "wallet.collect_deferred" and "holder_key" in step.inputs else step
             for step in deferred.steps]
    (result,) = asyncio.run(run_embedded("orgwallet", [dataclasses.replace(deferred, steps=tuple(steps))])).scenarios
    assert result.status != PASSED
    assert "sdjwt.vc_claims" in (result.reason or "") and "not the key the wallet proved" in (result.reason or "")


def delivery(status: str, offer: str = "o-1", event: str | None = None) -> dict[str, Any]:
    return {"method": "POST", "path": "/callback", "headers": {}, "received_at": 0.0,
            "body": {"eventId": event or offer, "status": status, "offerId": offer}}


def test_callbacks_are_deduplicated_by_event_id_and_status_keeping_arrival_order() -> None:
    arrived = [delivery("OFFER_CREATED"), delivery("OFFER_CREATED"), delivery("ISSUED"),
               delivery("ISSUED", event="other"), delivery("ISSUED")]
    assert [(c["eventId"], c["status"]) for c in deduplicated(arrived)] == [
        ("o-1", "OFFER_CREATED"), ("o-1", "ISSUED"), ("other", "ISSUED")]
    wrong_order = [delivery("ISSUED"), delivery("OFFER_CREATED")]
    assert [c["status"] for c in deduplicated(wrong_order)] == ["ISSUED", "OFFER_CREATED"]


def test_wait_callbacks_until_takes_the_seed_statuses_only() -> None:
    def until(value: Any) -> tuple[str, ...]:
        return statuses_input(Inputs("issuer.wait_callbacks", {"until": value}, ("until",)))

    assert until(None) == ("ISSUED", "FAILED", "EXPIRED")
    assert until("OFFER_CREATED") == ("OFFER_CREATED",)
    for bad in ("DONE", [], ["ISSUED", "issued"], 3):
        with pytest.raises(InputError, match="OFFER_CREATED, ISSUED, FAILED, EXPIRED"):
            until(bad)


def context(target: Target) -> StepContext:
    import random
    return StepContext(target=target, vars={}, rng=random.Random(0), wallet=HarnessWallet(random.Random(0)))


@pytest.mark.parametrize(("dialect", "inputs", "message"), [
    ("eudiw", {"claims": {}, "expires_in": 60}, "'expires_in' has no equivalent in the EUDIW connector API"),
    ("eudiw", {"claims": {}, "callback": True}, "callback URL is the connector's configuration"),
    ("eudiw", {"claims": {}, "notarize": True}, "'notarize' has no equivalent"),
    ("eudiw", {"claims": {}, "deferred": True}, "issues at once"),
    ("orgwallet", {"claims": {}, "issuer_did": "did:key:z6Mk"}, "'issuer_did' has no equivalent in the organisation"),
    ("orgwallet", {"claims": {}, "flow": "authorization_code"}, "pre-authorized code flow only"),
    ("orgwallet", {"claims": {}, "tx_code": {"input_mode": "emoji", "length": 4}},
     "input_mode must be numeric or text"),
])
def test_inputs_an_api_cannot_express_are_refused_before_any_request(
        dialect: str, inputs: Mapping[str, Any], message: str) -> None:
    async def attempt() -> None:
        target = await open_target(f"reference:{dialect}", seed=0)
        try:
            with pytest.raises(InputError, match=message):
                await get_operation(dialect, "issuer.create_offer")(context(target), inputs)
        finally:
            await target.aclose()

    asyncio.run(attempt())


def test_orgwallet_revocation_statuses_and_deferred_collection_need_their_inputs() -> None:
    async def attempt() -> None:
        target = await open_target("reference:orgwallet", seed=0)
        try:
            ctx = context(target)
            with pytest.raises(InputError, match="ACTIVE, SUSPENDED, REVOKED"):
                await get_operation("orgwallet", "issuer.revoke")(ctx, {"credential_id": "x", "status": "GONE"})
            with pytest.raises(InputError, match="run wallet.receive first"):
                await get_operation("orgwallet", "wallet.collect_deferred")(ctx, {"transaction_id": "t"})
        finally:
            await target.aclose()

    asyncio.run(attempt())

"""The eudiw and orgwallet dialects against the reference, through the real runner, harness
wallet and checks. Every scenario of scenarios/issuance, scenarios/conformance_suite/issuer and
scenarios/vendor either passes or is skipped for a reason the runner states (written for another
dialect, an operation the dialect lacks, a role the target lacks), in-process (`reference:eudiw`,
`reference:orgwallet`) and, for a representative subset, over real HTTP (`conformance serve`'s
servers and the example target files of fixtures/targets/); the portable ones (no `dialects:`,
offers read through artefacts) are a fixed, non-trivial set that passes unchanged on every
dialect, with every check they name really run. Plus the pieces: the embedded targets, callback
deduplication, refused inputs."""

from __future__ import annotations

import asyncio
import dataclasses
import re
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
ISSUER_MODULES = paths.SCENARIOS / "conformance_suite" / "issuer"
LIBRARY = (ISSUANCE, ISSUER_MODULES, VENDOR)
VENDOR_DIALECTS = ("eudiw", "orgwallet")
DIALECT_SCENARIOS = {
    "eudiw": {"vendor.eudiw_offer_issued", "vendor.eudiw_offer_failed", "vendor.eudiw_offer_expired"},
    "orgwallet": {"vendor.orgwallet_intime", "vendor.orgwallet_deferred"},
}
# The shared scenarios that run unchanged on every dialect: the OID4VCI wire through an offer
# read from artefacts. A scenario leaving this set (marked `dialects:`, or failing) is a regression.
PORTABLE = {
    "issuance.tx_code", "issuance.wire_rejections",
    "conformance_suite.issuer.fail_invalid_jwt_proof_signature", "conformance_suite.issuer.fail_invalid_nonce",
    "conformance_suite.issuer.fail_missing_proof", "conformance_suite.issuer.fail_unknown_credential",
    "conformance_suite.issuer.happy_flow_additional_requests",
    "conformance_suite.issuer.happy_flow_multiple_clients", "conformance_suite.issuer.metadata",
}
MIN_PORTABLE = 5
# Over HTTP, a representative subset: the dialect's own scenarios and three portable ones.
OVER_HTTP_PORTABLE = ("issuance.tx_code", "conformance_suite.issuer.fail_invalid_nonce",
                      "conformance_suite.issuer.metadata")
# Scenarios that need the embedded reference's controls (its clock): skipped over HTTP.
EMBEDDED_ONLY = {"vendor.eudiw_offer_expired"}
# Why a scenario may be skipped on a vendor dialect: the runner's own skip messages, by kind.
SKIP_REASONS = {
    "written for another dialect": re.compile(
        r"^written for the [a-z, ]+ dialects? only \(dialects: \[[a-z, ]+\]\); target '[^']+' speaks '[a-z]+'$"),
    "an operation the dialect lacks": re.compile(r"^dialect '[a-z]+' does not implement [a-z]+\.[a-z_]+$"),
    "a role the target lacks": re.compile(r"^target '[^']+' has no [a-z, ]+ roles? \(the scenario needs [a-z, ]+\)$"),
}


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


def skip_kind(result: ScenarioResult) -> str | None:
    return next((kind for kind, pattern in SKIP_REASONS.items() if pattern.match(result.reason or "")), None)


def assert_evidence(results: Iterable[ScenarioResult]) -> None:
    """Passed, and every named check ran and passed (a check skipped for want of an artefact
    would let a scenario pass on no evidence)."""
    for result in results:
        assert result.status == PASSED, (result.id, result.reason)
        idle = [(step.name, c.name, c.message) for step in result.steps for c in step.checks if c.status != PASSED]
        assert not idle, (result.id, idle)


def assert_passed_or_skipped_with_reason(run: RunResult) -> None:
    assert_evidence(r for r in run.scenarios if r.status != SKIPPED)
    unexplained = {r.id: r.reason for r in run.scenarios if r.status == SKIPPED and skip_kind(r) is None}
    assert not unexplained, unexplained


def assert_dialect_run(run: RunResult, dialect: str, expected: set[str]) -> None:
    """Every scenario passed or was skipped with a stated reason; exactly `expected` passed."""
    assert_passed_or_skipped_with_reason(run)
    passed = {r.id for r in run.scenarios if r.status == PASSED}
    assert passed == expected, (dialect, sorted(passed ^ expected))
    for result in run.scenarios:
        if result.id.startswith("vendor.") and result.id not in DIALECT_SCENARIOS[dialect] | expected:
            # the other vendor's scenarios: skipped as written for that dialect, not for a failure
            assert skip_kind(result) == "written for another dialect", result


# --- in-process --------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", VENDOR_DIALECTS)
def test_the_library_passes_or_skips_with_the_reason_on_each_vendor_dialect(dialect: str) -> None:
    scenarios = load_scenarios(list(LIBRARY))
    run = asyncio.run(run_embedded(dialect, scenarios))
    assert_dialect_run(run, dialect, PORTABLE | DIALECT_SCENARIOS[dialect])
    assert len(PORTABLE) >= MIN_PORTABLE
    marked = {s.id: s.dialects for s in scenarios}
    results = by_id(run)
    # The portable set carries no `dialects:`; a scenario bound to the TCS API says so, and is
    # skipped for it (the report's reason names the dialects it is written for).
    assert not any(marked[i] for i in PORTABLE)
    for scenario_id, dialects in marked.items():
        if dialects and dialect not in dialects:
            assert skip_kind(results[scenario_id]) == "written for another dialect", results[scenario_id]
            assert f"dialects: [{', '.join(dialects)}]" in (results[scenario_id].reason or "")


def test_the_portable_scenarios_read_offers_through_artefacts_only() -> None:
    """No portable scenario reads the TCS offer body or expects its status: the catalogue's
    artefacts and checks are what every dialect yields."""
    for scenario in load_scenarios(list(LIBRARY)):
        if scenario.id not in PORTABLE:
            continue
        for step in scenario.steps:
            if step.op == "issuer.create_offer":
                assert all(path.startswith("artefacts.") for path in step.capture.values()), (scenario.id, step.name)
                assert not step.expect.status and not step.expect.body, (scenario.id, step.name)
                assert "oid4vci.offer_shape" in step.expect.checks, (scenario.id, step.name)
            assert step.http is None, (scenario.id, step.name)


def test_vendor_scenarios_are_skipped_against_the_tcs_reference_with_the_reason() -> None:
    run = asyncio.run(run_embedded("tcs", load_scenarios([VENDOR])))
    for result in run.scenarios:
        assert result.status == SKIPPED and skip_kind(result) == "written for another dialect", result


# --- over HTTP: conformance serve's servers and the example target files -------------------------


@dataclass
class Served:
    server: Any
    callbacks_port: int

    def target_file(self, tmp: Path, dialect: str) -> str:
        """The fixtures/targets example, pointed at this deployment's ports."""
        base = self.server.options.port
        text = (paths.FIXTURES / "targets" / f"{dialect}-serve.yaml").read_text()
        for offset in (4, 5, 3):   # eudiw, orgwallet, ledger
            text = text.replace(f"127.0.0.1:{8100 + offset}", f"127.0.0.1:{base + offset}")
        text = text.replace("127.0.0.1:8906", f"127.0.0.1:{self.callbacks_port}")
        path = tmp / f"{dialect}.yaml"
        path.write_text(text)
        return str(path)


async def serve(tmp: Path) -> Served:
    """`conformance serve`'s servers, the connector's callbacks going to the address the
    example eudiw target's receiver listens on (`--eudiw-callback-url`)."""
    from conformance.cli.serve_cmd import ReferenceServer, ServeOptions

    hook = free_base_port()
    options = ServeOptions(port=free_base_port(), db=tmp / "db", ledger_latency=0.01, drain_timeout=0.5,
                           eudiw_callback_url=f"http://127.0.0.1:{hook}/callback")
    return Served(await ReferenceServer.start(options), hook)


def test_over_http_a_subset_passes_through_the_example_target_files(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = DIALECT_SCENARIOS["eudiw"] | DIALECT_SCENARIOS["orgwallet"] | set(OVER_HTTP_PORTABLE)
    scenarios = [s for s in load_scenarios(list(LIBRARY)) if s.id in wanted]

    async def scenario() -> dict[str, RunResult]:
        served = await serve(tmp_path)
        monkeypatch.setenv("ORGWALLET_API_KEY", served.server.deployment.api_keys["orgwallet"])
        runs = {}
        try:
            for dialect in VENDOR_DIALECTS:
                target = await open_target(served.target_file(tmp_path, dialect), seed=SEED)
                try:
                    assert target.deployment is None and target.dialect == dialect
                    runs[dialect] = await run_on(target, scenarios)
                finally:
                    await target.aclose()
        finally:
            await served.server.stop()
        return runs

    runs = asyncio.run(scenario())
    for dialect, run in runs.items():
        assert len(run.scenarios) == len(wanted)
        assert_dialect_run(run, dialect, (set(OVER_HTTP_PORTABLE) | DIALECT_SCENARIOS[dialect]) - EMBEDDED_ONLY)
        expired = by_id(run)["vendor.eudiw_offer_expired"]
        why = "has no reference role" if dialect == "eudiw" else "written for the eudiw dialect only"
        assert expired.status == SKIPPED and why in (expired.reason or ""), expired.reason


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

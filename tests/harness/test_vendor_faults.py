"""Faulty variants of the EUDIW connector and the organisation wallet, each in one embedded
deployment only: the vendor scenarios must catch them at the right step with the right
expectation. A connector that sends OFFER_CREATED late (after the session's outcome), one that
leaves tx_code_value out of POST /offers, and a Deferred Credential Endpoint that never has the
credential ready. One variant is no fault: delivering every callback twice (as retries would) is
what the seed's eventId + status deduplication is for, and the scenario still passes."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from conformance import paths
from conformance.harness.environment import default_environment
from conformance.harness.loader import load_scenarios
from conformance.harness.results import FAILED, PASSED, ScenarioResult
from conformance.harness.runner import Runner
from conformance.harness.target import Target, open_target
from reference.issuer.engine import Answer

SEED = 20260403
VENDOR = paths.SCENARIOS / "vendor"
# A fault shows within this bound (the harness would otherwise wait the target's poll timeout).
SHORT_POLL = 0.3
Fault = Callable[[Target], None]


async def run_with(dialect: str, fault: Fault, scenario_ids: tuple[str, ...]) -> dict[str, ScenarioResult]:
    target = await open_target(f"reference:{dialect}", seed=SEED)
    target.poll_timeout = SHORT_POLL
    fault(target)
    try:
        scenarios = [s for s in load_scenarios([VENDOR]) if s.id in scenario_ids]
        run = await Runner(target, env=default_environment(), seed=SEED, step_timeout=30).run(scenarios)
        return {s.id: s for s in run.scenarios}
    finally:
        await target.aclose()


def failure(result: ScenarioResult) -> tuple[str, list[str], str | None]:
    """(failed step, its failed expectation kinds, its error) of a failed scenario."""
    assert result.status == FAILED, (result.id, result.status, result.reason)
    (step,) = [s for s in result.steps if s.status == FAILED]
    return step.name, [e.kind for e in step.failed_expectations], step.error


# --- middleware: rewrite a JSON answer of one route ---------------------------------------------

Edit = Callable[[dict[str, Any]], dict[str, Any]]


def rewrite_json(app: Any, method: str, path: str, edit: Edit) -> Callable[..., Awaitable[None]]:
    """ASGI wrapper: the JSON body of `method path` answers goes through `edit`."""
    route = re.compile(path)

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != method or not route.fullmatch(scope["path"]):
            await app(scope, receive, send)
            return
        started: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = json.dumps(edit(json.loads(b"".join(chunks)))).encode()
            headers = [(k, v) for k, v in started["headers"] if k.lower() != b"content-length"]
            await send({**started, "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, capture)

    return wrapped


def mount_wrapped(target: Target, role: str, method: str, path: str, edit: Edit) -> None:
    deployment = target.deployment
    url = deployment.urls[role]
    deployment.network.mount(url, rewrite_json(deployment.apps[role], method, path, edit))


# --- the EUDIW connector --------------------------------------------------------------------------


def offer_created_late(target: Target) -> None:
    """OFFER_CREATED is held back until the session has its outcome, then sent after it."""
    callbacks = target.deployment.services["eudiw"].callbacks
    original, held = callbacks.enqueue, set()

    def enqueue(offer_id: str, status: str, error_details: str | None = None) -> None:
        if status == "OFFER_CREATED":
            held.add(offer_id)
            return
        original(offer_id, status, error_details)
        if offer_id in held:
            held.discard(offer_id)
            original(offer_id, "OFFER_CREATED")

    callbacks.enqueue = enqueue


def test_a_late_offer_created_callback_is_caught() -> None:
    results = asyncio.run(run_with("eudiw", offer_created_late,
                                   ("vendor.eudiw_offer_issued", "vendor.eudiw_offer_failed")))
    step, kinds, error = failure(results["vendor.eudiw_offer_issued"])
    assert step == "OFFER_CREATED arrives at once" and kinds[:2] == ["operation", "artefacts.statuses"]
    assert error is None and "no OFFER_CREATED callback" in results["vendor.eudiw_offer_issued"].reason
    # Where the harness waits for the outcome, both arrived, in the wrong order.
    step, kinds, _ = failure(results["vendor.eudiw_offer_failed"])
    assert step == "FAILED arrives once, with errorDetails, after OFFER_CREATED"
    assert kinds[0] == "artefacts.statuses"
    assert "['FAILED', 'OFFER_CREATED']" in results["vendor.eudiw_offer_failed"].reason


def test_a_missing_tx_code_value_is_caught() -> None:
    def no_tx_code_value(target: Target) -> None:
        mount_wrapped(target, "eudiw", "POST", "/offers",
                      lambda body: {k: v for k, v in body.items() if k != "tx_code_value"})

    results = asyncio.run(run_with("eudiw", no_tx_code_value, ("vendor.eudiw_offer_issued",)))
    step, kinds, _ = failure(results["vendor.eudiw_offer_issued"])
    assert step == "create an offer with a transaction code"
    assert {"schema", "body.tx_code_value", "capture.pin"} <= set(kinds)


def test_callbacks_delivered_twice_are_deduplicated_not_failed() -> None:
    def every_callback_twice(target: Target) -> None:
        callbacks = target.deployment.services["eudiw"].callbacks
        original = callbacks.enqueue

        def enqueue(offer_id: str, status: str, error_details: str | None = None) -> None:
            original(offer_id, status, error_details)
            original(offer_id, status, error_details)

        callbacks.enqueue = enqueue

    results = asyncio.run(run_with("eudiw", every_callback_twice, ("vendor.eudiw_offer_issued",)))
    result = results["vendor.eudiw_offer_issued"]
    assert result.status == PASSED, result.reason
    assert "passed" in [c.status for step in result.steps for c in step.checks]


# --- the organisation wallet ----------------------------------------------------------------------


def test_a_deferred_credential_that_never_gets_ready_is_caught() -> None:
    def never_ready(target: Target) -> None:
        wire = target.deployment.apps["issuer"].state.wire

        async def deferred_credential(authorization: str | None, body: Any) -> Answer:
            return Answer({"transaction_id": body["transaction_id"], "interval": 1}, 202)

        wire.deferred_credential = deferred_credential

    results = asyncio.run(run_with("orgwallet", never_ready, ("vendor.orgwallet_deferred",)))
    result = results["vendor.orgwallet_deferred"]
    step, kinds, _ = failure(result)
    assert step == "the Deferred Credential Endpoint delivers the credential"
    assert kinds[:2] == ["operation", "status"]
    assert "still pending after" in (result.reason or "")
    # It polled until the bound, not once.
    (failed,) = [s for s in result.steps if s.status == FAILED]
    assert len([e for e in failed.exchanges if "deferred_credential" in e["url"]]) >= 3

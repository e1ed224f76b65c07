"""The dialect layer: the registry (dialects, operations, roles), typed inputs, logical names,
polling, the StepContext cleanups, and operations over a mock transport and the embedded
reference for what the scenarios do not show (transport failures, timeouts, misuse)."""

from __future__ import annotations

import json
import random
import sys
import types
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conformance import dialects
from conformance.dialects import registry
from conformance.dialects.base import Calls, InputError, OperationResult, StepContext
from conformance.dialects.catalogue import CATALOGUE, REFERENCE_ROLE
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import api_key, config_id
from conformance.dialects.polling import poll
from conformance.harness.target import RoleEndpoint, Target, open_target

pytestmark = pytest.mark.anyio

ISSUER, VERIFIER = "https://issuer.test", "https://verifier.test"


def make_target(handler: Callable[[httpx.Request], httpx.Response], *, roles: tuple[str, ...] = ("issuer", "verifier"),
                config_ids: dict[str, str] | None = None) -> Target:
    urls = {"issuer": ISSUER, "verifier": VERIFIER, "holder": "https://holder.test", "ledger": "https://ledger.test"}
    endpoints = {role: RoleEndpoint(urls[role], f"{role}-key-0123456789",
                                    {"api_keys": {"x509": "x509-key-0123456789"}} if role == "issuer" else {})
                 for role in roles}
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=2.0)
    return Target("mock", "tcs", endpoints, config_ids or {"default": "Degree_v1"}, http,
                  poll_interval=0.0, poll_timeout=0.2)


def context(target: Target) -> StepContext:
    return StepContext(target=target, vars={}, rng=random.Random(1), wallet=None, webhooks=None)


# --- the registry ----------------------------------------------------------------------------------

def test_an_unknown_operation_is_a_key_error_listing_the_known_ones() -> None:
    with pytest.raises(KeyError) as caught:
        dialects.get_operation("tcs", "issuer.create_ofer")
    message = str(caught.value)
    assert "unknown operation 'issuer.create_ofer'" in message
    assert "issuer.create_offer" in message and "wallet.present" in message and "verifier.wait_result" in message
    with pytest.raises(KeyError, match="known: holder.create_did"):
        dialects.operation_roles("issuer.create_ofer")


def test_an_unknown_dialect_is_a_key_error_listing_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"unknown dialect 'acme' \(known: eudiw, orgwallet, tcs\)"):
        dialects.get_operation("acme", "issuer.create_offer")


# What only another vendor's API has: EUDIW callbacks, the organisation wallet's deferred issuance.
VENDOR_ONLY = {"issuer.wait_callbacks", "issuer.supply_deferred", "issuer.deny", "wallet.collect_deferred"}


def test_tcs_implements_the_catalogue_but_vendor_only_operations_and_roles_come_from_it() -> None:
    assert set(CATALOGUE) - set(dialects.operation_names("tcs")) == VENDOR_ONLY
    implemented = {name for dialect in dialects.dialect_names() for name in dialects.operation_names(dialect)}
    assert implemented == set(CATALOGUE)
    assert dialects.operation_roles("issuer.create_offer") == ("issuer",)
    assert dialects.operation_roles("wallet.receive") == ("issuer",)
    assert dialects.operation_roles("wallet.present") == ("verifier",)
    assert dialects.operation_roles("holder.present") == ("holder",)
    assert dialects.operation_roles("ledger.object") == ("ledger",)
    assert dialects.operation_roles("reference.advance_clock") == (REFERENCE_ROLE,)
    assert dialects.operation_roles("webhooks.wait") == ()
    for spec in CATALOGUE.values():
        assert spec.name.split(".")[0] in {"issuer", "holder", "verifier", "ledger", "wallet", "webhooks", "reference", "rp"}
        assert spec.summary and all(description for description in spec.inputs.values())


@pytest.fixture
def fake_dialect(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], None]:
    """Register a dialect `fake` whose module exposes the given OPERATIONS."""
    def install(operations: dict[str, Any]) -> None:
        module = types.ModuleType("tests_fake_dialect")
        module.OPERATIONS = operations  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "tests_fake_dialect", module)
        monkeypatch.setattr(registry, "DIALECTS", {**registry.DIALECTS, "fake": "tests_fake_dialect"})
        registry._operations.cache_clear()
    yield install
    registry._operations.cache_clear()


async def test_a_new_dialect_is_one_module_and_gets_the_shared_operations(fake_dialect: Any) -> None:
    async def create_offer(ctx: StepContext, args: Inputs) -> OperationResult:
        return OperationResult(201, {"claims": args.obj("claims")})

    fake_dialect({"issuer.create_offer": create_offer})
    assert "fake" in dialects.dialect_names()
    names = dialects.operation_names("fake")
    assert "issuer.create_offer" in names and "wallet.receive" in names and "ledger.object" in names
    assert "holder.register" not in names
    result = await dialects.get_operation("fake", "issuer.create_offer")(None, {"claims": {"a": 1}})
    assert (result.status, result.body) == (201, {"claims": {"a": 1}})
    with pytest.raises(KeyError, match="dialect 'fake' does not implement holder.register"):
        dialects.get_operation("fake", "holder.register")


def test_a_dialect_implementing_an_operation_the_catalogue_lacks_fails_to_load(fake_dialect: Any) -> None:
    fake_dialect({"issuer.teleport": None})
    with pytest.raises(ValueError, match="issuer.teleport"):
        dialects.operation_names("fake")


async def test_inputs_outside_the_declared_ones_are_refused_before_any_call() -> None:
    calls = []
    target = make_target(lambda request: calls.append(request) or httpx.Response(500))
    operation = dialects.get_operation("tcs", "issuer.create_offer")
    with pytest.raises(InputError, match=r"unknown input 'claim'; did you mean 'claims'\?"):
        await operation(context(target), {"claim": {}})
    with pytest.raises(InputError, match="input 'claims' must be an object, got 'x'"):
        await operation(context(target), {"claims": "x"})
    with pytest.raises(InputError, match="input 'claims' is required"):
        await operation(context(target), {})
    assert calls == []
    await target.aclose()


def test_typed_inputs() -> None:
    args = Inputs("op.x", {"n": 3, "f": True, "s": "t", "l": ["a", 1], "o": {"k": 1}}, ("n", "f", "s", "l", "o", "m"))
    assert (args.integer("n"), args.flag("f"), args.text("s"), args.obj("o")) == (3, True, "t", {"k": 1})
    assert args.text("m", "fallback") == "fallback" and args.raw("l") == ["a", 1]
    for read, message in ((lambda: args.flag("n"), "true or false"), (lambda: args.text("n"), "a string"),
                          (lambda: args.strings("l"), "a list of strings"), (lambda: args.array("o"), "a list"),
                          (lambda: args.number("s"), "a number"), (lambda: args.number("n", minimum=5), "at least 5")):
        with pytest.raises(InputError, match=message):
            read()


# --- logical names ---------------------------------------------------------------------------------

async def test_configurations_and_api_keys_resolve_logically_or_literally() -> None:
    target = make_target(lambda request: httpx.Response(404), config_ids={"default": "Degree_v1"})
    ctx = context(target)
    assert config_id(ctx, "default") == "Degree_v1"
    assert config_id(ctx, "IdentityCredential") == "IdentityCredential"     # not a logical name: literal
    with pytest.raises(InputError, match=r"no credential configuration named 'identity' \(config_ids: default\)"):
        config_id(ctx, "identity")
    assert api_key(ctx, "issuer", None) == api_key(ctx, "issuer", "default") == "issuer-key-0123456789"
    assert api_key(ctx, "issuer", "none") is None
    assert api_key(ctx, "issuer", "x509") == "x509-key-0123456789"
    assert api_key(ctx, "issuer", "Literal-Key-42") == "Literal-Key-42"
    with pytest.raises(InputError, match=r"no API key named 'limited' \(named keys: default, none, x509\)"):
        api_key(ctx, "issuer", "limited")
    with pytest.raises(InputError, match="has no holder role"):
        api_key(ctx, "holder", None)
    await target.aclose()


# --- calls, polling, cleanups ----------------------------------------------------------------------

async def test_a_dead_target_yields_a_result_with_the_error_not_an_exception() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    target = make_target(refuse)
    result = await dialects.get_operation("tcs", "issuer.create_offer")(context(target), {"claims": {"a": "b"}})
    assert result.status is None and result.body is None
    assert "ConnectError" in (result.error or "") and "connection refused" in result.error
    (exchange,) = result.exchanges
    assert exchange.status is None and exchange.request_headers["X-API-Key"] == "[redacted]"
    await target.aclose()


async def test_create_offer_sends_the_seed_body_and_fetches_the_offer() -> None:
    seen: list[httpx.Request] = []
    offer = {"credential_issuer": ISSUER, "credential_configuration_ids": ["Degree_v1"], "grants": {}}

    def issuer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(201, json={"offer_id": "o1", "credential_offer_uri": f"{ISSUER}/v1/offers/o1",
                                             "deep_link": "openid-credential-offer://?x", "expires_at": "t"})
        return httpx.Response(200, json=offer)

    target = make_target(issuer)
    result = await dialects.get_operation("tcs", "issuer.create_offer")(context(target), {
        "claims": {"credentialName": "X"}, "api_key": "x509", "tx_code": True, "notarize": False, "expires_in": 60})
    post, get = seen
    assert post.headers["x-api-key"] == "x509-key-0123456789"
    assert json.loads(post.content) == {
        "credential": {"config_id": "Degree_v1", "claims": {"credentialName": "X"}}, "flow": "pre-authorized",
        "expires_in": 60, "notarize_on_iota": False, "tx_code": {"input_mode": "numeric", "length": 6}}
    assert str(get.url) == f"{ISSUER}/v1/offers/o1"
    assert result.status == 201 and result.artefacts["offer"] == offer and result.artefacts["offer_id"] == "o1"
    assert [e.status for e in result.exchanges] == [201, 200]
    await target.aclose()


async def test_polling_stops_when_done_on_a_non_2xx_answer_or_at_the_timeout() -> None:
    answers = iter([{"status": "pending"}, {"status": "pending"}, {"status": "completed"}])
    target = make_target(lambda request: httpx.Response(200, json=next(answers)))
    calls = Calls(context(target))
    polled = await poll(context(target), lambda: calls.send("GET", f"{VERIFIER}/r"),
                        lambda body: body["status"] == "completed", timeout=5, interval=0)
    assert (polled.polls, polled.settled) == (3, True)
    await target.aclose()

    target = make_target(lambda request: httpx.Response(200, json={"status": "pending"}))
    calls = Calls(context(target))
    polled = await poll(context(target), lambda: calls.send("GET", f"{VERIFIER}/r"), lambda body: False,
                        timeout=0.05, interval=0.01)
    assert not polled.settled and polled.polls >= 2 and polled.waited >= 0.05
    await target.aclose()

    target = make_target(lambda request: httpx.Response(404, json={}))
    calls = Calls(context(target))
    polled = await poll(context(target), lambda: calls.send("GET", f"{VERIFIER}/r"), lambda body: True,
                        timeout=5, interval=0)
    assert (polled.polls, polled.settled, polled.response.status_code) == (1, False, 404)
    await target.aclose()


async def test_wait_result_that_never_settles_fails_with_the_last_status() -> None:
    target = make_target(lambda request: httpx.Response(200, json={"status": "in_progress"}))
    result = await dialects.get_operation("tcs", "verifier.wait_result")(context(target), {"session_id": "s1"})
    assert result.status == 200 and result.artefacts["polls"] >= 2
    assert "did not end within 0.2 s" in result.error and "'in_progress'" in result.error
    await target.aclose()


async def test_cleanups_run_newest_first_and_all_of_them() -> None:
    ctx = context(make_target(lambda request: httpx.Response(404)))
    ran: list[str] = []

    def cleanup(name: str, fail: bool = False) -> Callable[[], Any]:
        async def run() -> None:
            ran.append(name)
            if fail:
                raise RuntimeError(name)
        return run

    ctx.cleanups += [cleanup("first"), cleanup("second", fail=True), cleanup("third")]
    with pytest.raises(RuntimeError, match="second"):
        await ctx.aclose()
    assert ran == ["third", "second", "first"] and ctx.cleanups == []
    await ctx.target.aclose()


# --- misuse of scenario state ----------------------------------------------------------------------

async def test_holder_operations_say_which_step_is_missing() -> None:
    target = make_target(lambda request: httpx.Response(500), roles=("holder",))
    ctx = context(target)
    with pytest.raises(InputError, match="run holder.login first"):
        await dialects.get_operation("tcs", "holder.list_credentials")(ctx, {})
    with pytest.raises(InputError, match="run holder.register first"):
        await dialects.get_operation("tcs", "holder.login")(ctx, {})
    with pytest.raises(InputError, match="run holder.create_did or holder.import_did first"):
        await dialects.get_operation("tcs", "holder.receive")(ctx, {"offer": "x", "token": "t"})
    with pytest.raises(InputError, match="run holder.request_details first"):
        await dialects.get_operation("tcs", "holder.present")(ctx, {"request": "x", "token": "t", "did": "did:x:1",
                                                                    "private_key": "k"})
    await target.aclose()


async def test_reference_operations_refuse_other_targets() -> None:
    target = make_target(lambda request: httpx.Response(500))
    assert not target.has(REFERENCE_ROLE)
    with pytest.raises(InputError, match="needs the embedded reference target"):
        await dialects.get_operation("tcs", "reference.advance_clock")(context(target), {"seconds": 1})
    await target.aclose()


# --- on the embedded reference ---------------------------------------------------------------------

async def test_ledger_faults_are_undone_by_the_cleanup_and_a_stuck_notarization_times_out() -> None:
    target = await open_target(None, seed=1)
    try:
        ctx = context(target)
        faults = target.deployment.services["ledger"].faults
        before = faults.as_dict()
        run = dialects.get_operation
        result = await run("tcs", "reference.ledger_faults")(ctx, {"latency": 0.4})
        assert result.body["latency"] == 0.4 and faults.latency == 0.4
        offer = await run("tcs", "issuer.create_offer")(ctx, {"claims": {"credentialName": "Slow", "issuedTime": "t"}})
        assert offer.status == 201
        from conformance.wallet import HarnessWallet   # the real wallet, for a real credential
        ctx.wallet = HarnessWallet(random.Random(2))
        received = await run("tcs", "wallet.receive")(ctx, {"offer": offer.body["deep_link"]})
        assert received.status == 200, received.error
        waited = await run("tcs", "issuer.wait_notarization")(ctx, {"offer_id": offer.body["offer_id"],
                                                                   "timeout": 0.15, "interval": 0.05})
        assert waited.status == 200 and waited.artefacts["on_chain_status"] in ("PENDING", "IN_PROGRESS")
        assert "did not settle within 0.15 s" in waited.error
        with pytest.raises(InputError, match="failure_rate"):
            await run("tcs", "reference.ledger_faults")(ctx, {"failure_rate": 2})
        await ctx.aclose()
        assert faults.as_dict() == before
    finally:
        await target.aclose()

"""The harness's webhook receiver: in-process on the embedded reference, on a real socket for
external targets; it receives the reference issuer's `credential.notarized` callback exactly once
(issuer seed, Step 3 · Webhook: "Single attempt, no retries"), and a slow, failing or
redirecting receiver changes nothing for issuance."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from conformance.cli.serve_cmd import ReferenceServer, ServeOptions
from conformance.harness.webhooks import Reply, WebhookReceiver, WebhookSettings, bind_socket
from conformance.net import make_client
from conformance.protocol.jose import generate_key
from conformance.protocol.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    TokenRequest,
    build_credential_request,
    build_proof_jwt,
    parse_authorization_server_metadata,
    parse_credential_offer,
    parse_credential_response,
    parse_issuer_metadata,
    parse_nonce_response,
    parse_offer_link,
    parse_token_response,
    well_known_url,
)
from conformance.protocol.sdjwt.serialization import parse_sd_jwt
from reference.deployment import build_reference

pytestmark = pytest.mark.anyio

CONFIG = "TuringCerts_Standard_Credential_v2_sd_jwt"
CLAIMS = {"credentialName": "Webhook Degree", "issuedTime": "2026-03-26T00:00:00Z"}
PAYLOAD_KEYS = {"event", "offer_id", "credential_id", "object_id", "blockchain", "notarized_at"}


# --- a plain OID4VCI 1.0 wallet (pre-authorized code flow) -------------------------------------


async def receive_credential(http: httpx.AsyncClient, deep_link: str) -> str:
    """offer -> issuer metadata -> AS metadata -> token -> nonce -> credential (OID4VCI 1.0
    §4.1, §12.2, §6, §7, §8); returns the SD-JWT VC."""
    link = parse_offer_link(deep_link)
    offer = parse_credential_offer(_ok(await http.get(link.offer_uri)))
    issuer = offer.credential_issuer
    meta = parse_issuer_metadata(_ok(await http.get(well_known_url(issuer, "openid-credential-issuer"))),
                                 expected_issuer=issuer)
    as_meta = parse_authorization_server_metadata(
        _ok(await http.get(well_known_url(meta.authorization_server, "oauth-authorization-server"))),
        expected_issuer=meta.authorization_server)
    assert offer.pre_authorized is not None and meta.nonce_endpoint is not None
    form = TokenRequest(PRE_AUTHORIZED_GRANT, offer.pre_authorized.code).encode()
    token = parse_token_response(_ok(await http.post(
        as_meta.token_endpoint, content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"}))).access_token
    nonce = parse_nonce_response(_ok(await http.post(meta.nonce_endpoint))).c_nonce
    proof = build_proof_jwt(generate_key("ES256"), aud=issuer, nonce=nonce, iat=int(time.time()))
    request = build_credential_request(offer.credential_configuration_ids[0], [proof])
    response = await http.post(meta.credential_endpoint, json=request.to_json(),
                               headers={"Authorization": f"Bearer {token}"})
    return parse_credential_response(_ok(response)).credentials[0]


def _ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, f"{response.request.url}: {response.status_code} {response.text}"
    return response.json()


# --- deployments ---------------------------------------------------------------------------------


@asynccontextmanager
async def embedded() -> AsyncIterator[tuple[Any, httpx.AsyncClient, Any]]:
    """(target stand-in, client, deployment) for the in-process reference."""
    deployment = build_reference()
    try:
        yield SimpleNamespace(deployment=deployment), deployment.client(), deployment
    finally:
        await deployment.aclose()


@asynccontextmanager
async def over_sockets(tmp_path: Path) -> AsyncIterator[tuple[Any, httpx.AsyncClient, Any]]:
    """(target stand-in, client, deployment) for the reference served on 127.0.0.1 sockets; the
    target has no in-process network, so the receiver listens on a socket too."""
    server = await ReferenceServer.start(ServeOptions(port=free_base_port(), db=tmp_path,
                                                      ledger_latency=0.01))
    http = make_client()
    try:
        yield SimpleNamespace(deployment=None, webhooks=None), http, server.deployment
    finally:
        await http.aclose()
        await server.stop()


# Below the kernel's ephemeral range (ip_local_port_range, 32768-60999 by default): a port the OS
# hands out is also what outgoing connections (httpx, the other xdist worker) get as their local
# port, so a port chosen from that range can be taken between the check and the server's bind.
_PORT_RANGE = (20000, 32000)
_ports = random.Random()


def free_base_port() -> int:
    """A base port whose next five ports are free too, outside the ephemeral range."""
    for _ in range(200):
        base = _ports.randrange(*_PORT_RANGE)
        held = []
        try:
            held = [bind_socket("127.0.0.1", base + i) for i in range(6)]
            return base
        except OSError:
            continue
        finally:
            for sock in held:
                sock.close()
    raise RuntimeError(f"no six consecutive free ports found in {_PORT_RANGE}")


async def notarized_issuance(http: httpx.AsyncClient, deployment: Any,
                             receiver: WebhookReceiver) -> tuple[dict[str, Any], str]:
    """Offer with callback_url -> credential -> drained notarization. Returns (the issuer's
    credential record, the credential, seconds the wallet waited for it)."""
    key = deployment.api_keys["issuer"]
    created = await http.post(f"{deployment.urls['issuer']}/v1/offers", headers={"X-API-Key": key},
                              json={"credential": {"config_id": CONFIG, "claims": CLAIMS},
                                    "flow": "pre-authorized", "callback_url": receiver.url})
    assert created.status_code == 201, created.text
    offer_id = created.json()["offer_id"]
    credential = await receive_credential(http, created.json()["deep_link"])
    await deployment.drain()
    records = await http.get(f"{deployment.urls['issuer']}/v1/offers/{offer_id}/credentials",
                             headers={"X-API-Key": key})
    (record,) = records.json()
    return {**record, "offer_id": offer_id}, credential


def assert_one_notarized_callback(calls: list[Any], record: dict[str, Any], url: str) -> None:
    assert len(calls) == 1, calls
    call = calls[0]
    assert call.method == "POST" and call.path == httpx.URL(url).path
    assert call.headers["content-type"].startswith("application/json")
    assert set(call.body) == PAYLOAD_KEYS
    assert call.body["event"] == "credential.notarized" and call.body["blockchain"] == "iota"
    assert call.body["offer_id"] == record["offer_id"]
    assert call.body["credential_id"] == record["credential_id"]
    assert call.body["object_id"] == record["object_id"] and record["object_id"].startswith("0x")


# --- the callback arrives once ------------------------------------------------------------------


async def test_in_process_receiver_gets_the_notarized_callback_exactly_once() -> None:
    async with embedded() as (target, http, deployment):
        receiver = await WebhookReceiver.start(target)
        try:
            assert receiver.url.startswith("https://webhooks-") and ".local/" in receiver.url
            record, credential = await notarized_issuance(http, deployment, receiver)
            assert record["on_chain_status"] == "COMPLETED", record
            # More time than a retry would need: still one call.
            calls = await receiver.wait_for(2, timeout=0.3)
            assert_one_notarized_callback(calls, record, receiver.url)
            assert parse_sd_jwt(credential).issuer_jws.header["kid"].startswith("did:iota:")
        finally:
            await receiver.aclose()
        # Closed: the host is gone from the in-process network.
        with pytest.raises(httpx.ConnectError):
            await http.post(receiver.url, json={})


async def test_socket_receiver_gets_the_callback_from_a_served_reference(tmp_path: Path) -> None:
    async with over_sockets(tmp_path) as (target, http, deployment):
        receiver = await WebhookReceiver.start(target)
        try:
            assert receiver.url.startswith("http://127.0.0.1:")
            record, _ = await notarized_issuance(http, deployment, receiver)
            assert record["on_chain_status"] == "COMPLETED", record
            assert_one_notarized_callback(await receiver.wait_for(2, timeout=0.3), record,
                                          receiver.url)
        finally:
            await receiver.aclose()
        with pytest.raises(httpx.ConnectError):
            await http.post(receiver.url, json={})


# --- a misbehaving receiver changes nothing -------------------------------------------------------


@pytest.mark.parametrize("reply", [
    {"delay": 0.3},
    {"status": 500},
    # Pointing back at the receiver: a followed redirect would show as a second call.
    {"status": 307, "redirect_to": "{url}/followed"},
], ids=["slow", "500", "redirect"])
async def test_misbehaving_receiver_changes_nothing_for_issuance(reply: dict[str, Any]) -> None:
    async with embedded() as (target, http, deployment):
        receiver = await WebhookReceiver.start(target)
        receiver.respond(**{k: v.format(url=receiver.url) if isinstance(v, str) else v
                            for k, v in reply.items()})
        try:
            started = time.perf_counter()
            record, credential = await notarized_issuance(http, deployment, receiver)
            assert record["status"] == "ACTIVE" and record["on_chain_status"] == "COMPLETED"
            assert credential.count("~") >= 2
            calls = await receiver.wait_for(2, timeout=0.3)
            assert_one_notarized_callback(calls, record, receiver.url)  # no retry, no redirect followed
            # The drain includes the webhook: the issuer waited for the slow answer, once.
            assert time.perf_counter() - started >= reply.get("delay", 0)
        finally:
            await receiver.aclose()


async def test_socket_receiver_answers_as_told(tmp_path: Path) -> None:
    receiver = await WebhookReceiver.start(SimpleNamespace(deployment=None),
                                           settings={"listen": "127.0.0.1:0"})
    async with httpx.AsyncClient(timeout=5) as http:
        try:
            assert (await http.post(receiver.url, json={"n": 1})).status_code == 200
            receiver.respond(status=500)
            assert (await http.post(receiver.url, json={"n": 2})).status_code == 500
            receiver.respond(status=302, redirect_to="http://127.0.0.1:1/x")
            moved = await http.post(receiver.url, json={"n": 3})
            assert moved.status_code == 302 and moved.headers["location"] == "http://127.0.0.1:1/x"
            receiver.respond(delay=0.3)
            started = time.perf_counter()
            assert (await http.post(receiver.url, json={"n": 4})).status_code == 200
            assert time.perf_counter() - started >= 0.3
            assert [c.body for c in receiver.calls] == [{"n": n} for n in (1, 2, 3, 4)]
        finally:
            await receiver.aclose()


# --- recording, waiting, closing -----------------------------------------------------------------


async def test_headers_and_secret_members_are_redacted() -> None:
    async with embedded() as (target, http, _):
        receiver = await WebhookReceiver.start(target)
        try:
            await http.post(receiver.url, json={"password": "hunter2-secret", "event": "x"},
                            headers={"X-API-Key": "key-123456789", "Authorization": "Bearer tok-123456789",
                                     "X-Trace": "visible"})
            await http.post(receiver.url + "?q=1", content=b"not json")
            first, second = receiver.calls
            assert first.headers["x-api-key"] == "[redacted]"
            assert first.headers["authorization"] == "[redacted]"
            assert first.headers["x-trace"] == "visible"
            assert first.body == {"password": "[redacted]", "event": "x"}
            assert "key-123456789" not in repr(receiver.calls) and "hunter2" not in repr(receiver.calls)
            assert second.body == "not json" and second.path == "/callback"
            assert first.to_json()["received_at"] <= second.received_at
        finally:
            await receiver.aclose()


async def test_wait_for_returns_at_the_timeout_when_nothing_arrives() -> None:
    async with embedded() as (target, _, _):
        receiver = await WebhookReceiver.start(target)
        try:
            started = time.perf_counter()
            assert await receiver.wait_for(1, timeout=0.15) == []
            assert 0.14 <= time.perf_counter() - started < 1.0
            assert await receiver.wait_for(0, timeout=5) == []  # already satisfied: no wait
        finally:
            await receiver.aclose()


async def test_closing_releases_a_slow_answer_at_once() -> None:
    async with embedded() as (target, http, _):
        receiver = await WebhookReceiver.start(target, reply=Reply(delay=30))
        pending = asyncio.ensure_future(http.post(receiver.url, json={}))
        await receiver.wait_for(1, timeout=2)
        started = time.perf_counter()
        await receiver.aclose()
        response = await asyncio.wait_for(pending, 2)
        assert response.status_code == 503 and time.perf_counter() - started < 1.0


def test_settings_parse_listen_and_public_url() -> None:
    assert WebhookSettings.parse(None) == WebhookSettings("127.0.0.1", 0, None)
    parsed = WebhookSettings.parse({"listen": "0.0.0.0:9200", "public_url": "https://hooks.example/cb"})
    assert parsed == WebhookSettings("0.0.0.0", 9200, "https://hooks.example/cb")
    assert WebhookSettings.parse({"listen": "[::1]:0"}).listen_host == "::1"
    for bad, field in (({"listen": "nohost"}, "webhooks.listen"), ({"listen": "h:70000"}, "webhooks.listen"),
                       ({"public_url": "ftp://x"}, "webhooks.public_url"), ({"port": 1}, "unknown key")):
        with pytest.raises(ValueError, match=field):
            WebhookSettings.parse(bad)


async def test_public_url_is_what_the_deployment_is_told() -> None:
    receiver = await WebhookReceiver.start(SimpleNamespace(deployment=None, webhooks=WebhookSettings(
        public_url="https://tunnel.example/hooks/abc")))
    try:
        assert receiver.url == "https://tunnel.example/hooks/abc"
    finally:
        await receiver.aclose()


def test_reply_rejects_nonsense() -> None:
    for kwargs in ({"status": 99}, {"delay": -1}, {"status": 200, "redirect_to": "https://x"}):
        with pytest.raises(ValueError):
            Reply(**kwargs)

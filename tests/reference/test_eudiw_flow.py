"""The EUDIW-connector surface end to end: its management API on its own host, offers redeemed
on the issuer engine's OID4VCI 1.0 wire by a plain wallet, and the issuance callbacks
(OFFER_CREATED, then ISSUED | FAILED | EXPIRED) in order, deduplicable by eventId + status."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.jose import generate_key
from conformance.protocol.oid4vci import parse_offer_link
from conformance.protocol.sdjwt import parse_sd_jwt, verify_sd_jwt
from reference.common.store import Store
from reference.eudiw import EudiwSettings, create_app, open_store
from reference.eudiw.openapi import openapi_document
from tests.reference.openapi_contract import check_openapi_document, validate_response
from tests.reference.test_issuer_world import (
    ISSUER,
    Wallet,
    World,
    issuer_key,
    make_world,
    oauth_error,
)

pytestmark = pytest.mark.anyio

CONNECTOR = "http://eudiw.local"
BACKEND = "https://backend.local"
CALLBACK = f"{BACKEND}/callback/issuance"
# The seed's example body, unchanged.
SEED_OFFER = {"credential_configuration_id": "IdentityCredential",
              "claims": {"given_name": "Erika", "family_name": "Mustermann",
                         "document_number": "T22000129", "issuing_country": "DE"}}
TX_OFFER = {**SEED_OFFER, "tx_code": {"input_mode": "numeric", "length": 6,
                                      "description": "Sent to you by SMS"}}


@dataclass
class Backend:
    """The connector's callback receiver. `answer(payload, attempt)` picks the status code."""

    calls: list[dict[str, Any]] = field(default_factory=list)
    answer: Callable[[dict[str, Any], int], int] = lambda payload, attempt: 200

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            payload = await request.json()
            self.calls.append(payload)
            attempt = sum(1 for c in self.calls if c == payload)
            return JSONResponse({}, status_code=self.answer(payload, attempt))
        return Starlette(routes=[Route("/callback/issuance", receive, methods=["POST"])])

    def events(self) -> list[tuple[str, str]]:
        """Deduplicated by the seed's key, eventId + status, in arrival order."""
        seen: list[tuple[str, str]] = []
        for call in self.calls:
            key = (call["eventId"], call["status"])
            if key not in seen:
                seen.append(key)
        return seen


@dataclass
class Connector:
    world: World
    app: Starlette
    backend: Backend

    @property
    def service(self) -> Any:
        return self.app.state.service

    async def create(self, body: dict[str, Any] | None = None, expect: int = 201) -> dict[str, Any]:
        response = await self.world.http.post(f"{CONNECTOR}/offers", json=body or SEED_OFFER)
        assert response.status_code == expect, response.text
        return response.json()

    async def drain(self) -> None:
        for _ in range(2):  # engine work may end in a callback, and the other way round
            await self.world.drain()
            await self.service.drain()

    async def session(self, offer_id: str) -> dict[str, Any]:
        response = await self.world.http.get(f"{CONNECTOR}/offers/{offer_id}")
        assert response.status_code == 200, response.text
        return response.json()


def make_connector(*, world: World | None = None, store: Store | None = None,
                   **overrides: Any) -> Connector:
    world = world or make_world()
    settings = replace(EudiwSettings(callback_url=CALLBACK, callback_retry_delay=0.01),
                       **overrides)
    app = create_app(settings, store=store or open_store(":memory:"), clock=world.clock,
                     http=world.http, engine=world.service)
    backend = Backend()
    world.network.mount(CONNECTOR, app)
    world.network.mount(BACKEND, backend.app())
    return Connector(world, app, backend)


# --- the happy path ------------------------------------------------------------------------------


async def test_seed_example_issues_over_the_engines_wire_with_callbacks_in_order() -> None:
    connector = make_connector()
    created = await connector.create()
    assert set(created) == {"offer_id", "credential_offer_uri"}  # no tx_code, no tx_code_value
    offer_id = created["offer_id"]
    link = parse_offer_link(created["credential_offer_uri"])
    assert created["credential_offer_uri"].startswith("openid-credential-offer://?")
    # The management API is one host; the offer points the wallet at the engine's wire.
    assert link.offer_uri == f"{ISSUER}/v1/offers/{offer_id}"
    await connector.drain()
    assert connector.backend.events() == [(offer_id, "OFFER_CREATED")]  # at once, before a wallet

    wallet = Wallet(connector.world.http, connector.world.clock, key=generate_key("ES256"))
    credential = await wallet.receive(created["credential_offer_uri"])
    assert wallet.offer.credential_issuer == f"{ISSUER}/eudiw"
    header = parse_sd_jwt(credential).issuer_jws.header
    assert header["alg"] == "ES256" and "x5c" in header  # the connector's signing certificate
    verified = verify_sd_jwt(parse_sd_jwt(credential),
                             issuer_key=await issuer_key(connector.world.http, credential),
                             now=int(connector.world.clock.now()), holder_binding=None)
    assert verified.claims["document_number"] == "T22000129"
    assert verified.claims["iss"] == f"{ISSUER}/eudiw"

    await connector.drain()
    assert connector.backend.calls == [
        {"eventId": offer_id, "status": "OFFER_CREATED", "offerId": offer_id},
        {"eventId": offer_id, "status": "ISSUED", "offerId": offer_id}]
    session = await connector.session(offer_id)
    assert session["status"] == "ISSUED" and session["errorDetails"] is None
    assert [(c["status"], c["state"], c["attempts"]) for c in session["callbacks"]] == [
        ("OFFER_CREATED", "delivered", 1), ("ISSUED", "delivered", 1)]
    connector.world.clock.advance(3600)
    await connector.drain()
    assert len(connector.backend.calls) == 2  # an issued offer never expires as well


async def test_tx_code_value_is_returned_once_and_required_at_the_token_endpoint() -> None:
    connector = make_connector()
    created = await connector.create(TX_OFFER)
    value = created["tx_code_value"]
    assert value.isdigit() and len(value) == 6
    wallet = Wallet(connector.world.http, connector.world.clock)
    offer = await wallet.resolve(created["credential_offer_uri"])
    assert offer.pre_authorized.tx_code.to_json() == TX_OFFER["tx_code"]
    assert oauth_error(await wallet.token_response())[2] == "tx_code_missing"
    await wallet.token(value)
    assert (await wallet.credential()).endswith("~")
    await connector.drain()
    assert [s for _, s in connector.backend.events()] == ["OFFER_CREATED", "ISSUED"]


# --- FAILED and EXPIRED -------------------------------------------------------------------------


async def test_session_expires_after_the_default_five_minutes() -> None:
    connector = make_connector()
    created = await connector.create()
    wallet = Wallet(connector.world.http, connector.world.clock)
    await wallet.resolve(created["credential_offer_uri"])
    connector.world.clock.advance(299)
    await connector.drain()
    assert [s for _, s in connector.backend.events()] == ["OFFER_CREATED"]
    connector.world.clock.advance(1)
    await connector.drain()
    assert connector.backend.calls[-1] == {"eventId": created["offer_id"], "status": "EXPIRED",
                                           "offerId": created["offer_id"]}
    assert oauth_error(await wallet.token_response()) == (400, "invalid_grant", "code_expired")
    assert (await connector.session(created["offer_id"]))["status"] == "EXPIRED"


async def test_session_ttl_is_configurable_and_noticed_on_any_request() -> None:
    connector = make_connector(session_ttl=30)
    created = await connector.create()
    connector.world.clock.advance(30)
    await connector.create()  # no drain: a management request sweeps expired sessions
    await connector.service.tasks.drain()
    assert (created["offer_id"], "EXPIRED") in connector.backend.events()


async def test_failed_carries_error_details_and_ends_the_session() -> None:
    connector = make_connector()
    created = await connector.create(TX_OFFER)
    wallet = Wallet(connector.world.http, connector.world.clock)
    await wallet.resolve(created["credential_offer_uri"])
    wrong = "000000" if created["tx_code_value"] != "000000" else "111111"
    for _ in range(connector.world.settings.tx_code_attempts):
        await wallet.token_response(wrong)
    await connector.drain()
    failed = connector.backend.calls[-1]
    assert (failed["status"], failed["eventId"], failed["offerId"]) == (
        "FAILED", created["offer_id"], created["offer_id"])
    assert failed["errorDetails"].startswith("tx_code_locked: ")
    connector.world.clock.advance(600)
    await connector.drain()
    assert [s for _, s in connector.backend.events()] == ["OFFER_CREATED", "FAILED"]


async def test_a_recoverable_wallet_error_is_not_a_failure() -> None:
    connector = make_connector()
    created = await connector.create()
    wallet = Wallet(connector.world.http, connector.world.clock)
    await wallet.resolve(created["credential_offer_uri"])
    await wallet.token()
    bad = await wallet.credential_response([wallet.proof(await wallet.nonce(), aud="https://x")])
    assert oauth_error(bad) == (400, "invalid_proof", "aud_mismatch")
    await connector.drain()
    assert [s for _, s in connector.backend.events()] == ["OFFER_CREATED"]
    await wallet.credential()
    await connector.drain()
    assert [s for _, s in connector.backend.events()] == ["OFFER_CREATED", "ISSUED"]


# --- delivery ------------------------------------------------------------------------------------


async def test_retried_callbacks_deduplicate_by_event_id_and_status() -> None:
    connector = make_connector()
    connector.backend.answer = lambda payload, attempt: 503 if attempt == 1 else 204
    created = await connector.create()
    await Wallet(connector.world.http, connector.world.clock).receive(
        created["credential_offer_uri"])
    await connector.drain()
    statuses = [c["status"] for c in connector.backend.calls]
    assert statuses == ["OFFER_CREATED", "OFFER_CREATED", "ISSUED", "ISSUED"]
    assert connector.backend.events() == [(created["offer_id"], "OFFER_CREATED"),
                                          (created["offer_id"], "ISSUED")]
    session = await connector.session(created["offer_id"])
    assert [(c["state"], c["attempts"]) for c in session["callbacks"]] == [("delivered", 2)] * 2


async def test_a_refusing_receiver_gets_bounded_attempts_and_order_still_holds(
        caplog: pytest.LogCaptureFixture) -> None:
    connector = make_connector(callback_url=f"{CALLBACK}?token=s3cret-receiver-token")
    connector.backend.answer = lambda payload, attempt: 500
    with caplog.at_level(logging.WARNING, logger="reference.eudiw"):
        created = await connector.create()
        await Wallet(connector.world.http, connector.world.clock).receive(
            created["credential_offer_uri"])
        await connector.drain()
    statuses = [c["status"] for c in connector.backend.calls]
    assert statuses == ["OFFER_CREATED"] * 3 + ["ISSUED"] * 3
    session = await connector.session(created["offer_id"])
    assert [c["state"] for c in session["callbacks"]] == ["abandoned", "abandoned"]
    assert "backend.local" in caplog.text and "s3cret-receiver-token" not in caplog.text
    assert "/callback/issuance" not in caplog.text


async def test_an_unreachable_receiver_changes_nothing_else() -> None:
    connector = make_connector()
    connector.world.network.set_reachable(BACKEND, False)
    created = await connector.create()
    credential = await Wallet(connector.world.http, connector.world.clock).receive(
        created["credential_offer_uri"])
    await connector.drain()
    assert credential.endswith("~")
    session = await connector.session(created["offer_id"])
    assert session["status"] == "ISSUED"
    assert [(c["state"], c["attempts"]) for c in session["callbacks"]] == [("abandoned", 3)] * 2


async def test_without_a_callback_url_nothing_is_sent_but_sessions_are_kept() -> None:
    connector = make_connector(callback_url=None)
    created = await connector.create()
    await Wallet(connector.world.http, connector.world.clock).receive(
        created["credential_offer_uri"])
    await connector.drain()
    session = await connector.session(created["offer_id"])
    assert session["status"] == "ISSUED" and session["callbacks"] == []
    assert connector.backend.calls == []


async def test_a_periodic_sweep_reports_expiry_without_any_request() -> None:
    connector = make_connector(session_ttl=5, sweep_interval=0.01)
    created = await connector.create()
    connector.world.clock.advance(5)
    for _ in range(200):
        if (created["offer_id"], "EXPIRED") in connector.backend.events():
            break
        await asyncio.sleep(0.01)
    assert (created["offer_id"], "EXPIRED") in connector.backend.events()
    await connector.service.close()


# --- errors and authentication -------------------------------------------------------------------

BAD_OFFERS = [
    ({**SEED_OFFER, "credential_configuration_id": "PassportCredential"},
     "unknown_credential_configuration", "credential_configuration_id"),
    ({"claims": SEED_OFFER["claims"]}, "invalid_request", "credential_configuration_id"),
    ({"credential_configuration_id": "IdentityCredential"}, "invalid_request", "claims"),
    ({**SEED_OFFER, "claims": {"given_name": "Erika"}}, "invalid_request", "claims.family_name"),
    ({**SEED_OFFER, "claims": {**SEED_OFFER["claims"], "shoe_size": 43}}, "invalid_request",
     "claims.shoe_size"),
    ({**SEED_OFFER, "tx_code": {"input_mode": "numeric"}}, "invalid_request", "tx_code.length"),
    ({**SEED_OFFER, "tx_code": {"length": 6}}, "invalid_request", "tx_code.input_mode"),
    ({**SEED_OFFER, "tx_code": {"input_mode": "emoji", "length": 6}}, "invalid_request",
     "tx_code.input_mode"),
    ({**SEED_OFFER, "tx_code": {"input_mode": "text", "length": 3}}, "invalid_request",
     "tx_code.length"),
]


@pytest.mark.parametrize("body,code,field", BAD_OFFERS,
                         ids=[f"{code}:{field}" for _, code, field in BAD_OFFERS])
async def test_bad_offers_answer_400_with_the_seeds_codes(body: dict, code: str, field: str) -> None:
    connector = make_connector()
    answer = await connector.create(body, expect=400)
    assert (answer["error"], answer["field"]) == (code, field) and answer["error_description"]
    await connector.drain()
    assert connector.backend.calls == []


async def test_a_configuration_outside_the_connectors_tenant_is_unknown() -> None:
    world = make_world()
    eudiw = world.service.tenant("eudiw")
    tenants = tuple(replace(t, config_ids=("IdentityCredential",)) if t is eudiw else t
                    for t in world.settings.tenants)
    connector = make_connector(world=make_world(tenants=tenants))
    answer = await connector.create({"credential_configuration_id": "ResidentCredential",
                                     "claims": {"given_name": "A"}}, expect=400)
    assert answer["error"] == "unknown_credential_configuration"
    assert "known: IdentityCredential)" in answer["error_description"]


async def test_an_api_key_guards_the_management_api_when_configured() -> None:
    connector = make_connector(api_key="mgmt-key-0123456789")
    assert (await connector.create(expect=401))["field"] == "X-API-Key"
    response = await connector.world.http.post(f"{CONNECTOR}/offers", json=SEED_OFFER,
                                               headers={"X-API-Key": "mgmt-key-0123456789"})
    assert response.status_code == 201
    doc = (await connector.world.http.get(f"{CONNECTOR}/openapi.json")).json()
    assert doc["paths"]["/offers"]["post"]["security"] == [{"ApiKey": []}]
    assert (await connector.world.http.get(f"{CONNECTOR}/offers/nope",
                                           headers={"X-API-Key": "wrong"})).status_code == 401


# --- the document and persistence -----------------------------------------------------------------


async def test_openapi_document_is_true_to_real_responses() -> None:
    connector = make_connector()
    http = connector.world.http
    doc = (await http.get(f"{CONNECTOR}/openapi.json")).json()
    assert doc == openapi_document(CONNECTOR, secured=False)
    check_openapi_document(doc, connector.app)
    answers = [("/offers", "post", await http.post(f"{CONNECTOR}/offers", json=TX_OFFER)),
               ("/offers", "post", await http.post(f"{CONNECTOR}/offers", json={})),
               ("/offers", "post", await http.post(f"{CONNECTOR}/offers", content=b"{"))]
    offer_id = answers[0][2].json()["offer_id"]
    answers.append(("/offers/{offer_id}", "get", await http.get(f"{CONNECTOR}/offers/{offer_id}")))
    answers.append(("/offers/{offer_id}", "get", await http.get(f"{CONNECTOR}/offers/x")))
    connector.world.clock.advance(300)
    await connector.drain()
    answers.append(("/offers/{offer_id}", "get", await http.get(f"{CONNECTOR}/offers/{offer_id}")))
    for path, method, response in answers:
        validate_response(doc, path, method, response)
    callback = {**doc["components"]["schemas"]["Callback"], "components": doc["components"]}
    for payload in connector.backend.calls:  # the webhook payloads fit the document too
        jsonschema.validate(payload, callback, cls=jsonschema.Draft202012Validator)
    assert [c["status"] for c in connector.backend.calls] == ["OFFER_CREATED", "EXPIRED"]


async def test_a_restarted_connector_delivers_what_was_pending_and_keeps_sessions(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = generate_key("EdDSA")
    caplog.set_level(logging.DEBUG)
    first = make_connector(world=make_world(issuer_db=str(tmp_path / "issuer.db"), key=key),
                           store=open_store(str(tmp_path / "eudiw.db")), callback_attempts=100,
                           callback_retry_delay=0.05)
    first.world.network.set_reachable(BACKEND, False)
    created = await first.create(TX_OFFER)
    while not (await first.session(created["offer_id"]))["callbacks"][0]["attempts"]:
        await asyncio.sleep(0.01)
    first.service.tasks.cancel()  # a crash while OFFER_CREATED is still being retried
    await asyncio.sleep(0)

    world = make_world(issuer_db=str(tmp_path / "issuer.db"), key=key, clock=first.world.clock)
    second = make_connector(world=world, store=open_store(str(tmp_path / "eudiw.db")))
    assert (await second.session(created["offer_id"]))["status"] == "OFFER_CREATED"
    await second.drain()  # the first request resumed the pending delivery
    assert [c["status"] for c in second.backend.calls] == ["OFFER_CREATED"]
    wallet = Wallet(world.http, world.clock)
    await wallet.receive(created["credential_offer_uri"], tx_code=created["tx_code_value"])
    await second.drain()
    assert [c["status"] for c in second.backend.calls] == ["OFFER_CREATED", "ISSUED"]
    assert (await second.session(created["offer_id"]))["status"] == "ISSUED"
    # The transaction code never reached a store or a log.
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert created["tx_code_value"].encode() not in stored
    assert created["tx_code_value"] not in caplog.text

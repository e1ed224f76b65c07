"""The issuer engine under every surface: deferred issuance (OID4VCI 1.0 §8.3, §9), the
notification endpoint (§11), events to surfaces, failures that end an offer, and transaction
codes kept as keyed, salted digests. Driven through the wire as a plain wallet would, with
offers made directly from `OfferSpec`s (what a surface hands the engine)."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path
from typing import Any

import pytest

from conformance.protocol.oid4vci import TxCode, parse_credential_response
from conformance.protocol.sdjwt import parse_sd_jwt, verify_sd_jwt
from conformance.protocol.status_list import STATUS_INVALID
from reference.issuer.engine import IssuerEngine, OfferSpec
from tests.reference.test_issuer_status import list_status
from tests.reference.openapi_contract import validate_response
from tests.reference.test_issuer_world import (
    ISSUER,
    TURING_OFFER,
    Wallet,
    World,
    issuer_key,
    make_world,
    oauth_error,
)

pytestmark = pytest.mark.anyio

CLAIMS = {"given_name": "Erika", "family_name": "Mustermann"}


async def _offer(world: World, surface: str = "orgwallet", *, claims: dict | None = CLAIMS,
                 deferred: bool = False, tenant: str = "orgwallet", **spec: Any) -> str:
    engine: IssuerEngine = world.service
    tenant_obj = engine.tenant(tenant)
    created = engine.create_offer(OfferSpec(
        surface=surface, tenant=tenant_obj, config=engine.configuration("IdentityCredential"),
        claims=claims, expires_in=600, signing=await engine.signing_path(tenant_obj),
        deferred=deferred, **spec))
    return created.deep_link


async def _deferred_session(world: World, claims: dict | None = None) -> tuple[Wallet, str, str]:
    """A wallet whose Credential Request was deferred: (wallet, offer_id, transaction_id)."""
    link = await _offer(world, claims=claims, deferred=True)
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(link)
    await wallet.token()
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert response.status_code == 202 and response.headers["cache-control"] == "no-store"
    deferred = parse_credential_response(response.json())
    assert deferred.interval == world.settings.deferred_interval and not deferred.credentials
    offer_id = link.rsplit("%2F", 1)[1]
    return wallet, offer_id, deferred.transaction_id  # type: ignore[return-value]


# --- deferred issuance -----------------------------------------------------------------------


async def test_deferred_credential_is_pending_until_the_claims_come_then_issued_once() -> None:
    world = make_world()
    wallet, offer_id, transaction_id = await _deferred_session(world)
    for _ in range(2):  # §9.2: still pending -> 202, the same transaction_id, an interval
        pending = await wallet.deferred_response(transaction_id)
        assert pending.status_code == 202
        assert pending.json() == {"transaction_id": transaction_id,
                                  "interval": world.settings.deferred_interval}
    assert world.service.supply_claims(offer_id, CLAIMS)
    assert not world.service.supply_claims(offer_id, CLAIMS)  # once
    response = await wallet.deferred_response(transaction_id)
    assert response.status_code == 200, response.text
    body = parse_credential_response(response.json())
    credential = body.credentials[0]
    verified = verify_sd_jwt(parse_sd_jwt(credential),
                             issuer_key=await issuer_key(world.http, credential),
                             now=int(world.clock.now()), holder_binding=None)
    # Bound to the key the wallet proved at the Credential Endpoint, before the wait.
    assert verified.claims["cnf"] == {"jwk": wallet.key.public.to_jwk()}
    assert verified.claims["given_name"] == "Erika" and body.notification_id
    assert oauth_error(await wallet.deferred_response(transaction_id)) == (
        400, "invalid_transaction_id", "collected")  # §9.1: invalidated once obtained
    again = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert oauth_error(again) == (400, "credential_request_denied", "already_issued")


async def test_claims_given_with_the_offer_still_wait_for_the_backend() -> None:
    world = make_world()
    wallet, offer_id, transaction_id = await _deferred_session(world, claims=CLAIMS)
    assert (await wallet.deferred_response(transaction_id)).status_code == 202
    assert world.service.supply_claims(offer_id, None)  # "the data given before is ready"
    assert (await wallet.deferred_response(transaction_id)).status_code == 200


async def test_deferred_transaction_ids_are_checked() -> None:
    world = make_world()
    wallet, offer_id, transaction_id = await _deferred_session(world)
    other, _, other_tx = await _deferred_session(world)
    assert oauth_error(await wallet.deferred_response("forged")) == (
        400, "invalid_transaction_id", "unknown")
    assert oauth_error(await wallet.deferred_response(other_tx)) == (
        400, "invalid_transaction_id", "unknown")  # another token's transaction
    response = await world.http.post(wallet.endpoints["deferred_credential_endpoint"], json={},
                                     headers={"Authorization": f"Bearer {wallet.access_token}"})
    assert oauth_error(response) == (400, "invalid_credential_request", "missing_parameter")
    no_token = await world.http.post(wallet.endpoints["deferred_credential_endpoint"],
                                     json={"transaction_id": transaction_id})
    assert no_token.status_code == 401 and no_token.json()["error"] == "invalid_token"
    # The access token outlives its usual lifetime while the transaction lives (§9)...
    world.clock.advance(world.settings.access_token_ttl + 1)
    assert (await wallet.deferred_response(transaction_id)).status_code == 202
    # ... and both end with the transaction.
    world.clock.advance(world.settings.deferred_ttl)
    assert (await wallet.deferred_response(transaction_id)).status_code == 401
    assert world.service.offer(offer_id).issued_at is None


async def test_a_denied_deferred_issuance_answers_credential_request_denied() -> None:
    world = make_world()
    wallet, offer_id, transaction_id = await _deferred_session(world)
    assert world.service.fail(offer_id, "issuance_denied", "documents did not check out")
    assert oauth_error(await wallet.deferred_response(transaction_id)) == (
        400, "credential_request_denied", "issuance_denied")
    assert "documents did not check out" in (await wallet.deferred_response(
        transaction_id)).json()["error_description"]
    assert not world.service.supply_claims(offer_id, CLAIMS)


async def test_deferred_wire_answers_match_the_issuers_openapi_document() -> None:
    world = make_world()
    doc = (await world.http.get(f"{ISSUER}/openapi.json")).json()
    link = await _offer(world, deferred=True)
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(link)
    await wallet.token()
    first = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    transaction_id = first.json()["transaction_id"]
    answers = [("/credential", first), ("/deferred_credential",
                                        await wallet.deferred_response(transaction_id)),
               ("/deferred_credential", await wallet.deferred_response("forged"))]
    world.service.supply_claims(link.rsplit("%2F", 1)[1], CLAIMS)
    issued = await wallet.deferred_response(transaction_id)
    answers.append(("/deferred_credential", issued))
    notification_id = issued.json()["notification_id"]
    answers.append(("/notification", await wallet.notify(notification_id, "credential_accepted")))
    answers.append(("/notification", await wallet.notify("nope", "credential_accepted")))
    answers.append(("/notification", await wallet.notify(notification_id, "stored")))
    for path, response in answers:
        validate_response(doc, path, "post", response)
    assert {r.status_code for _, r in answers} == {200, 202, 204, 400}


# --- notification endpoint -------------------------------------------------------------------


async def test_notifications_are_recorded_idempotently_and_checked() -> None:
    world = make_world()
    created = await world.create_offer()
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(created["deep_link"])
    await wallet.token()
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    notification_id = parse_credential_response(response.json()).notification_id
    assert notification_id
    for _ in range(2):  # §11: the same notification twice is a success both times
        answer = await wallet.notify(notification_id, "credential_accepted")
        assert answer.status_code == 204 and not answer.content
    offer = world.service.offer(created["offer_id"])
    assert offer.notification_event == "credential_accepted"
    assert (await wallet.notify(notification_id, "credential_deleted")).status_code == 204
    assert world.service.offer(created["offer_id"]).notification_event == "credential_deleted"
    assert oauth_error(await wallet.notify("x" * 22, "credential_accepted"))[:2] == (
        400, "invalid_notification_id")
    bad = [({"event": "credential_accepted"}, "missing_parameter"),
           ({"notification_id": notification_id, "event": "Credential_Accepted"}, "invalid_event"),
           ({"notification_id": notification_id, "event": "credential_failure",
             "event_description": 'say "hi"'}, "invalid_parameter")]
    for body, detail in bad:
        response = await world.http.post(wallet.endpoints["notification_endpoint"], json=body,
                                         headers={"Authorization": f"Bearer {wallet.access_token}"})
        assert oauth_error(response) == (400, "invalid_notification_request", detail)
    unauthenticated = await world.http.post(wallet.endpoints["notification_endpoint"],
                                            json={"notification_id": notification_id,
                                                  "event": "credential_accepted"})
    assert unauthenticated.status_code == 401


async def test_metadata_names_the_deferred_and_notification_endpoints() -> None:
    world = make_world()
    meta = (await world.http.get(f"{ISSUER}/.well-known/openid-credential-issuer/eudiw")).json()
    assert meta["credential_issuer"] == f"{ISSUER}/eudiw"
    assert meta["deferred_credential_endpoint"] == f"{ISSUER}/deferred_credential"
    assert meta["notification_endpoint"] == f"{ISSUER}/notification"


# --- events and failures ---------------------------------------------------------------------


async def test_a_surface_hears_each_change_of_its_own_offers_only(
        caplog: pytest.LogCaptureFixture) -> None:
    world = make_world()
    heard: list[tuple[str, str | None]] = []

    def listener(offer_id: str) -> None:
        offer = world.service.offer(offer_id)
        heard.append((offer_id, "issued" if offer.issued_at else "code" if offer.code_used_at
                      else "fetched" if offer.fetched_at else None))
        raise RuntimeError("a buggy surface")

    world.service.subscribe("eudiw", listener)
    await Wallet(world.http, world.clock).receive((await world.create_offer())["deep_link"])
    assert heard == []  # a TCS offer: not this surface's business
    link = await _offer(world, "eudiw", tenant="eudiw")
    with caplog.at_level(logging.ERROR, logger="reference.issuer"):
        credential = await Wallet(world.http, world.clock).receive(link)
    assert credential.endswith("~")  # the buggy listener did not break the wire
    offer_id = link.rsplit("%2F", 1)[1]
    assert heard == [(offer_id, "fetched"), (offer_id, "code"), (offer_id, "issued")]
    assert "listener of surface eudiw failed" in caplog.text


async def test_a_locked_offer_is_failed_for_good() -> None:
    world = make_world()
    link = await _offer(world, tx_code=TxCode("numeric", 4), tx_code_value="2468")
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(link)
    for _ in range(world.settings.tx_code_attempts):
        assert oauth_error(await wallet.token_response("1357"))[2] == "tx_code_wrong"
    offer = world.service.offer(link.rsplit("%2F", 1)[1])
    assert offer.failure == "tx_code_locked" and "wrong tx_code" in offer.failure_detail
    assert oauth_error(await wallet.token_response("2468")) == (400, "invalid_grant",
                                                                "tx_code_locked")


async def test_a_denied_offer_cannot_be_redeemed_or_issued() -> None:
    world = make_world()
    link = await _offer(world)
    offer_id = link.rsplit("%2F", 1)[1]
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(link)
    await wallet.token()
    assert world.service.fail(offer_id, "issuance_denied", "no")
    assert not world.service.fail(offer_id, "issuance_denied", "twice")  # the first one wins
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert oauth_error(response) == (400, "credential_request_denied", "issuance_denied")
    other = Wallet(world.http, world.clock)
    link2 = await _offer(world)
    await other.resolve(link2)
    world.service.fail(link2.rsplit("%2F", 1)[1], "issuance_denied")
    assert oauth_error(await other.token_response()) == (400, "invalid_grant", "issuance_denied")


# --- revocation through the engine -----------------------------------------------------------


async def test_engine_status_changes_reach_the_published_list() -> None:
    world = make_world()
    link = await _offer(world)
    credential = await Wallet(world.http, world.clock).receive(link)
    row = world.service.credential_of(link.rsplit("%2F", 1)[1])
    world.service.set_credential_status(row, "REVOKED")
    assert await list_status(world, credential) == STATUS_INVALID


# --- secrets -----------------------------------------------------------------------------------


async def test_transaction_codes_are_stored_as_keyed_salted_digests(tmp_path: Path,
                                                                    caplog: pytest.LogCaptureFixture
                                                                    ) -> None:
    db = str(tmp_path / "issuer.db")
    world = make_world(issuer_db=db)
    caplog.set_level(logging.DEBUG)
    pin = "902817"
    links = [await _offer(world, tx_code=TxCode("numeric", 6), tx_code_value=pin)
             for _ in range(2)]
    created = await world.create_offer({**TURING_OFFER, "tx_code": {"length": 8}})
    hashes = [world.service.offer(link.rsplit("%2F", 1)[1]).tx_code_hash for link in links]
    assert hashes[0] != hashes[1]  # salted: the same code, two digests
    assert hashlib.sha256(pin.encode()).hexdigest() not in hashes  # keyed: no plain hash
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    for secret in (pin, created["tx_code_value"]):
        assert secret.encode() not in stored and secret not in caplog.text
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(links[0])
    assert await wallet.token(pin)  # and the digest still checks the right code

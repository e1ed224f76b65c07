"""Credential records (the seed's `GET /v1/offers/{id}/credentials`), revocation through the
Token Status List the issuer publishes, the published metadata, and the OpenAPI document
checked against real responses."""

from __future__ import annotations


import httpx
import pytest

from conformance.protocol.oid4vci import (
    parse_authorization_server_metadata,
    parse_issuer_metadata,
    well_known_url,
)
from conformance.protocol.sdjwt import parse_sd_jwt
from conformance.protocol.status_list import (
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    parse_status_claim,
    read_status_list_token,
)
from conformance.resolver import DidResolver
from reference.issuer.openapi import openapi_document
from tests.reference.test_issuer_flow import IDENTITY_OFFER, RESIDENT_OFFER
from tests.reference.openapi_contract import check_openapi_document, validate_response
from tests.reference.test_issuer_world import (
    HAIP_KEY,
    ISSUER,
    LEDGER,
    LIMITED_KEY,
    TURING_KEY,
    Wallet,
    World,
    make_world,
)

pytestmark = pytest.mark.anyio


async def _issued(world: World, body: dict | None = None, api_key: str = TURING_KEY
                  ) -> tuple[dict, str]:
    created = await world.create_offer(body, api_key=api_key)
    credential = await Wallet(world.http, world.clock).receive(created["deep_link"])
    return created, credential


async def _set_status(world: World, credential_id: str, status: str,
                      api_key: str = TURING_KEY) -> httpx.Response:
    return await world.http.post(f"{ISSUER}/v1/credentials/{credential_id}/status",
                                 json={"status": status}, headers={"X-API-Key": api_key})


async def list_status(world: World, credential: str) -> int:
    """What a verifier sees: fetch the list the credential names, verify it with the key the
    token's kid names on the ledger, read the credential's index."""
    uri, idx = parse_status_claim(parse_sd_jwt(credential).issuer_jws.payload)
    response = await world.http.get(uri)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/statuslist+jwt"
    kid = parse_sd_jwt(response.text + "~").issuer_jws.header["kid"]
    key = await DidResolver(world.http, LEDGER).key_for(kid)
    status_list = read_status_list_token(response.text, key, expected_sub=uri,
                                         now=int(world.clock.now()))
    return status_list.get(idx)


# --- records ---------------------------------------------------------------------------------


async def test_records_are_owned_and_validated() -> None:
    world = make_world()
    created, _ = await _issued(world)
    url = f"{ISSUER}/v1/offers/{created['offer_id']}/credentials"
    assert (await world.http.get(url)).status_code == 401
    other = await world.http.get(url, headers={"X-API-Key": LIMITED_KEY})
    unknown = await world.http.get(f"{ISSUER}/v1/offers/00000000-0000-4000-8000-000000000000/"
                                   "credentials", headers={"X-API-Key": TURING_KEY})
    assert other.status_code == unknown.status_code == 404
    assert other.json()["error"]["code"] == unknown.json()["error"]["code"]  # indistinguishable
    bad = await world.http.get(f"{ISSUER}/v1/offers/not-a-uuid/credentials",
                               headers={"X-API-Key": TURING_KEY})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "offer_id"


async def test_record_expires_with_the_credential() -> None:
    world = make_world()
    created, credential = await _issued(world, RESIDENT_OFFER)
    record = (await world.records(created["offer_id"]))[0]
    exp = parse_sd_jwt(credential).issuer_jws.payload["exp"]
    assert record["status"] == "ACTIVE" and record["expires_at"] == "2026-09-22T14:13:20.000Z"
    assert exp == int(world.clock.now()) + 86400
    world.clock.advance(86400)
    assert (await world.records(created["offer_id"]))[0]["status"] == "EXPIRED"


# --- revocation ------------------------------------------------------------------------------


async def test_revoke_suspend_reactivate_through_the_status_list() -> None:
    world = make_world()
    created, credential = await _issued(world)
    record = (await world.records(created["offer_id"]))[0]
    cid = record["credential_id"]
    assert await list_status(world, credential) == STATUS_VALID

    response = await _set_status(world, cid, "SUSPENDED")
    assert response.status_code == 200 and response.json()["status"] == "SUSPENDED"
    assert await list_status(world, credential) == STATUS_SUSPENDED
    assert (await _set_status(world, cid, "ACTIVE")).json()["status"] == "ACTIVE"
    assert await list_status(world, credential) == STATUS_VALID

    revoked = (await _set_status(world, cid, "REVOKED")).json()
    assert revoked["status"] == "REVOKED" and revoked["revoked_at"] == "2026-09-21T14:13:20.000Z"
    assert await list_status(world, credential) == STATUS_INVALID
    again = await _set_status(world, cid, "ACTIVE")
    assert again.status_code == 409 and again.json()["error"]["code"] == "credential_revoked"
    assert (await world.records(created["offer_id"]))[0]["status"] == "REVOKED"


async def test_status_endpoint_is_authenticated_and_owned() -> None:
    world = make_world()
    created, _ = await _issued(world)
    cid = (await world.records(created["offer_id"]))[0]["credential_id"]
    assert (await _set_status(world, cid, "REVOKED", api_key="nope")).status_code == 401
    assert (await _set_status(world, cid, "REVOKED", api_key=LIMITED_KEY)).status_code == 404
    bad = await _set_status(world, cid, "DELETED")
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


async def test_credentials_get_distinct_entries_and_other_entries_stay_valid() -> None:
    world = make_world()
    first_offer, first = await _issued(world)
    _, second = await _issued(world)
    _, third = await _issued(world, IDENTITY_OFFER, api_key=HAIP_KEY)
    entries = {parse_status_claim(parse_sd_jwt(c).issuer_jws.payload) for c in (first, second, third)}
    assert len(entries) == 3
    cid = (await world.records(first_offer["offer_id"]))[0]["credential_id"]
    await _set_status(world, cid, "REVOKED")
    assert [await list_status(world, c) for c in (first, second, third)] == [
        STATUS_INVALID, STATUS_VALID, STATUS_VALID]
    assert (await world.http.get(f"{ISSUER}/v1/status-lists/nope")).status_code == 404


# --- metadata ---------------------------------------------------------------------------------


async def test_metadata_is_what_a_wallet_expects() -> None:
    world = make_world()
    identifier = f"{ISSUER}/haip"
    meta = (await world.http.get(well_known_url(identifier, "openid-credential-issuer"))).json()
    parsed = parse_issuer_metadata(meta, expected_issuer=identifier)
    assert set(parsed.configurations) == {"IdentityCredential", "ResidentCredential"}
    config = parsed.configurations["IdentityCredential"]
    assert config.format == "dc+sd-jwt" and config.vct == "urn:vc-conformance:IdentityCredential:1"
    assert config.proof_types["jwt"].signing_algs == ("EdDSA", "ES256")
    assert {"jwk", "did:key", "did:jwk", "did:iota"} == set(config.binding_methods)
    assert config.display[0]["name"] == "Identity Credential" and config.claims
    as_meta = (await world.http.get(well_known_url(identifier, "oauth-authorization-server"))).json()
    assert parse_authorization_server_metadata(as_meta, expected_issuer=identifier).anonymous_pre_authorized
    everything = (await world.http.get(f"{ISSUER}/.well-known/openid-credential-issuer")).json()
    assert everything["credential_issuer"] == ISSUER
    assert len(everything["credential_configurations_supported"]) == 3
    missing = await world.http.get(f"{ISSUER}/.well-known/openid-credential-issuer/nobody")
    assert missing.status_code == 404


# --- OpenAPI ----------------------------------------------------------------------------------


async def test_openapi_document_is_valid_and_true_to_real_responses() -> None:
    world = make_world()
    doc = (await world.http.get(f"{ISSUER}/openapi.json")).json()
    assert doc == openapi_document(ISSUER)
    check_openapi_document(doc, world.issuer_app)

    key = {"X-API-Key": TURING_KEY}
    checks: list[tuple[str, str, httpx.Response]] = []
    created = await world.http.post(f"{ISSUER}/v1/offers", json={
        **RESIDENT_OFFER, "tx_code": {"length": 4}, "callback_url": "https://hooks.local/h"},
        headers=key)
    checks.append(("/v1/offers", "post", created))
    offer = created.json()
    checks.append(("/v1/offers", "post", await world.http.post(f"{ISSUER}/v1/offers", json={})))
    checks.append(("/v1/offers", "post", await world.http.post(
        f"{ISSUER}/v1/offers", json={"flow": "x"}, headers=key)))
    checks.append(("/v1/offers/{offer_id}", "get", await world.http.get(offer["credential_offer_uri"])))
    listing = f"{ISSUER}/v1/offers/{offer['offer_id']}/credentials"
    checks.append(("/v1/offers/{offer_id}/credentials", "get", await world.http.get(listing, headers=key)))
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(offer["deep_link"])
    checks.append(("/token", "post", await wallet.token_response()))
    checks.append(("/token", "post", await wallet.token_response(offer["tx_code_value"])))
    wallet.access_token = checks[-1][2].json()["access_token"]
    nonce = await world.http.post(f"{ISSUER}/nonce")
    checks.append(("/nonce", "post", nonce))
    checks.append(("/credential", "post", await wallet.credential_response(["x"])))
    checks.append(("/credential", "post", await wallet.credential_response(
        [wallet.proof(nonce.json()["c_nonce"])])))
    checks.append(("/credential", "post", await world.http.post(f"{ISSUER}/credential", json={})))
    records = await world.http.get(listing, headers=key)
    checks.append(("/v1/offers/{offer_id}/credentials", "get", records))
    cid = records.json()[0]["credential_id"]
    status_url = f"{ISSUER}/v1/credentials/{cid}/status"
    checks.append(("/v1/credentials/{credential_id}/status", "post",
                   await world.http.post(status_url, json={"status": "REVOKED"}, headers=key)))
    checks.append(("/v1/credentials/{credential_id}/status", "post",
                   await world.http.post(status_url, json={"status": "ACTIVE"}, headers=key)))
    uri = parse_status_claim(parse_sd_jwt(checks[9][2].json()["credentials"][0]["credential"])
                             .issuer_jws.payload)[0]
    checks.append(("/v1/status-lists/{list_id}", "get", await world.http.get(uri)))
    for suffix in ("openid-credential-issuer", "oauth-authorization-server", "jwt-vc-issuer"):
        checks.append((f"/.well-known/{suffix}", "get",
                       await world.http.get(f"{ISSUER}/.well-known/{suffix}")))
        checks.append((f"/.well-known/{suffix}/{{tenant}}", "get",
                       await world.http.get(f"{ISSUER}/.well-known/{suffix}/turing")))
    await world.drain()
    checks.append(("/v1/offers/{offer_id}/credentials", "get", await world.http.get(listing, headers=key)))
    for path, method, response in checks:
        validate_response(doc, path, method, response)
    assert {r.status_code for _, _, r in checks} >= {200, 201, 400, 401, 409}

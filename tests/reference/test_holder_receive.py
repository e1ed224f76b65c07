"""Holder §2: offer-details and receive against the reference issuer (OID4VCI 1.0 pre-authorized
code flow), and every failure mode of the seed's tables."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance.protocol.jose import b64u_encode, generate_key, private_key_from_b64u
from conformance.protocol.sdjwt import holder_public_key, parse_sd_jwt, verify_sd_jwt
from conformance.resolver import DidResolver
from tests.reference.test_holder_kit import (
    HAIP_KEY,
    ISSUER,
    LEDGER,
    TURING_CLAIMS,
    TURING_CONFIG,
    World,
    holder_world,
)


SEED_RECEIVE_FIELDS = {"credential_id", "vct", "issuer_did", "holder_did", "raw_credential",
                       "issued_at", "status"}


async def _independently_verified(world: World, raw: str, holder_key_jwk: dict[str, Any]) -> dict[str, Any]:
    """Check the stored credential with the protocol core, not with the holder's code."""
    sd_jwt = parse_sd_jwt(raw)
    resolver = DidResolver(world.http, LEDGER)
    issuer_key = await resolver.key_for(sd_jwt.issuer_jws.header["kid"])
    verified = verify_sd_jwt(sd_jwt, issuer_key=issuer_key, now=int(world.clock.now()),
                             holder_binding=None)
    assert holder_public_key(verified.payload).to_jwk() == holder_key_jwk
    return verified.claims


# --- offer-details -------------------------------------------------------------------------


@pytest.mark.anyio
async def test_offer_details_from_the_deep_link_and_the_plain_uri() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        offer = await world.offer()
        for uri in (offer["deep_link"], offer["credential_offer_uri"]):
            response = await world.post("/v1/oid4vci/offer-details", {"credential_offer_uri": uri},
                                        alice)
            assert response.status_code == 200
            details = response.json()
            assert details["issuer"] == f"{ISSUER}/turing"
            assert details["issuer_name"]
            (config,) = details["credential_configurations"]
            assert config["id"] == TURING_CONFIG and config["format"] == "dc+sd-jwt"
            assert config["vct"] == TURING_CONFIG and config["display"]["name"]
            grant = details["pre_authorized_code_grant"]
            assert grant["user_pin_required"] is False and grant["pre_authorized_code"]
        pinned = await world.offer(tx_code={"input_mode": "numeric", "length": 4})
        response = await world.post("/v1/oid4vci/offer-details",
                                    {"credential_offer_uri": pinned["deep_link"]}, alice)
        assert response.json()["pre_authorized_code_grant"]["user_pin_required"] is True


@pytest.mark.anyio
@pytest.mark.parametrize("uri", ["hello", "openid-credential-offer://?foo=bar",
                                 "openid-credential-offer://?credential_offer_uri=ftp%3A%2F%2Fx",
                                 "openid-credential-offer://?credential_offer=%7Bnot-json"])
async def test_offer_details_rejects_malformed_uris(uri: str) -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        response = await world.post("/v1/oid4vci/offer-details", {"credential_offer_uri": uri}, alice)
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "credential_offer_uri"


@pytest.mark.anyio
async def test_offer_details_unknown_offer_unreachable_issuer_and_auth() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        unknown = await world.post("/v1/oid4vci/offer-details", {
            "credential_offer_uri": f"{ISSUER}/v1/offers/6d1f3c1e-0000-4000-8000-000000000000"}, alice)
        assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "offer_unavailable"
        offer = await world.offer()
        assert (await world.post("/v1/oid4vci/offer-details",
                                 {"credential_offer_uri": offer["deep_link"]})).status_code == 401
        world.network.set_reachable(ISSUER, False)
        down = await world.post("/v1/oid4vci/offer-details",
                                {"credential_offer_uri": offer["deep_link"]}, alice)
        assert down.status_code == 502 and down.json()["error"]["code"] == "issuer_unavailable"


# --- receive -------------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("method,alg", [("KEY", "ES256"), ("IOTA", "EdDSA"), ("JWK", "EdDSA")])
async def test_receive_binds_the_credential_to_the_holder_did(method: str, alg: str) -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice, method)
        offer = await world.offer()
        response = await world.receive(alice, did, key, offer)
        assert response.status_code == 201, response.text
        body = response.json()
        assert SEED_RECEIVE_FIELDS <= body.keys()
        assert body["holder_did"] == did and body["status"] == "active"
        assert body["vct"] == body["schema_id"] == TURING_CONFIG
        assert body["issuer_did"].startswith("did:iota:testnet:0x")
        assert "notes" not in body and "notarize_on_iota" not in body
        public = private_key_from_b64u(key, alg).public.to_jwk()
        claims = await _independently_verified(world, body["raw_credential"], public)
        assert {k: claims[k] for k in TURING_CLAIMS} == TURING_CLAIMS
        records = await world.issuer_records(offer["offer_id"])
        assert records[0]["holder_did"] == did


@pytest.mark.anyio
async def test_receive_with_user_pin() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer(tx_code={"input_mode": "numeric", "length": 6})
        missing = await world.receive(alice, did, key, offer)
        assert missing.status_code == 400 and missing.json()["error"]["field"] == "user_pin"
        wrong_pin = "000000" if offer["tx_code_value"] != "000000" else "111111"
        wrong = await world.receive(alice, did, key, offer, user_pin=wrong_pin)
        assert wrong.status_code == 400
        assert wrong.json()["error"]["code"] == "pre_authorized_code_invalid"
        assert wrong_pin not in wrong.text
        right = await world.receive(alice, did, key, offer, user_pin=offer["tx_code_value"])
        assert right.status_code == 201, right.text


@pytest.mark.anyio
async def test_code_consumed_and_offer_expired() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer()
        assert (await world.receive(alice, did, key, offer)).status_code == 201
        reused = await world.receive(alice, did, key, offer)
        assert reused.status_code == 400
        assert reused.json()["error"]["code"] == "pre_authorized_code_invalid"
        late = await world.offer(expires_in=60)
        world.clock.advance(61)
        # The user's token is still valid (24 h); the offer is not.
        expired = await world.receive(alice, did, key, late)
        assert expired.status_code == 400


@pytest.mark.anyio
async def test_receive_ownership_and_key_failures() -> None:
    async with holder_world(issuer=True) as world:
        alice, bob = await world.user("Alice"), await world.user("Bob")
        did, key = await world.did(alice)
        offer = await world.offer()
        assert (await world.receive(bob, did, key, offer)).status_code == 403
        other_key = b64u_encode(generate_key("ES256").raw())
        mismatch = await world.receive(alice, did, other_key, offer)
        assert mismatch.status_code == 400 and mismatch.json()["error"]["code"] == "key_mismatch"
        assert other_key not in mismatch.text
        unknown = await world.receive(alice, "did:key:zDnaeUnknownUnknown", key, offer)
        assert unknown.status_code == 404
        assert (await world.delete(f"/v1/did/{did}", alice)).status_code == 204
        deleted = await world.receive(alice, did, key, offer)
        assert deleted.status_code == 404
        missing = await world.post("/v1/oid4vci/receive", {"credential_offer_uri": offer["deep_link"],
                                                           "holder_did": did}, alice)
        assert missing.status_code == 400 and missing.json()["error"]["field"] == "private_key"
        # None of this consumed the offer: a valid request still succeeds.
        did2, key2 = await world.did(alice)
        assert (await world.receive(alice, did2, key2, offer)).status_code == 201


@pytest.mark.anyio
async def test_issuer_unreachable_is_502() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer()
        world.network.set_reachable(ISSUER, False)
        response = await world.receive(alice, did, key, offer)
        assert response.status_code == 502 and response.json()["error"]["code"] == "issuer_unavailable"


@pytest.mark.anyio
async def test_ledger_down_after_issuance_keeps_the_credential_unchecked() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)          # did:key: the issuer needs no ledger for it
        await world.receive(alice, did, key, await world.offer())   # registers the issuer DID
        world.network.set_reachable(LEDGER, False)
        response = await world.receive(alice, did, key, await world.offer())
        assert response.status_code == 201, response.text
        assert "issuer_signature_unchecked" in [n["code"] for n in response.json()["notes"]]


@pytest.mark.anyio
async def test_choosing_among_several_configurations() -> None:
    """An offer by value naming two configurations (OID4VCI §4.1.1): the caller must choose."""
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = {"credential_issuer": f"{ISSUER}/turing",
                 "credential_configuration_ids": [TURING_CONFIG, "IdentityCredential"],
                 "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                     "pre-authorized_code": "not-a-real-code"}}}
        link = "openid-credential-offer://?credential_offer=" + quote(json.dumps(offer), safe="")
        details = await world.post("/v1/oid4vci/offer-details", {"credential_offer_uri": link}, alice)
        assert [c["id"] for c in details.json()["credential_configurations"]] == \
            [TURING_CONFIG, "IdentityCredential"]
        base = {"credential_offer_uri": link, "holder_did": did, "private_key": key}
        unchosen = await world.post("/v1/oid4vci/receive", base, alice)
        assert unchosen.status_code == 400
        assert unchosen.json()["error"]["field"] == "credential_configuration_id"
        not_offered = await world.post("/v1/oid4vci/receive",
                                       {**base, "credential_configuration_id": "ResidentCredential"}, alice)
        assert not_offered.status_code == 400
        chosen = await world.post("/v1/oid4vci/receive",
                                  {**base, "credential_configuration_id": "IdentityCredential"}, alice)
        # The code is made up, so the issuer refuses it: the choice itself was accepted.
        assert chosen.status_code == 400
        assert chosen.json()["error"]["code"] == "pre_authorized_code_invalid"


@pytest.mark.anyio
async def test_notarize_on_iota_is_accepted_and_reported_as_ignored() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer(notarize_on_iota=True)
        response = await world.receive(alice, did, key, offer, notarize_on_iota=False)
        assert response.status_code == 201
        body = response.json()
        assert body["notarize_on_iota"] == {"requested": False, "notarized": False}
        assert [n["code"] for n in body["notes"]] == ["notarize_on_iota_ignored"]
        await world.drain()
        # The issuer notarized anyway: the request could not change it.
        (record,) = await world.issuer_records(offer["offer_id"])
        assert record["on_chain_status"] == "COMPLETED"
        stored = await world.get(f"/v1/vc/{body['credential_id']}", alice)
        assert [n["code"] for n in stored.json()["notes"]] == ["notarize_on_iota_ignored"]


@pytest.mark.anyio
async def test_x509_issuer_credential_is_received_with_a_note() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer("IdentityCredential", {"given_name": "Erika", "family_name": "Mustermann"},
                                  api_key=HAIP_KEY)
        response = await world.receive(alice, did, key, offer)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["issuer_did"] is None and "x5c" in parse_sd_jwt(body["raw_credential"]).issuer_jws.header
        assert [n["code"] for n in body["notes"]] == ["x5c_chain_not_validated"]


class _AnchorReportingIssuer:
    """The issuer seed's receive response carries `reference {chain, object_id}` when notarization
    succeeded. The reference issuer notarizes after answering, so this wrapper plays an issuer
    that waits for its anchor: after the credential response it drains notarization and adds the
    `reference` member, read from the issuer's own records."""

    def __init__(self, world: World, app: ASGIApp, offer_id: str) -> None:
        self.world, self.app, self.offer_id = world, app, offer_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/credential":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = json.loads(b"".join(chunks))
        if start["status"] == 200:
            await self.world.drain()
            (record,) = await self.world.issuer_records(self.offer_id)
            body["reference"] = {"chain": record["blockchain"], "object_id": record["object_id"]}
        raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})


@pytest.mark.anyio
async def test_reference_block_chain_vs_chain() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer()
        world.network.mount(ISSUER, _AnchorReportingIssuer(world, world.apps[ISSUER], offer["offer_id"]))
        response = await world.receive(alice, did, key, offer)
        assert response.status_code == 201, response.text
        reference = response.json()["reference"]
        assert reference["chain"] == "iota" and reference["object_id"].startswith("0x")
        anchored = await world.http.get(f"{LEDGER}/v1/objects/{reference['object_id']}")
        assert anchored.status_code == 200
        assert response.json()["raw_credential"].startswith(anchored.json()["state"]["data"])
        stored = (await world.get(f"/v1/vc/{response.json()['credential_id']}", alice)).json()
        assert stored["reference"] == {"block_chain": "iota", "object_id": reference["object_id"]}

"""Holder §2: offer-details and receive against the reference issuer (OID4VCI 1.0 pre-authorized
code flow), and every failure mode of the seed's tables."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.paths import FIXTURES
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


TEST_CA = str(FIXTURES / "pki" / "test-ca.cert.pem")
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
        assert "notes" not in body and body["on_chain_status"] == "COMPLETED"
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
        await world.drain()     # the issuer's notarization is over before the ledger goes
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


IDENTITY_CLAIMS = {"given_name": "Erika", "family_name": "Mustermann"}


def _rogue_ca(path: Path) -> str:
    """A self-signed CA certificate that signed nothing the issuer uses, as a PEM file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "rogue CA")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(path)


@pytest.mark.anyio
@pytest.mark.parametrize("anchors", ["none", "test-ca", "rogue"])
async def test_x509_issuer_credential_against_the_holders_trust_anchors(anchors: str, tmp_path: Path) -> None:
    """x5c chains are validated against the holder's trust anchors when it has some; without any
    the chain is only checked for consistency, and the credential says so. Never anchored."""
    configured = {"none": (), "test-ca": (TEST_CA,), "rogue": (_rogue_ca(tmp_path / "rogue.pem"),)}[anchors]
    async with holder_world(issuer=True, trust_anchors_pem=configured) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer("IdentityCredential", IDENTITY_CLAIMS, api_key=HAIP_KEY)
        response = await world.receive(alice, did, key, offer, notarize_on_iota=True)
        if anchors == "rogue":
            assert response.status_code == 502 and response.json()["error"]["code"] == "invalid_credential"
            assert "trust anchor" in response.json()["error"]["message"]
            return
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["issuer_did"] is None and "x5c" in parse_sd_jwt(body["raw_credential"]).issuer_jws.header
        assert body["on_chain_status"] is None and "reference" not in body
        assert world.notarizations_of(body["raw_credential"].split("~", 1)[0]) == []
        expected = ["notarization_not_applicable"]
        if anchors == "none":
            expected.insert(0, "x5c_chain_not_validated")
        assert [n["code"] for n in body["notes"]] == expected

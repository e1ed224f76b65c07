"""The reference issuer, end to end over HTTP: offer -> offer URI -> metadata -> token -> nonce
-> credential, as a plain OID4VCI 1.0 wallet drives it, on both signing paths; notarization on
the in-process ledger; the `credential.notarized` webhook."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.paths import FIXTURES
from conformance.protocol.did import did_key_from_public
from conformance.protocol.jose import (
    PrivateKey,
    PublicKey,
    b64u_encode,
    generate_key,
    parse_jws,
    public_key_from_jwk,
    sign_jws,
)
from conformance.protocol.oid4vci import build_offer_link, parse_credential_offer
from conformance.protocol.sdjwt import parse_sd_jwt, verify_sd_jwt
from conformance.resolver import DidResolver
from reference.issuer.settings import IssuerSettings
from reference.ledger.settings import LedgerSettings
from tests.reference.test_issuer_world import (
    HAIP_KEY,
    HOOKS,
    ISSUER,
    LEDGER,
    TURING_KEY,
    TURING_OFFER,
    Wallet,
    World,
    make_world,
    oauth_error,
)

pytestmark = pytest.mark.anyio

IDENTITY_OFFER = {
    "credential": {"config_id": "IdentityCredential",
                   "claims": {"given_name": "Erika", "family_name": "Mustermann",
                              "document_number": "T22000129", "issuing_country": "DE"}},
    "flow": "pre-authorized",
}
RESIDENT_OFFER = {
    "credential": {"config_id": "ResidentCredential",
                   "claims": {"given_name": "Arthur", "family_name": "Dent",
                              "address": {"street_address": "42 Market Street",
                                          "locality": "Milliways", "country": "GB"},
                              "nationalities": ["British", "Betelgeusian"]}},
    "flow": "pre-authorized",
}


async def register_iota_did(world: World) -> tuple[str, PrivateKey]:
    """A did:iota on the ledger, as any controller would create it."""
    key = generate_key("EdDSA")
    proof = sign_jws({"jwk": key.public.to_jwk()}, {"op": "create", "iat": int(world.clock.now())},
                     key)
    response = await world.http.post(f"{LEDGER}/v1/dids", json={"network": "testnet",
                                                                 "proof": proof})
    assert response.status_code == 201, response.text
    return response.json()["did"], key


async def issuer_key_of(world: World, credential: str) -> PublicKey:
    """The key a verifier would use: the DID URL in kid, resolved on the ledger."""
    header = parse_sd_jwt(credential).issuer_jws.header
    return await DidResolver(world.http, LEDGER).key_for(header["kid"])


def owf_verify(credential: str, issuer_jwk: dict[str, Any]) -> dict[str, Any]:
    """The independent OWF implementation (sd-jwt package) must accept the credential too."""
    verifier_mod = pytest.importorskip("sd_jwt.verifier", reason="the OWF sd-jwt package is an "
                                       "optional test dependency")
    jwk_mod = pytest.importorskip("jwcrypto.jwk")
    key = jwk_mod.JWK(**issuer_jwk)
    verifier = verifier_mod.SDJWTVerifier(credential, lambda iss, header: key)
    return verifier.get_verified_payload()


# --- the did:iota path -------------------------------------------------------------------------


async def test_seed_example_runs_unchanged_and_the_credential_verifies_twice() -> None:
    world = make_world()
    created = await world.create_offer(TURING_OFFER)
    assert created["credential_offer_uri"] == f"{ISSUER}/v1/offers/{created['offer_id']}"
    assert created["deep_link"].startswith("openid-credential-offer://?credential_offer_uri=http%3A")
    assert created["expires_at"] == "2026-09-21T15:13:20.000Z"  # FakeClock start + 3600 s
    assert await world.records(created["offer_id"]) == []

    wallet = Wallet(world.http, world.clock)
    credential = await wallet.receive(created["deep_link"])
    assert wallet.offer.credential_issuer == f"{ISSUER}/turing"

    key = await issuer_key_of(world, credential)
    verified = verify_sd_jwt(parse_sd_jwt(credential), issuer_key=key, now=int(world.clock.now()),
                             holder_binding=None)
    identity = await world.service.default_issuer.identity()
    assert verified.header["kid"] == identity.kid and verified.header["alg"] == "EdDSA"
    assert verified.claims["iss"] == identity.did and identity.did.startswith("did:iota:testnet:0x")
    assert verified.claims["vct"] == "TuringCerts_Standard_Credential_v2_sd_jwt"
    assert verified.claims["credentialName"] == "University Degree"
    assert verified.claims["issuedTime"] == "2026-03-26T00:00:00Z"
    assert verified.claims["cnf"] == {"jwk": wallet.key.public.to_jwk()}
    assert {("credentialName",), ("issuedTime",)} <= verified.disclosed_paths
    assert "exp" not in verified.claims  # lifetime null in the configuration
    assert verified.claims["status"]["status_list"]["uri"].startswith(f"{ISSUER}/v1/status-lists/")

    owf = owf_verify(credential, key.to_jwk())
    assert owf["credentialName"] == "University Degree" and owf["iss"] == identity.did


async def test_notarization_goes_pending_to_completed_and_the_ledger_holds_the_issuer_jwt() -> None:
    world = make_world(ledger=LedgerSettings(latency=0.05))
    created = await world.create_offer()
    credential = await Wallet(world.http, world.clock).receive(created["deep_link"])
    seen = {(await world.records(created["offer_id"]))[0]["on_chain_status"]}
    while "COMPLETED" not in seen and "FAILED" not in seen:
        await asyncio.sleep(0.01)
        record = (await world.records(created["offer_id"]))[0]
        seen.add(record["on_chain_status"])
        assert (record["object_id"] is None) == (record["on_chain_status"] != "COMPLETED")
    assert {"PENDING", "IN_PROGRESS", "COMPLETED"} <= seen
    record = (await world.records(created["offer_id"]))[0]
    assert record["blockchain"] == "iota" and record["status"] == "ACTIVE"
    obj = (await world.http.get(f"{LEDGER}/v1/objects/{record['object_id']}")).json()
    assert obj["state"]["data"] == parse_sd_jwt(credential).issuer_jws.token
    assert "~" not in obj["state"]["data"]  # the JWT only: disclosures never go on chain


async def test_notarization_failed_on_the_ledger_is_failed_in_the_record() -> None:
    world = make_world(ledger=LedgerSettings(latency=0.01, failure_rate=1.0))
    created = await world.create_offer({**TURING_OFFER, "callback_url": f"{HOOKS}/hook"})
    await Wallet(world.http, world.clock).receive(created["deep_link"])
    await world.drain()
    record = (await world.records(created["offer_id"]))[0]
    assert record["on_chain_status"] == "FAILED" and record["object_id"] is None
    assert world.hooks.calls == []


@pytest.mark.parametrize("outage", ["connection refused", "503"])
async def test_ledger_unreachable_at_submit_fails_notarization_but_not_issuance(outage: str) -> None:
    world = make_world(ledger=LedgerSettings(latency=0.01, admin_key="admin-0123456789"))
    created = await world.create_offer({**TURING_OFFER, "callback_url": f"{HOOKS}/hook"})
    if outage == "503":
        switched = await world.http.put(f"{LEDGER}/v1/admin/faults", json={"available": False},
                                        headers={"X-Admin-Key": "admin-0123456789"})
        assert switched.status_code == 200
    else:
        world.ledger_down()
    credential = await Wallet(world.http, world.clock).receive(created["deep_link"])
    assert credential.count("~") == 3  # issued all the same: JWT ~ 2 disclosures ~
    await world.drain()
    record = (await world.records(created["offer_id"]))[0]
    assert (record["status"], record["on_chain_status"]) == ("ACTIVE", "FAILED")
    assert world.hooks.calls == []


async def test_a_ledger_lost_while_polling_ends_failed_after_the_timeout() -> None:
    world = make_world(ledger=LedgerSettings(latency=0.5), notarization_timeout=0.1)
    created = await world.create_offer()
    await Wallet(world.http, world.clock).receive(created["deep_link"])
    credential_id = (await world.records(created["offer_id"]))[0]["credential_id"]
    while world.service.db.credential(credential_id).request_id is None:
        await asyncio.sleep(0.001)
    world.ledger_down()
    await world.drain()
    assert (await world.records(created["offer_id"]))[0]["on_chain_status"] == "FAILED"


async def test_default_issuer_needs_the_ledger_once_to_register_its_did() -> None:
    world = make_world()
    world.ledger_down()
    response = await world.http.post(f"{ISSUER}/v1/offers", json=TURING_OFFER,
                                     headers={"X-API-Key": TURING_KEY})
    assert response.status_code == 503 and response.json()["error"]["code"] == "ledger_unreachable"
    world.ledger_down(False)
    await world.create_offer()


# --- webhooks ------------------------------------------------------------------------------------


async def test_webhook_is_posted_once_with_the_seed_payload() -> None:
    world = make_world()
    created = await world.create_offer({**TURING_OFFER, "callback_url": f"{HOOKS}/hook"})
    await Wallet(world.http, world.clock).receive(created["deep_link"])
    await world.drain()
    record = (await world.records(created["offer_id"]))[0]
    assert world.hooks.calls == [("/hook", {
        "event": "credential.notarized", "offer_id": created["offer_id"],
        "credential_id": record["credential_id"], "object_id": record["object_id"],
        "blockchain": "iota", "notarized_at": "2026-09-21T14:13:20.000Z"})]


@pytest.mark.parametrize("path", ["/slow", "/fail", "/redirect"])
async def test_a_failing_receiver_gets_one_attempt_and_changes_nothing(
        path: str, caplog: pytest.LogCaptureFixture) -> None:
    assert IssuerSettings().webhook_timeout == 5.0  # the seed's default; the world uses 0.2 s
    world = make_world()
    created = await world.create_offer({**TURING_OFFER,
                                        "callback_url": f"{HOOKS}{path}?token=s3cret-value"})
    with caplog.at_level(logging.WARNING, logger="reference.issuer"):
        await Wallet(world.http, world.clock).receive(created["deep_link"])
        await world.drain()
        await asyncio.sleep(world.hooks.slow_seconds if path == "/slow" else 0)
    # One POST, never retried; a redirect is not followed (/hook never called).
    assert [p for p, _ in world.hooks.calls] == [path]
    record = (await world.records(created["offer_id"]))[0]
    assert (record["status"], record["on_chain_status"]) == ("ACTIVE", "COMPLETED")
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "hooks.local" in logged and "s3cret-value" not in logged and path not in logged


async def test_off_chain_offers_never_call_back() -> None:
    world = make_world()
    created = await world.create_offer({**TURING_OFFER, "notarize_on_iota": False,
                                        "callback_url": f"{HOOKS}/hook"})
    await Wallet(world.http, world.clock).receive(created["deep_link"])
    await world.drain()
    record = (await world.records(created["offer_id"]))[0]
    assert (record["blockchain"], record["on_chain_status"], record["object_id"]) == (None, None, None)
    assert world.hooks.calls == []


# --- the X.509 path -----------------------------------------------------------------------------


def _pem(name: str) -> bytes:
    return (FIXTURES / "pki" / name).read_bytes()


async def test_x509_path_signs_es256_with_an_x5c_chain_to_the_test_ca_and_never_notarizes() -> None:
    world = make_world()
    created = await world.create_offer({**IDENTITY_OFFER, "callback_url": f"{HOOKS}/hook"},
                                       api_key=HAIP_KEY)
    wallet = Wallet(world.http, world.clock, key=generate_key("ES256"))
    credential = await wallet.receive(created["deep_link"])
    header = parse_sd_jwt(credential).issuer_jws.header
    assert header["alg"] == "ES256" and "kid" not in header and len(header["x5c"]) == 1
    leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
    ca = x509.load_pem_x509_certificate(_pem("test-ca.cert.pem"))
    ca.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    assert leaf.issuer == ca.subject
    leaf_jwk = _ec_jwk(leaf.public_key())
    verified = verify_sd_jwt(parse_sd_jwt(credential), issuer_key=public_key_from_jwk(leaf_jwk),
                             now=int(world.clock.now()), holder_binding=None)
    assert verified.claims["iss"] == f"{ISSUER}/haip"
    assert verified.claims["exp"] == verified.claims["iat"] + 31536000
    assert verified.claims["given_name"] == "Erika"
    # SD-JWT VC §5: the issuer's keys at the jwt-vc-issuer well-known URL of its iss.
    meta = (await world.http.get(f"{ISSUER}/.well-known/jwt-vc-issuer/haip")).json()
    assert meta["issuer"] == verified.claims["iss"]
    assert {k: meta["jwks"]["keys"][0][k] for k in ("kty", "crv", "x", "y")} == leaf_jwk
    owf = owf_verify(credential, leaf_jwk)
    assert owf["document_number"] == "T22000129"
    await world.drain()
    record = (await world.records(created["offer_id"], HAIP_KEY))[0]
    assert (record["issuer_did"], record["blockchain"], record["on_chain_status"]) == (None, None, None)
    assert world.hooks.calls == []


def _ec_jwk(key: Any) -> dict[str, str]:
    numbers = key.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64u_encode(numbers.x.to_bytes(32, "big")),
            "y": b64u_encode(numbers.y.to_bytes(32, "big"))}


async def test_x509_tenant_cannot_notarize() -> None:
    world = make_world()
    response = await world.http.post(f"{ISSUER}/v1/offers", json={**IDENTITY_OFFER,
                                                                   "notarize_on_iota": True},
                                     headers={"X-API-Key": HAIP_KEY})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "notarize_on_iota"


# --- offer-scoped issuers, holder-bound offers, nested claims ----------------------------------


async def test_offer_scoped_did_iota_issuer_signs_with_the_callers_key() -> None:
    world = make_world()
    did, key = await register_iota_did(world)
    created = await world.create_offer({**TURING_OFFER, "issuer_did": did,
                                        "issuer_private_key": b64u_encode(key.raw())})
    credential = await Wallet(world.http, world.clock).receive(created["deep_link"])
    jws = parse_sd_jwt(credential).issuer_jws
    assert jws.header["kid"] == f"{did}#key-1" and jws.payload["iss"] == did
    jws.verify_with(key.public)
    assert world.service.signers.held == 0  # dropped from memory once used
    await world.drain()
    record = (await world.records(created["offer_id"]))[0]
    assert record["issuer_did"] == did and record["on_chain_status"] == "COMPLETED"


async def test_offer_scoped_key_must_match_the_did_and_is_never_echoed_or_logged(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    world = make_world()
    did, key = await register_iota_did(world)
    wrong = b64u_encode(generate_key("EdDSA").raw())
    response = await world.http.post(f"{ISSUER}/v1/offers", json={
        **TURING_OFFER, "issuer_did": did, "issuer_private_key": wrong},
        headers={"X-API-Key": TURING_KEY})
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "issuer_private_key"
    assert wrong not in response.text
    right = b64u_encode(key.raw())
    created = await world.create_offer({**TURING_OFFER, "issuer_did": did,
                                        "issuer_private_key": right})
    await Wallet(world.http, world.clock).receive(created["deep_link"])
    await world.drain()
    assert wrong not in caplog.text and right not in caplog.text
    assert right not in repr(world.service.signers.__dict__)


async def test_holder_bound_offer_accepts_only_the_holders_key() -> None:
    world = make_world()
    holder = generate_key("EdDSA")
    holder_did = did_key_from_public(holder.public)
    created = await world.create_offer({**TURING_OFFER, "holder_did": holder_did})
    stranger = Wallet(world.http, world.clock)
    await stranger.resolve(created["deep_link"])
    await stranger.token()
    response = await stranger.credential_response([stranger.proof(await stranger.nonce())])
    assert oauth_error(response) == (400, "invalid_proof", "holder_did_mismatch")
    # The same wallet session, now proving with the holder's key, by DID URL.
    stranger.key, stranger.kid = holder, f"{holder_did}#{holder_did.split(':')[2]}"
    credential = await stranger.credential()
    assert parse_sd_jwt(credential).issuer_jws.payload["cnf"]["jwk"] == holder.public.to_jwk()
    assert (await world.records(created["offer_id"]))[0]["holder_did"] == holder_did


async def test_holder_did_iota_proof_by_jwk_is_checked_against_the_ledger() -> None:
    world = make_world()
    did, key = await register_iota_did(world)
    created = await world.create_offer({**TURING_OFFER, "holder_did": did})
    credential = await Wallet(world.http, world.clock, key=key).receive(created["deep_link"])
    assert parse_sd_jwt(credential).issuer_jws.payload["cnf"]["jwk"] == key.public.to_jwk()


async def test_nested_claims_are_recursively_selectively_disclosable() -> None:
    world = make_world()
    created = await world.create_offer(RESIDENT_OFFER)
    credential = await Wallet(world.http, world.clock).receive(created["deep_link"])
    key = await issuer_key_of(world, credential)
    verified = verify_sd_jwt(parse_sd_jwt(credential), issuer_key=key, now=int(world.clock.now()),
                             holder_binding=None)
    assert verified.claims["address"] == RESIDENT_OFFER["credential"]["claims"]["address"]
    assert verified.claims["nationalities"] == ["British", "Betelgeusian"]
    assert {("address",), ("address", "locality"), ("nationalities",),
            ("nationalities", 1)} <= verified.disclosed_paths
    payload = parse_sd_jwt(credential).issuer_jws.payload
    assert "address" not in payload and "given_name" not in payload  # only digests in the clear
    assert len(payload["_sd"]) == 4 + world.settings.decoys
    owf = owf_verify(credential, key.to_jwk())
    assert owf["address"]["locality"] == "Milliways" and owf["nationalities"][1] == "Betelgeusian"


async def test_a_wallet_may_take_the_offer_by_value_too() -> None:
    world = make_world()
    created = await world.create_offer()
    offer_json = (await world.http.get(created["credential_offer_uri"])).json()
    link = build_offer_link(offer=parse_credential_offer(offer_json))
    credential = await Wallet(world.http, world.clock).receive(link)
    assert credential.endswith("~")


async def test_es256_holder_keys_bind_too() -> None:
    world = make_world()
    created = await world.create_offer()
    wallet = Wallet(world.http, world.clock, key=generate_key("ES256"))
    credential = await wallet.receive(created["deep_link"])
    assert parse_sd_jwt(credential).issuer_jws.payload["cnf"]["jwk"]["kty"] == "EC"


async def test_proof_signed_with_rfc9864_ed25519_alg_is_accepted() -> None:
    world = make_world()
    created = await world.create_offer()
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(created["deep_link"])
    await wallet.token()
    nonce = await wallet.nonce()
    token = sign_jws({"typ": "openid4vci-proof+jwt", "jwk": wallet.key.public.to_jwk()},
                     {"aud": wallet.offer.credential_issuer, "iat": int(world.clock.now()),
                      "nonce": nonce}, wallet.key)
    header, rest = token.split(".", 1)
    # Re-sign with the header's alg changed to the fully specified name.
    h = json.loads(base64.urlsafe_b64decode(header + "=="))
    h["alg"] = "Ed25519"
    signing_input = f"{b64u_encode(json.dumps(h).encode())}.{rest.split('.')[0]}"
    token = f"{signing_input}.{b64u_encode(wallet.key.sign(signing_input.encode()))}"
    assert parse_jws(token).header["alg"] == "Ed25519"
    assert (await wallet.credential(token)).endswith("~")


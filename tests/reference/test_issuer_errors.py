"""The reference issuer's failure answers: the seed's POST /v1/offers error table, and the
OAuth / OID4VCI error codes of the token and credential endpoints (RFC 6749 §5.2, OID4VCI 1.0
§6.3, §8.3.1.2, Appendix F.4)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from conformance.protocol.did import did_key_from_public
from conformance.protocol.jose import b64u_encode, b64u_json, generate_key, parse_jws, sign_jws
from conformance.protocol.oid4vci import PROOF_TYP
from reference.issuer.settings import IssuerSettings
from tests.reference.test_issuer_world import (
    ISSUER,
    LIMITED_KEY,
    TURING_KEY,
    TURING_OFFER,
    Wallet,
    World,
    make_world,
    oauth_error,
)

pytestmark = pytest.mark.anyio


def _offer(**changes: Any) -> dict[str, Any]:
    body = {**TURING_OFFER, **changes}
    return {k: v for k, v in body.items() if v is not None}


async def _post_offer(world: World, body: Any, key: str | None = TURING_KEY) -> tuple[int, dict]:
    headers = {"X-API-Key": key} if key is not None else {}
    response = await world.http.post(f"{ISSUER}/v1/offers", json=body, headers=headers)
    return response.status_code, response.json()


# --- POST /v1/offers -------------------------------------------------------------------------

CLAIMS = TURING_OFFER["credential"]["claims"]
BAD_OFFERS = [
    ("no credential", _offer(credential=None), "credential"),
    ("no config_id", _offer(credential={"claims": CLAIMS}), "credential.config_id"),
    ("claims not an object", _offer(credential={"config_id": "IdentityCredential", "claims": [1]}),
     "credential.claims"),
    ("unknown claim", _offer(credential={"config_id": "TuringCerts_Standard_Credential_v2_sd_jwt",
                                         "claims": {**CLAIMS, "extra": 1}}), "credential.claims.extra"),
    ("mandatory claim missing", _offer(credential={
        "config_id": "TuringCerts_Standard_Credential_v2_sd_jwt",
        "claims": {"credentialName": "x"}}), "credential.claims.issuedTime"),
    ("reserved claim", _offer(credential={"config_id": "TuringCerts_Standard_Credential_v2_sd_jwt",
                                          "claims": {**CLAIMS, "iss": "me"}}), "credential.claims.iss"),
    ("sd-jwt reserved name", _offer(credential={"config_id": "ResidentCredential", "claims": {
        "given_name": "A", "address": {"_sd": []}}}), "credential.claims.address._sd"),
    ("unknown config_id", _offer(credential={"config_id": "Nope", "claims": CLAIMS}),
     "credential.config_id"),
    ("no flow", _offer(flow=None), "flow"),
    ("authorization-code flow", _offer(flow="authorization-code"), "flow"),
    ("other flow", _offer(flow="implicit"), "flow"),
    ("expires_in not a number", _offer(expires_in="soon"), "expires_in"),
    ("expires_in zero", _offer(expires_in=0), "expires_in"),
    ("issuer_did without key", _offer(issuer_did="did:iota:testnet:0x" + "a" * 64),
     "issuer_private_key"),
    ("key without issuer_did", _offer(issuer_private_key="AAAA"), "issuer_did"),
    ("malformed issuer_did", _offer(issuer_did="did:iota:issuer-ntu-001", issuer_private_key="AAAA"),
     "issuer_did"),
    ("malformed holder_did", _offer(holder_did="not-a-did"), "holder_did"),
    ("notarize not a boolean", _offer(notarize_on_iota="yes"), "notarize_on_iota"),
    ("callback over http", _offer(callback_url="http://example.com/hook"), "callback_url"),
    ("callback not a URL", _offer(callback_url="hook"), "callback_url"),
    ("callback too long", _offer(callback_url="https://x.example/" + "a" * 2048), "callback_url"),
    ("tx_code bad mode", _offer(tx_code={"input_mode": "emoji"}), "tx_code.input_mode"),
    ("tx_code too short", _offer(tx_code={"length": 2}), "tx_code.length"),
]


@pytest.mark.parametrize("body,field", [(b, f) for _, b, f in BAD_OFFERS],
                         ids=[name for name, _, _ in BAD_OFFERS])
async def test_bad_offer_bodies_answer_400_naming_the_field(body: dict, field: str) -> None:
    status, answer = await _post_offer(make_world(), body)
    assert status == 400, answer
    assert answer["error"]["field"] == field and answer["error"]["message"]


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://localhost/hook",
                                 "http://[::1]/hook", "https://hooks.example/" + "a" * 2000])
async def test_https_and_loopback_http_callbacks_up_to_2048_chars_are_accepted(url: str) -> None:
    world = make_world()
    created = await world.create_offer(_offer(callback_url=url))
    assert world.service.offer(created["offer_id"]).callback_url == url


async def test_non_json_and_non_object_bodies_are_400() -> None:
    world = make_world()
    for content in (b"{", b"[1]"):
        response = await world.http.post(f"{ISSUER}/v1/offers", content=content,
                                         headers={"X-API-Key": TURING_KEY,
                                                  "Content-Type": "application/json"})
        assert response.status_code == 400


@pytest.mark.parametrize("key", [None, "", "tcs_test_wrong"])
async def test_missing_or_invalid_api_key_is_401(key: str | None) -> None:
    status, answer = await _post_offer(make_world(), TURING_OFFER, key)
    assert status == 401 and answer["error"]["field"] == "X-API-Key"


async def test_api_key_not_allowed_the_configuration_is_403() -> None:
    body = {"credential": {"config_id": "IdentityCredential",
                           "claims": {"given_name": "E", "family_name": "M"}},
            "flow": "pre-authorized"}
    status, answer = await _post_offer(make_world(), body, LIMITED_KEY)
    assert status == 403 and answer["error"]["field"] == "credential.config_id"


async def test_issuer_did_not_registered_under_the_tenant_is_403() -> None:
    key = generate_key("EdDSA")
    body = _offer(issuer_did=did_key_from_public(key.public), issuer_private_key=b64u_encode(key.raw()))
    status, answer = await _post_offer(make_world(), body, LIMITED_KEY)
    assert status == 403 and answer["error"]["field"] == "issuer_did"


async def test_non_iota_issuer_did_defaults_off_chain_and_rejects_explicit_notarization() -> None:
    world = make_world()
    key = generate_key("ES256")
    did = did_key_from_public(key.public)
    body = _offer(issuer_did=did, issuer_private_key=b64u_encode(key.raw()))
    status, answer = await _post_offer(world, {**body, "notarize_on_iota": True})
    assert status == 400 and answer["error"]["field"] == "notarize_on_iota"
    created = await world.create_offer(body)
    credential = await Wallet(world.http, world.clock).receive(created["deep_link"])
    assert parse_jws(credential.split("~")[0]).header["alg"] == "ES256"
    record = (await world.records(created["offer_id"]))[0]
    assert (record["issuer_did"], record["blockchain"], record["on_chain_status"]) == (did, None, None)


async def test_unresolvable_issuer_did_is_400_and_an_unreachable_ledger_503() -> None:
    world = make_world()
    body = _offer(issuer_did="did:iota:testnet:0x" + "b" * 64, issuer_private_key="A" * 43)
    status, answer = await _post_offer(world, body)
    assert status == 400 and answer["error"]["field"] == "issuer_did"
    world.ledger_down()
    status, answer = await _post_offer(world, body)
    assert status == 503


# --- token endpoint -------------------------------------------------------------------------


async def _session(world: World, body: dict | None = None) -> tuple[Wallet, dict]:
    created = await world.create_offer(body or TURING_OFFER)
    wallet = Wallet(world.http, world.clock)
    await wallet.resolve(created["deep_link"])
    return wallet, created


async def test_expired_offer_cannot_be_redeemed_or_fetched() -> None:
    world = make_world()
    wallet, created = await _session(world, {**TURING_OFFER, "expires_in": 60})
    world.clock.advance(61)
    assert oauth_error(await wallet.token_response()) == (400, "invalid_grant", "code_expired")
    response = await world.http.get(created["credential_offer_uri"])
    assert response.status_code == 410 and response.json()["error"]["code"] == "offer_expired"


async def test_pre_authorized_code_is_single_use() -> None:
    world = make_world()
    wallet, _ = await _session(world)
    await wallet.token()
    assert oauth_error(await wallet.token_response()) == (400, "invalid_grant", "code_used")


async def test_unknown_code_and_grant_type_and_repeated_parameters() -> None:
    world = make_world()
    wallet, _ = await _session(world)
    assert oauth_error(await wallet.token_response(code="forged")) == (400, "invalid_grant",
                                                                        "code_unknown")
    post = world.http.post
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await post(f"{ISSUER}/token", content="grant_type=authorization_code&code=x",
                          headers=form)
    assert oauth_error(response)[:2] == (400, "unsupported_grant_type")
    response = await post(f"{ISSUER}/token", content="grant_type=a&grant_type=b", headers=form)
    assert oauth_error(response) == (400, "invalid_request", "repeated_parameter")
    response = await post(f"{ISSUER}/token", json={"grant_type": "x"})
    assert oauth_error(response) == (400, "invalid_request", "unsupported_content_type")
    assert response.headers["cache-control"] == "no-store"


async def test_tx_code_missing_wrong_unexpected_and_locked() -> None:
    world = make_world()
    created = await world.create_offer({**TURING_OFFER, "tx_code": {
        "input_mode": "numeric", "length": 6, "description": "sent by SMS"}})
    tx_value = created["tx_code_value"]
    assert tx_value.isdigit() and len(tx_value) == 6
    wallet = Wallet(world.http, world.clock)
    offer = await wallet.resolve(created["deep_link"])
    assert offer.pre_authorized.tx_code.description == "sent by SMS"
    assert oauth_error(await wallet.token_response()) == (400, "invalid_request", "tx_code_missing")
    wrong = "000000" if tx_value != "000000" else "111111"
    assert oauth_error(await wallet.token_response(wrong)) == (400, "invalid_grant", "tx_code_wrong")
    assert (await wallet.token(tx_value))  # the right code still works after one miss

    plain, _ = await _session(world)
    assert oauth_error(await plain.token_response("123456")) == (400, "invalid_request",
                                                                 "tx_code_unexpected")

    created = await world.create_offer({**TURING_OFFER, "tx_code": {"length": 4}})
    locked = Wallet(world.http, world.clock)
    await locked.resolve(created["deep_link"])
    wrong = "0000" if created["tx_code_value"] != "0000" else "1111"
    for _ in range(world.settings.tx_code_attempts):
        assert oauth_error(await locked.token_response(wrong))[2] == "tx_code_wrong"
    answer = oauth_error(await locked.token_response(created["tx_code_value"]))
    assert answer == (400, "invalid_grant", "tx_code_locked")


# --- credential endpoint ----------------------------------------------------------------------


async def _ready(world: World | None = None) -> tuple[World, Wallet]:
    world = world or make_world()
    wallet, _ = await _session(world)
    await wallet.token()
    return world, wallet


async def test_credential_endpoint_requires_a_valid_bearer_token() -> None:
    world, wallet = await _ready()
    token = wallet.access_token
    for value in (None, "expired-or-forged"):
        wallet.access_token = value
        response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
        assert response.status_code == 401 and response.json()["error"] == "invalid_token"
        assert response.headers["www-authenticate"].startswith("Bearer")
    wallet.access_token = token
    world.clock.advance(world.settings.access_token_ttl + 1)
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert response.status_code == 401


async def test_unknown_and_not_offered_configurations() -> None:
    world, wallet = await _ready()
    proof = wallet.proof(await wallet.nonce())
    response = await wallet.credential_response([proof], config_id="NoSuchCredential")
    assert oauth_error(response)[:2] == (400, "unknown_credential_configuration")
    response = await wallet.credential_response([proof], config_id="IdentityCredential")
    assert oauth_error(response) == (400, "invalid_credential_request", "configuration_not_offered")
    response = await wallet.credential_response(None, body={"credential_identifier": "x"})
    assert oauth_error(response)[:2] == (400, "unknown_credential_identifier")
    response = await wallet.credential_response(None, body={
        "credential_configuration_id": "TuringCerts_Standard_Credential_v2_sd_jwt",
        "credential_identifier": "x"})
    assert oauth_error(response) == (400, "invalid_credential_request", "ambiguous_credential")


async def test_malformed_proofs() -> None:
    world, wallet = await _ready()
    config = wallet.offer.credential_configuration_ids[0]
    nonce = await wallet.nonce()
    cases = [
        ({"credential_configuration_id": config}, "invalid_proof", "proofs_missing"),
        ({"credential_configuration_id": config, "proof": {"jwt": "x"}},
         "invalid_credential_request", "legacy_proof_parameter"),
        ({"credential_configuration_id": config, "proofs": {"ldp_vp": [{}]}},
         "invalid_proof", "unsupported_proof_type"),
        ({"credential_configuration_id": config, "proofs": {"jwt": []}},
         "invalid_proof", "malformed_proofs"),
        ({"credential_configuration_id": config,
          "proofs": {"jwt": [wallet.proof(nonce), wallet.proof(nonce)]}},
         "invalid_credential_request", "batch_not_supported"),
        ({"credential_configuration_id": config, "proofs": {"jwt": ["not.a.jwt"]}},
         "invalid_proof", "malformed_proof"),
    ]
    for body, code, detail in cases:
        assert oauth_error(await wallet.credential_response(None, body=body)) == (400, code, detail)
    response = await world.http.post(wallet.metadata.credential_endpoint, content=b"{nope",
                                      headers={"Authorization": f"Bearer {wallet.access_token}"})
    assert oauth_error(response)[:2] == (400, "invalid_credential_request")


def _raw_proof(header: dict, payload: dict, signer: Any) -> str:
    """A proof JWT whose header is exactly `header` (sign_jws would set alg from the key)."""
    signing_input = f"{b64u_json(header)}.{b64u_json(payload)}"
    return f"{signing_input}.{b64u_encode(signer.sign(signing_input.encode()))}"


async def test_proof_rules_of_appendix_f() -> None:
    world, wallet = await _ready()
    now = int(world.clock.now())
    aud = wallet.offer.credential_issuer
    key = wallet.key
    jwk = key.public.to_jwk()
    p256 = generate_key("ES256")

    async def answer(proof: str) -> tuple[int, str, str | None]:
        return oauth_error(await wallet.credential_response([proof]))

    nonce = await wallet.nonce()
    assert await answer(wallet.proof(nonce, aud="https://other.example")) == (
        400, "invalid_proof", "aud_mismatch")
    assert await answer(wallet.proof(None)) == (400, "invalid_proof", "nonce_missing")
    assert await answer(wallet.proof("never-issued")) == (400, "invalid_nonce", "nonce_invalid")
    assert await answer(wallet.proof(nonce, iat=now - 3600)) == (400, "invalid_proof", "proof_too_old")
    assert await answer(wallet.proof(nonce, iat=now + 3600)) == (400, "invalid_proof", "iat_in_future")
    good = {"aud": aud, "iat": now, "nonce": nonce}
    # Wrong key type: the header's jwk is a P-256 key but the proof claims (and is) EdDSA.
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP, "jwk": p256.public.to_jwk()},
                                   good, key)) == (400, "invalid_proof", "key_type_mismatch")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP,
                                    "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}},
                                   good, key)) == (400, "invalid_proof", "unsupported_key_type")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": "JWT", "jwk": jwk}, good, key)) == (
        400, "invalid_proof", "invalid_typ")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP, "jwk": {**jwk, "d": "x" * 43}},
                                   good, key)) == (400, "invalid_proof", "private_key_in_header")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP, "jwk": jwk,
                                    "kid": "did:example:1#k"}, good, key)) == (
        400, "invalid_proof", "key_reference_ambiguous")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP}, good, key)) == (
        400, "invalid_proof", "key_reference_missing")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP, "jwk": jwk}, good,
                                   generate_key("EdDSA"))) == (400, "invalid_proof", "signature_invalid")
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP, "kid": "key-1"}, good, key)) == (
        400, "invalid_proof", "unsupported_key_reference")
    unknown_did = "did:iota:testnet:0x" + "c" * 64
    assert await answer(_raw_proof({"alg": "EdDSA", "typ": PROOF_TYP, "kid": f"{unknown_did}#key-1"},
                                   good, key)) == (400, "invalid_proof", "kid_unresolvable")
    # None of the failures spent the nonce: the same one still works.
    assert (await wallet.credential(wallet.proof(nonce))).endswith("~")


async def test_nonces_are_single_use_and_expire() -> None:
    world = make_world(nonce_ttl=30)
    world, wallet = await _ready(world)
    stale = await wallet.nonce()
    world.clock.advance(31)
    assert oauth_error(await wallet.credential_response([wallet.proof(stale)])) == (
        400, "invalid_nonce", "nonce_invalid")
    nonce = await wallet.nonce()
    assert (await wallet.credential(wallet.proof(nonce))).endswith("~")

    other, _ = await _session(world)
    await other.token()
    answer = oauth_error(await other.credential_response([other.proof(nonce)]))
    assert answer == (400, "invalid_nonce", "nonce_invalid")


async def test_one_credential_per_offer() -> None:
    world, wallet = await _ready()
    await wallet.credential()
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert oauth_error(response) == (400, "credential_request_denied", "already_issued")


async def test_unsupported_binding_method_is_refused() -> None:
    base = IssuerSettings().configurations
    config = base["TuringCerts_Standard_Credential_v2_sd_jwt"]
    world = make_world(configurations={**base, config.id: replace(config, binding_methods=("jwk",))})
    world, wallet = await _ready(world)
    holder = generate_key("EdDSA")
    did = did_key_from_public(holder.public)
    wallet.key, wallet.kid = holder, f"{did}#{did.split(':')[2]}"
    answer = oauth_error(await wallet.credential_response([wallet.proof(await wallet.nonce())]))
    assert answer == (400, "invalid_proof", "unsupported_binding_method")


async def test_error_descriptions_stay_within_the_allowed_characters() -> None:
    world, wallet = await _ready()
    response = await wallet.credential_response(None, body={"credential_configuration_id": "x\"\\§"})
    description = response.json()["error_description"]
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description)


async def test_issued_credential_signature_really_binds_the_proof_key() -> None:
    """Sanity: the proof's key, not some other, ends up in cnf (and a proof by another key with
    the right jwk header fails)."""
    world, wallet = await _ready()
    other = generate_key("EdDSA")
    nonce = await wallet.nonce()
    forged = sign_jws({"typ": PROOF_TYP, "jwk": wallet.key.public.to_jwk()},
                      {"aud": wallet.offer.credential_issuer, "iat": int(world.clock.now()),
                       "nonce": nonce}, other)
    assert oauth_error(await wallet.credential_response([forged])) == (
        400, "invalid_proof", "signature_invalid")

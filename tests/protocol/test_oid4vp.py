"""OID4VP 1.0 messages (conformance/protocol/oid4vp.py): client identifiers, the Authorization
Request URL, the Request Object, responses in both direct post modes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol import oid4vp as vp
from conformance.protocol.did import did_key_from_public
from conformance.protocol.errors import Oid4vpError
from conformance.protocol.jose import generate_key, sign_jws
from conformance.protocol.jwe import encrypt_ecdh_es, generate_ecdh_key

DCQL = {"credentials": [{"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:pid"]},
                         "claims": [{"path": ["given_name"]}]}]}
KEY = generate_key("EdDSA")
DID = did_key_from_public(KEY.public)
CLIENT_ID = vp.did_client_id(DID)


def reason_of(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(Oid4vpError) as info:
        call(*args, **kwargs)
    return info.value.reason


def request_claims(**overrides: Any) -> dict[str, Any]:
    claims = {"client_id": CLIENT_ID, "response_type": "vp_token", "response_mode": "direct_post",
              "response_uri": "https://verifier.example/post/1", "nonce": "n-0S6_WzA2Mj", "state": "st.1~x",
              "dcql_query": DCQL, "aud": vp.STATIC_DISCOVERY_AUD, "iat": 1_790_000_000}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def signed(claims: dict[str, Any], typ: str | None = vp.JAR_TYP, key: Any = KEY) -> str:
    header = {"kid": f"{DID}#{DID.split(':')[-1]}"}
    if typ is not None:
        header["typ"] = typ
    return sign_jws(header, claims, key)


# --- client identifiers (§5.9) ---------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind", "identifier"), [
    ("decentralized_identifier:did:example:123", "decentralized_identifier", "did:example:123"),
    ("x509_san_dns:client.example.org", "x509_san_dns", "client.example.org"),
    ("redirect_uri:https://client.example.org/cb", "redirect_uri", "https://client.example.org/cb"),
    ("example-client", "pre-registered", "example-client"),
    ("did:example:123", "bare_did", "did:example:123"),
    ("https://verifier.example/app", "https_url", "https://verifier.example/app"),
])
def test_client_id_prefixes(value: str, kind: str, identifier: str) -> None:
    client = vp.parse_client_id(value)
    assert (client.value, client.kind, client.identifier) == (value, kind, identifier)


def test_seed_forms_carry_a_note_and_spec_forms_do_not() -> None:
    assert vp.parse_client_id("did:example:123").notes == (vp.BARE_DID_NOTE,)
    assert vp.parse_client_id("https://verifier.example").notes == (vp.HTTPS_JWKS_NOTE,)
    assert vp.parse_client_id(CLIENT_ID).notes == ()
    assert vp.parse_client_id(CLIENT_ID).did == DID


@pytest.mark.parametrize(("value", "reason"), [
    ("origin:https://verifier.example", "client_id_prefix_reserved"),
    ("mystery:thing", "client_id_prefix_unsupported"),
    ("decentralized_identifier:not-a-did", "client_id_invalid"),
    ("decentralized_identifier:did:example:1#key", "client_id_invalid"),
    ("", "client_id_missing"),
    (None, "client_id_missing"),
])
def test_client_id_rejections(value: Any, reason: str) -> None:
    assert reason_of(vp.parse_client_id, value) == reason


def test_did_client_id_prefixes_unless_bare() -> None:
    assert CLIENT_ID == f"decentralized_identifier:{DID}"
    assert vp.did_client_id(DID, bare=True) == DID


# --- the Authorization Request URL ---------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(client=st.text(min_size=1).filter(lambda s: ":" not in s), uri_tail=st.text(), post=st.booleans())
def test_authorization_request_round_trips(client: str, uri_tail: str, post: bool) -> None:
    request_uri = f"https://verifier.example/request/{uri_tail}"
    url = vp.build_authorization_request(client, request_uri, request_uri_method="post" if post else None)
    parsed = vp.parse_authorization_request(url)
    assert parsed == vp.AuthorizationRequest(client, request_uri, "post" if post else None, None)
    assert url.startswith("openid4vp://authorize?client_id=")


def test_authorization_request_accepts_the_holder_seed_form() -> None:
    did = "did:iota:testnet:0x" + "ab" * 32
    parsed = vp.parse_authorization_request(
        f"openid4vp://?client_id={did.replace(':', '%3A')}&request_uri=https%3A%2F%2Fv.example%2Fr%2Fabc")
    assert (parsed.client_id, parsed.request_uri) == (did, "https://v.example/r/abc")
    assert vp.parse_client_id(parsed.client_id).kind == "bare_did"


@pytest.mark.parametrize(("url", "reason"), [
    ("openid4vp://authorize?client_id=a&request_uri=x&request_uri_method=PUT", "request_uri_method_invalid"),
    ("openid4vp://authorize?client_id=a&request_uri_method=post&request=eyJ", "request_uri_method_invalid"),
    ("openid4vp://authorize?client_id=a", "request_uri_missing"),
    ("openid4vp://authorize?request_uri=x", "client_id_missing"),
    ("openid4vp://authorize?client_id=a&client_id=b&request_uri=x", "authorization_request_malformed"),
    ("not a url", "authorization_request_malformed"),
])
def test_authorization_request_rejections(url: str, reason: str) -> None:
    assert reason_of(vp.parse_authorization_request, url) == reason


def test_request_uri_method_invalid_maps_to_its_own_error_code() -> None:
    with pytest.raises(Oid4vpError) as info:
        vp.parse_authorization_request("openid4vp://authorize?client_id=a&request_uri=x&request_uri_method=put")
    assert vp.error_code(info.value) == "invalid_request_uri_method"


# --- the Request Object ---------------------------------------------------------------------


def test_request_object_round_trip_and_key_binding_target() -> None:
    token = vp.build_request_object(KEY, client_id=CLIENT_ID, response_uri="https://verifier.example/post/1",
                                    nonce="abc", state="s1", dcql_query=DCQL, iat=1, kid=f"{DID}#k")
    request = vp.verify_request_object(token, KEY.public, expected_client_id=CLIENT_ID)
    assert request.header["typ"] == "oauth-authz-req+jwt"
    assert (request.response_mode, request.state, request.dcql.credentials[0].id) == ("direct_post", "s1", "pid")
    assert request.key_binding == vp.KeyBindingTarget(aud=CLIENT_ID, nonce="abc")


@pytest.mark.parametrize(("token_of", "reason", "error"), [
    (lambda: signed(request_claims(), key=generate_key("EdDSA")), "request_object_signature_invalid",
     "invalid_request_object"),
    (lambda: signed(request_claims(), typ="JWT"), "request_object_typ_invalid", "invalid_request_object"),
    (lambda: signed(request_claims(), typ=None), "request_object_typ_invalid", "invalid_request_object"),
    (lambda: signed(request_claims(client_id=DID)), "client_id_mismatch", "invalid_request"),
    (lambda: signed(request_claims(nonce=None)), "nonce_missing", "invalid_request"),
    (lambda: signed(request_claims(nonce="has space")), "nonce_invalid", "invalid_request"),
    (lambda: signed(request_claims(state="a/b")), "state_invalid", "invalid_request"),
    (lambda: signed(request_claims(response_type="code")), "response_type_unsupported", "unsupported_response_type"),
    (lambda: signed(request_claims(response_mode="fragment")), "response_mode_unsupported", "invalid_request"),
    (lambda: signed(request_claims(redirect_uri="https://verifier.example/cb")), "redirect_uri_with_direct_post",
     "invalid_request"),
    (lambda: signed(request_claims(response_uri=None)), "response_uri_missing", "invalid_request"),
    (lambda: signed(request_claims(dcql_query=None)), "dcql_query_missing", "invalid_request"),
    (lambda: signed(request_claims(scope="pid")), "dcql_query_missing", "invalid_request"),
    (lambda: signed(request_claims(dcql_query={"credentials": []})), "dcql_query_invalid", "invalid_request"),
    (lambda: signed(request_claims(transaction_data=["e30"])), "transaction_data_unsupported",
     "invalid_transaction_data"),
    (lambda: signed(request_claims(response_mode="direct_post.jwt")), "encryption_key_missing", "invalid_request"),
    (lambda: signed(request_claims(client_metadata={"jwks": {"keys": [{"kty": "OKP"}]}})),
     "client_metadata_invalid", "invalid_request"),
    (lambda: "not.a.jws", "request_object_malformed", "invalid_request_object"),
])
def test_request_object_rejections_each_with_its_reason(token_of: Any, reason: str, error: str) -> None:
    with pytest.raises(Oid4vpError) as info:
        vp.verify_request_object(token_of(), KEY.public, expected_client_id=CLIENT_ID)
    assert (info.value.reason, vp.error_code(info.value)) == (reason, error)


def test_request_object_expiry_and_wallet_nonce() -> None:
    token = signed(request_claims(exp=1000, wallet_nonce="wn1"))
    assert reason_of(vp.verify_request_object, token, KEY.public, expected_client_id=CLIENT_ID,
                     now=2000) == "request_object_expired"
    assert reason_of(vp.verify_request_object, token, KEY.public, expected_client_id=CLIENT_ID,
                     wallet_nonce="other") == "wallet_nonce_mismatch"
    assert vp.verify_request_object(token, KEY.public, expected_client_id=CLIENT_ID, now=1000,
                                    wallet_nonce="wn1").wallet_nonce == "wn1"


def test_build_refuses_what_verify_would_refuse() -> None:
    assert reason_of(vp.build_request_object, KEY, client_id=CLIENT_ID, response_uri="https://v.example/p",
                     nonce="bad nonce", dcql_query=DCQL, iat=1) == "nonce_invalid"
    assert reason_of(vp.build_request_object, KEY, client_id="origin:x", response_uri="https://v.example/p",
                     nonce="n", dcql_query=DCQL, iat=1) == "client_id_prefix_reserved"


def test_signing_key_source_for_dids_and_https_ids() -> None:
    token = signed(request_claims())
    assert vp.request_signing_key_source(token, CLIENT_ID).did_url == f"{DID}#{DID.split(':')[-1]}"
    other = did_key_from_public(generate_key("EdDSA").public)
    assert reason_of(vp.request_signing_key_source, token, vp.did_client_id(other)) == "request_object_kid_invalid"
    jwk = {**KEY.public.to_jwk(), "kid": "sig-1"}
    url_token = sign_jws({"typ": vp.JAR_TYP, "kid": "sig-1"},
                         request_claims(client_id="https://verifier.example", client_metadata={"jwks": {"keys": [jwk]}}),
                         KEY)
    source = vp.request_signing_key_source(url_token, "https://verifier.example")
    assert source.jwk == jwk and source.client.notes == (vp.HTTPS_JWKS_NOTE,)
    key = vp.public_key_of(source.jwk)
    assert vp.verify_request_object(url_token, key, expected_client_id="https://verifier.example").client_id \
        == "https://verifier.example"
    assert reason_of(vp.request_signing_key_source, token, "x509_san_dns:v.example") == "client_id_prefix_unsupported"


# --- responses (§8) -------------------------------------------------------------------------


def test_vp_token_is_an_object_keyed_by_query_id() -> None:
    body = vp.build_direct_post_body({"pid": ["a~b~"]}, "s1")
    response = vp.parse_response_params(body)
    assert response == vp.AuthorizationResponse({"pid": ("a~b~",)}, "s1")
    assert vp.parse_response_params({"vp_token": {"pid": ["x~"]}}).vp_token == {"pid": ("x~",)}


@pytest.mark.parametrize(("params", "reason"), [
    ({"state": "s"}, "vp_token_missing"),
    ({"vp_token": "[1]"}, "vp_token_malformed"),
    ({"vp_token": "{}"}, "vp_token_malformed"),
    ({"vp_token": "not json"}, "vp_token_malformed"),
    ({"vp_token": json.dumps({"pid": "a~"})}, "vp_token_malformed"),
    ({"vp_token": json.dumps({"pid": []})}, "vp_token_malformed"),
    ({"vp_token": json.dumps({"pid": [1]})}, "vp_token_malformed"),
    ({"error": 5}, "error_response_malformed"),
])
def test_response_rejections(params: dict[str, Any], reason: str) -> None:
    assert reason_of(vp.parse_response_params, params) == reason


def test_error_response_and_state_check() -> None:
    parsed = vp.parse_response_params({"error": "access_denied", "error_description": "no", "state": "s"})
    assert parsed == vp.AuthorizationErrorResponse("access_denied", "no", "s")
    vp.check_state("s", "s")
    assert reason_of(vp.check_state, None, "s") == "state_mismatch"
    assert reason_of(vp.check_state, "t", "s") == "state_mismatch"


def test_vp_token_shape_against_the_query() -> None:
    query = vp.verify_request_object(signed(request_claims()), KEY.public, expected_client_id=CLIENT_ID).dcql
    vp.check_vp_token_shape({"pid": ("a~",)}, query)
    assert reason_of(vp.check_vp_token_shape, {"other": ("a~",)}, query) == "vp_token_unknown_query"
    assert reason_of(vp.check_vp_token_shape, {"pid": ("a~", "b~")}, query) == "vp_token_too_many"


def test_direct_post_jwt_round_trip() -> None:
    enc_key = generate_ecdh_key("P-256", kid="enc-1")
    metadata = vp.build_client_metadata({"client_name": "V"}, encryption_key=enc_key)
    assert metadata["jwks"]["keys"][0]["kid"] == "enc-1" and "d" not in metadata["jwks"]["keys"][0]
    assert metadata["vp_formats_supported"]["dc+sd-jwt"]
    body = vp.build_direct_post_jwt_body({"pid": ["a~b~"]}, "s1", metadata)
    assert set(body) == {"response"}
    payload = vp.decrypt_response(body["response"], enc_key, client_metadata=metadata)
    assert vp.parse_response_params(payload) == vp.AuthorizationResponse({"pid": ("a~b~",)}, "s1")


def test_direct_post_jwt_rejections() -> None:
    enc_key = generate_ecdh_key("P-256", kid="enc-1")
    metadata = vp.build_client_metadata(None, encryption_key=enc_key)
    jwk = metadata["jwks"]["keys"][0]
    wrong_kid = encrypt_ecdh_es(b'{"vp_token":{}}', jwk, kid="other")
    wrong_enc = encrypt_ecdh_es(b'{"vp_token":{}}', jwk, enc="A256GCM", kid="enc-1")
    not_json = encrypt_ecdh_es(b"[1]", jwk, kid="enc-1")
    to_other = encrypt_ecdh_es(b"{}", generate_ecdh_key().public_jwk(), kid="enc-1")
    cases = {wrong_kid: "response_kid_mismatch", wrong_enc: "response_enc_not_allowed",
             not_json: "response_payload_invalid", to_other: "response_decryption_failed",
             "": "response_missing"}
    for token, reason in cases.items():
        assert reason_of(vp.decrypt_response, token, enc_key, client_metadata=metadata) == reason
    assert reason_of(vp.select_encryption_jwk, {"jwks": {"keys": []}}) == "encryption_key_missing"


def test_every_reason_maps_to_an_oauth_or_oid4vp_error_code() -> None:
    codes = {"invalid_request", "invalid_request_object", "invalid_client", "unsupported_response_type",
             "invalid_request_uri_method", "invalid_transaction_data", "access_denied", "vp_formats_not_supported"}
    assert {error for error, _ in vp.REASONS.values()} <= codes
    assert all(doc.strip() for _, doc in vp.REASONS.values())

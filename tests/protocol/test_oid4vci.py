"""conformance.protocol.oid4vci: the OID4VCI 1.0 messages and the `jwt` key proof.

Independent evidence: the spec's own examples (a Credential Offer, Issuer Metadata and the
signed key proof of Appendix F.1) parse and verify; everything else is round trips and one test
per failure reason."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol.did import did_key_from_public
from conformance.protocol.errors import Oid4vciError
from conformance.protocol.jose import b64u_encode, b64u_json, generate_key
from conformance.protocol.oid4vci import (
    ERROR_CODES,
    PRE_AUTHORIZED_GRANT,
    PROOF_TYP,
    CredentialOffer,
    NOTIFICATION_EVENTS,
    CredentialResponse,
    NotificationRequest,
    PreAuthorizedGrant,
    TokenRequest,
    TxCode,
    build_credential_request,
    build_offer_link,
    build_proof_jwt,
    is_https,
    parse_authorization_server_metadata,
    parse_credential_offer,
    parse_credential_request,
    parse_credential_response,
    parse_deferred_credential_request,
    parse_issuer_metadata,
    parse_nonce_response,
    parse_notification_request,
    parse_offer_link,
    parse_proof_jwt,
    parse_token_request,
    parse_token_response,
    verify_proof_jwt,
    well_known_url,
)

# OID4VCI 1.0, examples/credential_offer_multiple_credentials.json (unknown members kept).
SPEC_OFFER = {
    "credential_issuer": "https://credential-issuer.example.com",
    "credential_configuration_ids": ["UniversityDegreeCredential", "org.iso.18013.5.1.mDL"],
    "grants": {PRE_AUTHORIZED_GRANT: {
        "pre-authorized_code": "oaKazRN8I0IbtZ0C7JuMn5",
        "tx_code": {"length": 4, "input_mode": "numeric",
                    "description": "Please provide the one-time code that was sent via e-mail"}}},
    "issuer_redirect_uri": "https://credential-issuer.example.com/redirect",
}
# OID4VCI 1.0, examples/credential_issuer_metadata_sd_jwt_long.json, trimmed.
SPEC_METADATA = {
    "credential_issuer": "https://credential-issuer.example.com",
    "authorization_servers": ["https://server.example.com"],
    "credential_endpoint": "https://credential-issuer.example.com/credential",
    "nonce_endpoint": "https://credential-issuer.example.com/nonce",
    "batch_credential_issuance": {"batch_size": 10},
    "credential_configurations_supported": {"SD_JWT_VC_example_in_OpenID4VCI": {
        "format": "dc+sd-jwt", "scope": "SD_JWT_VC_example_in_OpenID4VCI",
        "credential_signing_alg_values_supported": ["ES256"],
        "cryptographic_binding_methods_supported": ["jwk"],
        "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"],
                                          "key_attestations_required": {}}},
        "vct": "SD_JWT_VC_example_in_OpenID4VCI",
        "credential_metadata": {"display": [{"name": "IdentityCredential", "locale": "en-US"}],
                                "claims": [{"path": ["given_name"]}]}}},
}
# OID4VCI 1.0 Appendix F.1: the example `proofs` value, a real ES256 signature.
SPEC_PROOF = (
    "eyJ0eXAiOiJvcGVuaWQ0dmNpLXByb29mK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwiY3J2"
    "IjoiUC0yNTYiLCJ4IjoiblVXQW9BdjNYWml0aDhFN2kxOU9kYXhPTFlGT3dNLVoyRXVNMDJUaXJUNCIsInkiOiJI"
    "c2tIVThCalVpMVU5WHFpN1N3bWo4Z3dBS18weGtjRGpFV183MVNvc0VZIn19.eyJhdWQiOiJodHRwczovL2NyZWRl"
    "bnRpYWwtaXNzdWVyLmV4YW1wbGUuY29tIiwiaWF0IjoxNzAxOTYwNDQ0LCJub25jZSI6IkxhclJHU2JtVVBZdFJZ"
    "TzZCUTR5bjgifQ.-a3EDsxClUB4O3LeDD5DVGEnNMT01FCQW4P6-2-BNBqc_Zxf0Qw4CWayLEpqkAomlkLb9zioZo"
    "ipdP-jvh1WlA"
)
AUD = "https://issuer.example"
NOW = 1_790_000_000


def reason(exc: pytest.ExceptionInfo[Oid4vciError]) -> tuple[str, str]:
    return exc.value.reason, exc.value.detail  # type: ignore[attr-defined]


# --- offers and links ----------------------------------------------------------------------


def test_spec_example_offer_parses_and_ignores_unknown_members() -> None:
    offer = parse_credential_offer(SPEC_OFFER)
    assert offer.credential_issuer == "https://credential-issuer.example.com"
    assert offer.credential_configuration_ids == ("UniversityDegreeCredential", "org.iso.18013.5.1.mDL")
    assert offer.pre_authorized.code == "oaKazRN8I0IbtZ0C7JuMn5"
    assert offer.pre_authorized.tx_code == TxCode("numeric", 4, SPEC_OFFER["grants"][
        PRE_AUTHORIZED_GRANT]["tx_code"]["description"])
    assert "issuer_redirect_uri" not in offer.to_json()


def test_an_empty_tx_code_object_still_requires_a_code() -> None:
    offer = parse_credential_offer({**SPEC_OFFER, "grants": {PRE_AUTHORIZED_GRANT: {
        "pre-authorized_code": "c", "tx_code": {}}}})
    assert offer.pre_authorized.tx_code == TxCode()  # §4.1.1: "even if empty"


@pytest.mark.parametrize("change,field", [
    ({"credential_issuer": "ftp://x"}, "credential_offer.credential_issuer"),
    ({"credential_configuration_ids": []}, "credential_offer.credential_configuration_ids"),
    ({"credential_configuration_ids": ["a", "a"]}, "credential_offer.credential_configuration_ids"),
    ({"grants": {PRE_AUTHORIZED_GRANT: {}}},
     f"credential_offer.grants.{PRE_AUTHORIZED_GRANT}.pre-authorized_code"),
    ({"grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c", "tx_code": {
        "description": "x" * 301}}}}, "tx_code.description"),
    ({"grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "c", "tx_code": {
        "input_mode": "alpha"}}}}, "tx_code.input_mode"),
])
def test_invalid_offers_name_the_member(change: dict, field: str) -> None:
    with pytest.raises(Oid4vciError) as exc:
        parse_credential_offer({**SPEC_OFFER, **change})
    assert exc.value.reason == "invalid_request" and exc.value.field == field


_codes = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=40)
_offers = st.builds(
    CredentialOffer,
    st.sampled_from(["https://issuer.example", "https://issuer.example/tenant/1", "http://localhost:8000"]),
    st.lists(_codes, min_size=1, max_size=3, unique=True).map(tuple),
    st.builds(PreAuthorizedGrant, _codes, st.none() | st.builds(
        TxCode, st.sampled_from(["numeric", "text"]), st.none() | st.integers(1, 12),
        st.none() | st.text(max_size=300))),
)


@settings(max_examples=40, deadline=None)
@given(_offers)
def test_offers_round_trip_by_value_and_by_reference(offer: CredentialOffer) -> None:
    assert parse_credential_offer(json.loads(json.dumps(offer.to_json()))) == offer
    assert parse_offer_link(build_offer_link(offer=offer)).offer == offer
    uri = f"{offer.credential_issuer}/offers/{quote(offer.pre_authorized.code, safe='')}?a=1&b=2"
    assert parse_offer_link(build_offer_link(offer_uri=uri)).offer_uri == uri


def test_link_forms() -> None:
    # §4.1.3's example, verbatim.
    link = ("openid-credential-offer://?credential_offer_uri=https%3A%2F%2Fserver%2Eexample%2Ecom"
            "%2Fcredential-offer%2FGkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM")
    assert parse_offer_link(link).offer_uri == ("https://server.example.com/credential-offer/"
                                                "GkurKxf5T0Y-mnPFCHqWOMiZi4VS138cQO_V7PZHAdM")
    # A claimed https link works as well, and a bare offer URI (the seeds' holder receives one).
    assert parse_offer_link("https://wallet.example/?credential_offer_uri=https%3A%2F%2Fi.example%2Fo").offer_uri == "https://i.example/o"
    assert parse_offer_link("https://i.example/offers/1").offer_uri == "https://i.example/offers/1"


@pytest.mark.parametrize("link", [
    "", "openid-credential-offer://", "openid-credential-offer://?foo=bar",
    "openid-credential-offer://?credential_offer_uri=a&credential_offer=%7B%7D",
    "openid-credential-offer://?credential_offer_uri=a&credential_offer_uri=b",
    "openid-credential-offer://?credential_offer_uri=javascript%3Aalert(1)",
    "openid-credential-offer://?credential_offer=%7Bnot-json",
])
def test_bad_links(link: str) -> None:
    with pytest.raises(Oid4vciError) as exc:
        parse_offer_link(link)
    assert exc.value.reason == "invalid_request"


def test_well_known_insertion_follows_the_specs_examples() -> None:
    # §12.2.2's two examples, and SD-JWT VC §5.1's trailing-slash rule.
    assert well_known_url("https://issuer.example.com/tenant", "openid-credential-issuer") == \
        "https://issuer.example.com/.well-known/openid-credential-issuer/tenant"
    assert well_known_url("https://tenant.issuer.example.com", "openid-credential-issuer") == \
        "https://tenant.issuer.example.com/.well-known/openid-credential-issuer"
    assert well_known_url("https://example.com/tenant/1234/", "jwt-vc-issuer") == \
        "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"
    assert is_https("https://a.example") and not is_https("http://a.example")


# --- metadata --------------------------------------------------------------------------------


def test_spec_example_metadata_parses() -> None:
    meta = parse_issuer_metadata(SPEC_METADATA, expected_issuer="https://credential-issuer.example.com")
    assert meta.authorization_server == "https://server.example.com" and meta.batch_size == 10
    config = meta.configurations["SD_JWT_VC_example_in_OpenID4VCI"]
    assert config.vct == "SD_JWT_VC_example_in_OpenID4VCI" and config.requires_proof
    assert config.proof_types["jwt"].signing_algs == ("ES256",)
    assert config.binding_methods == ("jwk",) and config.display[0]["name"] == "IdentityCredential"
    assert meta.deferred_credential_endpoint is None and meta.notification_endpoint is None


def test_metadata_deferred_and_notification_endpoints() -> None:
    issuer = SPEC_METADATA["credential_issuer"]
    meta = parse_issuer_metadata({**SPEC_METADATA, "deferred_credential_endpoint": f"{issuer}/deferred",
                                  "notification_endpoint": f"{issuer}/notification"}, expected_issuer=issuer)
    assert meta.deferred_credential_endpoint == f"{issuer}/deferred"
    assert meta.notification_endpoint == f"{issuer}/notification"
    with pytest.raises(Oid4vciError) as exc:
        parse_issuer_metadata({**SPEC_METADATA, "notification_endpoint": "/notification"}, expected_issuer=issuer)
    assert reason(exc) == ("invalid_request", "invalid_url") and exc.value.field == "metadata.notification_endpoint"


def test_metadata_of_another_issuer_must_not_be_used() -> None:
    with pytest.raises(Oid4vciError) as exc:
        parse_issuer_metadata(SPEC_METADATA, expected_issuer="https://credential-issuer.example.com/")
    assert reason(exc) == ("invalid_request", "issuer_mismatch")
    broken = {**SPEC_METADATA, "credential_configurations_supported": {"x": {"format": "dc+sd-jwt"}}}
    with pytest.raises(Oid4vciError):  # A.3.2: vct is required for dc+sd-jwt
        parse_issuer_metadata(broken, expected_issuer=SPEC_METADATA["credential_issuer"])


def test_authorization_server_metadata() -> None:
    meta = parse_authorization_server_metadata(
        {"issuer": "https://as.example", "token_endpoint": "https://as.example/token",
         "pre-authorized_grant_anonymous_access_supported": True},
        expected_issuer="https://as.example")
    assert meta.grant_types == ("authorization_code", "implicit") and meta.anonymous_pre_authorized
    with pytest.raises(Oid4vciError):
        parse_authorization_server_metadata({"issuer": "https://evil.example", "token_endpoint":
                                             "https://as.example/token"},
                                            expected_issuer="https://as.example")


# --- token, nonce, credential messages --------------------------------------------------------


def test_token_request_round_trip_and_rules() -> None:
    request = TokenRequest(PRE_AUTHORIZED_GRANT, "SplxlOBeZQQYbYS6WxSbIA", "493536")
    assert parse_token_request(parse_qsl(request.encode())) == request
    assert "493536" not in repr(request) and "SplxlO" not in repr(request)
    cases = [
        ([], ("invalid_request", "missing_parameter")),
        ([("grant_type", "authorization_code")], ("unsupported_grant_type", "unsupported_grant_type")),
        ([("grant_type", PRE_AUTHORIZED_GRANT)], ("invalid_request", "missing_parameter")),
        ([("grant_type", PRE_AUTHORIZED_GRANT), ("pre-authorized_code", "a"),
          ("pre-authorized_code", "b")], ("invalid_request", "repeated_parameter")),
    ]
    for params, expected in cases:
        with pytest.raises(Oid4vciError) as exc:
            parse_token_request(params)
        assert reason(exc) == expected


def test_token_and_nonce_responses() -> None:
    token = parse_token_response({"access_token": "t", "token_type": "bearer", "expires_in": 300})
    assert token.expires_in == 300 and token.token_type == "bearer"
    with pytest.raises(Oid4vciError):
        parse_token_response({"access_token": "t", "token_type": "mac"})
    assert parse_nonce_response({"c_nonce": "wKI4LT17ac15ES9bw8ac4"}).c_nonce == "wKI4LT17ac15ES9bw8ac4"
    with pytest.raises(Oid4vciError):
        parse_nonce_response({})


def test_credential_request_rules() -> None:
    request = build_credential_request("cfg", ["p"])
    assert parse_credential_request(request.to_json()) == request
    assert parse_credential_request({"credential_configuration_id": "cfg"}).proof_type is None
    cases = [
        ({}, ("invalid_credential_request", "ambiguous_credential")),
        ({"credential_configuration_id": "a", "credential_identifier": "b"},
         ("invalid_credential_request", "ambiguous_credential")),
        ({"credential_configuration_id": "a", "proof": {}},
         ("invalid_credential_request", "legacy_proof_parameter")),
        ({"credential_configuration_id": "a", "proofs": {"jwt": ["x"], "di_vp": [{}]}},
         ("invalid_proof", "malformed_proofs")),
        ({"credential_configuration_id": "a", "proofs": {"jwt": "x"}},
         ("invalid_proof", "malformed_proofs")),
        ("nope", ("invalid_credential_request", "not_an_object")),
    ]
    for body, expected in cases:
        with pytest.raises(Oid4vciError) as exc:
            parse_credential_request(body)
        assert reason(exc) == expected


def test_credential_response_forms() -> None:
    immediate = CredentialResponse(("a~b~",), notification_id="n")
    assert parse_credential_response(immediate.to_json()) == immediate
    deferred = CredentialResponse(transaction_id="8xLOxBtZp8", interval=3600)
    assert parse_credential_response(deferred.to_json()) == deferred
    for bad in ({}, {"credentials": [], }, {"credentials": [{"x": 1}]},
                {"credentials": [{"credential": "a"}], "transaction_id": "t"},
                {"transaction_id": "t"}):
        with pytest.raises(Oid4vciError):
            parse_credential_response(bad)


def test_every_error_code_is_documented() -> None:
    assert {"invalid_proof", "invalid_nonce", "invalid_grant", "invalid_credential_request",
            "unknown_credential_configuration", "invalid_request",
            "unsupported_grant_type", "invalid_transaction_id", "invalid_notification_id",
            "invalid_notification_request"} <= set(ERROR_CODES)
    for source, meaning in ERROR_CODES.values():
        assert source and meaning
    assert ERROR_CODES["invalid_transaction_id"][0] == "OID4VCI §9.3"
    assert ERROR_CODES["invalid_notification_request"][0] == "OID4VCI §11.3"


def test_an_error_without_a_detail_has_its_reason_as_detail() -> None:
    assert Oid4vciError("invalid_request", "m").detail == "invalid_request"
    assert Oid4vciError("invalid_grant", "m", "tx_code", "tx_code_mismatch").detail == "tx_code_mismatch"


# --- deferred credential (§9) and notification (§11) requests ---------------------------------


def test_deferred_credential_request() -> None:
    assert parse_deferred_credential_request({"transaction_id": "8xLOxBtZp8", "x": 1}).transaction_id == "8xLOxBtZp8"
    for bad, detail in (([], "not_an_object"), ({}, "missing_parameter"), ({"transaction_id": ""}, "missing_parameter"),
                        ({"transaction_id": 7}, "missing_parameter")):
        with pytest.raises(Oid4vciError) as exc:
            parse_deferred_credential_request(bad)
        assert reason(exc) == ("invalid_credential_request", detail)


def test_notification_request() -> None:
    parsed = parse_notification_request({"notification_id": "3fwe98js", "event": "credential_failure",
                                         "event_description": "Could not store the Credential. Out of storage."})
    assert parsed == NotificationRequest("3fwe98js", "credential_failure",
                                         "Could not store the Credential. Out of storage.")
    assert set(NOTIFICATION_EVENTS) == {"credential_accepted", "credential_failure", "credential_deleted"}
    for bad, detail in (("x", "not_an_object"), ({"event": "credential_accepted"}, "missing_parameter"),
                        ({"notification_id": "n", "event": "Credential_Accepted"}, "invalid_event"),
                        ({"notification_id": "n", "event": "credential_deleted", "event_description": 'a "b"'},
                         "invalid_parameter"),
                        ({"notification_id": "n", "event": "credential_deleted", "event_description": "é"},
                         "invalid_parameter")):
        with pytest.raises(Oid4vciError) as exc:
            parse_notification_request(bad)
        assert reason(exc) == ("invalid_notification_request", detail)


# --- key proofs (Appendix F) ------------------------------------------------------------------


def test_the_specs_example_proof_verifies() -> None:
    proof = verify_proof_jwt(SPEC_PROOF, expected_aud="https://credential-issuer.example.com",
                             expected_nonce="LarRGSbmUPYtRYO6BQ4yn8", now=1701960444, max_age=300)
    assert proof.key.alg == "ES256" and proof.nonce == "LarRGSbmUPYtRYO6BQ4yn8"
    assert proof.iat == 1701960444 and proof.kid is None


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_proofs_round_trip_with_jwk_and_with_a_did_kid(alg: str) -> None:
    key = generate_key(alg)
    proof = verify_proof_jwt(build_proof_jwt(key, aud=AUD, nonce="n", iat=NOW), expected_aud=AUD,
                             expected_nonce="n", now=NOW, max_age=60)
    assert proof.key.to_jwk() == key.public.to_jwk()
    did = did_key_from_public(key.public)
    kid = f"{did}#{did.split(':')[2]}"
    token = build_proof_jwt(key, aud=AUD, nonce="n", iat=NOW, kid=kid)
    parsed = parse_proof_jwt(token)
    assert parsed.did == did and parsed.jwk is None
    proof = verify_proof_jwt(parsed, expected_aud=AUD, expected_nonce={"m", "n"}, now=NOW,
                             max_age=60, key=key.public)
    assert (proof.kid, proof.did) == (kid, did)


def test_without_a_nonce_endpoint_no_nonce_is_needed() -> None:
    key = generate_key()
    proof = verify_proof_jwt(build_proof_jwt(key, aud=AUD, nonce=None, iat=NOW),
                             expected_aud=AUD, expected_nonce=None, now=NOW, max_age=60)
    assert proof.nonce is None


def _raw(header: dict, payload: dict, key) -> str:  # noqa: ANN001
    signing_input = f"{b64u_json(header)}.{b64u_json(payload)}"
    return f"{signing_input}.{b64u_encode(key.sign(signing_input.encode()))}"


KEY = generate_key("EdDSA")
JWK = KEY.public.to_jwk()
GOOD_HEADER = {"alg": "EdDSA", "typ": PROOF_TYP, "jwk": JWK}
GOOD_CLAIMS = {"aud": AUD, "iat": NOW, "nonce": "n"}
PROOF_FAILURES = [
    ("not a jws", "x.y", ("invalid_proof", "malformed_proof")),
    ("alg none", _raw({**GOOD_HEADER, "alg": "none"}, GOOD_CLAIMS, KEY), ("invalid_proof", "unsupported_alg")),
    ("hmac", _raw({**GOOD_HEADER, "alg": "HS256"}, GOOD_CLAIMS, KEY), ("invalid_proof", "unsupported_alg")),
    ("typ JWT", _raw({**GOOD_HEADER, "typ": "JWT"}, GOOD_CLAIMS, KEY), ("invalid_proof", "invalid_typ")),
    ("no key", _raw({"alg": "EdDSA", "typ": PROOF_TYP}, GOOD_CLAIMS, KEY),
     ("invalid_proof", "key_reference_missing")),
    ("jwk and kid", _raw({**GOOD_HEADER, "kid": "did:key:z#z"}, GOOD_CLAIMS, KEY),
     ("invalid_proof", "key_reference_ambiguous")),
    ("x5c", _raw({"alg": "EdDSA", "typ": PROOF_TYP, "x5c": ["MII"]}, GOOD_CLAIMS, KEY),
     ("invalid_proof", "unsupported_key_reference")),
    ("private jwk", _raw({**GOOD_HEADER, "jwk": {**JWK, "d": "AAAA"}}, GOOD_CLAIMS, KEY),
     ("invalid_proof", "private_key_in_header")),
    ("key type", _raw({**GOOD_HEADER, "jwk": generate_key("ES256").public.to_jwk()}, GOOD_CLAIMS, KEY),
     ("invalid_proof", "key_type_mismatch")),
    ("rsa key", _raw({**GOOD_HEADER, "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, GOOD_CLAIMS, KEY),
     ("invalid_proof", "unsupported_key_type")),
    ("signature", _raw(GOOD_HEADER, GOOD_CLAIMS, generate_key("EdDSA")), ("invalid_proof", "signature_invalid")),
    ("no aud", _raw(GOOD_HEADER, {"iat": NOW, "nonce": "n"}, KEY), ("invalid_proof", "aud_missing")),
    ("aud", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "aud": "https://other"}, KEY), ("invalid_proof", "aud_mismatch")),
    ("aud array", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "aud": [AUD]}, KEY), ("invalid_proof", "aud_mismatch")),
    ("no iat", _raw(GOOD_HEADER, {"aud": AUD, "nonce": "n"}, KEY), ("invalid_proof", "iat_missing")),
    ("iat string", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "iat": str(NOW)}, KEY), ("invalid_proof", "iat_missing")),
    ("future", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "iat": NOW + 61}, KEY), ("invalid_proof", "iat_in_future")),
    ("old", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "iat": NOW - 301}, KEY), ("invalid_proof", "proof_too_old")),
    ("no nonce", _raw(GOOD_HEADER, {"aud": AUD, "iat": NOW}, KEY), ("invalid_proof", "nonce_missing")),
    ("wrong nonce", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "nonce": "m"}, KEY), ("invalid_nonce", "nonce_invalid")),
    ("nonce number", _raw(GOOD_HEADER, {**GOOD_CLAIMS, "nonce": 1}, KEY), ("invalid_nonce", "nonce_invalid")),
]


def test_a_good_proof_passes_the_same_checks() -> None:
    proof = verify_proof_jwt(_raw(GOOD_HEADER, GOOD_CLAIMS, KEY), expected_aud=AUD,
                             expected_nonce="n", now=NOW, max_age=300)
    assert proof.key.to_jwk() == JWK


@pytest.mark.parametrize("token,expected", [(t, e) for _, t, e in PROOF_FAILURES],
                         ids=[name for name, _, _ in PROOF_FAILURES])
def test_proof_failures_have_distinct_reasons(token: str, expected: tuple[str, str]) -> None:
    with pytest.raises(Oid4vciError) as exc:
        verify_proof_jwt(token, expected_aud=AUD, expected_nonce="n", now=NOW, max_age=300)
    assert reason(exc) == expected
    assert "AAAA" not in exc.value.message  # a private key in the header is never echoed


def test_kid_proofs_need_the_resolved_key_and_algs_follow_the_metadata() -> None:
    did = did_key_from_public(KEY.public)
    token = build_proof_jwt(KEY, aud=AUD, nonce="n", iat=NOW, kid=f"{did}#x")
    with pytest.raises(Oid4vciError) as exc:
        verify_proof_jwt(token, expected_aud=AUD, expected_nonce="n", now=NOW, max_age=60)
    assert reason(exc) == ("invalid_proof", "key_unresolved")
    with pytest.raises(Oid4vciError) as exc:
        verify_proof_jwt(build_proof_jwt(KEY, aud=AUD, nonce="n", iat=NOW), expected_aud=AUD,
                         expected_nonce="n", now=NOW, max_age=60, allowed_algs=("ES256",))
    assert reason(exc) == ("invalid_proof", "unsupported_alg")

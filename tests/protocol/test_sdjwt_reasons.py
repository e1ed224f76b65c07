"""Every SD-JWT reason code (conformance.protocol.sdjwt.REASONS) is triggered by a dedicated case.

Each case breaks exactly one rule of a credential that otherwise verifies (the controls at the
bottom show the untouched versions pass), so the reason asserted is the only right answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import b64u_json, generate_key
from conformance.protocol.sdjwt import REASONS, key_binding_jwt, parse_sd_jwt, present
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.disclosure import SD_ALG
from tests.protocol.test_sdjwt_kit import (
    AUD,
    EXPECT,
    HOLDER,
    KEYS,
    NONCE,
    NOW,
    digests_payload,
    disclosure,
    issue,
    kb_with_payload,
    presentation,
    raw_disclosure,
    reason_of,
    sd_jwt_of,
    signed_jwt,
    vc_payload,
    verify,
    with_kb,
)

ISSUED = issue()
SD_JWT = ISSUED.serialize()
GOOD = presentation(ISSUED, [("given_name",), ("address", "locality")])
JWT = ISSUED.issuer_jwt
GIVEN = disclosure("given_name", "Erika", salt="Z2l2ZW4tbmFtZS1zYWx0")
COUNTRY = disclosure(None, "DE", salt="Y291bnRyeS1zYWx0LTE")


@dataclass(frozen=True)
class Case:
    reason: str
    name: str
    action: Callable[[], Any]


def _verify_sd(payload: dict[str, Any], *disclosures: Any) -> Any:
    """Sign `payload` as the Issuer, add `disclosures` and a good KB-JWT, and verify."""
    return verify(with_kb(sd_jwt_of(signed_jwt(payload), *disclosures)), binding=EXPECT)


def _unsigned_jwt(header: dict[str, Any], payload: dict[str, Any] | None = None) -> str:
    return f"{b64u_json(header)}.{b64u_json(payload or vc_payload())}.c2ln"


def _kb(payload_changes: dict[str, Any], drop: tuple[str, ...] = (), typ: str | None = "kb+jwt") -> Any:
    sd_jwt = sd_jwt_of(JWT, *parse_sd_jwt(SD_JWT).disclosures[:1])
    body = {"iat": NOW, "aud": AUD, "nonce": NONCE, **payload_changes}
    for name in drop:
        body.pop(name)
    return verify(kb_with_payload(sd_jwt, body, typ=typ))


def _leaf_dropped_after_kb() -> Any:
    parsed = parse_sd_jwt(GOOD)
    kept = [d.encoded for d in parsed.disclosures if d.name != "given_name"]  # a leaf: nothing depends on it
    assert len(kept) == len(parsed.disclosures) - 1
    return verify("~".join([parsed.issuer_jws.token, *kept, parsed.kb_jwt]))


def _without(*names: str) -> dict[str, Any]:
    return {k: v for k, v in vc_payload().items() if k not in names}


def _non_canonical_signature() -> Any:
    head, body, signature = JWT.split(".")
    # The last character of an 86-char (64-byte) signature carries 4 unused bits; setting one keeps
    # the bytes and changes the text, which no signature covers.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet[alphabet.index(signature[-1]) | 1]
    return parse_sd_jwt(f"{head}.{body}.{signature[:-1]}{last}~")


NESTED_CHILD = disclosure("locality", "Köln", salt="bG9jYWxpdHktc2FsdA")
NESTED_PARENT = disclosure("address", {"_sd": [NESTED_CHILD.digest]}, salt="YWRkcmVzcy1zYWx0")

CASES = [
    # --- serialization (RFC 9901 §4) ---
    Case(r.SD_JWT_NOT_COMPACT, "bytes", lambda: parse_sd_jwt(SD_JWT.encode())),
    Case(r.SD_JWT_NOT_COMPACT, "JSON serialization", lambda: parse_sd_jwt({"payload": "x", "signature": "y"})),
    Case(r.SD_JWT_MISSING_SEPARATOR, "bare JWT", lambda: parse_sd_jwt(JWT)),
    Case(r.SD_JWT_EMPTY_DISCLOSURE, "~~", lambda: parse_sd_jwt(f"{JWT}~~")),
    Case(r.ISSUER_JWT_MALFORMED, "two segments", lambda: parse_sd_jwt("eyJhbGciOiJFUzI1NiJ9.e30~")),
    Case(r.ISSUER_JWT_MALFORMED, "payload is an array",
         lambda: parse_sd_jwt(f"{b64u_json({'alg': 'ES256'})}.{b64u_json([1])}.c2ln~")),
    Case(r.ISSUER_JWT_MALFORMED, "non-canonical signature", _non_canonical_signature),
    Case(r.KB_JWT_MALFORMED, "KB-JWT not a JWT", lambda: parse_sd_jwt(f"{SD_JWT}not-a-jwt")),
    Case(r.ALG_NONE, "issuer alg none", lambda: parse_sd_jwt(_unsigned_jwt({"alg": "none"}) + "~")),
    Case(r.ALG_NONE, "KB alg none", lambda: parse_sd_jwt(SD_JWT + _unsigned_jwt({"alg": "none", "typ": "kb+jwt"},
                                                                           {"iat": NOW}))),
    Case(r.UNSUPPORTED_ALG, "HS256", lambda: parse_sd_jwt(_unsigned_jwt({"alg": "HS256"}) + "~")),
    Case(r.ALG_KEY_MISMATCH, "EdDSA JWT, ES256 issuer key",
         lambda: verify(sd_jwt_of(signed_jwt(vc_payload(), key=KEYS["EdDSA"])), binding=None)),
    Case(r.DISCLOSURE_NOT_BASE64URL, "'+' and '/'", lambda: parse_sd_jwt(f"{JWT}~WyJh+/~")),
    Case(r.DISCLOSURE_NOT_BASE64URL, "padding", lambda: parse_sd_jwt(f"{JWT}~WyJhIl0=~")),
    Case(r.DISCLOSURE_NOT_JSON_ARRAY, "an object", lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure({"a": 1})))),
    Case(r.DISCLOSURE_NOT_JSON_ARRAY, "not UTF-8", lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure(b"\xff\xfe[")))),
    Case(r.DISCLOSURE_NOT_JSON_ARRAY, "not JSON", lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure(b"[salt")))),
    Case(r.DISCLOSURE_WRONG_LENGTH, "1 element", lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure(["s"])))),
    Case(r.DISCLOSURE_WRONG_LENGTH, "4 elements",
         lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure(["s", "n", "v", "x"])))),
    Case(r.DISCLOSURE_SALT_NOT_STRING, "numeric salt",
         lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure([1, "n", "v"])))),
    Case(r.DISCLOSURE_SALT_NOT_STRING, "null salt, array element",
         lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure([None, "v"])))),
    Case(r.DISCLOSURE_NAME_NOT_STRING, "numeric name",
         lambda: parse_sd_jwt(sd_jwt_of(JWT, raw_disclosure(["s", 5, "v"])))),
    Case(r.DUPLICATE_DISCLOSURE, "sent twice", lambda: parse_sd_jwt(sd_jwt_of(JWT, GIVEN, GIVEN))),
    # --- Issuer-signed JWT and Disclosures (RFC 9901 §7.1) ---
    Case(r.TYP_MISMATCH, "typ JWT", lambda: verify(sd_jwt_of(signed_jwt(vc_payload(), typ="JWT")), binding=None)),
    Case(r.TYP_MISMATCH, "no typ", lambda: verify(sd_jwt_of(signed_jwt(vc_payload(), typ=None)), binding=None)),
    Case(r.ISSUER_SIGNATURE_INVALID, "another ES256 key", lambda: verify(GOOD, issuer=generate_key("ES256"))),
    Case(r.UNSUPPORTED_SD_ALG, "sha-512", lambda: _verify_sd({**vc_payload(), "_sd_alg": "sha-512"})),
    Case(r.UNSUPPORTED_SD_ALG, "not a string", lambda: _verify_sd({**vc_payload(), "_sd_alg": 256})),
    Case(r.SD_CLAIM_MALFORMED, "_sd is a string", lambda: _verify_sd({**vc_payload(), "_sd": GIVEN.digest}, GIVEN)),
    Case(r.SD_CLAIM_MALFORMED, "_sd holds a number", lambda: _verify_sd({**vc_payload(), "_sd": [1]})),
    Case(r.SD_CLAIM_MALFORMED, "nested _sd_alg",
         lambda: _verify_sd({**vc_payload(), "address": {"_sd_alg": SD_ALG, "locality": "Köln"}})),
    Case(r.SD_CLAIM_MALFORMED, "nested _sd_alg holding an object",
         lambda: _verify_sd({**vc_payload(), "address": {"_sd_alg": {"name": SD_ALG}}})),
    Case(r.SD_CLAIM_MALFORMED, "'...' as a claim", lambda: _verify_sd({**vc_payload(), "x": {"...": GIVEN.digest}})),
    Case(r.SD_CLAIM_MALFORMED, "'...' claim holding an array",
         lambda: _verify_sd({**vc_payload(), "x": {"...": [GIVEN.digest]}})),
    Case(r.SD_CLAIM_MALFORMED, "_sd holding an object", lambda: _verify_sd({**vc_payload(), "_sd": {"a": 1}})),
    Case(r.SD_CLAIM_MALFORMED, "'...' with a sibling key",
         lambda: _verify_sd({**vc_payload(), "nationalities": [{"...": COUNTRY.digest, "x": 1}]}, COUNTRY)),
    Case(r.DISCLOSURE_KIND_MISMATCH, "array element Disclosure in _sd", lambda: _verify_sd(digests_payload(COUNTRY),
                                                                                       COUNTRY)),
    Case(r.DISCLOSURE_KIND_MISMATCH, "property Disclosure in an array",
         lambda: _verify_sd({**vc_payload(), "nationalities": [{"...": GIVEN.digest}]}, GIVEN)),
    Case(r.RESERVED_CLAIM_NAME, "Disclosure named _sd",
         lambda: _verify_sd(digests_payload(d := disclosure("_sd", ["x"])), d)),
    Case(r.RESERVED_CLAIM_NAME, "Disclosure named ...",
         lambda: _verify_sd(digests_payload(d := disclosure("...", "x")), d)),
    Case(r.RESERVED_CLAIM_NAME, "Disclosure named _sd_alg",
         lambda: _verify_sd(digests_payload(d := disclosure("_sd_alg", SD_ALG)), d)),
    Case(r.RESERVED_CLAIM_NAME, "issuer input with _sd", lambda: issue({"a": {"_sd": []}})),
    Case(r.CLAIM_NAME_COLLISION, "disclosed over a clear claim",
         lambda: _verify_sd(digests_payload(GIVEN, given_name="Max"), GIVEN)),
    Case(r.CLAIM_NAME_COLLISION, "issuer input in payload and claims",
         lambda: issue({"given_name": "x"}, payload=vc_payload(given_name="y"))),
    Case(r.DUPLICATE_DIGEST, "twice in one _sd",
         lambda: _verify_sd({**vc_payload(), "_sd": [GIVEN.digest, GIVEN.digest]}, GIVEN)),
    Case(r.DUPLICATE_DIGEST, "in the payload and inside a Disclosure",
         lambda: _verify_sd(digests_payload(NESTED_PARENT, NESTED_CHILD), NESTED_PARENT, NESTED_CHILD)),
    Case(r.DUPLICATE_DIGEST, "undisclosed digest repeated in an array",
         lambda: _verify_sd({**vc_payload(), "nationalities": [{"...": COUNTRY.digest}, {"...": COUNTRY.digest}]})),
    Case(r.DISCLOSURE_NOT_REFERENCED, "unrelated Disclosure", lambda: _verify_sd(vc_payload(), GIVEN)),
    Case(r.DISCLOSURE_NOT_REFERENCED, "child without its parent",
         lambda: _verify_sd(digests_payload(NESTED_PARENT), NESTED_CHILD)),
    Case(r.DISCLOSURE_NOT_REFERENCED, "a Disclosure changed by one byte",
         lambda: _verify_sd(digests_payload(GIVEN), disclosure("given_name", "Erikb", salt=GIVEN.salt))),
    Case(r.TIME_CLAIM_INVALID, "exp a string", lambda: _verify_sd(vc_payload(exp="2030-01-01"))),
    Case(r.TIME_CLAIM_INVALID, "issuer input iat a string",
         lambda: issue(payload=vc_payload(iat="2025-01-01T00:00:00Z"))),
    Case(r.CREDENTIAL_EXPIRED, "exp an hour ago", lambda: _verify_sd(vc_payload(exp=NOW - 3600))),
    Case(r.CREDENTIAL_NOT_YET_VALID, "nbf in an hour", lambda: _verify_sd(vc_payload(nbf=NOW + 3600))),
    # --- SD-JWT VC profile ---
    Case(r.VCT_MISSING, "no vct", lambda: _verify_sd(_without("vct"))),
    Case(r.VCT_MISSING, "issuer input without vct",
         lambda: issue(payload=_without("vct"))),
    Case(r.ISS_MISSING, "no iss, no x5c", lambda: _verify_sd(_without("iss"))),
    Case(r.NON_DISCLOSABLE_CLAIM, "exp in a Disclosure",
         lambda: _verify_sd({**_without("exp"), "_sd": [(d := disclosure("exp", NOW + 60)).digest]}, d)),
    Case(r.NON_DISCLOSABLE_CLAIM, "issuer input with status in claims",
         lambda: issue({"status": {"status_list": {"idx": 1, "uri": "https://x"}}}, payload=_without("status"))),
    # --- Key Binding (RFC 9901 §4.3, §7.3) ---
    Case(r.KB_JWT_MISSING, "required, none sent", lambda: verify(presentation(ISSUED, [("given_name",)],
                                                                            holder=None))),
    Case(r.UNEXPECTED_KB_JWT, "presenting an SD-JWT+KB", lambda: present(GOOD, [], holder_key=None, aud=None,
                                                                        nonce=None)),
    Case(r.CNF_MISSING, "no cnf", lambda: verify(presentation(issue(holder=None), [("given_name",)]))),
    Case(r.CNF_UNSUPPORTED, "cnf by kid", lambda: _verify_sd(vc_payload(cnf={"kid": "holder-key-1"}))),
    Case(r.CNF_JWK_INVALID, "RSA cnf.jwk", lambda: _verify_sd(vc_payload(cnf={"jwk": {"kty": "RSA", "n": "AQAB",
                                                                                      "e": "AQAB"}}))),
    Case(r.CNF_JWK_INVALID, "issuer input with a point off the curve",
         lambda: issue(payload=vc_payload(cnf={"jwk": {"kty": "EC", "crv": "P-256", "x": "A" * 43, "y": "A" * 43}}))),
    Case(r.KB_TYP_INVALID, "typ JWT", lambda: _kb({}, typ="JWT")),
    Case(r.KB_TYP_INVALID, "no typ", lambda: _kb({}, typ=None)),
    Case(r.KB_SIGNATURE_INVALID, "signed by another key",
         lambda: verify(with_kb(sd_jwt_of(JWT), holder=generate_key("ES256")))),
    Case(r.KB_CLAIM_MISSING, "no nonce", lambda: _kb({}, drop=("nonce",))),
    Case(r.KB_CLAIM_MISSING, "no sd_hash", lambda: _kb({"sd_hash": None})),
    Case(r.KB_CLAIM_MISSING, "iat a string", lambda: _kb({"iat": str(NOW)})),
    Case(r.KB_CLAIM_MISSING, "holder asked for a KB-JWT without nonce",
         lambda: key_binding_jwt(SD_JWT, HOLDER, aud=AUD, nonce=None)),
    Case(r.KB_IAT_OUT_OF_WINDOW, "an hour old", lambda: _kb({"iat": NOW - 3600})),
    Case(r.KB_IAT_OUT_OF_WINDOW, "an hour ahead", lambda: _kb({"iat": NOW + 3600})),
    Case(r.KB_AUD_MISMATCH, "another verifier", lambda: _kb({"aud": "https://other.example"})),
    Case(r.KB_AUD_MISMATCH, "a list without us", lambda: _kb({"aud": ["https://other.example"]})),
    Case(r.KB_NONCE_MISMATCH, "another transaction", lambda: _kb({"nonce": "replayed"})),
    Case(r.KB_SD_HASH_MISMATCH, "wrong hash", lambda: _kb({"sd_hash": "x" * 43})),
    Case(r.KB_SD_HASH_MISMATCH, "a Disclosure removed after signing", _leaf_dropped_after_kb),
    # --- Holder input ---
    Case(r.UNKNOWN_CLAIM_PATH, "no such claim", lambda: presentation(ISSUED, [("nickname",)])),
    Case(r.UNKNOWN_CLAIM_PATH, "index past the end", lambda: presentation(ISSUED, [("nationalities", 5)])),
    Case(r.UNKNOWN_CLAIM_PATH, "empty path", lambda: presentation(ISSUED, [()])),
]


def test_every_reason_has_a_dedicated_case() -> None:
    assert {case.reason for case in CASES} == set(REASONS)


def test_every_reason_is_documented_with_its_clause() -> None:
    for reason, doc in REASONS.items():
        assert doc.rstrip(").").strip() and ("RFC" in doc or "SD-JWT VC" in doc), reason
        assert "§" in doc, reason


@pytest.mark.parametrize("case", CASES, ids=[f"{c.reason}: {c.name}" for c in CASES])
def test_reason(case: Case) -> None:
    assert reason_of(case.action) == case.reason


# --- controls: the untouched material verifies, so each case above fails for its one defect ---------


def test_control_hand_signed_credential_with_kb_verifies() -> None:
    verified = _verify_sd(digests_payload(GIVEN), GIVEN)
    assert verified.claims["given_name"] == "Erika" and verified.kb_payload["aud"] == AUD


def test_control_recursive_disclosures_verify() -> None:
    verified = _verify_sd(digests_payload(NESTED_PARENT), NESTED_PARENT, NESTED_CHILD)
    assert verified.claims["address"] == {"locality": "Köln"}


def test_control_array_digest_verifies() -> None:
    verified = _verify_sd({**vc_payload(), "nationalities": [{"...": COUNTRY.digest}, "FR"]}, COUNTRY)
    assert verified.claims["nationalities"] == ["DE", "FR"]


def test_control_kb_with_handmade_payload_verifies() -> None:
    verified = _kb({})
    assert verified.kb_payload["nonce"] == NONCE


def test_control_good_presentation_and_time_edges() -> None:
    assert verify(GOOD).claims["address"] == {"locality": "Köln"}
    # Within the leeway (60 s) on both sides, and at the edge of max_age.
    assert _verify_sd(vc_payload(exp=NOW - 59)).claims["exp"] == NOW - 59
    assert _verify_sd(vc_payload(nbf=NOW + 59)).claims["nbf"] == NOW + 59
    assert _kb({"iat": NOW - EXPECT.max_age}).kb_payload["iat"] == NOW - EXPECT.max_age
    assert _kb({"iat": NOW + 60}).kb_payload["iat"] == NOW + 60
    assert _kb({"aud": ["https://other.example", AUD]}).kb_payload["aud"][1] == AUD


def test_without_key_binding_policy_a_kb_jwt_is_not_checked() -> None:
    # RFC 9901 §7.3 step 1 / §9.5: the policy decides, not the presence of a KB-JWT.
    stale = presentation(ISSUED, [("given_name",)], iat=NOW - 86400)
    assert verify(stale, binding=None).kb_payload is None
    assert reason_of(lambda: verify(stale)) == r.KB_IAT_OUT_OF_WINDOW


def test_error_fields_point_at_the_offending_member() -> None:
    with pytest.raises(SdJwtError) as caught:
        _kb({"nonce": "replayed"})
    assert caught.value.field == "kb_jwt.payload.nonce"
    with pytest.raises(SdJwtError) as caught:
        _verify_sd(digests_payload(GIVEN, given_name="Max"), GIVEN)
    assert caught.value.field == "payload._sd"
    with pytest.raises(SdJwtError) as caught:
        verify(GOOD, issuer=generate_key("ES256"))
    assert caught.value.field == "issuer_jwt.signature"

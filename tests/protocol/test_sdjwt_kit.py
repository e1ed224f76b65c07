"""Shared material for the SD-JWT tests (test_sdjwt_*.py): keys, a realistic PID credential, a
signer for hand-crafted (malformed) Issuer-signed JWTs, and `reason_of`.

Hand-crafted JWTs are signed for real with the same keys, so a test that breaks one rule breaks
only that rule: the signature still verifies, and the expected reason is the only one possible.
The tests at the bottom check the kit itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key, sign_jws
from conformance.protocol.sdjwt import (
    VC_TYP,
    Disclosure,
    IssuedSdJwt,
    KbExpectations,
    VerifiedSdJwt,
    issue_sd_jwt_vc,
    key_binding_jwt,
    make_disclosure,
    present,
    verify_sd_jwt,
)
from conformance.protocol.sdjwt.disclosure import SD_ALG, sha256_b64u

NOW = 1_760_000_000
AUD = "https://verifier.example.org"
NONCE = "n-0S6_WzA2Mj"
EXPECT = KbExpectations(aud=AUD, nonce=NONCE)
VCT = "urn:eudi:pid:de:1"

KEYS: dict[str, PrivateKey] = {alg: generate_key(alg) for alg in ("ES256", "EdDSA")}
HOLDER_KEYS: dict[str, PrivateKey] = {alg: generate_key(alg) for alg in ("ES256", "EdDSA")}
ISSUER, HOLDER = KEYS["ES256"], HOLDER_KEYS["ES256"]

PID_CLAIMS: dict[str, Any] = {
    "given_name": "Erika",
    "family_name": "Mustermann",
    "birthdate": "1963-08-12",
    "address": {"street_address": "Heidestraße 17", "locality": "Köln", "postal_code": "51147",
                "country": "DE"},
    "nationalities": ["DE", "FR"],
    "age_equal_or_over": {"18": True, "21": True, "65": False},
}


def vc_payload(holder: PrivateKey | None = HOLDER, **extra: Any) -> dict[str, Any]:
    """The always-visible part of an SD-JWT VC (SD-JWT VC §3.2.2.2)."""
    payload: dict[str, Any] = {"iss": "https://issuer.example.com", "vct": VCT, "iat": NOW - 60,
                               "exp": NOW + 365 * 86400,
                               "status": {"status_list": {"idx": 7, "uri": "https://issuer.example.com/sl/1"}}}
    if holder is not None:
        payload["cnf"] = {"jwk": holder.public.to_jwk()}
    payload.update(extra)
    return payload


def issue(claims: Mapping[str, Any] | None = None, *, issuer: PrivateKey = ISSUER,
          holder: PrivateKey | None = HOLDER, payload: Mapping[str, Any] | None = None,
          **options: Any) -> IssuedSdJwt:
    return issue_sd_jwt_vc(issuer_key=issuer, header={"kid": "issuer-key-1"},
                           payload=vc_payload(holder) if payload is None else payload,
                           claims=PID_CLAIMS if claims is None else claims, **options)


def presentation(issued: IssuedSdJwt | str, disclose: list[tuple], *, holder: PrivateKey | None = HOLDER,
                 iat: int = NOW, aud: str = AUD, nonce: str = NONCE) -> str:
    serialized = issued if isinstance(issued, str) else issued.serialize()
    return present(serialized, disclose, holder_key=holder, aud=aud, nonce=nonce, iat=iat)


def verify(serialized: str, *, issuer: PrivateKey = ISSUER, binding: KbExpectations | None = EXPECT,
           now: int = NOW, **options: Any) -> VerifiedSdJwt:
    return verify_sd_jwt(serialized, issuer_key=issuer.public, now=now, holder_binding=binding, **options)


def signed_jwt(payload: Mapping[str, Any], *, key: PrivateKey = ISSUER, typ: str | None = VC_TYP,
               **header: Any) -> str:
    """An Issuer-signed JWT over an arbitrary (possibly rule-breaking) payload."""
    return sign_jws({**header, **({"typ": typ} if typ is not None else {})}, payload, key)


def sd_jwt_of(jwt: str, *disclosures: Disclosure | str) -> str:
    encoded = [d if isinstance(d, str) else d.encoded for d in disclosures]
    return "~".join([jwt, *encoded, ""])


def with_kb(sd_jwt: str, *, holder: PrivateKey = HOLDER, iat: int = NOW, aud: Any = AUD,
            nonce: Any = NONCE) -> str:
    return sd_jwt + key_binding_jwt(sd_jwt, holder, aud=aud, nonce=nonce, iat=iat)


def kb_with_payload(sd_jwt: str, payload: Mapping[str, Any], *, holder: PrivateKey = HOLDER,
                    typ: str | None = "kb+jwt") -> str:
    """A KB-JWT with an arbitrary payload; sd_hash defaults to the right one."""
    body = {"sd_hash": sha256_b64u(sd_jwt), **payload}
    return sd_jwt + sign_jws({"typ": typ} if typ else {}, body, holder)


def digests_payload(*disclosures: Disclosure, **clear: Any) -> dict[str, Any]:
    """A VC payload whose top-level _sd holds the digests of `disclosures`."""
    return {**vc_payload(), "_sd": sorted(d.digest for d in disclosures), "_sd_alg": SD_ALG, **clear}


def disclosure(name: str | None, value: Any, salt: str = "c2FsdC1zYWx0LXNhbHQ") -> Disclosure:
    return make_disclosure(salt, name, value)


def raw_disclosure(array: Any) -> str:
    """A Disclosure string over any JSON (or bytes), for malformed-Disclosure cases."""
    data = array if isinstance(array, bytes) else json.dumps(array).encode()
    return b64u_encode(data)


def reason_of(action: Callable[[], Any]) -> str:
    with pytest.raises(SdJwtError) as caught:
        action()
    return caught.value.reason


# --- the kit itself ---------------------------------------------------------------------------


def test_the_kit_credential_verifies_for_both_algorithms() -> None:
    for alg, issuer in KEYS.items():
        holder = HOLDER_KEYS[alg]
        issued = issue(issuer=issuer, holder=holder)
        verified = verify(presentation(issued, [("given_name",)], holder=holder), issuer=issuer)
        assert verified.header["alg"] == alg and verified.header["typ"] == VC_TYP
        assert verified.claims["given_name"] == "Erika" and "family_name" not in verified.claims
        assert verified.kb_payload is not None and verified.kb_payload["nonce"] == NONCE


def test_reason_of_fails_when_nothing_is_raised() -> None:
    with pytest.raises(pytest.fail.Exception):
        reason_of(lambda: None)

"""Interoperability with an independent implementation: the OpenWallet Foundation `sd-jwt` package
(module `sd_jwt`, the WG's reference implementation; a [test] dependency, with jwcrypto).

- An SD-JWT VC issued and presented (with a KB-JWT) here verifies with `sd_jwt.verifier`, which
  yields the same processed payload as our verifier.
- An SD-JWT VC issued by `sd_jwt.issuer` and presented by `sd_jwt.holder` (with a KB-JWT) verifies
  here, revealing what the OWF holder chose.
The OWF verifier checks KB-JWTs with ES256 only (its default algorithm), so holder keys are P-256
in the first direction; Issuers sign with both ES256 and EdDSA.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.protocol.jose import PrivateKey, private_key_from_jwk, public_key_from_jwk
from conformance.protocol.sdjwt import KbExpectations, disclosable, parse_sd_jwt, verify_sd_jwt
from tests.protocol.test_sdjwt_kit import (
    AUD,
    HOLDER_KEYS,
    KEYS,
    NONCE,
    PID_CLAIMS,
    VCT,
    issue,
    presentation,
    verify,
)

sd_jwt_issuer = pytest.importorskip("sd_jwt.issuer", reason="the OWF sd-jwt package is a [test] dependency")
sd_jwt_holder = pytest.importorskip("sd_jwt.holder", reason="the OWF sd-jwt package is a [test] dependency")
sd_jwt_verifier = pytest.importorskip("sd_jwt.verifier", reason="the OWF sd-jwt package is a [test] dependency")
sd_jwt_common = pytest.importorskip("sd_jwt.common", reason="the OWF sd-jwt package is a [test] dependency")
jwk_module = pytest.importorskip("jwcrypto.jwk", reason="jwcrypto comes with the OWF sd-jwt package")
SDObj = sd_jwt_common.SDObj

NESTED = disclosable([(name,) for name in PID_CLAIMS] + [("address", key) for key in PID_CLAIMS["address"]]
                     + [("nationalities", None), ("age_equal_or_over", "18"), ("age_equal_or_over", "65")])
SHOWN_PATHS = [("given_name",), ("address", "locality"), ("address", "country"), ("nationalities", 1),
               ("age_equal_or_over", "18")]


def _owf_key(key: PrivateKey) -> Any:
    return jwk_module.JWK(**key.to_jwk())


def _owf_verify(serialized: str, issuer: PrivateKey, aud: str | None = AUD, nonce: str | None = NONCE) -> dict:
    public = jwk_module.JWK(**issuer.public.to_jwk())
    verifier = sd_jwt_verifier.SDJWTVerifier(serialized, lambda iss, header: public, aud, nonce)
    return verifier.get_verified_payload()


# --- ours -> OWF -------------------------------------------------------------------------------------


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_our_sd_jwt_vc_with_kb_verifies_with_the_owf_verifier(alg: str) -> None:
    issued = issue(issuer=KEYS[alg], holder=HOLDER_KEYS["ES256"], selective=NESTED, decoys=2, array_decoys=1)
    shown = presentation(issued, SHOWN_PATHS, holder=HOLDER_KEYS["ES256"])
    theirs = _owf_verify(shown, KEYS[alg])  # checks no times, so the kit's fixed clock is fine
    ours = verify(shown, issuer=KEYS[alg])
    assert theirs == ours.claims
    assert theirs["address"] == {"locality": "Köln", "country": "DE"}
    assert theirs["nationalities"] == ["FR"] and theirs["age_equal_or_over"] == {"18": True, "21": True}
    assert "family_name" not in theirs and theirs["vct"] == VCT


def test_our_issuance_with_every_disclosure_matches_the_owf_processing() -> None:
    issued = issue(issuer=KEYS["EdDSA"], selective=NESTED, decoys=1)
    ours = verify(issued.serialize(), issuer=KEYS["EdDSA"], binding=None)
    assert _owf_verify(issued.serialize(), KEYS["EdDSA"], None, None) == ours.claims == {
        **ours.claims, **PID_CLAIMS}


def test_the_owf_verifier_is_not_a_rubber_stamp() -> None:
    # The interop evidence is worth something only if the other side rejects what it should.
    issued = issue(issuer=KEYS["ES256"], holder=HOLDER_KEYS["ES256"], selective=NESTED)
    shown = presentation(issued, SHOWN_PATHS, holder=HOLDER_KEYS["ES256"])
    with pytest.raises(ValueError, match="nonce"):
        _owf_verify(shown, KEYS["ES256"], AUD, "another-nonce")
    with pytest.raises(Exception):  # noqa: B017 - jwcrypto's InvalidJWSSignature
        _owf_verify(shown, KEYS["EdDSA"])


# --- OWF -> ours -------------------------------------------------------------------------------------


def _owf_issue(issuer: PrivateKey, holder: PrivateKey, decoys: bool) -> str:
    user_claims = {
        "iss": "https://issuer.example.com", "vct": VCT, "iat": int(time.time()) - 60,
        "exp": int(time.time()) + 86400,
        SDObj("given_name"): "Erika",
        SDObj("family_name"): "Mustermann",
        "address": {SDObj("locality"): "Köln", SDObj("country"): "DE", "postal_code": "51147"},
        SDObj("nationalities"): [SDObj("DE"), SDObj("FR")],
    }
    issuer_alg = "EdDSA" if issuer.alg == "EdDSA" else "ES256"
    owf = sd_jwt_issuer.SDJWTIssuer(user_claims, _owf_key(issuer), holder_key=_owf_key(holder),
                                    sign_alg=issuer_alg, add_decoy_claims=decoys,
                                    extra_header_parameters={"typ": "dc+sd-jwt"})
    return owf.sd_jwt_issuance


@pytest.mark.parametrize(("issuer_alg", "holder_alg"), [("ES256", "ES256"), ("EdDSA", "ES256"), ("EdDSA", "EdDSA")])
def test_an_owf_presentation_with_kb_verifies_here(issuer_alg: str, holder_alg: str) -> None:
    issuer, holder = KEYS[issuer_alg], HOLDER_KEYS[holder_alg]
    issuance = _owf_issue(issuer, holder, decoys=True)
    owf_holder = sd_jwt_holder.SDJWTHolder(issuance)
    owf_holder.create_presentation({"given_name": True, "address": {"locality": True}, "nationalities": [False, True]},
                                   nonce=NONCE, aud=AUD, holder_key=_owf_key(holder), sign_alg=holder_alg)
    shown = owf_holder.sd_jwt_presentation
    issuer_public = public_key_from_jwk(jwk_module.JWK(**issuer.to_jwk()).export_public(as_dict=True))
    verified = verify_sd_jwt(shown, issuer_key=issuer_public, now=int(time.time()),
                             holder_binding=KbExpectations(aud=AUD, nonce=NONCE))
    claims = verified.claims
    assert claims["given_name"] == "Erika" and "family_name" not in claims
    assert claims["address"] == {"locality": "Köln", "postal_code": "51147"}
    assert claims["nationalities"] == ["FR"]
    assert claims["cnf"]["jwk"] == holder.public.to_jwk()
    assert verified.kb_payload["sd_hash"] and verified.header["typ"] == "dc+sd-jwt"


def test_an_owf_issuance_unpacks_here_to_the_owf_payload() -> None:
    issuance = _owf_issue(KEYS["ES256"], HOLDER_KEYS["ES256"], decoys=True)
    ours = verify_sd_jwt(issuance, issuer_key=KEYS["ES256"].public, now=int(time.time()), holder_binding=None)
    assert ours.claims == _owf_verify(issuance, KEYS["ES256"], None, None)
    assert ours.claims["nationalities"] == ["DE", "FR"]
    assert len(parse_sd_jwt(issuance).disclosures) == 7


def test_owf_keys_round_trip_through_our_jwk_import() -> None:
    for key in (*KEYS.values(), *HOLDER_KEYS.values()):
        exported = _owf_key(key).export_private(as_dict=True)
        assert private_key_from_jwk(exported).public.to_jwk() == key.public.to_jwk()

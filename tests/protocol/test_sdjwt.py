"""SD-JWT VC issuance, presentation and verification, feature by feature (RFC 9901; SD-JWT VC).

Properties (any claims, any subset) are in test_sdjwt_properties.py, reason codes in
test_sdjwt_reasons.py, RFC examples in test_sdjwt_vectors.py, interop in test_sdjwt_interop.py.
"""

from __future__ import annotations

import re
from random import Random

import pytest

from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import b64u_decode, b64u_encode, parse_jws
from conformance.protocol.sdjwt import (
    KB_TYP,
    LEGACY_VC_TYP,
    VC_TYP,
    disclosable,
    issue_sd_jwt_vc,
    parse_sd_jwt,
    present,
    unpack,
)
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.disclosure import SD_ALG, sha256_b64u
from tests.protocol.test_sdjwt_kit import (
    AUD,
    HOLDER,
    HOLDER_KEYS,
    ISSUER,
    KEYS,
    NONCE,
    NOW,
    PID_CLAIMS,
    issue,
    presentation,
    reason_of,
    sd_jwt_of,
    signed_jwt,
    vc_payload,
    verify,
)

FLAT = disclosable([("given_name",), ("family_name",), ("birthdate",)])


def _payload(issued) -> dict:
    return parse_sd_jwt(issued.serialize()).issuer_jws.payload


# --- issuance (RFC 9901 §4.1, §4.2; SD-JWT VC §3.2) ----------------------------------------------------


@pytest.mark.parametrize("alg", sorted(KEYS))
def test_header_is_typed_dc_sd_jwt_and_alg_follows_the_key(alg: str) -> None:
    issued = issue_sd_jwt_vc(issuer_key=KEYS[alg], header={"kid": "k-1", "typ": "JWT"}, payload=vc_payload(),
                             claims={"given_name": "Erika"})
    header = parse_jws(issued.issuer_jwt).header
    assert header == {"kid": "k-1", "typ": VC_TYP, "alg": alg}


def test_vc_envelope_claims_stay_in_the_clear_and_user_claims_are_hidden() -> None:
    payload = _payload(issue())
    for name in ("iss", "vct", "iat", "exp", "cnf", "status"):
        assert payload[name] == vc_payload()[name], name
    assert not set(PID_CLAIMS) & set(payload)
    assert payload["_sd_alg"] == SD_ALG
    assert payload["status"]["status_list"] == {"idx": 7, "uri": "https://issuer.example.com/sl/1"}


def test_default_makes_every_property_and_array_element_disclosable_recursively() -> None:
    issued = issue()
    # given_name, family_name, birthdate, address + its 4, nationalities + its 2, age_equal_or_over + its 3
    assert len(issued.disclosures) == 4 + 4 + 1 + 2 + 1 + 3
    by_name = {d.name: d for d in issued.disclosures if d.name}
    address = by_name["address"].value
    assert set(address) == {"_sd"} and len(address["_sd"]) == 4
    nationalities = by_name["nationalities"].value
    assert all(set(element) == {"..."} for element in nationalities)


def test_selective_paths_choose_structure_flat_structured_or_clear() -> None:
    selective = disclosable([("address", "locality"), ("nationalities", None), ("birthdate",)])
    issued = issue(selective=selective)
    payload = _payload(issued)
    assert payload["address"]["street_address"] == "Heidestraße 17" and "locality" not in payload["address"]
    assert len(payload["address"]["_sd"]) == 1
    assert [set(e) for e in payload["nationalities"]] == [{"..."}, {"..."}]
    assert payload["given_name"] == "Erika" and "birthdate" not in payload
    assert sorted(d.name or d.value for d in issued.disclosures) == ["DE", "FR", "birthdate", "locality"]


def test_no_selective_claims_means_no_sd_and_no_disclosures() -> None:
    # SD-JWT VC §3.2.2.4: without selectively disclosable claims there is no _sd and no Disclosure.
    issued = issue(selective=lambda path: False, decoys=3, array_decoys=2)
    payload = _payload(issued)
    assert issued.disclosures == () and "_sd" not in payload and "_sd_alg" not in payload
    assert issued.serialize().endswith("~") and issued.serialize().count("~") == 1
    assert payload["nationalities"] == ["DE", "FR"]


def test_sd_arrays_are_sorted_and_padded_with_decoys() -> None:
    issued = issue(selective=FLAT, decoys=3)
    digests = _payload(issued)["_sd"]
    assert digests == sorted(digests) and len(digests) == 3 + 3
    real = {d.digest for d in issued.disclosures}
    decoys = [d for d in digests if d not in real]
    assert len(decoys) == 3 and all(len(b64u_decode(d)) == 32 for d in decoys)


def test_array_decoys_pad_arrays_and_vanish_on_verification() -> None:
    issued = issue(selective=disclosable([("nationalities", None)]), array_decoys=2)
    elements = _payload(issued)["nationalities"]
    assert len(elements) == 4 and all(set(e) == {"..."} for e in elements)
    assert _payload(issued)["_sd_alg"] == SD_ALG
    shown = presentation(issued, [("nationalities", 1)])
    assert verify(shown).claims["nationalities"] == ["FR"]
    assert verify(presentation(issued, [])).claims["nationalities"] == []


def test_salts_are_fresh_128_bit_values() -> None:
    salts = [d.salt for d in issue().disclosures + issue().disclosures]
    assert len(set(salts)) == len(salts)
    assert all(len(b64u_decode(salt)) == 16 for salt in salts)  # RFC 9901 §9.3


def test_a_seeded_rng_replays_salts_decoys_and_positions() -> None:
    def run(seed: int):
        return issue(decoys=2, array_decoys=1, rng=Random(seed))
    first, again, other = run(7), run(7), run(8)
    assert [d.encoded for d in first.disclosures] == [d.encoded for d in again.disclosures]
    assert _payload(first) == _payload(again) and _payload(first) != _payload(other)


def test_holder_key_sets_cnf_jwk() -> None:
    issued = issue_sd_jwt_vc(issuer_key=ISSUER, header={}, payload=vc_payload(holder=None),
                             claims={"given_name": "Erika"}, holder_key=HOLDER_KEYS["EdDSA"].public)
    assert _payload(issued)["cnf"] == {"jwk": HOLDER_KEYS["EdDSA"].public.to_jwk()}
    assert reason_of(lambda: issue_sd_jwt_vc(issuer_key=ISSUER, header={}, payload=vc_payload(), claims={},
                                             holder_key=HOLDER.public)) == r.CLAIM_NAME_COLLISION


def test_iat_and_sub_may_be_selectively_disclosable() -> None:
    # SD-JWT VC §3.2.2.2 lists sub and iat among the registered claims that MAY be disclosed.
    payload = {k: v for k, v in vc_payload().items() if k != "iat"}
    issued = issue({"iat": NOW - 5, "sub": "user-42", "given_name": "Erika"}, payload=payload)
    verified = verify(presentation(issued, [("iat",)]))
    assert verified.claims["iat"] == NOW - 5 and "sub" not in verified.claims


def test_disclosable_wildcard_matches_array_indexes_only() -> None:
    selective = disclosable([("a", None), ("b",)])
    assert selective(("a", 0)) and selective(("a", 7)) and selective(("b",))
    assert not selective(("a", "x")) and not selective(("a",)) and not selective(("b", 0))


# --- presentation and KB-JWT (RFC 9901 §4.3, §7.2) -------------------------------------------------------


@pytest.mark.parametrize("alg", sorted(HOLDER_KEYS))
def test_kb_jwt_is_typed_and_binds_the_presented_sd_jwt(alg: str) -> None:
    shown = presentation(issue(holder=HOLDER_KEYS[alg]), [("given_name",)], holder=HOLDER_KEYS[alg])
    parsed = parse_sd_jwt(shown)
    kb = parsed.kb_jws
    assert kb.header == {"typ": KB_TYP, "alg": alg}
    assert kb.payload == {"iat": NOW, "aud": AUD, "nonce": NONCE, "sd_hash": sha256_b64u(parsed.sd_jwt_part)}
    assert parsed.sd_jwt_part == shown[: shown.rindex("~") + 1]


def test_presenting_a_nested_claim_brings_its_parent_and_nothing_else() -> None:
    shown = parse_sd_jwt(presentation(issue(), [("address", "locality")]))
    assert sorted(d.name for d in shown.disclosures) == ["address", "locality"]
    assert verify(shown.serialized).claims["address"] == {"locality": "Köln"}


def test_presenting_a_container_reveals_everything_inside_it() -> None:
    shown = parse_sd_jwt(presentation(issue(), [("address",), ("nationalities",)]))
    assert len(shown.disclosures) == 1 + 4 + 1 + 2
    claims = verify(shown.serialized).claims
    assert claims["address"] == PID_CLAIMS["address"] and claims["nationalities"] == ["DE", "FR"]


def test_presenting_nothing_shows_only_the_clear_claims() -> None:
    shown = presentation(issue(), [])
    assert shown.count("~") == 1
    assert verify(shown).claims == vc_payload()


def test_without_a_holder_key_the_presentation_is_a_plain_sd_jwt() -> None:
    shown = present(issue().serialize(), [("given_name",)], holder_key=None, aud=None, nonce=None)
    assert shown.endswith("~") and parse_sd_jwt(shown).kb_jwt is None


def test_the_holder_sees_every_claim_and_its_paths() -> None:
    parsed = parse_sd_jwt(issue().serialize())
    unpacked = unpack(parsed.issuer_jws.payload, parsed.disclosures)
    assert unpacked.claims == {**vc_payload(), **PID_CLAIMS}
    assert ("address", "locality") in unpacked.revealed and ("nationalities", 1) in unpacked.revealed
    assert unpacked.revealed[("nationalities", 1)].value == "FR"


# --- verification (RFC 9901 §7.1, §7.3; SD-JWT VC §3.4) --------------------------------------------------


def test_verified_result_carries_header_payload_claims_and_paths() -> None:
    shown = presentation(issue(), [("address", "country"), ("nationalities", 1)])
    verified = verify(shown)
    assert verified.header["kid"] == "issuer-key-1" and "_sd" in verified.payload
    assert verified.claims["nationalities"] == ["FR"]  # indexes of the processed, verifier-side array
    assert verified.disclosed_paths == {("address",), ("address", "country"), ("nationalities",),
                                        ("nationalities", 0)}
    assert verified.kb_payload["aud"] == AUD


def test_legacy_typ_is_accepted_only_when_asked_for() -> None:
    # SD-JWT VC §3.2.1: verifiers are RECOMMENDED to accept vc+sd-jwt for a transition period.
    legacy = sd_jwt_of(signed_jwt(vc_payload(), typ=LEGACY_VC_TYP))
    assert verify(legacy, binding=None, expect_typ={VC_TYP, LEGACY_VC_TYP}).header["typ"] == LEGACY_VC_TYP
    assert reason_of(lambda: verify(legacy, binding=None)) == r.TYP_MISMATCH


def test_plain_sd_jwt_without_vc_rules() -> None:
    plain = sd_jwt_of(signed_jwt({"sub": "user_42", "iat": NOW}, typ="example+sd-jwt"))
    verified = verify(plain, binding=None, expect_typ="example+sd-jwt", vc_rules=False)
    assert verified.claims == {"sub": "user_42", "iat": NOW}
    assert reason_of(lambda: verify(plain, binding=None, expect_typ=None)) == r.VCT_MISSING


def test_an_x5c_header_stands_in_for_iss() -> None:
    payload = {k: v for k, v in vc_payload().items() if k != "iss"}
    shown = sd_jwt_of(signed_jwt(payload, x5c=["MIIB"]))
    assert "iss" not in verify(shown, binding=None).claims


def test_verify_accepts_the_serialized_or_the_parsed_form() -> None:
    shown = presentation(issue(), [("given_name",)])
    assert verify(shown).claims == verify(parse_sd_jwt(shown)).claims


def test_error_messages_never_carry_disclosed_values() -> None:
    # Reasons travel into reports; claim values are personal data (only names may be quoted).
    issued = issue(selective=FLAT)
    extra = issue({"secret_claim": "s3cr3t-value"}).disclosures[0]
    tampered = sd_jwt_of(issued.issuer_jwt, *issued.disclosures, extra)
    message = str(pytest.raises(SdJwtError, verify, tampered, binding=None).value)
    assert "secret_claim" in message and "s3cr3t-value" not in message
    assert re.search(r"not referenced", message)


@pytest.mark.parametrize("size", [2, 3, 32, 64])
def test_only_canonical_base64url_signatures_parse(size: int) -> None:
    # The signature segment is covered by no signature, so a second spelling of the same bytes
    # (non-zero unused bits in the last character) is refused as malformed (RFC 7515 §2, RFC 4648 §3.5).
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    head = issue().issuer_jwt.rsplit(".", 1)[0]
    base = b64u_encode(bytes(range(size)))
    for last in alphabet:
        segment = base[:-1] + last
        canonical = b64u_encode(b64u_decode(segment)) == segment
        outcome = None
        try:
            parse_sd_jwt(f"{head}.{segment}~")
        except SdJwtError as exc:
            outcome = exc.reason
        assert outcome == (None if canonical else r.ISSUER_JWT_MALFORMED), (size, last)

"""RFC 9901 worked examples (fixtures/vectors/rfc9901, provenance in its README.md).

- every listed Disclosure: its digest is the RFC's, and rebuilding it from the salt, name and value
  (with the spelling the RFC used) gives the RFC's Disclosure string, hence the RFC's digest;
- every signed example verifies with the Appendix A.5 Issuer key (and the KB-JWTs with the cnf key)
  and processes to the RFC's payload;
- the unsigned §6 payloads process to the RFC's payload with the listed Disclosures;
- our Holder, given the issued examples, selects the RFC's Disclosures for the RFC's presentations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.protocol.jose import public_key_from_jwk
from conformance.protocol.sdjwt import (
    KbExpectations,
    decode_disclosure,
    make_disclosure,
    parse_sd_jwt,
    present,
    unpack,
    verify_sd_jwt,
)
from conformance.protocol.sdjwt.disclosure import sha256_b64u

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "rfc9901"
EXAMPLES = json.loads((VECTORS / "examples.json").read_text(encoding="utf-8"))
DISCLOSURES = json.loads((VECTORS / "disclosures.json").read_text(encoding="utf-8"))["disclosures"]
ISSUER_KEY = public_key_from_jwk(EXAMPLES["issuer_key"])
# Any time inside every example's validity (iat 1683000000, exp 1883000000).
WITHIN_VALIDITY = 1_700_000_000


def _read(name: str) -> str:
    # The files keep the RFC's line wrapping; the serialization itself has no whitespace.
    return re.sub(r"\s", "", (VECTORS / name).read_text(encoding="ascii"))


def _by_digest() -> dict[str, str]:
    return {d["digest"]: d["disclosure"] for d in DISCLOSURES if d["digest"]}


def _id(entry: dict[str, Any]) -> str:
    return f"{entry['section']}-{entry['claim']}"


def test_the_vectors_cite_their_source() -> None:
    readme = (VECTORS / "README.md").read_text(encoding="utf-8")
    assert "RFC 9901" in readme and "Provenance" in readme
    assert EXAMPLES["source"].startswith("RFC 9901")
    for example in EXAMPLES["signed"]:
        assert f"`{example['file']}`" in readme, example["file"]
    assert len(DISCLOSURES) >= 60


@pytest.mark.parametrize("entry", [d for d in DISCLOSURES if d["digest"]], ids=_id)
def test_disclosure_digest_and_contents(entry: dict[str, Any]) -> None:
    decoded = decode_disclosure(entry["disclosure"], entry["claim"])
    assert decoded.digest == entry["digest"] == sha256_b64u(entry["disclosure"])
    contents = [decoded.salt, decoded.value] if decoded.name is None else [decoded.salt, decoded.name, decoded.value]
    assert contents == entry["contents"]


@pytest.mark.parametrize("entry", [d for d in DISCLOSURES if d["digest"]], ids=_id)
def test_salt_name_and_value_reproduce_the_rfc_disclosure(entry: dict[str, Any]) -> None:
    salt, *name, value = entry["contents"]
    # The RFC's examples print JSON with ", " and ": " and, depending on the section, raw UTF-8 or \\u
    # escapes for non-ASCII text; one of the two spellings is the RFC's exact string.
    rebuilt = [make_disclosure(salt, name[0] if name else None, value, separators=(", ", ": "), ensure_ascii=ascii_)
               for ascii_ in (False, True)]
    matching = [d for d in rebuilt if d.encoded == entry["disclosure"]]
    assert matching, f"no JSON spelling of {entry['contents']!r} gives the RFC's Disclosure"
    assert matching[0].digest == entry["digest"]


def test_encoding_variants_are_distinct_disclosures_of_the_same_claim() -> None:
    # §4.2.1: other JSON spellings of ["_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius"] are valid
    # Disclosures of the same claim, but the digest is over the string, so each has its own digest.
    family = [d for d in DISCLOSURES if d["section"] == "4.2.1"]
    assert len(family) == 4
    decoded = [decode_disclosure(d["disclosure"], "variant") for d in family]
    assert {(d.salt, d.name, d.value) for d in decoded} == {("_26bc4LT-ac6q2KI6cBW5es", "family_name", "Möbius")}
    assert len({d.digest for d in decoded}) == 4
    assert decoded[0].digest == "X9yH0Ajrdm1Oij4tWso9UzzKJvPoDxwmuEcO3XAdRC0"


@pytest.mark.parametrize("example", EXAMPLES["signed"], ids=lambda e: e["file"])
def test_signed_example_verifies_and_processes_to_the_rfc_payload(example: dict[str, Any]) -> None:
    parsed = parse_sd_jwt(_read(example["file"]))
    assert len(parsed.disclosures) == example["disclosure_count"]
    kb = example["key_binding"]
    assert (parsed.kb_jwt is not None) == (kb is not None)
    now = kb["iat"] if kb else WITHIN_VALIDITY
    binding = KbExpectations(aud=kb["aud"], nonce=kb["nonce"]) if kb else None
    verified = verify_sd_jwt(parsed, issuer_key=ISSUER_KEY, now=now, holder_binding=binding,
                             expect_typ=example["typ"], vc_rules=example["sd_jwt_vc"])
    assert verified.claims == example["processed_payload"]
    assert verified.header["alg"] == "ES256"
    if kb:
        assert verified.kb_payload["sd_hash"] == example["sd_hash"] == sha256_b64u(parsed.sd_jwt_part)
        assert verified.kb_payload["iat"] == kb["iat"]


@pytest.mark.parametrize("example", EXAMPLES["unsigned"], ids=lambda e: e["section"])
def test_unsigned_section_6_payload_processes_to_the_rfc_payload(example: dict[str, Any]) -> None:
    by_digest = _by_digest()
    disclosures = [decode_disclosure(by_digest[digest], digest) for digest in example["disclosures"]]
    assert unpack(example["payload"], disclosures).claims == example["processed_payload"]


@pytest.mark.parametrize(("issued", "shown", "paths"), [
    ("5.1-issued.txt", "5.2-presentation.txt",
     [("given_name",), ("family_name",), ("address",), ("nationalities", 0)]),
    ("A.3-issued.txt", "A.3-presentation.txt", [("nationalities",), ("age_equal_or_over", "18")]),
])
def test_our_holder_selects_the_rfc_presentation_disclosures(issued: str, shown: str, paths: list[tuple]) -> None:
    rfc = parse_sd_jwt(_read(shown))
    ours = parse_sd_jwt(present(_read(issued), paths, holder_key=None, aud=None, nonce=None))
    assert {d.encoded for d in ours.disclosures} == {d.encoded for d in rfc.disclosures}
    assert ours.issuer_jws.token == rfc.issuer_jws.token and ours.kb_jwt is None


def test_the_a3_presentation_is_reproduced_byte_for_byte() -> None:
    # Same Disclosure order as issued, so the SD-JWT part, and with it sd_hash, is the RFC's.
    rfc = parse_sd_jwt(_read("A.3-presentation.txt"))
    ours = present(_read("A.3-issued.txt"), [("nationalities",), ("age_equal_or_over", "18")],
                   holder_key=None, aud=None, nonce=None)
    assert ours == rfc.sd_jwt_part
    assert sha256_b64u(ours) == "FN5RS6SC87oX9SR-uO0nFvUjDvSLqzhU0i6FbLzl33E"

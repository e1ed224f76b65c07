"""Hypothesis properties of SD-JWT VC issue -> present -> verify (RFC 9901 §4, §7).

- Round trip: for any claims, any choice of selectively disclosable claims (object properties and
  array elements, nested), any decoys and any subset of claims to present, verification with Key
  Binding succeeds and reveals exactly the chosen claims (with their ancestors and everything
  inside them), as an independent model of the presentation predicts.
- Tampering: any single-character change to a Disclosure, to the Issuer-signed JWT or to the KB-JWT
  is rejected, with the reason the kind of change determines.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.protocol.jose import SUPPORTED_ALGS
from conformance.protocol.sdjwt import disclosable, make_disclosure, parse_sd_jwt, unpack
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.issuance import VC_NON_DISCLOSABLE
from tests.protocol.test_sdjwt_kit import (
    HOLDER_KEYS,
    KEYS,
    PID_CLAIMS,
    issue,
    presentation,
    reason_of,
    vc_payload,
    verify,
)

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# 40 examples under the default `ci` profile; the `deep` profile (HYPOTHESIS_PROFILE=deep) raises it.
PROPERTY = settings(max_examples=max(40, settings().max_examples), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

# --- claims, selective choices and presentation choices ------------------------------------------

_RESERVED = {"_sd", "...", "_sd_alg"} | VC_NON_DISCLOSABLE | set(vc_payload())
names = st.text(alphabet="abcxyz_9é", min_size=1, max_size=5).filter(lambda n: n not in _RESERVED)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)), max_leaves=10)
claim_sets = st.dictionaries(names, values, min_size=1, max_size=5)


def all_paths(node: Any, path: tuple = ()) -> list[tuple]:
    children = node.items() if type(node) is dict else enumerate(node) if type(node) is list else ()
    out = []
    for key, child in children:
        out.append((*path, key))
        out.extend(all_paths(child, (*path, key)))
    return out


def related(path: tuple, chosen: list[tuple]) -> bool:
    """On the way to a chosen claim, or inside one."""
    return any(c[: len(path)] == path or path[: len(c)] == c for c in chosen)


def expected_view(node: Any, hidden: set[tuple], chosen: list[tuple], path: tuple = ()) -> Any:
    """The model: a selectively disclosable claim is visible iff it is related to a chosen one; a
    hidden claim takes its subtree with it; hidden array elements close up the array."""
    def visible(child_path: tuple) -> bool:
        return child_path not in hidden or related(child_path, chosen)
    if type(node) is dict:
        return {k: expected_view(v, hidden, chosen, (*path, k)) for k, v in node.items() if visible((*path, k))}
    if type(node) is list:
        return [expected_view(v, hidden, chosen, (*path, i)) for i, v in enumerate(node) if visible((*path, i))]
    return node


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    claims = draw(claim_sets)
    paths = all_paths(claims)
    selective = draw(st.sets(st.sampled_from(paths))) if paths else set()
    chosen = sorted(draw(st.sets(st.sampled_from(paths), max_size=4)) if paths else set(), key=repr)
    return {"claims": claims, "selective": selective, "chosen": chosen, "alg": draw(st.sampled_from(sorted(KEYS))),
            "decoys": draw(st.integers(0, 2)), "array_decoys": draw(st.integers(0, 2))}


@PROPERTY
@given(scenarios())
def test_round_trip_reveals_exactly_the_chosen_claims(s: dict[str, Any]) -> None:
    issuer, holder = KEYS[s["alg"]], HOLDER_KEYS[s["alg"]]
    issued = issue(s["claims"], issuer=issuer, holder=holder, selective=disclosable(s["selective"]),
                   decoys=s["decoys"], array_decoys=s["array_decoys"])
    assert len(issued.disclosures) == len(s["selective"])
    # The Holder, with every Disclosure, gets the claims back exactly.
    parsed = parse_sd_jwt(issued.serialize())
    assert unpack(parsed.issuer_jws.payload, parsed.disclosures).claims == {**vc_payload(holder), **s["claims"]}

    shown = presentation(issued, s["chosen"], holder=holder)
    verified = verify(shown, issuer=issuer)
    expected = expected_view(s["claims"], s["selective"], s["chosen"])
    assert verified.claims == {**vc_payload(holder), **expected}
    assert len(parse_sd_jwt(shown).disclosures) == sum(related(p, s["chosen"]) for p in s["selective"])
    assert len(verified.disclosed_paths) == len(parse_sd_jwt(shown).disclosures)


# --- tampering -------------------------------------------------------------------------------

NESTED_SELECTIVE = disclosable([(name,) for name in PID_CLAIMS] + [("address", k) for k in PID_CLAIMS["address"]]
                               + [("nationalities", None), ("age_equal_or_over", "18")])
SHOWN = {alg: presentation(issue(issuer=KEYS[alg], holder=HOLDER_KEYS[alg], selective=NESTED_SELECTIVE, decoys=1,
                                 array_decoys=1),
                           [("given_name",), ("address", "locality"), ("nationalities", 1), ("age_equal_or_over",)],
                           holder=HOLDER_KEYS[alg])
         for alg in KEYS}
algs = st.sampled_from(sorted(KEYS))


def replace_char(text: str, index: int, replacement_seed: int) -> str:
    alternatives = B64URL.replace(text[index], "")
    return text[:index] + alternatives[replacement_seed % len(alternatives)] + text[index + 1:]


def b64_json(text: str, utf8: bool = False) -> Any:
    """The standard library's reading of a base64url segment as JSON (ValueError if it is none)."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    return json.loads(raw.decode("utf-8") if utf8 else raw)


def segment_verdict(segment: str, part: int, malformed: str, bad_signature: str) -> str:
    """What a changed header (part 0) or payload (part 1) must cause: not a JSON object -> malformed;
    a header without a supported alg -> alg_none / unsupported_alg; otherwise the signature fails."""
    try:
        value = b64_json(segment)
    except ValueError:  # binascii.Error, UnicodeDecodeError and JSONDecodeError are ValueErrors
        return malformed
    if not isinstance(value, dict):
        return malformed
    if part == 0 and value.get("alg") not in SUPPORTED_ALGS:
        return r.ALG_NONE if value.get("alg") == "none" else r.UNSUPPORTED_ALG
    return bad_signature


def tamper_jwt(shown: str, which: int, part: int, index: int, seed: int) -> tuple[str, int, str]:
    pieces = shown.split("~")
    segments = pieces[which].split(".")
    limit = len(segments[part]) - (1 if part == 2 else 0)  # see test_non_canonical_signature below
    position = index % limit
    segments[part] = replace_char(segments[part], position, seed)
    pieces[which] = ".".join(segments)
    return "~".join(pieces), position, segments[part]


@PROPERTY
@given(algs, st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 63))
def test_any_change_to_the_issuer_jwt_is_rejected(alg: str, part: int, index: int, seed: int) -> None:
    tampered, _, segment = tamper_jwt(SHOWN[alg], 0, part, index, seed)
    expected = r.ISSUER_SIGNATURE_INVALID if part == 2 else segment_verdict(segment, part, r.ISSUER_JWT_MALFORMED,
                                                                           r.ISSUER_SIGNATURE_INVALID)
    assert reason_of(lambda: verify(tampered, issuer=KEYS[alg])) == expected


@PROPERTY
@given(algs, st.integers(0, 2), st.integers(0, 10**6), st.integers(0, 63))
def test_any_change_to_the_kb_jwt_is_rejected(alg: str, part: int, index: int, seed: int) -> None:
    tampered, _, segment = tamper_jwt(SHOWN[alg], -1, part, index, seed)
    expected = r.KB_SIGNATURE_INVALID if part == 2 else segment_verdict(segment, part, r.KB_JWT_MALFORMED,
                                                                       r.KB_SIGNATURE_INVALID)
    assert reason_of(lambda: verify(tampered, issuer=KEYS[alg])) == expected


@PROPERTY
@given(algs, st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 63))
def test_any_change_inside_a_disclosure_salt_is_a_digest_not_found(alg: str, which: int, index: int,
                                                                     seed: int) -> None:
    # One byte of the Disclosure's content changes (a salt character), the JSON stays valid: the
    # digest is no longer in the Issuer-signed JWT (RFC 9901 §7.1 step 5).
    head, *encoded, kb = SHOWN[alg].split("~")
    parsed = parse_sd_jwt(SHOWN[alg])
    target = parsed.disclosures[which % len(parsed.disclosures)]
    salt = replace_char(target.salt, index % len(target.salt), seed)
    changed = make_disclosure(salt, target.name, target.value, ensure_ascii=False)
    encoded[encoded.index(target.encoded)] = changed.encoded
    assert reason_of(lambda: verify("~".join([head, *encoded, kb]), issuer=KEYS[alg])) == r.DISCLOSURE_NOT_REFERENCED


DISCLOSURE_FORMAT = {r.DISCLOSURE_NOT_BASE64URL, r.DISCLOSURE_NOT_JSON_ARRAY, r.DISCLOSURE_WRONG_LENGTH,
                     r.DISCLOSURE_SALT_NOT_STRING, r.DISCLOSURE_NAME_NOT_STRING}


@PROPERTY
@given(algs, st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 63))
def test_any_change_to_a_disclosure_string_is_rejected(alg: str, which: int, index: int, seed: int) -> None:
    # A changed character of the serialized Disclosure: if the result still decodes to a Disclosure,
    # its digest is not in the JWT; otherwise it is reported as malformed (§4.2).
    head, *encoded, kb = SHOWN[alg].split("~")
    position = which % len(encoded)
    encoded[position] = replace_char(encoded[position], index % len(encoded[position]), seed)
    reason = reason_of(lambda: verify("~".join([head, *encoded, kb]), issuer=KEYS[alg]))
    try:
        array = b64_json(encoded[position], utf8=True)  # RFC 9901 §4.2.1: UTF-8 JSON
        well_formed = (type(array) is list and len(array) in (2, 3) and type(array[0]) is str
                       and (len(array) == 2 or type(array[1]) is str))
    except ValueError:
        well_formed = False
    assert reason == r.DISCLOSURE_NOT_REFERENCED if well_formed else reason in DISCLOSURE_FORMAT


@PROPERTY
@given(algs, st.integers(0, 10**6))
def test_dropping_a_disclosure_after_key_binding_breaks_sd_hash(alg: str, which: int) -> None:
    # §9.10: the KB-JWT fixes the set of Disclosures. Removing a leaf (a Disclosure no other presented
    # one depends on) keeps the SD-JWT valid by itself, so only sd_hash can catch it.
    parsed = parse_sd_jwt(SHOWN[alg])
    leaves = [d for d in parsed.disclosures
              if not any(child.digest in json.dumps(d.value) for child in parsed.disclosures)]
    dropped = leaves[which % len(leaves)]
    kept = [d.encoded for d in parsed.disclosures if d is not dropped]
    tampered = "~".join([parsed.issuer_jws.token, *kept, parsed.kb_jwt])
    assert verify(tampered, issuer=KEYS[alg], binding=None).claims  # still a valid SD-JWT
    assert reason_of(lambda: verify(tampered, issuer=KEYS[alg])) == r.KB_SD_HASH_MISMATCH


def test_non_canonical_signature_is_malformed_not_a_bad_signature() -> None:
    # The last character of a 64-byte signature has 4 unused bits: setting one changes no signature
    # byte, so it is not a signature failure but a malformed (non-canonical) encoding.
    for alg, shown in SHOWN.items():
        head, rest = shown.split("~", 1)
        signature = head.rsplit(".", 1)[1]
        last = B64URL[B64URL.index(signature[-1]) | 1]
        tampered = f"{head[:-1]}{last}~{rest}"
        assert reason_of(lambda: verify(tampered, issuer=KEYS[alg])) == r.ISSUER_JWT_MALFORMED, alg

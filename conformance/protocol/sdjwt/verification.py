"""Verifier side (RFC 9901 §7.1, §7.3; SD-JWT VC §3.4): every check, each with its own reason.

Key resolution is the caller's job (it may need network I/O): parse first, read the header
(kid, x5c) and payload (iss), resolve the Issuer's key, then call `verify_sd_jwt`.

The order of the checks is the order of RFC 9901 §7.3 (and §7.1 inside its step 4), so the reason
of a failure is the first rule broken: Key Binding required but absent (§7.3 step 2), Issuer
signature (§7.1 step 2), typ (SD-JWT VC §3.2.1), Disclosures (§7.1 steps 3-5), SD-JWT VC claims
(SD-JWT VC §3.2.2), validity (§7.1 step 6), then the KB-JWT (§7.3 step 5).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import JoseError, SdJwtError
from conformance.protocol.jose import Jws, PublicKey
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.binding import holder_public_key
from conformance.protocol.sdjwt.disclosure import sha256_b64u
from conformance.protocol.sdjwt.issuance import VC_NON_DISCLOSABLE, VC_TYP
from conformance.protocol.sdjwt.presentation import KB_TYP
from conformance.protocol.sdjwt.serialization import SdJwt, from_jose, parse_compact_jwt, parse_sd_jwt
from conformance.protocol.sdjwt.unpack import ClaimPath, unpack


@dataclass(frozen=True)
class KbExpectations:
    """What the Verifier requires of the KB-JWT (§7.3 steps 5.5, 5.6)."""

    aud: str
    nonce: str
    max_age: int = 300  # seconds; iat may also be up to `leeway` seconds in the future


@dataclass(frozen=True)
class VerifiedSdJwt:
    header: dict  # Issuer-signed JWT header, as signed
    payload: dict  # Issuer-signed JWT payload, as signed
    claims: dict  # the processed payload: disclosed claims restored, _sd/_sd_alg/... removed
    disclosed_paths: frozenset[tuple]  # paths (into `claims`) of the claims revealed by Disclosures
    kb_payload: dict | None  # the verified KB-JWT payload, when Key Binding was required


def verify_sd_jwt(sd_jwt: SdJwt | str, *, issuer_key: PublicKey, now: int,
                  holder_binding: KbExpectations | None, expect_typ: str | Collection[str] | None = VC_TYP,
                  leeway: int = 60, vc_rules: bool = True) -> VerifiedSdJwt:
    """Verify a parsed SD-JWT(+KB) against the Issuer's key, at time `now` (seconds since the epoch).

    `holder_binding` is the Verifier's policy, decided beforehand (§7.3 step 1): None means Key
    Binding is neither required nor checked, whatever the Holder sent (§9.5). `expect_typ` may be a
    set of accepted values, e.g. {"dc+sd-jwt", "vc+sd-jwt"} (SD-JWT VC §3.2.1 transition), or None.
    `vc_rules` applies the SD-JWT VC profile (vct, iss, non-disclosable claims); turn it off for
    plain SD-JWTs. `sd_jwt` may be the serialized presentation, parsed here.
    """
    if type(sd_jwt) is str:
        sd_jwt = parse_sd_jwt(sd_jwt)
    if holder_binding is not None and sd_jwt.kb_jwt is None:
        raise SdJwtError(r.KB_JWT_MISSING, "Key Binding is required but the presentation has no KB-JWT "
                         "(it ends in '~')", "kb_jwt")
    issuer_jws = sd_jwt.issuer_jws
    _verify_signature(issuer_jws, issuer_key, "issuer_jwt", r.ISSUER_SIGNATURE_INVALID)
    _check_typ(issuer_jws.header, expect_typ)
    unpacked = unpack(issuer_jws.payload, sd_jwt.disclosures)
    claims = unpacked.claims
    if vc_rules:
        _check_vc_profile(issuer_jws.header, claims, unpacked.revealed)
    _check_validity(claims, now, leeway)
    kb_payload = None
    if holder_binding is not None:
        kb_payload = _verify_key_binding(sd_jwt, claims, holder_binding, now, leeway)
    return VerifiedSdJwt(issuer_jws.header, issuer_jws.payload, claims, frozenset(unpacked.revealed),
                         kb_payload)


def _verify_signature(jws: Jws, key: PublicKey, part: str, bad_signature: str) -> None:
    try:
        jws.verify_with(key)
    except JoseError as exc:
        raise from_jose(exc, part, malformed=bad_signature, bad_signature=bad_signature) from None


def _check_typ(header: Mapping[str, Any], expect: str | Collection[str] | None) -> None:
    if expect is None:
        return
    typ = header.get("typ")
    if typ == expect if isinstance(expect, str) else typ in expect:
        return
    raise SdJwtError(r.TYP_MISMATCH, f"issuer_jwt header typ is {typ!r}, expected {expect!r}",
                     "issuer_jwt.header.typ")


_NON_DISCLOSABLE_PATHS = frozenset((name,) for name in VC_NON_DISCLOSABLE)  # top-level claim paths


def _check_vc_profile(header: Mapping[str, Any], claims: Mapping[str, Any],
                      revealed: Mapping[ClaimPath, Any]) -> None:
    if not _NON_DISCLOSABLE_PATHS.isdisjoint(revealed):  # one C-level pass in the (usual) clean case
        disclosed = sorted(path[0] for path in revealed if path in _NON_DISCLOSABLE_PATHS)
        raise SdJwtError(r.NON_DISCLOSABLE_CLAIM, f"{disclosed} arrived in Disclosures; SD-JWT VC §3.2.2.2 "
                         "requires them in the clear", "disclosures")
    if type(claims.get("vct")) is not str:
        raise SdJwtError(r.VCT_MISSING, "the SD-JWT VC has no string vct claim (SD-JWT VC §3.2.2.1)",
                         "payload.vct")
    if "iss" not in claims and "x5c" not in header:
        raise SdJwtError(r.ISS_MISSING, "the SD-JWT VC names no Issuer: no iss claim and no x5c header "
                         "(SD-JWT VC §3.2.2.2, §3.5)", "payload.iss")


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _check_validity(claims: Mapping[str, Any], now: int, leeway: int) -> None:
    for name in ("exp", "nbf", "iat"):
        if name in claims and not _is_number(claims[name]):
            raise SdJwtError(r.TIME_CLAIM_INVALID, f"{name} must be a NumericDate (JSON number), got "
                             f"{claims[name]!r}", f"payload.{name}")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if exp is not None and now >= exp + leeway:
        raise SdJwtError(r.CREDENTIAL_EXPIRED, f"the credential expired at {exp} (now {now}, leeway "
                         f"{leeway}s)", "payload.exp")
    if nbf is not None and now + leeway < nbf:
        raise SdJwtError(r.CREDENTIAL_NOT_YET_VALID, f"the credential is not valid before {nbf} (now "
                         f"{now}, leeway {leeway}s)", "payload.nbf")


def _verify_key_binding(sd_jwt: SdJwt, claims: Mapping[str, Any], expect: KbExpectations, now: int,
                        leeway: int) -> dict[str, Any]:
    kb = sd_jwt.kb_jws or parse_compact_jwt(sd_jwt.kb_jwt or "", "kb_jwt", r.KB_JWT_MALFORMED)
    _verify_signature(kb, holder_public_key(claims), "kb_jwt", r.KB_SIGNATURE_INVALID)
    if kb.header.get("typ") != KB_TYP:
        raise SdJwtError(r.KB_TYP_INVALID, f"kb_jwt header typ is {kb.header.get('typ')!r}, expected "
                         f"{KB_TYP!r}", "kb_jwt.header.typ")
    payload = kb.payload
    _require_kb_claims(payload)
    iat = payload["iat"]
    if iat > now + leeway or now - iat > expect.max_age:
        when = "in the future" if iat > now else "too old"
        raise SdJwtError(r.KB_IAT_OUT_OF_WINDOW, f"kb_jwt iat {iat} is {when}: the window is [now - "
                         f"{expect.max_age}s, now + {leeway}s] (now {now})", "kb_jwt.payload.iat")
    aud = payload["aud"]
    if aud != expect.aud and not (type(aud) is list and expect.aud in aud):
        raise SdJwtError(r.KB_AUD_MISMATCH, f"kb_jwt aud is {aud!r}, expected {expect.aud!r}",
                         "kb_jwt.payload.aud")
    if payload["nonce"] != expect.nonce:
        raise SdJwtError(r.KB_NONCE_MISMATCH, "kb_jwt nonce does not match this transaction's nonce",
                         "kb_jwt.payload.nonce")
    if payload["sd_hash"] != sha256_b64u(sd_jwt.sd_jwt_part):
        raise SdJwtError(r.KB_SD_HASH_MISMATCH, "kb_jwt sd_hash is not the SHA-256 of the presented "
                         "Issuer-signed JWT and Disclosures", "kb_jwt.payload.sd_hash")
    return payload


def _require_kb_claims(payload: Mapping[str, Any]) -> None:
    if (_is_number(payload.get("iat")) and payload.get("aud") is not None and type(payload.get("nonce")) is str
            and type(payload.get("sd_hash")) is str):
        return
    problems = [name for name, ok in (
        ("iat", _is_number(payload.get("iat"))),
        ("aud", payload.get("aud") is not None),
        ("nonce", type(payload.get("nonce")) is str),
        ("sd_hash", type(payload.get("sd_hash")) is str),
    ) if not ok]
    if problems:
        raise SdJwtError(r.KB_CLAIM_MISSING, f"kb_jwt payload lacks or mistypes {problems} "
                         "(RFC 9901 §4.3: iat number, aud, nonce string, sd_hash string)",
                         f"kb_jwt.payload.{problems[0]}")

"""Holder side (RFC 9901 §7.2, §4.3): choosing Disclosures and binding them with a KB-JWT."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import PrivateKey, sign_jws
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.disclosure import Disclosure, sha256_b64u
from conformance.protocol.sdjwt.serialization import SdJwt, parse_sd_jwt, serialize
from conformance.protocol.sdjwt.unpack import ClaimPath, unpack

KB_TYP = "kb+jwt"


def present(sd_jwt: str | SdJwt, disclose: Iterable[tuple], *, holder_key: PrivateKey | None,
            aud: str | None, nonce: str | None, iat: int | None = None) -> str:
    """Build a presentation revealing exactly the claims at `disclose`, plus what they depend on.

    A path is a tuple of object keys and array indexes into the credential as the Holder sees it
    (all Disclosures applied), e.g. ("address", "locality") or ("nationalities", 0). Revealing a
    claim needs the Disclosures of its parents (§4.2.6) and reveals it whole, with every claim
    inside it, as a claims path pointer selects a whole object or array (OID4VP 1.0 §7.1).
    With `holder_key`, a KB-JWT over the result is appended (§4.3); `iat` defaults to now.
    """
    parsed = sd_jwt if isinstance(sd_jwt, SdJwt) else parse_sd_jwt(sd_jwt)
    if parsed.kb_jwt is not None:
        raise SdJwtError(r.UNEXPECTED_KB_JWT, "the credential already ends in a KB-JWT; an issued SD-JWT "
                         "must end in '~' (RFC 9901 §7.2)", "kb_jwt")
    unpacked = unpack(parsed.issuer_jws.payload, parsed.disclosures)
    paths = [tuple(path) for path in disclose]
    for path in paths:
        _require_claim(unpacked.claims, path)
    needed = disclosures_for(unpacked.revealed, paths)
    presentation = serialize(parsed.issuer_jws.token, tuple(d for d in parsed.disclosures if d in needed))
    if holder_key is None:
        return presentation
    return presentation + key_binding_jwt(presentation, holder_key, aud=aud, nonce=nonce, iat=iat)


def disclosures_for(revealed: Mapping[ClaimPath, Disclosure], paths: Iterable[ClaimPath]) -> set[Disclosure]:
    """The Disclosures of every claim on the way to a path (ancestors) or inside it (descendants)."""
    paths = list(paths)
    return {
        disclosure for claim, disclosure in revealed.items()
        if any(claim[: len(path)] == path or path[: len(claim)] == claim for path in paths)
    }


def key_binding_jwt(sd_jwt_part: str, holder_key: PrivateKey, *, aud: Any, nonce: Any,
                    iat: int | None = None) -> str:
    """Sign a KB-JWT (§4.3) over `sd_jwt_part`, the presentation up to and including its last '~'."""
    if aud is None or type(nonce) is not str:
        raise SdJwtError(r.KB_CLAIM_MISSING, "a KB-JWT needs an aud and a string nonce (RFC 9901 §4.3)")
    payload = {
        "iat": int(time.time()) if iat is None else iat,
        "aud": aud,
        "nonce": nonce,
        "sd_hash": sha256_b64u(sd_jwt_part),
    }
    return sign_jws({"typ": KB_TYP}, payload, holder_key)


def _require_claim(claims: dict[str, Any], path: ClaimPath) -> None:
    node: Any = claims
    for depth, step in enumerate(path):
        if type(node) is dict and type(step) is str and step in node:
            node = node[step]
        elif type(node) is list and type(step) is int and 0 <= step < len(node):
            node = node[step]
        else:
            raise SdJwtError(r.UNKNOWN_CLAIM_PATH, f"claim path {list(path)} does not exist in the "
                             f"credential (no {step!r} at depth {depth})", "disclose")
    if not path:
        raise SdJwtError(r.UNKNOWN_CLAIM_PATH, "an empty claim path names no claim", "disclose")

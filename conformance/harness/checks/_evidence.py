"""Reading artefacts for checks: the issuer JWT, the Issuer's key, request objects, status lists.

Artefact conventions (produced by the dialect operations, see conformance/dialects):
- `credential`: the SD-JWT VC as issued, `<issuer-jwt>~<disclosure>~...~` (str);
- `issuer_jwt`: the Issuer-signed JWT alone (str), when no full credential is at hand;
- `presentation`: an SD-JWT+KB as presented (str);
- `request_object`: the OID4VP Request Object: the compact JWS (str), its payload (dict) or a
  `conformance.protocol.oid4vp.RequestObject`;
- `offer`, `issuer_metadata`, `ledger_object`, `verifier_result`: the JSON objects (dict);
- `holder_key`: the `PublicKey` the harness wallet bound the credential to.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conformance.harness.checks.registry import CheckContext, MissingArtefact
from conformance.protocol.did import parse_did_url
from conformance.protocol.errors import DidError, JoseError, ProtocolError, SdJwtError
from conformance.protocol.jose import Jws, PublicKey, parse_jws
from conformance.protocol.sdjwt import SdJwt, parse_sd_jwt
from conformance.protocol.status_list import StatusList, parse_status_claim, read_status_list_token


class EvidenceError(ProtocolError):
    """The artefact is there but does not hold what the rule needs (e.g. no resolvable key)."""


def credential(ctx: CheckContext, name: str = "credential") -> SdJwt:
    return parse_sd_jwt(ctx.artefact(name))


def issuer_jws(ctx: CheckContext) -> Jws:
    """The Issuer-signed JWT, from `credential` or else `issuer_jwt`."""
    if ctx.has("credential"):
        return credential(ctx).issuer_jws
    if ctx.has("issuer_jwt"):
        return parse_jws(ctx.artefact("issuer_jwt"), "issuer_jwt")
    raise MissingArtefact(f"needs artefact 'credential' or 'issuer_jwt', which {ctx.step.label} did not "
                          f"produce (artefacts: {', '.join(sorted(ctx.result.artefacts or {})) or 'none'})")


def request_claims(value: Any) -> Mapping[str, Any]:
    """The payload of a Request Object given as a JWS, a dict or a parsed RequestObject."""
    if isinstance(value, str):
        return parse_jws(value, "request_object").payload
    if isinstance(value, Mapping):
        return value
    claims = getattr(value, "claims", None)
    if isinstance(claims, Mapping):
        return claims
    raise EvidenceError("request_object_unreadable", f"request_object is a {type(value).__name__}; "
                        "expected a compact JWS, its payload or a RequestObject")


# --- the Issuer's key (SD-JWT VC §3.5: DID URL in kid, or x5c) --------------------------------

async def issuer_key(ctx: CheckContext, jws: Jws, part: str = "issuer_jwt") -> tuple[PublicKey, str]:
    """(key, how it was found) for a JWS signed by an Issuer."""
    header = jws.header
    if "x5c" in header:
        return x5c_key(header["x5c"], part), f"x5c chain of {len(header['x5c'])} certificate(s)"
    kid = header.get("kid")
    if isinstance(kid, str) and kid.startswith("did:"):
        try:
            parse_did_url(kid)
            return await ctx.resolver().key_for(kid), f"verification method {kid}"
        except DidError as exc:
            raise EvidenceError(exc.reason, f"{part}: cannot resolve kid {kid}: {exc.message}",
                                f"{part}.header.kid") from None
    raise EvidenceError("issuer_key_not_resolvable", f"{part} names no key this harness can resolve: "
                        f"header kid is {kid!r} (expected a DID URL) and there is no x5c (SD-JWT VC §3.5)",
                        f"{part}.header")


def _certificate(text: Any, index: int, part: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
    except (TypeError, ValueError, binascii.Error) as exc:
        raise EvidenceError("x5c_invalid", f"{part}.header.x5c[{index}] is not a base64 DER certificate "
                            f"(RFC 7515 §4.1.6): {exc}", f"{part}.header.x5c") from None


def x5c_key(chain: Any, part: str) -> PublicKey:
    """The leaf's key, after checking each certificate is signed by the next (RFC 7515 §4.1.6).

    Anchoring the chain in a trust list is a policy decision outside this check; the chain must
    at least be internally consistent, or x5c proves nothing."""
    if not isinstance(chain, list) or not chain:
        raise EvidenceError("x5c_invalid", f"{part}.header.x5c must be a non-empty array", f"{part}.header.x5c")
    certs = [_certificate(text, i, part) for i, text in enumerate(chain)]
    for i, (child, parent) in enumerate(zip(certs, certs[1:])):
        try:
            child.verify_directly_issued_by(parent)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise EvidenceError("x5c_chain_invalid", f"{part}.header.x5c[{i}] is not issued by x5c[{i + 1}]: "
                                f"{exc or type(exc).__name__}", f"{part}.header.x5c") from None
    return _public_key(certs[0].public_key(), part)


def _public_key(key: Any, part: str) -> PublicKey:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("EdDSA", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey("ES256", key)
    raise EvidenceError("x5c_key_unsupported", f"{part}: the x5c leaf key is a {type(key).__name__}; "
                        "supported: Ed25519, P-256", f"{part}.header.x5c")


def did_of_kid(jws: Jws) -> str | None:
    kid = jws.header.get("kid")
    if isinstance(kid, str) and kid.startswith("did:"):
        return kid.split("#", 1)[0]
    return None


# --- Token Status List (draft-ietf-oauth-status-list §6.2, §8.3) -----------------------------

async def current_status(ctx: CheckContext) -> tuple[int, str, int]:
    """(status value, list uri, idx) of the credential, read from its verified Status List Token."""
    jws = issuer_jws(ctx)
    ref = parse_status_claim(jws.payload)
    if ref is None:
        raise SdJwtError("status_claim_missing", "the credential has no status.status_list claim "
                         "(Token Status List §6.2)", "status")
    uri, idx = ref
    token = await fetch_status_list_token(ctx, uri)
    token_jws = parse_jws(token, "status_list_token")
    key, _ = await issuer_key(ctx, token_jws, "status_list_token")
    signer, issuer = did_of_kid(token_jws), did_of_kid(jws)
    if signer and issuer and signer != issuer:
        raise EvidenceError("status_list_issuer_mismatch", f"the Status List Token is signed by {signer}, "
                            f"the credential by {issuer}", "status_list_token.header.kid")
    status_list: StatusList = read_status_list_token(token, key, expected_sub=uri, now=int(ctx.now()))
    return status_list.get(idx), uri, idx


async def fetch_status_list_token(ctx: CheckContext, uri: str) -> str:
    try:
        response = await ctx.target.http.get(uri, headers={"Accept": "application/statuslist+jwt"})
    except Exception as exc:  # noqa: BLE001 - any transport failure is the same finding
        raise EvidenceError("status_list_unreachable", f"GET {uri}: {type(exc).__name__}: {exc}") from None
    if response.status_code != 200:
        raise EvidenceError("status_list_unreachable", f"GET {uri} answered HTTP {response.status_code}")
    text = response.text.strip()
    if text.count(".") != 2:
        raise JoseError("malformed_jws", f"GET {uri} did not return a Status List Token (a compact JWT)")
    return text

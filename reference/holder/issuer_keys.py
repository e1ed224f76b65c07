"""Finding the key an issuer signed with: an SD-JWT VC's Issuer-signed JWT, or its Status List
Token (SD-JWT VC §3.5; Token Status List §8.3 step 3: the token is signed by the issuer).

Sources, in order (SD-JWT VC §3.5 "Issuer-signed JWT Verification Key Validation"):
- `kid` is a DID URL, or `iss` is a DID: resolve the DID (did:key, did:jwk locally; did:iota
  on the ledger) and take the assertionMethod key;
- `x5c`: the leaf certificate's key. The holder has no trust anchors of its own, so the chain is
  not validated here (the verifier does that); the credential records this as a note;
- `iss` is an https URL: the JWT VC Issuer Metadata at `/.well-known/jwt-vc-issuer` (its `jwks`
  or `jwks_uri`), the key with the header's `kid`.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conformance.protocol.errors import DidError, ProtocolError
from conformance.protocol.jose import PublicKey, public_key_from_jwk
from conformance.protocol.oid4vci import is_http_url, well_known_url
from conformance.resolver import DidResolver
from reference.holder.outbound import ISSUER, Outbound

X5C_UNVERIFIED_NOTE = {
    "code": "x5c_chain_not_validated",
    "message": "the issuer signed with an x5c certificate; the holder checked the signature with the "
               "leaf certificate's key but has no trust anchors to validate the chain (the verifier does)",
}


class IssuerKeyError(ProtocolError):
    """No usable issuer key: reason `issuer_key_unresolved`, or a DID resolution reason."""


def _unresolved(message: str, field: str = "header") -> IssuerKeyError:
    return IssuerKeyError("issuer_key_unresolved", message, field)


class IssuerKeys:
    def __init__(self, resolver: DidResolver, out: Outbound) -> None:
        self.resolver = resolver
        self.out = out

    async def key_for(self, header: Mapping[str, Any], payload: Mapping[str, Any]) -> PublicKey:
        kid, iss = header.get("kid"), payload.get("iss")
        if isinstance(kid, str) and kid.startswith("did:"):
            return await self._did_key(kid)
        if isinstance(iss, str) and iss.startswith("did:"):
            did_url = f"{iss}{kid}" if isinstance(kid, str) and kid.startswith("#") else iss
            return await self._did_key(did_url)
        if "x5c" in header:
            return leaf_key(header["x5c"])
        if isinstance(iss, str) and is_http_url(iss):
            return await self._metadata_key(iss, kid)
        raise _unresolved("the issuer's key cannot be found: no DID kid / iss, no x5c and no https "
                          "iss (SD-JWT VC §3.5)")

    async def _did_key(self, did_url: str) -> PublicKey:
        try:
            return await self.resolver.key_for(did_url, "assertionMethod")
        except DidError as exc:
            if exc.reason in ("resolver_unreachable", "resolver_not_configured"):
                raise
            raise _unresolved(f"issuer key {did_url}: {exc.message}", "header.kid") from None

    async def _metadata_key(self, iss: str, kid: Any) -> PublicKey:
        status, body = await self.out.json(ISSUER, "GET", well_known_url(iss, "jwt-vc-issuer"))
        if status != 200 or not isinstance(body, Mapping) or body.get("issuer") != iss:
            raise _unresolved(f"no JWT VC Issuer Metadata for {iss} (HTTP {status})", "iss")
        jwks = body.get("jwks")
        if jwks is None and isinstance(body.get("jwks_uri"), str):
            status, jwks = await self.out.json(ISSUER, "GET", body["jwks_uri"])
        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        chosen = [k for k in keys or [] if isinstance(k, Mapping) and (kid is None or k.get("kid") == kid)]
        if len(chosen) != 1:
            raise _unresolved(f"the JWT VC Issuer Metadata of {iss} has no single key with kid {kid!r}",
                              "header.kid")
        return public_key_from_jwk(chosen[0], "jwks")


def leaf_key(x5c: Any) -> PublicKey:
    """The public key of the first certificate of an x5c header (RFC 7515 §4.1.6: base64 DER)."""
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        raise _unresolved("x5c must be a non-empty array of base64 DER certificates", "header.x5c")
    try:
        cert = x509.load_der_x509_certificate(base64.b64decode(x5c[0], validate=True))
    except (binascii.Error, ValueError) as exc:
        raise _unresolved(f"x5c[0] is not a base64 DER certificate: {exc}", "header.x5c") from None
    key = cert.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("EdDSA", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey("ES256", key)
    raise _unresolved("x5c[0] holds a key that is neither Ed25519 nor P-256", "header.x5c")

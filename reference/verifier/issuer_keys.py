"""The key an issuer signed with, found and validated (SD-JWT VC §3.5 "Issuer-signed JWT
Verification Key Validation"), for an SD-JWT VC or for its Status List Token.

Sources, first match wins:
- `x5c` header: the chain (RFC 7515 §4.1.6, base64 DER, leaf first) must be valid at `now`, each
  certificate signed by the next, the last one signed by (or equal to) one of the deployment's
  trust anchors, every issuing certificate a CA (RFC 5280 §4.2.1.9). When `iss` is an http(s) URL
  it must be a URI SAN of the leaf or its host a dNSName SAN (SD-JWT VC §3.5).
- `kid` a DID URL, or `iss` a DID: resolved (did:key, did:jwk locally; did:iota on the ledger),
  the key authorised for assertionMethod. A DID URL kid must belong to the `iss` DID.
- `iss` an http(s) URL: the JWT VC Issuer Metadata at `/.well-known/jwt-vc-issuer` (SD-JWT VC §5),
  its `jwks` or `jwks_uri`, the key with the header's `kid`.

Failures are `IssuerKeyError`s with the seed's signature reasons: `issuer_key_not_resolvable`
(no key could be found or trusted) or `signature_payload_mismatch` (a key was found, but it does
not belong to the issuer the payload names).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conformance.protocol.errors import DidError, JoseError, ProtocolError
from conformance.protocol.jose import PublicKey, b64u_encode, public_key_from_jwk
from conformance.protocol.oid4vci import is_http_url, well_known_url
from conformance.resolver import DidResolver

NOT_RESOLVABLE = "issuer_key_not_resolvable"
PAYLOAD_MISMATCH = "signature_payload_mismatch"


class IssuerKeyError(ProtocolError):
    """reason: `issuer_key_not_resolvable` or `signature_payload_mismatch`."""


def _unresolvable(message: str, field: str = "issuer_jwt.header") -> IssuerKeyError:
    return IssuerKeyError(NOT_RESOLVABLE, message, field)


@dataclass(frozen=True)
class IssuerKey:
    key: PublicKey
    source: str          # "x5c" | "did" | "jwt-vc-issuer"
    issuer: str | None   # the DID, or the iss / certificate subject
    # What DCQL trusted_authorities can match (OID4VP 1.0 §6.1.1), e.g. {"aki": {...}}.
    authority_ids: Mapping[str, frozenset[str]] = field(default_factory=dict)


def load_trust_anchors(paths: tuple[str, ...]) -> tuple[x509.Certificate, ...]:
    anchors: list[x509.Certificate] = []
    for path in paths:
        anchors.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
    return tuple(anchors)


class IssuerKeys:
    def __init__(self, resolver: DidResolver, http: httpx.AsyncClient,
                 anchors: tuple[x509.Certificate, ...], timeout: float) -> None:
        self.resolver, self.http, self.anchors, self.timeout = resolver, http, anchors, timeout

    async def for_jwt(self, header: Mapping[str, Any], payload: Mapping[str, Any], now: float) -> IssuerKey:
        kid, iss = header.get("kid"), payload.get("iss")
        if "x5c" in header:
            return self._x5c(header["x5c"], iss, now)
        if isinstance(kid, str) and kid.startswith("did:"):
            if isinstance(iss, str) and kid.split("#", 1)[0] != iss:
                raise IssuerKeyError(PAYLOAD_MISMATCH, f"the JWT is signed with {kid}, a key of another DID "
                                     f"than its iss {iss}", "issuer_jwt.header.kid")
            return await self._did(kid, kid.split("#", 1)[0])
        if isinstance(iss, str) and iss.startswith("did:"):
            return await self._did(f"{iss}{kid}" if isinstance(kid, str) and kid.startswith("#") else iss, iss)
        if isinstance(iss, str) and is_http_url(iss):
            return await self._metadata(iss, kid)
        raise _unresolvable("no way to find the issuer's key: no x5c header, no DID kid or iss, no http(s) "
                            "iss (SD-JWT VC §3.5)")

    # --- DIDs ---------------------------------------------------------------------------------

    async def _did(self, did_url: str, did: str) -> IssuerKey:
        try:
            key = await self.resolver.key_for(did_url, "assertionMethod")
        except DidError as exc:
            raise _unresolvable(f"{did_url}: {exc.message} ({exc.reason})", "issuer_jwt.header.kid") from None
        return IssuerKey(key, "did", did)

    # --- JWT VC Issuer Metadata -----------------------------------------------------------------

    async def _metadata(self, iss: str, kid: Any) -> IssuerKey:
        body = await self._get_json(well_known_url(iss, "jwt-vc-issuer"))
        if not isinstance(body, Mapping) or body.get("issuer") != iss:
            raise _unresolvable(f"the JWT VC Issuer Metadata of {iss} is missing or names another issuer "
                                "(SD-JWT VC §5)", "issuer_jwt.payload.iss")
        jwks = body.get("jwks")
        if jwks is None and isinstance(body.get("jwks_uri"), str):
            jwks = await self._get_json(body["jwks_uri"])
        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        chosen = [k for k in keys or [] if isinstance(k, Mapping) and (kid is None or k.get("kid") == kid)]
        if len(chosen) != 1:
            raise _unresolvable(f"the JWT VC Issuer Metadata of {iss} has no single key with kid {kid!r}",
                                "issuer_jwt.header.kid")
        try:
            return IssuerKey(public_key_from_jwk(chosen[0], "jwks"), "jwt-vc-issuer", iss)
        except JoseError as exc:
            raise _unresolvable(f"the issuer metadata key is unusable: {exc.message}") from None

    async def _get_json(self, url: str) -> Any:
        try:
            response = await self.http.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise _unresolvable(f"GET {url} failed: {type(exc).__name__}") from None
        if response.status_code != 200:
            raise _unresolvable(f"GET {url} answered HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise _unresolvable(f"GET {url} did not answer JSON") from None

    # --- X.509 ----------------------------------------------------------------------------------

    def _x5c(self, x5c: Any, iss: Any, now: float) -> IssuerKey:
        chain = _decode_chain(x5c)
        anchor = self._validate(chain, dt.datetime.fromtimestamp(now, dt.UTC))
        leaf = chain[0]
        if isinstance(iss, str) and not _names_issuer(leaf, iss):
            raise IssuerKeyError(PAYLOAD_MISMATCH, f"iss {iss!r} is neither a URI SAN of the x5c leaf certificate "
                                 "nor does its host match a dNSName SAN (SD-JWT VC §3.5)", "issuer_jwt.payload.iss")
        return IssuerKey(_leaf_key(leaf), "x5c", iss if isinstance(iss, str) else leaf.subject.rfc4514_string(),
                         {"aki": _authority_key_ids(chain, anchor)})

    def _validate(self, chain: list[x509.Certificate], now: dt.datetime) -> x509.Certificate:
        if not self.anchors:
            raise _unresolvable("the credential is signed with an x5c chain but this verifier has no trust "
                                "anchors configured", "issuer_jwt.header.x5c")
        for position, cert in enumerate(chain):
            if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
                raise _unresolvable(f"x5c[{position}] is not valid at this time (valid "
                                    f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})",
                                    "issuer_jwt.header.x5c")
        for position, (child, parent) in enumerate(zip(chain, chain[1:], strict=False)):
            if not _signed_by(child, parent) or not _is_ca(parent):
                raise _unresolvable(f"x5c[{position}] is not issued by x5c[{position + 1}], or that one is not "
                                    "a CA (RFC 5280 §6.1)", "issuer_jwt.header.x5c")
        last = chain[-1]
        for anchor in self.anchors:
            if last == anchor or (_signed_by(last, anchor) and _is_ca(anchor)):
                return anchor
        raise _unresolvable("the x5c chain does not lead to a trust anchor of this verifier",
                            "issuer_jwt.header.x5c")


def _decode_chain(x5c: Any) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise _unresolvable("x5c must be a non-empty array of base64 DER certificates (RFC 7515 §4.1.6)",
                            "issuer_jwt.header.x5c")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (binascii.Error, ValueError) as exc:
        raise _unresolvable(f"x5c holds something that is not a base64 DER certificate: {exc}",
                            "issuer_jwt.header.x5c") from None


def _signed_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _leaf_key(leaf: x509.Certificate) -> PublicKey:
    key = leaf.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("EdDSA", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey("ES256", key)
    raise _unresolvable("the x5c leaf certificate holds neither an Ed25519 nor a P-256 key",
                        "issuer_jwt.header.x5c")


def _names_issuer(leaf: x509.Certificate, iss: str) -> bool:
    if not is_http_url(iss):
        return False
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    host = urlsplit(iss).hostname
    return iss in san.get_values_for_type(x509.UniformResourceIdentifier) or \
        host in san.get_values_for_type(x509.DNSName)


def _authority_key_ids(chain: list[x509.Certificate], anchor: x509.Certificate) -> frozenset[str]:
    """§6.1.1 aki: the AuthorityKeyIdentifier key ids of the chain, base64url. The anchor's own
    SubjectKeyIdentifier is the same identifier a certificate it signed names as its AKI."""
    ids: set[str] = set()
    for cert in chain:
        try:
            key_id = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            continue
        if key_id:
            ids.add(b64u_encode(key_id))
    try:
        ids.add(b64u_encode(anchor.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest))
    except x509.ExtensionNotFound:
        pass
    return frozenset(ids)

"""The key an issuer signed a JWT with, found and validated (SD-JWT VC §3.5 "Issuer-signed JWT
Verification Key Validation"): for an SD-JWT VC's Issuer-signed JWT, or for its Status List Token
(draft-ietf-oauth-status-list §8.3 step 3). One implementation for every role that needs it: the
reference holder checks what it receives with it, the reference verifier its `signature` check.

Sources, first match wins:
- `x5c` header: the chain (RFC 7515 §4.1.6, base64 DER, leaf first) must be valid at `now`, each
  certificate signed by the next and every issuing certificate a CA (RFC 5280 §4.2.1.9, §6.1).
  With trust anchors configured, the last certificate must be signed by (or be) one of them;
  without any, `require_anchor` decides: refuse (a verifier), or accept the leaf key of an
  internally consistent chain and say so with `IssuerKey.anchored = False` (a wallet, which has
  no trust list of its own). When `iss` is an http(s) URL it must be a URI SAN of the leaf or its
  host a dNSName SAN (SD-JWT VC §3.5).
- `kid` a DID URL, or `iss` a DID: resolved (did:key, did:jwk locally; did:iota on the ledger,
  `conformance.resolver`), the key authorised for assertionMethod. A DID URL kid must belong to
  the `iss` DID.
- `iss` an http(s) URL: the JWT VC Issuer Metadata at `/.well-known/jwt-vc-issuer` (SD-JWT VC §5),
  its `jwks` or `jwks_uri`, the key with the header's `kid`.

Failures are `IssuerKeyError`s with the verifier seed's signature reasons: `issuer_key_not_resolvable`
(no key could be found or trusted) or `signature_payload_mismatch` (a key was found, but it does
not belong to the issuer the payload names). `transient` is True when the cause may go away by
itself (the ledger or the issuer's metadata host could not be reached), so a caller can tell
"cannot check now" from "does not check".
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
REASONS = {
    NOT_RESOLVABLE: "no key could be found or trusted for the JWT (SD-JWT VC §3.5)",
    PAYLOAD_MISMATCH: "the key found does not belong to the issuer the payload names (SD-JWT VC §3.5)",
}
# DID resolution reasons that say "not now" rather than "no" (conformance/resolver.py REASONS).
_TRANSIENT_DID_REASONS = frozenset({"resolver_unreachable", "resolver_not_configured"})
KEY_SOURCES = ("x5c", "did", "jwt-vc-issuer")


class IssuerKeyError(ProtocolError):
    """reason: `issuer_key_not_resolvable` or `signature_payload_mismatch`."""

    def __init__(self, reason: str, message: str, field: str | None = None, *,
                 transient: bool = False) -> None:
        super().__init__(reason, message, field)
        self.transient = transient


@dataclass(frozen=True)
class IssuerKey:
    key: PublicKey
    source: str          # one of KEY_SOURCES
    issuer: str | None   # the DID, the iss URL, or the x5c leaf's subject
    # What DCQL trusted_authorities can match (OID4VP 1.0 §6.1.1), e.g. {"aki": {...}}.
    authority_ids: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # x5c only: False when the chain was checked for consistency but not against a trust anchor.
    anchored: bool = True


def load_trust_anchors(paths: tuple[str, ...]) -> tuple[x509.Certificate, ...]:
    anchors: list[x509.Certificate] = []
    for path in paths:
        anchors.extend(x509.load_pem_x509_certificates(Path(path).read_bytes()))
    return tuple(anchors)


class IssuerKeys:
    """`anchors`: trust anchors for x5c chains. `require_anchor`: with no anchors configured,
    refuse x5c (True) or accept a consistent chain's leaf unanchored (False)."""

    def __init__(self, resolver: DidResolver, http: httpx.AsyncClient, *,
                 anchors: tuple[x509.Certificate, ...] = (), require_anchor: bool = True,
                 timeout: float = 10.0) -> None:
        self.resolver, self.http, self.timeout = resolver, http, timeout
        self.anchors, self.require_anchor = anchors, require_anchor

    async def for_jwt(self, header: Mapping[str, Any], payload: Mapping[str, Any], now: float,
                      part: str = "issuer_jwt") -> IssuerKey:
        """The key of the JWT with this `header` / `payload`; `part` names it in errors."""
        kid, iss = header.get("kid"), payload.get("iss")
        if "x5c" in header:
            return self._x5c(header["x5c"], iss, now, part)
        if isinstance(kid, str) and kid.startswith("did:"):
            if isinstance(iss, str) and kid.split("#", 1)[0] != iss:
                raise IssuerKeyError(PAYLOAD_MISMATCH, f"{part} is signed with {kid}, a key of another DID "
                                     f"than its iss {iss}", f"{part}.header.kid")
            return await self._did(kid, kid.split("#", 1)[0], part)
        if isinstance(iss, str) and iss.startswith("did:"):
            did_url = f"{iss}{kid}" if isinstance(kid, str) and kid.startswith("#") else iss
            return await self._did(did_url, iss, part)
        if isinstance(iss, str) and is_http_url(iss):
            return await self._metadata(iss, kid, part)
        raise IssuerKeyError(NOT_RESOLVABLE, f"no way to find the key of {part}: no x5c header, no DID kid "
                             "or iss, no http(s) iss (SD-JWT VC §3.5)", f"{part}.header")

    # --- DIDs ---------------------------------------------------------------------------------

    async def _did(self, did_url: str, did: str, part: str) -> IssuerKey:
        try:
            key = await self.resolver.key_for(did_url, "assertionMethod")
        except DidError as exc:
            raise IssuerKeyError(NOT_RESOLVABLE, f"{did_url}: {exc.message} ({exc.reason})", f"{part}.header.kid",
                                 transient=exc.reason in _TRANSIENT_DID_REASONS) from None
        return IssuerKey(key, "did", did)

    # --- JWT VC Issuer Metadata -----------------------------------------------------------------

    async def _metadata(self, iss: str, kid: Any, part: str) -> IssuerKey:
        body = await self._get_json(well_known_url(iss, "jwt-vc-issuer"), part)
        if not isinstance(body, Mapping) or body.get("issuer") != iss:
            raise IssuerKeyError(NOT_RESOLVABLE, f"the JWT VC Issuer Metadata of {iss} is missing or names "
                                 "another issuer (SD-JWT VC §5)", f"{part}.payload.iss")
        jwks = body.get("jwks")
        if jwks is None and isinstance(body.get("jwks_uri"), str):
            jwks = await self._get_json(body["jwks_uri"], part)
        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        chosen = [k for k in keys or [] if isinstance(k, Mapping) and (kid is None or k.get("kid") == kid)]
        if len(chosen) != 1:
            raise IssuerKeyError(NOT_RESOLVABLE, f"the JWT VC Issuer Metadata of {iss} has no single key "
                                 f"with kid {kid!r}", f"{part}.header.kid")
        try:
            return IssuerKey(public_key_from_jwk(chosen[0], "jwks"), "jwt-vc-issuer", iss)
        except JoseError as exc:
            raise IssuerKeyError(NOT_RESOLVABLE, f"the issuer metadata key is unusable: {exc.message}",
                                 f"{part}.header.kid") from None

    async def _get_json(self, url: str, part: str) -> Any:
        try:
            response = await self.http.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise IssuerKeyError(NOT_RESOLVABLE, f"GET {url} failed: {type(exc).__name__}", f"{part}.payload.iss",
                                 transient=True) from None
        if response.status_code != 200:
            raise IssuerKeyError(NOT_RESOLVABLE, f"GET {url} answered HTTP {response.status_code}",
                                 f"{part}.payload.iss", transient=response.status_code >= 500)
        try:
            return response.json()
        except ValueError:
            raise IssuerKeyError(NOT_RESOLVABLE, f"GET {url} did not answer JSON", f"{part}.payload.iss") from None

    # --- X.509 ----------------------------------------------------------------------------------

    def _x5c(self, x5c: Any, iss: Any, now: float, part: str) -> IssuerKey:
        where = f"{part}.header.x5c"
        chain = decode_chain(x5c, where)
        check_chain(chain, dt.datetime.fromtimestamp(now, dt.UTC), where)
        anchor = self._anchor(chain, where)
        leaf = chain[0]
        if isinstance(iss, str) and not names_issuer(leaf, iss):
            raise IssuerKeyError(PAYLOAD_MISMATCH, f"iss {iss!r} is neither a URI SAN of the x5c leaf certificate "
                                 "nor does its host match a dNSName SAN (SD-JWT VC §3.5)", f"{part}.payload.iss")
        issuer = iss if isinstance(iss, str) else leaf.subject.rfc4514_string()
        return IssuerKey(leaf_key(leaf, where), "x5c", issuer, {"aki": authority_key_ids(chain, anchor)},
                         anchored=anchor is not None)

    def _anchor(self, chain: list[x509.Certificate], where: str) -> x509.Certificate | None:
        if not self.anchors:
            if self.require_anchor:
                raise IssuerKeyError(NOT_RESOLVABLE, "the JWT is signed with an x5c chain but no trust anchors "
                                     "are configured here", where)
            return None
        last = chain[-1]
        for anchor in self.anchors:
            if last == anchor or (_signed_by(last, anchor) and _is_ca(anchor)):
                return anchor
        raise IssuerKeyError(NOT_RESOLVABLE, "the x5c chain does not lead to a configured trust anchor", where)


# --- certificate rules (pure) -----------------------------------------------------------------


def decode_chain(x5c: Any, where: str) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or not all(isinstance(c, str) for c in x5c):
        raise IssuerKeyError(NOT_RESOLVABLE, "x5c must be a non-empty array of base64 DER certificates "
                             "(RFC 7515 §4.1.6)", where)
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (binascii.Error, ValueError) as exc:
        raise IssuerKeyError(NOT_RESOLVABLE, f"x5c holds something that is not a base64 DER certificate: {exc}",
                             where) from None


def check_chain(chain: list[x509.Certificate], now: dt.datetime, where: str) -> None:
    """Every certificate valid at `now`; each one issued by the next, which is a CA."""
    for position, cert in enumerate(chain):
        if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
            raise IssuerKeyError(NOT_RESOLVABLE, f"x5c[{position}] is not valid at this time (valid "
                                 f"{cert.not_valid_before_utc:%Y-%m-%d} to {cert.not_valid_after_utc:%Y-%m-%d})",
                                 where)
    for position, (child, parent) in enumerate(zip(chain, chain[1:], strict=False)):
        if not _signed_by(child, parent) or not _is_ca(parent):
            raise IssuerKeyError(NOT_RESOLVABLE, f"x5c[{position}] is not issued by x5c[{position + 1}], or that "
                                 "one is not a CA (RFC 5280 §6.1)", where)


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


def leaf_key(leaf: x509.Certificate, where: str) -> PublicKey:
    key = leaf.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey("EdDSA", key)
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey("ES256", key)
    raise IssuerKeyError(NOT_RESOLVABLE, "the x5c leaf certificate holds neither an Ed25519 nor a P-256 key",
                         where)


def names_issuer(leaf: x509.Certificate, iss: str) -> bool:
    if not is_http_url(iss):
        return False
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    host = urlsplit(iss).hostname
    return iss in san.get_values_for_type(x509.UniformResourceIdentifier) or \
        host in san.get_values_for_type(x509.DNSName)


def authority_key_ids(chain: list[x509.Certificate], anchor: x509.Certificate | None) -> frozenset[str]:
    """OID4VP 1.0 §6.1.1 `aki`: the AuthorityKeyIdentifier key ids of the chain, base64url. The
    anchor's own SubjectKeyIdentifier is the same identifier a certificate it signed names as its
    AKI. An unanchored chain contributes only what its certificates say."""
    ids: set[str] = set()
    for cert in chain:
        try:
            key_id = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
        except x509.ExtensionNotFound:
            continue
        if key_id:
            ids.add(b64u_encode(key_id))
    if anchor is not None:
        try:
            ids.add(b64u_encode(anchor.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest))
        except x509.ExtensionNotFound:
            pass
    return frozenset(ids)

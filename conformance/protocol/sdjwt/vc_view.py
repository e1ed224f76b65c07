"""A read-only view of an SD-JWT VC as its holder sees it: every Disclosure applied (the holder
has them all), the registered claims that describe the credential, and what DCQL matching needs
to know about it (OID4VP 1.0 §6.4).

Parsing checks the SD-JWT's format and Disclosures (RFC 9901 §4, §7.1 steps 3-5), not its
signature: a holder keeps what it was issued; a verifier judges it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from cryptography import x509

from conformance.protocol.dcql import WalletCredential
from conformance.protocol.jose import b64u_encode
from conformance.protocol.oid4vci import FORMAT_SD_JWT_VC
from conformance.protocol.sdjwt.serialization import SdJwt, parse_sd_jwt
from conformance.protocol.sdjwt.unpack import ClaimPath, unpack


@dataclass(frozen=True)
class SdJwtVcView:
    """`claims` is the processed payload with every Disclosure applied; `revealed` the claim paths
    a Disclosure reveals (the selectively disclosable ones, RFC 9901 §4.2). Build with `parse`;
    subclasses add their own fields after these three (passed on by `parse`)."""

    sd_jwt: SdJwt = field(repr=False)
    claims: Mapping[str, Any] = field(repr=False, compare=False)
    revealed: tuple[ClaimPath, ...] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, serialized: str, *fields: Any, **named: Any) -> Self:
        """Raises SdJwtError when `serialized` is not an SD-JWT whose Disclosures all apply."""
        sd_jwt = parse_sd_jwt(serialized)
        unpacked = unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures)
        return cls(sd_jwt, unpacked.claims, tuple(unpacked.revealed), *fields, **named)

    @property
    def serialized(self) -> str:
        return self.sd_jwt.serialized

    @property
    def issuer_jwt(self) -> str:
        return self.sd_jwt.issuer_jws.token

    @property
    def header(self) -> Mapping[str, Any]:
        return self.sd_jwt.issuer_jws.header

    @property
    def payload(self) -> Mapping[str, Any]:
        return self.sd_jwt.issuer_jws.payload

    @property
    def vct(self) -> str | None:
        vct = self.claims.get("vct")
        return vct if isinstance(vct, str) else None

    @property
    def issuer(self) -> str | None:
        iss = self.claims.get("iss")
        return iss if isinstance(iss, str) else None

    def time(self, name: str) -> float | None:
        """A NumericDate claim ("iat", "nbf", "exp", RFC 7519 §2), None when absent or not a number."""
        value = self.claims.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def authority_key_ids(self) -> frozenset[str]:
        """The AuthorityKeyIdentifiers of the x5c chain, base64url (OID4VP 1.0 §6.1.1 "aki")."""
        return _authority_key_ids(self.header.get("x5c"))

    def dcql_view(self) -> WalletCredential:
        """What DCQL matching sees. Holder binding: the credential has a `cnf` (SD-JWT VC §3.2.2.2);
        `aki` ids: the AuthorityKeyIdentifiers of its x5c chain (OID4VP 1.0 §6.1.1)."""
        akis = self.authority_key_ids
        return WalletCredential(format=FORMAT_SD_JWT_VC, vct=self.vct, claims=self.claims,
                                issuer=self.issuer, cryptographic_holder_binding="cnf" in self.claims,
                                authority_ids={"aki": akis} if akis else None)


def _authority_key_ids(chain: Any) -> frozenset[str]:
    ids: set[str] = set()
    for text in chain if isinstance(chain, list) else ():
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(text, validate=True))
            aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        except (TypeError, ValueError, binascii.Error, x509.ExtensionNotFound):
            continue  # an unreadable certificate names no authority; the verifier judges the chain
        if aki.key_identifier:
            ids.add(b64u_encode(aki.key_identifier))
    return frozenset(ids)

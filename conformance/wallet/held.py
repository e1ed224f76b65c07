"""A credential the harness wallet holds: the SD-JWT VC as issued, its holder key, and what DCQL
matching needs to know about it (OID4VP 1.0 §6.4)."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509

from conformance.protocol.dcql import WalletCredential
from conformance.protocol.jose import PrivateKey, b64u_encode
from conformance.protocol.oid4vci import FORMAT_SD_JWT_VC
from conformance.protocol.sdjwt import SdJwt, parse_sd_jwt, unpack
from conformance.protocol.sdjwt.unpack import ClaimPath


@dataclass(frozen=True)
class HeldCredential:
    """`claims` is the processed payload with every Disclosure applied (the holder has them all);
    `disclosable` the paths a Disclosure reveals. Parse with `HeldCredential.parse`."""

    credential: str
    key: PrivateKey = field(repr=False)
    config_id: str | None
    credential_issuer: str | None
    sd_jwt: SdJwt = field(repr=False, compare=False)
    claims: Mapping[str, Any] = field(repr=False, compare=False)
    disclosable: tuple[ClaimPath, ...] = field(repr=False, compare=False)

    @classmethod
    def parse(cls, credential: str, key: PrivateKey, *, config_id: str | None = None,
              credential_issuer: str | None = None) -> HeldCredential:
        """Raises SdJwtError when `credential` is not an SD-JWT whose Disclosures all apply."""
        sd_jwt = parse_sd_jwt(credential)
        unpacked = unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures)
        return cls(credential, key, config_id, credential_issuer, sd_jwt, unpacked.claims,
                   tuple(unpacked.revealed))

    @property
    def issuer_jwt(self) -> str:
        return self.sd_jwt.issuer_jws.token

    @property
    def vct(self) -> str | None:
        vct = self.claims.get("vct")
        return vct if isinstance(vct, str) else None

    @property
    def issuer(self) -> str | None:
        iss = self.claims.get("iss")
        return iss if isinstance(iss, str) else None

    def dcql_view(self) -> WalletCredential:
        """What DCQL matching sees. Holder binding: the credential has a `cnf` (SD-JWT VC §3.2.2.2);
        `aki` ids: the AuthorityKeyIdentifiers of its x5c chain (OID4VP 1.0 §6.1.1)."""
        akis = _authority_key_ids(self.sd_jwt.issuer_jws.header.get("x5c"))
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

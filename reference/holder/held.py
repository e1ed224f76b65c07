"""A held credential seen from inside the wallet: the SD-JWT VC as issued, with every Disclosure
applied (the holder has them all), and what the wallet needs to know about it.

Claim names for the API: a claim is named by its path with dots ("address.city"); an array
element by its index ("nationalities.0"). Only claims revealed by a Disclosure are selectively
disclosable (RFC 9901 §4.2); the others travel in every presentation anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.protocol.dcql import WalletCredential
from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import PublicKey
from conformance.protocol.sdjwt import SdJwt, holder_public_key, parse_sd_jwt, present, reasons, unpack
from conformance.protocol.sdjwt.unpack import ClaimPath
from conformance.protocol.status_list import parse_status_claim

SD_JWT_VC_FORMAT = "dc+sd-jwt"
# Registered JWT claims that describe the credential rather than the subject.
_ENVELOPE = frozenset({"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status",
                       "sub", "jti"})


def path_name(path: Iterable[str | int]) -> str:
    return ".".join(str(step) for step in path)


def resolve_path_name(claims: Mapping[str, Any], name: str) -> ClaimPath | None:
    """"address.city" -> ("address", "city"), walking the claims: a step is an array index only
    where the claim at that point is an array (so a claim named "2024" stays a name). None when
    the credential has no such claim."""
    node: Any = claims
    path: list[str | int] = []
    for step in name.split("."):
        if isinstance(node, Mapping) and step in node:
            path.append(step)
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            path.append(int(step))
            node = node[int(step)]
        else:
            return None
    return tuple(path)


@dataclass(frozen=True)
class HeldCredential:
    sd_jwt: SdJwt
    claims: Mapping[str, Any] = field(repr=False)
    disclosable: tuple[ClaimPath, ...]

    @classmethod
    def parse(cls, raw: str) -> HeldCredential:
        sd_jwt = parse_sd_jwt(raw)
        if sd_jwt.kb_jwt is not None:
            raise SdJwtError(reasons.UNEXPECTED_KB_JWT, "an issued credential ends in '~', not in a "
                             "KB-JWT (RFC 9901 §4)", "credential")
        unpacked = unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures)
        return cls(sd_jwt, unpacked.claims, tuple(unpacked.revealed))

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
        value = self.claims.get(name)
        return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

    @property
    def status_reference(self) -> tuple[str, int] | None:
        return parse_status_claim(self.payload)

    @property
    def holder_key(self) -> PublicKey:
        return holder_public_key(self.payload)

    @property
    def subject_claims(self) -> dict[str, Any]:
        """The claims about the subject: what a user would call "the credential's claims"."""
        return {k: v for k, v in self.claims.items() if k not in _ENVELOPE}

    def disclosable_names(self) -> list[str]:
        return [path_name(path) for path in self.disclosable]

    def wallet_credential(self) -> WalletCredential:
        """What DCQL matching sees (OID4VP 1.0 §6.4): the claims as the holder holds them."""
        return WalletCredential(format=SD_JWT_VC_FORMAT, vct=self.vct, claims=self.claims,
                                issuer=self.issuer,
                                cryptographic_holder_binding="cnf" in self.payload)

    def disclosed_view(self, paths: Iterable[ClaimPath]) -> dict[str, Any]:
        """The claims a verifier will see when only `paths` are disclosed: the presentation is
        built with the protocol core (without a KB-JWT) and processed as a verifier would."""
        presentation = present(self.sd_jwt, paths, holder_key=None, aud=None, nonce=None)
        return HeldCredential.parse(presentation).claims

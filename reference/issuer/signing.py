"""Who signs an offer's credential, and the signing itself.

Three signing paths (issuer seed, "Two issuer signing paths"):
- `default`: the deployment's did:iota issuer (EdDSA, kid = DID URL of its document on the ledger);
- `did`: an offer-scoped issuer (TCS `issuer_did` + `issuer_private_key`), whose key is held in
  process memory only until the credential is issued;
- `x509`: the X.509 issuer (ES256, `x5c` chain to the test CA), `iss` = Credential Issuer id.

The credential is an SD-JWT VC (SD-JWT VC §3.2): `iss`, `vct`, `iat`, `exp` from the
configuration's lifetime, `cnf.jwk` of the key proof (§3.2.2.2), a Token Status List entry
(`status.status_list`, Token Status List §6.2) and every offered claim selectively disclosable.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.protocol.jose import PrivateKey
from conformance.protocol.oid4vci import oid4vci_error
from conformance.protocol.sdjwt import issue_sd_jwt_vc
from reference.common.errors import ApiError
from reference.issuer.configs import CredentialConfig
from reference.issuer.identity import DefaultIssuer
from reference.issuer.settings import IssuerSettings, Tenant
from reference.issuer.store import OfferRow

SIGNING_KINDS = ("default", "did", "x509")


@dataclass(frozen=True)
class OfferKey:
    """An offer-scoped issuer key: process memory only, until the credential is issued."""

    key: PrivateKey = field(repr=False)
    kid: str


@dataclass(frozen=True)
class SigningPath:
    """The path an offer is signed on, decided when the offer is made."""

    kind: str
    issuer_did: str | None = None
    offer_key: OfferKey | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        assert self.kind in SIGNING_KINDS, self.kind
        assert (self.kind == "did") == (self.offer_key is not None)


@dataclass(frozen=True)
class Signer:
    key: PrivateKey = field(repr=False)
    header: Mapping[str, Any]   # kid or x5c
    iss: str
    did: str | None


@dataclass(frozen=True)
class Holder:
    """Whom the credential is bound to: the key proof's public key (and DID, if it named one)."""

    jwk: Mapping[str, Any]
    did: str | None


@dataclass(frozen=True)
class StatusRef:
    uri: str
    idx: int


class Signers:
    def __init__(self, settings: IssuerSettings, default_issuer: DefaultIssuer) -> None:
        self._settings = settings
        self._default = default_issuer
        self._held: dict[str, OfferKey] = {}

    async def path_for(self, tenant: Tenant) -> SigningPath:
        """The tenant's own path (no per-offer override). The default did:iota issuer registers
        its DID on first use, so this may need the ledger (503 when unreachable)."""
        if tenant.signing == "x509":
            if self._settings.x509 is None:
                raise ApiError(500, "x509_not_configured", "this deployment has no X.509 signer")
            return SigningPath("x509")
        identity = await self._default.identity()
        return SigningPath("default", identity.did)

    def hold(self, offer_id: str, key: OfferKey) -> None:
        self._held[offer_id] = key

    def release(self, offer_id: str) -> None:
        self._held.pop(offer_id, None)

    @property
    def held(self) -> int:
        return len(self._held)

    async def signer(self, offer: OfferRow) -> Signer:
        if offer.signing == "x509":
            x509 = self._settings.x509
            assert x509 is not None
            return Signer(x509.key, {"x5c": list(x509.x5c)}, offer.credential_issuer, None)
        if offer.signing == "did":
            held = self._held.get(offer.offer_id)
            if held is None:
                raise oid4vci_error("credential_request_denied", "the issuer key of this offer was "
                                    "held in memory only and is gone after a restart of the issuer; "
                                    "the issuer must create a new offer", None, "offer_key_lost")
            did = offer.issuer_did or ""
            return Signer(held.key, {"kid": held.kid}, did, did)
        identity = await self._default.identity()
        return Signer(self._default.key, {"kid": identity.kid}, identity.did, identity.did)


def expiry(config: CredentialConfig, now: float) -> float | None:
    return now + config.lifetime if config.lifetime else None


def sign_credential(*, config: CredentialConfig, claims: Mapping[str, Any], holder: Holder,
                    signer: Signer, status: StatusRef, now: float, decoys: int) -> Any:
    payload: dict[str, Any] = {
        "iss": signer.iss, "vct": config.vct, "iat": int(now),
        "cnf": {"jwk": dict(holder.jwk)},
        "status": {"status_list": {"idx": status.idx, "uri": status.uri}},
    }
    ends = expiry(config, now)
    if ends is not None:
        payload["exp"] = int(ends)
    return issue_sd_jwt_vc(issuer_key=signer.key, header=signer.header, payload=payload,
                           claims=claims, decoys=decoys)

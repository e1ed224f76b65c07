"""Knobs of one verifier deployment."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class VerifierSettings:
    """`api_keys` guard the management endpoints (`X-API-Key`); they never appear in a repr.
    `trust_anchors_pem` are paths of PEM files whose certificates anchor x5c issuer chains.
    `bare_did_client_id` makes DID verifiers send the bare DID as client_id, as the seed's
    examples show, instead of OID4VP 1.0's `decentralized_identifier:<did>` (the default)."""

    base_url: str = "http://verifier.local"
    api_keys: frozenset[str] = field(default_factory=frozenset, repr=False)
    ledger_url: str | None = "http://ledger.local"
    trust_anchors_pem: tuple[str, ...] = ()
    # Seconds a KB-JWT's iat may lie in the past (RFC 9901 §7.3 step 5.5).
    iat_max_age: int = 300
    # Clock skew tolerated on exp / nbf / iat (seconds).
    leeway: int = 60
    default_expires_in: int = 300
    max_expires_in: int = 86_400
    bare_did_client_id: bool = False
    # Timeout (seconds) of every outgoing call: DID resolution, status lists, issuer metadata.
    http_timeout: float = 10.0

    def __post_init__(self) -> None:
        if not 0 < self.default_expires_in <= self.max_expires_in:
            raise ValueError("default_expires_in must be positive and at most max_expires_in")
        if self.iat_max_age <= 0 or self.leeway < 0:
            raise ValueError("iat_max_age must be positive and leeway not negative")

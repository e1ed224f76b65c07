"""Knobs of one issuer deployment, and its tenants."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from conformance.paths import FIXTURES
from conformance.protocol.jose import PrivateKey
from reference.issuer.configs import CredentialConfig, load_configurations
from reference.issuer.pki import X509Signer, load_test_signer

TENANTS_FILE = FIXTURES / "issuer" / "tenants.yaml"
SIGNING_PATHS = ("did:iota", "x509")
ANY = "*"
_TENANT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Tenant:
    """Who an API key is. `config_ids` / `issuer_dids` may hold "*" (anything)."""

    id: str
    api_keys: tuple[str, ...] = field(repr=False)
    signing: str = "did:iota"
    config_ids: tuple[str, ...] = (ANY,)
    issuer_dids: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # The id becomes a path segment of the Credential Issuer identifier.
        if not _TENANT_ID.fullmatch(self.id):
            raise ValueError(f"tenant id {self.id!r} must be 1-64 characters of A-Z a-z 0-9 _ -")
        if self.signing not in SIGNING_PATHS:
            raise ValueError(f"tenant {self.id}: signing must be one of {SIGNING_PATHS}")

    @classmethod
    def open(cls, tenant_id: str, api_key: str) -> Tenant:
        """A tenant with full access: what `conformance serve --api-key K` adds."""
        return cls(tenant_id, (api_key,), "did:iota", (ANY,), (ANY,))

    def may_offer(self, config_id: str) -> bool:
        return ANY in self.config_ids or config_id in self.config_ids

    def may_use_did(self, did: str) -> bool:
        return ANY in self.issuer_dids or did in self.issuer_dids


def load_tenants(path: Path = TENANTS_FILE) -> tuple[Tenant, ...]:
    data = yaml.safe_load(path.read_text())
    try:
        return tuple(Tenant(t["id"], tuple(t["api_keys"]), t.get("signing", "did:iota"),
                            tuple(t.get("credential_configurations", [ANY])),
                            tuple(t.get("issuer_dids", []))) for t in data["tenants"])
    except (KeyError, TypeError) as exc:
        raise ValueError(f"{path}: each tenant needs id and api_keys ({exc})") from None


@dataclass(frozen=True)
class IssuerSettings:
    """`default_issuer_key` is the deployment's Ed25519 did:iota key, a secret handed in by
    whoever runs the deployment (None: one is generated in memory per process, so a restart
    registers a new DID). It is never written to the store.

    Times are seconds. `deferred_ttl` bounds how long a deferred transaction (and its access
    token) stays collectable; `deferred_interval` is the `interval` the wallet is told to wait
    between Deferred Credential Requests (OID4VCI 1.0 §8.3). `notarization_timeout` bounds how long a credential may stay PENDING /
    IN_PROGRESS before it is marked FAILED; `webhook_timeout` is the seed's 5 s."""

    base_url: str = "http://issuer.local"
    ledger_url: str | None = "http://ledger.local"
    iota_network: str = "testnet"
    tenants: tuple[Tenant, ...] = field(default_factory=load_tenants, repr=False)
    configurations: Mapping[str, CredentialConfig] = field(default_factory=load_configurations,
                                                           repr=False)
    default_issuer_key: PrivateKey | None = field(default=None, repr=False)
    x509: X509Signer | None = field(default_factory=load_test_signer, repr=False)
    display_name: str = "vc-conformance reference issuer"
    offer_ttl_default: int = 3600
    offer_ttl_max: int = 30 * 24 * 3600
    access_token_ttl: int = 300
    nonce_ttl: int = 300
    proof_max_age: int = 300
    tx_code_attempts: int = 5
    deferred_ttl: int = 24 * 3600
    deferred_interval: int = 5
    status_list_size: int = 4096
    status_list_ttl: int = 300
    decoys: int = 2
    poll_interval: float = 0.5
    notarization_timeout: float = 120.0
    webhook_timeout: float = 5.0
    ledger_timeout: float = 5.0

    def tenant_for_key(self, api_key: str) -> Tenant | None:
        # Constant-time comparison: the time taken must not tell how much of a key was right.
        for tenant in self.tenants:
            if any(hmac.compare_digest(api_key.encode(), k.encode()) for k in tenant.api_keys):
                return tenant
        return None

    def with_api_key(self, api_key: str, tenant_id: str = "default") -> IssuerSettings:
        return replace(self, tenants=(Tenant.open(tenant_id, api_key), *self.tenants))

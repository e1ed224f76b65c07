"""Knobs of the organisation-wallet surface (organisation wallet seed, shared/seeds/003)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reference.orgwallet.definitions import CredentialDefinition, load_definitions


@dataclass(frozen=True)
class OrgWalletSettings:
    """`api_keys`: accepted as `Authorization: ApiKey <key>` (an empty set refuses every call).
    `offer_ttl`: how long a wallet may take to start (fetch the offer, redeem the code); a
    deferred credential then stays collectable for the engine's `deferred_ttl`.
    `tenant`: the engine tenant whose Credential Issuer identifier and signing path are used."""

    base_url: str = "http://orgwallet.local"
    tenant: str = "orgwallet"
    api_keys: frozenset[str] = field(default=frozenset(), repr=False)
    offer_ttl: int = 3600
    definitions: Mapping[str, CredentialDefinition] = field(default_factory=load_definitions,
                                                           repr=False)

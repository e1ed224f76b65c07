"""The holder service: one object composing the pieces the routes call.

Nothing here runs in the background: every outgoing call (issuer, verifier, ledger, status
lists, the notarization wait of receive) happens inside the request that needs it, so `drain()`
has nothing to wait for; it exists so tests and `conformance serve` treat every role alike.
"""

from __future__ import annotations

import httpx

from conformance.issuer_keys import IssuerKeys, load_trust_anchors
from conformance.resolver import DidResolver
from conformance.status_fetch import StatusListFetcher
from reference.common.clock import Clock
from reference.common.store import Store
from reference.holder.accounts import Accounts
from reference.holder.auth import PasswordHasher, TokenIssuer
from reference.holder.credentials import Wallet
from reference.holder.dids import DidService
from reference.holder.notarize import LedgerNotary
from reference.holder.outbound import Outbound
from reference.holder.present import Presenter
from reference.holder.receive import Receiver
from reference.holder.settings import HolderSettings
from reference.holder.status import StatusChecker
from reference.holder.store import HolderStore


class HolderService:
    def __init__(self, settings: HolderSettings, store: Store, clock: Clock,
                 http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.store = HolderStore(store)
        self.clock = clock
        out = Outbound(http, settings.http_timeout)
        resolver = DidResolver(http, settings.ledger_url, timeout=settings.http_timeout)
        self.accounts = Accounts(self.store, clock,
                                 PasswordHasher(settings.scrypt_n, settings.scrypt_r, settings.scrypt_p),
                                 TokenIssuer(settings.signing_key, settings.base_url, settings.token_ttl))
        self.dids = DidService(self.store, clock, out, resolver, settings.ledger_url,
                               settings.iota_network)
        # A wallet has no trust list of its own unless configured: an x5c chain without anchors
        # is accepted on its leaf key, and the credential says so.
        keys = IssuerKeys(resolver, http, anchors=load_trust_anchors(settings.trust_anchors_pem),
                          require_anchor=False, timeout=settings.http_timeout)
        status = StatusChecker(self.store, clock, StatusListFetcher(
            http, keys, timeout=settings.http_timeout, cache_ttl=settings.status_cache_ttl))
        notary = None if settings.ledger_url is None else LedgerNotary(
            http, settings.ledger_url, timeout=settings.http_timeout,
            wait=settings.notarization_wait, poll_interval=settings.notarization_poll_interval)
        self.wallet = Wallet(self.store, clock, status, notary)
        self.receiver = Receiver(self.store, clock, out, keys, self.dids, self.wallet, notary)
        self.presenter = Presenter(clock, out, resolver, self.dids, self.wallet,
                                   settings.request_cache_ttl)

    async def drain(self) -> None:
        """No background work: every outgoing call finishes inside its request."""

"""One ledger deployment: the notary, the DID registry and the fault knobs, wired together.

Reachable in-process as `app.state.ledger` (tests turn knobs and `await ledger.drain()`).
"""

from __future__ import annotations

from reference.common.clock import Clock
from reference.common.store import Store
from reference.ledger.faults import Faults
from reference.ledger.notary import Notary
from reference.ledger.registry import DidRegistry
from reference.ledger.settings import LedgerSettings
from reference.ledger.store import LedgerStore


class LedgerService:
    def __init__(self, settings: LedgerSettings, store: Store, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        ledger_store = LedgerStore(store)
        self.faults = Faults(latency=settings.latency, failure_rate=settings.failure_rate)
        self.notary = Notary(ledger_store, clock, self.faults, settings.seed)
        self.registry = DidRegistry(ledger_store, clock, settings.network)

    @property
    def network(self) -> str:
        return self.settings.network

    async def drain(self) -> None:
        await self.notary.drain()

    async def close(self) -> None:
        """Stop background work; unfinished notarizations resume on the next start."""
        await self.notary.cancel()

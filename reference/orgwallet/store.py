"""The organisation-wallet surface's SQLite schema: one row per credential exchange, linking
the seed's `credentialExchangeId` to the engine's offer and keeping what only this API knows
(issuance mode, URL scheme, definition). The exchange's lifecycle is the engine's offer
(reference.issuer.store), read, never copied. No secret is stored: the userPin lives in the
engine as a keyed digest only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reference.common.store import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS exchanges (
    exchange_id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL UNIQUE,
    definition_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    format TEXT NOT NULL,
    issuance_mode TEXT NOT NULL,      -- InTime | Deferred
    url_scheme TEXT NOT NULL,
    credential_offer TEXT NOT NULL,   -- the deep link handed to the holder
    created_at REAL NOT NULL
);
"""


def open_store(path: str) -> Store:
    return Store(path, SCHEMA)


@dataclass(frozen=True)
class Exchange:
    exchange_id: str
    offer_id: str
    definition_id: str
    config_id: str
    format: str
    issuance_mode: str
    url_scheme: str
    credential_offer: str
    created_at: float


def _exchange(row: Any) -> Exchange | None:
    return Exchange(**dict(row)) if row is not None else None


class OrgWalletStore:
    def __init__(self, store: Store) -> None:
        self.db = store

    def add(self, exchange: Exchange) -> None:
        self.db.execute("INSERT INTO exchanges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", (
            exchange.exchange_id, exchange.offer_id, exchange.definition_id, exchange.config_id,
            exchange.format, exchange.issuance_mode, exchange.url_scheme,
            exchange.credential_offer, exchange.created_at))

    def get(self, exchange_id: str) -> Exchange | None:
        return _exchange(self.db.one("SELECT * FROM exchanges WHERE exchange_id = ?",
                                     (exchange_id,)))

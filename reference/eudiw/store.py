"""The EUDIW surface's SQLite schema: its sessions (one per offer, with the outcome reported)
and the callback outbox. What happened to an offer is the engine's (reference.issuer.store);
this only remembers what was told to the backend, so that a restarted connector neither loses
nor repeats a callback. No secret is stored: tx_code values live in the engine as keyed digests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from reference.common.store import Store, from_json, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    offer_id TEXT PRIMARY KEY,        -- the engine's offer id, which is also the seed's offer_id
    config_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    outcome TEXT,                     -- ISSUED | FAILED | EXPIRED once known
    error_details TEXT,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS callbacks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- delivery order
    offer_id TEXT NOT NULL REFERENCES sessions(offer_id),
    status TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,              -- pending | delivered | abandoned
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at REAL,
    delivered_at REAL,
    UNIQUE (offer_id, status)
);
"""


def open_store(path: str) -> Store:
    return Store(path, SCHEMA)


@dataclass(frozen=True)
class Session:
    offer_id: str
    config_id: str
    created_at: float
    expires_at: float
    outcome: str | None
    error_details: str | None
    finished_at: float | None


@dataclass(frozen=True)
class Callback:
    seq: int
    offer_id: str
    status: str
    payload: dict[str, Any]
    state: str
    attempts: int
    last_attempt_at: float | None
    delivered_at: float | None


def _session(row: Any) -> Session | None:
    return Session(**dict(row)) if row is not None else None


def _callback(row: Any) -> Callback | None:
    if row is None:
        return None
    values = dict(row)
    values["payload"] = from_json(values["payload"])
    return Callback(**values)


class EudiwStore:
    def __init__(self, store: Store) -> None:
        self.db = store

    def add_session(self, offer_id: str, config_id: str, created_at: float,
                    expires_at: float) -> None:
        self.db.execute("INSERT INTO sessions (offer_id, config_id, created_at, expires_at) "
                        "VALUES (?, ?, ?, ?)", (offer_id, config_id, created_at, expires_at))

    def session(self, offer_id: str) -> Session | None:
        return _session(self.db.one("SELECT * FROM sessions WHERE offer_id = ?", (offer_id,)))

    def open_sessions(self) -> list[str]:
        return [r["offer_id"] for r in self.db.all("SELECT offer_id FROM sessions WHERE outcome "
                                                   "IS NULL ORDER BY created_at")]

    def finish(self, offer_id: str, outcome: str, error_details: str | None, now: float) -> bool:
        """Only the first outcome counts: True for the call that set it."""
        cursor = self.db.execute("UPDATE sessions SET outcome = ?, error_details = ?, "
                                 "finished_at = ? WHERE offer_id = ? AND outcome IS NULL",
                                 (outcome, error_details, now, offer_id))
        return cursor.rowcount == 1

    # --- the callback outbox -----------------------------------------------------------------

    def add_callback(self, offer_id: str, status: str, payload: dict[str, Any]) -> None:
        self.db.execute("INSERT OR IGNORE INTO callbacks (offer_id, status, payload, state) "
                        "VALUES (?, ?, ?, 'pending')", (offer_id, status, to_json(payload)))

    def next_pending(self, offer_id: str) -> Callback | None:
        return _callback(self.db.one("SELECT * FROM callbacks WHERE offer_id = ? AND state = "
                                     "'pending' ORDER BY seq LIMIT 1", (offer_id,)))

    def offers_with_pending(self) -> list[str]:
        rows = self.db.all("SELECT DISTINCT offer_id FROM callbacks WHERE state = 'pending'")
        return [r["offer_id"] for r in rows]

    def callbacks(self, offer_id: str) -> list[Callback]:
        rows = self.db.all("SELECT * FROM callbacks WHERE offer_id = ? ORDER BY seq", (offer_id,))
        return [_callback(r) for r in rows]  # type: ignore[misc]

    def attempted(self, seq: int, state: str, now: float) -> None:
        delivered = now if state == "delivered" else None
        self.db.execute("UPDATE callbacks SET attempts = attempts + 1, last_attempt_at = ?, "
                        "state = ?, delivered_at = ? WHERE seq = ?", (now, state, delivered, seq))

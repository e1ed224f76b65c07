"""The ledger's SQLite schema and queries.

Rows are the ledger state: notarization requests, the objects they created, DID documents and
the digests of spent transaction proofs. No key material is stored: DID documents hold public
keys only, and a proof is kept as its SHA-256 digest (for replay refusal), never as text.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from reference.common.store import Store, from_json, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS notarization_requests (
    request_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'processing', 'completed', 'failed')),
    object_id TEXT REFERENCES objects(object_id),
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS notarization_requests_open
    ON notarization_requests(status) WHERE status IN ('queued', 'processing');
CREATE TABLE IF NOT EXISTS objects (
    object_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    method TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dids (
    did TEXT PRIMARY KEY,
    document TEXT NOT NULL,
    version INTEGER NOT NULL,
    deactivated INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS spent_proofs (
    digest TEXT PRIMARY KEY,
    spent_at REAL NOT NULL
);
"""

OPEN_STATUSES = ("queued", "processing")


def open_store(path: str) -> Store:
    return Store(path, SCHEMA)


@dataclass(frozen=True)
class NotarizationRequest:
    request_id: str
    data: str
    status: str
    object_id: str | None
    error: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class LedgerObject:
    object_id: str
    data: str
    method: str
    created_at: float


@dataclass(frozen=True)
class DidRecord:
    did: str
    document: dict[str, Any]
    version: int
    deactivated: bool
    created_at: float
    updated_at: float


def _did_record(row: sqlite3.Row) -> DidRecord:
    return DidRecord(row["did"], from_json(row["document"]), row["version"],
                     bool(row["deactivated"]), row["created_at"], row["updated_at"])


class LedgerStore:
    """Typed queries over the ledger's tables (the Store must carry `SCHEMA`: `open_store`)."""

    def __init__(self, store: Store) -> None:
        self.db = store

    # --- notarization ------------------------------------------------------------------------

    def add_request(self, request: NotarizationRequest) -> None:
        self.db.execute(
            "INSERT INTO notarization_requests VALUES (?, ?, ?, ?, ?, ?, ?)",
            (request.request_id, request.data, request.status, request.object_id, request.error,
             request.created_at, request.updated_at))

    def request(self, request_id: str) -> NotarizationRequest | None:
        row = self.db.one("SELECT * FROM notarization_requests WHERE request_id = ?",
                          (request_id,))
        return NotarizationRequest(**dict(row)) if row else None

    def open_requests(self) -> list[str]:
        rows = self.db.all("SELECT request_id FROM notarization_requests WHERE status IN "
                           "(?, ?) ORDER BY created_at", OPEN_STATUSES)
        return [row["request_id"] for row in rows]

    def set_status(self, request_id: str, status: str, at: float, error: str | None = None) -> None:
        self.db.execute("UPDATE notarization_requests SET status = ?, error = ?, updated_at = ? "
                        "WHERE request_id = ?", (status, error, at, request_id))

    def complete(self, request_id: str, obj: LedgerObject) -> None:
        """Write the object and mark the request completed, atomically: a crash never leaves
        a completed request without its object, nor an object without its request."""
        with self.db.transaction():
            self.db.execute("INSERT INTO objects VALUES (?, ?, ?, ?)",
                            (obj.object_id, obj.data, obj.method, obj.created_at))
            self.db.execute("UPDATE notarization_requests SET status = 'completed', "
                            "object_id = ?, updated_at = ? WHERE request_id = ?",
                            (obj.object_id, obj.created_at, request_id))

    def object(self, object_id: str) -> LedgerObject | None:
        row = self.db.one("SELECT * FROM objects WHERE object_id = ?", (object_id,))
        return LedgerObject(**dict(row)) if row else None

    # --- DIDs --------------------------------------------------------------------------------

    def did(self, did: str) -> DidRecord | None:
        row = self.db.one("SELECT * FROM dids WHERE did = ?", (did,))
        return _did_record(row) if row else None

    def put_did(self, record: DidRecord, proof_digest: str, window: float) -> bool:
        """Insert or replace the DID's row and spend the proof, atomically. False when the
        proof was already spent (a replayed transaction). Spent digests older than `window`
        are dropped: such a proof fails the freshness check anyway."""
        with self.db.transaction():
            self.db.execute("DELETE FROM spent_proofs WHERE spent_at < ?",
                            (record.updated_at - window,))
            try:
                self.db.execute("INSERT INTO spent_proofs VALUES (?, ?)",
                                (proof_digest, record.updated_at))
            except sqlite3.IntegrityError:
                return False
            self.db.execute(
                "INSERT OR REPLACE INTO dids VALUES (?, ?, ?, ?, ?, ?)",
                (record.did, to_json(record.document), record.version, int(record.deactivated),
                 record.created_at, record.updated_at))
        return True

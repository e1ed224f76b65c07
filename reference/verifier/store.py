"""The verifier's SQLite schema and queries: one row per presentation session.

What is stored: the signed Request Object (JAR) as served, its nonce and state, the DCQL query,
the results. What is never stored: `verifier_private_key` (used in memory to sign the JAR, then
dropped - or, for a session offering request_uri_method=post, kept in process memory until the
session ends, see signers.py) and API keys. The one private key kept is `enc_private_jwk`, the ephemeral ECDH-ES key of
a `direct_post.jwt` session: it is the verifier's own key, generated per session, and without it
the encrypted Authorization Response could not be decrypted (OID4VP 1.0 §8.3).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from reference.common.store import Store, from_json, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    request_jwt TEXT NOT NULL,
    nonce TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL UNIQUE,
    dcql_query TEXT NOT NULL,
    response_mode TEXT NOT NULL CHECK (response_mode IN ('direct_post', 'direct_post.jwt')),
    client_metadata TEXT NOT NULL,
    enc_private_jwk TEXT,
    redirect_uri TEXT,
    request_uri_method TEXT CHECK (request_uri_method IN ('get', 'post')),
    status TEXT NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed', 'failed')),
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    fetched_at REAL,
    answered_at REAL,
    verified_at REAL,
    verification_mode TEXT,
    check_results TEXT,
    presentation_metadata TEXT,
    error TEXT
);
"""


# Columns added after the first release of the schema: a file written before gains them (NULL).
_ADDED_COLUMNS = {"sessions": ("request_uri_method",)}


def open_store(path: str) -> Store:
    store = Store(path, SCHEMA)
    for table, columns in _ADDED_COLUMNS.items():
        present = {row["name"] for row in store.all(f"PRAGMA table_info({table})")}
        for column in columns:
            if column not in present:
                store.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    return store


@dataclass(frozen=True)
class Session:
    session_id: str
    client_id: str
    request_jwt: str
    nonce: str
    state: str
    dcql_query: dict[str, Any]
    response_mode: str
    client_metadata: dict[str, Any]
    enc_private_jwk: dict[str, Any] | None
    redirect_uri: str | None
    request_uri_method: str | None  # offered in the Authorization Request (OID4VP 1.0 §5.10), or None
    status: str  # as stored; `expired` is derived from the clock by the service
    created_at: float
    expires_at: float
    fetched_at: float | None
    answered_at: float | None
    verified_at: float | None
    verification_mode: str | None
    check_results: list[dict[str, Any]] | None
    presentation_metadata: dict[str, Any] | None
    error: dict[str, Any] | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Session:
        data = dict(row)
        for name in ("dcql_query", "client_metadata", "enc_private_jwk", "check_results",
                     "presentation_metadata", "error"):
            data[name] = from_json(data[name])
        return cls(**data)


class SessionStore:
    def __init__(self, store: Store) -> None:
        self.db = store

    def add(self, *, session_id: str, client_id: str, request_jwt: str, nonce: str, state: str,
            dcql_query: dict[str, Any], response_mode: str, client_metadata: dict[str, Any],
            enc_private_jwk: dict[str, Any] | None, redirect_uri: str | None, created_at: float,
            expires_at: float, request_uri_method: str | None = None) -> None:
        self.db.execute(
            "INSERT INTO sessions (session_id, client_id, request_jwt, nonce, state, dcql_query,"
            " response_mode, client_metadata, enc_private_jwk, redirect_uri, request_uri_method, status,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (session_id, client_id, request_jwt, nonce, state, to_json(dcql_query), response_mode,
             to_json(client_metadata), None if enc_private_jwk is None else to_json(enc_private_jwk),
             redirect_uri, request_uri_method, created_at, expires_at))

    def get(self, session_id: str) -> Session | None:
        row = self.db.one("SELECT * FROM sessions WHERE session_id = ?", (session_id,))
        return None if row is None else Session.from_row(row)

    def mark_fetched(self, session_id: str, now: float) -> None:
        """pending -> in_progress, the first time the wallet fetches the Request Object."""
        self.db.execute("UPDATE sessions SET status = 'in_progress', fetched_at = ? "
                        "WHERE session_id = ? AND status = 'pending'", (now, session_id))

    def claim_answer(self, session_id: str, now: float) -> bool:
        """Take the one right to answer this session; False when another response got it first
        (a replay, or a concurrent duplicate)."""
        cursor = self.db.execute(
            "UPDATE sessions SET answered_at = ? WHERE session_id = ? AND answered_at IS NULL "
            "AND status IN ('pending', 'in_progress') AND expires_at > ?", (now, session_id, now))
        return cursor.rowcount == 1

    def record_result(self, session_id: str, *, status: str, verified_at: float,
                      verification_mode: str | None, check_results: list[dict[str, Any]],
                      presentation_metadata: dict[str, Any] | None,
                      error: dict[str, Any] | None) -> None:
        self.db.execute(
            "UPDATE sessions SET status = ?, verified_at = ?, verification_mode = ?, check_results = ?,"
            " presentation_metadata = ?, error = ? WHERE session_id = ?",
            (status, verified_at, verification_mode, to_json(check_results),
             None if presentation_metadata is None else to_json(presentation_metadata),
             None if error is None else to_json(error), session_id))

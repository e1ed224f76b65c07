"""The holder's SQLite schema and queries: accounts, DIDs (public part only) and credentials.

What is stored: a password as a salted scrypt hash, a DID with its public JWK and the id of its
verification method, and each received credential (the SD-JWT as issued) with its last known
status and its ledger anchor (notarize.py). What is never stored: private keys, passwords,
access tokens, user PINs.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from reference.common.store import Store, from_json, to_json
from reference.holder.notarize import Anchor

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    uuid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS dids (
    did TEXT PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(uuid),
    method TEXT NOT NULL,
    kid TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    origin TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL
);
CREATE INDEX IF NOT EXISTS dids_owner ON dids(owner);
CREATE TABLE IF NOT EXISTS credentials (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(uuid),
    holder_did TEXT NOT NULL,
    format TEXT NOT NULL,
    vct TEXT,
    issuer TEXT NOT NULL,
    issuer_did TEXT,
    configuration_id TEXT NOT NULL,
    raw_credential TEXT NOT NULL,
    issued_at REAL,
    expires_at REAL,
    status_uri TEXT,
    status_idx INTEGER,
    status_value INTEGER,
    status_checked_at REAL,
    status_error TEXT,
    reference TEXT,
    notes TEXT NOT NULL,
    created_at REAL NOT NULL,
    deleted_at REAL,
    on_chain_status TEXT,
    notarization_request TEXT,
    notarization_error TEXT
);
CREATE INDEX IF NOT EXISTS credentials_owner ON credentials(owner);
"""
# Columns added after the first release of the schema: a file written before gains them (NULL).
_ADDED_COLUMNS = {"credentials": ("on_chain_status", "notarization_request", "notarization_error")}


def open_store(path: str) -> Store:
    store = Store(path, SCHEMA)
    for table, columns in _ADDED_COLUMNS.items():
        present = {row["name"] for row in store.all(f"PRAGMA table_info({table})")}
        for column in columns:
            if column not in present:
                store.execute(f"ALTER TABLE {table} ADD COLUMN {column} TEXT")
    return store


@dataclass(frozen=True)
class UserRow:
    uuid: str
    name: str
    password_hash: str
    created_at: float


@dataclass(frozen=True)
class DidRow:
    did: str
    owner: str
    method: str
    kid: str
    public_jwk: dict[str, Any]
    origin: str
    status: str
    created_at: float

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class CredentialRow:
    id: str
    owner: str
    holder_did: str
    format: str
    vct: str | None
    issuer: str
    issuer_did: str | None
    configuration_id: str
    raw_credential: str
    issued_at: float | None
    expires_at: float | None
    status_uri: str | None
    status_idx: int | None
    status_value: int | None
    status_checked_at: float | None
    status_error: str | None
    reference: dict[str, str] | None     # {"chain", "object_id"} once anchored
    notes: list[dict[str, str]]
    created_at: float
    deleted_at: float | None
    on_chain_status: str | None = None   # None: not notarized (notarize_on_iota false, n/a)
    notarization_request: str | None = None
    notarization_error: str | None = None

    @property
    def anchor(self) -> Anchor | None:
        if self.on_chain_status is None:
            return None
        return Anchor(self.on_chain_status, self.notarization_request,
                      self.reference["object_id"] if self.reference else None, self.notarization_error)


def _user(row: sqlite3.Row | None) -> UserRow | None:
    return None if row is None else UserRow(row["uuid"], row["name"], row["password_hash"],
                                             row["created_at"])


def _did(row: sqlite3.Row) -> DidRow:
    return DidRow(row["did"], row["owner"], row["method"], row["kid"], from_json(row["public_jwk"]),
                  row["origin"], row["status"], row["created_at"])


def _credential(row: sqlite3.Row) -> CredentialRow:
    values = dict(row)
    values["reference"] = from_json(values["reference"])
    values["notes"] = from_json(values["notes"])
    return CredentialRow(**values)


class HolderStore:
    """Typed queries over the holder's tables."""

    def __init__(self, store: Store) -> None:
        self.db = store

    # --- users -------------------------------------------------------------------------------

    def add_user(self, user: UserRow) -> bool:
        """False when the uuid is taken (the caller answers 409)."""
        try:
            self.db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                            (user.uuid, user.name, user.password_hash, user.created_at))
        except sqlite3.IntegrityError:
            return False
        return True

    def user(self, uuid: str) -> UserRow | None:
        return _user(self.db.one("SELECT * FROM users WHERE uuid = ?", (uuid,)))

    # --- DIDs --------------------------------------------------------------------------------

    def did(self, did: str) -> DidRow | None:
        row = self.db.one("SELECT * FROM dids WHERE did = ?", (did,))
        return None if row is None else _did(row)

    def dids_of(self, owner: str) -> list[DidRow]:
        rows = self.db.all("SELECT * FROM dids WHERE owner = ? AND status = 'active' "
                           "ORDER BY created_at, rowid", (owner,))
        return [_did(row) for row in rows]

    def put_did(self, row: DidRow) -> bool:
        """Insert, or take over a locally deleted row (a deleted DID may be imported again).
        False when an active row already holds the DID (the caller answers 409)."""
        with self.db.transaction():
            existing = self.did(row.did)
            if existing is not None and existing.active:
                return False
            self.db.execute("INSERT OR REPLACE INTO dids VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                            (row.did, row.owner, row.method, row.kid, to_json(row.public_jwk),
                             row.origin, row.status, row.created_at))
        return True

    def delete_did(self, did: str, at: float) -> None:
        self.db.execute("UPDATE dids SET status = 'deleted', deleted_at = ? WHERE did = ?",
                        (at, did))

    # --- credentials -------------------------------------------------------------------------

    def add_credential(self, row: CredentialRow) -> None:
        values = {**row.__dict__, "reference": to_json(row.reference) if row.reference else None,
                  "notes": to_json(row.notes)}
        columns = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        self.db.execute(f"INSERT INTO credentials ({columns}) VALUES ({marks})",
                        tuple(values.values()))

    def credential(self, credential_id: str) -> CredentialRow | None:
        row = self.db.one("SELECT * FROM credentials WHERE id = ?", (credential_id,))
        return None if row is None else _credential(row)

    def credentials_of(self, owner: str) -> list[CredentialRow]:
        rows = self.db.all("SELECT * FROM credentials WHERE owner = ? AND deleted_at IS NULL "
                           "ORDER BY created_at, rowid", (owner,))
        return [_credential(row) for row in rows]

    def delete_credential(self, credential_id: str, at: float) -> None:
        self.db.execute("UPDATE credentials SET deleted_at = ? WHERE id = ?", (at, credential_id))

    def record_status(self, credential_id: str, value: int, checked_at: float) -> None:
        self.db.execute("UPDATE credentials SET status_value = ?, status_checked_at = ?, "
                        "status_error = NULL WHERE id = ?", (value, checked_at, credential_id))

    def record_status_error(self, credential_id: str, error: str) -> None:
        self.db.execute("UPDATE credentials SET status_error = ? WHERE id = ?",
                        (error, credential_id))

    def record_anchor(self, credential_id: str, anchor: Anchor) -> None:
        reference = anchor.reference
        self.db.execute("UPDATE credentials SET on_chain_status = ?, notarization_request = ?, "
                        "notarization_error = ?, reference = ? WHERE id = ?",
                        (anchor.on_chain_status, anchor.request_id, anchor.error,
                         None if reference is None else to_json(reference), credential_id))

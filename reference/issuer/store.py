"""The issuer's SQLite schema and queries.

Secrets never land here: pre-authorized codes, tx_codes and access tokens are stored as SHA-256
digests (a leaked file does not let anyone redeem them), and no private key is stored at all -
an offer-scoped `issuer_private_key` lives in process memory only (service.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Any

from reference.common.store import Store, from_json, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS offers (
    offer_id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    config_id TEXT NOT NULL,
    claims TEXT NOT NULL,
    credential_issuer TEXT NOT NULL,
    signing TEXT NOT NULL,            -- default | did | x509
    issuer_did TEXT,
    holder_did TEXT,
    notarize INTEGER NOT NULL,
    callback_url TEXT,
    code_hash TEXT NOT NULL UNIQUE,
    tx_code TEXT,                     -- the tx_code object of the offer (JSON), never the value
    tx_code_hash TEXT,
    tx_attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    code_used_at REAL,
    issued_at REAL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    token_hash TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL REFERENCES offers(offer_id),
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS nonces (
    nonce TEXT PRIMARY KEY,
    expires_at REAL NOT NULL,
    used_at REAL
);
CREATE TABLE IF NOT EXISTS credentials (
    credential_id TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL REFERENCES offers(offer_id),
    tenant TEXT NOT NULL,
    issuer_did TEXT,
    holder_did TEXT,
    vct TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,             -- ACTIVE | REVOKED | SUSPENDED (EXPIRED is computed)
    notarize INTEGER NOT NULL,
    on_chain_status TEXT,             -- PENDING | IN_PROGRESS | COMPLETED | FAILED, NULL off-chain
    object_id TEXT,
    request_id TEXT,
    issuer_jwt TEXT NOT NULL,         -- digests only: the disclosures are not kept
    list_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL,
    revoked_at REAL,
    notarized_at REAL,
    webhook_at REAL
);
CREATE INDEX IF NOT EXISTS credentials_by_offer ON credentials(offer_id);
CREATE TABLE IF NOT EXISTS identity (
    thumbprint TEXT PRIMARY KEY,      -- RFC 7638 thumbprint of the deployment key
    did TEXT NOT NULL,
    kid TEXT NOT NULL,                -- the verification method (DID URL) credentials name
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS status_lists (
    list_id TEXT PRIMARY KEY,
    bits INTEGER NOT NULL,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS status_entries (
    list_id TEXT NOT NULL REFERENCES status_lists(list_id),
    idx INTEGER NOT NULL,
    status INTEGER NOT NULL,
    PRIMARY KEY (list_id, idx)
);
"""


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def open_store(path: str) -> Store:
    return Store(path, SCHEMA)


@dataclass(frozen=True)
class OfferRow:
    offer_id: str
    tenant: str
    config_id: str
    claims: dict[str, Any]
    credential_issuer: str
    signing: str
    issuer_did: str | None
    holder_did: str | None
    notarize: bool
    callback_url: str | None
    code_hash: str
    tx_code: dict[str, Any] | None
    tx_code_hash: str | None
    tx_attempts: int
    created_at: float
    expires_at: float
    code_used_at: float | None
    issued_at: float | None


@dataclass(frozen=True)
class CredentialRow:
    credential_id: str
    offer_id: str
    tenant: str
    issuer_did: str | None
    holder_did: str | None
    vct: str
    format: str
    status: str
    notarize: bool
    on_chain_status: str | None
    object_id: str | None
    request_id: str | None
    issuer_jwt: str
    list_id: str
    idx: int
    issued_at: float
    expires_at: float | None
    revoked_at: float | None
    notarized_at: float | None
    webhook_at: float | None


_JSON_COLUMNS = {"claims", "tx_code"}
_BOOL_COLUMNS = {"notarize"}


def _row(cls: type, row: Any) -> Any:
    if row is None:
        return None
    values = {}
    for f in fields(cls):
        value = row[f.name]
        if f.name in _JSON_COLUMNS:
            value = from_json(value)
        elif f.name in _BOOL_COLUMNS:
            value = bool(value)
        values[f.name] = value
    return cls(**values)


def _insert(store: Store, table: str, obj: Any) -> None:
    names = [f.name for f in fields(obj)]
    values = [to_json(getattr(obj, n)) if n in _JSON_COLUMNS and getattr(obj, n) is not None
              else getattr(obj, n) for n in names]
    store.execute(f"INSERT INTO {table} ({', '.join(names)}) VALUES "
                  f"({', '.join('?' for _ in names)})", values)


class IssuerStore:
    def __init__(self, store: Store) -> None:
        self.db = store

    # --- offers ---------------------------------------------------------------------------

    def add_offer(self, offer: OfferRow) -> None:
        _insert(self.db, "offers", offer)

    def offer(self, offer_id: str) -> OfferRow | None:
        return _row(OfferRow, self.db.one("SELECT * FROM offers WHERE offer_id = ?", (offer_id,)))

    def offer_by_code(self, code: str) -> OfferRow | None:
        return _row(OfferRow, self.db.one("SELECT * FROM offers WHERE code_hash = ?",
                                          (digest(code),)))

    def count_tx_failure(self, offer_id: str) -> None:
        self.db.execute("UPDATE offers SET tx_attempts = tx_attempts + 1 WHERE offer_id = ?",
                        (offer_id,))

    def redeem_code(self, offer_id: str, now: float) -> bool:
        """Single use (§4.1.1): only the first redemption changes the row."""
        cursor = self.db.execute("UPDATE offers SET code_used_at = ? WHERE offer_id = ? AND "
                                 "code_used_at IS NULL", (now, offer_id))
        return cursor.rowcount == 1

    def mark_issued(self, offer_id: str, now: float) -> bool:
        cursor = self.db.execute("UPDATE offers SET issued_at = ? WHERE offer_id = ? AND "
                                 "issued_at IS NULL", (now, offer_id))
        return cursor.rowcount == 1

    # --- access tokens and nonces ----------------------------------------------------------

    def add_token(self, token: str, offer_id: str, expires_at: float) -> None:
        self.db.execute("INSERT INTO access_tokens VALUES (?, ?, ?)",
                        (digest(token), offer_id, expires_at))

    def token_offer(self, token: str, now: float) -> str | None:
        row = self.db.one("SELECT offer_id FROM access_tokens WHERE token_hash = ? AND "
                          "expires_at > ?", (digest(token), now))
        return row["offer_id"] if row else None

    def add_nonce(self, nonce: str, expires_at: float) -> None:
        self.db.execute("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at))

    def nonce_valid(self, nonce: str, now: float) -> bool:
        return self.db.one("SELECT 1 FROM nonces WHERE nonce = ? AND used_at IS NULL AND "
                           "expires_at > ?", (nonce, now)) is not None

    def spend_nonce(self, nonce: str, now: float) -> bool:
        cursor = self.db.execute("UPDATE nonces SET used_at = ? WHERE nonce = ? AND used_at IS "
                                 "NULL AND expires_at > ?", (now, nonce, now))
        return cursor.rowcount == 1

    # --- credentials -----------------------------------------------------------------------

    def add_credential(self, row: CredentialRow) -> None:
        _insert(self.db, "credentials", row)

    def credential(self, credential_id: str) -> CredentialRow | None:
        return _row(CredentialRow, self.db.one("SELECT * FROM credentials WHERE credential_id = ?",
                                               (credential_id,)))

    def credentials_of_offer(self, offer_id: str) -> list[CredentialRow]:
        rows = self.db.all("SELECT * FROM credentials WHERE offer_id = ? ORDER BY issued_at",
                           (offer_id,))
        return [_row(CredentialRow, r) for r in rows]

    def unfinished_notarizations(self) -> list[CredentialRow]:
        rows = self.db.all("SELECT * FROM credentials WHERE on_chain_status IN "
                           "('PENDING', 'IN_PROGRESS')")
        return [_row(CredentialRow, r) for r in rows]

    def update_credential(self, credential_id: str, **changes: Any) -> None:
        allowed = {f.name for f in fields(CredentialRow)} - {"credential_id"}
        assert set(changes) <= allowed, set(changes) - allowed
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self.db.execute(f"UPDATE credentials SET {assignments} WHERE credential_id = ?",
                        (*changes.values(), credential_id))

    def claim_webhook(self, credential_id: str, now: float) -> bool:
        """At most one webhook per credential, even across restarts."""
        cursor = self.db.execute("UPDATE credentials SET webhook_at = ? WHERE credential_id = ? "
                                 "AND webhook_at IS NULL", (now, credential_id))
        return cursor.rowcount == 1

    # --- identity --------------------------------------------------------------------------

    def identity(self, thumbprint: str) -> tuple[str, str] | None:
        row = self.db.one("SELECT did, kid FROM identity WHERE thumbprint = ?", (thumbprint,))
        return (row["did"], row["kid"]) if row else None

    def add_identity(self, thumbprint: str, did: str, kid: str, now: float) -> None:
        self.db.execute("INSERT OR REPLACE INTO identity VALUES (?, ?, ?, ?)",
                        (thumbprint, did, kid, now))

    # --- status lists ----------------------------------------------------------------------

    def status_list(self, list_id: str) -> tuple[int, int] | None:
        row = self.db.one("SELECT bits, size FROM status_lists WHERE list_id = ?", (list_id,))
        return (row["bits"], row["size"]) if row else None

    def open_lists(self) -> list[tuple[str, int, int]]:
        """Lists with free indices, oldest first: (list_id, size, used)."""
        rows = self.db.all(
            "SELECT l.list_id, l.size, COUNT(e.idx) AS used FROM status_lists l LEFT JOIN "
            "status_entries e ON e.list_id = l.list_id GROUP BY l.list_id HAVING used < l.size "
            "ORDER BY l.created_at, l.list_id")
        return [(r["list_id"], r["size"], r["used"]) for r in rows]

    def add_status_list(self, list_id: str, bits: int, size: int, now: float) -> None:
        self.db.execute("INSERT INTO status_lists VALUES (?, ?, ?, ?)", (list_id, bits, size, now))

    def used_indices(self, list_id: str) -> set[int]:
        return {r["idx"] for r in self.db.all("SELECT idx FROM status_entries WHERE list_id = ?",
                                              (list_id,))}

    def add_status_entry(self, list_id: str, idx: int, status: int) -> None:
        self.db.execute("INSERT INTO status_entries VALUES (?, ?, ?)", (list_id, idx, status))

    def set_status(self, list_id: str, idx: int, status: int) -> None:
        self.db.execute("UPDATE status_entries SET status = ? WHERE list_id = ? AND idx = ?",
                        (status, list_id, idx))

    def statuses(self, list_id: str) -> dict[int, int]:
        rows = self.db.all("SELECT idx, status FROM status_entries WHERE list_id = ?", (list_id,))
        return {r["idx"]: r["status"] for r in rows}

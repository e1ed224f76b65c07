"""The issuer engine's SQLite schema and queries (one schema for every API surface).

Secrets never land here: pre-authorized codes, access tokens and deferred transaction ids are
stored as SHA-256 digests (high-entropy values: a leaked file does not let anyone redeem them);
transaction codes (tx_code values, the organisation wallet's userPin), being short, as keyed
digests (HMAC under a deployment-derived key, salted with the offer id: engine.py). No private
key is stored at all - an offer-scoped `issuer_private_key` lives in process memory only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, fields
from typing import Any

from reference.common.store import Store, from_json, to_json

SCHEMA = """
CREATE TABLE IF NOT EXISTS offers (
    offer_id TEXT PRIMARY KEY,
    surface TEXT NOT NULL,            -- the management API that made it: tcs | eudiw | orgwallet
    tenant TEXT NOT NULL,
    config_id TEXT NOT NULL,
    claims TEXT,                      -- NULL: a deferred offer whose claims are not supplied yet
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
    deferred INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    fetched_at REAL,                  -- first GET of the Credential Offer
    code_used_at REAL,
    deferred_at REAL,                 -- the Credential Request that got a transaction_id
    claims_at REAL,                   -- deferred claims supplied by the backend
    issued_at REAL,
    failure TEXT,                     -- tx_code_locked | issuance_denied | offer_key_lost
    failure_detail TEXT,
    failed_at REAL,
    notification_id TEXT,
    notification_event TEXT,          -- the last OID4VCI §11 event the wallet sent
    notified_at REAL
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
CREATE TABLE IF NOT EXISTS transactions (
    tx_hash TEXT PRIMARY KEY,
    offer_id TEXT NOT NULL UNIQUE REFERENCES offers(offer_id),
    holder_jwk TEXT NOT NULL,         -- the public key the key proof proved: cnf of the credential
    holder_did TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    collected_at REAL
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
    """For high-entropy secrets only (codes, tokens, transaction ids): short ones are keyed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def open_store(path: str) -> Store:
    return Store(path, SCHEMA)


@dataclass(frozen=True)
class OfferRow:
    offer_id: str
    surface: str
    tenant: str
    config_id: str
    claims: dict[str, Any] | None
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
    deferred: bool
    created_at: float
    expires_at: float
    fetched_at: float | None = None
    code_used_at: float | None = None
    deferred_at: float | None = None
    claims_at: float | None = None
    issued_at: float | None = None
    failure: str | None = None
    failure_detail: str | None = None
    failed_at: float | None = None
    notification_id: str | None = None
    notification_event: str | None = None
    notified_at: float | None = None

    def expired(self, now: float) -> bool:
        return now >= self.expires_at

    @property
    def received_at(self) -> float | None:
        """When the wallet first showed up: fetched the offer or redeemed the code."""
        seen = [t for t in (self.fetched_at, self.code_used_at) if t is not None]
        return min(seen) if seen else None

    @property
    def updated_at(self) -> float:
        return max(t for t in (self.created_at, self.fetched_at, self.code_used_at,
                               self.deferred_at, self.claims_at, self.issued_at, self.failed_at,
                               self.notified_at) if t is not None)


@dataclass(frozen=True)
class TransactionRow:
    """A deferred issuance (OID4VCI 1.0 §9): who the credential will be bound to."""

    tx_hash: str
    offer_id: str
    holder_jwk: dict[str, Any]
    holder_did: str | None
    created_at: float
    expires_at: float
    collected_at: float | None


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


_JSON_COLUMNS = {"claims", "tx_code", "holder_jwk"}
_BOOL_COLUMNS = {"notarize", "deferred"}


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


def _first(store: Store, column: str, offer_id: str, now: float, extra: str = "",
           params: tuple[Any, ...] = ()) -> bool:
    """Set a timestamp column once: True only for the call that set it."""
    cursor = store.execute(f"UPDATE offers SET {column} = ?{extra} WHERE offer_id = ? AND "
                           f"{column} IS NULL", (now, *params, offer_id))
    return cursor.rowcount == 1


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

    def count_tx_failure(self, offer_id: str) -> int:
        self.db.execute("UPDATE offers SET tx_attempts = tx_attempts + 1 WHERE offer_id = ?",
                        (offer_id,))
        row = self.db.one("SELECT tx_attempts FROM offers WHERE offer_id = ?", (offer_id,))
        return int(row["tx_attempts"]) if row else 0

    def mark_fetched(self, offer_id: str, now: float) -> bool:
        return _first(self.db, "fetched_at", offer_id, now)

    def redeem_code(self, offer_id: str, now: float) -> bool:
        """Single use (§4.1.1): only the first redemption changes the row."""
        return _first(self.db, "code_used_at", offer_id, now)

    def mark_deferred(self, offer_id: str, now: float) -> bool:
        return _first(self.db, "deferred_at", offer_id, now)

    def mark_issued(self, offer_id: str, now: float, notification_id: str) -> bool:
        return _first(self.db, "issued_at", offer_id, now, ", notification_id = ?",
                      (notification_id,))

    def mark_failed(self, offer_id: str, failure: str, detail: str, now: float) -> bool:
        """The first terminal failure wins; an issued offer cannot fail any more."""
        cursor = self.db.execute("UPDATE offers SET failure = ?, failure_detail = ?, failed_at = ? "
                                 "WHERE offer_id = ? AND failure IS NULL AND issued_at IS NULL",
                                 (failure, detail, now, offer_id))
        return cursor.rowcount == 1

    def supply_claims(self, offer_id: str, claims: dict[str, Any], now: float) -> bool:
        cursor = self.db.execute("UPDATE offers SET claims = ?, claims_at = ? WHERE offer_id = ? "
                                 "AND claims_at IS NULL AND issued_at IS NULL AND failure IS NULL",
                                 (to_json(claims), now, offer_id))
        return cursor.rowcount == 1

    def set_notification(self, offer_id: str, event: str, now: float) -> None:
        self.db.execute("UPDATE offers SET notification_event = ?, notified_at = ? WHERE "
                        "offer_id = ?", (event, now, offer_id))

    # --- access tokens and nonces ----------------------------------------------------------

    def add_token(self, token: str, offer_id: str, expires_at: float) -> None:
        self.db.execute("INSERT INTO access_tokens VALUES (?, ?, ?)",
                        (digest(token), offer_id, expires_at))

    def token_offer(self, token: str, now: float) -> str | None:
        row = self.db.one("SELECT offer_id FROM access_tokens WHERE token_hash = ? AND "
                          "expires_at > ?", (digest(token), now))
        return row["offer_id"] if row else None

    def extend_tokens(self, offer_id: str, until: float) -> None:
        """A deferred issuance outlives the usual token lifetime (§9: the Wallet presents the
        same Access Token at the Deferred Credential Endpoint)."""
        self.db.execute("UPDATE access_tokens SET expires_at = MAX(expires_at, ?) WHERE "
                        "offer_id = ?", (until, offer_id))

    def add_nonce(self, nonce: str, expires_at: float) -> None:
        self.db.execute("INSERT INTO nonces (nonce, expires_at) VALUES (?, ?)", (nonce, expires_at))

    def nonce_valid(self, nonce: str, now: float) -> bool:
        return self.db.one("SELECT 1 FROM nonces WHERE nonce = ? AND used_at IS NULL AND "
                           "expires_at > ?", (nonce, now)) is not None

    def spend_nonce(self, nonce: str, now: float) -> bool:
        cursor = self.db.execute("UPDATE nonces SET used_at = ? WHERE nonce = ? AND used_at IS "
                                 "NULL AND expires_at > ?", (now, nonce, now))
        return cursor.rowcount == 1

    # --- deferred transactions -------------------------------------------------------------

    def add_transaction(self, row: TransactionRow) -> None:
        _insert(self.db, "transactions", row)

    def transaction(self, transaction_id: str) -> TransactionRow | None:
        return _row(TransactionRow, self.db.one("SELECT * FROM transactions WHERE tx_hash = ?",
                                                (digest(transaction_id),)))

    def collect_transaction(self, tx_hash: str, now: float) -> bool:
        cursor = self.db.execute("UPDATE transactions SET collected_at = ? WHERE tx_hash = ? AND "
                                 "collected_at IS NULL", (now, tx_hash))
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

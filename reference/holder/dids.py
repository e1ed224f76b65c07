"""Holder DIDs: create (IOTA, KEY, JWK), import with an ownership proof, list, delete, and the
per-request check that a caller's private key really is the key of a DID the user owns.

The private key of a created DID is returned once and never stored; the store keeps the DID,
its method, the id of its verification method (`kid`, used in proof JWTs) and the public JWK, so
later requests can check a supplied private key without asking the ledger again.

Methods (the seed's `method` values):
- IOTA: Ed25519, published on the ledger (`POST {ledger}/v1/dids` with a self-signed create
  proof); the ledger assigns `did:iota:<network>:0x<64 hex>`.
- KEY: P-256 did:key (the seed: "ES256 (raw d) for did:key").
- JWK: Ed25519 did:jwk.
Import accepts did:iota (resolved on the ledger), did:key and did:jwk of either key type.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.did import (
    did_jwk_from_public,
    did_key_from_public,
    parse_did,
    resolve_local,
    verification_key,
)
from conformance.protocol.errors import DidError, JoseError
from conformance.protocol.jose import (
    PrivateKey,
    PublicKey,
    b64u_encode,
    generate_key,
    private_key_from_b64u,
    public_key_from_jwk,
    sign_jws,
)
from conformance.resolver import DidResolver
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError
from reference.holder.errors import from_protocol
from reference.holder.outbound import LEDGER, Outbound
from reference.holder.store import DidRow, HolderStore

# Relationships that let a key stand for the holder (proof JWTs, KB-JWTs).
HOLDER_RELATIONSHIPS = ("authentication", "assertionMethod")
IMPORTABLE = ("iota", "key", "jwk")


@dataclass(frozen=True)
class NewDid:
    did: str
    document: dict[str, Any]


Publisher = Callable[[PrivateKey], Awaitable[NewDid]]


@dataclass(frozen=True)
class DidMethod:
    name: str          # the seed's wire name
    alg: str           # key algorithm of DIDs created with this method
    publish: Publisher


def _local(make_did: Callable[[PublicKey], str]) -> Publisher:
    async def publish(key: PrivateKey) -> NewDid:
        did = make_did(key.public)
        return NewDid(did, resolve_local(did))
    return publish


class DidService:
    def __init__(self, store: HolderStore, clock: Clock, out: Outbound, resolver: DidResolver,
                 ledger_url: str | None, network: str) -> None:
        self.store, self.clock, self.out, self.resolver = store, clock, out, resolver
        self._ledger_url = ledger_url.rstrip("/") if ledger_url else None
        self._network = network
        self.methods: dict[str, DidMethod] = {
            "IOTA": DidMethod("IOTA", "EdDSA", self._publish_iota),
            "KEY": DidMethod("KEY", "ES256", _local(did_key_from_public)),
            "JWK": DidMethod("JWK", "EdDSA", _local(did_jwk_from_public)),
        }

    # --- create / import ---------------------------------------------------------------------

    async def create(self, owner: str, method_name: str) -> tuple[DidRow, str]:
        """A new DID and its private key (base64url raw), which is returned once only."""
        method = self.methods[method_name]
        key = generate_key(method.alg)
        new = await method.publish(key)
        kid = _holder_method_id(new.document, key.public)
        if kid is None:  # the registry answered a document without our key: refuse it
            raise ApiError(502, "ledger_error", f"the DID document of {new.did} does not hold the "
                           "key it was created with")
        row = DidRow(new.did, owner, method_name, kid, key.public.to_jwk(), "created", "active",
                     self.clock.now())
        if not self.store.put_did(row):
            raise ApiError(409, "did_conflict", f"{new.did} is already registered")
        return row, b64u_encode(key.raw())

    async def _publish_iota(self, key: PrivateKey) -> NewDid:
        if self._ledger_url is None:
            raise ApiError(503, "ledger_unavailable", "no ledger is configured for did:iota")
        proof = sign_jws({"typ": "JWT", "jwk": key.public.to_jwk()},
                         {"op": "create", "iat": int(self.clock.now()), "jti": str(uuid.uuid4())}, key)
        status, body = await self.out.json(LEDGER, "POST", f"{self._ledger_url}/v1/dids",
                                           json={"network": self._network, "proof": proof})
        if status != 201 or not isinstance(body, Mapping) or not isinstance(body.get("did"), str) \
                or not isinstance(body.get("didDocument"), Mapping):
            raise ApiError(502, "ledger_error", f"the ledger refused to create the DID (HTTP {status})")
        return NewDid(body["did"], dict(body["didDocument"]))

    async def import_(self, owner: str, did: str, private_key: str) -> DidRow:
        parsed = parse_did(did)
        if parsed.method not in IMPORTABLE:
            raise ApiError(400, "invalid_did", f"did:{parsed.method} cannot be imported; supported "
                           f"methods: {', '.join('did:' + m for m in IMPORTABLE)}", "did")
        existing = self.store.did(parsed.did)
        if existing is not None and existing.active:
            raise ApiError(409, "did_already_imported", f"{parsed.did} is already managed by this "
                           "holder service", "did")
        try:
            document = await self.resolver.resolve(parsed.did)
        except DidError as exc:
            raise from_protocol(exc) from None
        key, kid = _prove_ownership(document, private_key)
        row = DidRow(parsed.did, owner, parsed.method.upper(), kid, key.public.to_jwk(), "imported",
                     "active", self.clock.now())
        if not self.store.put_did(row):
            raise ApiError(409, "did_already_imported", f"{parsed.did} is already managed by this "
                           "holder service", "did")
        return row

    # --- ownership ---------------------------------------------------------------------------

    def owned(self, owner: str, did: str, field: str = "holder_did") -> DidRow:
        """The user's active DID; 404 when unknown or deleted, 403 when another user's."""
        row = self.store.did(did)
        if row is None or not row.active:
            raise ApiError(404, "did_not_found", f"{did} was deleted or never created on this "
                           "holder service", field)
        if row.owner != owner:
            raise ApiError(403, "did_not_owned", f"{did} does not belong to the authenticated user",
                           field)
        return row

    def delete(self, owner: str, did: str) -> None:
        row = self.owned(owner, did, "did")
        self.store.delete_did(row.did, self.clock.now())

    def list(self, owner: str) -> list[DidRow]:
        return self.store.dids_of(owner)


def signing_key(row: DidRow, private_key: str) -> PrivateKey:
    """The caller's private key for `row`, checked against the DID's stored public key.
    The error never echoes the key."""
    stored = public_key_from_jwk(row.public_jwk, "public_jwk")
    try:
        key = private_key_from_b64u(private_key, stored.alg)
    except JoseError:
        key = None
    if key is None or key.public.to_jwk() != stored.to_jwk():
        raise ApiError(400, "key_mismatch", f"private_key is not the {stored.alg} private key of "
                       f"{row.did} (expected base64url of the raw 32-byte key)", "private_key")
    return key


def did_json(row: DidRow) -> dict[str, Any]:
    return {"did": row.did, "method": row.method, "kid": row.kid, "status": row.status,
            "created_at": iso(row.created_at)}


# --- documents -------------------------------------------------------------------------------


def _method_ids(document: Mapping[str, Any]) -> list[str]:
    doc_id = document.get("id", "")
    ids = []
    for method in document.get("verificationMethod") or []:
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            ids.append(f"{doc_id}{method['id']}" if method["id"].startswith("#") else method["id"])
    return ids


def _holder_keys(document: Mapping[str, Any]) -> list[tuple[str, PublicKey]]:
    """(verification method id, key) for each key authorised to stand for the holder."""
    found: dict[str, PublicKey] = {}
    for vm_id in _method_ids(document):
        for relationship in HOLDER_RELATIONSHIPS:
            try:
                found.setdefault(vm_id, verification_key(document, vm_id, relationship))
                break
            except DidError:
                continue
    return list(found.items())


def _holder_method_id(document: Mapping[str, Any], key: PublicKey) -> str | None:
    wanted = key.to_jwk()
    return next((vm_id for vm_id, pub in _holder_keys(document) if pub.to_jwk() == wanted), None)


def _prove_ownership(document: Mapping[str, Any], private_key: str) -> tuple[PrivateKey, str]:
    """The ownership proof of import: the private key's public half must be one of the DID's
    authentication / assertion keys."""
    keys = _holder_keys(document)
    for vm_id, public in keys:
        try:
            key = private_key_from_b64u(private_key, public.alg)
        except JoseError:
            continue
        if key.public.to_jwk() == public.to_jwk():
            return key, vm_id
    algs = sorted({public.alg for _, public in keys}) or ["none"]
    raise ApiError(400, "ownership_proof_failed", "private_key does not match any authentication "
                   f"or assertion key of {document.get('id')} (its key types: {', '.join(algs)})",
                   "private_key")

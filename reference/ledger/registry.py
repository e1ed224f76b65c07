"""The did:iota registry: create, update (key rotation), deactivate, resolve.

A DID is `did:iota:<network>:0x<64 hex>`, the hex being the id of a fresh Identity object
(IOTA DID Method Specification v2.0, DID Format); here 32 random bytes. Each document has one
Ed25519 JsonWebKey verification method `#key-<version>`, referenced from authentication,
assertionMethod and capabilityInvocation. A rotation gives the new key a new fragment, so a
signature made with the old key names a method that no longer exists instead of failing
obscurely against the new key.

Errors are `DidError`s with the reasons the app's one table maps: `invalid_did`,
`not_found`, `did_deactivated`, `unsupported_network`, `method_not_supported`, plus the
`ProofError` reasons of proofs.py.
"""

from __future__ import annotations

import secrets
from typing import Any

from conformance.protocol.did import build_did_document, iota_did, parse_did, verification_key
from conformance.protocol.errors import DidError
from conformance.protocol.jose import PublicKey
from reference.common.clock import Clock
from reference.ledger.proofs import MAX_SKEW, Proof, ProofError, ed25519_key, verify_proof
from reference.ledger.store import DidRecord, LedgerStore

RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation")
# The relationship whose key may change the document (DID Core §5.3.4).
CONTROLLER_RELATIONSHIP = "capabilityInvocation"


def document_for(did: str, key: PublicKey, version: int) -> dict[str, Any]:
    return build_did_document(did, key, f"key-{version}", RELATIONSHIPS)


class DidRegistry:
    def __init__(self, store: LedgerStore, clock: Clock, network: str) -> None:
        self._store = store
        self._clock = clock
        self._network = network

    def create(self, proof_token: Any, network: str | None) -> DidRecord:
        if network is not None and network != self._network:
            raise DidError("unsupported_network", f"network is {network!r}, but this ledger is "
                           f"the {self._network!r} network", "network")
        proof = verify_proof(proof_token, op="create", now=self._clock.now())
        did = iota_did(self._network, "0x" + secrets.token_hex(32))
        now = self._clock.now()
        record = DidRecord(did, document_for(did, proof.key, 1), 1, False, now, now)
        return self._commit(record, proof)

    def update(self, did: str, proof_token: Any) -> DidRecord:
        current = self._writable(did)
        proof = self._controller_proof(current, proof_token, "update")
        key = ed25519_key(proof.payload.get("jwk"), "proof.payload.jwk")
        version = current.version + 1
        record = DidRecord(current.did, document_for(current.did, key, version), version, False,
                           current.created_at, self._clock.now())
        return self._commit(record, proof)

    def deactivate(self, did: str, proof_token: Any) -> DidRecord:
        current = self._writable(did)
        proof = self._controller_proof(current, proof_token, "deactivate")
        record = DidRecord(current.did, current.document, current.version + 1, True,
                           current.created_at, self._clock.now())
        return self._commit(record, proof)

    def resolve(self, did: str) -> DidRecord:
        """The current record of `did`, deactivated or not (the caller reports which)."""
        parsed = parse_did(did)
        if parsed.method != "iota":
            raise DidError("method_not_supported", f"this ledger resolves did:iota only, not "
                           f"did:{parsed.method}", "did")
        record = self._store.did(parsed.did)
        if record is None:
            raise DidError("not_found", f"{parsed.did} is not on the {self._network!r} network",
                           "did")
        return record

    def _writable(self, did: str) -> DidRecord:
        record = self.resolve(did)
        if record.deactivated:
            raise DidError("did_deactivated", f"{record.did} is deactivated; a deactivated DID "
                           "cannot be changed", "did")
        return record

    def _controller_proof(self, current: DidRecord, token: Any, op: str) -> Proof:
        key = verification_key(current.document, relationship=CONTROLLER_RELATIONSHIP)
        return verify_proof(token, op=op, now=self._clock.now(), key=key, did=current.did)

    def _commit(self, record: DidRecord, proof: Proof) -> DidRecord:
        if not self._store.put_did(record, proof.digest, window=2 * MAX_SKEW):
            raise ProofError("invalid_proof", "this proof was already used; sign a new one "
                             "for each transaction", "proof")
        return record

"""Transaction proofs: how a DID write is authorised on the simulated ledger.

On IOTA a DID document lives in an Identity object that only its controllers may change, and a
change is a transaction they sign (IOTA DID Method Specification v2.0, "Identity Object" and
CRUD operations). Here the transaction is a compact JWS (RFC 7515) over
`{"op", "iat", "did"?, "jwk"?}`:

- create: signed by the new key, which travels in the protected header as `jwk` (RFC 7515
  §4.1.3) - proof of possession of the key the document will hold;
- update / deactivate: signed by the DID's current capabilityInvocation key (DID Core §5.3.4:
  the relationship for invoking capabilities such as updating the document), naming the DID.

A proof is fresh when `iat` is within MAX_SKEW seconds of the ledger clock. Only Ed25519
(EdDSA) keys are accepted for did:iota: it is the one key type every IOTA Identity library
supports for verification methods, and the seeds' did:iota path signs with EdDSA.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import JoseError, ProtocolError
from conformance.protocol.jose import PublicKey, parse_jws, public_key_from_jwk

MAX_SKEW = 300


class ProofError(ProtocolError):
    """A transaction proof is not acceptable; reason `invalid_proof` or `unsupported_key_type`."""


@dataclass(frozen=True)
class Proof:
    payload: dict[str, Any]
    key: PublicKey          # the key that signed it
    digest: str             # SHA-256 of the token: spent once, so a replay is refused


def ed25519_key(jwk: Any, field: str) -> PublicKey:
    """An Ed25519 public JWK. A JWK with a private part is refused without echoing it."""
    if isinstance(jwk, Mapping) and "d" in jwk:
        raise ProofError("invalid_proof", f"{field} must be a public JWK; it carries a private "
                         "key ('d') - never send private keys to the ledger", field)
    try:
        key = public_key_from_jwk(jwk, field)
    except JoseError as exc:
        if exc.reason == "unsupported_key_type":
            raise _key_type_error(field, f"{exc.message}") from None
        raise ProofError("invalid_proof", exc.message, field) from None
    if key.alg != "EdDSA":
        raise _key_type_error(field, f"{field} is a {key.alg} key")
    return key


def _key_type_error(field: str, what: str) -> ProofError:
    return ProofError("unsupported_key_type",
                      f"{what}; did:iota verification methods here are Ed25519 (OKP, EdDSA) only",
                      field)


def verify_proof(token: Any, *, op: str, now: float, key: PublicKey | None = None,
                 did: str | None = None) -> Proof:
    """Check a proof for `op`. `key` is the DID's current key; None (create) means the key is
    taken from the header `jwk`. `did`, when given, must be the payload's `did`."""
    if not isinstance(token, str):
        raise ProofError("invalid_proof", "proof must be a compact JWS string", "proof")
    try:
        jws = parse_jws(token, "proof")
        signer = key or ed25519_key(jws.header.get("jwk"), "proof.header.jwk")
        jws.verify_with(signer)
    except JoseError as exc:
        raise ProofError("invalid_proof", exc.message, exc.field or "proof") from None
    _check_claims(jws.payload, op, did, now)
    return Proof(jws.payload, signer, hashlib.sha256(token.encode()).hexdigest())


def _check_claims(payload: Mapping[str, Any], op: str, did: str | None, now: float) -> None:
    if payload.get("op") != op:
        raise ProofError("invalid_proof", f"proof.payload.op is {payload.get('op')!r}; this "
                         f"operation needs {op!r}", "proof.payload.op")
    if did is not None and payload.get("did") != did:
        raise ProofError("invalid_proof", f"proof.payload.did is {payload.get('did')!r}; the "
                         f"proof must name the DID it changes, {did}", "proof.payload.did")
    iat = payload.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int):
        raise ProofError("invalid_proof", "proof.payload.iat must be an integer (seconds since "
                         "the epoch)", "proof.payload.iat")
    if abs(iat - now) > MAX_SKEW:
        raise ProofError("invalid_proof", f"proof.payload.iat is {iat - now:+.0f} s from the "
                         f"ledger clock; it must be within ±{MAX_SKEW} s", "proof.payload.iat")

"""Key proofs at the credential endpoint: the protocol checks of Appendix F.4 (in
conformance.protocol.oid4vci) plus this issuer's policy - DID URL kids resolved (did:key and
did:jwk locally, did:iota on the ledger), binding methods from the configuration, and
holder-bound offers (`holder_did`): the proof must be made with a key of that DID.
"""

from __future__ import annotations

from typing import Any

from conformance.protocol.did import parse_did
from conformance.protocol.errors import DidError
from conformance.protocol.jose import PublicKey
from conformance.protocol.oid4vci import (
    ProofJwt,
    VerifiedProof,
    oid4vci_error,
    parse_proof_jwt,
    verify_proof_jwt,
)
from conformance.resolver import DidResolver, ResolutionError
from reference.common.clock import Clock
from reference.common.errors import OAuthError
from reference.issuer.configs import CredentialConfig
from reference.issuer.settings import IssuerSettings
from reference.issuer.store import IssuerStore, OfferRow

# The same algorithm under its RFC 9864 name: a wallet may sign proofs with either.
_ALG_ALIASES = {"EdDSA": ("EdDSA", "Ed25519"), "ES256": ("ES256",)}


class _Nonces:
    """The issuer's live c_nonces, as the container verify_proof_jwt checks membership in."""

    def __init__(self, store: IssuerStore, now: float) -> None:
        self._store, self._now = store, now

    def __contains__(self, nonce: object) -> bool:
        return isinstance(nonce, str) and self._store.nonce_valid(nonce, self._now)


class ProofChecker:
    def __init__(self, settings: IssuerSettings, store: IssuerStore, resolver: DidResolver,
                 clock: Clock) -> None:
        self._settings = settings
        self._db = store
        self._resolver = resolver
        self._clock = clock

    async def verify(self, offer: OfferRow, config: CredentialConfig,
                     proof_type: str | None, proofs: tuple[Any, ...]) -> VerifiedProof:
        """The one key proof of a Credential Request, checked against the offer and config."""
        if proof_type is None:
            raise oid4vci_error("invalid_proof", "proofs is required: this configuration binds "
                                "credentials to a key (§8.2)", "proofs", "proofs_missing")
        if proof_type != "jwt":
            raise oid4vci_error("invalid_proof", f"proof type {proof_type!r} is not supported "
                                "(supported: jwt)", f"proofs.{proof_type}", "unsupported_proof_type")
        if len(proofs) != 1:
            raise oid4vci_error("invalid_credential_request", "this issuer issues one credential "
                                "per request and does not advertise batch issuance; send one proof",
                                "proofs.jwt", "batch_not_supported")
        parsed = parse_proof_jwt(proofs[0])
        key = await self._kid_key(parsed) if parsed.kid is not None else None
        algs = tuple(a for alg in config.proof_algs for a in _ALG_ALIASES[alg])
        now = self._clock.now()
        proof = verify_proof_jwt(parsed, expected_aud=offer.credential_issuer,
                                 expected_nonce=_Nonces(self._db, now), now=now,
                                 max_age=self._settings.proof_max_age, allowed_algs=algs, key=key)
        method = "jwk" if proof.did is None else f"did:{parse_did(proof.did).method}"
        if method not in config.binding_methods:
            raise oid4vci_error("invalid_proof", f"key proof: binding method {method} is not "
                                f"supported for {config.id} (supported: "
                                f"{', '.join(config.binding_methods)})", "header",
                                "unsupported_binding_method")
        if offer.holder_did is not None:
            await self._check_holder(offer.holder_did, proof)
        return proof

    async def _kid_key(self, parsed: ProofJwt) -> PublicKey:
        if parsed.did is None:
            raise oid4vci_error("invalid_proof", "key proof: kid must be a DID URL (F.1) or the "
                                "key sent as jwk", "header.kid", "unsupported_key_reference")
        return await self._holder_key(parsed.kid)  # type: ignore[arg-type]

    async def _holder_key(self, did_url: str) -> PublicKey:
        try:
            return await self._resolver.key_for(did_url, "authentication")
        except ResolutionError as exc:
            if exc.reason == "resolver_unreachable":
                raise OAuthError(503, "temporarily_unavailable", "cannot resolve the holder DID: the "
                            "ledger is unreachable") from None
            raise oid4vci_error("invalid_proof", f"key proof: {did_url} cannot be resolved "
                                f"({exc.reason})", "header.kid", "kid_unresolvable") from None
        except DidError as exc:
            raise oid4vci_error("invalid_proof", f"key proof: {exc.message}", "header.kid",
                                "kid_unresolvable") from None

    async def _check_holder(self, holder_did: str, proof: VerifiedProof) -> None:
        """A holder-bound offer: the proof must be made with a key of that DID."""
        if proof.did is not None and proof.did != holder_did:
            raise oid4vci_error("invalid_proof", f"key proof: signed by {proof.did}, but the offer "
                                f"is bound to {holder_did}", "header.kid", "holder_did_mismatch")
        if proof.did is None:
            expected = await self._holder_key(holder_did)
            if expected.to_jwk() != proof.key.to_jwk():
                raise oid4vci_error("invalid_proof", f"key proof: the jwk is not the "
                                    f"authentication key of {holder_did}, to which the offer is "
                                    "bound", "header.jwk", "holder_did_mismatch")

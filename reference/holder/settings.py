"""Knobs of one holder deployment."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.protocol.jose import b64u_encode, generate_key


def _fresh_signing_key() -> str:
    return b64u_encode(generate_key("EdDSA").raw())


@dataclass(frozen=True)
class HolderSettings:
    """`signing_key` (base64url raw Ed25519) signs the access tokens; keep it stable across
    restarts or every issued token stops verifying. It never appears in a repr."""

    base_url: str = "http://holder.local"
    ledger_url: str | None = "http://ledger.local"
    signing_key: str = field(default_factory=_fresh_signing_key, repr=False)
    token_ttl: int = 86_400
    # did:iota network name for DIDs this service creates on the ledger.
    iota_network: str = "testnet"
    # Seconds a fetched Status List is reused before it is fetched again.
    status_cache_ttl: int = 60
    # Seconds a verified request object from request-details is kept for the presentation step.
    request_cache_ttl: int = 600
    # Timeout (seconds) of every outgoing call: issuer, verifier, ledger, status lists.
    http_timeout: float = 10.0
    # notarize_on_iota: how long receive waits for the ledger to finish the anchor (seconds of
    # wall-clock time), and how often it asks meanwhile.
    notarization_wait: float = 5.0
    notarization_poll_interval: float = 0.05
    # PEM files of trust anchors for x5c-signed credentials. Without any, an x5c chain is checked
    # for consistency only and the credential carries the note `x5c_chain_not_validated`.
    trust_anchors_pem: tuple[str, ...] = ()
    # scrypt cost (RFC 7914): N=2^14, r=8, p=1 is the interactive-login recommendation.
    scrypt_n: int = 2 ** 14
    scrypt_r: int = 8
    scrypt_p: int = 1

"""The deployment's default did:iota issuer: its Ed25519 key (a deployment secret, in memory
only) and the DID it registered on the ledger for that key (remembered in the store, keyed by
the key's RFC 7638 thumbprint, so a restart with the same key reuses the DID).

Registration is lazy, on first use: `POST {ledger}/v1/dids` with a create proof - a JWS signed
by the new key, carrying it as `jwk` (reference/ledger/proofs.py).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.protocol.did import method_key
from conformance.protocol.jose import PrivateKey, sign_jws
from reference.common.clock import Clock
from reference.common.errors import ApiError
from reference.issuer.store import IssuerStore


@dataclass(frozen=True)
class Identity:
    did: str
    kid: str  # DID URL of the verification method that signs


def ledger_unavailable(what: str) -> ApiError:
    return ApiError(503, "ledger_unreachable", f"{what}: the IOTA ledger is unreachable; try again "
                    "later")


class DefaultIssuer:
    def __init__(self, key: PrivateKey, store: IssuerStore, http: httpx.AsyncClient,
                 ledger_url: str | None, network: str, clock: Clock, timeout: float) -> None:
        self.key = key
        self._store = store
        self._http = http
        self._ledger_url = ledger_url.rstrip("/") if ledger_url else None
        self._network = network
        self._clock = clock
        self._timeout = timeout
        self._lock = asyncio.Lock()

    async def identity(self) -> Identity:
        thumbprint = self.key.public.thumbprint()
        known = self._store.identity(thumbprint)
        if known:
            return Identity(*known)
        async with self._lock:  # concurrent first uses register one DID, not several
            known = self._store.identity(thumbprint)
            if known:
                return Identity(*known)
            identity = await self._register()
            self._store.add_identity(thumbprint, identity.did, identity.kid, self._clock.now())
            return identity

    async def _register(self) -> Identity:
        if self._ledger_url is None:
            raise ApiError(503, "ledger_not_configured", "the default did:iota issuer needs a "
                           "ledger, and this deployment has none configured")
        proof = sign_jws({"typ": "JWT", "jwk": self.key.public.to_jwk()},
                         {"op": "create", "iat": int(self._clock.now())}, self.key)
        try:
            response = await self._http.post(f"{self._ledger_url}/v1/dids",
                                             json={"network": self._network, "proof": proof},
                                             timeout=self._timeout)
        except httpx.TransportError:
            raise ledger_unavailable("registering the issuer DID") from None
        if response.status_code >= 500:
            raise ledger_unavailable("registering the issuer DID")
        if response.status_code != 201:
            raise ApiError(502, "ledger_error", f"the ledger refused the issuer DID registration "
                           f"(HTTP {response.status_code})")
        body = response.json()
        return Identity(body["did"], self._kid_of(body["didDocument"]))

    def _kid_of(self, document: dict[str, Any]) -> str:
        mine = self.key.public.to_jwk()
        for method in document.get("verificationMethod", []):
            if method_key(method).to_jwk() == mine:
                return method["id"]
        raise ApiError(502, "ledger_error", "the ledger's DID document does not hold the issuer key")

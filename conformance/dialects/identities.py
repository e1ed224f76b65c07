"""Fresh keys and DIDs the harness makes for itself (a verifier's identity, an issuer DID).

did:key and did:jwk are self-describing; a did:iota is published on the target's ledger with a
create transaction signed by the new key, which travels in the proof's header (the reference
ledger's rule: reference/ledger/proofs.py; IOTA DID Method Specification v2.0, Create).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.dialects.base import Calls, StepContext, json_of
from conformance.protocol.did import did_jwk_from_public, did_key_from_public
from conformance.protocol.jose import PrivateKey, PublicKey, b64u_encode, sign_jws

LOCAL_DIDS: Mapping[str, Callable[[PublicKey], str]] = {
    "did:key": did_key_from_public,
    "did:jwk": did_jwk_from_public,
}
IOTA = "did:iota"


@dataclass(frozen=True)
class Published:
    response: httpx.Response | None
    did: str | None
    kid: str | None


def raw_b64u(key: PrivateKey) -> str:
    """The seeds' wire form of a private key: base64url of the raw 32 bytes."""
    return b64u_encode(key.raw())


def create_proof(key: PrivateKey, iat: int) -> str:
    return sign_jws({"typ": "JWT", "jwk": key.public.to_jwk()},
                    {"op": "create", "iat": iat, "jti": str(uuid.uuid4())}, key)


async def publish_iota(ctx: StepContext, calls: Calls, key: PrivateKey, network: str | None = None) -> Published:
    """POST {ledger}/v1/dids; the ledger assigns the DID."""
    body: dict[str, Any] = {"proof": create_proof(key, int(ctx.now()))}
    if network is not None:
        body["network"] = network
    response = await calls.send("POST", ctx.url("ledger", "/v1/dids"), json=body)
    answer = json_of(response)
    if response is None or response.status_code != 201 or not isinstance(answer, Mapping):
        return Published(response, None, None)
    did = answer.get("did")
    methods = (answer.get("didDocument") or {}).get("verificationMethod") or [{}]
    kid = methods[0].get("id") if isinstance(methods[0], Mapping) else None
    return Published(response, did if isinstance(did, str) else None, kid if isinstance(kid, str) else None)

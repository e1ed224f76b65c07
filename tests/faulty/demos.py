"""Proof, independent of the scenario library, that a variant really is broken.

A variant whose trial finds nothing could be a real gap in the scenario library, or a variant
that breaks nothing, so a variant no scenario catches yet (`missing`) must have a demo. Each
demo here drives the deployment through the harness's own operations
(as a scenario's steps would) and tells whether the behaviour the variant targets held: the test
asserts it holds on the unmodified reference and not on the variant. A demo is evidence for a
finding, not a scenario of the library: what to add there is the variant's `missing` text. A
demo may outlive its finding: those of holder.foreign_credentials and holder.tokens_never_expire
were the evidence before holder.isolation_and_soft_delete and holder.status_and_token_expiry
caught them.

`DEMOS` maps a variant name to its demo: `async (Steps, deployment) -> (held, what was seen)`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from conformance.dialects import OperationResult, StepContext, get_operation
from conformance.protocol.jose import private_key_from_b64u, sign_jws
from conformance.wallet import HarnessWallet

from tests.faulty.variants import VARIANTS

Seen = tuple[bool, str]
Demo = Callable[["Steps", Any], Awaitable[Seen]]
DEMOS: dict[str, Demo] = {}

CLAIMS = {"credentialName": "Demo degree", "issuedTime": "2026-01-15T00:00:00Z"}


class Steps:
    """Operations of the target's dialect, each `Steps` one scenario context (one holder user,
    one harness wallet): `await steps("holder.login")`."""

    def __init__(self, target: Any, seed: int) -> None:
        rng = random.Random(seed)
        self.target = target
        self.ctx = StepContext(target=target, vars={}, rng=rng,
                               wallet=HarnessWallet(rng=rng, clock=target.deployment.clock.now))

    async def __call__(self, operation: str, **inputs: Any) -> OperationResult:
        result = await get_operation(self.target.dialect, operation)(self.ctx, inputs)
        if result.error:
            raise AssertionError(f"{operation}: {result.error}")
        return result

    async def aclose(self) -> None:
        await self.ctx.aclose()


def demo(variant_name: str) -> Callable[[Demo], Demo]:
    def register(function: Demo) -> Demo:
        DEMOS[variant_name] = function
        return function
    return register


async def _holder(steps: Steps) -> None:
    for operation in ("holder.register", "holder.login"):
        await steps(operation)


@demo("holder.foreign_credentials")
async def foreign_credentials(steps: Steps, deployment: Any) -> Seen:
    """Holder seed §3: another user's credential id answers 403 (or 404), never the record."""
    await _holder(steps)
    await steps("holder.create_did", method="JWK")
    offer = await steps("issuer.create_offer", claims=CLAIMS, notarize=False)
    received = await steps("holder.receive", offer=offer.body["deep_link"])
    other = Steps(steps.target, seed=1)
    try:
        await _holder(other)
        got = await other("holder.get_credential", credential_id=received.body["credential_id"])
    finally:
        await other.aclose()
    return got.status in (403, 404), f"user B reading user A's credential: HTTP {got.status}"


@demo("holder.tokens_never_expire")
async def tokens_never_expire(steps: Steps, deployment: Any) -> Seen:
    """RFC 6750 §3.1: a token past its expires_in is invalid_token (401)."""
    await steps("holder.register")
    session = await steps("holder.login")
    deployment.clock.advance(float(session.body["expires_in"]) + 1)
    listed = await steps("holder.list_dids")
    return listed.status == 401, f"GET /v1/did with a token past expires_in: HTTP {listed.status}"


@demo("holder.accepts_unverified_credentials")
async def accepts_unverified_credentials(steps: Steps, deployment: Any) -> Seen:
    """Holder seed §2: a credential whose issuer signature does not verify is not kept (502)."""
    VARIANTS["issuer.corrupted_signature"].apply(deployment)   # an issuer that signs badly
    await _holder(steps)
    await steps("holder.create_did", method="JWK")
    offer = await steps("issuer.create_offer", claims=CLAIMS, notarize=False)
    received = await steps("holder.receive", offer=offer.body["deep_link"])
    return received.status == 502, f"receive of a credential with a corrupted signature: HTTP {received.status}"


@demo("ledger.deactivation_ignored")
async def deactivation_ignored(steps: Steps, deployment: Any) -> Seen:
    """IOTA DID Method v2.0 (Deactivate), DID Resolution: a deactivated DID resolves 410 Gone."""
    published = await steps("ledger.create_did")
    did = published.artefacts["did"]
    key = private_key_from_b64u(published.artefacts["private_key"], "EdDSA")
    proof = sign_jws({"typ": "JWT"}, {"op": "deactivate", "iat": int(deployment.clock.now()), "did": did}, key)
    ledger = steps.target.roles["ledger"].base_url.rstrip("/")
    answer = await steps.target.http.post(f"{ledger}/v1/dids/{quote(did, safe=':')}/deactivate", json={"proof": proof})
    if answer.status_code != 200:
        raise AssertionError(f"the ledger did not deactivate {did}: HTTP {answer.status_code} {answer.text}")
    resolved = await steps("ledger.resolve", did=did)
    return resolved.status == 410, f"resolving a deactivated DID: HTTP {resolved.status}"

"""issuer.double_offer: the harness plays the Credential Issuer (an issuer double, conformance/
issuer_double.py) for a wallet under test: `issuer.double_offer` hosts a pre-authorized
code offer whose credential is broken on purpose (`defects`) or not; the wallet is then driven
through its own API (holder.receive) and what it keeps is read back (holder.list_credentials).

OID4VCI 1.0 is the same whatever vendor API manages the wallet, so this operation belongs to no
dialect. It is named `issuer.*` because the operation grammar (`<role>.<verb>`, role letters only:
the scenario schema) has no room for an `issuer_double.` prefix; unlike the issuer management
operations it needs only the holder role: the harness hosts the issuer itself, started at the
first `issuer.double_offer` of a scenario and stopped when the scenario ends (a cleanup):
- embedded reference: an ASGI app mounted on the in-process network at
  `https://issuer-double-<n>.local`;
- any other target: a uvicorn server on a free port of the host the target file's
  `webhooks.listen` names (default 127.0.0.1), which the wallet under test must be able to reach.
"""

from __future__ import annotations

import string
from collections.abc import Callable

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.hosting import host
from conformance.dialects.inputs import Inputs
from conformance.issuer_double import IssuerDouble, issuer_key_url

DOUBLE = "issuer_double.host"
URL_SAFE = string.ascii_letters + string.digits + "-._~"
DEFAULT_CONFIG = "HarnessCredential"
DEFAULT_CLAIMS = {"credentialName": "Issuer double credential", "issuedTime": "2026-01-15T00:00:00Z"}



def _draw(ctx: StepContext) -> Callable[[int], str]:
    def draw(n: int) -> str:
        return "".join(ctx.rng.choice(URL_SAFE) for _ in range(n))
    return draw


async def _double(ctx: StepContext) -> IssuerDouble:
    double = ctx.state.get(DOUBLE)
    if double is None:
        double = await host(ctx, "issuer-double", lambda base: IssuerDouble(base, draw=_draw(ctx), clock=ctx.now))
        ctx.state[DOUBLE] = double
    return double


async def create_offer(ctx: StepContext, args: Inputs) -> OperationResult:
    double = await _double(ctx)
    config = args.text("config", DEFAULT_CONFIG) or DEFAULT_CONFIG
    try:
        offer = double.add_offer(
            offer_id=f"{ctx.rng.getrandbits(64):016x}", config_id=config,
            vct=args.text("vct") or f"{double.credential_issuer}/vct/{config}",
            claims=args.obj("claims", DEFAULT_CLAIMS) or {}, defects=tuple(args.strings("defects")))
    except ValueError as exc:
        raise InputError(f"issuer.double_offer: {exc}") from None
    link = double.deep_link(offer)
    body = {"deep_link": link, "credential_offer_uri": double.offer_uri(offer), "offer_id": offer.offer_id,
            "credential_issuer": double.credential_issuer, "defects": list(offer.defects)}
    artefacts = {"deep_link": link, "offer": double.offer_json(offer), "offer_id": offer.offer_id,
                 "issuer_metadata": double.issuer_metadata(), "issuer_key": double.key.key.public,
                 "issuer_kid": double.key.kid, "issuer_key_url": issuer_key_url(double.credential_issuer),
                 "claims": dict(offer.claims), "vct": offer.vct, "config_id": offer.config_id,
                 "defects": list(offer.defects)}
    return OperationResult(None, body, [], artefacts)


OPERATIONS = {"issuer.double_offer": create_offer}

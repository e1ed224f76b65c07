"""rp.*: the harness plays the Verifier (a relying party double, conformance/rp.py) for a wallet
under test, the way the public conformance programme's wallet tests do: `rp.create_request`
hosts a request (signed Request Object at request_uri, a response_uri), possibly broken on
purpose (`variations`); the wallet is then driven through its own API (holder.request_details,
holder.present); `rp.response` says what reached the RP and judges it with the protocol core.

OID4VP 1.0 is the same whatever vendor API manages the wallet, so these operations belong to no
dialect. They need only the holder role: the harness hosts the RP itself, started at the first
`rp.create_request` of a scenario and stopped when the scenario ends (a cleanup):
- embedded reference: an ASGI app mounted on the in-process network at `https://rp-<n>.local`;
- any other target: a uvicorn server on a free port of the host the target file's `webhooks.listen`
  names (default 127.0.0.1), which the wallet under test must be able to reach.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from typing import Any

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.hosting import host
from conformance.dialects.inputs import Inputs
from conformance.exchange import Exchange
from conformance.issuer_keys import IssuerKeys
from conformance.protocol.jose import Jws, PublicKey, json_from_b64u
from conformance.redact import redact
from conformance.resolver import DidResolver
from conformance.rp import Hosted, RelyingParty, judge, new_identity, plan_request, request_object
from conformance.rp import authorization_request as authorization_request_url

PARTY, LAST = "rp.party", "rp.last"
URL_SAFE = string.ascii_letters + string.digits + "-._~"   # OID4VP 1.0 §5.2: nonce and state


# --- hosting -----------------------------------------------------------------------------------

async def _party(ctx: StepContext) -> RelyingParty:
    party = ctx.state.get(PARTY)
    if party is None:
        party = await host(ctx, "rp", lambda base: RelyingParty(base, clock=ctx.now))
        ctx.state[PARTY] = party
    return party


def _draw(ctx: StepContext) -> Any:
    def draw(n: int) -> str:
        return "".join(ctx.rng.choice(URL_SAFE) for _ in range(n))
    return draw


# --- rp.create_request -----------------------------------------------------------------------------

async def create_request(ctx: StepContext, args: Inputs) -> OperationResult:
    party = await _party(ctx)
    identity = new_identity()
    try:
        plan = plan_request(
            base_url=party.base_url, request_id=f"{ctx.rng.getrandbits(64):016x}", identity=identity,
            dcql_query=args.obj("dcql", required=True) or {}, draw=_draw(ctx),
            variations=tuple(args.strings("variations")),
            response_mode=args.text("response_mode", "direct_post") or "direct_post",
            client_metadata=args.obj("client_metadata"))
    except ValueError as exc:
        raise InputError(f"rp.create_request: {exc}") from None
    hosted = party.add(plan, identity.key)
    ctx.state[LAST] = plan.request_id
    link = authorization_request_url(plan)
    body = {"authorization_request": link, "request_id": plan.request_id, "client_id": plan.client_id,
            "request_uri": plan.request_uri, "response_uri": plan.response_uri,
            "response_mode": plan.response_mode, "variations": list(plan.variations)}
    artefacts = {"authorization_request": link, "request_id": plan.request_id, "rp_client_id": plan.client_id,
                 "verifier_key": identity.key.public, "request_object": _claims(_planned(ctx, hosted))}
    return OperationResult(None, body, [], artefacts)


def _planned(ctx: StepContext, hosted: Hosted) -> str:
    return request_object(hosted.plan, hosted.key, iat=int(ctx.now()), client_metadata=hosted.client_metadata)


def _claims(token: str) -> dict[str, Any]:
    """The payload of a Request Object, signed or not (the unsigned ones have alg none)."""
    return json_from_b64u(token.split(".")[1], "request_object.payload")


# --- rp.response ---------------------------------------------------------------------------------

async def response(ctx: StepContext, args: Inputs) -> OperationResult:
    party = ctx.state.get(PARTY)
    request_id = args.text("request_id") or ctx.state.get(LAST)
    if party is None or request_id not in party.hosted:
        raise InputError("rp.response: no such RP request in this scenario: run rp.create_request first, or "
                         "give the `request_id` it answered")
    timeout = args.number("timeout", 0.0, minimum=0) or 0.0
    if timeout:
        await party.wait_for_response(request_id, timeout)
    hosted = party.hosted[request_id]
    verdict = await judge(hosted, issuer_key=_issuer_keys(ctx), now=ctx.now())
    served = hosted.served[-1] if hosted.served else _planned(ctx, hosted)
    artefacts: dict[str, Any] = {
        "rp_result": dict(verdict.summary), "request_object": _claims(served),
        "presentations": [{"query_id": q, "presentation": p} for q, p in zip(verdict.query_ids,
                                                                            verdict.presentations)],
    }
    if verdict.presentations:
        artefacts["presentation"] = verdict.presentations[0]
    return OperationResult(None, dict(verdict.summary), _received(party, hosted), artefacts)


def _issuer_keys(ctx: StepContext) -> Any:
    """An Issuer's key the way a Verifier finds it (SD-JWT VC §3.5): DID URL kid (did:iota on the
    target's ledger), x5c chain (not anchored: the RP has no trust list), or issuer metadata."""
    ledger = ctx.target.roles.get("ledger")
    keys = IssuerKeys(DidResolver(ctx.target.http, ledger.base_url if ledger else None), ctx.target.http,
                      require_anchor=False)

    async def lookup(jws: Jws) -> PublicKey:
        return (await keys.for_jwt(jws.header, jws.payload, ctx.now())).key

    return lookup


def _received(party: RelyingParty, hosted: Hosted) -> list[Exchange]:
    """The calls the RP received, as exchanges for the report (incoming: the wallet called us)."""
    return [Exchange(method=call.method, url=party.base_url + call.path,
                     request_headers={"content-type": call.content_type}, request_body=redact(_shown(call.form)),
                     status=call.answered, response_headers={}, response_body=None, elapsed_ms=0.0, error=None)
            for call in hosted.calls]


def _shown(form: Mapping[str, str]) -> dict[str, str]:
    return {k: v if len(v) <= 200 else v[:200] + f"... [{len(v)} characters]" for k, v in form.items()}


OPERATIONS = {"rp.create_request": create_request, "rp.response": response}

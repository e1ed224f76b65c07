"""Checks on a wallet under test, seen from the harness Verifier (`rp.response`, conformance/rp.py):
did it refuse what it must refuse, was what it presented acceptable, did it disclose no more than
asked, did it fetch request_uri as told (OID4VP 1.0 §5.10, §6.4, §8; RFC 9901 §7.2).

They read the artefact `rp_result` (the RP's account: fetches, the decoded responses, the
verdict on each presentation) and, for disclosure, the presentations themselves with the Request
Object's DCQL query.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.dcql import _allowed as within_requested
from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.protocol.dcql import parse_query
from conformance.protocol.sdjwt import parse_sd_jwt, unpack

FORM = "application/x-www-form-urlencoded"


def _result(ctx: CheckContext) -> Mapping[str, Any]:
    result = ctx.artefact("rp_result")
    if not isinstance(result, Mapping):
        raise ev.EvidenceError("rp_result_unreadable", f"rp_result is a {type(result).__name__}, not the RP's "
                               "account (a JSON object)")
    return result


@check("holder.no_vp_token", spec="OID4VP 1.0 §5.9.3, §6.4.2, §8.5; RFC 9101 §6.2", needs=("rp_result",),
       description="The wallet sent no vp_token for a request it must refuse: nothing reached the response "
                   "endpoint, or only an Authorization Error Response (never an empty or partial vp_token).")
async def no_vp_token(ctx: CheckContext) -> CheckOutcome:
    responses = list(_result(ctx).get("responses") or [])
    carrying = [r.get("vp_token") for r in responses if r.get("has_vp_token")]
    if carrying:
        return CheckOutcome.failed(f"a vp_token {carrying[0]!r}", "no vp_token at all", "the wallet presented")
    if any(r.get("has_vp_token") is None for r in responses):
        return CheckOutcome.failed("a response the RP cannot decrypt", "no response, or a readable error response")
    errors = [r.get("error") for r in responses if r.get("error")]
    if errors:
        return CheckOutcome.passed(f"the wallet answered with the error {errors[0]!r} and no vp_token")
    return CheckOutcome.passed("nothing reached the response endpoint")


@check("holder.presentation_accepted", spec="OID4VP 1.0 §6.4.2, §8.1, §8.6, §14.1.2; RFC 9901 §7.3",
       needs=("rp_result",),
       description="The wallet answered with one response whose vp_token the RP accepts: state echoed, every "
                   "presentation's issuer signature and KB-JWT (aud, nonce, sd_hash, iat) verify, and the "
                   "presented claims satisfy the DCQL query, credential_sets included.")
async def presentation_accepted(ctx: CheckContext) -> CheckOutcome:
    result = _result(ctx)
    outcome, problems = result.get("outcome"), list(result.get("problems") or [])
    if outcome != "presented":
        detail = f" ({result.get('error')})" if result.get("error") else ""
        return CheckOutcome.failed(f"{outcome}{detail}", "a vp_token")
    if problems:
        return CheckOutcome.failed(problems[0], "no problem", f"{len(problems)} problem(s)")
    answered = sorted({p.get("query_id") for p in result.get("presentations") or []})
    return CheckOutcome.passed(f"{len(result.get('presentations') or [])} presentation(s) for {answered} verify "
                               "and satisfy the query")


@check("holder.minimal_disclosure", spec="OID4VP 1.0 §6.4.1, §7.1; RFC 9901 §7.2",
       needs=("presentations", "request_object"),
       description="Each presentation discloses only what its credential query asks (or a parent needed to "
                   "reach it); a credential query without `claims` gets no Disclosure at all.")
async def minimal_disclosure(ctx: CheckContext) -> CheckOutcome:
    presented = ctx.artefact("presentations")
    if not isinstance(presented, Sequence) or not presented:
        return CheckOutcome.skipped("the wallet presented nothing to judge")
    query = parse_query(ev.request_claims(ctx.artefact("request_object")).get("dcql_query"))
    extra: list[str] = []
    for item in presented:
        extra += _over_disclosed(query, item["query_id"], item["presentation"])
    if extra:
        return CheckOutcome.failed(f"disclosed {extra}", "only the requested claims", "over-disclosure")
    return CheckOutcome.passed(f"{len(presented)} presentation(s) disclose only what their queries ask")


def _over_disclosed(query: Any, query_id: str, text: str) -> list[str]:
    sd_jwt = parse_sd_jwt(text)
    revealed = sorted(unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures).revealed, key=str)
    claims = query.credential(query_id).claims
    if claims is None:   # §6.4.1: no claims requested: only what must be presented, no Disclosure
        return [f"{query_id}:{'.'.join(map(str, path))}" for path in revealed]
    pointers = [c.path.components for c in claims]
    return [f"{query_id}:{'.'.join(map(str, path))}" for path in revealed if not within_requested(path, pointers)]


@check("holder.request_uri_post", spec="OID4VP 1.0 §5.10, §5.10.1", needs=("rp_result", "request_object"),
       description="Told request_uri_method=post, the wallet fetched request_uri with a form-encoded POST "
                   "carrying a wallet_nonce, and the Request Object it was served repeats that wallet_nonce. "
                   "Falling back to GET is permitted (§5.10) and skips the check.")
async def request_uri_post(ctx: CheckContext) -> CheckOutcome:
    fetches = list(_result(ctx).get("fetches") or [])
    if not fetches:
        return CheckOutcome.failed("no fetch of request_uri", "a POST to request_uri")
    if any(f.get("method") == "GET" for f in fetches):
        return CheckOutcome.skipped("the wallet fetched request_uri with GET, the fallback §5.10 permits")
    fetch = fetches[-1]
    if not str(fetch.get("content_type", "")).startswith(FORM):
        return CheckOutcome.failed(f"Content-Type {fetch.get('content_type')!r}", FORM)
    nonce = fetch.get("wallet_nonce")
    if not nonce:
        return CheckOutcome.failed("a POST without wallet_nonce", "wallet_nonce (§5.10.1)")
    served = ev.request_claims(ctx.artefact("request_object")).get("wallet_nonce")
    if served != nonce:
        return CheckOutcome.failed(f"Request Object wallet_nonce {served!r}", f"the posted {nonce!r}")
    return CheckOutcome.passed(f"POST {FORM} with wallet_nonce; the Request Object repeats it")

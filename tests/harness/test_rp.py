"""The harness Verifier (conformance/rp.py, conformance/dialects/shared/rp.py): its requests are
what the protocol core says, each variation breaks exactly what it names, its endpoint records
what wallets do, and its verdict catches what a Verifier must catch - with real keys, real
signatures, real SD-JWT VCs and real encryption."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from conformance.dialects.base import InputError, StepContext
from conformance.dialects.inputs import Inputs
from conformance.dialects.shared import rp as rp_ops
from conformance.harness.target import RoleEndpoint, Target
from conformance.protocol.did import did_jwk_from_public, resolve_local
from conformance.protocol.errors import Oid4vpError
from conformance.protocol.jose import Jws, PrivateKey, PublicKey, generate_key, json_from_b64u
from conformance.protocol.oid4vp import (
    build_direct_post_body,
    build_direct_post_jwt_body,
    parse_authorization_request,
    request_signing_key_source,
    select_encryption_jwk,
    verify_request_object,
)
from conformance.protocol.sdjwt import issue_sd_jwt_vc, present
from conformance.resolver import DidResolver
from conformance.rp import (
    VARIATIONS,
    Hosted,
    RelyingParty,
    authorization_request,
    judge,
    new_identity,
    plan_request,
    request_object,
)

BASE = "https://rp.test"
VCT = "https://example.test/vct/degree"
QUERY = {"credentials": [{"id": "degree", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                          "claims": [{"path": ["name"]}]}]}
CLAIMS = {"name": "Ada", "grade": "A", "year": 2026}
NOW = 1_800_000_000


def _draw() -> Any:
    rng = random.Random(7)
    return lambda n: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-._~") for _ in range(n))


def _plan(*variations: str, query: dict[str, Any] = QUERY, mode: str = "direct_post") -> tuple[Any, Any]:
    identity = new_identity()
    return identity, plan_request(base_url=BASE, request_id="r1", identity=identity, dcql_query=query,
                                  draw=_draw(), variations=variations, response_mode=mode)


def _verify(plan: Any, token: str, *, wallet_nonce: str | None = None) -> Any:
    """What a conforming wallet does with the link and the served Request Object (the core)."""
    request = parse_authorization_request(authorization_request(plan))
    source = request_signing_key_source(token, request.client_id)
    key = resolve_key(source.did_url)
    return verify_request_object(token, key, expected_client_id=request.client_id, now=NOW,
                                 wallet_nonce=wallet_nonce)


def resolve_key(did_url: str | None) -> PublicKey:
    assert did_url is not None
    return asyncio.run(DidResolver(httpx.AsyncClient(), None).key_for(did_url, "authentication"))


# --- plans and Request Objects ------------------------------------------------------------------


def test_a_plain_request_is_what_the_core_accepts() -> None:
    identity, plan = _plan()
    token = request_object(plan, identity.key, iat=NOW)
    verified = _verify(plan, token)
    assert verified.client_id == identity.client_id == plan.client_id
    assert verified.client_id.startswith("decentralized_identifier:did:key:")
    assert verified.response_uri == f"{BASE}/response/r1" and verified.response_mode == "direct_post"
    assert verified.nonce == plan.nonce and len(plan.nonce) == 22 and verified.state == plan.state
    assert verified.dcql_query == QUERY and verified.header["kid"] == identity.kid
    link = parse_qs(urlsplit(authorization_request(plan)).query)
    assert link == {"client_id": [plan.client_id], "request_uri": [f"{BASE}/request/r1"]}


REFUSED = {
    "bad_signature": "request_object_signature_invalid",
    "client_id_mismatch": "client_id_mismatch",
    "redirect_uri_with_direct_post": "redirect_uri_with_direct_post",
    "no_nonce": "nonce_missing",
    "bad_prefix": "client_id_prefix_unsupported",
    # unsigned, as the redirect_uri prefix requires; this core only takes signed Request Objects
    "response_uri_not_allowed": "request_object_malformed",
}


@pytest.mark.parametrize("variation", sorted(REFUSED))
def test_each_breaking_variation_is_refused_by_the_core_for_its_reason(variation: str) -> None:
    identity, plan = _plan(variation)
    token = request_object(plan, identity.key, iat=NOW)
    with pytest.raises(Oid4vpError) as refused:
        _verify(plan, token)
    assert refused.value.reason == REFUSED[variation], refused.value.message


def test_breaking_variations_change_only_what_they_name() -> None:
    identity, plan = _plan("client_id_mismatch")
    claims = json_from_b64u(request_object(plan, identity.key, iat=NOW).split(".")[1], "p")
    assert claims["client_id"] != plan.client_id and claims["client_id"].startswith("decentralized_identifier:")
    _, plan = _plan("no_nonce")
    assert "nonce" not in json_from_b64u(request_object(plan, identity.key, iat=NOW).split(".")[1], "p")
    identity, plan = _plan("response_uri_not_allowed")
    token = request_object(plan, identity.key, iat=NOW)
    header, claims = json_from_b64u(token.split(".")[0], "h"), json_from_b64u(token.split(".")[1], "p")
    assert header == {"alg": "none", "typ": "oauth-authz-req+jwt"} and token.endswith(".")
    assert claims["client_id"] == f"redirect_uri:{BASE}/callback" != f"redirect_uri:{claims['response_uri']}"
    identity, plan = _plan("bad_signature")
    good = request_object(plan.__class__(**{**plan.__dict__, "signing": "valid"}), identity.key, iat=NOW)
    bad = request_object(plan, identity.key, iat=NOW)
    assert good.rsplit(".", 1)[0] == bad.rsplit(".", 1)[0] and good != bad


def test_benign_variations_still_verify() -> None:
    identity, plan = _plan("long_state", "unknown_params", "response_redirect")
    verified = _verify(plan, request_object(plan, identity.key, iat=NOW))
    assert len(verified.nonce) == 32 and len(verified.state) == 64
    assert verified.claims["x_harness_unknown"] == plan.url_extra[0][1]
    link = authorization_request(plan)
    assert link.index("x_harness_unknown=") < link.index("request_uri=") < link.index("client_id=")
    assert plan.answer_redirect_uri == f"{BASE}/done/r1"
    identity, plan = _plan("no_state")
    assert _verify(plan, request_object(plan, identity.key, iat=NOW)).state is None


def test_request_uri_method_post_signs_the_wallet_nonce_in() -> None:
    identity, plan = _plan("request_uri_method_post")
    assert "request_uri_method=post" in authorization_request(plan)
    token = request_object(plan, identity.key, iat=NOW, wallet_nonce="wn-123")
    assert _verify(plan, token, wallet_nonce="wn-123").wallet_nonce == "wn-123"
    with pytest.raises(Oid4vpError, match="wallet_nonce"):
        _verify(plan, token, wallet_nonce="another")


def test_encryption_key_without_use_is_still_selectable() -> None:
    identity, plan = _plan("enc_key_without_use", mode="direct_post.jwt")
    hosted = RelyingParty(BASE).add(plan, identity.key)
    (key,) = hosted.client_metadata["jwks"]["keys"]
    assert "use" not in key and key["alg"] == "ECDH-ES"
    assert select_encryption_jwk(hosted.client_metadata)[0]["kid"] == "enc-r1"
    verified = _verify(plan, request_object(plan, identity.key, iat=NOW, client_metadata=hosted.client_metadata))
    assert verified.response_mode == "direct_post.jwt"


def test_the_catalogue_names_every_variation() -> None:
    from conformance.dialects.catalogue import spec_of
    described = spec_of("rp.create_request").inputs["variations"]
    assert [name for name in VARIATIONS if name not in described] == []
    assert spec_of("rp.create_request").roles == spec_of("rp.response").roles == ("holder",)


def test_unknown_variations_and_modes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown RP variation.*bad_signatur"):
        _plan("bad_signatur")
    with pytest.raises(ValueError, match="response_mode"):
        _plan(mode="fragment")
    assert all(v.clause and v.description for v in VARIATIONS.values())


# --- the endpoint --------------------------------------------------------------------------------


async def _call(party: RelyingParty, method: str, path: str, **kw: Any) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=party.app()), base_url=BASE) as http:
        return await http.request(method, path, **kw)


@pytest.mark.anyio
async def test_the_endpoint_serves_and_records() -> None:
    party = RelyingParty(BASE, clock=lambda: NOW)
    identity, plan = _plan("request_uri_method_post", "response_redirect")
    hosted = party.add(plan, identity.key)
    fetched = await _call(party, "POST", "/request/r1", data={"wallet_nonce": "wn-9", "wallet_metadata": "{}"})
    assert fetched.status_code == 200 and fetched.headers["content-type"] == "application/oauth-authz-req+jwt"
    assert json_from_b64u(fetched.text.split(".")[1], "p")["wallet_nonce"] == "wn-9"
    assert (await _call(party, "GET", "/request/nope")).status_code == 404
    first = await _call(party, "POST", "/response/r1", data={"vp_token": "{}", "state": "s"})
    assert first.status_code == 200 and first.json() == {"redirect_uri": f"{BASE}/done/r1"}
    again = await _call(party, "POST", "/response/r1", data={"vp_token": "{}"})
    assert again.status_code == 400
    kinds = [(c.kind, c.method, c.answered) for c in hosted.calls]
    assert kinds == [("request", "POST", 200), ("response", "POST", 200), ("response", "POST", 400)]
    assert hosted.calls[0].form["wallet_nonce"] == "wn-9" and hosted.served


# --- the verdict ---------------------------------------------------------------------------------


class Issued:
    """A real SD-JWT VC from a did:jwk issuer, bound to a holder key."""

    def __init__(self, claims: dict[str, Any] = CLAIMS, vct: str = VCT) -> None:
        self.issuer_key, self.holder = generate_key("EdDSA"), generate_key("ES256")
        self.issuer = did_jwk_from_public(self.issuer_key.public)
        self.credential = issue_sd_jwt_vc(
            issuer_key=self.issuer_key, header={"kid": resolve_local(self.issuer)["verificationMethod"][0]["id"]},
            payload={"iss": self.issuer, "vct": vct, "iat": NOW - 10}, claims=claims,
            holder_key=self.holder.public).serialize()

    def present(self, plan: Any, *paths: tuple[str, ...], nonce: str | None = None,
                holder: PrivateKey | None = None) -> str:
        return present(self.credential, paths, holder_key=holder or self.holder, aud=plan.client_id,
                       nonce=nonce or plan.nonce, iat=NOW)


async def _lookup(jws: Jws) -> PublicKey:
    return await DidResolver(httpx.AsyncClient(), None).key_for(jws.header["kid"])


def _post(hosted: Hosted, form: dict[str, str]) -> None:
    from conformance.rp import Received
    hosted.calls.append(Received("response", "POST", "/response/r1", "application/x-www-form-urlencoded",
                                 form, 200, 0.0))


def _judge(hosted: Hosted) -> Any:
    return asyncio.run(judge(hosted, issuer_key=_lookup, now=NOW))


@pytest.fixture
def issued() -> Iterator[Issued]:
    yield Issued()


def test_a_good_presentation_is_accepted(issued: Issued) -> None:
    identity, plan = _plan()
    hosted = RelyingParty(BASE).add(plan, identity.key)
    _post(hosted, build_direct_post_body({"degree": [issued.present(plan, ("name",))]}, plan.state))
    verdict = _judge(hosted)
    assert verdict.outcome == "presented" and verdict.problems == ()
    (presented,) = verdict.summary["presentations"]
    assert presented == {"query_id": "degree", "valid": True, "disclosed": ["name"], "disclosures": 1,
                         "vct": VCT, "satisfies_query": True}
    assert verdict.summary["satisfied"] is True and verdict.summary["state_matches"] is True
    assert verdict.query_ids == ("degree",) and verdict.presentations[0].count("~") == 2
    assert verdict.summary["responses"] == [{"readable": True, "has_vp_token": True, "vp_token": {"degree": 1},
                                             "state": plan.state}]


@pytest.mark.parametrize("fault, reason", [
    ("wrong_nonce", "kb_nonce_mismatch"), ("wrong_holder_key", "kb_signature_invalid"),
    ("wrong_state", "state_mismatch"), ("claim_missing", "do not satisfy credential query"),
    ("unknown_query", "vp_token_unknown_query"),
])
def test_a_bad_presentation_is_caught(issued: Issued, fault: str, reason: str) -> None:
    identity, plan = _plan()
    hosted = RelyingParty(BASE).add(plan, identity.key)
    presentation = {
        "wrong_nonce": lambda: issued.present(plan, ("name",), nonce="not-the-nonce"),
        "wrong_holder_key": lambda: issued.present(plan, ("name",), holder=generate_key("ES256")),
        "claim_missing": lambda: issued.present(plan, ("grade",)),
    }.get(fault, lambda: issued.present(plan, ("name",)))()
    token = {"other": [presentation]} if fault == "unknown_query" else {"degree": [presentation]}
    _post(hosted, build_direct_post_body(token, "another-state" if fault == "wrong_state" else plan.state))
    verdict = _judge(hosted)
    assert verdict.outcome == "presented"
    assert any(reason in problem for problem in verdict.problems), verdict.problems


def test_credential_sets_decide_what_is_enough(issued: Issued) -> None:
    query = {"credentials": [QUERY["credentials"][0],
                             {"id": "other", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:x"]}}],
             "credential_sets": [{"options": [["degree"]]}, {"options": [["other"]], "required": False}]}
    identity, plan = _plan(query=query)
    hosted = RelyingParty(BASE).add(plan, identity.key)
    _post(hosted, build_direct_post_body({"degree": [issued.present(plan, ("name",))]}, plan.state))
    assert _judge(hosted).problems == ()
    required = {**query, "credential_sets": [{"options": [["degree"]]}, {"options": [["other"]]}]}
    identity, plan = _plan(query=required)
    hosted = RelyingParty(BASE).add(plan, identity.key)
    _post(hosted, build_direct_post_body({"degree": [issued.present(plan, ("name",))]}, plan.state))
    verdict = _judge(hosted)
    assert verdict.summary["unsatisfied"] == ["credential_sets[1]"] and verdict.problems


def test_encrypted_responses_are_decrypted_and_garbage_is_unreadable(issued: Issued) -> None:
    identity, plan = _plan(mode="direct_post.jwt")
    hosted = RelyingParty(BASE).add(plan, identity.key)
    _post(hosted, build_direct_post_jwt_body({"degree": [issued.present(plan, ("name",))]}, plan.state,
                                             hosted.client_metadata))
    assert _judge(hosted).outcome == "presented" and _judge(hosted).problems == ()
    identity, plan = _plan(mode="direct_post.jwt")
    hosted = RelyingParty(BASE).add(plan, identity.key)
    _post(hosted, {"response": "not.a.jwe.at.all"})
    verdict = _judge(hosted)
    assert verdict.outcome == "invalid_response"
    assert verdict.summary["responses"] == [{"readable": False, "has_vp_token": None}]


def test_refusals_error_responses_and_replays() -> None:
    identity, plan = _plan()
    hosted = RelyingParty(BASE).add(plan, identity.key)
    assert _judge(hosted).outcome == "no_response"
    _post(hosted, {"error": "access_denied", "error_description": "no matching credential", "state": plan.state})
    verdict = _judge(hosted)
    assert verdict.outcome == "error_response" and verdict.summary["error"] == "access_denied"
    assert verdict.summary["responses"][0]["has_vp_token"] is False
    _post(hosted, {"error": "access_denied"})
    assert any("posted 2 responses" in p for p in _judge(hosted).problems)
    identity, plan = _plan()
    hosted = RelyingParty(BASE).add(plan, identity.key)
    _post(hosted, {"vp_token": "{}"})
    empty = _judge(hosted)
    assert empty.outcome == "invalid_response" and empty.summary["responses"][0]["has_vp_token"] is True


# --- the operations, hosted on a real socket (a target that is not the embedded reference) ---------


def _socket_context() -> StepContext:
    http = httpx.AsyncClient(timeout=5.0)
    target = Target("socket-test", "tcs", {"holder": RoleEndpoint("http://127.0.0.1:9")}, {}, http)
    return StepContext(target=target, vars={}, rng=random.Random(3), wallet=None)


def _inputs(name: str, **given: Any) -> Inputs:
    from conformance.dialects.catalogue import spec_of
    return Inputs(name, given, tuple(spec_of(name).inputs))


@pytest.mark.anyio
async def test_operations_host_the_rp_on_a_socket_and_judge_what_arrives() -> None:
    ctx = _socket_context()
    try:
        created = await rp_ops.create_request(ctx, _inputs("rp.create_request", dcql=QUERY,
                                                           variations=["request_uri_method_post"]))
        body = created.body
        assert body["request_uri"].startswith("http://127.0.0.1:")
        assert created.artefacts["request_object"]["dcql_query"] == QUERY
        link = parse_authorization_request(body["authorization_request"])
        fetched = await ctx.target.http.post(link.request_uri, data={"wallet_nonce": "socket-nonce"})
        assert fetched.status_code == 200
        judged = await rp_ops.response(ctx, _inputs("rp.response"))
        assert judged.body["outcome"] == "no_response" and judged.body["fetches"][0]["method"] == "POST"
        assert judged.artefacts["request_object"]["wallet_nonce"] == "socket-nonce"
        assert [e.method for e in judged.exchanges] == ["POST"] and judged.exchanges[0].status == 200
        with pytest.raises(InputError, match="variation"):
            await rp_ops.create_request(ctx, _inputs("rp.create_request", dcql=QUERY, variations=["nope"]))
        with pytest.raises(InputError, match="no such RP request"):
            await rp_ops.response(ctx, _inputs("rp.response", request_id="unknown"))
    finally:
        await ctx.aclose()
        await ctx.target.http.aclose()
    with pytest.raises(httpx.ConnectError):   # the cleanup stopped the server
        async with httpx.AsyncClient() as http:
            await http.get(body["request_uri"])


@pytest.mark.anyio
async def test_response_waits_a_bounded_time_for_a_late_wallet() -> None:
    ctx = _socket_context()
    try:
        created = await rp_ops.create_request(ctx, _inputs("rp.create_request", dcql=QUERY))

        async def late_wallet() -> None:
            await asyncio.sleep(0.05)
            await ctx.target.http.post(created.body["response_uri"], data={"error": "access_denied"})

        task = asyncio.create_task(late_wallet())
        judged = await rp_ops.response(ctx, _inputs("rp.response", timeout=5))
        await task
        assert judged.body["outcome"] == "error_response"
        assert json.dumps(judged.body)   # JSON-ready
    finally:
        await ctx.aclose()
        await ctx.target.http.aclose()

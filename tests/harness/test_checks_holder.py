"""The wallet-under-test checks (conformance/harness/checks/holder.py), each shown passing and
failing: on the RP's account for refusals and acceptance, on real SD-JWT presentations for
disclosure, on recorded fetches for request_uri_method=post."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conformance.harness.checks import REGISTRY, CheckOutcome
from conformance.protocol.did import did_jwk_from_public
from conformance.protocol.jose import generate_key
from conformance.protocol.sdjwt import issue_sd_jwt_vc, present

from ._doubles import World, check_context, make_target

VCT = "https://example.test/vct/resident"
CLAIMS = {"given_name": "Ana", "address": {"locality": "Lisboa", "country": "PT"}, "nationalities": ["PT", "BR"]}


def run(name: str, artefacts: dict[str, Any]) -> CheckOutcome:
    async def go() -> CheckOutcome:
        target = make_target(World())
        try:
            return await REGISTRY.get(name).run(check_context(target, artefacts))
        finally:
            await target.aclose()
    return asyncio.run(go())


def _result(**members: Any) -> dict[str, Any]:
    return {"outcome": "no_response", "fetches": [], "responses": [], "presentations": [], "problems": [],
            **members}


# --- holder.no_vp_token -------------------------------------------------------------------------


def test_no_vp_token_passes_on_silence_and_on_an_error_response() -> None:
    silent = run("holder.no_vp_token", {"rp_result": _result()})
    assert silent.status == "passed" and "nothing reached" in silent.message
    declined = run("holder.no_vp_token", {"rp_result": _result(outcome="error_response", responses=[
        {"readable": True, "has_vp_token": False, "error": "access_denied"}])})
    assert declined.status == "passed" and "access_denied" in declined.message


@pytest.mark.parametrize("response, shown", [
    ({"readable": True, "has_vp_token": True, "vp_token": {}}, "{}"),                       # an empty vp_token
    ({"readable": True, "has_vp_token": True, "vp_token": {"certificate": 1}}, "certificate"),  # a partial one
    ({"readable": False, "has_vp_token": None}, "cannot decrypt"),
])
def test_no_vp_token_fails_on_any_vp_token_or_an_unreadable_response(response: dict, shown: str) -> None:
    outcome = run("holder.no_vp_token", {"rp_result": _result(outcome="presented", responses=[response])})
    assert outcome.status == "failed" and shown in outcome.message


def test_no_vp_token_needs_the_rp_account() -> None:
    assert run("holder.no_vp_token", {}).status == "skipped"
    assert run("holder.no_vp_token", {"rp_result": "presented"}).status == "failed"


# --- holder.presentation_accepted ---------------------------------------------------------------


def test_presentation_accepted_passes_on_a_clean_verdict() -> None:
    outcome = run("holder.presentation_accepted", {"rp_result": _result(
        outcome="presented", presentations=[{"query_id": "residence", "valid": True}])})
    assert outcome.status == "passed" and "residence" in outcome.message


@pytest.mark.parametrize("result, shown", [
    (_result(), "no_response"),
    (_result(outcome="error_response", error="access_denied"), "access_denied"),
    (_result(outcome="presented", problems=["vp_token.residence: kb_nonce_mismatch: ..."]), "kb_nonce_mismatch"),
])
def test_presentation_accepted_fails_on_anything_else(result: dict, shown: str) -> None:
    outcome = run("holder.presentation_accepted", {"rp_result": result})
    assert outcome.status == "failed" and shown in outcome.message


# --- holder.minimal_disclosure ------------------------------------------------------------------


class Credential:
    def __init__(self) -> None:
        issuer, self.holder = generate_key("EdDSA"), generate_key("EdDSA")
        did = did_jwk_from_public(issuer.public)
        self.sd_jwt = issue_sd_jwt_vc(issuer_key=issuer, header={"kid": f"{did}#0"},
                                      payload={"iss": did, "vct": VCT, "iat": 1}, claims=CLAIMS,
                                      holder_key=self.holder.public).serialize()

    def presentation(self, *paths: tuple) -> str:
        return present(self.sd_jwt, paths, holder_key=self.holder, aud="decentralized_identifier:did:x:y",
                       nonce="n-1", iat=1)


def _request(claims: list | None) -> dict[str, Any]:
    query: dict[str, Any] = {"id": "residence", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]}}
    if claims is not None:
        query["claims"] = claims
    return {"client_id": "decentralized_identifier:did:x:y", "dcql_query": {"credentials": [query]}}


def _disclosure(request: dict, presentation: str) -> CheckOutcome:
    return run("holder.minimal_disclosure", {"request_object": request, "presentations": [
        {"query_id": "residence", "presentation": presentation}]})


def test_minimal_disclosure_passes_on_what_was_asked_and_its_parents() -> None:
    credential = Credential()
    request = _request([{"path": ["address", "locality"]}, {"path": ["nationalities", None]}])
    outcome = _disclosure(request, credential.presentation(("address", "locality"), ("nationalities", 1)))
    assert outcome.status == "passed"
    none_asked = _disclosure(_request(None), credential.presentation())
    assert none_asked.status == "passed"


def test_minimal_disclosure_fails_on_more() -> None:
    credential = Credential()
    request = _request([{"path": ["address", "locality"]}])
    extra = _disclosure(request, credential.presentation(("address", "locality"), ("given_name",)))
    assert extra.status == "failed" and "residence:given_name" in extra.message
    whole = _disclosure(request, credential.presentation(("address",)))
    assert whole.status == "failed" and "address.country" in whole.message
    none_asked = _disclosure(_request(None), credential.presentation(("given_name",)))
    assert none_asked.status == "failed" and "residence:given_name" in none_asked.message


def test_minimal_disclosure_skips_when_nothing_was_presented() -> None:
    outcome = run("holder.minimal_disclosure", {"request_object": _request(None), "presentations": []})
    assert outcome.status == "skipped"


# --- holder.request_uri_post ----------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"


def _fetched(fetches: list[dict], served_nonce: str | None = "wn-1") -> CheckOutcome:
    request = {"client_id": "c", **({"wallet_nonce": served_nonce} if served_nonce else {})}
    return run("holder.request_uri_post", {"rp_result": _result(fetches=fetches), "request_object": request})


def test_request_uri_post_passes_on_a_form_post_with_a_repeated_nonce() -> None:
    outcome = _fetched([{"method": "POST", "content_type": FORM, "wallet_nonce": "wn-1"}])
    assert outcome.status == "passed"


@pytest.mark.parametrize("fetches, served, shown", [
    ([], "wn-1", "no fetch"),
    ([{"method": "POST", "content_type": "application/json", "wallet_nonce": "wn-1"}], "wn-1", "Content-Type"),
    ([{"method": "POST", "content_type": FORM, "wallet_nonce": None}], None, "without wallet_nonce"),
    ([{"method": "POST", "content_type": FORM, "wallet_nonce": "wn-1"}], "wn-2", "Request Object wallet_nonce"),
])
def test_request_uri_post_fails(fetches: list, served: str | None, shown: str) -> None:
    outcome = _fetched(fetches, served)
    assert outcome.status == "failed" and shown in outcome.message


def test_request_uri_post_skips_on_the_permitted_get_fallback() -> None:
    outcome = _fetched([{"method": "GET", "content_type": "", "wallet_nonce": None}], None)
    assert outcome.status == "skipped" and "GET" in outcome.message

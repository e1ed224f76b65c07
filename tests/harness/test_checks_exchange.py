"""Presentation (KB-JWT, DCQL), OID4VCI, verifier-result and API-shape checks."""

from __future__ import annotations

import asyncio
import copy
import json

import pytest

from conformance.harness.checks import REGISTRY, CheckOutcome
from conformance.protocol.jose import PrivateKey, generate_key, sign_jws
from conformance.protocol.sdjwt import present

from ._doubles import ISSUER, Exchange, World, check_context, make_target

CLIENT_ID = "decentralized_identifier:did:key:z6Mkverifier"
NONCE = "n-0S6_WzA2Mj"
QUERY = {"credentials": [{"id": "degree", "format": "dc+sd-jwt", "meta": {"vct_values": ["https://example.test/vct/degree"]},
                          "claims": [{"path": ["degree", "name"]}]}]}


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def holder() -> PrivateKey:
    return generate_key("EdDSA")


def run(name: str, world: World, artefacts: dict, **kw: object) -> CheckOutcome:
    async def go() -> CheckOutcome:
        target = make_target(world)
        try:
            return await REGISTRY.get(name).run(check_context(target, artefacts, **kw))
        finally:
            await target.aclose()
    return asyncio.run(go())


def request_object(nonce: str = NONCE, query: dict | None = None) -> str:
    claims = {"client_id": CLIENT_ID, "nonce": nonce, "dcql_query": query or QUERY, "response_type": "vp_token"}
    return sign_jws({"typ": "oauth-authz-req+jwt"}, claims, generate_key())


def presentation(world: World, holder: PrivateKey, disclose: list, **kb: object) -> str:
    credential = world.issue(holder)
    args = {"holder_key": holder, "aud": CLIENT_ID, "nonce": NONCE} | kb
    return present(credential, disclose, **args)  # type: ignore[arg-type]


def test_key_binding_checks_pass_on_a_correct_presentation(world: World, holder: PrivateKey) -> None:
    artefacts = {"presentation": presentation(world, holder, [("degree", "name")]), "request_object": request_object()}
    for name in ("kb.present", "kb.nonce", "kb.aud", "kb.sd_hash", "dcql.disclosed_only_requested"):
        assert run(name, world, artefacts).status == "passed", name
    as_payload = {**artefacts, "request_object": {"client_id": CLIENT_ID, "nonce": NONCE, "dcql_query": QUERY}}
    assert run("kb.nonce", world, as_payload).status == "passed"


def test_key_binding_checks_catch_each_misbehaviour(world: World, holder: PrivateKey) -> None:
    ro = request_object()
    wrong_nonce = run("kb.nonce", world, {"presentation": presentation(world, holder, [], nonce="stale"),
                                          "request_object": ro})
    assert wrong_nonce == CheckOutcome("failed", f"Received: nonce 'stale' / Expected: the request's nonce '{NONCE}'")
    wrong_aud = run("kb.aud", world, {"presentation": presentation(world, holder, [], aud="https://evil.test"),
                                      "request_object": ro})
    assert wrong_aud.status == "failed" and "https://evil.test" in wrong_aud.message
    other_key = run("kb.present", world, {"presentation": present(world.issue(holder), [], holder_key=generate_key(),
                                                                  aud=CLIENT_ID, nonce=NONCE)})
    assert other_key.status == "failed" and other_key.message.startswith("signature_invalid")
    without_kb = run("kb.present", world, {"presentation": present(world.issue(holder), [], holder_key=None,
                                                                   aud=None, nonce=None)})
    assert without_kb.status == "failed" and without_kb.message.startswith("kb_jwt_missing")
    # Drop a Disclosure after signing: the KB-JWT's sd_hash no longer covers what is presented.
    full = presentation(world, holder, [("given_name",), ("degree", "name")])
    parts = full.split("~")
    trimmed = "~".join([parts[0], *parts[2:]])
    assert run("kb.sd_hash", world, {"presentation": trimmed}).status == "failed"
    assert run("kb.nonce", world, {"presentation": full}).status == "skipped"


def test_over_disclosure_is_caught(world: World, holder: PrivateKey) -> None:
    extra = presentation(world, holder, [("degree", "name"), ("given_name",)])
    outcome = run("dcql.disclosed_only_requested", world, {"presentation": extra, "request_object": request_object()})
    assert outcome.status == "failed" and "given_name" in outcome.message and "over-disclosure" in outcome.message
    open_query = {"credentials": [{"id": "any", "format": "dc+sd-jwt", "meta": {"vct_values": ["x"]}}]}
    skipped = run("dcql.disclosed_only_requested", world,
                  {"presentation": extra, "request_object": request_object(query=open_query)})
    assert skipped.status == "skipped" and "omits `claims`" in skipped.message


def offer() -> dict:
    return {"credential_issuer": ISSUER, "credential_configuration_ids": ["degree"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "c"}}}


def test_offer_shape(world: World) -> None:
    uri = f"{ISSUER}/v1/offers/1"
    body = {"credential_offer_uri": uri, "deep_link": f"openid-credential-offer://?credential_offer_uri={uri}"}
    assert run("oid4vci.offer_shape", world, {"offer": offer()}, body=body).status == "passed"
    moved = {**body, "deep_link": "openid-credential-offer://?credential_offer_uri=http%3A%2F%2Fother.test%2Fo"}
    assert run("oid4vci.offer_shape", world, {"offer": offer()}, body=moved).status == "failed"
    no_grant = {k: v for k, v in offer().items() if k != "grants"}
    assert run("oid4vci.offer_shape", world, {"offer": no_grant}).status == "failed"
    no_ids = {**offer(), "credential_configuration_ids": []}
    assert run("oid4vci.offer_shape", world, {"offer": no_ids}).status == "failed"


def _fetch(url: str) -> Exchange:
    return Exchange("GET", url, {}, None, 200, {"content-type": "application/json"}, {}, 1.0, None)


def test_issuer_metadata(world: World) -> None:
    metadata = world.metadata()
    well_known = [_fetch(f"{ISSUER}/.well-known/openid-credential-issuer")]
    ok = run("oid4vci.issuer_metadata", world, {"issuer_metadata": metadata, "offer": offer()}, exchanges=well_known)
    assert ok.status == "passed"
    other_issuer = {**metadata, "credential_issuer": "http://elsewhere.test"}
    assert run("oid4vci.issuer_metadata", world, {"issuer_metadata": other_issuer, "offer": offer()}).status == "failed"
    missing = {**offer(), "credential_configuration_ids": ["degree", "identity"]}
    assert "identity" in run("oid4vci.issuer_metadata", world, {"issuer_metadata": metadata, "offer": missing}).message
    wrong_place = [_fetch(f"{ISSUER}/issuer/.well-known/openid-credential-issuer")]
    assert run("oid4vci.issuer_metadata", world, {"issuer_metadata": metadata},
               exchanges=wrong_place).status == "failed"


SEED_COMPLETED = {
    "session_id": "b2c3", "status": "completed", "verification_mode": "fail_fast",
    "check_results": [
        {"check": "oid4vp_compliance", "status": "success", "reason_code": "oid4vp_request_valid", "message": "ok"},
        {"check": "credential_format", "status": "success", "reason_code": "credential_format_valid", "message": "ok"},
        {"check": "signature", "status": "success", "reason_code": "signature_verified", "message": "ok"},
        {"check": "issuer_trust", "status": "success", "reason_code": "not_implemented", "message": "roadmap"},
    ],
}


def test_verifier_result_shape_follows_the_seed(world: World) -> None:
    assert run("verifier.check_results_shape", world, {"verifier_result": SEED_COMPLETED}).status == "passed"
    failed = copy.deepcopy(SEED_COMPLETED) | {"status": "failed"}
    failed["check_results"][2] |= {"status": "fail", "reason_code": "signature_verification_failed"}
    failed["check_results"] = failed["check_results"][:3]
    assert run("verifier.check_results_shape", world, {"verifier_result": failed}).status == "passed"

    def broken(mutate) -> str:
        result = copy.deepcopy(SEED_COMPLETED)
        mutate(result)
        outcome = run("verifier.check_results_shape", world, {"verifier_result": result})
        assert outcome.status == "failed"
        return outcome.message

    assert "completed although a check failed" in broken(
        lambda r: r["check_results"][2].update(status="fail", reason_code="signature_verification_failed"))
    assert "reason_code 'nonce_mismatch'" in broken(lambda r: r["check_results"][0].update(reason_code="nonce_mismatch"))
    assert "'Key Binding' is not a snake_case check name" in broken(
        lambda r: r["check_results"][0].update(check="Key Binding"))
    assert "reason_code 'Bad Nonce' is not snake_case" in broken(
        lambda r: r["check_results"].append({"check": "key_binding", "status": "fail", "reason_code": "Bad Nonce",
                                             "message": "m"}))
    assert "fail_fast reported check_results[2] after the failure at [1]" in broken(lambda r: (
        r.update(status="failed"), r["check_results"][1].update(status="fail", reason_code="credential_format_invalid")))
    assert "status 'done'" in broken(lambda r: r.update(status="done"))
    assert "expired session without error" in broken(lambda r: r.update(status="expired"))


def test_extension_checks_and_a_skipped_status_are_accepted_and_named(world: World) -> None:
    result = copy.deepcopy(SEED_COMPLETED) | {"status": "failed"}
    result["check_results"][2] |= {"status": "fail", "reason_code": "signature_verification_failed"}
    result["check_results"][3:] = [
        {"check": "key_binding", "status": "skipped", "reason_code": "skipped", "message": "not evaluated"}]
    outcome = run("verifier.check_results_shape", world, {"verifier_result": result})
    assert outcome.status == "passed"
    assert "extension checks beyond the seed's table: key_binding" in outcome.message
    assert "status 'skipped'" in outcome.message


def test_api_error_shape_and_content_type(world: World) -> None:
    good = {"error": {"code": "invalid_api_key", "message": "missing or invalid X-API-Key"}}
    assert run("api.error_shape", world, {}, status=401, body=good).status == "passed"
    assert run("api.error_shape", world, {}, status=401, body={"error": "invalid_grant"}).status == "failed"
    assert run("api.error_shape", world, {}, status=400, body={"error": {"code": "Bad Code", "message": "x"}}).status == "failed"
    assert run("api.error_shape", world, {}, status=201, body={}).status == "skipped"
    json_exchange = Exchange("POST", f"{ISSUER}/v1/offers", {}, {}, 201, {"Content-Type": "application/json"},
                             {"a": 1}, 1.0, None)
    text_exchange = Exchange("GET", f"{ISSUER}/x", {}, None, 201, {"content-type": "text/html"}, "<p>", 1.0, None)
    assert run("api.json_content_type", world, {}, status=201, exchanges=[json_exchange]).status == "passed"
    outcome = run("api.json_content_type", world, {}, status=201, exchanges=[json_exchange, text_exchange])
    assert outcome.status == "failed" and "text/html" in outcome.message
    problem_json = Exchange("GET", f"{ISSUER}/x", {}, None, 400, {"content-type": "application/problem+json"},
                            json.dumps({}), 1.0, None)
    assert run("api.json_content_type", world, {}, status=400, exchanges=[problem_json]).status == "passed"
    assert run("api.json_content_type", world, {}, status=None).status == "skipped"


def test_oauth_error_shape(world: World) -> None:
    good = {"error": "invalid_grant", "error_description": "pre-authorized code already used"}
    assert run("api.oauth_error_shape", world, {}, status=400, body=good).status == "passed"
    assert run("api.oauth_error_shape", world, {}, status=400, body={"error": "invalid_grant"}).status == "passed"
    tcs_shape = {"error": {"code": "invalid_grant", "message": "x"}}
    assert run("api.oauth_error_shape", world, {}, status=400, body=tcs_shape).status == "failed"
    assert run("api.oauth_error_shape", world, {}, status=400, body={"error": "x", "error_description": "é"}).status == "failed"
    assert run("api.oauth_error_shape", world, {}, status=200, body={}).status == "skipped"

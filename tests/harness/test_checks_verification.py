"""The verification.* checks (conformance/harness/checks/verification.py), each shown passing and
failing on hand-made artefacts: real signed Request Objects and SD-JWT VCs, result bodies shaped
like the verifier seed's."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import pytest

from conformance.harness.checks import REGISTRY, CheckOutcome
from conformance.protocol.jose import generate_key, sign_jws
from conformance.protocol.oid4vp import build_request_object

from ._doubles import check_context

DCQL = {"credentials": [{"id": "degree", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:x"]}}]}
JAR = "application/oauth-authz-req+jwt"


def run(name: str, artefacts: dict[str, Any]) -> CheckOutcome:
    return asyncio.run(REGISTRY.get(name).run(check_context(None, artefacts)))


def request_object(wallet_nonce: str | None) -> str:
    key = generate_key("EdDSA")
    return build_request_object(key, client_id="decentralized_identifier:did:key:z6Mkverifier",
                                response_uri="http://verifier.test/response", nonce="n-0123456789",
                                state="s-1", dcql_query=DCQL, iat=1_700_000_000, wallet_nonce=wallet_nonce)


# --- verification.request_uri_post -------------------------------------------------------------------


def test_request_uri_post_passes_when_the_posted_nonce_comes_back() -> None:
    outcome = run("verification.request_uri_post", {
        "request_object": request_object("w-1"), "request_uri_method": "post", "wallet_nonce": "w-1",
        "request_content_type": f"{JAR}; charset=utf-8"})
    assert outcome.status == "passed", outcome.message


@pytest.mark.parametrize(("change", "says"), [
    ({"request_object": request_object(None)}, "wallet_nonce None"),
    ({"request_object": request_object("w-other")}, "'w-other'"),
    ({"request_uri_method": "get"}, "fetched with 'get'"),
    ({"request_content_type": "application/jwt"}, "Content-Type 'application/jwt'"),
    ({"request_content_type": None}, "Content-Type None"),
])
def test_request_uri_post_fails_on_each_broken_rule(change: dict[str, Any], says: str) -> None:
    artefacts = {"request_object": request_object("w-1"), "request_uri_method": "post", "wallet_nonce": "w-1",
                 "request_content_type": JAR, **change}
    outcome = run("verification.request_uri_post", artefacts)
    assert outcome.status == "failed" and says in outcome.message, outcome.message


def test_request_uri_post_skips_without_a_request_object() -> None:
    assert run("verification.request_uri_post", {"request_uri_method": "post"}).status == "skipped"


# --- verification.cnf_jwk_minimal ------------------------------------------------------------------


def credential(cnf_jwk: dict[str, Any]) -> str:
    """A signed SD-JWT VC with no Disclosures, its cnf as given (the issuance kit would refuse an
    unusable cnf, which is exactly what some cases need)."""
    issuer = generate_key("EdDSA")
    payload = {"iss": "did:example:issuer", "vct": "urn:x", "iat": 1, "cnf": {"jwk": cnf_jwk}}
    return sign_jws({"typ": "dc+sd-jwt", "kid": "did:example:issuer#k"}, payload, issuer) + "~"


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
def test_cnf_jwk_minimal_passes_for_the_required_members_only(alg: str) -> None:
    jwk = generate_key(alg).public.to_jwk()
    assert run("verification.cnf_jwk_minimal", {"presentation": credential(jwk)}).status == "passed"
    assert run("verification.cnf_jwk_minimal", {"credential": credential(jwk)}).status == "passed"


@pytest.mark.parametrize(("extra", "says"), [
    ({"kid": "holder-1"}, "extra ['kid']"),
    ({"alg": "ES256", "use": "sig"}, "extra ['alg', 'use']"),
    ({"kty": "oct"}, "kty 'oct'"),
])
def test_cnf_jwk_minimal_fails_on_optional_members(extra: dict[str, str], says: str) -> None:
    jwk = {**generate_key("ES256").public.to_jwk(), **extra}
    outcome = run("verification.cnf_jwk_minimal", {"presentation": credential(jwk)})
    assert outcome.status == "failed" and says in outcome.message, outcome.message


def test_cnf_jwk_minimal_fails_on_a_missing_member_and_skips_without_a_credential() -> None:
    jwk = generate_key("ES256").public.to_jwk()
    del jwk["y"]
    outcome = run("verification.cnf_jwk_minimal", {"presentation": credential(jwk)})
    assert outcome.status == "failed" and "missing ['y']" in outcome.message
    assert run("verification.cnf_jwk_minimal", {}).status == "skipped"


# --- the verdict ------------------------------------------------------------------------------------

SUCCESS = [{"check": "oid4vp_compliance", "status": "success", "reason_code": "oid4vp_request_valid", "message": ""},
           {"check": "signature", "status": "success", "reason_code": "signature_verified", "message": ""},
           {"check": "issuer_trust", "status": "success", "reason_code": "not_implemented", "message": ""}]
COMPLETED = {"session_id": "s", "status": "completed", "verification_mode": "fail_fast", "check_results": SUCCESS,
             "presentation_metadata": {"claims": {"credentialName": "BSc"},
                                       "credential_metadata": [{"issuer": "did:example:issuer"}]}}


def failed(mode: str, after: list[str]) -> dict[str, Any]:
    """A failed result: signature fails, then one entry per status in `after`."""
    entries = [dict(SUCCESS[0]), {"check": "signature", "status": "fail",
                                  "reason_code": "signature_verification_failed", "message": "bad"}]
    entries += [{"check": f"later_{i}", "status": s, "reason_code": "skipped" if s == "skipped" else "x",
                 "message": ""} for i, s in enumerate(after)]
    return {"session_id": "s", "status": "failed", "verification_mode": mode, "check_results": entries}


def test_presentation_accepted_passes_on_a_completed_session() -> None:
    assert run("verification.presentation_accepted", {"verifier_result": COMPLETED}).status == "passed"


@pytest.mark.parametrize(("edit", "says"), [
    (lambda r: r.update(status="failed"), "status 'failed'"),
    (lambda r: r["check_results"][1].update(status="skipped"), "signature/signature_verified"),
    (lambda r: r.update(check_results=[]), "no check_results"),
    (lambda r: r.pop("presentation_metadata"), "presentation_metadata None"),
    (lambda r: r["presentation_metadata"].update(credential_metadata=[]), "presentation_metadata"),
])
def test_presentation_accepted_fails(edit: Any, says: str) -> None:
    result = copy.deepcopy(COMPLETED)
    edit(result)
    outcome = run("verification.presentation_accepted", {"verifier_result": result})
    assert outcome.status == "failed" and says in outcome.message, outcome.message


def test_presentation_rejected_passes_on_a_failed_session_naming_the_failure() -> None:
    outcome = run("verification.presentation_rejected", {"verifier_result": failed("fail_fast", ["skipped"])})
    assert outcome.status == "passed" and "signature/signature_verification_failed" in outcome.message


@pytest.mark.parametrize(("result", "says"), [
    (COMPLETED, "status 'completed'"),
    ({**failed("fail_fast", []), "check_results": SUCCESS}, "no check_results entry with status fail"),
    ({**failed("fail_fast", []), "presentation_metadata": COMPLETED["presentation_metadata"]},
     "presentation_metadata present"),
    ({"session_id": "s", "status": "expired", "error": {"code": "session_expired", "message": ""}}, "'expired'"),
])
def test_presentation_rejected_fails(result: dict[str, Any], says: str) -> None:
    outcome = run("verification.presentation_rejected", {"verifier_result": result})
    assert outcome.status == "failed" and says in outcome.message, outcome.message


def test_verdict_checks_need_a_result_object() -> None:
    assert run("verification.presentation_rejected", {}).status == "skipped"
    assert run("verification.presentation_accepted", {"verifier_result": ["not", "an", "object"]}).status == "failed"


# --- fail_fast / run_all --------------------------------------------------------------------------


@pytest.mark.parametrize("after", [["skipped", "skipped"], []])
def test_fail_fast_stops_passes(after: list[str]) -> None:
    assert run("verification.fail_fast_stops", {"verifier_result": failed("fail_fast", after)}).status == "passed"


@pytest.mark.parametrize(("result", "says"), [
    (failed("fail_fast", ["skipped", "success"]), "evaluated after the failure"),
    (failed("fail_fast", ["fail"]), "2 failing entries"),
    (failed("run_all", ["skipped"]), "verification_mode 'run_all'"),
    (COMPLETED, "0 failing entries"),
])
def test_fail_fast_stops_fails(result: dict[str, Any], says: str) -> None:
    outcome = run("verification.fail_fast_stops", {"verifier_result": result})
    assert outcome.status == "failed" and says in outcome.message, outcome.message


@pytest.mark.parametrize("after", [["skipped", "success"], ["fail"]])
def test_run_all_continues_passes(after: list[str]) -> None:
    assert run("verification.run_all_continues", {"verifier_result": failed("run_all", after)}).status == "passed"


@pytest.mark.parametrize(("result", "says"), [
    (failed("run_all", ["skipped", "skipped"]), "2 later entries, none evaluated"),
    (failed("fail_fast", ["success"]), "verification_mode 'fail_fast'"),
    ({**COMPLETED, "verification_mode": "run_all"}, "no failing entry"),
])
def test_run_all_continues_fails(result: dict[str, Any], says: str) -> None:
    outcome = run("verification.run_all_continues", {"verifier_result": result})
    assert outcome.status == "failed" and says in outcome.message, outcome.message


# --- the result views verifier.result / wait_result add for matchers (conformance/dialects/tcs) -----


def test_result_artefacts_index_check_results_by_name_and_find_the_first_failure() -> None:
    from conformance.dialects.tcs.verifier import result_artefacts
    body = failed("run_all", ["fail", "success"])
    views = result_artefacts(body)
    assert views["verifier_result"] is body
    assert views["check_results"]["signature"]["reason_code"] == "signature_verification_failed"
    assert views["check_results"]["later_0"]["status"] == "fail"
    assert views["first_failure"] == body["check_results"][1]
    assert result_artefacts(COMPLETED)["first_failure"] is None
    pending = result_artefacts({"status": "pending"})
    assert pending["check_results"] is None and pending["first_failure"] is None
    assert result_artefacts(None) == {"verifier_result": None, "check_results": None, "first_failure": None}

"""The reference verifier end to end: a wallet built from the protocol core presents to it.

Issuers are did:key (no ledger needed); the status list is served by a small in-test issuer host
that signs a real Status List Token. Each case names the check and reason code it must produce.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from conformance.net import Network, make_client
from conformance.protocol.did import did_key_from_public
from conformance.protocol.jose import PrivateKey, b64u_decode, b64u_encode, generate_key
from conformance.protocol.oid4vp import (
    RequestObject,
    build_direct_post_body,
    build_direct_post_jwt_body,
    parse_authorization_request,
    request_signing_key_source,
    verify_request_object,
)
from conformance.protocol.sdjwt import issue_sd_jwt_vc, key_binding_jwt, make_disclosure, present
from conformance.protocol.status_list import STATUS_INVALID, STATUS_SUSPENDED, StatusList, build_status_list_token
from conformance.resolver import DidResolver
from reference.common.clock import FakeClock
from reference.verifier import VerifierSettings, create_app, open_store

API_KEY = "test-api-key-0123456789"
VERIFIER_URL = "http://verifier.local"
STATUS_URL = "http://status.local/lists/1"
VCT = "https://schema-registry.example/schemas/Degree/v1"
CLAIMS = {"credentialName": "Bachelor of Science", "issuedTime": "2026-01-15", "studentId": "S-42",
          "degree": {"name": "Physics", "level": 6}}
DCQL = {"credentials": [{"id": "degree", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                         "claims": [{"path": ["credentialName"]}, {"path": ["issuedTime"]}]}]}
ASKED = [("credentialName",), ("issuedTime",)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def did_kid(key: PrivateKey) -> tuple[str, str]:
    did = did_key_from_public(key.public)
    return did, f"{did}#{did.split(':')[-1]}"


@dataclass
class StatusHost:
    """The issuer's status list endpoint: a real, signed Status List Token."""

    key: PrivateKey
    clock: FakeClock
    statuses: StatusList = field(default_factory=lambda: StatusList.empty(2, 16))

    def app(self) -> Starlette:
        async def serve(request: Request) -> Response:
            did, kid = did_kid(self.key)
            token = build_status_list_token(key=self.key, header={"kid": kid}, sub=STATUS_URL,
                                            iat=int(self.clock.now()), status_list=self.statuses,
                                            claims={"iss": did})
            return Response(token, media_type="application/statuslist+jwt")
        return Starlette(routes=[Route("/lists/1", serve)])


class Rig:
    """A verifier on an in-process network, with an issuer and a holder key."""

    def __init__(self, *, settings: dict[str, Any] | None = None, store_path: str = ":memory:") -> None:
        self.clock = FakeClock()
        self.network = Network()
        self.http = make_client(self.network)
        self.settings = VerifierSettings(api_keys=frozenset({API_KEY}), **(settings or {}))
        self.store = open_store(store_path)
        self.app = create_app(self.settings, store=self.store, clock=self.clock, http=self.http)
        self.network.mount(VERIFIER_URL, self.app)
        self.verifier_key = generate_key("EdDSA")
        self.verifier_did, _ = did_kid(self.verifier_key)
        self.issuer_key = generate_key("EdDSA")
        self.issuer_did, self.issuer_kid = did_kid(self.issuer_key)
        self.holder_key = generate_key("ES256")
        self.status = StatusHost(self.issuer_key, self.clock)
        self.network.mount("http://status.local", self.status.app())
        self.wallet = make_client(self.network)

    # --- verifier side ----------------------------------------------------------------------

    async def create(self, dcql: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        body = {"dcql_query": dcql or DCQL, "verifier_private_key": b64u_encode(self.verifier_key.raw()),
                "verifier_client_id": self.verifier_did, **extra}
        response = await self.wallet.post(f"{VERIFIER_URL}/v1/verifier/authorization-request", json=body,
                                          headers={"X-API-Key": API_KEY})
        assert response.status_code == 201, response.text
        return response.json()

    async def result(self, session_id: str) -> dict[str, Any]:
        response = await self.wallet.get(f"{VERIFIER_URL}/v1/verifier/result/{session_id}",
                                         headers={"X-API-Key": API_KEY})
        assert response.status_code == 200, response.text
        return response.json()

    # --- issuer side --------------------------------------------------------------------------

    def issue(self, *, vct: str = VCT, claims: dict[str, Any] | None = None, exp_in: float = 86_400,
              status_idx: int | None = None, key: PrivateKey | None = None, header: dict[str, Any] | None = None,
              iss: str | None = None) -> str:
        now = int(self.clock.now())
        payload: dict[str, Any] = {"iss": iss or self.issuer_did, "vct": vct, "iat": now, "exp": int(now + exp_in),
                                   "cnf": {"jwk": self.holder_key.public.to_jwk()}}
        if status_idx is not None:
            payload["status"] = {"status_list": {"idx": status_idx, "uri": STATUS_URL}}
        return issue_sd_jwt_vc(issuer_key=key or self.issuer_key, header=header or {"kid": self.issuer_kid},
                               payload=payload, claims=claims or CLAIMS).serialize()

    # --- wallet side --------------------------------------------------------------------------

    async def fetch(self, created: dict[str, Any]) -> RequestObject:
        auth = parse_authorization_request(created["authorization_request"])
        assert auth.request_uri is not None
        response = await self.wallet.get(auth.request_uri, headers={"Accept": "application/oauth-authz-req+jwt"})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/oauth-authz-req+jwt")
        source = request_signing_key_source(response.text, auth.client_id)
        assert source.did_url is not None
        key = await DidResolver(self.wallet, None).key_for(source.did_url, "authentication")
        return verify_request_object(response.text, key, expected_client_id=auth.client_id, now=self.clock.now())

    def present(self, credential: str, request: RequestObject, *, disclose: Iterable[tuple] = ASKED,
                holder_key: PrivateKey | None = None, aud: str | None = None, nonce: str | None = None,
                iat: int | None = None) -> str:
        target = request.key_binding
        return present(credential, list(disclose), holder_key=holder_key or self.holder_key,
                       aud=aud or target.aud, nonce=nonce or target.nonce,
                       iat=int(self.clock.now()) if iat is None else iat)

    async def submit(self, request: RequestObject, vp_token: dict[str, list[str]], *,
                     verification_mode: str | None = None, state: str | None = None) -> httpx.Response:
        if request.response_mode == "direct_post.jwt":
            form = build_direct_post_jwt_body(vp_token, state or request.state, request.client_metadata)
        else:
            form = build_direct_post_body(vp_token, state or request.state)
        if verification_mode:
            form["verification_mode"] = verification_mode
        return await self.wallet.post(request.response_uri, data=form)

    async def flow(self, vp_of: Any = None, *, dcql: dict[str, Any] | None = None, mode: str | None = None,
                   credential: str | None = None, **create: Any) -> tuple[dict[str, Any], httpx.Response]:
        """Create, fetch, present, submit; returns (result, response-endpoint answer)."""
        created = await self.create(dcql, **create)
        request = await self.fetch(created)
        if vp_of is None:
            vp_token = {"degree": [self.present(credential or self.issue(), request)]}
        else:
            vp_token = vp_of(request)
        answer = await self.submit(request, vp_token, verification_mode=mode)
        return await self.result(created["session_id"]), answer


def check(result: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in result["check_results"] if c["check"] == name)


def first_failure(result: dict[str, Any]) -> tuple[str, str]:
    failed = [c for c in result["check_results"] if c["status"] == "fail"]
    assert failed, result
    return failed[0]["check"], failed[0]["reason_code"]


def assert_fail_fast(result: dict[str, Any], name: str, reason: str) -> None:
    assert result["status"] == "failed", result
    assert first_failure(result) == (name, reason), result["check_results"]
    names = [c["check"] for c in result["check_results"]]
    after = result["check_results"][names.index(name) + 1:]
    assert after and all(c["status"] == "skipped" and c["reason_code"] == "skipped" for c in after)
    assert "presentation_metadata" not in result


# --- the valid presentation ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_valid_presentation_completes_with_every_check_successful() -> None:
    rig = Rig()
    created = await rig.create()
    assert created["client_id"] == f"decentralized_identifier:{rig.verifier_did}"
    assert (await rig.result(created["session_id"]))["status"] == "pending"
    request = await rig.fetch(created)
    assert (await rig.result(created["session_id"]))["status"] == "in_progress"
    assert request.client_id == created["client_id"] and len(request.nonce) >= 32
    answer = await rig.submit(request, {"degree": [rig.present(rig.issue(status_idx=3), request)]})
    assert answer.status_code == 200 and answer.json() == {}
    result = await rig.result(created["session_id"])
    assert result["status"] == "completed", result
    assert result["verification_mode"] == "fail_fast"
    assert [c["check"] for c in result["check_results"]] == [
        "oid4vp_compliance", "credential_format", "signature", "disclosures", "validity_period", "key_binding",
        "status", "dcql", "issuer_trust", "schema_governance", "schema_version", "issuer_governance"]
    assert all(c["status"] == "success" for c in result["check_results"])
    reasons = {c["check"]: c["reason_code"] for c in result["check_results"]}
    assert reasons == {"oid4vp_compliance": "oid4vp_request_valid", "credential_format": "credential_format_valid",
                       "signature": "signature_verified", "disclosures": "disclosures_valid",
                       "validity_period": "validity_period_valid", "key_binding": "key_binding_verified",
                       "status": "status_valid", "dcql": "dcql_satisfied", "issuer_trust": "not_implemented",
                       "schema_governance": "not_implemented", "schema_version": "not_implemented",
                       "issuer_governance": "not_implemented"}
    # Exactly the disclosed claims: studentId and degree were never disclosed.
    metadata = result["presentation_metadata"]
    assert metadata["claims"] == {"credentialName": "Bachelor of Science", "issuedTime": "2026-01-15"}
    assert metadata["credential_metadata"][0]["issuer"] == rig.issuer_did
    assert metadata["credential_metadata"][0]["credential_type"] == [VCT]


@pytest.mark.anyio
async def test_nested_disclosure_and_redirect_uri() -> None:
    rig = Rig()
    dcql = {"credentials": [{"id": "degree", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                             "claims": [{"path": ["degree", "name"]}]}]}
    created = await rig.create(dcql, redirect_uri="https://rp.example/callback")
    request = await rig.fetch(created)
    answer = await rig.submit(request, {"degree": [rig.present(rig.issue(), request, disclose=[("degree", "name")])]})
    redirect = answer.json()["redirect_uri"]
    assert redirect.startswith("https://rp.example/callback?session_id=") and "response_code=" in redirect
    result = await rig.result(created["session_id"])
    assert result["status"] == "completed", result["check_results"]
    assert result["presentation_metadata"]["claims"] == {"degree": {"name": "Physics"}}


# --- tampering and keys ---------------------------------------------------------------------------


def tamper_disclosure(presentation: str) -> str:
    parts = presentation.split("~")
    parts[1] = make_disclosure("c2FsdHNhbHRzYWx0", "credentialName", "Doctor of Everything").encoded
    return "~".join(parts)


def tamper_payload(presentation: str) -> str:
    jwt, rest = presentation.split("~", 1)
    header, payload, signature = jwt.split(".")
    claims = json.loads(b64u_decode(payload))
    claims["vct"] = claims["vct"] + "-forged"
    return f"{header}.{b64u_encode(json.dumps(claims).encode())}.{signature}~{rest}"


@pytest.mark.anyio
async def test_tampered_disclosure_fails_disclosures() -> None:
    rig = Rig()
    result, _ = await rig.flow(lambda r: {"degree": [tamper_disclosure(rig.present(rig.issue(), r))]})
    assert_fail_fast(result, "disclosures", "disclosure_not_referenced")


@pytest.mark.anyio
async def test_tampered_issuer_payload_fails_signature() -> None:
    rig = Rig()
    result, _ = await rig.flow(lambda r: {"degree": [tamper_payload(rig.present(rig.issue(), r))]})
    assert_fail_fast(result, "signature", "signature_verification_failed")


@pytest.mark.anyio
async def test_unknown_issuer_key_is_not_resolvable() -> None:
    rig = Rig()  # the ledger is not on the network: a did:iota issuer cannot be resolved
    iota = "did:iota:testnet:0x" + "12" * 32
    credential = rig.issue(header={"kid": f"{iota}#key-1"}, iss=iota)
    result, _ = await rig.flow(credential=credential)
    assert_fail_fast(result, "signature", "issuer_key_not_resolvable")


@pytest.mark.anyio
async def test_kid_of_another_did_than_iss_is_a_payload_mismatch() -> None:
    rig = Rig()
    other = generate_key("EdDSA")
    _, other_kid = did_kid(other)
    result, _ = await rig.flow(credential=rig.issue(key=other, header={"kid": other_kid}))
    assert_fail_fast(result, "signature", "signature_payload_mismatch")


# --- key binding -----------------------------------------------------------------------------------


def without_kb(presentation: str) -> str:
    return presentation[: presentation.rindex("~") + 1]


@pytest.mark.anyio
@pytest.mark.parametrize(("make", "reason"), [
    (lambda rig, r: without_kb(rig.present(rig.issue(), r)), "kb_jwt_missing"),
    (lambda rig, r: rig.present(rig.issue(), r, holder_key=generate_key("ES256")), "kb_signature_invalid"),
    (lambda rig, r: rig.present(rig.issue(), r, aud=rig.verifier_did), "kb_aud_mismatch"),
    (lambda rig, r: rig.present(rig.issue(), r, nonce="someone-elses-nonce"), "kb_nonce_mismatch"),
    (lambda rig, r: rig.present(rig.issue(), r, iat=int(rig.clock.now()) - 3600), "kb_iat_out_of_window"),
    (lambda rig, r: rig.present(rig.issue(), r, iat=int(rig.clock.now()) + 3600), "kb_iat_out_of_window"),
    (lambda rig, r: wrong_sd_hash(rig, r), "kb_sd_hash_mismatch"),
])
async def test_key_binding_failures(make: Any, reason: str) -> None:
    rig = Rig()
    result, answer = await rig.flow(lambda r: {"degree": [make(rig, r)]})
    assert answer.status_code == 200
    assert_fail_fast(result, "key_binding", reason)


def wrong_sd_hash(rig: Rig, request: RequestObject) -> str:
    bare = present(rig.issue(), ASKED, holder_key=None, aud=None, nonce=None)
    kb = key_binding_jwt(bare + "extra~", rig.holder_key, aud=request.client_id, nonce=request.nonce,
                         iat=int(rig.clock.now()))
    return bare + kb


@pytest.mark.anyio
async def test_kb_nonce_of_another_session_fails_key_binding() -> None:
    rig = Rig()
    other = await rig.fetch(await rig.create())
    result, _ = await rig.flow(lambda r: {"degree": [rig.present(rig.issue(), r, nonce=other.nonce)]})
    assert_fail_fast(result, "key_binding", "kb_nonce_mismatch")


@pytest.mark.anyio
async def test_holder_binding_may_be_waived_by_the_query() -> None:
    rig = Rig()
    dcql = {"credentials": [{**DCQL["credentials"][0], "require_cryptographic_holder_binding": False}]}
    result, _ = await rig.flow(lambda r: {"degree": [without_kb(rig.present(rig.issue(), r))]}, dcql=dcql)
    assert result["status"] == "completed", result["check_results"]
    assert check(result, "key_binding")["reason_code"] == "key_binding_not_required"


# --- validity and status ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_expired_credential_fails_validity_period() -> None:
    rig = Rig()
    result, _ = await rig.flow(credential=rig.issue(exp_in=-3600))
    assert_fail_fast(result, "validity_period", "credential_expired")


@pytest.mark.anyio
@pytest.mark.parametrize(("value", "reason"), [(STATUS_INVALID, "credential_revoked"),
                                               (STATUS_SUSPENDED, "credential_suspended")])
async def test_revoked_and_suspended_credentials_fail_status(value: int, reason: str) -> None:
    rig = Rig()
    rig.status.statuses = rig.status.statuses.with_status(5, value)
    result, _ = await rig.flow(credential=rig.issue(status_idx=5))
    assert_fail_fast(result, "status", reason)


@pytest.mark.anyio
async def test_status_not_referenced_and_unrecognized_values() -> None:
    rig = Rig()
    result, _ = await rig.flow(credential=rig.issue())        # no status claim at all
    assert result["status"] == "completed", result["check_results"]
    assert check(result, "status")["reason_code"] == "status_not_referenced"
    rig.status.statuses = rig.status.statuses.with_status(7, 3)   # 0x03: application specific
    result, _ = await rig.flow(credential=rig.issue(status_idx=7))
    assert_fail_fast(result, "status", "credential_status_unrecognized")


@pytest.mark.anyio
async def test_credential_not_yet_valid_fails_validity_period() -> None:
    rig = Rig()
    now = int(rig.clock.now())
    credential = issue_sd_jwt_vc(
        issuer_key=rig.issuer_key, header={"kid": rig.issuer_kid},
        payload={"iss": rig.issuer_did, "vct": VCT, "iat": now, "nbf": now + 3600, "exp": now + 86_400,
                 "cnf": {"jwk": rig.holder_key.public.to_jwk()}}, claims=CLAIMS).serialize()
    result, _ = await rig.flow(credential=credential)
    assert_fail_fast(result, "validity_period", "credential_not_yet_valid")


@pytest.mark.anyio
async def test_unreachable_status_list_is_unavailable() -> None:
    rig = Rig()
    rig.network.set_reachable("http://status.local", False)
    result, _ = await rig.flow(credential=rig.issue(status_idx=5))
    assert_fail_fast(result, "status", "status_list_unavailable")


# --- DCQL ------------------------------------------------------------------------------------------


def dcql_with(**credential: Any) -> dict[str, Any]:
    return {"credentials": [{**DCQL["credentials"][0], **credential}]}


@pytest.mark.anyio
@pytest.mark.parametrize(("dcql", "disclose", "vct"), [
    (DCQL, ASKED, VCT + "/other"),                                                     # wrong vct
    (DCQL, [("credentialName",)], VCT),                                                # missing claim
    (dcql_with(claims=[{"path": ["credentialName"], "values": ["Master of Arts"]}]), ASKED, VCT),  # value
    (dcql_with(trusted_authorities=[{"type": "did", "values": ["did:example:someone-else"]}]), ASKED, VCT),
])
async def test_dcql_not_satisfied(dcql: dict[str, Any], disclose: Any, vct: str) -> None:
    rig = Rig()
    result, _ = await rig.flow(lambda r: {"degree": [rig.present(rig.issue(vct=vct), r, disclose=disclose)]},
                               dcql=dcql)
    assert_fail_fast(result, "dcql", "dcql_not_satisfied")


@pytest.mark.anyio
async def test_trusted_authority_did_satisfied_by_the_issuer() -> None:
    rig = Rig()
    dcql = dcql_with(trusted_authorities=[{"type": "did", "values": [rig.issuer_did]}])
    result, _ = await rig.flow(dcql=dcql)
    assert result["status"] == "completed", result["check_results"]


@pytest.mark.anyio
async def test_unanswered_required_query_fails_dcql() -> None:
    rig = Rig()
    second = {**DCQL["credentials"][0], "id": "other"}
    result, _ = await rig.flow(dcql={"credentials": [DCQL["credentials"][0], second]})
    assert_fail_fast(result, "dcql", "dcql_not_satisfied")
    assert "other" in check(result, "dcql")["message"]


# --- OID4VP compliance -----------------------------------------------------------------------------


@pytest.mark.anyio
async def test_unknown_query_id_is_not_compliant_and_answered_400() -> None:
    rig = Rig()
    result, answer = await rig.flow(lambda r: {"nope": [rig.present(rig.issue(), r)]})
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert_fail_fast(result, "oid4vp_compliance", "oid4vp_non_compliant")


@pytest.mark.anyio
async def test_object_presentation_is_invalid() -> None:
    rig = Rig()
    result, _ = await rig.flow(lambda r: {"degree": [{"not": "an sd-jwt"}]})
    assert_fail_fast(result, "oid4vp_compliance", "presentation_invalid")


@pytest.mark.anyio
async def test_unparseable_presentation_fails_credential_format() -> None:
    rig = Rig()
    result, _ = await rig.flow(lambda r: {"degree": ["eyJhbGciOiJFZERTQSJ9.e30.c2ln"]})
    assert_fail_fast(result, "credential_format", "credential_format_invalid")


# --- fail_fast vs run_all ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_run_all_reports_every_applicable_check() -> None:
    rig = Rig()
    rig.status.statuses = rig.status.statuses.with_status(2, STATUS_INVALID)
    credential = rig.issue(exp_in=-3600, status_idx=2, vct=VCT + "/other")
    fast, _ = await rig.flow(credential=credential)
    assert_fail_fast(fast, "validity_period", "credential_expired")
    full, _ = await rig.flow(credential=credential, mode="run_all")
    assert full["verification_mode"] == "run_all" and full["status"] == "failed"
    by_check = {c["check"]: (c["status"], c["reason_code"]) for c in full["check_results"]}
    assert by_check == {
        "oid4vp_compliance": ("success", "oid4vp_request_valid"),
        "credential_format": ("success", "credential_format_valid"),
        "signature": ("success", "signature_verified"),
        "disclosures": ("success", "disclosures_valid"),
        "validity_period": ("fail", "credential_expired"),
        "key_binding": ("skipped", "skipped"),     # verify_sd_jwt stops at exp before the KB-JWT
        "status": ("fail", "credential_revoked"),
        "dcql": ("fail", "dcql_not_satisfied"),
        "issuer_trust": ("success", "not_implemented"),
        "schema_governance": ("success", "not_implemented"),
        "schema_version": ("success", "not_implemented"),
        "issuer_governance": ("success", "not_implemented"),
    }
    assert "validity_period failed" in check(full, "key_binding")["message"]


@pytest.mark.anyio
async def test_run_all_after_a_signature_failure_still_checks_disclosures_and_dcql() -> None:
    rig = Rig()
    result, _ = await rig.flow(lambda r: {"degree": [tamper_payload(rig.present(rig.issue(), r))]}, mode="run_all")
    by_check = {c["check"]: (c["status"], c["reason_code"]) for c in result["check_results"]}
    assert by_check["signature"] == ("fail", "signature_verification_failed")
    assert by_check["disclosures"] == ("success", "disclosures_valid")
    assert by_check["validity_period"] == ("skipped", "skipped")
    assert by_check["key_binding"] == ("skipped", "skipped")
    assert by_check["dcql"] == ("fail", "dcql_not_satisfied")  # the forged vct does not match


# --- replay, expiry, response modes ---------------------------------------------------------------


@pytest.mark.anyio
async def test_replayed_response_is_refused_and_changes_nothing() -> None:
    rig = Rig()
    created = await rig.create()
    request = await rig.fetch(created)
    vp_token = {"degree": [rig.present(rig.issue(), request)]}
    assert (await rig.submit(request, vp_token)).status_code == 200
    before = await rig.result(created["session_id"])
    again = await rig.submit(request, vp_token, verification_mode="run_all")
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"
    assert await rig.result(created["session_id"]) == before
    refetch = await rig.wallet.get(created["request_uri"])
    assert refetch.status_code == 404 and refetch.json()["error"] == "invalid_request_uri"


@pytest.mark.anyio
async def test_wrong_state_is_refused_without_touching_the_session() -> None:
    rig = Rig()
    created = await rig.create()
    request = await rig.fetch(created)
    answer = await rig.submit(request, {"degree": [rig.present(rig.issue(), request)]}, state="forged")
    assert answer.status_code == 400
    assert (await rig.result(created["session_id"]))["status"] == "in_progress"
    assert (await rig.submit(request, {"degree": [rig.present(rig.issue(), request)]})).status_code == 200


@pytest.mark.anyio
async def test_expired_session() -> None:
    rig = Rig()
    created = await rig.create(expires_in=60)
    request = await rig.fetch(created)
    rig.clock.advance(61)
    result = await rig.result(created["session_id"])
    assert result["status"] == "expired"
    assert result["error"] == {"code": "session_expired", "message": "Session TTL elapsed without a wallet response"}
    answer = await rig.submit(request, {"degree": [rig.present(rig.issue(), request)]})
    assert answer.status_code == 400
    assert (await rig.result(created["session_id"]))["status"] == "expired"
    assert (await rig.wallet.get(created["request_uri"])).status_code == 404


@pytest.mark.anyio
async def test_direct_post_jwt_round_trip_and_refusals() -> None:
    rig = Rig()
    created = await rig.create(response_mode="direct_post.jwt")
    request = await rig.fetch(created)
    assert request.response_mode == "direct_post.jwt"
    enc = [k for k in request.client_metadata["jwks"]["keys"] if k.get("alg") == "ECDH-ES"]
    assert len(enc) == 1 and "d" not in enc[0]
    vp_token = {"degree": [rig.present(rig.issue(), request)]}
    plain = await rig.wallet.post(request.response_uri, data=build_direct_post_body(vp_token, request.state))
    assert plain.status_code == 400  # a direct_post.jwt session takes the JWE only
    garbage = await rig.wallet.post(request.response_uri, data={"response": "a.b.c.d.e"})
    assert garbage.status_code == 400
    assert (await rig.result(created["session_id"]))["status"] == "in_progress"
    answer = await rig.submit(request, vp_token)
    assert answer.status_code == 200, answer.text
    result = await rig.result(created["session_id"])
    assert result["status"] == "completed", result["check_results"]


@pytest.mark.anyio
async def test_wallet_error_response_fails_the_session() -> None:
    rig = Rig()
    created = await rig.create()
    request = await rig.fetch(created)
    answer = await rig.wallet.post(request.response_uri, data={"error": "access_denied", "state": request.state,
                                                               "error_description": "user declined"})
    assert answer.status_code == 200
    result = await rig.result(created["session_id"])
    assert result["status"] == "failed"
    assert result["check_results"] == [{"check": "wallet_response", "status": "fail",
                                        "reason_code": "wallet_error_response",
                                        "message": "the wallet answered with error 'access_denied': user declined"}]
    assert result["error"]["code"] == "access_denied"


@pytest.mark.anyio
async def test_json_body_with_verification_mode_is_accepted() -> None:
    rig = Rig()
    created = await rig.create()
    request = await rig.fetch(created)
    body = {"vp_token": {"degree": [rig.present(rig.issue(exp_in=-3600), request)]}, "state": request.state,
            "verification_mode": "run_all"}
    answer = await rig.wallet.post(request.response_uri, json=body)
    assert answer.status_code == 200
    result = await rig.result(created["session_id"])
    assert result["verification_mode"] == "run_all"
    assert check(result, "issuer_governance")["status"] == "success"


@pytest.mark.anyio
async def test_concurrent_duplicate_responses_are_answered_once() -> None:
    rig = Rig()
    created = await rig.create()
    request = await rig.fetch(created)
    vp_token = {"degree": [rig.present(rig.issue(status_idx=1), request)]}
    answers = await asyncio.gather(rig.submit(request, vp_token), rig.submit(request, vp_token))
    assert sorted(a.status_code for a in answers) == [200, 400]
    assert (await rig.result(created["session_id"]))["status"] == "completed"

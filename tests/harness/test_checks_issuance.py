"""The issuance.* checks, each shown passing and failing on real credentials and hand-made
exchanges (conformance/harness/checks/issuance.py)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from conformance.harness.checks import REGISTRY, CheckOutcome
from conformance.protocol.jose import PrivateKey, generate_key
from conformance.protocol.oid4vci import PRE_AUTHORIZED_GRANT
from conformance.protocol.sdjwt import issue_sd_jwt_vc
from conformance.protocol.sdjwt.issuance import disclosable

from ._doubles import ISSUER, VCT, Exchange, World, check_context, make_target

ISSUER_ID = f"{ISSUER}/tenant"
TOKEN, NONCE, CREDENTIAL = f"{ISSUER}/token", f"{ISSUER}/nonce", f"{ISSUER}/credential"
OFFERED = {"given_name": "Ada", "address": {"locality": "London", "country": "GB"}, "nationalities": ["GB", "FR"]}


def run(name: str, artefacts: dict[str, Any], **kw: Any) -> CheckOutcome:
    async def go() -> CheckOutcome:
        target = make_target(World())
        try:
            return await REGISTRY.get(name).run(check_context(target, artefacts, **kw))
        finally:
            await target.aclose()
    return asyncio.run(go())


def exchange(method: str, url: str, status: int = 200, *, request: Any = None, response: Any = None,
             headers: dict[str, str] | None = None) -> Exchange:
    return Exchange(method, url, {}, request, status, headers if headers is not None else
                    {"content-type": "application/json", "cache-control": "no-store"}, response, 1.0, None)


def metadata(**configuration: Any) -> dict[str, Any]:
    config = {"format": "dc+sd-jwt", "vct": VCT, "cryptographic_binding_methods_supported": ["jwk", "did:iota"],
              "credential_signing_alg_values_supported": ["EdDSA"],
              "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": ["ES256"]}},
              "credential_metadata": {"display": [{"name": "Degree", "locale": "en"}],
                                      "claims": [{"path": ["given_name"], "mandatory": True}]}}
    config.update(configuration)
    return {"credential_issuer": ISSUER_ID, "credential_endpoint": CREDENTIAL, "nonce_endpoint": NONCE,
            "credential_configurations_supported": {"Degree": {k: v for k, v in config.items() if v is not None}}}


AS_METADATA = {"issuer": ISSUER_ID, "token_endpoint": TOKEN, "grant_types_supported": [PRE_AUTHORIZED_GRANT]}
OFFER = {"credential_issuer": ISSUER_ID, "credential_configuration_ids": ["Degree"],
         "grants": {PRE_AUTHORIZED_GRANT: {"pre-authorized_code": "code-123456789"}}}


def credential(claims: dict[str, Any], *, recursive: bool = True) -> str:
    holder: PrivateKey = generate_key("ES256")
    selective = None if recursive else disclosable([(name,) for name in claims])
    return issue_sd_jwt_vc(issuer_key=generate_key("EdDSA"), header={}, payload={"iss": ISSUER_ID, "vct": VCT,
                           "iat": int(time.time())}, claims=claims, selective=selective,
                           holder_key=holder.public).serialize()


# --- issuance.no_store --------------------------------------------------------------------------

def flow(token_headers: dict[str, str] | None = None, nonce_headers: dict[str, str] | None = None) -> list[Exchange]:
    return [exchange("POST", TOKEN, request={"grant_type": PRE_AUTHORIZED_GRANT}, headers=token_headers),
            exchange("POST", NONCE, headers=nonce_headers),
            exchange("POST", CREDENTIAL, request={"credential_configuration_id": "Degree", "proofs": {}},
                     response={"credentials": [{"credential": "x"}]})]


def test_no_store_passes_when_token_and_nonce_answers_forbid_caching() -> None:
    outcome = run("issuance.no_store", {"issuer_metadata": metadata()}, exchanges=flow())
    assert outcome.status == "passed" and "Token Response, Nonce Response" in outcome.message


@pytest.mark.parametrize("which", ["token", "nonce"])
def test_no_store_fails_on_a_cacheable_token_or_nonce_answer(which: str) -> None:
    cacheable = {"content-type": "application/json", "cache-control": "max-age=60"}
    exchanges = flow(token_headers=cacheable) if which == "token" else flow(nonce_headers=cacheable)
    outcome = run("issuance.no_store", {"issuer_metadata": metadata()}, exchanges=exchanges)
    assert outcome.status == "failed" and "max-age=60" in outcome.message
    assert ("Token Response" if which == "token" else "Nonce Response") in outcome.message


def test_no_store_skips_without_token_or_nonce_answers() -> None:
    assert run("issuance.no_store", {}, exchanges=[exchange("GET", f"{ISSUER}/x")]).status == "skipped"


# --- issuance.credential_response ---------------------------------------------------------------

def test_credential_response_passes_for_a_json_200_with_credentials() -> None:
    outcome = run("issuance.credential_response", {"issuer_metadata": metadata()}, exchanges=flow())
    assert outcome.status == "passed" and "1 credential(s)" in outcome.message


@pytest.mark.parametrize("status, headers, body, expected", [
    (200, {"content-type": "text/plain"}, {"credentials": [{"credential": "x"}]}, "Content-Type text/plain"),
    (202, None, {"credentials": [{"credential": "x"}]}, "HTTP 202"),
    (200, None, {"credentials": [{"credential": "x"}], "transaction_id": "t", "interval": 5},
     "exactly one of credentials and transaction_id"),
    (200, None, {"credentials": [{"credential": "x"}], "notification_id": 7}, "notification_id"),
])
def test_credential_response_fails_on_media_type_status_or_shape(status: int, headers: Any, body: Any,
                                                                 expected: str) -> None:
    exchanges = [exchange("POST", CREDENTIAL, status, request={"credential_configuration_id": "Degree"},
                          response=body, headers=headers)]
    outcome = run("issuance.credential_response", {"issuer_metadata": metadata()}, exchanges=exchanges)
    assert outcome.status == "failed" and expected in outcome.message


# --- issuance.notification_accepted ------------------------------------------------------------

def test_notification_accepted_passes_on_204_and_skips_when_not_sent() -> None:
    assert run("issuance.notification_accepted", {"notified": True, "event": "credential_accepted"},
               status=204).status == "passed"
    skipped = run("issuance.notification_accepted", {"notified": False, "reason": "no notification_endpoint"},
                  status=None)
    assert skipped.status == "skipped" and "no notification_endpoint" in skipped.message


def test_notification_accepted_fails_on_an_error_answer() -> None:
    outcome = run("issuance.notification_accepted", {"notified": True}, status=400,
                  body={"error": "invalid_notification_id"})
    assert outcome.status == "failed" and "HTTP 400" in outcome.message


# --- issuance.claims_as_offered / issuance.nested_disclosable -----------------------------------

def test_claims_as_offered_passes_for_the_offered_claims() -> None:
    outcome = run("issuance.claims_as_offered", {"credential": credential(OFFERED), "offered_claims": OFFERED})
    assert outcome.status == "passed" and "3 offered claim(s)" in outcome.message


def test_claims_as_offered_fails_on_a_changed_nested_value_or_a_missing_claim() -> None:
    changed = {**OFFERED, "address": {"locality": "Paris", "country": "GB"}}
    outcome = run("issuance.claims_as_offered", {"credential": credential(changed), "offered_claims": OFFERED})
    assert outcome.status == "failed" and "address" in outcome.message
    partial = {k: v for k, v in OFFERED.items() if k != "nationalities"}
    missing = run("issuance.claims_as_offered", {"credential": credential(partial), "offered_claims": OFFERED})
    assert missing.status == "failed" and "nationalities" in missing.message and "absent" in missing.message


def test_nested_disclosable_passes_when_every_member_and_element_has_a_disclosure() -> None:
    outcome = run("issuance.nested_disclosable", {"credential": credential(OFFERED), "offered_claims": OFFERED})
    assert outcome.status == "passed" and "7 claim paths" in outcome.message


def test_nested_disclosable_fails_when_members_are_only_disclosable_together() -> None:
    flat = credential(OFFERED, recursive=False)
    outcome = run("issuance.nested_disclosable", {"credential": flat, "offered_claims": OFFERED})
    assert outcome.status == "failed"
    assert "address.locality" in outcome.message and "nationalities[1]" in outcome.message
    assert REGISTRY.get("issuance.nested_disclosable").severity == "recommended"


# --- metadata -------------------------------------------------------------------------------

def test_metadata_media_types_pass_and_fail() -> None:
    good = [exchange("GET", f"{ISSUER}/.well-known/openid-credential-issuer/tenant"),
            exchange("GET", f"{ISSUER}/.well-known/oauth-authorization-server/tenant")]
    assert run("issuance.metadata_media_types", {}, exchanges=good).status == "passed"
    bad = [good[0], exchange("GET", good[1].url, headers={"content-type": "text/html"})]
    outcome = run("issuance.metadata_media_types", {}, exchanges=bad)
    assert outcome.status == "failed" and "text/html" in outcome.message
    assert "oauth-authorization-server" in outcome.message


def test_as_metadata_passes_for_the_named_server_with_the_pre_authorized_grant() -> None:
    outcome = run("issuance.as_metadata", {"issuer_metadata": metadata(), "as_metadata": AS_METADATA, "offer": OFFER})
    assert outcome.status == "passed" and TOKEN in outcome.message


def test_as_metadata_fails_on_another_issuer_or_a_missing_grant() -> None:
    other = run("issuance.as_metadata", {"issuer_metadata": metadata(), "offer": OFFER,
                                         "as_metadata": {**AS_METADATA, "issuer": f"{ISSUER}/other"}})
    assert other.status == "failed" and "RFC 8414 §3.3" in other.message
    code_only = {**AS_METADATA, "grant_types_supported": ["authorization_code"]}
    no_grant = run("issuance.as_metadata", {"issuer_metadata": metadata(), "offer": OFFER, "as_metadata": code_only})
    assert no_grant.status == "failed" and PRE_AUTHORIZED_GRANT in no_grant.message


def test_credential_configurations_pass_for_a_well_formed_configuration() -> None:
    outcome = run("issuance.credential_configurations", {"issuer_metadata": metadata(), "offer": OFFER})
    assert outcome.status == "passed" and "1 configuration(s)" in outcome.message


@pytest.mark.parametrize("change, expected", [
    ({"proof_types_supported": None}, "present together"),
    ({"cryptographic_binding_methods_supported": ["did:iota:testnet"]}, "did:iota:testnet"),
    ({"credential_metadata": {"display": [{"locale": "en"}]}}, "string name"),
    ({"credential_metadata": {"display": [{"name": "A", "locale": "en"}, {"name": "B", "locale": "en"}]}},
     "one entry per locale"),
    ({"credential_metadata": {"claims": [{"path": []}]}}, "claims[0].path"),
    ({"credential_metadata": {"claims": [{"path": ["a", -1]}]}}, "claims[0].path"),
    ({"credential_metadata": {"claims": [{"path": ["a"], "mandatory": "yes"}]}}, "mandatory"),
    ({"credential_signing_alg_values_supported": ["none"]}, "not none"),
])
def test_credential_configurations_fail_on_each_rule(change: dict[str, Any], expected: str) -> None:
    outcome = run("issuance.credential_configurations", {"issuer_metadata": metadata(**change)})
    assert outcome.status == "failed" and expected in outcome.message


def test_credential_configurations_fail_without_a_vct_for_sd_jwt_vc() -> None:
    outcome = run("issuance.credential_configurations", {"issuer_metadata": metadata(vct=None)})
    assert outcome.status == "failed" and "vct" in outcome.message


# --- issuance.on_chain_lifecycle --------------------------------------------------------------

def state(status: str | None, object_id: str | None = None, blockchain: str | None = "iota") -> dict[str, Any]:
    return {"on_chain_status": status, "object_id": object_id, "blockchain": blockchain}


@pytest.mark.parametrize("history", [
    [state("PENDING"), state("IN_PROGRESS"), state("COMPLETED", "0xab")],
    [state("PENDING"), state("FAILED")],
    [state("COMPLETED", "0xab")],
    [state(None, blockchain=None)],
])
def test_on_chain_lifecycle_passes_for_the_seed_lifecycle(history: list[dict[str, Any]]) -> None:
    assert run("issuance.on_chain_lifecycle", {"on_chain_history": history}).status == "passed"


@pytest.mark.parametrize("history, expected", [
    ([state("IN_PROGRESS"), state("PENDING"), state("COMPLETED", "0xab")], "goes back"),
    ([state("PENDING"), state("IN_PROGRESS")], "not in a terminal state"),
    ([state("PENDING", "0xab"), state("COMPLETED", "0xab")], "populated only when COMPLETED"),
    ([state("PENDING"), state("COMPLETED")], "populated only when COMPLETED"),
    ([state("PENDING"), state("FAILED", blockchain="ethereum")], "blockchain"),
    ([state("QUEUED"), state("COMPLETED", "0xab")], "unknown on_chain_status"),
    ([state("COMPLETED", "0xab"), state("FAILED")], "goes back or sideways"),
])
def test_on_chain_lifecycle_fails_on_each_rule(history: list[dict[str, Any]], expected: str) -> None:
    outcome = run("issuance.on_chain_lifecycle", {"on_chain_history": history})
    assert outcome.status == "failed" and expected in outcome.message


def test_on_chain_lifecycle_needs_an_observation() -> None:
    assert run("issuance.on_chain_lifecycle", {}).status == "skipped"
    assert run("issuance.on_chain_lifecycle", {"on_chain_history": []}).status == "failed"

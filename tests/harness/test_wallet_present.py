"""HarnessWallet.present against the reference verifier's OID4VP 1.0 endpoints: both response
modes, DID Client Identifiers resolved locally and on the ledger, and each present fault yielding
the verifier answer its rule calls for (reference/verifier/CHECKS.md)."""

from __future__ import annotations

import json
import random
from typing import Any
from urllib.parse import quote

import pytest

from conformance.protocol.did import did_jwk_from_public, did_key_from_public, resolve_local
from conformance.protocol.jose import b64u_encode, generate_key, parse_jws
from conformance.protocol.oid4vp import build_request_object
from conformance.protocol.sdjwt import parse_sd_jwt
from conformance.protocol.sdjwt.disclosure import sha256_b64u
from conformance.exchange import Recorder
from conformance.wallet import PRESENT_FAULTS, HarnessWallet
from tests.harness.test_wallet_kit import (
    IDENTITY_CLAIMS,
    IDENTITY_CONFIG,
    IDENTITY_QUERY,
    TURING_CLAIMS,
    TURING_QUERY,
    first_failure,
    kb_payload,
    rig,
)

pytestmark = pytest.mark.anyio


# --- happy paths -------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["direct_post", "direct_post.jwt"])
async def test_present_completes_in_both_response_modes(mode: str) -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session(mode=mode)
        outcome = await r.present(session)
        assert (outcome.status, outcome.stage, outcome.error) == (200, "response", None)
        result = await r.result(session)
        assert result["status"] == "completed", result
        # Exactly the requested claim is disclosed (OID4VP 1.0 §6.4.1).
        assert result["presentation_metadata"]["claims"] == {"credentialName": TURING_CLAIMS["credentialName"]}
        request = outcome.artefacts["request_object"]
        assert request["response_mode"] == mode and outcome.artefacts["client_id"] == session["client_id"]
        kb = kb_payload(outcome.artefacts["presentation"])
        assert kb["aud"] == session["client_id"] and kb["nonce"] == request["nonce"]
        assert outcome.artefacts["vp_token"] == {"certificate": [outcome.artefacts["presentation"]]}
        posted = r.send.exchanges[-1]
        assert posted.url == request["response_uri"]
        assert ("response" in posted.request_body) is (mode == "direct_post.jwt")


async def test_x509_credential_to_a_did_iota_verifier() -> None:
    async with rig() as r:
        await r.receive()
        await r.receive(tenant="issuer_x509", config=IDENTITY_CONFIG, claims=IDENTITY_CLAIMS)
        session = await r.session(IDENTITY_QUERY, client="did:iota")
        outcome = await r.present(session)
        result = await r.result(session)
        assert result["status"] == "completed", result
        assert result["presentation_metadata"]["claims"] == {"given_name": "Ana", "family_name": "Silva"}
        # The Verifier's did:iota was resolved on the ledger through the flow's recorder.
        did = session["client_id"].removeprefix("decentralized_identifier:")
        assert [e.url for e in r.send.exchanges][1] == f"{r.ref.urls['ledger']}/1.0/identifiers/{did}"
        assert sorted(outcome.artefacts["disclosed"]["identity"]) == ["family_name", "given_name"]


async def test_disclose_overrides_the_claims_dcql_chose() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, disclose={"certificate": [["issuedTime"]]})
        assert outcome.artefacts["disclosed"] == {"certificate": ["issuedTime"]}
        assert first_failure(await r.result(session)) == ("dcql", "dcql_not_satisfied")


async def test_a_forced_credential_is_presented_even_when_it_does_not_match() -> None:
    async with rig() as r:
        await r.receive()
        await r.receive(tenant="issuer_x509", config=IDENTITY_CONFIG, claims=IDENTITY_CLAIMS)
        session = await r.session()  # asks for the Turing certificate
        outcome = await r.present(session, credential=r.wallet.held[-1])
        assert outcome.status == 200 and outcome.artefacts["dcql_result"]["can_be_satisfied"] is False
        assert first_failure(await r.result(session)) == ("dcql", "dcql_not_satisfied")


# --- the wallet refuses what it must refuse ----------------------------------------------------------


async def test_no_matching_credential_stops_before_any_response() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session(IDENTITY_QUERY)
        outcome = await r.present(session)
        assert (outcome.stage, outcome.status) == ("request", 200)
        assert outcome.artefacts["error_reason"] == "dcql_not_satisfiable" and "identity" in outcome.error
        assert all(e.method == "GET" for e in r.send.exchanges)
        assert (await r.result(session))["status"] == "in_progress"


def _forged(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = parse_jws(token).payload
    claims["response_uri"] = "http://attacker.example/collect"
    return f"{header}.{b64u_encode(json.dumps(claims).encode())}.{signature}"


async def test_a_forged_request_object_is_refused() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        token = (await r.send.http.get(session["request_uri"])).text
        forged = f"openid4vp://authorize?client_id={quote(session['client_id'], safe='')}" \
                 f"&request={quote(_forged(token), safe='')}"
        outcome = await r.wallet.present(r.recorder(), forged)
        assert outcome.artefacts["error_reason"] == "request_object_signature_invalid", outcome.artefacts
        assert r.send.exchanges == []  # nothing was sent to the forged response_uri


async def test_a_client_id_other_than_the_request_objects_is_refused() -> None:
    async with rig() as r:
        await r.receive()
        session, other = await r.session(), await r.session()
        link = f"openid4vp://authorize?client_id={quote(other['client_id'], safe='')}" \
               f"&request_uri={quote(session['request_uri'], safe='')}"
        outcome = await r.wallet.present(r.recorder(), link)
        # The kid names the session's DID, which is not the Authorization Request's client_id (§5.9.3).
        assert outcome.artefacts["error_reason"] == "request_object_kid_invalid", outcome.error
        assert [e.method for e in r.send.exchanges] == ["GET"]


async def test_post_request_uri_method_sends_wallet_metadata_and_nonce() -> None:
    """A session that offers request_uri_method=post (the reference's create extension) is fetched
    by POST with wallet metadata and a wallet_nonce, which the Request Object repeats (§5.10.1)."""
    async with rig() as r:
        await r.receive()
        session = await r.session(request_uri_method="post")
        assert "request_uri_method=post" in session["authorization_request"]
        outcome = await r.present(session)
        assert (outcome.stage, outcome.status, outcome.error) == ("response", 200, None)
        fetch = r.send.exchanges[0]
        assert fetch.method == "POST" and set(fetch.request_body) == {"wallet_metadata", "wallet_nonce"}
        assert outcome.artefacts["request_uri_method"] == "post"
        assert outcome.artefacts["wallet_nonce"] == outcome.artefacts["request_object"]["wallet_nonce"]
        assert outcome.artefacts["request_content_type"].startswith("application/oauth-authz-req+jwt")
        assert (await r.result(session))["status"] == "completed"


async def test_a_forced_post_to_a_session_that_did_not_offer_it_is_refused() -> None:
    """Without request_uri_method=post in the request the reference cannot sign a wallet_nonce in
    (its key is gone), so the forced POST is answered 400 at the request stage."""
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, request_uri_method="post")
        assert (outcome.stage, outcome.status, outcome.body["error"]) == ("request", 400, "invalid_request")
        sent = r.send.exchanges[-1]
        assert sent.method == "POST" and set(sent.request_body) == {"wallet_metadata", "wallet_nonce"}
        assert "wallet_nonce" in outcome.artefacts  # what it sent, to compare with what came back


async def test_get_overrides_an_offered_post() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session(request_uri_method="post")
        outcome = await r.present(session, request_uri_method="get")
        assert outcome.succeeded and r.send.exchanges[0].method == "GET"
        assert "wallet_nonce" not in outcome.artefacts and "wallet_nonce" not in outcome.artefacts["request_object"]


async def test_request_uri_method_must_be_get_or_post() -> None:
    wallet = HarnessWallet(random.Random(1))
    with pytest.raises(ValueError, match="request_uri_method"):
        await wallet.present(Recorder(None), "openid4vp://?client_id=x", request_uri_method="GET")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown present fault"):
        await wallet.present(Recorder(None), "openid4vp://?client_id=x", faults=["proof_missing"])  # type: ignore[arg-type]


# --- faults ----------------------------------------------------------------------------------------

# fault -> the verifier's first failed (check, reason_code) (reference/verifier/CHECKS.md).
FAILED_CHECK = {
    "tamper_disclosure": ("disclosures", "disclosure_not_referenced"),
    "tamper_issuer_jwt": ("signature", "signature_verification_failed"),
    "issuer_jwt_bad_signature": ("signature", "signature_verification_failed"),
    "not_sd_jwt": ("credential_format", "credential_format_invalid"),
    "kb_missing": ("key_binding", "kb_jwt_missing"),
    "kb_wrong_key": ("key_binding", "kb_signature_invalid"),
    "kb_bad_signature": ("key_binding", "kb_signature_invalid"),
    "kb_wrong_typ": ("key_binding", "kb_typ_invalid"),
    "kb_no_iat": ("key_binding", "kb_claim_missing"),
    "error_response": ("wallet_response", "wallet_error_response"),
    "kb_wrong_nonce": ("key_binding", "kb_nonce_mismatch"),
    "kb_wrong_aud": ("key_binding", "kb_aud_mismatch"),
    "kb_iat_past_year": ("key_binding", "kb_iat_out_of_window"),
    "kb_iat_future_year": ("key_binding", "kb_iat_out_of_window"),
    "kb_wrong_sd_hash": ("key_binding", "kb_sd_hash_mismatch"),
}
# Faults the verifier answers without a failed session (CHECKS.md: a response that cannot be
# attributed is refused with 400 and the session left unchanged; OID4VP 1.0 §14.1, §14.3.2).
REFUSED = {"replay": "completed", "wrong_state": "in_progress"}
# Responses that break the vp_token's shape: answered 400 and the session failed on
# oid4vp_compliance (CHECKS.md; OID4VP 1.0 §8.1, B.3).
NON_COMPLIANT = {"vp_token_unknown_query": "oid4vp_non_compliant", "presentation_as_object": "presentation_invalid"}
# Faults no rule obliges the verifier to reject: the session completes.
TOLERATED = {"fetch_request_twice", "extra_disclosure"}


def test_every_present_fault_has_an_expectation() -> None:
    assert set(FAILED_CHECK) | set(REFUSED) | set(NON_COMPLIANT) | TOLERATED == set(PRESENT_FAULTS)


@pytest.mark.parametrize("fault", sorted(FAILED_CHECK))
async def test_present_fault_fails_the_named_check(fault: str) -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, faults=[fault])
        assert outcome.status == 200, outcome.body  # the verdict is in the result, not the answer
        result = await r.result(session)
        assert result["status"] == "failed"
        assert first_failure(result) == FAILED_CHECK[fault], result["check_results"]


@pytest.mark.parametrize(("fault", "reason"), sorted(NON_COMPLIANT.items()))
async def test_vp_token_shape_faults_are_answered_400_and_fail_the_session(fault: str, reason: str) -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, faults=[fault])
        assert (outcome.stage, outcome.status, outcome.body["error"]) == ("response", 400, "invalid_request")
        result = await r.result(session)
        assert result["status"] == "failed"
        assert first_failure(result) == ("oid4vp_compliance", reason)


async def test_error_response_posts_no_presentation() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session(mode="direct_post.jwt")
        outcome = await r.present(session, faults=["error_response"])
        assert outcome.status == 200 and "presentation" not in outcome.artefacts
        posted = r.send.exchanges[-1].request_body
        assert posted["error"] == "access_denied" and posted["state"] == outcome.artefacts["request_object"]["state"]
        assert "vp_token" not in posted and "response" not in posted
        assert (await r.result(session))["error"]["code"] == "access_denied"


async def test_signature_flips_keep_everything_else() -> None:
    """issuer_jwt_bad_signature and kb_bad_signature change only signature bytes."""
    async with rig() as r:
        await r.receive()
        issued = parse_sd_jwt(r.wallet.held[-1].serialized).issuer_jws
        outcome = await r.present(await r.session(), faults=["issuer_jwt_bad_signature"])
        sent = parse_sd_jwt(outcome.artefacts["presentation"])
        assert sent.issuer_jws.token.rsplit(".", 1)[0] == issued.token.rsplit(".", 1)[0]
        assert sent.issuer_jws.signature != issued.signature and len(sent.issuer_jws.signature) == len(issued.signature)
        assert kb_payload(outcome.artefacts["presentation"])["sd_hash"] == sha256_b64u(sent.sd_jwt_part)
        outcome = await r.present(await r.session(), faults=["kb_bad_signature"])
        kb = parse_sd_jwt(outcome.artefacts["presentation"]).kb_jws
        assert kb is not None and kb.header["typ"] == "kb+jwt" and set(kb.payload) == {"iat", "aud", "nonce", "sd_hash"}


@pytest.mark.parametrize(("fault", "header", "claims"), [
    ("kb_wrong_typ", {"typ": "JWT"}, {"iat", "aud", "nonce", "sd_hash"}),
    ("kb_no_iat", {"typ": "kb+jwt"}, {"aud", "nonce", "sd_hash"}),
])
async def test_kb_reshapes_are_signed_by_the_holder_key(fault: str, header: dict[str, str], claims: set[str]) -> None:
    async with rig() as r:
        await r.receive()
        outcome = await r.present(await r.session(), faults=[fault])
        kb = parse_sd_jwt(outcome.artefacts["presentation"]).kb_jws
        assert kb is not None and header.items() <= kb.header.items() and set(kb.payload) == claims
        kb.verify_with(r.wallet.held[-1].key.public)  # a real signature: only the named member differs


async def test_not_sd_jwt_presents_the_issuer_jwt_alone() -> None:
    async with rig() as r:
        await r.receive()
        outcome = await r.present(await r.session(), faults=["not_sd_jwt"])
        assert outcome.artefacts["presentation"] == r.wallet.held[-1].issuer_jwt
        assert outcome.artefacts["disclosed"] == {"certificate": []}


@pytest.mark.parametrize(("fault", "status"), sorted(REFUSED.items()))
async def test_present_fault_is_refused_and_the_session_kept(fault: str, status: str) -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, faults=[fault])
        assert (outcome.stage, outcome.status, outcome.body["error"]) == ("response", 400, "invalid_request")
        assert (await r.result(session))["status"] == status
        posts = [e for e in r.send.exchanges if e.method == "POST"]
        assert len(posts) == (2 if fault == "replay" else 1)


async def test_fetch_request_twice_answers_the_second_request_object() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, faults=["fetch_request_twice"])
        assert outcome.artefacts["request_fetches"] == [200, 200]
        assert (await r.result(session))["status"] == "completed"


async def test_extra_disclosure_reveals_unrequested_claims() -> None:
    async with rig() as r:
        await r.receive()
        session = await r.session()
        outcome = await r.present(session, faults=["extra_disclosure"])
        assert sorted(outcome.artefacts["disclosed"]["certificate"]) == ["credentialName", "issuedTime"]
        result = await r.result(session)
        assert result["status"] == "completed"
        assert result["presentation_metadata"]["claims"] == TURING_CLAIMS


# fault -> what the presentation shows, given the request (one altered member each).
def _kb_checks(request: dict[str, Any]) -> dict[str, Any]:
    year = 365 * 24 * 3600
    return {
        "kb_wrong_nonce": lambda kb, p: kb["nonce"] != request["nonce"] and kb["aud"] == request["client_id"],
        "kb_wrong_aud": lambda kb, p: kb["aud"] == request["response_uri"] and kb["nonce"] == request["nonce"],
        "kb_iat_past_year": lambda kb, p: abs(kb["iat"] + year - request["iat"]) < 120,
        "kb_iat_future_year": lambda kb, p: abs(kb["iat"] - year - request["iat"]) < 120,
        "kb_wrong_sd_hash": lambda kb, p: kb["sd_hash"] == sha256_b64u(p.sd_jwt_part[:-1]),
    }


@pytest.mark.parametrize("fault", ["kb_wrong_nonce", "kb_wrong_aud", "kb_iat_past_year", "kb_iat_future_year",
                                   "kb_wrong_sd_hash"])
async def test_kb_faults_alter_one_claim(fault: str) -> None:
    async with rig() as r:
        await r.receive()
        outcome = await r.present(await r.session(), faults=[fault])
        presentation = parse_sd_jwt(outcome.artefacts["presentation"])
        kb = kb_payload(outcome.artefacts["presentation"])
        assert _kb_checks(outcome.artefacts["request_object"])[fault](kb, presentation)
        if fault != "kb_wrong_sd_hash":
            assert kb["sd_hash"] == sha256_b64u(presentation.sd_jwt_part)


async def test_tamper_faults_keep_the_key_binding_consistent() -> None:
    """Only the named part is broken: the KB-JWT covers the tampered SD-JWT."""
    async with rig() as r:
        await r.receive()
        issued = parse_sd_jwt(r.wallet.held[-1].serialized)
        for fault in ("tamper_disclosure", "tamper_issuer_jwt"):
            outcome = await r.present(await r.session(), faults=[fault])
            presentation = parse_sd_jwt(outcome.artefacts["presentation"])
            assert kb_payload(outcome.artefacts["presentation"])["sd_hash"] == sha256_b64u(presentation.sd_jwt_part)
            same_jwt = presentation.issuer_jws.token == issued.issuer_jws.token
            assert same_jwt is (fault == "tamper_disclosure")
            if fault == "tamper_issuer_jwt":
                assert presentation.issuer_jws.payload["iat"] == issued.issuer_jws.payload["iat"] + 1
                assert presentation.issuer_jws.token.split(".")[2] == issued.issuer_jws.token.split(".")[2]
            else:
                (disclosure,) = presentation.disclosures
                assert disclosure.name == "credentialName" and disclosure.value.endswith("-tampered")
                original = next(d for d in issued.disclosures if d.name == "credentialName")
                assert disclosure.salt == original.salt and disclosure.digest != original.digest


# --- Client Identifier forms (OID4VP 1.0 §5.9.3 and the seed's deviations) ------------------------

GONE = "http://gone.local/response"  # no host there: the wallet gets as far as posting


def _client(form: str, key: Any) -> tuple[str, str, dict[str, Any] | None]:
    """(client_id, kid, client_metadata) of a Verifier signing with `key`."""
    if form == "https_jwks":
        return "https://rp.example", "rp-1", {"jwks": {"keys": [{**key.public.to_jwk(), "kid": "rp-1"}]}}
    did = (did_jwk_from_public if "jwk" in form else did_key_from_public)(key.public)
    kid = resolve_local(did)["verificationMethod"][0]["id"]
    return (did if form.startswith("bare") else f"decentralized_identifier:{did}"), kid, None


@pytest.mark.parametrize("form", ["prefixed_did_key", "prefixed_did_jwk", "bare_did_jwk", "https_jwks"])
async def test_request_objects_verify_for_each_client_identifier_form(form: str) -> None:
    async with rig() as r:
        await r.receive()
        key = generate_key("ES256")
        client_id, kid, metadata = _client(form, key)
        token = build_request_object(key, client_id=client_id, response_uri=GONE, nonce="n-0123456789",
                                     state="s-1", dcql_query=TURING_QUERY,
                                     iat=int(r.ref.clock.now()), kid=kid, client_metadata=metadata)
        link = f"openid4vp://authorize?client_id={quote(client_id, safe='')}&request={quote(token, safe='')}"
        outcome = await r.wallet.present(r.recorder(), link)
        assert outcome.artefacts["client_id"] == client_id
        assert (outcome.stage, outcome.status, outcome.artefacts["error_reason"]) == ("response", None, "unreachable")
        assert kb_payload(outcome.artefacts["presentation"])["aud"] == client_id  # §14.7: exactly as sent

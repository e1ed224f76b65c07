"""The custodial story end to end with the three other reference roles: the reference issuer
issues, the holder receives and presents, the reference verifier (shared/seeds/004) checks and
reports; for both response modes, selective disclosure, run_all, and a verifier rejection."""

from __future__ import annotations

from typing import Any

import pytest

from tests.reference.test_holder_kit import (
    HAIP_KEY,
    RESIDENT_CLAIMS,
    RESIDENT_QUERY,
    TURING_QUERY,
    User,
    World,
    holder_world,
)


async def _wallet(world: World, config: str = "TuringCerts_Standard_Credential_v2_sd_jwt",
                  claims: dict[str, Any] | None = None, method: str = "IOTA",
                  api_key: str | None = None) -> tuple[User, str, str, str]:
    alice = await world.user()
    did, key = await world.did(alice, method)
    offer = await world.offer(config, claims, **({"api_key": api_key} if api_key else {}))
    received = await world.receive(alice, did, key, offer)
    assert received.status_code == 201, received.text
    return alice, did, key, received.json()["credential_id"]


async def _present(world: World, user: User, did: str, key: str, uri: str,
                   disclosed: list[str] | None = None, **extra: Any) -> Any:
    details = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, user)
    assert details.status_code == 200, details.text
    (match,) = details.json()["matching_credentials"]
    selection: dict[str, Any] = {"credential_id": match["credential_id"], "query_id": match["query_id"]}
    if disclosed is not None:
        selection["disclosed_claims"] = disclosed
    return await world.post("/v1/oid4vp/presentation", {
        "authorization_request_uri": uri, "selected_credentials": [selection], "holder_did": did,
        "private_key": key, **extra}, user)


@pytest.mark.anyio
@pytest.mark.parametrize("mode,client", [("direct_post", "did:key"), ("direct_post.jwt", "did:iota"),
                                         ("direct_post", "did:jwk")])
async def test_presentation_completes_at_the_reference_verifier(mode: str, client: str) -> None:
    async with holder_world(issuer=True, verifier=True) as world:
        alice, did, key, _ = await _wallet(world)
        request = await world.verifier_request(TURING_QUERY, mode=mode, client=client)
        presented = await _present(world, alice, did, key, request["authorization_request"],
                                   ["credentialName"])
        assert presented.status_code == 200, presented.text
        result = await world.verifier_result(request["session_id"])
        assert result["status"] == "completed", result
        assert result["presentation_metadata"]["claims"] == {"credentialName": "University Degree"}
        assert all(check["status"] == "success" for check in result["check_results"])


@pytest.mark.anyio
async def test_nested_disclosure_run_all_and_redirect_uri() -> None:
    async with holder_world(issuer=True, verifier=True) as world:
        alice, did, key, _ = await _wallet(world, "ResidentCredential", RESIDENT_CLAIMS, method="KEY")
        request = await world.verifier_request(RESIDENT_QUERY, mode="direct_post.jwt",
                                               redirect_uri="https://verifier.example/callback")
        presented = await _present(world, alice, did, key, request["authorization_request"],
                                   verification_mode="run_all")
        assert presented.status_code == 200, presented.text
        assert presented.json()["redirect_uri"].startswith("https://verifier.example/callback")
        result = await world.verifier_result(request["session_id"])
        assert result["status"] == "completed" and result["verification_mode"] == "run_all"
        claims = result["presentation_metadata"]["claims"]
        assert claims["address"] == RESIDENT_CLAIMS["address"] and claims["given_name"] == "Ana"


@pytest.mark.anyio
async def test_x509_issued_credential_verifies_at_the_reference_verifier() -> None:
    async with holder_world(issuer=True, verifier=True) as world:
        alice, did, key, _ = await _wallet(world, "IdentityCredential",
                                           {"given_name": "Erika", "family_name": "Mustermann"},
                                           method="KEY", api_key=HAIP_KEY)
        query = {"credentials": [{"id": "pid", "format": "dc+sd-jwt",
                                  "meta": {"vct_values": ["urn:vc-conformance:IdentityCredential:1"]},
                                  "claims": [{"path": ["family_name"]}]}]}
        request = await world.verifier_request(query)
        presented = await _present(world, alice, did, key, request["authorization_request"], ["family_name"])
        assert presented.status_code == 200, presented.text
        result = await world.verifier_result(request["session_id"])
        assert result["status"] == "completed", result
        assert result["presentation_metadata"]["claims"] == {"family_name": "Mustermann"}


@pytest.mark.anyio
async def test_a_verifier_rejection_is_relayed_as_400() -> None:
    async with holder_world(issuer=True, verifier=True) as world:
        alice, did, key, _ = await _wallet(world, method="KEY")
        request = await world.verifier_request(TURING_QUERY, expires_in=60)
        uri = request["authorization_request"]
        details = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, alice)
        (match,) = details.json()["matching_credentials"]
        world.clock.advance(120)          # the session expires between consent and submission
        presented = await world.post("/v1/oid4vp/presentation", {
            "authorization_request_uri": uri, "holder_did": did, "private_key": key,
            "selected_credentials": [{"credential_id": match["credential_id"],
                                      "query_id": "certificate"}]}, alice)
        assert presented.status_code == 400, presented.text
        assert presented.json()["error"]["code"] == "verifier_rejected"
        assert "expired" in presented.json()["error"]["message"]
        assert (await world.verifier_result(request["session_id"]))["status"] == "expired"
        # The request_uri itself is gone now: the seed's 404 for request-details.
        gone = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, alice)
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "request_uri_not_found"

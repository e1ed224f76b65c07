"""The holder seed's whole custodial story in one run, on a file-backed store, and then the
proof that no secret of that run (passwords, private keys, access tokens, PINs) reached the
SQLite file or the logs. Also: the OpenAPI document served at /openapi.json."""

from __future__ import annotations

import logging
from pathlib import Path

import jsonschema
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31
from starlette.routing import Route

from conformance.protocol.did import did_key_from_public
from conformance.protocol.jose import b64u_decode, b64u_encode, generate_key
from tests.reference.test_holder_kit import (
    DOC,
    HOLDER,
    PASSWORD,
    RESIDENT_CLAIMS,
    RESIDENT_QUERY,
    TURING_QUERY,
    holder_world,
)


@pytest.mark.anyio
async def test_custodial_story_leaves_no_secret_behind(tmp_path: Path,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = tmp_path / "holder.db"
    secrets_seen: list[str] = [PASSWORD]
    async with holder_world(str(path), issuer=True, verifier=True) as world:
        # §1: a user, a session, DIDs of every method, and an imported DID.
        alice = await world.user("Alice")
        secrets_seen.append(alice.token)
        dids = {}
        for method in ("IOTA", "KEY", "JWK"):
            did, key = await world.did(alice, method)
            dids[method] = (did, key)
            secrets_seen.append(key)
        own = generate_key("ES256")
        imported = did_key_from_public(own.public)
        secrets_seen.append(b64u_encode(own.raw()))
        assert (await world.post("/v1/did/import", {"did": imported,
                                                    "private_key": b64u_encode(own.raw())},
                                 alice)).status_code == 201
        # §2: offer details, then receive (one with a PIN), bound to the did:iota.
        did, key = dids["IOTA"]
        offer = await world.offer(tx_code={"input_mode": "numeric", "length": 6})
        secrets_seen.append(offer["tx_code_value"])
        details = await world.post("/v1/oid4vci/offer-details",
                                   {"credential_offer_uri": offer["deep_link"]}, alice)
        assert details.json()["pre_authorized_code_grant"]["user_pin_required"] is True
        certificate = await world.receive(alice, did, key, offer, user_pin=offer["tx_code_value"],
                                          notarize_on_iota=True)
        assert certificate.status_code == 201
        assert certificate.json()["on_chain_status"] == "COMPLETED"   # anchored on the ledger
        resident = await world.receive(alice, did, key,
                                       await world.offer("ResidentCredential", RESIDENT_CLAIMS))
        assert resident.status_code == 201
        # §3: list, get.
        listed = (await world.get("/v1/vc", alice)).json()["credentials"]
        assert {c["status"] for c in listed} == {"active"} and len(listed) == 2
        assert (await world.get(f"/v1/vc/{resident.json()['credential_id']}", alice)).status_code == 200
        # §4: present to the reference verifier, once per response mode, disclosing what is asked.
        for query, mode in ((TURING_QUERY, "direct_post"), (RESIDENT_QUERY, "direct_post.jwt")):
            request = await world.verifier_request(query, mode=mode)
            uri = request["authorization_request"]
            details = await world.post("/v1/oid4vp/request-details",
                                       {"authorization_request_uri": uri}, alice)
            (match,) = details.json()["matching_credentials"]
            presented = await world.post("/v1/oid4vp/presentation", {
                "authorization_request_uri": uri, "holder_did": did, "private_key": key,
                "selected_credentials": [{"credential_id": match["credential_id"],
                                          "query_id": match["query_id"],
                                          "disclosed_claims": match["requested_claims"]}]}, alice)
            assert presented.status_code == 200, presented.text
            result = await world.verifier_result(request["session_id"])
            assert result["status"] == "completed", result
            assert set(result["presentation_metadata"]["claims"]) == {
                name.split(".")[0] for name in match["requested_claims"]}
        # Failure paths also carry secrets in their requests: none may be echoed or logged.
        wrong = b64u_encode(generate_key("EdDSA").raw())
        secrets_seen.append(wrong)
        refused = await world.receive(alice, did, wrong, await world.offer())
        assert refused.status_code == 400 and wrong not in refused.text
        assert (await world.post("/v1/user/login", {"uuid": alice.uuid, "password": "Wrong pass 9"})
                ).status_code == 401
        secrets_seen.append("Wrong pass 9")
        # §3: delete.
        assert (await world.delete(f"/v1/vc/{certificate.json()['credential_id']}", alice)).status_code == 204
        secrets_seen.append(world.settings.signing_key)
    _assert_absent(secrets_seen, [p for p in tmp_path.iterdir() if p.name.startswith("holder.db")],
                   caplog.text)


def _assert_absent(secrets: list[str], files: list[Path], log_text: str) -> None:
    assert files and log_text, "the run must have written a database and some logs"
    stored = b"".join(p.read_bytes() for p in files)
    for secret in secrets:
        forms = [secret.encode()]
        try:
            raw = b64u_decode(secret)
            forms += [raw, raw.hex().encode()]
        except Exception:  # noqa: BLE001 - passwords and PINs are not base64url; that is fine
            pass
        for form in forms:
            if len(form) >= 6:
                assert form not in stored, "a secret reached the SQLite file"
        assert secret not in log_text, "a secret reached the logs"


# --- OpenAPI -------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_openapi_document_is_served_valid_and_complete() -> None:
    async with holder_world() as world:
        response = await world.http.get(f"{HOLDER}/openapi.json")
        assert response.status_code == 200 and response.json() == DOC
        jsonschema.Draft202012Validator(OPENAPI_31).validate(DOC)
        app = world.apps[HOLDER]
        routed = {(route.path, method.lower()) for route in app.routes if isinstance(route, Route)
                  for method in route.methods or () if method != "HEAD"}
        documented = {(path, method) for path, ops in DOC["paths"].items() for method in ops}
        assert routed - {("/openapi.json", "get")} == documented
        for schema in ("ReceiveResponse", "CredentialRecord", "CredentialSummary"):
            assert schema in DOC["components"]["schemas"]
        description = DOC["info"]["description"]
        for deviation in ("block_chain", "notarize_on_iota", "suspended", "openid-credential-offer://",
                          "409", "bare DID"):
            assert deviation in description

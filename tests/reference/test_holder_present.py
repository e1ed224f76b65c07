"""Holder §4: request-details and presentation, for both response modes, against a verifier
built from the protocol core (a real signed Request Object, real decryption, real SD-JWT and
KB-JWT verification), and every failure mode of the seed's table."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.did import did_jwk_from_public, did_key_from_public
from conformance.protocol.errors import ProtocolError
from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key, sign_jws
from conformance.protocol.jwe import EcdhPrivateKey, generate_ecdh_key
from conformance.protocol.oid4vp import (
    build_authorization_request,
    build_client_metadata,
    build_request_object,
    check_state,
    decrypt_response,
    parse_response_params,
)
from conformance.protocol.sdjwt import KbExpectations, parse_sd_jwt, verify_sd_jwt
from conformance.resolver import DidResolver
from reference.holder.held import path_name, resolve_path_name
from tests.reference.test_holder_kit import (
    ISSUER,
    LEDGER,
    RESIDENT_CLAIMS,
    RESIDENT_QUERY,
    TURING_KEY,
    TURING_QUERY,
    VERIFIER,
    User,
    World,
    holder_world,
)


@dataclass
class Session:
    jar_claims: dict[str, Any]
    response_mode: str
    client_id: str
    nonce: str
    state: str
    encryption_key: EcdhPrivateKey | None
    received: list[dict[str, Any]] = field(default_factory=list)
    verification_mode: str | None = None


class CoreVerifier:
    """A minimal OID4VP verifier made of protocol-core calls: it serves signed Request Objects
    and verifies what it receives exactly as a verifier must (RFC 9901 §7.3, OID4VP 1.0 §8)."""

    def __init__(self, world: World, key: PrivateKey | None = None, did: str | None = None,
                 kid: str | None = None) -> None:
        self.world = world
        self.key = key or generate_key("EdDSA")
        self.did = did or did_key_from_public(self.key.public)
        self.kid = kid or f"{self.did}#{self.did.split(':')[2]}"
        self.sessions: dict[str, Session] = {}
        self.reject_with: str | None = None
        self.sign_with: PrivateKey | None = None      # a wrong key: the holder must refuse
        self.app = Starlette(routes=[
            Route("/request/{sid}", self.request_object, methods=["GET", "POST"]),
            Route("/response/{sid}", self.response, methods=["POST"]),
        ])

    def session(self, dcql: dict[str, Any] = TURING_QUERY, *, mode: str = "direct_post",
                bare_did: bool = False, method: str | None = None,
                jar_client_id: str | None = None) -> str:
        sid = secrets.token_urlsafe(8)
        client_id = self.did if bare_did else f"decentralized_identifier:{self.did}"
        enc = generate_ecdh_key(kid="enc-1") if mode == "direct_post.jwt" else None
        metadata = build_client_metadata({"client_name": "Test Verifier"}, encryption_key=enc)
        self.sessions[sid] = Session({
            "client_id": jar_client_id or client_id, "response_uri": f"{VERIFIER}/response/{sid}",
            "dcql_query": dcql, "response_mode": mode, "client_metadata": metadata},
            mode, client_id, secrets.token_urlsafe(16), secrets.token_urlsafe(8), enc)
        return build_authorization_request(client_id, f"{VERIFIER}/request/{sid}",
                                           request_uri_method=method)

    async def request_object(self, request: Request) -> Response:
        session = self.sessions.get(request.path_params["sid"])
        if session is None:
            return JSONResponse({"error": "not_found"}, status_code=404)
        wallet_nonce = None
        if request.method == "POST":
            wallet_nonce = dict(parse_qsl((await request.body()).decode())).get("wallet_nonce")
        token = build_request_object(self.sign_with or self.key, nonce=session.nonce,
                                     state=session.state, iat=int(self.world.clock.now()),
                                     kid=self.kid,
                                     wallet_nonce=wallet_nonce, **session.jar_claims)
        return Response(token, media_type="application/oauth-authz-req+jwt")

    async def response(self, request: Request) -> Response:
        session = self.sessions[request.path_params["sid"]]
        form = dict(parse_qsl((await request.body()).decode()))
        session.verification_mode = form.pop("verification_mode", None)
        if session.response_mode == "direct_post.jwt":
            assert set(form) == {"response"}, "direct_post.jwt sends only `response` (§8.3.1)"
            assert session.encryption_key is not None
            form = decrypt_response(form["response"], session.encryption_key,
                                    client_metadata=session.jar_claims["client_metadata"])
        try:
            received = await self._verify(session, form)
        except ProtocolError as exc:
            return JSONResponse({"error": "invalid_request", "error_description": exc.reason},
                                status_code=400)
        session.received.extend(received)
        if self.reject_with:
            return JSONResponse({"error": "invalid_request", "error_description": self.reject_with},
                                status_code=400)
        return JSONResponse({"redirect_uri": f"{VERIFIER}/done?session={request.path_params['sid']}"})

    async def _verify(self, session: Session, form: dict[str, Any]) -> list[dict[str, Any]]:
        params = parse_response_params(form)
        check_state(params.state, session.state)
        resolver = DidResolver(self.world.http, LEDGER)
        received = []
        for query_id, presentations in params.vp_token.items():
            for presentation in presentations:
                sd_jwt = parse_sd_jwt(presentation)
                issuer_key = await resolver.key_for(sd_jwt.issuer_jws.header["kid"])
                verified = verify_sd_jwt(sd_jwt, issuer_key=issuer_key, now=int(self.world.clock.now()),
                                         holder_binding=KbExpectations(session.client_id, session.nonce))
                received.append({"query_id": query_id, "claims": verified.claims,
                                 "disclosed": verified.disclosed_paths, "kb": verified.kb_payload,
                                 "raw": presentation})
        return received


async def _setup(world: World, config: str = "TuringCerts_Standard_Credential_v2_sd_jwt",
                 claims: dict[str, Any] | None = None,
                 did_method: str = "KEY") -> tuple[User, str, str, str, CoreVerifier]:
    alice = await world.user()
    did, key = await world.did(alice, did_method)
    offer = await world.offer(config, claims)
    received = await world.receive(alice, did, key, offer)
    assert received.status_code == 201, received.text
    verifier = CoreVerifier(world)
    world.network.mount(VERIFIER, verifier.app)
    return alice, did, key, received.json()["credential_id"], verifier


def _present(uri: str, did: str, key: str, *selected: dict[str, Any]) -> dict[str, Any]:
    return {"authorization_request_uri": uri, "selected_credentials": list(selected),
            "holder_did": did, "private_key": key}


# --- request-details -----------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("bare_did", [False, True])
async def test_request_details_matches_the_wallet(bare_did: bool) -> None:
    async with holder_world(issuer=True) as world:
        alice, did, _, credential, verifier = await _setup(world)
        uri = verifier.session(bare_did=bare_did)
        response = await world.post("/v1/oid4vp/request-details",
                                    {"authorization_request_uri": uri}, alice)
        assert response.status_code == 200, response.text
        details = response.json()
        assert details["client_metadata"]["client_name"] == "Test Verifier"
        assert details["dcql_query"] == TURING_QUERY and details["can_be_satisfied"] is True
        (match,) = details["matching_credentials"]
        assert match["query_id"] == "certificate" and match["credential_id"] == credential
        assert match["requested_claims"] == ["credentialName"] and match["holder_did"] == did
        assert set(match["disclosable_claims"]) == {"credentialName", "issuedTime"}
        notes = [n["code"] for n in details["notes"]]
        assert ("client_id_form" in notes) is bare_did


@pytest.mark.anyio
async def test_request_details_with_nothing_to_present() -> None:
    async with holder_world(issuer=True) as world:
        alice, _, _, credential, verifier = await _setup(world)
        uri = verifier.session(RESIDENT_QUERY)
        details = (await world.post("/v1/oid4vp/request-details",
                                    {"authorization_request_uri": uri}, alice)).json()
        assert details["matching_credentials"] == [] and details["can_be_satisfied"] is False
        assert details["unsatisfied"] == ["residence"]
        # Deleted credentials are not offered either.
        await world.delete(f"/v1/vc/{credential}", alice)
        gone = (await world.post("/v1/oid4vp/request-details",
                                 {"authorization_request_uri": verifier.session()}, alice)).json()
        assert gone["matching_credentials"] == []


@pytest.mark.anyio
async def test_request_details_failures() -> None:
    async with holder_world(issuer=True) as world:
        alice, _, _, _, verifier = await _setup(world)
        post = lambda uri: world.post("/v1/oid4vp/request-details",  # noqa: E731
                                      {"authorization_request_uri": uri}, alice)
        assert (await post("not a uri")).status_code == 400
        assert (await post("openid4vp://?client_id=x")).status_code == 400
        unknown = await post(f"openid4vp://?client_id=decentralized_identifier:{verifier.did}"
                             f"&request_uri={VERIFIER}/request/unknown")
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "request_uri_not_found"
        mismatched = await post(verifier.session(jar_client_id=f"decentralized_identifier:{world_did()}"))
        assert mismatched.status_code == 400
        verifier.sign_with = generate_key("EdDSA")
        forged = await post(verifier.session())
        assert forged.status_code == 400 and forged.json()["error"]["code"] == "invalid_request_object"
        verifier.sign_with = None
        uri = verifier.session()
        world.network.set_reachable(VERIFIER, False)
        down = await post(uri)
        assert down.status_code == 502 and down.json()["error"]["code"] == "verifier_unavailable"
        assert (await world.post("/v1/oid4vp/request-details",
                                 {"authorization_request_uri": uri})).status_code == 401


def world_did() -> str:
    return did_key_from_public(generate_key("EdDSA").public)


@pytest.mark.anyio
async def test_verifiers_identified_by_did_jwk_and_did_iota() -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, _ = await _setup(world)
        jwk_key = generate_key("EdDSA")
        jwk_did = did_jwk_from_public(jwk_key.public)
        iota_key = generate_key("EdDSA")
        proof = sign_jws({"jwk": iota_key.public.to_jwk()}, {"op": "create", "iat": int(world.clock.now())},
                         iota_key)
        registered = (await world.http.post(f"{LEDGER}/v1/dids", json={"proof": proof})).json()
        iota_kid = registered["didDocument"]["verificationMethod"][0]["id"]
        for verifier in (CoreVerifier(world, jwk_key, jwk_did, f"{jwk_did}#0"),
                         CoreVerifier(world, iota_key, registered["did"], iota_kid)):
            world.network.mount(VERIFIER, verifier.app)
            uri = verifier.session(mode="direct_post.jwt")
            presented = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, {
                "credential_id": credential, "query_id": "certificate"}), alice)
            assert presented.status_code == 200, presented.text
            assert len(next(iter(verifier.sessions.values())).received) == 1
        # The did:iota verifier's key lives on the ledger: without it, no verification.
        await world.drain()     # the issuer's notarization is over before the ledger goes
        world.network.set_reachable(LEDGER, False)
        down = await world.post("/v1/oid4vp/request-details",
                                {"authorization_request_uri": verifier.session()}, alice)
        assert down.status_code == 503 and down.json()["error"]["code"] == "ledger_unavailable"


# --- presentation --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("method", [None, "post"])
async def test_direct_post_with_selective_disclosure(method: str | None) -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world)
        uri = verifier.session(method=method)
        details = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, alice)
        assert details.status_code == 200, details.text
        response = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, {
            "credential_id": credential, "query_id": "certificate",
            "disclosed_claims": ["credentialName"]}), alice)
        assert response.status_code == 200, response.text
        assert response.json()["success"] is True
        assert response.json()["redirect_uri"].startswith(f"{VERIFIER}/done")
        (session,) = verifier.sessions.values()
        assert session.verification_mode is None      # not sent unless the caller chose one
        (got,) = session.received
        assert got["query_id"] == "certificate"
        assert got["disclosed"] == frozenset({("credentialName",)})
        assert "issuedTime" not in got["claims"]
        assert got["kb"]["aud"] == session.client_id and got["kb"]["nonce"] == session.nonce


@pytest.mark.anyio
async def test_direct_post_jwt_discloses_everything_when_omitted() -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world, did_method="IOTA")
        uri = verifier.session(mode="direct_post.jwt", bare_did=True)
        response = await world.post("/v1/oid4vp/presentation", {**_present(uri, did, key, {
            "credential_id": credential, "query_id": "certificate"}), "verification_mode": "run_all"},
            alice)
        assert response.status_code == 200, response.text
        (session,) = verifier.sessions.values()
        assert session.verification_mode == "run_all"
        (got,) = session.received
        assert got["disclosed"] == frozenset({("credentialName",), ("issuedTime",)})
        assert got["kb"]["aud"] == verifier.did     # the bare DID, exactly as sent
        assert sorted(response.json()["presented"][0]["disclosed_claims"]) == ["credentialName", "issuedTime"]


@pytest.mark.anyio
async def test_nested_claims_by_dotted_path() -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world, "ResidentCredential", RESIDENT_CLAIMS)
        uri = verifier.session(RESIDENT_QUERY)
        details = (await world.post("/v1/oid4vp/request-details",
                                    {"authorization_request_uri": uri}, alice)).json()
        assert details["matching_credentials"][0]["requested_claims"] == ["address.locality"]
        assert "nationalities.1" in details["matching_credentials"][0]["disclosable_claims"]
        response = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, {
            "credential_id": credential, "query_id": "residence",
            "disclosed_claims": ["address.locality", "nationalities.1"]}), alice)
        assert response.status_code == 200, response.text
        (got,) = next(iter(verifier.sessions.values())).received
        assert got["claims"]["address"] == {"locality": "Lisboa"}
        assert got["claims"]["nationalities"] == ["BR"] and "given_name" not in got["claims"]


@pytest.mark.anyio
async def test_selections_that_do_not_satisfy_the_query_are_400() -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world)
        uri = verifier.session()
        cases = [
            ({"credential_id": credential, "query_id": "certificate", "disclosed_claims": []},
             "selection_does_not_satisfy_query"),
            ({"credential_id": credential, "query_id": "certificate",
              "disclosed_claims": ["issuedTime"]}, "selection_does_not_satisfy_query"),
            ({"credential_id": credential, "query_id": "nope"}, "unknown_query_id"),
            ({"credential_id": credential, "query_id": "certificate",
              "disclosed_claims": ["noSuchClaim"]}, "unknown_claim"),
        ]
        for selection, code in cases:
            response = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, selection), alice)
            assert response.status_code == 400, selection
            assert response.json()["error"]["code"] == code, response.text
        twice = await world.post("/v1/oid4vp/presentation", _present(
            uri, did, key, *[{"credential_id": credential, "query_id": "certificate"}] * 2), alice)
        assert twice.status_code == 400 and twice.json()["error"]["code"] == "too_many_credentials"
        resident = verifier.session({"credentials": [TURING_QUERY["credentials"][0],
                                                     RESIDENT_QUERY["credentials"][0]]})
        partial = await world.post("/v1/oid4vp/presentation", _present(
            resident, did, key, {"credential_id": credential, "query_id": "certificate"}), alice)
        assert partial.status_code == 400 and "residence" in partial.json()["error"]["message"]
        empty = await world.post("/v1/oid4vp/presentation", _present(uri, did, key), alice)
        assert empty.status_code == 400
        mode = await world.post("/v1/oid4vp/presentation", {**_present(uri, did, key, {
            "credential_id": credential, "query_id": "certificate"}), "verification_mode": "all"}, alice)
        assert mode.status_code == 400 and mode.json()["error"]["field"] == "verification_mode"
        assert all(not s.received for s in verifier.sessions.values())


@pytest.mark.anyio
async def test_presentation_ownership_and_key_failures() -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world)
        bob = await world.user("Bob")
        bob_did, bob_key = await world.did(bob)
        uri = verifier.session()
        selection = {"credential_id": credential, "query_id": "certificate"}
        as_bob = await world.post("/v1/oid4vp/presentation", _present(uri, bob_did, bob_key, selection), bob)
        assert as_bob.status_code == 403          # the credential is Alice's
        with_bobs_did = await world.post("/v1/oid4vp/presentation", _present(uri, bob_did, bob_key, selection),
                                         alice)
        assert with_bobs_did.status_code == 403   # the DID is Bob's
        unknown = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, {
            "credential_id": "6d1f3c1e-0000-4000-8000-000000000000", "query_id": "certificate"}), alice)
        assert unknown.status_code == 404
        wrong_key = b64u_encode(generate_key("ES256").raw())
        mismatch = await world.post("/v1/oid4vp/presentation", _present(uri, did, wrong_key, selection), alice)
        assert mismatch.status_code == 400 and wrong_key not in mismatch.text
        other_did, other_key = await world.did(alice)
        unbound = await world.post("/v1/oid4vp/presentation", _present(uri, other_did, other_key, selection),
                                   alice)
        assert unbound.status_code == 400 and unbound.json()["error"]["code"] == "holder_did_mismatch"
        assert (await world.delete(f"/v1/did/{did}", alice)).status_code == 204
        deleted = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, selection), alice)
        assert deleted.status_code == 404
        # Its credentials are no longer offered for presentation either.
        details = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, alice)
        assert details.json()["matching_credentials"] == []
        assert not next(iter(verifier.sessions.values())).received


@pytest.mark.anyio
async def test_revoked_credentials_are_not_presentable() -> None:
    async with holder_world(issuer=True, status_cache_ttl=0) as world:
        alice, did, key, credential, verifier = await _setup(world)
        offer_records = world.store.one("SELECT raw_credential FROM credentials WHERE id = ?", (credential,))
        assert offer_records is not None
        issuer_id = await _issuer_credential_id(world)
        revoked = await world.http.post(f"{ISSUER}/v1/credentials/{issuer_id}/status",
                                        headers={"X-API-Key": TURING_KEY}, json={"status": "REVOKED"})
        assert revoked.status_code == 200
        world.clock.advance(1)
        uri = verifier.session()
        details = (await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, alice)).json()
        assert details["matching_credentials"] == []
        response = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, {
            "credential_id": credential, "query_id": "certificate"}), alice)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "credential_not_presentable"


async def _issuer_credential_id(world: World) -> str:
    row = world.apps[ISSUER].state.issuer.db.db.one("SELECT credential_id FROM credentials")
    return row[0]


@pytest.mark.anyio
async def test_verifier_rejection_and_outage() -> None:
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world)
        selection = {"credential_id": credential, "query_id": "certificate"}
        verifier.reject_with = "policy says no"
        rejected = await world.post("/v1/oid4vp/presentation", _present(verifier.session(), did, key, selection),
                                    alice)
        assert rejected.status_code == 400
        assert rejected.json()["error"]["code"] == "verifier_rejected"
        assert "policy says no" in rejected.json()["error"]["message"]
        verifier.reject_with = None
        uri = verifier.session()
        details = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": uri}, alice)
        assert details.status_code == 200
        world.network.set_reachable(VERIFIER, False)
        down = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, selection), alice)
        assert down.status_code == 502 and down.json()["error"]["code"] == "verifier_unavailable"


@pytest.mark.anyio
async def test_the_core_verifier_refuses_a_tampered_presentation() -> None:
    """The double is a real verifier: the holder's presentation with one Disclosure swapped for
    another with the same name but a different value is refused (RFC 9901 §7.1)."""
    async with holder_world(issuer=True) as world:
        alice, did, key, credential, verifier = await _setup(world)
        uri = verifier.session()
        ok = await world.post("/v1/oid4vp/presentation", _present(uri, did, key, {
            "credential_id": credential, "query_id": "certificate",
            "disclosed_claims": ["credentialName"]}), alice)
        assert ok.status_code == 200
        (sid, session), = verifier.sessions.items()
        issuer_jwt, disclosure, kb_jwt = session.received[0]["raw"].split("~")
        forged = b64u_encode(json.dumps(["salt", "credentialName", "Forged Degree"]).encode())
        tampered = "~".join((issuer_jwt, forged, kb_jwt))
        response = await world.http.post(f"{VERIFIER}/response/{sid}", data={
            "vp_token": json.dumps({"certificate": [tampered]}), "state": session.state})
        assert response.status_code == 400 and len(session.received) == 1


def test_dotted_claim_names_follow_the_credential_shape() -> None:
    claims = {"address": {"locality": "Lisboa"}, "nationalities": ["PT", "BR"], "2024": {"0": "x"}}
    assert resolve_path_name(claims, "address.locality") == ("address", "locality")
    assert resolve_path_name(claims, "nationalities.1") == ("nationalities", 1)
    assert resolve_path_name(claims, "2024.0") == ("2024", "0")     # object keys stay names
    for missing in ("address.city", "nationalities.2", "nationalities.x", "address.locality.x", ""):
        assert resolve_path_name(claims, missing) is None
    for path in (("address", "locality"), ("nationalities", 1), ("2024", "0")):
        assert resolve_path_name(claims, path_name(path)) == path

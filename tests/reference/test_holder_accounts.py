"""Holder §1: users (register, login, access tokens) and DIDs (create, import, list, delete),
with every failure mode of the seed's tables."""

from __future__ import annotations

import secrets
import uuid
from urllib.parse import quote

import pytest

from conformance.protocol.did import did_jwk_from_public, did_key_from_public, resolve_local, verification_key
from conformance.protocol.jose import b64u_encode, generate_key, private_key_from_b64u, sign_jws
from reference.holder.auth import PasswordHasher
from tests.reference.test_holder_kit import DOC, LEDGER, PASSWORD, holder_world


# --- users ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_register_login_and_use_the_token() -> None:
    async with holder_world() as world:
        registered = await world.post("/v1/user/register", {"name": "Alice", "password": PASSWORD})
        assert registered.status_code == 201
        body = registered.json()
        assert body["name"] == "Alice" and uuid.UUID(body["uuid"])
        login = await world.post("/v1/user/login", {"uuid": body["uuid"], "password": PASSWORD})
        assert login.status_code == 200
        session = login.json()
        assert session["token_type"] == "Bearer" and session["expires_in"] == 86400
        assert session["user"] == {"uuid": body["uuid"], "name": "Alice"}
        listed = await world.http.get("http://holder.local/v1/did",
                                      headers={"Authorization": f"Bearer {session['access_token']}"})
        assert listed.status_code == 200 and listed.json() == {"dids": []}


@pytest.mark.anyio
@pytest.mark.parametrize("password", ["short1", "nodigitshere", "1234567890", ""])
async def test_password_policy(password: str) -> None:
    async with holder_world() as world:
        response = await world.post("/v1/user/register", {"name": "Bob", "password": password})
        assert response.status_code == 400
        assert response.json()["error"]["field"] == "password"
        if password:
            assert password not in response.text


@pytest.mark.anyio
async def test_register_requires_a_name() -> None:
    async with holder_world() as world:
        response = await world.post("/v1/user/register", {"password": PASSWORD})
        assert response.status_code == 400 and response.json()["error"]["field"] == "name"


@pytest.mark.anyio
async def test_a_supplied_uuid_is_kept_and_a_duplicate_is_409() -> None:
    async with holder_world() as world:
        chosen = str(uuid.uuid4())
        first = await world.post("/v1/user/register", {"name": "A", "password": PASSWORD,
                                                      "uuid": chosen})
        assert first.status_code == 201 and first.json()["uuid"] == chosen
        again = await world.post("/v1/user/register", {"name": "B", "password": PASSWORD,
                                                      "uuid": chosen})
        assert again.status_code == 409 and again.json()["error"]["field"] == "uuid"
        bad = await world.post("/v1/user/register", {"name": "C", "password": PASSWORD,
                                                    "uuid": "not-a-uuid"})
        assert bad.status_code == 400


@pytest.mark.anyio
async def test_login_failures() -> None:
    async with holder_world() as world:
        alice = await world.user()
        wrong = await world.post("/v1/user/login", {"uuid": alice.uuid, "password": "wrong pass 1"})
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "invalid_credentials"
        unknown = await world.post("/v1/user/login", {"uuid": str(uuid.uuid4()), "password": PASSWORD})
        assert unknown.status_code == 401 and unknown.json() == wrong.json()
        malformed = await world.post("/v1/user/login", {"uuid": "123", "password": PASSWORD})
        assert malformed.status_code == 400
        missing = await world.post("/v1/user/login", {"uuid": alice.uuid})
        assert missing.status_code == 400 and missing.json()["error"]["field"] == "password"


@pytest.mark.anyio
async def test_missing_forged_and_expired_tokens() -> None:
    async with holder_world() as world:
        alice = await world.user()
        missing = await world.get("/v1/did")
        assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
        # Same claims, signed by a key that is not the service's.
        forged = sign_jws({"typ": "at+jwt"}, {"iss": world.settings.base_url, "sub": alice.uuid,
                                              "iat": int(world.clock.now()),
                                              "exp": int(world.clock.now()) + 3600}, generate_key())
        head, payload, signature = alice.token.split(".")
        tampered = f"{head}.{forged.split('.')[1]}.{signature}"
        for token in (forged, tampered, "garbage", f"{alice.token}x"):
            response = await world.http.get("http://holder.local/v1/did",
                                            headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 401, token
            assert response.json()["error"]["code"] == "invalid_token"
            assert response.headers["www-authenticate"].startswith("Bearer")
        basic = await world.http.get("http://holder.local/v1/did",
                                     headers={"Authorization": "Basic dXNlcjpwYXNz"})
        assert basic.status_code == 401
        assert (await world.get("/v1/did", alice)).status_code == 200
        world.clock.advance(86_400)
        expired = await world.get("/v1/did", alice)
        assert expired.status_code == 401 and expired.json()["error"]["code"] == "invalid_token"
        assert "login" in expired.json()["error"]["message"]


@pytest.mark.anyio
async def test_every_bearer_route_answers_the_seeds_401s() -> None:
    """The "401 Unauthorized" row of every table (missing header) and the login table's "401
    invalid_token (any subsequent call)" (expired token), on every route that takes a token."""
    some_id, some_did = str(uuid.uuid4()), quote("did:key:zDnaeUnknown", safe="")
    routes = [(method, path.replace("{id}", some_id).replace("{did}", some_did))
              for path, ops in DOC["paths"].items() for method in ops
              if ops[method].get("security") != []]
    assert len(routes) == 11
    async with holder_world() as world:
        alice = await world.user()
        world.clock.advance(86_400)      # the token's default lifetime: expired now
        for method, path in routes:
            body = {} if method in ("post", "delete") else None
            for headers, code in (({}, "unauthorized"), (alice.auth, "invalid_token")):
                response = await world.http.request(method.upper(), f"http://holder.local{path}",
                                                    json=body, headers=headers)
                assert response.status_code == 401, (method, path, response.text)
                assert response.json()["error"]["code"] == code, (method, path)


def test_password_hash_is_salted_scrypt_at_the_default_cost() -> None:
    hasher = PasswordHasher(2 ** 14, 8, 1)
    one, two = hasher.hash(PASSWORD), hasher.hash(PASSWORD)
    assert one != two and one.startswith("scrypt$16384$8$1$") and PASSWORD not in one
    assert hasher.verify(PASSWORD, one) and hasher.verify(PASSWORD, two)
    assert not hasher.verify("correct horse 43", one)
    assert not hasher.verify(PASSWORD, None)


# --- DIDs ----------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_create_key_and_jwk_dids_return_their_key_once() -> None:
    async with holder_world() as world:
        alice = await world.user()
        for method, alg, make in (("KEY", "ES256", did_key_from_public),
                                  ("JWK", "EdDSA", did_jwk_from_public)):
            response = await world.post("/v1/did", {"method": method}, alice)
            assert response.status_code == 201
            body = response.json()
            key = private_key_from_b64u(body["private_key"], alg)
            assert body["did"] == make(key.public) and body["method"] == method
            assert verification_key(resolve_local(body["did"]), body["kid"], "authentication") \
                .to_jwk() == key.public.to_jwk()
        listed = (await world.get("/v1/did", alice)).json()["dids"]
        assert [d["method"] for d in listed] == ["KEY", "JWK"]
        assert all("private_key" not in d for d in listed)


@pytest.mark.anyio
async def test_create_iota_did_is_published_on_the_ledger() -> None:
    async with holder_world() as world:
        alice = await world.user()
        response = await world.post("/v1/did", {"method": "IOTA"}, alice)
        assert response.status_code == 201
        body = response.json()
        assert body["did"].startswith("did:iota:testnet:0x")
        resolved = await world.http.get(f"{LEDGER}/1.0/identifiers/{body['did']}")
        assert resolved.status_code == 200
        key = private_key_from_b64u(body["private_key"], "EdDSA")
        assert verification_key(resolved.json()["didDocument"], body["kid"], "authentication") \
            .to_jwk() == key.public.to_jwk()


@pytest.mark.anyio
async def test_create_rejects_unknown_methods_and_needs_a_token() -> None:
    async with holder_world() as world:
        alice = await world.user()
        for method in ("ETHR", "iota ", ""):
            response = await world.post("/v1/did", {"method": method}, alice)
            assert response.status_code == 400 and response.json()["error"]["field"] == "method"
        assert (await world.post("/v1/did", {"method": "KEY"})).status_code == 401


@pytest.mark.anyio
async def test_ledger_unreachable_is_503() -> None:
    async with holder_world() as world:
        alice = await world.user()
        world.network.set_reachable(LEDGER, False)
        created = await world.post("/v1/did", {"method": "IOTA"}, alice)
        assert created.status_code == 503 and created.json()["error"]["code"] == "ledger_unavailable"
        imported = await world.post("/v1/did/import", {
            "did": "did:iota:testnet:0x" + "ab" * 32, "private_key": b64u_encode(secrets.token_bytes(32))},
            alice)
        assert imported.status_code == 503


@pytest.mark.anyio
async def test_delete_isolation_and_not_found() -> None:
    async with holder_world() as world:
        alice, bob = await world.user("Alice"), await world.user("Bob")
        did, _ = await world.did(alice)
        assert (await world.get("/v1/did", bob)).json() == {"dids": []}
        forbidden = await world.delete(f"/v1/did/{did}", bob)
        assert forbidden.status_code == 403
        # The seed sends the DID URL-encoded.
        assert (await world.delete(f"/v1/did/{quote(did, safe='')}", alice)).status_code == 204
        assert (await world.delete(f"/v1/did/{did}", alice)).status_code == 404
        assert (await world.delete(f"/v1/did/{did}", bob)).status_code == 404
        assert (await world.get("/v1/did", alice)).json() == {"dids": []}
        never = await world.delete("/v1/did/did:key:zDnaeUnknown", alice)
        assert never.status_code in (400, 404)
        malformed = await world.delete("/v1/did/not-a-did", alice)
        assert malformed.status_code == 400


@pytest.mark.anyio
async def test_import_local_dids_with_ownership_proof() -> None:
    async with holder_world() as world:
        alice, bob = await world.user("Alice"), await world.user("Bob")
        key = generate_key("ES256")
        did = did_key_from_public(key.public)
        secret = b64u_encode(key.raw())
        wrong = await world.post("/v1/did/import", {"did": did, "private_key": b64u_encode(
            generate_key("ES256").raw())}, alice)
        assert wrong.status_code == 400
        assert wrong.json()["error"]["code"] == "ownership_proof_failed"
        garbage = await world.post("/v1/did/import", {"did": did, "private_key": "!!" + secret}, alice)
        assert garbage.status_code == 400 and secret not in garbage.text
        imported = await world.post("/v1/did/import", {"did": did, "private_key": secret}, alice)
        assert imported.status_code == 201
        assert imported.json()["did"] == did and "private_key" not in imported.json()
        for who in (alice, bob):
            duplicate = await world.post("/v1/did/import", {"did": did, "private_key": secret}, who)
            assert duplicate.status_code == 409
        # A locally deleted DID may be imported again (with the proof).
        assert (await world.delete(f"/v1/did/{did}", alice)).status_code == 204
        again = await world.post("/v1/did/import", {"did": did, "private_key": secret}, bob)
        assert again.status_code == 201
        ed = generate_key("EdDSA")
        jwk_did = did_jwk_from_public(ed.public)
        ok = await world.post("/v1/did/import", {"did": jwk_did, "private_key": b64u_encode(ed.raw())},
                              alice)
        assert ok.status_code == 201 and ok.json()["method"] == "JWK"


@pytest.mark.anyio
async def test_import_iota_did_from_the_ledger() -> None:
    async with holder_world() as world:
        alice = await world.user()
        key = generate_key("EdDSA")
        proof = sign_jws({"jwk": key.public.to_jwk()}, {"op": "create", "iat": int(world.clock.now())},
                         key)
        registered = await world.http.post(f"{LEDGER}/v1/dids", json={"network": "testnet",
                                                                      "proof": proof})
        did = registered.json()["did"]
        imported = await world.post("/v1/did/import", {"did": did, "private_key": b64u_encode(key.raw())},
                                    alice)
        assert imported.status_code == 201 and imported.json()["method"] == "IOTA"
        unknown = await world.post("/v1/did/import", {"did": "did:iota:testnet:0x" + "cd" * 32,
                                                      "private_key": b64u_encode(key.raw())}, alice)
        assert unknown.status_code == 404
        malformed = await world.post("/v1/did/import", {"did": "did:iota:issuer-ntu-001",
                                                        "private_key": b64u_encode(key.raw())}, alice)
        assert malformed.status_code == 400 and malformed.json()["error"]["field"] == "did"
        unsupported = await world.post("/v1/did/import", {"did": "did:web:example.com",
                                                          "private_key": b64u_encode(key.raw())}, alice)
        assert unsupported.status_code == 400

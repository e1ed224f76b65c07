"""The did:iota registry: create / resolve / rotate / deactivate with real signatures, every
forged or stale proof refused, and resolution through the project's own resolver client."""

from __future__ import annotations

import re

import pytest

from conformance.protocol.did import verification_key
from conformance.protocol.errors import DidError
from conformance.protocol.jose import b64u_json, generate_key, sign_jws, verify_jws
from conformance.resolver import DidResolver, ResolutionError
from tests.reference.test_ledger_kit import (
    LEDGER,
    controller_proof,
    create_did,
    create_proof,
    running_ledger,
)

DID_RE = re.compile(r"did:iota:testnet:0x[0-9a-f]{64}")


async def resolve(ledger, did):
    return await ledger.get(f"/1.0/identifiers/{did}")


@pytest.mark.anyio
async def test_create_and_resolve():
    key = generate_key("EdDSA")
    async with running_ledger() as ledger:
        created = await create_did(ledger, key)
        did = created["did"]
        assert DID_RE.fullmatch(did)
        document = created["didDocument"]
        assert document["id"] == did
        assert document["verificationMethod"][0]["publicKeyJwk"] == key.public.to_jwk()

        response = await resolve(ledger, did)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/did-resolution")
        result = response.json()
        assert result["didDocument"] == document
        assert result["didResolutionMetadata"] == {"contentType": "application/did+ld+json"}
        assert result["didDocumentMetadata"]["deactivated"] is False

        # A credential signed by the key verifies with the key the ledger publishes.
        jwt = sign_jws({"kid": f"{did}#key-1"}, {"iss": did}, key)
        assert verify_jws(jwt, verification_key(result["didDocument"], f"{did}#key-1"))


@pytest.mark.anyio
async def test_two_creates_with_one_key_get_distinct_dids():
    key = generate_key("EdDSA")
    async with running_ledger() as ledger:
        first = await create_did(ledger, key)
        ledger.clock.advance(1)  # a new proof (a replayed one is refused, see below)
        second = await create_did(ledger, key)
    assert first["did"] != second["did"]


@pytest.mark.anyio
async def test_project_resolver_reads_the_ledger():
    """conformance.resolver (what the verifier and harness use) against this ledger."""
    key = generate_key("EdDSA")
    async with running_ledger() as ledger:
        did = (await create_did(ledger, key))["did"]
        resolver = DidResolver(ledger.http, LEDGER)
        assert await resolver.key_for(f"{did}#key-1") == key.public
        with pytest.raises(ResolutionError) as exc:
            await resolver.resolve("did:iota:testnet:0x" + "0" * 64)
        assert exc.value.reason == "did_not_found"


@pytest.mark.anyio
async def test_rotate_then_deactivate():
    old, new = generate_key("EdDSA"), generate_key("EdDSA")
    async with running_ledger() as ledger:
        did = (await create_did(ledger, old))["did"]
        ledger.clock.advance(60)
        proof = controller_proof(old, did, "update", ledger.clock, jwk=new.public.to_jwk())
        response = await ledger.put(f"/v1/dids/{did}", {"proof": proof})
        assert response.status_code == 200, response.text

        result = (await resolve(ledger, did)).json()
        document, metadata = result["didDocument"], result["didDocumentMetadata"]
        assert verification_key(document, f"{did}#key-2") == new.public
        with pytest.raises(DidError):
            verification_key(document, f"{did}#key-1")  # the old method is gone
        assert metadata["updated"] > metadata["created"]

        # The old key no longer controls the DID.
        stale = controller_proof(old, did, "update", ledger.clock, jwk=old.public.to_jwk(),
                                 nonce=1)
        refused = await ledger.put(f"/v1/dids/{did}", {"proof": stale})
        assert refused.status_code == 400
        assert refused.json()["error"]["code"] == "invalid_proof"

        off = controller_proof(new, did, "deactivate", ledger.clock)
        assert (await ledger.post(f"/v1/dids/{did}/deactivate", {"proof": off})).status_code == 200

        gone = await resolve(ledger, did)
        assert gone.status_code == 410
        assert gone.json()["didDocumentMetadata"]["deactivated"] is True
        with pytest.raises(ResolutionError) as exc:
            await DidResolver(ledger.http, LEDGER).resolve(did)
        assert exc.value.reason == "did_deactivated"

        again = controller_proof(new, did, "update", ledger.clock, jwk=old.public.to_jwk())
        conflict = await ledger.put(f"/v1/dids/{did}", {"proof": again})
        assert conflict.status_code == 409
        assert conflict.json()["error"]["code"] == "did_deactivated"


def _tamper(token: str, **payload) -> str:
    header, _, signature = token.split(".")
    return f"{header}.{b64u_json(payload)}.{signature}"


# name -> (make proof from (key, clock), expected error code)
CREATE_CASES = {
    "signed_by_other_key": (lambda k, c: sign_jws({"jwk": k.public.to_jwk()},
                                                  {"op": "create", "iat": int(c.now())},
                                                  generate_key("EdDSA")), "invalid_proof"),
    "wrong_op": (lambda k, c: create_proof(k, c, op="update"), "invalid_proof"),
    "stale_iat": (lambda k, c: create_proof(k, c, iat=int(c.now()) - 301), "invalid_proof"),
    "future_iat": (lambda k, c: create_proof(k, c, iat=int(c.now()) + 301), "invalid_proof"),
    "iat_not_int": (lambda k, c: create_proof(k, c, iat="now"), "invalid_proof"),
    "tampered_payload": (lambda k, c: _tamper(create_proof(k, c), op="create",
                                              iat=int(c.now()) + 1), "invalid_proof"),
    "no_header_jwk": (lambda k, c: sign_jws({}, {"op": "create", "iat": int(c.now())}, k),
                      "invalid_proof"),
    "alg_none": (lambda k, c: f"{b64u_json({'alg': 'none', 'jwk': k.public.to_jwk()})}."
                              f"{b64u_json({'op': 'create', 'iat': int(c.now())})}.",
                 "invalid_proof"),
    "not_a_jws": (lambda k, c: "not.a.jws.at.all", "invalid_proof"),
}


@pytest.mark.anyio
@pytest.mark.parametrize("case", sorted(CREATE_CASES))
async def test_forged_create_refused(case):
    make, code = CREATE_CASES[case]
    async with running_ledger() as ledger:
        proof = make(generate_key("EdDSA"), ledger.clock)
        response = await ledger.post("/v1/dids", {"proof": proof})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == code


@pytest.mark.anyio
@pytest.mark.parametrize("skew", [-300, 300])
async def test_iat_window_edges_accepted(skew):
    async with running_ledger() as ledger:
        key = generate_key("EdDSA")
        proof = create_proof(key, ledger.clock, iat=int(ledger.clock.now()) + skew)
        assert (await ledger.post("/v1/dids", {"proof": proof})).status_code == 201


@pytest.mark.anyio
async def test_replayed_proof_refused():
    async with running_ledger() as ledger:
        proof = create_proof(generate_key("EdDSA"), ledger.clock)
        assert (await ledger.post("/v1/dids", {"proof": proof})).status_code == 201
        replay = await ledger.post("/v1/dids", {"proof": proof})
        assert replay.status_code == 400
        assert "already used" in replay.json()["error"]["message"]


@pytest.mark.anyio
async def test_update_proofs_must_be_the_controllers_and_name_the_did():
    owner, intruder = generate_key("EdDSA"), generate_key("EdDSA")
    async with running_ledger() as ledger:
        did = (await create_did(ledger, owner))["did"]
        other = (await create_did(ledger, intruder))["did"]
        jwk = intruder.public.to_jwk()
        cases = {
            "intruder's key": controller_proof(intruder, did, "update", ledger.clock, jwk=jwk),
            "names another DID": controller_proof(owner, other, "update", ledger.clock, jwk=jwk),
            "deactivate op on update": controller_proof(owner, did, "deactivate", ledger.clock),
        }
        for name, proof in cases.items():
            response = await ledger.put(f"/v1/dids/{did}", {"proof": proof})
            assert response.status_code == 400, name
            assert response.json()["error"]["code"] == "invalid_proof", name
        # Nothing changed.
        document = (await resolve(ledger, did)).json()["didDocument"]
        assert verification_key(document) == owner.public


@pytest.mark.anyio
async def test_only_ed25519_keys():
    p256 = generate_key("ES256")
    async with running_ledger() as ledger:
        created = await ledger.post("/v1/dids", {"proof": create_proof(p256, ledger.clock)})
        assert created.status_code == 400
        assert created.json()["error"]["code"] == "unsupported_key_type"

        owner = generate_key("EdDSA")
        did = (await create_did(ledger, owner))["did"]
        rotate = controller_proof(owner, did, "update", ledger.clock, jwk=p256.public.to_jwk())
        response = await ledger.put(f"/v1/dids/{did}", {"proof": rotate})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "unsupported_key_type"


@pytest.mark.anyio
async def test_private_jwk_refused_and_never_echoed():
    key = generate_key("EdDSA")
    private = key.to_jwk()
    async with running_ledger() as ledger:
        proof = sign_jws({"jwk": private}, {"op": "create", "iat": int(ledger.clock.now())}, key)
        response = await ledger.post("/v1/dids", {"proof": proof})
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_proof"
        assert private["d"] not in response.text


@pytest.mark.anyio
async def test_write_errors():
    async with running_ledger() as ledger:
        proof = create_proof(generate_key("EdDSA"), ledger.clock)
        wrong_net = await ledger.post("/v1/dids", {"network": "mainnet", "proof": proof})
        assert wrong_net.json()["error"]["code"] == "unsupported_network"
        assert (await ledger.post("/v1/dids", {})).json()["error"]["field"] == "proof"

        unknown = "did:iota:testnet:0x" + "1" * 64
        missing = await ledger.put(f"/v1/dids/{unknown}", {"proof": proof})
        assert missing.status_code == 404
        malformed = await ledger.post("/v1/dids/did:iota:testnet:0xZZ/deactivate",
                                      {"proof": proof})
        assert malformed.status_code == 400
        assert malformed.json()["error"]["code"] == "invalid_did"


@pytest.mark.anyio
@pytest.mark.parametrize("did,status,error", [
    ("did:iota:testnet:0x" + "2" * 64, 404, "notFound"),
    ("did:iota:other:0x" + "2" * 64, 404, "notFound"),
    ("did:iota:testnet:0x1234", 400, "invalidDid"),
    ("not-a-did", 400, "invalidDid"),
    ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", 501, "methodNotSupported"),
])
async def test_resolution_errors(did, status, error):
    async with running_ledger() as ledger:
        response = await resolve(ledger, did)
        assert response.status_code == status
        assert response.json()["didResolutionMetadata"] == {"error": error}


@pytest.mark.anyio
async def test_restart_keeps_dids_and_spent_proofs(tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    key, rotated = generate_key("EdDSA"), generate_key("EdDSA")
    async with running_ledger(db) as ledger:
        create = create_proof(key, ledger.clock)
        did = (await ledger.post("/v1/dids", {"proof": create})).json()["did"]
        proof = controller_proof(key, did, "update", ledger.clock, jwk=rotated.public.to_jwk())
        assert (await ledger.put(f"/v1/dids/{did}", {"proof": proof})).status_code == 200
    async with running_ledger(db) as ledger:
        result = (await resolve(ledger, did)).json()
        assert verification_key(result["didDocument"]) == rotated.public
        assert result["didDocumentMetadata"]["deactivated"] is False
        # A transaction spent before the restart stays spent.
        replay = await ledger.post("/v1/dids", {"proof": create})
        assert replay.status_code == 400
        assert "already used" in replay.json()["error"]["message"]

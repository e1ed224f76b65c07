"""Holder §3: list / get / delete credentials, status computed honestly on read (issuer status
list, expiry), isolation between users, and persistence across a restart."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from conformance.net import Network
from reference.common.clock import FakeClock
from reference.holder.notarize import Anchor
from reference.holder.store import HolderStore, open_store
from tests.reference.test_holder_kit import ISSUER, PASSWORD, TURING_KEY, User, World, holder_world


async def _received(world: World, user: User, config: str = "TuringCerts_Standard_Credential_v2_sd_jwt",
                    claims: dict | None = None) -> tuple[str, str]:
    """(holder credential id, issuer credential id) of a freshly received credential."""
    did, key = await world.did(user)
    offer = await world.offer(config, claims)
    response = await world.receive(user, did, key, offer)
    assert response.status_code == 201, response.text
    (record,) = await world.issuer_records(offer["offer_id"])
    return response.json()["credential_id"], record["credential_id"]


async def _set_issuer_status(world: World, issuer_credential_id: str, status: str) -> None:
    response = await world.http.post(f"{ISSUER}/v1/credentials/{issuer_credential_id}/status",
                                     headers={"X-API-Key": TURING_KEY}, json={"status": status})
    assert response.status_code == 200, response.text


@pytest.mark.anyio
async def test_list_get_and_soft_delete() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        first, _ = await _received(world, alice)
        second, _ = await _received(world, alice)
        listed = (await world.get("/v1/vc", alice)).json()["credentials"]
        assert [c["id"] for c in listed] == [first, second]
        assert all(c["status"] == "active" and c["vct"] == c["schema_id"] for c in listed)
        assert all("raw_credential" not in c for c in listed)
        full = (await world.get(f"/v1/vc/{first}", alice)).json()
        assert full["raw_credential"].count("~") >= 3 and full["claims"]["credentialName"]
        assert set(full["disclosable_claims"]) == {"credentialName", "issuedTime"}
        assert (await world.delete(f"/v1/vc/{first}", alice)).status_code == 204
        assert [c["id"] for c in (await world.get("/v1/vc", alice)).json()["credentials"]] == [second]
        assert (await world.get(f"/v1/vc/{first}", alice)).status_code == 404
        assert (await world.delete(f"/v1/vc/{first}", alice)).status_code == 404
        # Soft delete: the row stays in the database.
        assert world.store.one("SELECT deleted_at FROM credentials WHERE id = ?", (first,))[0]


@pytest.mark.anyio
async def test_isolation_invalid_ids_and_auth() -> None:
    async with holder_world(issuer=True) as world:
        alice, bob = await world.user("Alice"), await world.user("Bob")
        credential, _ = await _received(world, alice)
        assert (await world.get("/v1/vc", bob)).json() == {"credentials": []}
        assert (await world.get(f"/v1/vc/{credential}", bob)).status_code == 403
        assert (await world.delete(f"/v1/vc/{credential}", bob)).status_code == 403
        for call in (world.get, world.delete):
            invalid = await call("/v1/vc/not-a-uuid", alice)
            assert invalid.status_code == 400 and invalid.json()["error"]["code"] == "invalid_id"
            assert (await call(f"/v1/vc/{uuid.uuid4()}", alice)).status_code == 404
            assert (await call(f"/v1/vc/{credential}")).status_code == 401
        assert (await world.get("/v1/vc")).status_code == 401
        # None of that touched Alice's credential.
        assert (await world.get(f"/v1/vc/{credential}", alice)).json()["status"] == "active"
        assert (await world.delete(f"/v1/vc/{credential}", bob)).status_code == 403
        assert (await world.get(f"/v1/vc/{uuid.uuid4()}", alice)).status_code == 404
        for path in ("/v1/vc/not-a-uuid", "/v1/vc/123"):
            response = await world.get(path, alice)
            assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_id"
        assert (await world.delete("/v1/vc/nope", alice)).status_code == 400
        assert (await world.get("/v1/vc")).status_code == 401
        assert (await world.get(f"/v1/vc/{credential}")).status_code == 401
        assert (await world.get(f"/v1/vc/{credential}", alice)).status_code == 200


@pytest.mark.anyio
async def test_revocation_and_suspension_from_the_issuer_status_list() -> None:
    async with holder_world(issuer=True, status_cache_ttl=30) as world:
        alice = await world.user()
        revoked, revoked_at_issuer = await _received(world, alice)
        suspended, suspended_at_issuer = await _received(world, alice)
        await _set_issuer_status(world, revoked_at_issuer, "REVOKED")
        await _set_issuer_status(world, suspended_at_issuer, "SUSPENDED")
        # Within the cache TTL the last fetched list is reused.
        cached = (await world.get(f"/v1/vc/{revoked}", alice)).json()
        assert cached["status"] == "active"
        world.clock.advance(31)
        by_id = {c["id"]: c for c in (await world.get("/v1/vc", alice)).json()["credentials"]}
        assert by_id[revoked]["status"] == "revoked" and "status_detail" not in by_id[revoked]
        assert by_id[suspended]["status"] == "revoked"
        assert by_id[suspended]["status_detail"] == "suspended"
        await _set_issuer_status(world, suspended_at_issuer, "ACTIVE")
        world.clock.advance(31)
        assert (await world.get(f"/v1/vc/{suspended}", alice)).json()["status"] == "active"


@pytest.mark.anyio
async def test_expiry_is_computed_on_read() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        credential, _ = await _received(world, alice, "ResidentCredential", {"given_name": "Ana"})
        record = (await world.get(f"/v1/vc/{credential}", alice)).json()
        assert record["status"] == "active" and record["expires_at"]
        world.clock.advance(86_400)   # ResidentCredential lives one day (fixtures)
        login = await world.post("/v1/user/login", {"uuid": alice.uuid, "password": PASSWORD})
        alice.token = login.json()["access_token"]
        assert (await world.get(f"/v1/vc/{credential}", alice)).json()["status"] == "expired"


@pytest.mark.anyio
async def test_unreachable_status_list_keeps_the_last_known_status() -> None:
    async with holder_world(issuer=True, status_cache_ttl=0) as world:
        alice = await world.user()
        credential, at_issuer = await _received(world, alice)
        checked = (await world.get(f"/v1/vc/{credential}", alice)).json()
        await _set_issuer_status(world, at_issuer, "REVOKED")
        world.clock.advance(5)
        assert (await world.get(f"/v1/vc/{credential}", alice)).json()["status"] == "revoked"
        world.network.set_reachable(ISSUER, False)
        world.clock.advance(5)
        stale = (await world.get(f"/v1/vc/{credential}", alice)).json()
        assert stale["status"] == "revoked"
        assert "status list" in stale["status_error"]
        assert stale["status_checked_at"] > checked["status_checked_at"]
        world.network.set_reachable(ISSUER, True)
        fresh = (await world.get(f"/v1/vc/{credential}", alice)).json()
        assert "status_error" not in fresh


@pytest.mark.anyio
async def test_a_restart_loses_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "holder.db")
    network, clock = Network(), FakeClock()
    async with holder_world(path, network=network, clock=clock, issuer=True) as world:
        alice = await world.user()
        did, _ = await world.did(alice)
        credential, _ = await _received(world, alice)
        before = (await world.get(f"/v1/vc/{credential}", alice)).json()
        assert before["on_chain_status"] == "COMPLETED"
        await world.delete(f"/v1/vc/{(await _received(world, alice))[0]}", alice)
        signing_key = world.settings.signing_key
    async with holder_world(path, network=network, clock=clock, issuer=False,
                            signing_key=signing_key) as world:
        network.set_reachable(ISSUER, False)   # the old issuer's store is closed
        # The access token from before the restart still verifies (same signing key).
        dids = [d["did"] for d in (await world.get("/v1/did", alice)).json()["dids"]]
        assert did in dids
        listed = (await world.get("/v1/vc", alice)).json()["credentials"]
        assert [c["id"] for c in listed] == [credential]
        after = (await world.get(f"/v1/vc/{credential}", alice)).json()
        assert {k: after[k] for k in ("raw_credential", "reference", "on_chain_status", "notes")} == \
            {k: before[k] for k in ("raw_credential", "reference", "on_chain_status", "notes")}
        login = await world.post("/v1/user/login", {"uuid": alice.uuid, "password": PASSWORD})
        assert login.status_code == 200


def test_a_file_from_before_the_anchor_columns_is_upgraded_in_place(tmp_path: Path) -> None:
    """A holder database written before notarize_on_iota existed gains the anchor columns (NULL:
    not notarized) on the next start, and keeps every row."""
    path = str(tmp_path / "holder.db")
    store = open_store(path)
    store.execute("INSERT INTO users VALUES ('u1', 'Old', 'scrypt$x', 1.0)")
    store.execute("INSERT INTO credentials (id, owner, holder_did, format, issuer, configuration_id, "
                  "raw_credential, notes, created_at) VALUES ('c1', 'u1', 'did:key:z', 'dc+sd-jwt', "
                  "'https://issuer', 'cfg', 'jwt~', '[]', 1.0)")
    for column in ("on_chain_status", "notarization_request", "notarization_error"):
        store.execute(f"ALTER TABLE credentials DROP COLUMN {column}")
    store.close()
    reopened = open_store(path)
    columns = {r["name"] for r in reopened.all("PRAGMA table_info(credentials)")}
    assert {"on_chain_status", "notarization_request", "notarization_error"} <= columns
    holder_store = HolderStore(reopened)
    row = holder_store.credential("c1")
    assert row is not None and row.anchor is None and row.raw_credential == "jwt~"
    holder_store.record_anchor("c1", Anchor("FAILED", None, None, "ledger away"))
    assert holder_store.credential("c1").anchor == Anchor("FAILED", None, None, "ledger away")
    reopened.close()

"""Fault injection: the outage switch (503 on every non-admin route), run-time latency and
failure-rate knobs over HTTP, and the admin guard."""

from __future__ import annotations

import httpx
import pytest

from conformance.protocol.jose import generate_key
from reference.ledger.app import ROUTES
from tests.reference.test_ledger_kit import (
    ADMIN_KEY,
    LEDGER,
    create_did,
    create_proof,
    running_ledger,
)


SAMPLE_PARAMS = {"request_id": "00000000-0000-4000-8000-000000000000",
                 "object_id": "0x" + "0" * 64, "did": "did:iota:testnet:0x" + "0" * 64}


@pytest.mark.anyio
async def test_switch_off_makes_every_route_503_then_back_on():
    async with running_ledger() as ledger:
        did = (await create_did(ledger, generate_key("EdDSA")))["did"]
        off = await ledger.faults(available=False)
        assert off.json()["available"] is False

        for template, _, methods in ROUTES:
            path = template.format(**SAMPLE_PARAMS)
            for method in methods:
                response = await ledger.http.request(method, f"{LEDGER}{path}", json={})
                assert response.status_code == 503, f"{method} {path}"
                assert response.json()["error"]["code"] == "ledger_unavailable"
                assert response.headers["retry-after"] == "1"

        # The admin route still answers, and switching back restores service and state.
        assert (await ledger.faults(available=True)).json()["available"] is True
        assert (await ledger.get(f"/1.0/identifiers/{did}")).status_code == 200


@pytest.mark.anyio
async def test_http_knobs_drive_notarization():
    async with running_ledger() as ledger:
        response = await ledger.faults(failure_rate=1, latency=0)
        assert response.json() == {"latency": 0.0, "failure_rate": 1.0, "available": True}
        request_id = (await ledger.post("/v1/notarizations", {"data": "jwt"})).json()["request_id"]
        await ledger.service.drain()
        status = (await ledger.get(f"/v1/notarizations/{request_id}")).json()["status"]
        assert status == "failed"
        read = await ledger.get("/v1/admin/faults", headers={"X-Admin-Key": ADMIN_KEY})
        assert read.json()["failure_rate"] == 1.0


@pytest.mark.anyio
@pytest.mark.parametrize("knobs,field", [
    ({"failure_rate": 1.5}, "failure_rate"),
    ({"failure_rate": "high"}, "failure_rate"),
    ({"latency": -1}, "latency"),
    ({"latency": True}, "latency"),
    ({"available": "no"}, "available"),
    ({"speed": 3}, "speed"),
])
async def test_bad_knobs_rejected_and_nothing_changes(knobs, field):
    async with running_ledger() as ledger:
        before = ledger.service.faults.as_dict()
        valid = {"available": False} if field != "available" else {"latency": 5}
        response = await ledger.faults(**valid, **knobs)
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field
        assert ledger.service.faults.as_dict() == before  # all or nothing


@pytest.mark.anyio
async def test_admin_guard():
    async with running_ledger() as ledger:
        for headers in ({}, {"X-Admin-Key": "wrong"}):
            response = await ledger.put("/v1/admin/faults", {"available": False}, headers=headers)
            assert response.status_code == 401
        assert ledger.service.faults.available is True
    async with running_ledger(admin_key=None) as ledger:
        response = await ledger.put("/v1/admin/faults", {"available": False},
                                    headers={"X-Admin-Key": ""})
        assert response.status_code == 404
        # Only the HTTP route is hidden: in-process tests still have the knobs.
        ledger.service.faults.update(available=False)
        proof = create_proof(generate_key("EdDSA"), ledger.clock)
        assert (await ledger.post("/v1/dids", {"proof": proof})).status_code == 503


@pytest.mark.anyio
async def test_unreachable_host_is_a_connect_error():
    """The other outage: no answer at all (Network switch), for the roles' retry paths."""
    async with running_ledger() as ledger:
        ledger.network.set_reachable(LEDGER, False)
        with pytest.raises(httpx.ConnectError):
            await ledger.get("/v1/objects/0x" + "0" * 64)

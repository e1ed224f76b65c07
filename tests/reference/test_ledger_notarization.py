"""Notarization on the reference ledger: the asynchronous lifecycle, failures, reading objects,
and surviving a restart (including work left half done)."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol.jose import generate_key, sign_jws, verify_jws
from reference.common.clock import iso
from tests.reference.test_ledger_kit import Ledger, running_ledger


def issuer_jwt() -> tuple[str, object]:
    """An issuer-signed JWT: the SD-JWT's signing component, what the issuer notarizes."""
    key = generate_key("EdDSA")
    jwt = sign_jws({"typ": "dc+sd-jwt"}, {"iss": "did:iota:testnet:0x" + "ab" * 32,
                                          "vct": "Degree", "_sd": []}, key)
    return jwt, key.public


async def submit(ledger: Ledger, data: str) -> str:
    response = await ledger.post("/v1/notarizations", {"data": data})
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "queued"
    assert response.headers["location"] == f"/v1/notarizations/{body['request_id']}"
    return body["request_id"]


async def status_of(ledger: Ledger, request_id: str) -> dict:
    response = await ledger.get(f"/v1/notarizations/{request_id}")
    assert response.status_code == 200
    return response.json()


async def poll_until_done(ledger: Ledger, request_id: str, timeout: float = 10.0) -> list[str]:
    """The distinct statuses seen, in order, polling as a client would."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = (await status_of(ledger, request_id))["status"]
        if not seen or seen[-1] != status:
            seen.append(status)
        if status in ("completed", "failed"):
            return seen
        await asyncio.sleep(0.01)
    raise AssertionError(f"notarization still {seen[-1]} after {timeout}s")


@pytest.mark.anyio
async def test_lifecycle_is_observable_and_object_verifies():
    jwt, issuer_key = issuer_jwt()
    async with running_ledger(latency=0.15) as ledger:
        request_id = await submit(ledger, jwt)
        assert await poll_until_done(ledger, request_id) == ["queued", "processing", "completed"]

        done = await status_of(ledger, request_id)
        assert done["error"] is None
        object_id = done["object_id"]
        # Derived from the request and the content, not random.
        assert object_id == "0x" + hashlib.sha256(f"{request_id}\n{jwt}".encode()).hexdigest()

        obj = (await ledger.get(f"/v1/objects/{object_id}")).json()
        assert obj == {"object_id": object_id, "state": {"data": jwt},
                       "immutable_metadata": {"created_at": iso(ledger.clock.now()),
                                              "method": "locked"},
                       "network": "testnet"}
        # The seed's independent check: the object's state is the JWT the issuer signed.
        assert verify_jws(obj["state"]["data"], issuer_key).payload["vct"] == "Degree"


@pytest.mark.anyio
async def test_zero_latency_completes_after_drain():
    async with running_ledger(latency=0) as ledger:
        request_id = await submit(ledger, "x.y.z")
        await ledger.service.drain()
        assert (await status_of(ledger, request_id))["status"] == "completed"


@pytest.mark.anyio
async def test_failure_rate_one_fails_every_request_and_writes_nothing():
    async with running_ledger(failure_rate=1.0) as ledger:
        ids = [await submit(ledger, f"jwt-{n}") for n in range(3)]
        await ledger.service.drain()
        for request_id in ids:
            body = await status_of(ledger, request_id)
            assert body["status"] == "failed"
            assert body["object_id"] is None
            assert "failure_rate=1" in body["error"]
        # No object exists for a failed request's would-be id.
        would_be = "0x" + hashlib.sha256(f"{ids[0]}\njwt-0".encode()).hexdigest()
        assert (await ledger.get(f"/v1/objects/{would_be}")).status_code == 404


@pytest.mark.anyio
async def test_seeded_failures_replay():
    """failure_rate draws from random.Random(seed): the same seed fails the same requests."""
    rate, seed, count = 0.5, 7, 12
    rng = random.Random(seed)
    expected = [rng.random() < rate for _ in range(count)]
    assert any(expected) and not all(expected)  # the seed exercises both outcomes
    async with running_ledger(failure_rate=rate, seed=seed) as ledger:
        outcomes = []
        for n in range(count):
            request_id = await submit(ledger, f"jwt-{n}")
            await ledger.service.drain()  # one at a time: draw order = submission order
            outcomes.append((await status_of(ledger, request_id))["status"] == "failed")
    assert outcomes == expected


@pytest.mark.anyio
async def test_knobs_change_while_running():
    async with running_ledger() as ledger:
        ledger.service.faults.update(failure_rate=1.0)
        failed = await submit(ledger, "a")
        await ledger.service.drain()
        ledger.service.faults.update(failure_rate=0.0)
        completed = await submit(ledger, "b")
        await ledger.service.drain()
        assert (await status_of(ledger, failed))["status"] == "failed"
        assert (await status_of(ledger, completed))["status"] == "completed"


@pytest.mark.anyio
@pytest.mark.parametrize("body,field", [({}, "data"), ({"data": ""}, "data"),
                                        ({"data": 42}, "data"),
                                        ({"data": "x" * (64 * 1024 + 1)}, "data")])
async def test_submit_rejects_bad_data(body, field):
    async with running_ledger() as ledger:
        response = await ledger.post("/v1/notarizations", body)
        assert response.status_code == 400
        assert response.json()["error"]["field"] == field


@pytest.mark.anyio
async def test_submit_rejects_non_json():
    async with running_ledger() as ledger:
        response = await ledger.http.post("http://ledger.local/v1/notarizations",
                                          content=b"{not json")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.anyio
async def test_unknown_and_malformed_ids():
    async with running_ledger() as ledger:
        unknown = await ledger.get("/v1/notarizations/00000000-0000-4000-8000-000000000000")
        assert unknown.status_code == 404
        assert (await ledger.get("/v1/notarizations/nope")).status_code == 400
        assert (await ledger.get("/v1/objects/0x" + "0" * 64)).status_code == 404
        for bad in ("0x1234", "0x" + "g" * 64, "ab" * 32, "0x" + "a" * 65):
            response = await ledger.get(f"/v1/objects/{bad}")
            assert response.status_code == 400, bad
            assert response.json()["error"]["code"] == "invalid_object_id"


@pytest.mark.anyio
async def test_object_id_is_case_insensitive():
    async with running_ledger() as ledger:
        request_id = await submit(ledger, "jwt")
        await ledger.service.drain()
        object_id = (await status_of(ledger, request_id))["object_id"]
        response = await ledger.get(f"/v1/objects/{object_id.upper().replace('0X', '0x')}")
        assert response.json()["object_id"] == object_id


@pytest.mark.anyio
async def test_restart_keeps_objects_and_resumes_open_work(tmp_path):
    db = str(tmp_path / "ledger.sqlite")
    async with running_ledger(db) as ledger:
        done = await submit(ledger, "completed-before-restart")
        await ledger.service.drain()
        object_id = (await status_of(ledger, done))["object_id"]
    # Killed mid-flight: the request was acknowledged (202) but never processed.
    async with running_ledger(db, latency=30.0, crash=True) as ledger:
        pending = await submit(ledger, "in-flight-at-crash")
        assert (await status_of(ledger, pending))["status"] == "queued"

    async with running_ledger(db) as ledger:
        assert (await ledger.get(f"/v1/objects/{object_id}")).json()["state"]["data"] == \
            "completed-before-restart"
        # The first request after the restart picks the open work up again.
        assert (await status_of(ledger, pending))["status"] in ("queued", "processing")
        await ledger.service.drain()
        resumed = await status_of(ledger, pending)
        assert resumed["status"] == "completed"
        obj = (await ledger.get(f"/v1/objects/{resumed['object_id']}")).json()
        assert obj["state"]["data"] == "in-flight-at-crash"


@settings(max_examples=25, deadline=None)
@given(st.text(min_size=1, max_size=300))
def test_any_text_round_trips_exactly(data):
    """The object's state is the submitted string, unchanged (any Unicode, any JSON escaping)."""
    async def round_trip() -> str:
        async with running_ledger() as ledger:
            request_id = await submit(ledger, data)
            await ledger.service.drain()
            object_id = (await status_of(ledger, request_id))["object_id"]
            return (await ledger.get(f"/v1/objects/{object_id}")).json()["state"]["data"]

    assert asyncio.run(round_trip()) == data

"""Holder §2 `notarize_on_iota`: the holder anchors the received credential's Issuer-signed JWT on
the ledger (reference/holder/notarize.py) and reports it as `on_chain_status` + `reference`
(`chain` on receive, `block_chain` on GET /v1/vc/{id}); every outcome the ledger can produce."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from conformance.protocol.sdjwt import parse_sd_jwt
from tests.reference.test_holder_kit import ISSUER, LEDGER, User, World, holder_world


def _issuer_jwt(body: dict[str, Any]) -> str:
    return body["raw_credential"].split("~", 1)[0]


async def _receive(world: World, user: User, *, issuer_notarizes: bool = False,
                   **extra: Any) -> dict[str, Any]:
    """A credential from the did:iota issuer, by default one that does not notarize itself, so
    every ledger request seen is the holder's."""
    did, key = await world.did(user)
    offer = await world.offer(notarize_on_iota=issuer_notarizes)
    response = await world.receive(user, did, key, offer, **extra)
    assert response.status_code == 201, response.text
    return response.json()


async def _record(world: World, user: User, credential_id: str) -> dict[str, Any]:
    response = await world.get(f"/v1/vc/{credential_id}", user)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.anyio
async def test_default_receive_anchors_the_issuer_jwt_and_reports_it_both_ways() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        body = await _receive(world, alice)     # notarize_on_iota omitted: default true
        assert body["on_chain_status"] == "COMPLETED"
        reference = body["reference"]
        assert reference["chain"] == "iota" and reference["object_id"].startswith("0x")
        # The ledger object holds exactly the Issuer-signed JWT (issuer seed: how to verify).
        obj = (await world.http.get(f"{LEDGER}/v1/objects/{reference['object_id']}")).json()
        assert obj["state"]["data"] == _issuer_jwt(body)
        assert parse_sd_jwt(body["raw_credential"]).issuer_jws.token == obj["state"]["data"]
        assert world.notarizations_of(_issuer_jwt(body)) == ["completed"]
        record = await _record(world, alice, body["credential_id"])
        assert record["reference"] == {"block_chain": "iota", "object_id": reference["object_id"]}
        assert record["on_chain_status"] == "COMPLETED" and "notarization_error" not in record
        (listed,) = (await world.get("/v1/vc", alice)).json()["credentials"]
        assert listed["on_chain_status"] == "COMPLETED"


@pytest.mark.anyio
async def test_notarize_on_iota_false_skips_the_ledger() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        body = await _receive(world, alice, notarize_on_iota=False)
        assert body["on_chain_status"] is None and "reference" not in body and "notes" not in body
        assert world.notarizations_of(_issuer_jwt(body)) == []
        record = await _record(world, alice, body["credential_id"])
        assert record["on_chain_status"] is None and "reference" not in record


@pytest.mark.anyio
async def test_a_slow_ledger_is_pending_on_receive_and_completed_on_a_later_read() -> None:
    async with holder_world(issuer=True, ledger_knobs={"latency": 0.2},
                            notarization_wait=0.02) as world:
        alice = await world.user()
        body = await _receive(world, alice)
        # The wait ended before the ledger did: an honest in-between state, no reference yet.
        assert body["on_chain_status"] in ("PENDING", "IN_PROGRESS") and "reference" not in body
        # A read while the ledger is switched off (its fault switch: 503) changes nothing.
        faults = world.apps[LEDGER].state.ledger.faults
        faults.update(available=False)
        meanwhile = await _record(world, alice, body["credential_id"])
        assert meanwhile["on_chain_status"] in ("PENDING", "IN_PROGRESS")
        faults.update(available=True)
        await world.drain()
        record = await _record(world, alice, body["credential_id"])
        assert record["on_chain_status"] == "COMPLETED"
        obj = (await world.http.get(f"{LEDGER}/v1/objects/{record['reference']['object_id']}")).json()
        assert obj["state"]["data"] == _issuer_jwt(body)


@pytest.mark.anyio
async def test_a_failing_ledger_fails_the_anchor_but_keeps_the_credential() -> None:
    async with holder_world(issuer=True, ledger_knobs={"failure_rate": 1.0}) as world:
        alice = await world.user()
        body = await _receive(world, alice)
        assert body["on_chain_status"] == "FAILED" and "reference" not in body
        assert "rejected" in body["notarization_error"]
        assert body["status"] == "active"
        record = await _record(world, alice, body["credential_id"])
        assert record["on_chain_status"] == "FAILED" and "rejected" in record["notarization_error"]


@pytest.mark.anyio
async def test_a_switched_off_ledger_is_503_for_dids_and_a_failed_anchor_for_receive() -> None:
    """The ledger's outage switch (it answers 503): the seed's DID table says 503; its receive
    table has no 503, so receive stores the credential and reports the anchor FAILED."""
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        offer = await world.offer(notarize_on_iota=False)
        world.apps[LEDGER].state.ledger.faults.update(available=False)
        created = await world.post("/v1/did", {"method": "IOTA"}, alice)
        assert created.status_code == 503 and created.json()["error"]["code"] == "ledger_unavailable"
        response = await world.receive(alice, did, key, offer)
        assert response.status_code == 201, response.text
        assert response.json()["on_chain_status"] == "FAILED"
        assert "HTTP 503" in response.json()["notarization_error"]


@pytest.mark.anyio
async def test_an_unreachable_ledger_never_fails_the_receive() -> None:
    """The seed's receive table has no 503 and the code is spent: 201, anchor FAILED."""
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)          # did:key: no ledger needed for the holder
        await _receive(world, alice)               # the issuer's DID is on the ledger by now
        offer = await world.offer(notarize_on_iota=False)
        world.network.set_reachable(LEDGER, False)
        response = await world.receive(alice, did, key, offer)
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["on_chain_status"] == "FAILED" and "unreachable" in body["notarization_error"]
        # The issuer's key could not be resolved either: kept, and said so.
        assert "issuer_signature_unchecked" in [n["code"] for n in body["notes"]]
        world.network.set_reachable(LEDGER, True)
        record = await _record(world, alice, body["credential_id"])
        assert record["on_chain_status"] == "FAILED"   # a failed submission is final


@pytest.mark.anyio
async def test_a_holder_without_a_ledger_says_so() -> None:
    async with holder_world(issuer=True, ledger_url=None) as world:
        alice = await world.user()
        body = await _receive(world, alice)
        assert body["on_chain_status"] is None
        codes = [n["code"] for n in body["notes"]]
        assert "notarization_unavailable" in codes and "issuer_signature_unchecked" in codes


@pytest.mark.anyio
async def test_a_confirmed_issuer_reference_is_reused_and_a_false_one_is_not() -> None:
    async with holder_world(issuer=True) as world:
        alice = await world.user()
        did, key = await world.did(alice)
        # The issuer notarizes and reports its anchor in the credential response.
        offer = await world.offer(notarize_on_iota=True)
        world.network.mount(ISSUER, AnchorReportingIssuer(world, world.apps[ISSUER],
                                                                        offer["offer_id"]))
        body = (await world.receive(alice, did, key, offer)).json()
        (record,) = await world.issuer_records(offer["offer_id"])
        assert body["reference"] == {"chain": "iota", "object_id": record["object_id"]}
        assert world.notarizations_of(_issuer_jwt(body)) == ["completed"]   # the issuer's only
        # An issuer that reports an object holding something else is not believed.
        other = await world.offer(notarize_on_iota=True)
        world.network.mount(ISSUER, AnchorReportingIssuer(
            world, world.apps[ISSUER], other["offer_id"], object_id=record["object_id"]))
        second = (await world.receive(alice, did, key, other)).json()
        assert second["on_chain_status"] == "COMPLETED"
        assert second["reference"]["object_id"] != record["object_id"]
        obj = (await world.http.get(f"{LEDGER}/v1/objects/{second['reference']['object_id']}")).json()
        assert obj["state"]["data"] == _issuer_jwt(second)


class AnchorReportingIssuer:
    """The issuer seed shows the credential response carrying `reference {chain, object_id}` when
    notarization succeeded. The reference issuer notarizes after answering, so this wrapper plays
    an issuer that waits for its anchor: after the credential response it drains notarization and
    adds `reference`, read from the issuer's own records (or `object_id`, to play a liar)."""

    def __init__(self, world: World, app: ASGIApp, offer_id: str, object_id: str | None = None) -> None:
        self.world, self.app, self.offer_id, self.object_id = world, app, offer_id, object_id

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != "/credential":
            await self.app(scope, receive, send)
            return
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = json.loads(b"".join(chunks))
        if start["status"] == 200:
            await self.world.drain()
            (record,) = await self.world.issuer_records(self.offer_id)
            body["reference"] = {"chain": record["blockchain"],
                                 "object_id": self.object_id or record["object_id"]}
        raw = json.dumps(body).encode()
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        await send({**start, "headers": [*headers, (b"content-length", str(len(raw)).encode())]})
        await send({"type": "http.response.body", "body": raw})

"""Shared helpers for the ledger tests (no tests here).

`running_ledger()` starts a ledger app on an in-process network. Every response its client
receives is validated against the ledger's own OpenAPI document (status documented, media type
right, body valid against the schema), so each test doubles as a contract check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.net import Network, make_client
from conformance.protocol.jose import PrivateKey, sign_jws
from reference.common.clock import FakeClock
from reference.common.store import Store
from reference.ledger import LedgerSettings, create_app
from reference.ledger.openapi import openapi_document
from reference.ledger.service import LedgerService
from reference.ledger.store import open_store
from tests.reference.openapi_contract import OpenApiContract

LEDGER = "http://ledger.local"
ADMIN_KEY = "ledger-admin-key-for-tests"
DOC = openapi_document(LEDGER)


@dataclass
class Ledger:
    http: httpx.AsyncClient
    service: LedgerService
    clock: FakeClock
    network: Network

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(f"{LEDGER}{path}", **kw)

    async def post(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return await self.http.post(f"{LEDGER}{path}", json=body, **kw)

    async def put(self, path: str, body: Any, **kw: Any) -> httpx.Response:
        return await self.http.put(f"{LEDGER}{path}", json=body, **kw)

    async def faults(self, **knobs: Any) -> httpx.Response:
        return await self.put("/v1/admin/faults", knobs, headers={"X-Admin-Key": ADMIN_KEY})


@asynccontextmanager
async def running_ledger(path: str = ":memory:", *, clock: FakeClock | None = None,
                         admin_key: str | None = ADMIN_KEY, crash: bool = False,
                         **knobs: Any) -> AsyncIterator[Ledger]:
    """A ledger on a fresh in-process network. `knobs` go to LedgerSettings (latency defaults
    to 0 here). `crash=True` stops background work without finishing it, as a kill would."""
    store: Store = open_store(path)
    clock = clock or FakeClock()
    settings = LedgerSettings(LEDGER, admin_key=admin_key, **{"latency": 0.0, **knobs})
    app = create_app(settings, store=store, clock=clock)
    network = Network()
    network.mount(LEDGER, app)
    http = make_client(network)
    http.event_hooks["response"].append(CONTRACT.check)
    service: LedgerService = app.state.ledger
    try:
        async with http:
            yield Ledger(http, service, clock, network)
    finally:
        await (service.close() if crash else service.drain())
        store.close()


CONTRACT = OpenApiContract(DOC, "ledger.local")


# --- transaction proofs --------------------------------------------------------------------


def create_proof(key: PrivateKey, clock: FakeClock, **payload: Any) -> str:
    """A create transaction: signed by the new key, which rides in the header."""
    return sign_jws({"jwk": key.public.to_jwk()},
                    {"op": "create", "iat": int(clock.now()), **payload}, key)


def controller_proof(key: PrivateKey, did: str, op: str, clock: FakeClock,
                     **payload: Any) -> str:
    return sign_jws({"kid": f"{did}#controller"},
                    {"op": op, "did": did, "iat": int(clock.now()), **payload}, key)


async def create_did(ledger: Ledger, key: PrivateKey) -> dict[str, Any]:
    response = await ledger.post("/v1/dids", {"network": "testnet",
                                              "proof": create_proof(key, ledger.clock)})
    assert response.status_code == 201, response.text
    return response.json()

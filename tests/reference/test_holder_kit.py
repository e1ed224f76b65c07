"""Shared helpers for the holder tests (no tests here).

`holder_world()` mounts the holder and the ledger (and, when asked, the reference issuer and
verifier) on one in-process network. Every response the holder's test client receives is
validated against the holder's own OpenAPI document (`OpenApiContract`: status documented, media
type, body valid against the schema), so each test doubles as a contract check.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.net import Network, make_client
from conformance.paths import FIXTURES
from conformance.protocol.did import did_jwk_from_public, did_key_from_public
from conformance.protocol.jose import b64u_encode, generate_key, sign_jws
from reference.common.clock import FakeClock
from reference.common.store import Store
from reference.holder import HolderSettings, create_app, open_store
from reference.holder.openapi import openapi_document
from reference.holder.service import HolderService
from reference.issuer.app import create_app as create_issuer
from reference.issuer.settings import IssuerSettings
from reference.issuer.store import open_store as open_issuer_store
from reference.ledger import LedgerSettings
from reference.verifier import VerifierSettings
from reference.verifier import create_app as create_verifier
from reference.verifier import open_store as open_verifier_store
from reference.ledger import create_app as create_ledger
from reference.ledger.store import open_store as open_ledger_store
from tests.reference.openapi_contract import OpenApiContract

HOLDER = "http://holder.local"
LEDGER = "http://ledger.local"
ISSUER = "http://issuer.local"
VERIFIER = "http://verifier.local"
DOC = openapi_document(HOLDER)
# Every response the holder's test client receives is checked against the holder's document.
CONTRACT = OpenApiContract(DOC, "holder.local")
PASSWORD = "correct horse 42"
# The reference issuer's test tenants (fixtures/issuer/tenants.yaml): did:iota and X.509 paths.
TURING_KEY = "tcs_test_turing_3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
HAIP_KEY = "tcs_test_haip_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
VERIFIER_KEY = "holder-tests-verifier-api-key"
TURING_CONFIG = "TuringCerts_Standard_Credential_v2_sd_jwt"
TURING_CLAIMS = {"credentialName": "University Degree", "issuedTime": "2026-03-26T00:00:00Z"}
RESIDENT_CLAIMS = {"given_name": "Ana", "family_name": "Silva",
                   "address": {"street_address": "Rua 1", "locality": "Lisboa", "country": "PT"},
                   "nationalities": ["PT", "BR"]}
TURING_QUERY = {"credentials": [{
    "id": "certificate", "format": "dc+sd-jwt",
    "meta": {"vct_values": ["TuringCerts_Standard_Credential_v2_sd_jwt"]},
    "claims": [{"path": ["credentialName"]}],
}]}
RESIDENT_QUERY = {"credentials": [{
    "id": "residence", "format": "dc+sd-jwt",
    "meta": {"vct_values": ["urn:vc-conformance:ResidentCredential:1"]},
    "claims": [{"path": ["address", "locality"]}],
}]}
# Cheaper scrypt for tests (the default N=2^14 is exercised in test_holder_accounts).
TEST_SETTINGS = {"scrypt_n": 2 ** 10, "notarization_poll_interval": 0.005}


@dataclass
class User:
    uuid: str
    name: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    network: Network
    clock: FakeClock
    http: httpx.AsyncClient             # the test's client to the holder, contract-checked
    service: HolderService
    store: Store
    settings: HolderSettings
    apps: dict[str, Any] = field(default_factory=dict)
    ledger_store: Store | None = None

    def notarizations_of(self, data: str) -> list[str]:
        """The statuses of the ledger's notarization requests for `data`, oldest first."""
        assert self.ledger_store is not None
        rows = self.ledger_store.all("SELECT status FROM notarization_requests WHERE data = ? "
                                     "ORDER BY created_at, rowid", (data,))
        return [row["status"] for row in rows]

    async def post(self, path: str, body: Any, user: User | None = None, **kw: Any) -> httpx.Response:
        return await self.http.post(f"{HOLDER}{path}", json=body,
                                    headers=user.auth if user else {}, **kw)

    async def get(self, path: str, user: User | None = None) -> httpx.Response:
        return await self.http.get(f"{HOLDER}{path}", headers=user.auth if user else {})

    async def delete(self, path: str, user: User | None = None) -> httpx.Response:
        return await self.http.delete(f"{HOLDER}{path}", headers=user.auth if user else {})

    async def user(self, name: str = "Alice", password: str = PASSWORD) -> User:
        registered = await self.post("/v1/user/register", {"name": name, "password": password})
        assert registered.status_code == 201, registered.text
        uuid = registered.json()["uuid"]
        login = await self.post("/v1/user/login", {"uuid": uuid, "password": password})
        assert login.status_code == 200, login.text
        return User(uuid, name, login.json()["access_token"])

    async def offer(self, config_id: str = TURING_CONFIG, claims: dict[str, Any] | None = None,
                    api_key: str = TURING_KEY, **extra: Any) -> dict[str, Any]:
        """A credential offer from the reference issuer (issuer seed, POST /v1/offers)."""
        response = await self.http.post(f"{ISSUER}/v1/offers", headers={"X-API-Key": api_key}, json={
            "credential": {"config_id": config_id, "claims": claims or TURING_CLAIMS},
            "flow": "pre-authorized", **extra})
        assert response.status_code == 201, response.text
        return response.json()

    async def issuer_records(self, offer_id: str, api_key: str = TURING_KEY) -> list[dict[str, Any]]:
        response = await self.http.get(f"{ISSUER}/v1/offers/{offer_id}/credentials",
                                       headers={"X-API-Key": api_key})
        assert response.status_code == 200, response.text
        return response.json()

    async def receive(self, user: User, did: str, key: str, offer: dict[str, Any],
                      **extra: Any) -> httpx.Response:
        return await self.post("/v1/oid4vci/receive", {
            "credential_offer_uri": offer["deep_link"], "holder_did": did, "private_key": key,
            **extra}, user)

    async def verifier_request(self, dcql: dict[str, Any], *, mode: str = "direct_post",
                               client: str = "did:key", **extra: Any) -> dict[str, Any]:
        """POST /v1/verifier/authorization-request (verifier seed) with a fresh verifier key and
        DID (`client`: did:key, did:jwk or did:iota, registered on the ledger)."""
        key = generate_key("EdDSA")
        if client == "did:iota":
            proof = sign_jws({"jwk": key.public.to_jwk()}, {"op": "create", "iat": int(self.clock.now())}, key)
            did = (await self.http.post(f"{LEDGER}/v1/dids", json={"proof": proof})).json()["did"]
        else:
            did = (did_key_from_public if client == "did:key" else did_jwk_from_public)(key.public)
        response = await self.http.post(f"{VERIFIER}/v1/verifier/authorization-request", headers={
            "X-API-Key": VERIFIER_KEY}, json={
            "dcql_query": dcql, "verifier_private_key": b64u_encode(key.raw()), "verifier_client_id": did,
            "response_mode": mode, "client_metadata": {"client_name": "Reference Verifier"}, **extra})
        assert response.status_code == 201, response.text
        return response.json()

    async def verifier_result(self, session_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{VERIFIER}/v1/verifier/result/{session_id}",
                                       headers={"X-API-Key": VERIFIER_KEY})
        assert response.status_code == 200, response.text
        return response.json()

    async def drain(self) -> None:
        """Wait for the issuer's and the ledger's background work (notarization)."""
        for _ in range(3):
            if ISSUER in self.apps:
                await self.apps[ISSUER].state.issuer.drain()
            if LEDGER in self.apps:
                await self.apps[LEDGER].state.ledger.drain()

    async def did(self, user: User, method: str = "KEY") -> tuple[str, str]:
        """(did, private_key) of a new DID of `user`."""
        created = await self.post("/v1/did", {"method": method}, user)
        assert created.status_code == 201, created.text
        return created.json()["did"], created.json()["private_key"]


@asynccontextmanager
async def holder_world(path: str = ":memory:", *, clock: FakeClock | None = None,
                       network: Network | None = None, ledger: bool = True,
                       issuer: bool = False, verifier: bool = False,
                       ledger_knobs: dict[str, Any] | None = None,
                       **knobs: Any) -> AsyncIterator[World]:
    """The holder, a ledger and (when asked) the reference issuer and verifier on an in-process
    network. `knobs` go to HolderSettings, `ledger_knobs` to LedgerSettings."""
    clock = clock or FakeClock()
    network = network or Network()
    apps: dict[str, Any] = {}
    stores: list[Store] = []
    ledger_store = None
    if ledger:
        ledger_store = open_ledger_store(":memory:")
        stores.append(ledger_store)
        apps[LEDGER] = create_ledger(LedgerSettings(LEDGER, **{"latency": 0.0, **(ledger_knobs or {})}),
                                     store=ledger_store, clock=clock)
        network.mount(LEDGER, apps[LEDGER])
    issuer_http = make_client(network)   # the other roles' outgoing client
    if issuer:
        stores.append(open_issuer_store(":memory:"))
        # A short notarization timeout: a test that takes the ledger away while the issuer still
        # polls must not leave drain() waiting out the default two minutes.
        apps[ISSUER] = create_issuer(IssuerSettings(ISSUER, ledger_url=LEDGER, poll_interval=0.005,
                                                    notarization_timeout=1.0),
                                     store=stores[-1], clock=clock, http=issuer_http)
        network.mount(ISSUER, apps[ISSUER])
    if verifier:
        stores.append(open_verifier_store(":memory:"))
        apps[VERIFIER] = create_verifier(
            VerifierSettings(VERIFIER, api_keys=frozenset({VERIFIER_KEY}), ledger_url=LEDGER,
                             trust_anchors_pem=(str(FIXTURES / "pki" / "test-ca.cert.pem"),)),
            store=stores[-1], clock=clock, http=issuer_http)
        network.mount(VERIFIER, apps[VERIFIER])
    store = open_store(path)
    settings = HolderSettings(**{"base_url": HOLDER, "ledger_url": LEDGER, **TEST_SETTINGS, **knobs})
    outgoing = make_client(network)
    app = create_app(settings, store=store, clock=clock, http=outgoing)
    network.mount(HOLDER, app)
    apps[HOLDER] = app
    http = make_client(network)
    http.event_hooks["response"].append(CONTRACT.check)
    world = World(network, clock, http, app.state.service, store, settings, apps, ledger_store)
    try:
        async with outgoing, http, issuer_http:
            try:
                yield world
            finally:
                await world.drain()
    finally:
        await app.state.service.drain()
        store.close()
        for other in stores:
            other.close()

"""A small in-process world for the issuer tests: issuer + ledger + webhook receiver mounted on
one Network, a shared FakeClock, and a plain OID4VCI wallet built on conformance.protocol.oid4vci.

The tests at the bottom check the world's own promises: a restarted issuer (new app, same
SQLite file, same deployment key) still knows offers and credentials and resumes notarization.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from cryptography import x509

from conformance.net import Network, make_client
from conformance.protocol.jose import (
    PrivateKey,
    PublicKey,
    b64u_encode,
    generate_key,
    public_key_from_jwk,
)
from conformance.protocol.oid4vci import (
    IssuerMetadata,
    TokenRequest,
    build_credential_request,
    build_proof_jwt,
    parse_authorization_server_metadata,
    parse_credential_offer,
    parse_credential_response,
    parse_issuer_metadata,
    parse_nonce_response,
    parse_offer_link,
    parse_token_response,
    well_known_url,
    PRE_AUTHORIZED_GRANT,
    CredentialOffer,
)
from conformance.protocol.sdjwt import parse_sd_jwt
from conformance.resolver import DidResolver
from reference.common.clock import FakeClock
from reference.issuer.app import create_app as create_issuer
from reference.issuer.settings import IssuerSettings
from reference.issuer.store import open_store as open_issuer_store
from reference.ledger.app import create_app as create_ledger
from reference.ledger.settings import LedgerSettings
from reference.ledger.store import open_store as open_ledger_store

ISSUER = "http://issuer.local"
LEDGER = "http://ledger.local"
HOOKS = "https://hooks.local"
TURING_KEY = "tcs_test_turing_3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
HAIP_KEY = "tcs_test_haip_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
LIMITED_KEY = "tcs_test_limited_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
TURING_OFFER = {
    "credential": {"config_id": "TuringCerts_Standard_Credential_v2_sd_jwt",
                   "claims": {"credentialName": "University Degree",
                              "issuedTime": "2026-03-26T00:00:00Z"}},
    "flow": "pre-authorized", "expires_in": 3600,
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# --- webhook receivers -----------------------------------------------------------------------


@dataclass
class Hooks:
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    slow_seconds: float = 0.5

    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            self.calls.append((request.url.path, await request.json()))
            if request.url.path == "/slow":
                await asyncio.sleep(self.slow_seconds)
            if request.url.path == "/fail":
                return JSONResponse({"error": "boom"}, status_code=500)
            if request.url.path == "/redirect":
                return RedirectResponse(f"{HOOKS}/hook", status_code=307)
            return JSONResponse({"ok": True})
        return Starlette(routes=[Route(p, record, methods=["POST"])
                                 for p in ("/hook", "/slow", "/fail", "/redirect")])


# --- the world -------------------------------------------------------------------------------


@dataclass
class World:
    network: Network
    clock: FakeClock
    http: httpx.AsyncClient
    settings: IssuerSettings
    hooks: Hooks
    issuer_app: Starlette
    ledger_app: Starlette

    @property
    def service(self) -> Any:
        return self.issuer_app.state.issuer

    async def drain(self) -> None:
        await self.service.drain()

    def ledger_down(self, down: bool = True) -> None:
        self.network.set_reachable(LEDGER, not down)

    async def create_offer(self, body: dict[str, Any] | None = None, api_key: str = TURING_KEY,
                           expect: int = 201) -> dict[str, Any]:
        response = await self.http.post(f"{ISSUER}/v1/offers", json=body or TURING_OFFER,
                                        headers={"X-API-Key": api_key})
        assert response.status_code == expect, response.text
        return response.json()

    async def records(self, offer_id: str, api_key: str = TURING_KEY) -> list[dict[str, Any]]:
        response = await self.http.get(f"{ISSUER}/v1/offers/{offer_id}/credentials",
                                       headers={"X-API-Key": api_key})
        assert response.status_code == 200, response.text
        return response.json()


def make_world(*, issuer_db: str = ":memory:", ledger_db: str = ":memory:",
               key: PrivateKey | None = None, clock: FakeClock | None = None,
               ledger: LedgerSettings | None = None, ledger_app: Starlette | None = None,
               **overrides: Any) -> World:
    """`ledger_app`: reuse a running ledger (an issuer restart does not restart the ledger)."""
    network = Network()
    clock = clock or FakeClock()
    http = make_client(network)
    fast = {"poll_interval": 0.01, "notarization_timeout": 5.0, "webhook_timeout": 0.2}
    settings = replace(IssuerSettings(), default_issuer_key=key or generate_key("EdDSA"),
                       **{**fast, **overrides})
    if ledger_app is None:
        ledger_app = create_ledger(ledger or LedgerSettings(latency=0.01),
                                   store=open_ledger_store(ledger_db), clock=clock, http=http)
    issuer_app = create_issuer(settings, store=open_issuer_store(issuer_db), clock=clock, http=http)
    hooks = Hooks()
    network.mount(ISSUER, issuer_app)
    network.mount(LEDGER, ledger_app)
    network.mount(HOOKS, hooks.app())
    return World(network, clock, http, settings, hooks, issuer_app, ledger_app)


# --- a plain OID4VCI wallet ------------------------------------------------------------------


@dataclass
class Wallet:
    """Drives the wire as any OID4VCI 1.0 wallet would; each step is callable on its own so a
    test can tamper with one."""

    http: httpx.AsyncClient
    clock: FakeClock
    key: PrivateKey = field(default_factory=lambda: generate_key("EdDSA"))
    kid: str | None = None
    offer: CredentialOffer | None = None
    metadata: IssuerMetadata | None = None
    # The protocol core's IssuerMetadata has no deferred / notification endpoints yet.
    endpoints: dict[str, str] = field(default_factory=dict)
    token_endpoint: str | None = None
    access_token: str | None = None

    async def resolve(self, deep_link: str) -> CredentialOffer:
        link = parse_offer_link(deep_link)
        if link.offer is not None:
            self.offer = link.offer
        else:
            response = await self.http.get(link.offer_uri)
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("application/json")
            self.offer = parse_credential_offer(response.json())
        issuer = self.offer.credential_issuer
        meta = await self.http.get(well_known_url(issuer, "openid-credential-issuer"))
        assert meta.status_code == 200, meta.text
        self.metadata = parse_issuer_metadata(meta.json(), expected_issuer=issuer)
        self.endpoints = {k: v for k, v in meta.json().items() if k.endswith("_endpoint")}
        as_url = well_known_url(self.metadata.authorization_server, "oauth-authorization-server")
        as_meta = parse_authorization_server_metadata(
            (await self.http.get(as_url)).json(), expected_issuer=self.metadata.authorization_server)
        assert PRE_AUTHORIZED_GRANT in as_meta.grant_types
        self.token_endpoint = as_meta.token_endpoint
        return self.offer

    async def token_response(self, tx_code: str | None = None,
                             code: str | None = None) -> httpx.Response:
        assert self.offer and self.offer.pre_authorized and self.token_endpoint
        request = TokenRequest(PRE_AUTHORIZED_GRANT, code or self.offer.pre_authorized.code, tx_code)
        return await self.http.post(self.token_endpoint, content=request.encode(),
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})

    async def token(self, tx_code: str | None = None) -> str:
        response = await self.token_response(tx_code)
        assert response.status_code == 200, response.text
        self.access_token = parse_token_response(response.json()).access_token
        return self.access_token

    async def nonce(self) -> str:
        assert self.metadata and self.metadata.nonce_endpoint
        response = await self.http.post(self.metadata.nonce_endpoint)
        assert response.status_code == 200 and response.headers["cache-control"] == "no-store"
        return parse_nonce_response(response.json()).c_nonce

    def proof(self, nonce: str | None, *, aud: str | None = None, iat: int | None = None,
              key: PrivateKey | None = None) -> str:
        assert self.offer
        return build_proof_jwt(key or self.key, aud=aud or self.offer.credential_issuer,
                               nonce=nonce, iat=iat if iat is not None else int(self.clock.now()),
                               kid=self.kid)

    async def credential_response(self, proofs: list[str] | None, config_id: str | None = None,
                                  body: dict[str, Any] | None = None) -> httpx.Response:
        assert self.offer and self.metadata
        if body is None:
            body = build_credential_request(config_id or self.offer.credential_configuration_ids[0],
                                            proofs or []).to_json()
        return await self.http.post(self.metadata.credential_endpoint, json=body,
                                    headers={"Authorization": f"Bearer {self.access_token}"})

    async def credential(self, proof: str | None = None) -> str:
        if proof is None:
            proof = self.proof(await self.nonce())
        response = await self.credential_response([proof])
        assert response.status_code == 200, response.text
        return parse_credential_response(response.json()).credentials[0]

    async def receive(self, deep_link: str, tx_code: str | None = None) -> str:
        await self.resolve(deep_link)
        await self.token(tx_code)
        return await self.credential()

    def _bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    async def deferred_response(self, transaction_id: str) -> httpx.Response:
        """§9.1: the same access token, the transaction_id of the 202 Credential Response."""
        return await self.http.post(self.endpoints["deferred_credential_endpoint"],
                                    json={"transaction_id": transaction_id},
                                    headers=self._bearer())

    async def notify(self, notification_id: str, event: str, **extra: Any) -> httpx.Response:
        """§11.1: tell the issuer what became of the credential."""
        return await self.http.post(self.endpoints["notification_endpoint"],
                                    json={"notification_id": notification_id, "event": event,
                                          **extra}, headers=self._bearer())


async def issuer_key(http: httpx.AsyncClient, credential: str) -> PublicKey:
    """The key a verifier would use: the x5c leaf (X.509 path) or the kid's DID URL resolved on
    the ledger (did:iota path)."""
    header = parse_sd_jwt(credential).issuer_jws.header
    if "x5c" in header:
        leaf = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        numbers = leaf.public_key().public_numbers()  # type: ignore[union-attr]
        return public_key_from_jwk({"kty": "EC", "crv": "P-256",
                                    "x": b64u_encode(numbers.x.to_bytes(32, "big")),
                                    "y": b64u_encode(numbers.y.to_bytes(32, "big"))})
    return await DidResolver(http, LEDGER).key_for(header["kid"])


def oauth_error(response: httpx.Response) -> tuple[int, str, str | None]:
    body = response.json()
    return response.status_code, body["error"], body.get("error_detail")


# --- tests of the world's promises: persistence across restarts -------------------------------


@pytest.mark.anyio
async def test_a_restarted_issuer_knows_offers_and_credentials_and_finishes_notarization(
        tmp_path: Path) -> None:
    key, clock = generate_key("EdDSA"), FakeClock()
    db = str(tmp_path / "issuer.db")
    first = make_world(issuer_db=db, key=key, clock=clock)
    claimed = await first.create_offer()
    unclaimed = await first.create_offer()
    wallet = Wallet(first.http, clock)
    await wallet.receive(claimed["deep_link"])
    # Crash right after the ledger accepted the request.
    credential_id = (await first.records(claimed["offer_id"]))[0]["credential_id"]
    while first.service.db.credential(credential_id).request_id is None:
        await asyncio.sleep(0.001)
    first.service.tasks.cancel()
    await asyncio.sleep(0)

    second = make_world(issuer_db=db, key=key, clock=clock, ledger_app=first.ledger_app)
    before = await second.records(claimed["offer_id"])
    assert [r["on_chain_status"] for r in before] in (["PENDING"], ["IN_PROGRESS"])
    await second.drain()
    after = await second.records(claimed["offer_id"])
    assert after[0]["credential_id"] == before[0]["credential_id"]
    assert after[0]["on_chain_status"] == "COMPLETED" and after[0]["object_id"].startswith("0x")
    # The unclaimed offer is still served, with the same (derived, never stored) code.
    other = Wallet(second.http, clock)
    offer = await other.resolve(unclaimed["deep_link"])
    assert offer.pre_authorized is not None
    await other.token()
    # Secrets never reach the store: not the deployment key, codes, tx codes or access tokens.
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("issuer"))
    for secret in (key.raw(), offer.pre_authorized.code.encode(), wallet.access_token.encode(),
                   other.access_token.encode()):
        assert secret not in stored
    # The same key reuses the DID registered before the restart.
    assert (await second.service.default_issuer.identity()) == (
        await first.service.default_issuer.identity())


@pytest.mark.anyio
async def test_offer_scoped_keys_do_not_survive_a_restart(tmp_path: Path) -> None:
    from tests.reference.test_issuer_flow import register_iota_did
    key, clock = generate_key("EdDSA"), FakeClock()
    db = str(tmp_path / "issuer.db")
    first = make_world(issuer_db=db, key=key, clock=clock)
    did, did_key = await register_iota_did(first)
    from conformance.protocol.jose import b64u_encode
    secret = b64u_encode(did_key.raw())
    offer = await first.create_offer({**TURING_OFFER, "issuer_did": did,
                                      "issuer_private_key": secret})
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert secret.encode() not in stored and did_key.raw() not in stored
    second = make_world(issuer_db=db, key=key, clock=clock, ledger_app=first.ledger_app)
    wallet = Wallet(second.http, clock)
    await wallet.resolve(offer["deep_link"])
    await wallet.token()
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert oauth_error(response) == (400, "credential_request_denied", "offer_key_lost")


@pytest.mark.anyio
async def test_serve_can_add_an_api_key_with_full_access() -> None:
    world = make_world()
    settings = world.settings.with_api_key("serve-key-0123456789")
    world = make_world(tenants=settings.tenants)
    created = await world.create_offer(api_key="serve-key-0123456789")
    wallet = Wallet(world.http, world.clock)
    await wallet.receive(created["deep_link"])
    assert wallet.offer.credential_issuer == f"{ISSUER}/default"
    assert await world.records(created["offer_id"], "serve-key-0123456789")

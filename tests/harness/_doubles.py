"""Test doubles for the harness core: a tiny fake deployment (real keys, real signatures, real
SD-JWT VCs), a fake dialect and a fake target, shaped like the contracts of
conformance.dialects / conformance.harness.target so the core is tested without them."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.harness.environment import Environment
from conformance.harness.scenario import Scenario
from conformance.protocol.did import build_did_document, did_key_from_public, iota_did
from conformance.protocol.jose import PrivateKey, generate_key
from conformance.protocol.sdjwt import issue_sd_jwt_vc
from conformance.protocol.status_list import StatusList, build_status_list_token
from conformance.redact import redact

API_KEY = "tcs_test_issuer_key_5f1e2d3c4b5a69788796a5b4"
BEARER = "holder-access-token-9a8b7c6d5e4f3a2b1c0d"
PASSWORD = "correct horse battery staple 42"
ISSUER, LEDGER, VERIFIER = "http://issuer.test", "http://ledger.test", "http://verifier.test"
VCT = "https://example.test/vct/degree"


# --- shapes of the dialect contract ------------------------------------------------------------

@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    request_headers: dict
    request_body: Any
    status: int | None
    response_headers: dict
    response_body: Any
    elapsed_ms: float
    error: str | None


@dataclass
class OperationResult:
    status: int | None
    body: Any
    exchanges: list
    artefacts: dict
    error: str | None = None


@dataclass(frozen=True)
class RoleEndpoint:
    base_url: str
    api_key: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class StepContext:
    target: Any
    vars: dict
    rng: random.Random
    wallet: Any
    webhooks: Any


@dataclass
class FakeTarget:
    name: str
    dialect: str
    roles: dict
    config_ids: Mapping[str, str]
    http: httpx.AsyncClient
    deployment: Any = None
    closed: bool = False

    def has(self, role: str) -> bool:
        return role in self.roles

    def describe(self) -> dict:
        return {"name": self.name, "dialect": self.dialect,
                "roles": {r: {"base_url": e.base_url, "api_key": e.api_key} for r, e in self.roles.items()}}

    async def aclose(self) -> None:
        self.closed = True
        await self.http.aclose()


# --- the fake deployment -------------------------------------------------------------------------

class World:
    """Issuer (did:key and did:iota paths), ledger (DID resolution, objects) and a status list."""

    def __init__(self) -> None:
        self.issuer_key = generate_key("EdDSA")
        self.issuer_did = did_key_from_public(self.issuer_key.public)
        self.issuer_kid = f"{self.issuer_did}#{self.issuer_did.split(':')[2]}"
        self.iota_key = generate_key("EdDSA")
        self.iota_did = iota_did("testnet", "0x" + "ab" * 32)
        self.iota_kid = f"{self.iota_did}#key-1"
        self.dids = {self.iota_did: build_did_document(self.iota_did, self.iota_key.public)}
        self.objects: dict[str, dict] = {}
        self.statuses = StatusList.empty(1, 16)
        self.offers: dict[str, dict] = {}
        self.break_signatures = False
        self.hang = False
        self.down = False

    def issue(self, holder: PrivateKey, *, iota: bool = False, claims: Mapping[str, Any] | None = None,
              idx: int = 3) -> str:
        key, did, kid = (self.iota_key, self.iota_did, self.iota_kid) if iota else (
            self.issuer_key, self.issuer_did, self.issuer_kid)
        payload = {"iss": did, "vct": VCT, "iat": int(time.time()),
                   "cnf": {"jwk": holder.public.to_jwk()},
                   "status": {"status_list": {"idx": idx, "uri": f"{ISSUER}/status/1"}}}
        issued = issue_sd_jwt_vc(issuer_key=key, header={"kid": kid}, payload=payload,
                                 claims=claims or {"given_name": "Ada", "degree": {"name": "BSc", "year": 2024}})
        text = issued.serialize()
        if self.break_signatures:
            jwt, rest = text.split("~", 1)
            head, body, sig = jwt.split(".")
            text = f"{head}.{body}.{sig[:-4]}{'AAAA' if sig[-4:] != 'AAAA' else 'BBBB'}~{rest}"
        return text

    def anchor(self, issuer_jwt: str) -> str:
        object_id = "0x" + uuid.uuid4().hex * 2
        self.objects[object_id] = {"object_id": object_id, "state": {"data": issuer_jwt},
                                   "immutable_metadata": {"method": "locked"}, "network": "testnet"}
        return object_id

    def status_token(self) -> str:
        return build_status_list_token(key=self.issuer_key, header={"kid": self.issuer_kid},
                                       sub=f"{ISSUER}/status/1", iat=int(time.time()), status_list=self.statuses)

    def metadata(self) -> dict:
        return {"credential_issuer": ISSUER, "credential_endpoint": f"{ISSUER}/credential",
                "credential_configurations_supported": {"degree": {"format": "dc+sd-jwt", "vct": VCT}}}

    async def handle(self, request: httpx.Request) -> httpx.Response:
        if self.hang:
            await asyncio.sleep(3600)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        url, method = str(request.url), request.method
        if url == f"{ISSUER}/v1/offers" and method == "POST":
            return self._create_offer(request)
        if url.startswith(f"{ISSUER}/v1/offers/"):
            offer = self.offers.get(url.rsplit("/", 1)[1])
            return httpx.Response(200, json=offer) if offer else _error(404, "not_found", "no such offer")
        if url == f"{ISSUER}/.well-known/openid-credential-issuer":
            return httpx.Response(200, json=self.metadata())
        if url == f"{ISSUER}/status/1":
            return httpx.Response(200, text=self.status_token(),
                                  headers={"content-type": "application/statuslist+jwt"})
        if url.startswith(f"{LEDGER}/1.0/identifiers/"):
            did = url.rsplit("/", 1)[1]
            doc = self.dids.get(did)
            return httpx.Response(200, json={"didDocument": doc, "didDocumentMetadata": {}}) if doc else \
                httpx.Response(404, json={"didResolutionMetadata": {"error": "notFound"}})
        if url.startswith(f"{LEDGER}/v1/objects/"):
            obj = self.objects.get(url.rsplit("/", 1)[1])
            return httpx.Response(200, json=obj) if obj else _error(404, "not_found", "no such object")
        if url == f"{VERIFIER}/text":
            return httpx.Response(200, text="plain text")
        return _error(404, "not_found", f"{method} {url}")

    def _create_offer(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-api-key") != API_KEY:
            return _error(401, "unauthorized", "missing or invalid X-API-Key")
        offer_id = str(uuid.uuid4())
        uri = f"{ISSUER}/v1/offers/{offer_id}"
        self.offers[offer_id] = {
            "credential_issuer": ISSUER, "credential_configuration_ids": ["degree"],
            "grants": {"urn:ietf:params:oauth:grant-type:pre-authorized_code": {"pre-authorized_code": "c0de"}}}
        return httpx.Response(201, json={"offer_id": offer_id, "credential_offer_uri": uri,
                                         "deep_link": f"openid-credential-offer://?credential_offer_uri={uri}",
                                         "expires_at": "2030-01-01T00:00:00Z"})


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": message}})


# --- the fake dialect --------------------------------------------------------------------------

async def record(http: httpx.AsyncClient, method: str, url: str, **kwargs: Any) -> tuple[Any, Exchange]:
    started = time.perf_counter()
    body = kwargs.get("json", kwargs.get("content"))
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TransportError as exc:
        return None, Exchange(method, url, redact(dict(kwargs.get("headers") or {})), redact(body), None, {},
                              None, (time.perf_counter() - started) * 1000, f"{type(exc).__name__}: {exc}")
    try:
        response_body = response.json()
    except ValueError:
        response_body = response.text
    return response, Exchange(method, url, redact(dict(kwargs.get("headers") or {})), redact(body),
                              response.status_code, dict(response.headers), redact(response_body),
                              (time.perf_counter() - started) * 1000, None)


def _result(main: Exchange, exchanges: list, artefacts: dict | None = None) -> OperationResult:
    return OperationResult(main.status, main.response_body, exchanges, artefacts or {}, main.error)


class FakeDialect:
    """Operations over the World; `holder` is the harness wallet's key."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.holder = generate_key("EdDSA")
        self.calls: list[tuple[str, dict]] = []
        self.operations = {
            "issuer.create_offer": self.create_offer,
            "wallet.receive": self.receive,
            "ledger.object": self.ledger_object,
            "fake.echo": self.echo,
            "fake.boom": self.boom,
            "fake.hang": self.hang,
        }

    async def create_offer(self, ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        self.calls.append(("issuer.create_offer", dict(inputs)))
        endpoint = ctx.target.roles["issuer"]
        headers = {"X-API-Key": endpoint.api_key or ""}
        response, created = await record(ctx.target.http, "POST", f"{endpoint.base_url}/v1/offers",
                                         headers=headers, json={"credential": dict(inputs), "password": PASSWORD})
        exchanges = [created]
        artefacts = {}
        if response is not None and response.status_code == 201:
            _, fetched = await record(ctx.target.http, "GET", response.json()["credential_offer_uri"])
            exchanges.append(fetched)
            artefacts["offer"] = fetched.response_body
        return _result(created, exchanges, artefacts)

    async def receive(self, ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        self.calls.append(("wallet.receive", dict(inputs)))
        iota = bool(inputs.get("iota"))
        response, meta = await record(ctx.target.http, "GET", f"{ISSUER}/.well-known/openid-credential-issuer",
                                      headers={"Authorization": f"Bearer {BEARER}"})
        credential = self.world.issue(self.holder, iota=iota)
        artefacts = {"credential": credential, "issuer_metadata": meta.response_body,
                     "holder_key": self.holder.public}
        if inputs.get("offer"):
            artefacts["offer"] = inputs["offer"]
        if iota:
            artefacts["object_id"] = self.world.anchor(credential.split("~")[0])
        return _result(meta, [meta], artefacts)

    async def ledger_object(self, ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        response, got = await record(ctx.target.http, "GET", f"{LEDGER}/v1/objects/{inputs['object_id']}")
        artefacts = {"ledger_object": got.response_body} if got.status == 200 else {}
        if inputs.get("credential"):
            artefacts["credential"] = inputs["credential"]
        return _result(got, [got], artefacts)

    async def echo(self, ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        self.calls.append(("fake.echo", dict(inputs)))
        return OperationResult(int(inputs.get("status", 200)), dict(inputs), [], dict(inputs.get("artefacts", {})))

    async def boom(self, ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        raise RuntimeError(f"exploded while sending X-API-Key {API_KEY}")

    async def hang(self, ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    def get_operation(self, dialect: str, name: str) -> Any:
        if dialect != "fake" or name not in self.operations:
            raise KeyError(f"dialect {dialect!r} has no operation {name!r} (known: {sorted(self.operations)})")
        return self.operations[name]

    @staticmethod
    def operation_roles(name: str) -> tuple[str, ...]:
        roles = {"issuer": ("issuer",), "wallet": ("issuer",), "ledger": ("ledger",), "verifier": ("verifier",),
                 "holder": ("holder",), "fake": ()}
        role, _, verb = name.partition(".")
        if role not in roles or not verb:
            raise KeyError(f"no operation named {name!r}")
        return roles[role]

    def environment(self) -> Environment:
        async def open_context(target: Any, scenario: Scenario, rng: random.Random, vars: dict) -> StepContext:
            webhooks = type("Receiver", (), {"url": "http://hooks.test/cb"})() if scenario.webhooks else None
            return StepContext(target, vars, rng, wallet=None, webhooks=webhooks)

        async def close_context(context: Any) -> None:
            return None

        return Environment(get_operation=self.get_operation, operation_roles=self.operation_roles, record=record,
                           result_type=OperationResult, open_context=open_context, close_context=close_context)


def make_target(world: World, roles: tuple[str, ...] = ("issuer", "ledger", "verifier"),
                timeout: float = 5.0) -> FakeTarget:
    urls = {"issuer": ISSUER, "ledger": LEDGER, "verifier": VERIFIER, "holder": "http://holder.test"}
    endpoints = {r: RoleEndpoint(urls[r], API_KEY if r == "issuer" else None,
                                 {"password": PASSWORD} if r == "holder" else {}) for r in roles}
    http = httpx.AsyncClient(transport=httpx.MockTransport(world.handle), timeout=timeout)
    return FakeTarget("fake-deployment", "fake", endpoints, {"default": "degree"}, http)


def check_context(target: Any, artefacts: dict | None = None, *, status: int | None = 200, body: Any = None,
                  exchanges: list | None = None, now: float | None = None) -> Any:
    """A CheckContext over a hand-made OperationResult, for testing one check."""
    from conformance.harness.checks import CheckContext
    from conformance.harness.scenario import Expectation, Scenario, Source, Step

    step = Step("step", 0, "fake.echo", None, {}, {}, Expectation(), Source("t.yaml", 5))
    scenario = Scenario("t.check", "check", ("issuer",), ("X",), (step,), Source("t.yaml", 1))
    result = OperationResult(status, body, exchanges or [], artefacts or {})
    return CheckContext(result=result, vars={}, target=target, step=step, scenario=scenario,
                        clock=(lambda: now) if now is not None else time.time)

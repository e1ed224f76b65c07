"""The four reference roles wired together: the embedded default target of the harness.

`build_reference()` mounts ledger, issuer, holder and verifier on one in-process `Network`
(no sockets, `http://{role}.local`); `conformance serve` builds the same thing with real URLs
and serves each app on its own port. Every role uses the deployment's one outgoing client, so a
holder -> issuer call travels the same way as a harness -> issuer call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx

from conformance.net import DEFAULT_TIMEOUT, Network, make_client
from conformance.paths import FIXTURES
from conformance.protocol.jose import PrivateKey
from reference import eudiw, holder, issuer, ledger, orgwallet, verifier
from reference.common.clock import Clock, ShiftableClock
from reference.common.store import Store
from reference.issuer.leaf_cert import mint_test_signer

ROLES = ("issuer", "holder", "verifier", "ledger", "eudiw", "orgwallet")
TEST_CA = FIXTURES / "pki" / "test-ca.cert.pem"
# The fixture tenants' TEST-ONLY keys (fixtures/issuer/tenants.yaml): did:iota and X.509 paths.
ISSUER_KEY = "tcs_test_turing_3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c"
ISSUER_X509_KEY = "tcs_test_haip_0a1b2c3d4e5f60718293a4b5c6d7e8f9"
ISSUER_LIMITED_KEY = "tcs_test_limited_9f8e7d6c5b4a39281706f5e4d3c2b1a0"
# The organisation wallet's TEST-ONLY key (Authorization: ApiKey <key>).
ORGWALLET_KEY = "orgwallet_test_7c6b5a4938271605f4e3d2c1b0a9"


# Each role package exports the same trio: Settings, open_store(path), create_app(...).
ROLE_PACKAGES = {"ledger": ledger, "issuer": issuer, "holder": holder, "verifier": verifier}
# Further API surfaces over the issuer's one engine: built after it, given `engine=`; their
# offers are redeemed on the issuer's wire.
SURFACE_PACKAGES = {"eudiw": eudiw, "orgwallet": orgwallet}


def default_urls() -> dict[str, str]:
    return {role: f"http://{role}.local" for role in ROLES}


@dataclass
class ReferenceDeployment:
    """`api_keys` holds what a client sends as X-API-Key: `issuer` (did:iota tenant),
    `issuer_x509`, `issuer_limited` (may offer one configuration only) and `verifier`; and
    `orgwallet`, sent as `Authorization: ApiKey <key>`. The EUDIW connector's management API is
    open (the seed's internal port)."""
    urls: dict[str, str]
    api_keys: dict[str, str] = field(repr=False)
    network: Network | None
    apps: dict[str, Any]
    services: dict[str, Any]
    clock: Clock
    _stores: list[Store] = field(default_factory=list, repr=False)
    _clients: list[httpx.AsyncClient] = field(default_factory=list, repr=False)

    def client(self, timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
        """A client that reaches the roles (in-process when there is a network)."""
        http = make_client(self.network, timeout)
        self._clients.append(http)
        return http

    async def drain(self) -> None:
        """Wait for background work. Notarization hops issuer -> ledger -> issuer, so a few
        rounds settle what one round starts."""
        for _ in range(3):
            for service in self.services.values():
                await service.drain()

    async def cancel_background(self) -> None:
        """Stop background work now (a second Ctrl-C). Issuer and ledger keep their progress in
        the store, so the next start on the same db resumes what was cut off."""
        self.services["issuer"].tasks.cancel()
        self.services["eudiw"].tasks.cancel()
        await self.services["eudiw"].close()
        await self.services["ledger"].close()

    async def aclose(self) -> None:
        await self.drain()
        await self.services["eudiw"].close()
        for http in self._clients:
            await http.aclose()
        await self.services["ledger"].close()
        for store in self._stores:
            store.close()


def build_reference(*, db_dir: str | Path | None = None, clock: Clock | None = None,
                    seed: int = 0, ledger_latency: float = 0.01,
                    urls: dict[str, str] | None = None, verifier_api_key: str | None = None,
                    issuer_key: PrivateKey | None = None, in_process: bool = True,
                    poll_interval: float = 0.05, issuer_api_key: str | None = None,
                    webhook_timeout: float = 5.0, eudiw_callback_url: str | None = None,
                    eudiw_sweep_interval: float | None = None,
                    scrypt_n: int = 2 ** 14) -> ReferenceDeployment:
    """`db_dir` None keeps every store in memory; otherwise `{db_dir}/{role}.sqlite` persist.
    `in_process` False leaves the apps unmounted (the caller serves them on sockets).
    `issuer_api_key` adds a full-access issuer tenant `default` with that key.
    `scrypt_n` is the holder's password-hash cost (RFC 7914); the embedded target of a run
    lowers it, since it registers many throwaway users and protects no real password.
    `eudiw_callback_url`: where the EUDIW connector posts issuance callbacks (None: none);
    `eudiw_sweep_interval`: seconds between its looks for expired sessions when served (None:
    only on requests and `drain()`, which suits an in-process clock)."""
    urls = {**default_urls(), **(urls or {})}
    clock = clock or ShiftableClock()
    network = Network() if in_process else None
    deployment = ReferenceDeployment(
        urls=urls, network=network, apps={}, services={}, clock=clock,
        api_keys={"issuer": ISSUER_KEY, "issuer_x509": ISSUER_X509_KEY,
                  "issuer_limited": ISSUER_LIMITED_KEY,
                  "verifier": verifier_api_key or f"ref-verifier-{secrets.token_hex(8)}",
                  "orgwallet": ORGWALLET_KEY})
    outgoing = deployment.client()
    settings = {
        "ledger": ledger.LedgerSettings(urls["ledger"], latency=ledger_latency, seed=seed),
        "issuer": _issuer_settings(urls["issuer"], urls["ledger"], issuer_key, issuer_api_key,
                                   poll_interval=poll_interval, webhook_timeout=webhook_timeout),
        "holder": holder.HolderSettings(urls["holder"], ledger_url=urls["ledger"],
                                        trust_anchors_pem=(str(TEST_CA),), scrypt_n=scrypt_n),
        "verifier": verifier.VerifierSettings(
            urls["verifier"], api_keys=frozenset({deployment.api_keys["verifier"]}),
            ledger_url=urls["ledger"], trust_anchors_pem=(str(TEST_CA),)),
        "eudiw": eudiw.EudiwSettings(urls["eudiw"], callback_url=eudiw_callback_url,
                                     sweep_interval=eudiw_sweep_interval),
        "orgwallet": orgwallet.OrgWalletSettings(urls["orgwallet"],
                                                 api_keys=frozenset({ORGWALLET_KEY})),
    }
    for role, module in ROLE_PACKAGES.items():
        _add(deployment, role, module, settings[role], db_dir, outgoing)
    engine = deployment.apps["issuer"].state.issuer
    for role, module in SURFACE_PACKAGES.items():
        _add(deployment, role, module, settings[role], db_dir, outgoing, engine=engine)
    return deployment


def _add(deployment: ReferenceDeployment, role: str, module: Any, settings: Any,
         db_dir: str | Path | None, http: httpx.AsyncClient, **extra: Any) -> None:
    store = module.open_store(_db_path(db_dir, role))
    deployment._stores.append(store)
    app = module.create_app(settings, store=store, clock=deployment.clock, http=http, **extra)
    deployment.apps[role] = app
    deployment.services[role] = _service(app)
    if deployment.network is not None:
        deployment.network.mount(deployment.urls[role], app)


def _issuer_settings(url: str, ledger_url: str, key: PrivateKey | None, api_key: str | None,
                     **knobs: Any) -> issuer.IssuerSettings:
    settings = issuer.IssuerSettings(url, ledger_url=ledger_url, default_issuer_key=key, **knobs)
    if api_key:
        settings = settings.with_api_key(api_key)
    if httpx.URL(url).host != httpx.URL(default_urls()["issuer"]).host:
        # The committed test leaf names issuer.local; elsewhere the x5c leaf must name the host.
        tenants = [f"{url.rstrip('/')}/{t.id}" for t in settings.tenants if t.signing == "x509"]
        settings = replace(settings, x509=mint_test_signer(url, tenants))
    return settings


def _db_path(db_dir: str | Path | None, role: str) -> str:
    if db_dir is None:
        return ":memory:"
    Path(db_dir).mkdir(parents=True, exist_ok=True)
    return str(Path(db_dir) / f"{role}.sqlite")


def _service(app: Any) -> Any:
    state = app.state
    return getattr(state, "ledger", None) or getattr(state, "issuer", None) or state.service

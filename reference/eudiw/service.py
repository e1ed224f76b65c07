"""The EUDIW-connector surface over the issuer engine: `POST /offers` and its callbacks.

An offer's session ends in the first of these that holds (checked whenever the engine reports
a change, on every management request, and on `drain()` or the periodic sweep):

    ISSUED    the wallet obtained the credential
    FAILED    the offer can no longer be completed (engine failure: tx_code_locked after too
              many wrong transaction codes, issuance_denied, offer_key_lost); errorDetails is
              "<code>: <why>"
    EXPIRED   the session TTL passed first (default 5 minutes, as the seed has it)

A wallet error the wallet can still recover from (a bad key proof, a stale nonce) is not a
failure of the session: the wallet may retry until the TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Callable
from typing import Any

import httpx

from reference.common.body import Body
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError
from reference.common.store import Store
from reference.eudiw.callbacks import Callbacks
from reference.eudiw.offers import OfferRequest, parse_offer_request
from reference.eudiw.settings import EudiwSettings
from reference.eudiw.store import EudiwStore, Session
from reference.issuer.claims import check_claims
from reference.issuer.configs import CredentialConfig
from reference.issuer.engine import IssuerEngine, OfferSpec
from reference.issuer.store import OfferRow
from reference.issuer.tasks import TaskSet

log = logging.getLogger("reference.eudiw")

# The outcome of a session, first match wins.
OUTCOMES: tuple[tuple[str, Callable[[OfferRow, float], bool]], ...] = (
    ("ISSUED", lambda offer, now: offer.issued_at is not None),
    ("FAILED", lambda offer, now: offer.failure is not None),
    ("EXPIRED", lambda offer, now: offer.expired(now)),
)


class EudiwService:
    def __init__(self, settings: EudiwSettings, store: Store, clock: Clock,
                 http: httpx.AsyncClient, engine: IssuerEngine) -> None:
        self.settings = settings
        self.db = EudiwStore(store)
        self.clock = clock
        self.engine = engine
        self.tasks = TaskSet()
        self.callbacks = Callbacks(settings, self.db, http, clock, self.tasks)
        self.tenant = engine.surface_tenant(settings.tenant)
        engine.subscribe("eudiw", self.reconcile)
        self._started = False
        self._sweeper: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------------

    def ensure_started(self) -> None:
        """Lazily on requests (no lifespan under an in-process transport): resume pending
        callbacks once, keep the periodic sweep alive on the running loop."""
        if not self._started:
            self._started = True
            self.callbacks.resume()
        interval = self.settings.sweep_interval
        if interval is not None and (self._sweeper is None or self._sweeper.done()):
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep_every(interval))
        self.sweep()

    async def _sweep_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            self.sweep()

    async def drain(self) -> None:
        """Settle what is due now (expiries included), then wait for every callback."""
        self.sweep()
        await self.tasks.drain()

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    def authenticate(self, api_key: str | None) -> None:
        expected = self.settings.api_key
        if expected is None:
            return
        if not api_key or not hmac.compare_digest(api_key.encode(), expected.encode()):
            raise ApiError(401, "unauthorized", "X-API-Key is missing or not valid", "X-API-Key")

    # --- POST /offers -----------------------------------------------------------------------

    async def create_offer(self, body: Body) -> dict[str, Any]:
        request = parse_offer_request(body)
        config = self._config(request)
        check_claims(config, request.claims, where="claims")
        signing = await self.engine.signing_path(self.tenant)
        created = self.engine.create_offer(OfferSpec(
            surface="eudiw", tenant=self.tenant, config=config, claims=request.claims,
            expires_in=self.settings.session_ttl, signing=signing, tx_code=request.tx_code))
        self.db.add_session(created.offer_id, config.id, self.clock.now(), created.expires_at)
        self.callbacks.enqueue(created.offer_id, "OFFER_CREATED")
        response = {"offer_id": created.offer_id, "credential_offer_uri": created.deep_link}
        if created.tx_code_value is not None:
            response["tx_code_value"] = created.tx_code_value
        return response

    def _config(self, request: OfferRequest) -> CredentialConfig:
        config = self.engine.configuration(request.credential_configuration_id)
        if config is None or not self.tenant.may_offer(config.id):
            known = sorted(c for c in self.engine.settings.configurations
                           if self.tenant.may_offer(c))
            raise ApiError(400, "unknown_credential_configuration",
                           f"credential_configuration_id: {request.credential_configuration_id!r} "
                           f"is not in this connector's Credential Issuer Metadata (known: "
                           f"{', '.join(known)})", "credential_configuration_id")
        return config

    # --- sessions ---------------------------------------------------------------------------

    def reconcile(self, offer_id: str) -> None:
        """Report the session's outcome once it has one (the engine's listener)."""
        session = self.db.session(offer_id)
        offer = self.engine.offer(offer_id)
        if session is None or session.outcome is not None or offer is None:
            return
        now = self.clock.now()
        for outcome, holds in OUTCOMES:
            if holds(offer, now):
                details = f"{offer.failure}: {offer.failure_detail}" if outcome == "FAILED" else None
                if self.db.finish(offer_id, outcome, details, now):
                    self.callbacks.enqueue(offer_id, outcome, details)
                return

    def sweep(self) -> None:
        for offer_id in self.db.open_sessions():
            self.reconcile(offer_id)

    def session(self, offer_id: str) -> dict[str, Any]:
        session = self.db.session(offer_id)
        if session is None:
            raise ApiError(404, "not_found", f"no offer {offer_id!r}", "offer_id")
        return self._view(session)

    def _view(self, session: Session) -> dict[str, Any]:
        return {
            "offer_id": session.offer_id,
            "credential_configuration_id": session.config_id,
            "status": session.outcome or "OFFER_CREATED",
            "errorDetails": session.error_details,
            "created_at": iso(session.created_at), "expires_at": iso(session.expires_at),
            "callbacks": [{"eventId": c.payload["eventId"], "status": c.status, "state": c.state,
                           "attempts": c.attempts} for c in self.db.callbacks(session.offer_id)],
        }

"""On-chain notarization of issued credentials, and the `credential.notarized` webhook.

After a credential is issued with notarization on, a background task submits its issuer-signed
JWT to the ledger (`POST /v1/notarizations {"data"}`) and polls the request until it ends,
mirroring the ledger's states in the record's `on_chain_status` (issuer seed, Step 3; the mapping
and the ledger calls: reference/common/ledger_client.py, shared with the holder).

A ledger that cannot be reached at submission (connection error or 5xx) makes the record FAILED
at once; issuance itself has already succeeded. While polling, an unreachable ledger is retried
until `notarization_timeout`, then FAILED. On COMPLETED the webhook fires once: one POST, 5 s
timeout, no redirects, never retried; failures are logged with the callback's host only.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlsplit

import httpx

from reference.common.clock import Clock, iso
from reference.common.ledger_client import TERMINAL, LedgerClient, LedgerUnavailable, NotarizationState
from reference.issuer.settings import IssuerSettings
from reference.issuer.store import IssuerStore
from reference.issuer.tasks import TaskSet

log = logging.getLogger("reference.issuer")


class Notarizer:
    def __init__(self, settings: IssuerSettings, store: IssuerStore, http: httpx.AsyncClient,
                 clock: Clock, tasks: TaskSet) -> None:
        self._settings = settings
        self._store = store
        self._http = http
        self._clock = clock
        self._tasks = tasks
        self._ledger = LedgerClient(http, settings.ledger_url or "", timeout=settings.ledger_timeout)

    def start(self, credential_id: str) -> None:
        self._tasks.spawn(self._run(credential_id), f"notarize {credential_id}")

    def resume(self) -> None:
        """Pick up notarizations a previous process left unfinished."""
        for row in self._store.unfinished_notarizations():
            self.start(row.credential_id)

    async def _run(self, credential_id: str) -> None:
        row = self._store.credential(credential_id)
        if row is None or row.on_chain_status in TERMINAL:
            return
        request_id = row.request_id
        if request_id is None:
            try:
                request_id = await self._submit(row.issuer_jwt)
            except LedgerUnavailable as exc:
                log.warning("notarization of credential %s failed: the ledger did not accept it "
                            "(%s)", credential_id, exc)
                self._store.update_credential(credential_id, on_chain_status="FAILED")
                return
            self._store.update_credential(credential_id, request_id=request_id)
        await self._poll(credential_id, request_id)

    async def _submit(self, issuer_jwt: str) -> str:
        # A seam of its own: tests/faulty/variants.py (issuer.anchors_other_jwt) wraps it.
        return await self._ledger.submit(issuer_jwt)

    async def _poll(self, credential_id: str, request_id: str) -> None:
        """Follow the request, an unreachable ledger retried, until `notarization_timeout`."""
        async for state in self._ledger.states(request_id, wait=self._settings.notarization_timeout,
                                               interval=self._settings.poll_interval):
            if state is not None and self._record(credential_id, state):
                return
        log.warning("notarization of credential %s failed: no final state within %ss",
                    credential_id, self._settings.notarization_timeout)
        self._store.update_credential(credential_id, on_chain_status="FAILED")

    def _record(self, credential_id: str, state: NotarizationState) -> bool:
        """Store the ledger's state; True once it is final."""
        status = state.status
        if status is None:
            return False
        if status != "COMPLETED":
            self._store.update_credential(credential_id, on_chain_status=status)
            return status in TERMINAL
        now = self._clock.now()
        self._store.update_credential(credential_id, on_chain_status=status,
                                      object_id=state.object_id, notarized_at=now)
        self._tasks.spawn(self._webhook(credential_id), f"webhook {credential_id}")
        return True

    async def _webhook(self, credential_id: str) -> None:
        row = self._store.credential(credential_id)
        offer = self._store.offer(row.offer_id) if row else None
        if row is None or offer is None or not offer.callback_url:
            return
        if not self._store.claim_webhook(credential_id, self._clock.now()):
            return
        payload = {"event": "credential.notarized", "offer_id": row.offer_id,
                   "credential_id": row.credential_id, "object_id": row.object_id,
                   "blockchain": "iota", "notarized_at": iso(row.notarized_at)}
        host = urlsplit(offer.callback_url).netloc  # never the path or query: they may hold secrets
        try:
            # The deadline covers the whole exchange, whatever the transport does with timeouts
            # (an in-process ASGI transport ignores httpx's).
            async with asyncio.timeout(self._settings.webhook_timeout):
                response = await self._http.post(offer.callback_url, json=payload,
                                                  timeout=self._settings.webhook_timeout,
                                                  follow_redirects=False)
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("webhook for offer %s to %s failed: %s (not retried)", row.offer_id, host,
                        type(exc).__name__)
            return
        if not 200 <= response.status_code < 300:
            log.warning("webhook for offer %s to %s answered HTTP %s (not retried)", row.offer_id,
                        host, response.status_code)

"""Issuance callbacks (EUDIW connector seed, Step 3): an outbox per offer, delivered in order.

Payload `{"eventId", "status", "offerId"}` plus `errorDetails` for FAILED. The seed sets
`eventId` to the offer id and tells receivers to deduplicate retries by eventId + status, so a
callback that was not answered 2xx is retried (`callback_attempts`, `callback_retry_delay`
apart) and may reach a receiver twice; one that is still refused is abandoned. A later callback
of the same offer waits until the earlier one is settled, so OFFER_CREATED always comes first.
No redirects are followed; failures are logged with the receiver's host only (its path or
query may carry a secret).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import urlsplit

import httpx

from reference.common.clock import Clock
from reference.eudiw.settings import EudiwSettings
from reference.eudiw.store import Callback, EudiwStore
from reference.issuer.tasks import TaskSet

log = logging.getLogger("reference.eudiw")

STATUSES = ("OFFER_CREATED", "ISSUED", "FAILED", "EXPIRED")


def payload(offer_id: str, status: str, error_details: str | None = None) -> dict[str, Any]:
    assert status in STATUSES, status
    body: dict[str, Any] = {"eventId": offer_id, "status": status, "offerId": offer_id}
    if status == "FAILED":
        body["errorDetails"] = error_details or "issuance failed"
    return body


class Callbacks:
    def __init__(self, settings: EudiwSettings, store: EudiwStore, http: httpx.AsyncClient,
                 clock: Clock, tasks: TaskSet) -> None:
        self._settings = settings
        self._store = store
        self._http = http
        self._clock = clock
        self._tasks = tasks
        self._running: set[str] = set()

    def enqueue(self, offer_id: str, status: str, error_details: str | None = None) -> None:
        if self._settings.callback_url is None:
            return
        self._store.add_callback(offer_id, status, payload(offer_id, status, error_details))
        self.kick(offer_id)

    def kick(self, offer_id: str) -> None:
        if offer_id not in self._running:
            self._running.add(offer_id)
            self._tasks.spawn(self._deliver(offer_id), f"callbacks {offer_id}")

    def resume(self) -> None:
        """Deliver what a previous process left pending."""
        for offer_id in self._store.offers_with_pending():
            self.kick(offer_id)

    async def _deliver(self, offer_id: str) -> None:
        try:
            while (callback := self._store.next_pending(offer_id)) is not None:
                await self._settle(callback)
        finally:
            # No await between the last empty read and this: an enqueue cannot slip through.
            self._running.discard(offer_id)

    async def _settle(self, callback: Callback) -> None:
        attempts = callback.attempts
        while True:
            delivered = await self._post(callback)
            attempts += 1
            last = attempts >= self._settings.callback_attempts
            state = "delivered" if delivered else "abandoned" if last else "pending"
            self._store.attempted(callback.seq, state, self._clock.now())
            if state != "pending":
                return
            await asyncio.sleep(self._settings.callback_retry_delay)

    async def _post(self, callback: Callback) -> bool:
        url = self._settings.callback_url
        assert url is not None
        host = urlsplit(url).netloc
        timeout = self._settings.callback_timeout
        try:
            # The deadline covers the whole exchange (an in-process transport ignores httpx's).
            async with asyncio.timeout(timeout):
                response = await self._http.post(url, json=callback.payload, timeout=timeout,
                                                  follow_redirects=False)
        except (httpx.HTTPError, TimeoutError) as exc:
            log.warning("%s callback for offer %s to %s failed: %s", callback.status,
                        callback.offer_id, host, type(exc).__name__)
            return False
        if not 200 <= response.status_code < 300:
            log.warning("%s callback for offer %s to %s answered HTTP %s", callback.status,
                        callback.offer_id, host, response.status_code)
            return False
        return True

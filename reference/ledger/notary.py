"""Locked notarization objects, written asynchronously as on a real ledger.

A request is accepted at once (`queued`), then a background task moves it to `processing` and,
after another `latency`, to `completed` (an object now exists) or `failed`. The object is an
IOTA Notarization "locked" object: its state (the issuer-signed JWT) can never change, and its
immutable metadata records when it was created. Each step takes the current fault knobs, so a
test can slow down or break the ledger while requests are in flight.

Work left open by a previous process (a crash between steps) is picked up again on the first
request after a restart: nothing acknowledged is lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
import uuid

from reference.common.body import bad
from reference.common.clock import Clock
from reference.common.errors import ApiError
from reference.ledger.faults import Faults
from reference.ledger.store import LedgerObject, LedgerStore, NotarizationRequest

LOCKED = "locked"
MAX_DATA = 64 * 1024
_OBJECT_ID = re.compile(r"0x[0-9a-f]{64}")


def object_id_for(request_id: str, data: str) -> str:
    """Derived, not random: SHA-256 over the request id and the notarized bytes, so the id
    commits to the content (an IOTA object id is likewise 32 bytes, shown as 0x + 64 hex)."""
    digest = hashlib.sha256(f"{request_id}\n{data}".encode()).hexdigest()
    return f"0x{digest}"


def parse_object_id(text: str) -> str:
    """Object ids are hex, so case does not matter; the canonical form is lower case."""
    if not _OBJECT_ID.fullmatch(text.lower()):
        raise bad("object_id", "must be 0x followed by 64 hex digits", "invalid_object_id")
    return text.lower()


class Notary:
    def __init__(self, store: LedgerStore, clock: Clock, faults: Faults, seed: int) -> None:
        self._store = store
        self._clock = clock
        self._faults = faults
        self._rng = random.Random(seed)
        self._tasks: set[asyncio.Task[None]] = set()
        self._resumed = False

    def submit(self, data: str) -> NotarizationRequest:
        self.resume()
        now = self._clock.now()
        request = NotarizationRequest(str(uuid.uuid4()), data, "queued", None, None, now, now)
        self._store.add_request(request)
        self._spawn(request.request_id)
        return request

    def request(self, request_id: str) -> NotarizationRequest:
        self.resume()
        request = self._store.request(request_id)
        if request is None:
            raise ApiError(404, "not_found", f"no notarization request {request_id}")
        return request

    def object(self, object_id: str) -> LedgerObject:
        obj = self._store.object(parse_object_id(object_id))
        if obj is None:
            raise ApiError(404, "not_found", f"no object {object_id.lower()} on this network")
        return obj

    def resume(self) -> None:
        """Restart the work a previous process left open. Runs once, on the event loop (there
        is no lifespan under an in-process ASGI transport, so it cannot run at startup)."""
        if self._resumed:
            return
        self._resumed = True
        for request_id in self._store.open_requests():
            self._spawn(request_id)

    async def drain(self) -> None:
        """Wait until every background step has finished (tests: no sleeping, no polling)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks))

    async def cancel(self) -> None:
        """Stop background work (shutdown, or a simulated crash in tests). Open requests stay
        open in the store and are resumed by the next process."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _spawn(self, request_id: str) -> None:
        task = asyncio.get_running_loop().create_task(self._process(request_id))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, request_id: str) -> None:
        request = self._store.request(request_id)
        if request is None:
            return
        if request.status == "queued":
            await asyncio.sleep(self._faults.latency)
            self._store.set_status(request_id, "processing", self._clock.now())
        await asyncio.sleep(self._faults.latency)
        self._finish(request)

    def _finish(self, request: NotarizationRequest) -> None:
        now = self._clock.now()
        if self._rng.random() < self._faults.failure_rate:
            self._store.set_status(request.request_id, "failed", now,
                                   "transaction rejected by the ledger (simulated failure, "
                                   f"failure_rate={self._faults.failure_rate:g})")
            return
        obj = LedgerObject(object_id_for(request.request_id, request.data), request.data,
                           LOCKED, now)
        self._store.complete(request.request_id, obj)

"""The reference services' client of the ledger's notarization API (reference/ledger): submit a
JWT for notarization, follow the request, read an anchored object. Used by the issuer (it anchors
what it issues) and by the holder (it anchors what it receives, or checks the issuer's anchor).

The ledger's request states show as the issuer seed's `on_chain_status` enum (Step 3):

    ledger    queued   processing    completed   failed
    record    PENDING  IN_PROGRESS   COMPLETED   FAILED

Every call is bounded by `timeout` seconds as a whole (an in-process ASGI transport ignores
httpx's own timeouts). A ledger that does not answer usefully raises `LedgerUnavailable`;
`unreachable` tells "cannot ask now" (connection error, timeout, 5xx, not JSON) from "refused"
(4xx, an answer without what it must hold).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

ON_CHAIN_STATUS = {"queued": "PENDING", "processing": "IN_PROGRESS", "completed": "COMPLETED",
                   "failed": "FAILED"}
OPEN = frozenset({"PENDING", "IN_PROGRESS"})
TERMINAL = frozenset({"COMPLETED", "FAILED"})


class LedgerUnavailable(Exception):
    def __init__(self, why: str, *, unreachable: bool) -> None:
        super().__init__(why)
        self.unreachable = unreachable


@dataclass(frozen=True)
class NotarizationState:
    """A notarization request as the ledger reports it. `status`: the on_chain_status, None when
    the ledger reports a state this client does not know."""

    status: str | None
    object_id: str | None     # the anchored object, once completed
    error: str | None         # why, once failed

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> NotarizationState:
        object_id, error = body.get("object_id"), body.get("error")
        return cls(ON_CHAIN_STATUS.get(body.get("status")),  # type: ignore[arg-type]
                   object_id if isinstance(object_id, str) else None,
                   error if isinstance(error, str) else None)


class LedgerClient:
    def __init__(self, http: httpx.AsyncClient, ledger_url: str, *, timeout: float) -> None:
        self.http, self.timeout = http, timeout
        self.ledger = ledger_url.rstrip("/")

    async def submit(self, data: str) -> str:
        """`POST /v1/notarizations {"data"}`: the request id."""
        answer = await self._call("POST", "/v1/notarizations", {"data": data})
        if not isinstance(answer.get("request_id"), str):
            raise LedgerUnavailable("the answer has no request_id", unreachable=False)
        return answer["request_id"]

    async def state(self, request_id: str) -> NotarizationState:
        return NotarizationState.parse(await self._call("GET", f"/v1/notarizations/{request_id}"))

    async def states(self, request_id: str, *, wait: float,
                     interval: float) -> AsyncIterator[NotarizationState | None]:
        """The request's state every `interval` seconds until `wait` seconds have passed (a
        wall-clock bound on the event loop); None for a look at a ledger that was away. The
        caller stops iterating once a state is final for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while True:
            try:
                yield await self.state(request_id)
            except LedgerUnavailable:
                yield None
            if loop.time() >= deadline:
                return
            await asyncio.sleep(min(interval, max(0.0, deadline - loop.time())))

    async def holds(self, object_id: Any, data: str) -> bool | None:
        """Does the ledger object `object_id` carry exactly `data` (issuer seed, How to verify
        the on-chain record)? None when the ledger cannot be asked right now."""
        if not isinstance(object_id, str) or not object_id or "/" in object_id:
            return False
        try:
            obj = await self._call("GET", f"/v1/objects/{object_id}")
        except LedgerUnavailable as exc:
            return None if exc.unreachable else False
        state = obj.get("state")
        return isinstance(state, Mapping) and state.get("data") == data

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.http.request(method, f"{self.ledger}{path}", json=body,
                                                   timeout=self.timeout)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise LedgerUnavailable(f"unreachable: {type(exc).__name__}", unreachable=True) from None
        if response.status_code >= 400:
            raise LedgerUnavailable(f"HTTP {response.status_code}", unreachable=response.status_code >= 500)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise LedgerUnavailable("the answer is not a JSON object", unreachable=True)
        return answer

"""Anchoring a received credential on the ledger: the holder seed's `notarize_on_iota` on
`POST /v1/oid4vci/receive` ("Whether to notarize the credential JWT on IOTA. Default true").

How the holder gets its `reference`:
1. The issuer's credential response may already carry one (the issuer seed shows
   `"reference": {"chain", "object_id"}` beside `credentials`). The holder never takes it on
   trust: it reads the object (`GET {ledger}/v1/objects/{object_id}`) and reuses it only when its
   `state.data` is this credential's Issuer-signed JWT.
2. Otherwise the holder notarizes the Issuer-signed JWT itself (`POST {ledger}/v1/notarizations`)
   and polls `GET {ledger}/v1/notarizations/{request_id}` until the request ends or
   `notarization_wait` seconds pass (a wall-clock bound on the event loop, independent of the
   injected clock). A completed request is checked the same way as in 1 before it counts.

The ledger's request states show as the issuer seed's `on_chain_status` enum:

    ledger    queued   processing    completed   failed
    holder    PENDING  IN_PROGRESS   COMPLETED   FAILED

A request still open when the wait ends stays PENDING / IN_PROGRESS; reading the credential later
asks the ledger once more (no waiting). A ledger that cannot be reached at submission makes the
anchor FAILED at once: the credential itself is kept (its pre-authorized code is spent), and
`notarization_error` says why. The seed's receive table has no 503, so an unreachable ledger
never fails the receive.

Only credentials on the did:iota signing path are anchored (issuer seed, "Path constraint - DID
path only": the anchor is verified by resolving the issuer's did:iota document). Others, X.509 /
x5c included, are received without an anchor and with a note.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

CHAIN = "iota"
ON_CHAIN_STATUS = {"queued": "PENDING", "processing": "IN_PROGRESS", "completed": "COMPLETED",
                   "failed": "FAILED"}
OPEN = frozenset({"PENDING", "IN_PROGRESS"})
NOT_APPLICABLE_NOTE = {
    "code": "notarization_not_applicable",
    "message": "the credential is not on the did:iota signing path, so it is not anchored on the "
               "ledger (issuer seed, On-chain notarization: DID path only)",
}
NO_LEDGER_NOTE = {
    "code": "notarization_unavailable",
    "message": "this holder service has no ledger configured, so the credential is not anchored",
}


@dataclass(frozen=True)
class Anchor:
    on_chain_status: str            # PENDING | IN_PROGRESS | COMPLETED | FAILED
    request_id: str | None          # the ledger request, when the holder notarized
    object_id: str | None           # set only when COMPLETED
    error: str | None = None        # why, when FAILED

    @property
    def reference(self) -> dict[str, str] | None:
        """The seed's receive-response block, once anchored."""
        if self.on_chain_status != "COMPLETED" or self.object_id is None:
            return None
        return {"chain": CHAIN, "object_id": self.object_id}


class _NoAnswer(Exception):
    """The ledger did not answer usefully: refused (4xx), or unreachable (connection error,
    timeout, 5xx, not JSON) - then `unreachable` is True."""

    def __init__(self, why: str, *, unreachable: bool) -> None:
        super().__init__(why)
        self.unreachable = unreachable


class LedgerNotary:
    def __init__(self, http: httpx.AsyncClient, ledger_url: str, *, timeout: float, wait: float,
                 poll_interval: float) -> None:
        self.http, self.timeout = http, timeout
        self.ledger = ledger_url.rstrip("/")
        self.wait, self.poll_interval = wait, poll_interval

    async def anchor(self, issuer_jwt: str, offered: Mapping[str, Any] | None) -> Anchor:
        """An anchor for `issuer_jwt`: the issuer's `offered` reference when the ledger confirms
        it, else a notarization of our own, waited for up to `wait` seconds."""
        if offered is not None and await self._holds(offered.get("object_id"), issuer_jwt):
            return Anchor("COMPLETED", None, offered["object_id"])
        try:
            submitted = await self._call("POST", "/v1/notarizations", {"data": issuer_jwt})
        except _NoAnswer as exc:
            return Anchor("FAILED", None, None, f"the ledger did not accept the notarization ({exc})")
        request_id = submitted.get("request_id")
        if not isinstance(request_id, str):
            return Anchor("FAILED", None, None, "the ledger's answer has no request_id")
        return await self._until_final(Anchor("PENDING", request_id, None), issuer_jwt)

    async def refresh(self, anchor: Anchor, issuer_jwt: str) -> Anchor:
        """One look at an open request (no waiting); the anchor unchanged when the ledger is away."""
        if anchor.on_chain_status not in OPEN or anchor.request_id is None:
            return anchor
        return await self._step(anchor, issuer_jwt)

    async def _until_final(self, anchor: Anchor, issuer_jwt: str) -> Anchor:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.wait
        while True:
            anchor = await self._step(anchor, issuer_jwt)
            if anchor.on_chain_status not in OPEN or loop.time() >= deadline:
                return anchor
            await asyncio.sleep(min(self.poll_interval, max(0.0, deadline - loop.time())))

    async def _step(self, anchor: Anchor, issuer_jwt: str) -> Anchor:
        assert anchor.request_id is not None
        try:
            state = await self._call("GET", f"/v1/notarizations/{anchor.request_id}")
        except _NoAnswer:
            return anchor   # asked again on the next read
        status = ON_CHAIN_STATUS.get(state.get("status"))  # type: ignore[arg-type]
        if status is None:
            return anchor
        if status == "FAILED":
            error = state.get("error")
            return Anchor(status, anchor.request_id, None,
                          error if isinstance(error, str) else "the ledger reports the notarization failed")
        if status != "COMPLETED":
            return Anchor(status, anchor.request_id, None)
        object_id = state.get("object_id")
        held = await self._holds(object_id, issuer_jwt)
        if held is None:
            return anchor
        if not held:
            return Anchor("FAILED", anchor.request_id, None, f"the ledger reports object {object_id!r}, "
                          "which does not hold this credential's Issuer-signed JWT")
        return Anchor(status, anchor.request_id, object_id)

    async def _holds(self, object_id: Any, issuer_jwt: str) -> bool | None:
        """Does the ledger object `object_id` carry exactly `issuer_jwt` (issuer seed, How to
        verify the on-chain record)? None when the ledger cannot be asked right now."""
        if not isinstance(object_id, str) or not object_id or "/" in object_id:
            return False
        try:
            obj = await self._call("GET", f"/v1/objects/{object_id}")
        except _NoAnswer as exc:
            return None if exc.unreachable else False
        state = obj.get("state")
        return isinstance(state, Mapping) and state.get("data") == issuer_jwt

    async def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        try:
            # The deadline covers the whole exchange, whatever the transport does with timeouts
            # (an in-process ASGI transport ignores httpx's).
            async with asyncio.timeout(self.timeout):
                response = await self.http.request(method, f"{self.ledger}{path}", json=body,
                                                   timeout=self.timeout)
        except (httpx.HTTPError, TimeoutError) as exc:
            raise _NoAnswer(f"unreachable: {type(exc).__name__}", unreachable=True) from None
        if response.status_code >= 400:
            raise _NoAnswer(f"HTTP {response.status_code}", unreachable=response.status_code >= 500)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            raise _NoAnswer("the answer is not a JSON object", unreachable=True)
        return answer

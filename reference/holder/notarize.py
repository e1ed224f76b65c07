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

The ledger's request states show as the issuer seed's `on_chain_status` enum (the mapping and
the ledger calls: reference/common/ledger_client.py, shared with the issuer).

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

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from reference.common.ledger_client import OPEN, LedgerClient, LedgerUnavailable, NotarizationState

CHAIN = "iota"
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


class LedgerNotary:
    def __init__(self, http: httpx.AsyncClient, ledger_url: str, *, timeout: float, wait: float,
                 poll_interval: float) -> None:
        self.ledger = LedgerClient(http, ledger_url, timeout=timeout)
        self.wait, self.poll_interval = wait, poll_interval

    async def anchor(self, issuer_jwt: str, offered: Mapping[str, Any] | None) -> Anchor:
        """An anchor for `issuer_jwt`: the issuer's `offered` reference when the ledger confirms
        it, else a notarization of our own, waited for up to `wait` seconds."""
        if offered is not None and await self.ledger.holds(offered.get("object_id"), issuer_jwt):
            return Anchor("COMPLETED", None, offered["object_id"])
        try:
            request_id = await self.ledger.submit(issuer_jwt)
        except LedgerUnavailable as exc:
            return Anchor("FAILED", None, None, f"the ledger did not accept the notarization ({exc})")
        anchor = Anchor("PENDING", request_id, None)
        async for state in self.ledger.states(request_id, wait=self.wait, interval=self.poll_interval):
            anchor = await self._judge(anchor, state, issuer_jwt)
            if anchor.on_chain_status not in OPEN:
                break
        return anchor

    async def refresh(self, anchor: Anchor, issuer_jwt: str) -> Anchor:
        """One look at an open request (no waiting); the anchor unchanged when the ledger is away."""
        if anchor.on_chain_status not in OPEN or anchor.request_id is None:
            return anchor
        try:
            state: NotarizationState | None = await self.ledger.state(anchor.request_id)
        except LedgerUnavailable:
            state = None
        return await self._judge(anchor, state, issuer_jwt)

    async def _judge(self, anchor: Anchor, state: NotarizationState | None, issuer_jwt: str) -> Anchor:
        """The anchor after the ledger reported `state` (None: it was away; asked again on the
        next read). A completed request counts once its object holds `issuer_jwt`."""
        if state is None or state.status is None:
            return anchor
        if state.status == "FAILED":
            return Anchor(state.status, anchor.request_id, None,
                          state.error or "the ledger reports the notarization failed")
        if state.status != "COMPLETED":
            return Anchor(state.status, anchor.request_id, None)
        held = await self.ledger.holds(state.object_id, issuer_jwt)
        if held is None:
            return anchor
        if not held:
            return Anchor("FAILED", anchor.request_id, None, f"the ledger reports object {state.object_id!r}, "
                          "which does not hold this credential's Issuer-signed JWT")
        return Anchor(state.status, anchor.request_id, state.object_id)

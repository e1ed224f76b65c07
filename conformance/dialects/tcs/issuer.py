"""issuer.* for the TCS-style issuer (shared/seeds/000, "Issuer · Issue Credential").

    POST /v1/offers                           create an offer (Step 1)
    GET  /v1/offers/{id}/credentials          the offer's credential records (Step 3 · Polling)
    POST /v1/credentials/{id}/status          change a record's status (the reference's revocation
                                              endpoint; the seed documents the statuses, not the call)

`issuer.create_offer` yields the catalogue's artefacts (offer_id, deep_link, tx_code_value, offer)
so that scenarios read them the same way in every dialect, and the offered claims (artefact
`claims`), for the checks that compare them with what the wallet received.

Every call carries the issuer API key as X-API-Key (seed: 401 without it).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import api_key_header, config_id
from conformance.dialects.polling import Polled, poll, settings
from conformance.dialects.shared.webhooks import webhook_calls

DEFAULT_TX_CODE = {"input_mode": "numeric", "length": 6}
TERMINAL_ON_CHAIN = frozenset({"COMPLETED", "FAILED", None})   # None: not notarized, nothing to wait for
# Optional members of the offer body, from the inputs of the same meaning (seed, Step 1 Parameters).
_PASSED_THROUGH = {"expires_in": "expires_in", "holder_did": "holder_did", "issuer_did": "issuer_did",
                   "issuer_private_key": "issuer_private_key", "notarize": "notarize_on_iota"}


def offer_body(ctx: StepContext, args: Inputs) -> dict[str, Any]:
    body: dict[str, Any] = {
        "credential": {"config_id": config_id(ctx, args.text("config", "default")),
                       "claims": args.obj("claims", required=True)},
        "flow": args.text("flow", "pre-authorized"),
    }
    for name, member in _PASSED_THROUGH.items():
        if args.raw(name) is not None:
            body[member] = args.raw(name)
    tx_code = args.raw("tx_code")
    if tx_code is True:
        body["tx_code"] = dict(DEFAULT_TX_CODE)
    elif isinstance(tx_code, Mapping):
        body["tx_code"] = dict(tx_code)
    elif tx_code not in (None, False):
        raise InputError("issuer.create_offer: input 'tx_code' must be true or a tx_code object")
    callback = args.raw("callback")
    if callback is True:
        if ctx.webhooks is None:
            raise InputError("issuer.create_offer: `callback: true` needs `webhooks: true` in the scenario")
        body["callback_url"] = ctx.webhooks.url
    elif isinstance(callback, str):
        body["callback_url"] = callback
    return body


async def create_offer(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await calls.send("POST", ctx.url("issuer", "/v1/offers"), json=offer_body(ctx, args),
                                headers=api_key_header(ctx, "issuer", args.text("api_key")))
    created = json_of(response) if succeeded(response) else None
    artefacts: dict[str, Any] = {}
    if isinstance(created, Mapping):
        artefacts = {"offer_id": created.get("offer_id"), "deep_link": created.get("deep_link"),
                     "credential_offer_uri": created.get("credential_offer_uri"),
                     "tx_code_value": created.get("tx_code_value"), "claims": args.obj("claims")}
        artefacts["offer"] = await _fetch_offer(calls, created.get("credential_offer_uri"))
    return calls.result(response, artefacts)


async def _fetch_offer(calls: Calls, uri: Any) -> Any:
    """The Credential Offer object, as a wallet would fetch it (OID4VCI 1.0 §4.1.3)."""
    if not isinstance(uri, str):
        return None
    fetched = await calls.send("GET", uri, headers={"Accept": "application/json"})
    return json_of(fetched) if succeeded(fetched) else None


def _records_url(ctx: StepContext, offer_id: str) -> str:
    return ctx.url("issuer", f"/v1/offers/{quote(offer_id, safe='')}/credentials")


async def offer_credentials(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await calls.send("GET", _records_url(ctx, args.text("offer_id", required=True)),
                                headers=api_key_header(ctx, "issuer", args.text("api_key")))
    return calls.result(response, {"credential_records": json_of(response) if succeeded(response) else None})


def _notarization_settled(records: Any) -> bool:
    return isinstance(records, list) and bool(records) and all(
        isinstance(r, Mapping) and r.get("on_chain_status") in TERMINAL_ON_CHAIN for r in records)


class _History:
    """What the polls saw of the offer's first record: each change of on_chain_status, with the
    object_id and blockchain shown alongside it (seed, Step 3 Fields)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def note(self, records: Any) -> None:
        if not isinstance(records, list) or not records or not isinstance(records[0], Mapping):
            return  # not claimed yet: no record, nothing to note
        first = records[0]
        state = {name: first.get(name) for name in ("on_chain_status", "object_id", "blockchain")}
        if not self.seen or self.seen[-1] != state:
            self.seen.append(state)

    @property
    def statuses(self) -> list[Any]:
        out: list[Any] = []
        for state in self.seen:
            if not out or out[-1] != state["on_chain_status"]:
                out.append(state["on_chain_status"])
        return out


async def _poll_undrained(fetch: Callable[[], Awaitable[httpx.Response | None]], done: Callable[[Any], bool],
                          *, timeout: float, interval: float) -> Polled:
    """Like polling.poll, but never lets the embedded reference settle its background work
    between polls: only so can a poll land while a notarization is IN_PROGRESS."""
    started = time.monotonic()
    polls = 0
    while True:
        response = await fetch()
        polls += 1
        settled = succeeded(response) and done(json_of(response))
        waited = time.monotonic() - started
        if settled or not succeeded(response) or waited >= timeout:
            return Polled(response, polls, settled, waited)
        await asyncio.sleep(min(interval, timeout - waited))


async def wait_notarization(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    url = _records_url(ctx, args.text("offer_id", required=True))
    headers = api_key_header(ctx, "issuer", args.text("api_key"))
    timeout, interval = settings(ctx, args.number("timeout", minimum=0), args.number("interval", minimum=0))
    history = _History()

    async def fetch() -> httpx.Response | None:
        response = await calls.send("GET", url, headers=headers)
        if succeeded(response):
            history.note(json_of(response))
        return response

    if args.flag("observe", False):
        polled = await _poll_undrained(fetch, _notarization_settled, timeout=timeout, interval=interval)
    else:
        polled = await poll(ctx, fetch, _notarization_settled, timeout=timeout, interval=interval)
    records = json_of(polled.response) if succeeded(polled.response) else None
    first = records[0] if isinstance(records, list) and records and isinstance(records[0], Mapping) else {}
    error = None
    if succeeded(polled.response) and not polled.settled:
        error = (f"notarization did not settle within {timeout:g} s ({polled.polls} polls; on_chain_status: "
                 f"{[r.get('on_chain_status') for r in records or [] if isinstance(r, Mapping)] or 'no record yet'})")
    return calls.result(polled.response, {
        "credential_records": records, "object_id": first.get("object_id"),
        "on_chain_status": first.get("on_chain_status"), "credential_id": first.get("credential_id"),
        "polls": polled.polls, "on_chain_history": history.seen, "on_chain_statuses": history.statuses,
        "webhook_calls": webhook_calls(ctx)}, error=error)


async def revoke(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    credential_id = args.text("credential_id", required=True)
    response = await calls.send("POST", ctx.url("issuer", f"/v1/credentials/{quote(credential_id, safe='')}/status"),
                                json={"status": args.text("status", "REVOKED")},
                                headers=api_key_header(ctx, "issuer", args.text("api_key")))
    return calls.result(response, {"credential_record": json_of(response) if succeeded(response) else None,
                                   "credential": args.text("credential")})


OPERATIONS = {
    "issuer.create_offer": create_offer,
    "issuer.offer_credentials": offer_credentials,
    "issuer.wait_notarization": wait_notarization,
    "issuer.revoke": revoke,
}

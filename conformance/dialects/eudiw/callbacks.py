"""issuer.wait_callbacks for the EUDIW connector (seed 002, Step 3: "Handle the issuance callback").

The connector POSTs `{"eventId", "status", "offerId", "errorDetails"?}` to its callback URL:
OFFER_CREATED at once, then ISSUED, FAILED (with errorDetails) or EXPIRED (the session TTL).
eventId is the offer id, and a callback may be retried, so the seed's deduplication key is
eventId + status. This operation waits (bounded) until a callback with one of the `until`
statuses arrived for the offer, then reports what arrived for it, in arrival order:

    callbacks     the payloads, deduplicated by (eventId, status): the first of each
    statuses      their statuses, e.g. ["OFFER_CREATED", "ISSUED"]
    duplicates    how many deliveries the deduplication collapsed (retries)
    webhook_calls every delivery about the offer, as received (method, path, headers, body)

Callbacks are matched to the offer by offerId, the seed's correlation token; whether eventId
repeats it is for the scenario to expect. The operation has no HTTP response of its own (status
None): scenarios state their expectations on the artefacts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.inputs import Inputs
from conformance.dialects.polling import settings

STATUSES = ("OFFER_CREATED", "ISSUED", "FAILED", "EXPIRED")
TERMINAL = ("ISSUED", "FAILED", "EXPIRED")
# Between two looks at the receiver, at most (a callback wakes the wait at once anyway).
LOOK_EVERY = 0.05


def receiver_of(ctx: StepContext) -> Any:
    """The embedded reference's own receiver (role extra `callbacks`), else the scenario's."""
    own = ctx.endpoint("issuer").extra.get("callbacks")
    if own is not None:
        return own
    if ctx.webhooks is None:
        raise InputError("issuer.wait_callbacks needs a callback receiver: declare `webhooks: true` in the "
                         "scenario, and give the target file a `webhooks` section whose address is the "
                         "connector's configured callback URL")
    return ctx.webhooks


def statuses_input(args: Inputs) -> tuple[str, ...]:
    value = args.raw("until")
    wanted = TERMINAL if value is None else (value,) if isinstance(value, str) else value
    if not isinstance(wanted, Sequence) or not wanted or not all(s in STATUSES for s in wanted):
        raise InputError(f"issuer.wait_callbacks: input 'until' must be one of {', '.join(STATUSES)} or a "
                         f"list of them, got {value!r}")
    return tuple(wanted)


def about(calls: Sequence[Any], offer_id: str) -> list[dict[str, Any]]:
    """The deliveries whose payload names the offer (offerId), as the receiver recorded them."""
    return [call.to_json() for call in calls
            if isinstance(call.body, Mapping) and call.body.get("offerId") == offer_id]


def deduplicated(deliveries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The first delivery of each (eventId, status), in arrival order (seed: "To deduplicate
    retries, combine eventId + status")."""
    seen: set[tuple[Any, Any]] = set()
    out = []
    for delivery in deliveries:
        body = delivery["body"]
        key = (body.get("eventId"), body.get("status"))
        if key not in seen:
            seen.add(key)
            out.append(dict(body))
    return out


async def _settle(ctx: StepContext, budget: float) -> None:
    """Embedded reference: let the connector deliver what is due now (expiries included)."""
    deployment = ctx.target.deployment
    if deployment is not None and budget > 0:
        drain = asyncio.ensure_future(deployment.drain())
        await asyncio.wait({drain}, timeout=budget)   # never cancelled: it would cancel the deliveries


async def wait_callbacks(ctx: StepContext, args: Inputs) -> OperationResult:
    offer_id = args.text("offer_id", required=True)
    assert offer_id is not None
    until = statuses_input(args)
    receiver = receiver_of(ctx)
    timeout, _ = settings(ctx, args.number("timeout", minimum=0), None)
    deadline = time.monotonic() + timeout
    while True:
        await _settle(ctx, deadline - time.monotonic())
        deliveries = about(receiver.calls, offer_id)
        callbacks = deduplicated(deliveries)
        arrived = any(c.get("status") in until for c in callbacks)
        remaining = deadline - time.monotonic()
        if arrived or remaining <= 0:
            break
        await receiver.wait_for(len(receiver.calls) + 1, min(LOOK_EVERY, remaining))
    statuses = [c.get("status") for c in callbacks]
    error = None if arrived else (f"no {' / '.join(until)} callback for offer {offer_id} within {timeout:g} s "
                                  f"(received: {statuses or 'none'})")
    return OperationResult(None, callbacks, [], {
        "callbacks": callbacks, "statuses": statuses, "duplicates": len(deliveries) - len(callbacks),
        "webhook_calls": deliveries}, error)


OPERATIONS = {"issuer.wait_callbacks": wait_callbacks}

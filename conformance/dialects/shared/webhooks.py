"""webhooks.wait: what the scenario's webhook receiver got (a scenario with `webhooks: true`).

The issuer seed's callback is single-attempt and fires once notarization completes (Step 3 ·
Webhook), so the harness waits a bounded time for it instead of asking for it.
"""

from __future__ import annotations

from typing import Any

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.inputs import Inputs
from conformance.dialects.polling import settings


def webhook_calls(ctx: StepContext) -> list[dict[str, Any]] | None:
    receiver = ctx.webhooks
    return None if receiver is None else [call.to_json() for call in receiver.calls]


async def wait(ctx: StepContext, args: Inputs) -> OperationResult:
    if ctx.webhooks is None:
        raise InputError("webhooks.wait needs a webhook receiver: declare `webhooks: true` in the scenario")
    count = args.integer("count", 1)
    timeout, _ = settings(ctx, args.number("timeout", minimum=0), None)
    if ctx.target.deployment is not None:
        await ctx.target.deployment.drain()
    calls = [call.to_json() for call in await ctx.webhooks.wait_for(count, timeout)]
    error = None if len(calls) >= count else f"{len(calls)} webhook call(s) arrived within {timeout:g} s, expected {count}"
    return OperationResult(None, calls, [], {"webhook_calls": calls}, error)


OPERATIONS = {"webhooks.wait": wait}

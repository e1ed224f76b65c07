"""webhooks.*: the scenario's webhook receiver (a scenario with `webhooks: true`).

The issuer seed's callback is single-attempt and fires once notarization completes (Step 3 ·
Webhook), so the harness waits a bounded time for it instead of asking for it. `webhooks.respond`
makes the receiver slow, failing or redirecting, for the seed's delivery semantics ("single
attempt, no retries ... default timeout is 5 seconds ... does not follow redirects").
"""

from __future__ import annotations

from typing import Any

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.inputs import Inputs
from conformance.dialects.polling import settings


def webhook_calls(ctx: StepContext) -> list[dict[str, Any]] | None:
    receiver = ctx.webhooks
    return None if receiver is None else [call.to_json() for call in receiver.calls]


def _receiver(ctx: StepContext, operation: str) -> Any:
    if ctx.webhooks is None:
        raise InputError(f"{operation} needs a webhook receiver: declare `webhooks: true` in the scenario")
    return ctx.webhooks


async def wait(ctx: StepContext, args: Inputs) -> OperationResult:
    """With `drain` (the default) on the embedded reference, every background task has ended
    first, so the calls seen are all there will be: `count: 1` then means exactly one."""
    receiver = _receiver(ctx, "webhooks.wait")
    count = args.integer("count", 1)
    timeout, _ = settings(ctx, args.number("timeout", minimum=0), None)
    if ctx.target.deployment is not None and args.flag("drain", True):
        await ctx.target.deployment.drain()
    calls = [call.to_json() for call in await receiver.wait_for(count, timeout)]
    error = None if len(calls) >= count else (f"{len(calls)} webhook call(s) arrived within {timeout:g} s, "
                                              f"expected {count}")
    return OperationResult(None, calls, [], {"webhook_calls": calls}, error)


async def respond(ctx: StepContext, args: Inputs) -> OperationResult:
    receiver = _receiver(ctx, "webhooks.respond")
    try:
        receiver.respond(status=args.integer("status", 200), delay=args.number("delay", 0.0, minimum=0),
                         redirect_to=args.text("redirect_to"))
    except ValueError as exc:
        raise InputError(f"webhooks.respond: {exc}") from None
    reply = {"status": receiver.reply.status, "delay": receiver.reply.delay,
             "redirect_to": receiver.reply.redirect_to}
    return OperationResult(None, reply, [], {"reply": reply})


OPERATIONS = {"webhooks.wait": wait, "webhooks.respond": respond}

"""reference.*: in-process controls of the embedded reference target (its clock, its ledger's
fault knobs), for scenarios about expiry and ledger trouble. They need the `reference`
pseudo-role, which only the embedded target has; elsewhere such scenarios are skipped.

The embedded target is shared by every scenario of a run, so a knob turned here is turned back
when the scenario ends (a cleanup on the StepContext), whatever happened in between. The clock
only moves forward; scenarios keep jumps short, since checks compare against real time.
"""

from __future__ import annotations

from typing import Any

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.inputs import Inputs

MAX_JUMP = 24 * 3600.0


def _deployment(ctx: StepContext, operation: str) -> Any:
    deployment = ctx.target.deployment
    if deployment is None:
        raise InputError(f"{operation} needs the embedded reference target; {ctx.target.name!r} is not it")
    return deployment


async def advance_clock(ctx: StepContext, args: Inputs) -> OperationResult:
    deployment = _deployment(ctx, "reference.advance_clock")
    seconds = args.number("seconds", minimum=0)
    if seconds is None or seconds > MAX_JUMP:
        raise InputError(f"reference.advance_clock: input 'seconds' must be given, between 0 and {MAX_JUMP:g}")
    deployment.clock.advance(seconds)
    return OperationResult(None, {"now": deployment.clock.now()}, [], {"advanced": seconds})


async def ledger_faults(ctx: StepContext, args: Inputs) -> OperationResult:
    faults = _deployment(ctx, "reference.ledger_faults").services["ledger"].faults
    before = faults.as_dict()
    try:
        faults.update(latency=args.number("latency"), failure_rate=args.number("failure_rate"),
                      available=args.flag("available"))
    except Exception as exc:  # the ledger's own validation (ApiError naming the knob)
        raise InputError(f"reference.ledger_faults: {getattr(exc, 'message', exc)}") from None

    async def restore() -> None:
        faults.update(**before)

    ctx.cleanups.append(restore)
    return OperationResult(None, faults.as_dict(), [], {"faults": faults.as_dict(), "before": before})


OPERATIONS = {"reference.advance_clock": advance_clock, "reference.ledger_faults": ledger_faults}

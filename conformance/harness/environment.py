"""The seam between the runner and the dialect layer.

The runner needs from below it: an operation by name, the roles an operation needs, the shared
`record` helper and the OperationResult type for raw HTTP steps, and a way to open/close the per-scenario
`StepContext` (harness wallet, webhook receiver). `default_environment()` takes them from
`conformance.dialects`, `conformance.wallet` and `conformance.harness.webhooks`; tests of the
runner pass their own. Nothing else in the harness imports the dialect layer.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.harness.scenario import Scenario

Operation = Callable[[Any, Mapping[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Environment:
    get_operation: Callable[[str, str], Operation]          # (dialect, name); KeyError when unknown
    operation_roles: Callable[[str], tuple[str, ...]]        # name -> roles; KeyError when unknown
    record: Callable[..., Awaitable[tuple[Any, Any]]]        # (http, method, url, **kw) -> (response, Exchange)
    result_type: Callable[..., Any]                          # OperationResult(status=, body=, exchanges=, artefacts=, error=)
    open_context: Callable[[Any, Scenario, random.Random, dict[str, Any]], Awaitable[Any]]
    close_context: Callable[[Any], Awaitable[None]]


def default_environment() -> Environment:
    from conformance import dialects

    async def open_context(target: Any, scenario: Scenario, rng: random.Random,
                           vars: dict[str, Any]) -> Any:
        from conformance.wallet import HarnessWallet
        webhooks = None
        if scenario.webhooks:
            from conformance.harness.webhooks import WebhookReceiver
            webhooks = await WebhookReceiver.start(target)
        # Against the embedded reference the wallet shares its clock, so a scenario that moves
        # time forward does not make the wallet's proofs look stale.
        deployment = getattr(target, "deployment", None)
        clock = deployment.clock.now if deployment is not None else time.time
        return dialects.StepContext(target=target, vars=vars, rng=rng,
                                    wallet=HarnessWallet(rng=rng, clock=clock), webhooks=webhooks)

    async def close_context(context: Any) -> None:
        await context.aclose()   # undoes what the scenario changed (e.g. reference fault knobs)
        if context.webhooks is not None:
            await context.webhooks.aclose()

    return Environment(
        get_operation=dialects.get_operation,
        operation_roles=dialects.operation_roles,
        record=dialects.record,
        result_type=dialects.OperationResult,
        open_context=open_context,
        close_context=close_context,
    )

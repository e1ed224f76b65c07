"""Bounded polling, as the seeds' status endpoints are meant to be used.

On the embedded reference the wait between polls first lets its background work finish
(`deployment.drain()`: notarization hops issuer -> ledger -> issuer), so a poll loop settles in
one or two rounds instead of racing the ledger's latency; on a real deployment it just sleeps.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.dialects.base import StepContext, json_of

DEFAULT_INTERVAL, DEFAULT_TIMEOUT = 1.0, 30.0


@dataclass(frozen=True)
class Polled:
    response: httpx.Response | None    # the last answer (None: the last poll got none)
    polls: int
    settled: bool                      # `done` held for the last answer
    waited: float                      # seconds


def settings(ctx: StepContext, timeout: float | None, interval: float | None) -> tuple[float, float]:
    target = ctx.target
    return (timeout if timeout is not None else getattr(target, "poll_timeout", DEFAULT_TIMEOUT),
            interval if interval is not None else getattr(target, "poll_interval", DEFAULT_INTERVAL))


async def poll(ctx: StepContext, fetch: Callable[[], Awaitable[httpx.Response | None]],
               done: Callable[[Any], bool], *, timeout: float, interval: float) -> Polled:
    """Call `fetch` until `done(parsed body)` holds, a call gets no 2xx answer, or `timeout`."""
    started = time.monotonic()
    polls = 0
    while True:
        response = await fetch()
        polls += 1
        answered = response is not None and 200 <= response.status_code < 300
        settled = answered and done(json_of(response))
        waited = time.monotonic() - started
        if settled or not answered or waited >= timeout:
            return Polled(response, polls, settled, waited)
        await _pause(ctx, interval, timeout - waited)


async def _pause(ctx: StepContext, interval: float, remaining: float) -> None:
    started = time.monotonic()
    deployment = ctx.target.deployment
    if deployment is not None:
        # Bounded, and never cancelled: cancelling a drain would cancel the work it waits for.
        drain = asyncio.ensure_future(deployment.drain())
        await asyncio.wait({drain}, timeout=remaining)
    await asyncio.sleep(max(0.0, min(interval, remaining - (time.monotonic() - started))))

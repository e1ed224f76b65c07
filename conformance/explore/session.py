"""A target opened on an event loop the explorer owns, callable from synchronous code.

Hypothesis and schemathesis call plain functions; the target (and, for the embedded reference,
the four role apps with their background tasks) lives on one asyncio loop. The loop runs in an
anyio blocking portal - a thread of its own - so every example's async work, the deployment's
background tasks and the final `drain()` share that one loop, and the caller may itself be inside
another loop (a pytest-anyio test) without nesting loops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

P = ParamSpec("P")
T = TypeVar("T")

# (spec, seed) -> Target: `conformance.harness.target.open_target` unless a caller injects one.
Opener = Callable[..., Awaitable[Any]]


class Bridge:
    """One event loop in a portal thread; `run` executes a coroutine function on it."""

    def __init__(self) -> None:
        self._context: AbstractContextManager[BlockingPortal] = start_blocking_portal("asyncio")
        self._portal = self._context.__enter__()

    def run(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        return self._portal.call(lambda: fn(*args, **kwargs))

    def close(self) -> None:
        self._context.__exit__(None, None, None)


@dataclass
class Session:
    """The target and the loop it lives on. `call` runs one coroutine function to completion."""
    target: Any
    bridge: Bridge = field(repr=False)

    def call(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        return self.bridge.run(fn, *args, **kwargs)

    def drain(self) -> None:
        """Wait for the embedded reference's background work (notarization, webhooks)."""
        deployment = getattr(self.target, "deployment", None)
        if deployment is not None:
            self.call(deployment.drain)

    def close(self) -> None:
        try:
            self.drain()
            self.call(self.target.aclose)
        finally:
            self.bridge.close()


def default_opener() -> Opener:
    # Imported late: the target layer (and the reference it may embed) loads only when needed.
    from conformance.harness.target import open_target
    return open_target


def open_session(spec: str | None, *, seed: int, opener: Opener | None = None) -> Session:
    """Open the target `spec` ("reference"/None = embedded) on a fresh loop. Errors of the opener
    (a malformed target file: TargetError) propagate after the loop is shut down."""
    bridge = Bridge()
    try:
        target = bridge.run(opener or default_opener(), None if spec in (None, "reference") else spec,
                            seed=seed)
    except BaseException:
        bridge.close()
        raise
    return Session(target, bridge)

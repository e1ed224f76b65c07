"""What every operation shares: its result, its context, and the HTTP calls it makes.

An operation is `async def op(ctx: StepContext, inputs: Mapping) -> OperationResult`. It sends
every request through a `Calls` (so each lands in the report, timed and redacted, via
`conformance.exchange.record`) and ends with `calls.result(response, artefacts)`. A transport
failure never raises: the result has `status=None` and `error` says what happened.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from conformance.exchange import Exchange, parse_body, record

if TYPE_CHECKING:  # the harness types; this layer only reads them
    from conformance.harness.target import RoleEndpoint, Target


class InputError(ValueError):
    """An operation's `with:` inputs are wrong: names the input and what was expected."""


@dataclass
class OperationResult:
    """`body` is the parsed body of the main response, NOT redacted (later steps capture from it;
    the runner scrubs secret-named values from every report). `exchanges` are redacted."""
    status: int | None
    body: Any
    exchanges: list[Exchange] = field(default_factory=list)
    artefacts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


@dataclass
class StepContext:
    """One scenario's context. `state` is dialect-private memory across the scenario's steps
    (the holder session, the DIDs and keys it created, the last verifier session), so scenarios
    need not thread secrets through captures. `cleanups` undo run-wide changes (fault knobs)."""
    target: Target
    vars: dict[str, Any]
    rng: random.Random
    wallet: Any                      # conformance.wallet.HarnessWallet
    webhooks: Any = None             # conformance.harness.webhooks.WebhookReceiver | None
    state: dict[str, Any] = field(default_factory=dict)
    cleanups: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def endpoint(self, role: str) -> RoleEndpoint:
        roles = self.target.roles
        if role not in roles:
            raise InputError(f"target {self.target.name!r} has no {role} role (it has: {', '.join(roles) or 'none'})")
        return roles[role]

    def url(self, role: str, path: str) -> str:
        return self.endpoint(role).base_url.rstrip("/") + path

    def now(self) -> float:
        """The target's clock when the harness can read it (embedded reference), else ours."""
        deployment = self.target.deployment
        if deployment is not None:
            return float(deployment.clock.now())
        return time.time()

    async def aclose(self) -> None:
        """Run the cleanups, newest first; every one runs even if another fails."""
        errors = []
        while self.cleanups:
            try:
                await self.cleanups.pop()()
            except Exception as exc:  # noqa: BLE001 - reported after the others ran
                errors.append(exc)
        if errors:
            raise errors[0]


Operation = Callable[[StepContext, Mapping[str, Any]], Awaitable[OperationResult]]


class Calls:
    """The HTTP calls of one operation, recorded in order."""

    def __init__(self, ctx: StepContext) -> None:
        self.http: httpx.AsyncClient = ctx.target.http
        self.exchanges: list[Exchange] = []
        self.last_response: httpx.Response | None = None

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response | None:
        response, exchange = await record(self.http, method, url, **kwargs)
        self.exchanges.append(exchange)
        self.last_response = response
        return response

    @property
    def last_error(self) -> str | None:
        return self.exchanges[-1].error if self.exchanges else None

    def result(self, response: httpx.Response | None, artefacts: Mapping[str, Any] | None = None,
               *, error: str | None = None) -> OperationResult:
        """The result whose main response is `response` (None: the target did not answer)."""
        found = {k: v for k, v in (artefacts or {}).items() if v is not None}
        if response is None:
            return OperationResult(None, None, self.exchanges, found, error or self.last_error or "no response")
        return OperationResult(response.status_code, parse_body(response), self.exchanges, found, error)


def json_of(response: httpx.Response | None) -> Any:
    """The parsed body, or None (no response, empty or not JSON)."""
    if response is None or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def succeeded(response: httpx.Response | None) -> bool:
    return response is not None and 200 <= response.status_code < 300

"""What a wallet flow reports, and the small machine that runs a flow stage by stage.

A flow stops at the first answer it cannot go on with: a non-2xx response (the outcome is that
response), a 2xx response whose content breaks a rule the wallet checks (the outcome is that
response plus `artefacts["error"]`), or no answer at all (status None, `artefacts["error"]`).
Nothing is raised to the caller: a misbehaving target is a finding, not a crash.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypeVar

import httpx

from conformance.exchange import Recorder, Unreachable, parse_body
from conformance.protocol.errors import ProtocolError

T = TypeVar("T")


@dataclass(frozen=True)
class WalletOutcome:
    """status/body: the flow's final response (credential endpoint, response endpoint), or the
    response the flow stopped at; status None when the last call got no answer. stage: the last
    stage reached ("offer", "metadata", "token", "nonce", "credential" / "request", "response")."""

    status: int | None
    body: Any
    stage: str
    artefacts: dict[str, Any] = field(default_factory=dict)

    @property
    def error(self) -> str | None:
        """Why the wallet stopped although the last answer was 2xx (or absent), if it did."""
        return self.artefacts.get("error")

    @property
    def succeeded(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300


class Stopped(Exception):
    """Internal: the flow cannot go on; the Flow holds what to report."""


@dataclass
class Flow:
    send: Recorder
    stage: str
    artefacts: dict[str, Any] = field(default_factory=dict)
    last: httpx.Response | None = None

    async def call(self, stage: str, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request of `stage`; a non-2xx answer stops the flow with that answer."""
        self.stage = stage
        self.last = None
        self.last = await self.send.send(method, url, **kwargs)
        if not 200 <= self.last.status_code < 300:
            raise Stopped()
        return self.last

    def json(self, response: httpx.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            self.fail("not_json", f"{what}: the {response.status_code} answer of "
                      f"{response.request.url} is not JSON")

    def fail(self, reason: str, message: str) -> NoReturn:
        self.artefacts["error"] = f"{self.stage}: {message}"
        self.artefacts["error_reason"] = reason
        raise Stopped()

    def reject(self, exc: ProtocolError) -> NoReturn:
        self.fail(exc.reason, exc.message)

    def checked(self, parse: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """`parse(...)`, a protocol rule it finds broken stopping the flow."""
        try:
            return parse(*args, **kwargs)
        except ProtocolError as exc:
            self.reject(exc)

    def outcome(self) -> WalletOutcome:
        body = parse_body(self.last) if self.last is not None else None
        status = self.last.status_code if self.last is not None else None
        return WalletOutcome(status, body, self.stage, self.artefacts)


async def run(flow: Flow, steps: Awaitable[None]) -> WalletOutcome:
    """Drive `steps`; turn a stop or a dead target into the outcome."""
    try:
        await steps
    except Stopped:
        pass
    except Unreachable as exc:
        flow.last = None
        flow.artefacts["error"] = f"{flow.stage}: {exc}"
        flow.artefacts["error_reason"] = "unreachable"
    return flow.outcome()

"""One HTTP round trip as the harness records it, and the one function that makes it.

Every call the harness makes on a target (a dialect operation, the harness wallet, a raw HTTP
step) goes through `record`, so each appears in the report in the same shape: redacted, timed,
and with a transport failure summarised instead of raised.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.redact import redact

MAX_BODY_TEXT = 4000


@dataclass(frozen=True)
class Exchange:
    method: str
    url: str
    request_headers: dict[str, str]
    request_body: Any
    status: int | None
    response_headers: dict[str, str]
    response_body: Any
    elapsed_ms: float
    error: str | None


class Unreachable(Exception):
    """The target did not answer (connect error, timeout, protocol error)."""


async def record(http: httpx.AsyncClient, method: str, url: str,
                 **kwargs: Any) -> tuple[httpx.Response | None, Exchange]:
    """Send one request; never raises for transport trouble (the Exchange says what happened)."""
    started = time.perf_counter()
    response: httpx.Response | None = None
    error: str | None = None
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        error = f"timeout after {_timeout_of(http):g} s"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    elapsed = (time.perf_counter() - started) * 1000
    return response, Exchange(
        method=method, url=str(url),
        request_headers=redact(dict(kwargs.get("headers") or {})),
        request_body=redact(_request_body(kwargs)),
        status=response.status_code if response is not None else None,
        response_headers=redact(dict(response.headers)) if response is not None else {},
        response_body=redact(parse_body(response)) if response is not None else None,
        elapsed_ms=round(elapsed, 2), error=error)


@dataclass
class Recorder:
    """A client that remembers every exchange; `send` raises `Unreachable` instead of returning
    None so that multi-request flows (the wallet's) read straight through."""
    http: httpx.AsyncClient
    exchanges: list[Exchange] = field(default_factory=list)

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        response, exchange = await record(self.http, method, url, **kwargs)
        self.exchanges.append(exchange)
        if response is None:
            raise Unreachable(f"{method} {url}: {exchange.error}")
        return response


def parse_body(response: httpx.Response) -> Any:
    """JSON when it parses, else the (capped) text, None when empty."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        text = response.text
        return text if len(text) <= MAX_BODY_TEXT else text[:MAX_BODY_TEXT] + " …"


def _request_body(kwargs: dict[str, Any]) -> Any:
    if "json" in kwargs:
        return kwargs["json"]
    if "data" in kwargs:
        return dict(kwargs["data"])
    content = kwargs.get("content")
    if isinstance(content, bytes | str):
        text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
        try:
            return json.loads(text)
        except ValueError:
            return text[:MAX_BODY_TEXT]
    return None


def _timeout_of(http: httpx.AsyncClient) -> float:
    timeout = http.timeout
    return timeout.read or timeout.connect or 0.0

"""HTTP plumbing shared by the harness and the reference roles.

`Network` is a tiny in-process internet: an httpx transport that routes each request by its
host:port to a mounted ASGI app, so the reference roles can call each other (and the harness
can call them) with no sockets. A host that is not mounted, or that was switched off,
answers like a dead host: `httpx.ConnectError`.

Every client made here has a timeout and never follows redirects (webhooks must not, and a
conformance tool should see a redirect rather than silently chase it).
"""

from __future__ import annotations

from typing import Any

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def netloc(url: str) -> str:
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.host}:{port}"


class Network(httpx.AsyncBaseTransport):
    def __init__(self) -> None:
        self._apps: dict[str, httpx.ASGITransport] = {}
        self._down: set[str] = set()

    def mount(self, base_url: str, app: Any) -> None:
        # raise_app_exceptions=False: an app crash becomes a 500, as over a real socket.
        self._apps[netloc(base_url)] = httpx.ASGITransport(app=app, raise_app_exceptions=False)

    def unmount(self, base_url: str) -> None:
        self._apps.pop(netloc(base_url), None)
        self._down.discard(netloc(base_url))

    def set_reachable(self, base_url: str, reachable: bool) -> None:
        (self._down.discard if reachable else self._down.add)(netloc(base_url))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        port = request.url.port or (443 if request.url.scheme == "https" else 80)
        key = f"{request.url.host}:{port}"
        transport = self._apps.get(key)
        if transport is None or key in self._down:
            raise httpx.ConnectError(f"in-process network: no host at {key}", request=request)
        return await transport.handle_async_request(request)


def make_client(transport: httpx.AsyncBaseTransport | None = None,
                timeout: httpx.Timeout | float = DEFAULT_TIMEOUT) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=transport, timeout=timeout, follow_redirects=False)

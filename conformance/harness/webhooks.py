"""The harness's webhook receiver: where a deployment POSTs its callbacks during a scenario.

`await WebhookReceiver.start(target)` makes a receiver reachable from the target's deployment:

- the embedded reference (`target.deployment.network` set): a tiny ASGI app mounted on the
  in-process Network at a host of its own, `https://webhooks-<n>.local` (no socket). The scheme
  is https because the reference issuer, like the issuer seed's `callback_url`, takes https URLs
  (plain http for loopback hosts only, reference/issuer/offers.py); on the in-process network
  the scheme only picks the port, no TLS is involved.
- any other target: a uvicorn server on a real socket. The target file's `webhooks` section says
  where: `listen: host:port` (default 127.0.0.1 and a free port) and `public_url`, the receiver's
  URL as the deployment sees it (a tunnel, a container host name) when it is not the listen
  address. A deployment that, like the issuer seed, only calls https URLs needs a `public_url`
  on an https front (a loopback http URL is what the reference accepts).

Every call is recorded when it arrives (before any configured delay), with its headers
redacted. `respond(...)` changes the answer, for the fault scenarios of the issuer seed's
delivery semantics ("single attempt, no retries ... default timeout is 5 seconds ... does not
follow redirects", issuer seed, Step 3 · Webhook): a slow receiver, one that answers 500, one
that redirects.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.redact import redact

CALLBACK_PATH = "/callback"
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
MAX_TEXT = 4000
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
_hosts = itertools.count(1)


# --- what was received ---------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookCall:
    """One request the receiver got. `body` is the parsed JSON, else the (capped) text, None
    when empty; `received_at` is wall-clock seconds since the epoch."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: Any
    received_at: float

    def to_json(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "headers": dict(self.headers),
                "body": self.body, "received_at": self.received_at}


def _body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return redact(json.loads(raw))
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")[:MAX_TEXT]


# --- how it answers --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """The receiver's answer: `status` after `delay` seconds; `redirect_to` sets Location (use a
    3xx status with it)."""

    status: int = 200
    delay: float = 0.0
    redirect_to: str | None = None

    def __post_init__(self) -> None:
        if not 200 <= self.status <= 599:
            raise ValueError(f"webhook reply status {self.status} must be within 200-599")
        if self.delay < 0:
            raise ValueError(f"webhook reply delay {self.delay} must not be negative")
        if self.redirect_to is not None and not 300 <= self.status < 400:
            raise ValueError("webhook reply redirect_to needs a 3xx status")

    def response(self) -> Response:
        if self.redirect_to is not None:
            return Response(status_code=self.status, headers={"Location": self.redirect_to})
        return JSONResponse({"received": True} if self.status < 400 else {"error": "receiver "
                            "told to fail"}, status_code=self.status)


# --- where it listens --------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookSettings:
    """The `webhooks` section of a target file: `listen: "host:port"` (port 0 = a free one) and
    `public_url` (the receiver's URL as the deployment reaches it; default: the listen address,
    path /callback)."""

    listen_host: str = "127.0.0.1"
    listen_port: int = 0
    public_url: str | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any] | None, where: str = "webhooks") -> WebhookSettings:
        """Raises ValueError naming the field when the section is malformed."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError(f"{where}: must be a mapping with `listen` and/or `public_url`")
        unknown = set(data) - {"listen", "public_url"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} (known: "
                             "listen, public_url)")
        host, port = _host_port(data.get("listen", "127.0.0.1:0"), f"{where}.listen")
        public_url = data.get("public_url")
        if public_url is not None:
            parts = urlsplit(str(public_url))
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError(f"{where}.public_url: must be an absolute http(s) URL, got "
                                 f"{public_url!r}")
        return cls(host, port, public_url)


def _host_port(value: Any, where: str) -> tuple[str, int]:
    text = str(value)
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")  # "[::1]:8000"
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{where}: must be host:port with a port in 0-65535 (0: any free "
                         f"port), got {text!r}")
    return host, int(port)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket (SO_REUSEADDR, so a restart reuses a port in TIME_WAIT, yet a port
    another process listens on fails with EADDRINUSE), with TCP_NODELAY: uvicorn writes headers
    and body separately, and with Nagle's algorithm each response would wait for the client's
    delayed ACK (~40 ms a request instead of ~3 ms). Accepted sockets inherit it (Linux)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.create_server((host, port), family=family)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _SignalFreeServer(uvicorn.Server):
    """uvicorn takes SIGINT/SIGTERM over while it serves; here the caller owns signals (the
    harness run, `conformance serve`), so several servers can share one loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class AppServer:
    """One ASGI app served by uvicorn on an already bound socket, as a task of the running loop."""

    def __init__(self, app: Any, sock: socket.socket, *, log_level: str = "warning",
                 access_log: bool = False, graceful_timeout: float = 2.0) -> None:
        self.socket = sock
        # log_config=None: uvicorn logs through the caller's logging setup, never replaces it.
        config = uvicorn.Config(app, log_config=None, log_level=log_level, access_log=access_log,
                                lifespan="off", timeout_graceful_shutdown=graceful_timeout)
        self._server = _SignalFreeServer(config)
        self._task: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        return int(self.socket.getsockname()[1])

    async def start(self, timeout: float = 5.0) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._server.serve(sockets=[self.socket]), name=f"uvicorn :{self.port}")
        async with asyncio.timeout(timeout):
            while not self._server.started:
                if self._task.done():
                    self._task.result()  # raises what stopped it
                    raise RuntimeError(f"the server on port {self.port} stopped while starting")
                await asyncio.sleep(0.005)

    def request_stop(self) -> None:
        self._server.should_exit = True

    async def stop(self) -> None:
        self.request_stop()
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)
        self.socket.close()


class _Listener(Protocol):
    url: str

    async def aclose(self) -> None: ...


@dataclass
class _InProcess:
    network: Any
    base: str
    url: str

    @classmethod
    def mount(cls, network: Any, app: Any) -> _InProcess:
        base = f"https://webhooks-{next(_hosts)}.local"
        network.mount(base, app)
        return cls(network, base, base + CALLBACK_PATH)

    async def aclose(self) -> None:
        self.network.unmount(self.base)


@dataclass
class _OnSocket:
    server: AppServer
    url: str

    @classmethod
    async def open(cls, settings: WebhookSettings, app: Any) -> _OnSocket:
        server = AppServer(app, bind_socket(settings.listen_host, settings.listen_port))
        try:
            await server.start()
        except BaseException:
            await server.stop()
            raise
        # A wildcard listen address is no address to call: the deployment is told loopback.
        host = "127.0.0.1" if settings.listen_host in WILDCARD_HOSTS else settings.listen_host
        url = settings.public_url or http_url(host, server.port) + CALLBACK_PATH
        return cls(server, url)

    async def aclose(self) -> None:
        await self.server.stop()


# --- the receiver ------------------------------------------------------------------------------


@dataclass
class WebhookReceiver:
    """`url`: where the deployment should send callbacks; `calls`: what arrived, oldest first."""

    url: str = ""
    calls: list[WebhookCall] = field(default_factory=list)
    reply: Reply = field(default_factory=Reply)
    _listener: _Listener | None = field(default=None, repr=False)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    _closing: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @classmethod
    async def start(cls, target: Any, *, reply: Reply | None = None,
                    settings: WebhookSettings | Mapping[str, Any] | None = None) -> WebhookReceiver:
        """In-process when the target is the embedded reference, else on a socket per
        `settings` (default: `target.webhooks`, then 127.0.0.1 and a free port)."""
        receiver = cls(reply=reply or Reply())
        network = getattr(getattr(target, "deployment", None), "network", None)
        if network is not None:
            receiver._listener = _InProcess.mount(network, receiver.app())
        else:
            receiver._listener = await _OnSocket.open(
                _settings(settings if settings is not None else getattr(target, "webhooks", None)),
                receiver.app())
        receiver.url = receiver._listener.url
        return receiver

    def respond(self, *, status: int = 200, delay: float = 0.0,
                redirect_to: str | None = None) -> None:
        """How to answer from now on (a slow, failing or redirecting receiver)."""
        self.reply = Reply(status, delay, redirect_to)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{path:path}", self._handle, methods=METHODS)])

    async def _handle(self, request: Request) -> Response:
        self.calls.append(WebhookCall(
            method=request.method, path=request.url.path,
            headers=redact(dict(request.headers)), body=_body(await request.body()),
            received_at=time.time()))
        self._arrived.set()
        reply = self.reply
        if reply.delay:
            with contextlib.suppress(TimeoutError):
                # Closing the receiver releases a slow answer at once.
                await asyncio.wait_for(self._closing.wait(), reply.delay)
        if self._closing.is_set():
            return JSONResponse({"error": "receiver closed"}, status_code=503)
        return reply.response()

    async def wait_for(self, count: int, timeout: float) -> list[WebhookCall]:
        """The calls so far, once `count` have arrived or `timeout` seconds have passed."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self.calls) < count:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                break
        return list(self.calls)

    async def aclose(self) -> None:
        self._closing.set()
        if self._listener is not None:
            listener, self._listener = self._listener, None
            await listener.aclose()


def _settings(value: WebhookSettings | Mapping[str, Any] | None) -> WebhookSettings:
    if isinstance(value, WebhookSettings):
        return value
    return WebhookSettings.parse(value)

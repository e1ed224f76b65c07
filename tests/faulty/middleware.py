"""Tools to break one behaviour of a built reference deployment, without editing reference code.

Two ways in, both scoped to one deployment:
- `install(deployment, role, wrap)`: put ASGI middleware in front of a role's app and mount it on
  the deployment's in-process network at the role's base URL (every caller - the harness, the
  other roles - then reaches the faulty role exactly as it reached the real one);
- `patch(obj, name, make)`: replace one attribute (usually a bound method) of one service object
  with `make(original)`; the class, and every other deployment, keep the real behaviour.
  `Proxy(real, name=...)` stands in for a collaborator with one member changed.

Middleware builders: `rewrite_response(app, method, path, edit)` edits a response's status and
body (and keeps Content-Length right), `rewrite_body` / `rewrite_json` its (JSON) body,
`rewrite_headers` its headers; `answer_instead(app, when, status, body)` answers without calling
the app. `resign(key, jwt, edit)` re-signs an Issuer-signed JWT with the deployment's own issuer
key after editing its payload, so a broken credential still carries a valid signature and only
the broken property shows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from conformance.protocol.errors import JoseError
from conformance.protocol.jose import PrivateKey, b64u_decode, b64u_encode, json_from_b64u, parse_jws, sign_jws

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Edit = Callable[[Any, Scope], Any]   # (parsed JSON body, request scope) -> new body


class Wrapped:
    """An ASGI app in front of another; `state` stays the inner app's (services live there)."""

    def __init__(self, inner: Any, handler: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.inner, self._handler = inner, handler

    @property
    def state(self) -> Any:
        return self.inner.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handler(scope, receive, send)


def install(deployment: Any, role: str, wrap: Callable[[Any], Any]) -> None:
    """Replace `role`'s app by `wrap(app)` in the deployment and on its network."""
    if deployment.network is None:
        raise ValueError("faulty variants need the in-process reference (a network to mount on)")
    wrapped = wrap(deployment.apps[role])
    deployment.apps[role] = wrapped
    deployment.network.mount(deployment.urls[role], wrapped)


def patch(obj: Any, name: str, make: Callable[[Any], Any]) -> None:
    """`obj.name = make(obj.name)` on this one object (an instance attribute shadows the method)."""
    setattr(obj, name, make(getattr(obj, name)))


class Proxy:
    """`real` with some attributes replaced (`overrides`), every other one its own: what a
    service holds instead of one of its collaborators (a key store, a hasher, a fetcher)."""

    def __init__(self, real: Any, **overrides: Any) -> None:
        self._real = real
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


def matches(scope: Scope, method: str, path: str) -> bool:
    """An HTTP request with this method whose path fully matches the regex `path`."""
    return (scope.get("type") == "http" and scope.get("method") == method
            and re.fullmatch(path, scope.get("path", "")) is not None)


# --- response rewriting -------------------------------------------------------------------------

def rewrite_response(app: Any, method: str, path: str,
                     edit: Callable[[int, bytes, Scope], tuple[int, bytes]]) -> Wrapped:
    """Answer requests matching (method, path) with `edit(status, body, scope)` -> (status, body)
    instead of what the app answered (headers kept, Content-Length recomputed)."""
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if not matches(scope, method, path):
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        status, body = edit(start["status"], body, scope)
        await _replay(send, {**start, "status": status}, body)
    return Wrapped(app, handler)


def rewrite_body(app: Any, method: str, path: str, edit: Callable[[bytes, Scope], bytes], *,
                 statuses: range = range(200, 600)) -> Wrapped:
    """`edit(body, scope)` instead of the body the app gave, when its status is in `statuses`."""
    def edit_body(status: int, body: bytes, scope: Scope) -> tuple[int, bytes]:
        return status, edit(body, scope) if status in statuses else body
    return rewrite_response(app, method, path, edit_body)


def rewrite_json(app: Any, method: str, path: str, edit: Edit, *, statuses: range = range(200, 600)) -> Wrapped:
    """`rewrite_body` for JSON bodies: `edit(parsed body, scope)`; a body that is not JSON passes."""
    def edit_json(body: bytes, scope: Scope) -> bytes:
        parsed = _json(body)
        return body if parsed is None else json.dumps(edit(parsed, scope)).encode()
    return rewrite_body(app, method, path, edit_json, statuses=statuses)


def rewrite_headers(app: Any, method: str, path: str, edit: Callable[[dict[str, str]], dict[str, str]]) -> Wrapped:
    """Answer requests matching (method, path) with the response headers `edit(headers)`."""
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if not matches(scope, method, path):
            await app(scope, receive, send)
            return
        start, body = await _collect(app, scope, receive)
        headers = edit({k.decode("latin-1"): v.decode("latin-1") for k, v in start.get("headers", [])})
        start = {**start, "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]}
        await _replay(send, start, body)
    return Wrapped(app, handler)


def answer_instead(app: Any, when: Callable[[Scope], bool], status: int, body: bytes,
                   content_type: str = "application/json") -> Wrapped:
    """Requests for which `when(scope)` holds get this answer; the app never sees them."""
    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") == "http" and when(scope):
            await _replay(send, {"type": "http.response.start", "status": status,
                                 "headers": [(b"content-type", content_type.encode())]}, body)
        else:
            await app(scope, receive, send)
    return Wrapped(app, handler)


def header(scope: Scope, name: str) -> str | None:
    wanted = name.lower().encode()
    return next((v.decode("latin-1") for k, v in scope.get("headers", []) if k.lower() == wanted), None)


async def _collect(app: Any, scope: Scope, receive: Receive) -> tuple[Message, bytes]:
    """Run the app to the end and keep its answer: the start message and the whole body."""
    start: Message = {}
    chunks: list[bytes] = []

    async def keep(message: Message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, keep)
    return start, b"".join(chunks)


def _json(body: bytes) -> Any:
    """The parsed body, or None when it is not JSON (whatever its media type says: DID
    resolution answers application/did-resolution, a JSON body)."""
    try:
        return json.loads(body) if body else None
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


async def _replay(send: Send, start: Message, body: bytes) -> None:
    # The body may have changed size: Content-Length is recomputed, every other header kept.
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": start["status"], "headers": headers})
    await send({"type": "http.response.body", "body": body})


# --- credentials --------------------------------------------------------------------------------

def issued_credential(body: Any) -> str | None:
    """The compact SD-JWT of an OID4VCI Credential Response (§8.3), if there is one."""
    try:
        credential = body["credentials"][0]["credential"]
    except (KeyError, IndexError, TypeError):
        return None
    return credential if isinstance(credential, str) else None


def with_credential(body: Any, credential: str) -> Any:
    body["credentials"][0]["credential"] = credential
    return body


def split_sd_jwt(sd_jwt: str) -> tuple[str, str]:
    """(Issuer-signed JWT, the rest from the first '~' on)."""
    jwt, separator, rest = sd_jwt.partition("~")
    return jwt, separator + rest


def payload_of(jwt: str) -> dict[str, Any]:
    return json_from_b64u(jwt.split(".")[1], "issuer_jwt.payload")


def flip_signature(jwt: str) -> str:
    """The same JWT with one bit of its signature flipped: well formed, never valid."""
    head, payload, signature = jwt.split(".")
    raw = bytearray(b64u_decode(signature, "signature"))
    raw[len(raw) // 2] ^= 0x01
    return f"{head}.{payload}.{b64u_encode(bytes(raw))}"


def resign(key: PrivateKey, jwt: str, edit: Callable[[dict[str, Any]], dict[str, Any]]) -> str | None:
    """`jwt` with `edit(payload)` as payload, signed again by `key` under the same protected
    header; None when `jwt` was not signed by `key` (another issuer's JWT is left alone)."""
    try:
        jws = parse_jws(jwt).verify_with(key.public)
    except JoseError:
        return None
    fields = {k: v for k, v in jws.header.items() if k != "alg"}
    return sign_jws(fields, edit(dict(jws.payload)), key)


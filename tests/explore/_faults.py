"""Deliberately faulty variants of the reference roles, for proving the explorer's checks can fail.

Each variant wraps one role app in ASGI middleware and is mounted in place of the real one on the
embedded reference's in-process network, so the harness reaches the faulty role exactly as it
reaches the real one.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from conformance import cli
from conformance.harness import target as target_module

App = Callable[..., Awaitable[None]]
Wrapper = Callable[[App], App]
COMMANDS = ("conformance.cli.fuzz_cmd", "conformance.cli.explore_cmd")


def registered(monkeypatch: Any) -> None:
    """The CLI with the explorer's commands registered (the lead adds them to COMMANDS)."""
    monkeypatch.setattr(cli, "COMMANDS", tuple(dict.fromkeys((*cli.COMMANDS, *COMMANDS))))


def with_faulty_role(monkeypatch: Any, role: str, wrap: Wrapper) -> None:
    """`open_target` answers the embedded reference with `role` replaced by `wrap(app)`."""
    real = target_module.open_target

    async def open_target(spec: str | None, *, seed: int) -> Any:
        target = await real(spec, seed=seed)
        deployment = target.deployment
        deployment.network.mount(deployment.urls[role], wrap(deployment.apps[role]))
        return target

    monkeypatch.setattr(target_module, "open_target", open_target)


async def _answer(send: Any, status: int, body: bytes = b"", media_type: str = "application/json") -> None:
    headers = [(b"content-type", media_type.encode())] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _is(scope: dict[str, Any], method: str, path: str) -> bool:
    return scope["type"] == "http" and scope["method"] == method and scope["path"].startswith(path)


def broken_did_endpoints(app: App) -> App:
    """POST /v1/did crashes (500); GET /v1/did answers a body its schema forbids."""
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if _is(scope, "POST", "/v1/did") and scope["path"] == "/v1/did":
            await _answer(send, 500, b"Internal Server Error", "text/plain")
        elif _is(scope, "GET", "/v1/did") and scope["path"] == "/v1/did":
            await _answer(send, 200, json.dumps({"dids": "not-a-list"}).encode())
        else:
            await app(scope, receive, send)
    return wrapped


def forgetful_delete(app: App) -> App:
    """DELETE /v1/vc/{id} answers 204 but deletes nothing: the list keeps 'deleted' credentials."""
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if _is(scope, "DELETE", "/v1/vc/"):
            await _answer(send, 204)
        else:
            await app(scope, receive, send)
    return wrapped


def discloses_everything(app: App) -> App:
    """The presentation ignores the user's disclosure choice and reveals every claim."""
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not _is(scope, "POST", "/v1/oid4vp/presentation"):
            await app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = json.loads(body)
        for selection in request.get("selected_credentials", []):
            selection.pop("disclosed_claims", None)   # omitted = every selectively disclosable claim
        rewritten = json.dumps(request).encode()
        scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k != b"content-length"]
                 + [(b"content-length", str(len(rewritten)).encode())]}
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": rewritten, "more_body": False}

        await app(scope, replay, send)
    return wrapped


def hides_matches(app: App) -> App:
    """request-details answers with no matching credential, whatever the wallet holds."""
    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not _is(scope, "POST", "/v1/oid4vp/request-details"):
            await app(scope, receive, send)
            return
        parts: list[dict[str, Any]] = []
        await app(scope, receive, _collect(parts))
        start, body = parts[0], b"".join(p.get("body", b"") for p in parts[1:])
        if start["status"] == 200:
            details = json.loads(body)
            details["matching_credentials"] = []
            body = json.dumps(details).encode()
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        await send({**start, "headers": headers + [(b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
    return wrapped


def _collect(parts: list[dict[str, Any]]) -> Any:
    async def send(message: dict[str, Any]) -> None:
        parts.append(message)
    return send

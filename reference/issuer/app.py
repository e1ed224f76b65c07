"""The reference issuer's HTTP shape: the TCS management API (X-API-Key, tcs.py) and the OID4VCI
1.0 wire endpoints a wallet uses (wire.py), over the one engine (engine.py) that the other
surfaces (reference/eudiw, reference/orgwallet) share. Error rendering is decided here, once:
management errors in the seed's `{"error": {code, message, field}}` shape, wire errors in the
OAuth shape (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2) with the status from `OAUTH_STATUS`.

`app.state.issuer` is the engine (what another surface is built on and what `drain()` waits
for), `app.state.wire` the wire, `app.state.tcs` the TCS surface.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.errors import Oid4vciError
from conformance.protocol.oid4vci import oid4vci_error
from reference.common.body import json_object
from reference.common.clock import Clock
from reference.common.errors import error_handlers, oauth_description, tcs_body
from reference.common.store import Store
from reference.issuer.engine import IssuerEngine
from reference.issuer.metadata import (
    authorization_server_metadata,
    credential_issuer_metadata,
    jwt_vc_issuer_metadata,
)
from reference.issuer.openapi import openapi_document
from reference.issuer.settings import IssuerSettings
from reference.issuer.tcs import TcsService
from reference.issuer.wire import Wire

Handler = Callable[[Request], Awaitable[Response]]

# OAuth / OID4VCI error code -> HTTP status (RFC 6749 §5.2, RFC 6750 §3.1, OID4VCI §8.3.1.2,
# §9.3, §11.3: every other code is 400).
OAUTH_STATUS = {"invalid_client": 401, "invalid_token": 401}
NO_STORE = {"Cache-Control": "no-store"}


def engine_of(request: Request) -> IssuerEngine:
    engine: IssuerEngine = request.app.state.issuer
    engine.ensure_started()
    return engine


def tcs_of(request: Request) -> TcsService:
    engine_of(request)
    return request.app.state.tcs


def wire_of(request: Request) -> Wire:
    engine_of(request)
    return request.app.state.wire


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


async def _json_body(request: Request) -> Any:
    """The wire endpoints take JSON; an unreadable body reaches the service as None, so that
    the access token is checked first and the body rejected in the endpoint's own error code."""
    raw = await request.body()
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


# --- TCS management API ----------------------------------------------------------------------


async def create_offer(request: Request) -> Response:
    service = tcs_of(request)
    tenant = service.authenticate(request.headers.get("x-api-key"))
    body = await json_object(request)
    return _json(await service.create_offer(tenant, body), 201)


async def offer_credentials(request: Request) -> Response:
    service = tcs_of(request)
    tenant = service.authenticate(request.headers.get("x-api-key"))
    return _json(service.credential_records(tenant, request.path_params["offer_id"]))


async def credential_status(request: Request) -> Response:
    service = tcs_of(request)
    tenant = service.authenticate(request.headers.get("x-api-key"))
    body = await json_object(request)
    return _json(service.set_status(tenant, request.path_params["credential_id"], body))


# --- OID4VCI wire ----------------------------------------------------------------------------


async def credential_offer(request: Request) -> Response:
    return _json(wire_of(request).credential_offer(request.path_params["offer_id"]),
                 headers=NO_STORE)


def _identifier(request: Request) -> tuple[str, Any]:
    engine = engine_of(request)
    tenant_id = request.path_params.get("tenant")
    tenant = engine.tenant(tenant_id) if tenant_id else None
    return engine.issuer_identifier(tenant_id), tenant


async def issuer_metadata(request: Request) -> Response:
    identifier, tenant = _identifier(request)
    return _json(credential_issuer_metadata(engine_of(request).settings, identifier, tenant))


async def as_metadata(request: Request) -> Response:
    identifier, _ = _identifier(request)
    return _json(authorization_server_metadata(engine_of(request).settings, identifier))


async def vc_issuer_metadata(request: Request) -> Response:
    identifier, _ = _identifier(request)
    return _json(jwt_vc_issuer_metadata(engine_of(request).settings, identifier))


async def token(request: Request) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise oid4vci_error("invalid_request", "the Token Request is sent as "
                            "application/x-www-form-urlencoded (RFC 6749 §4.1.3)", "Content-Type",
                            "unsupported_content_type")
    try:
        params = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    except UnicodeDecodeError:
        raise oid4vci_error("invalid_request", "the Token Request body is not UTF-8",
                            None, "malformed_body") from None
    return _json(wire_of(request).token(params), headers=NO_STORE)


async def nonce(request: Request) -> Response:
    return _json(wire_of(request).nonce(), headers=NO_STORE)


async def credential(request: Request) -> Response:
    wire = wire_of(request)
    answer = await wire.credential(request.headers.get("authorization"), await _json_body(request))
    return _json(answer.body, answer.status, NO_STORE)


async def deferred_credential(request: Request) -> Response:
    wire = wire_of(request)
    answer = await wire.deferred_credential(request.headers.get("authorization"),
                                            await _json_body(request))
    return _json(answer.body, answer.status, NO_STORE)


async def notification(request: Request) -> Response:
    wire = wire_of(request)
    wire.notification(request.headers.get("authorization"), await _json_body(request))
    return Response(status_code=204)  # §11.2: 204 No Content is RECOMMENDED


async def status_list(request: Request) -> Response:
    token = await engine_of(request).status_list_token(request.path_params["list_id"])
    return Response(token, media_type="application/statuslist+jwt",
                    headers={"Cache-Control": "max-age=60"})


async def openapi(request: Request) -> Response:
    return _json(openapi_document(engine_of(request).settings.base_url))


# --- assembly ------------------------------------------------------------------------------


async def on_oid4vci_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Oid4vciError)
    body = {"error": exc.reason, "error_description": oauth_description(exc.message)}
    detail = getattr(exc, "detail", None)
    if detail and detail != exc.reason:
        body["error_detail"] = detail  # an extension: the finer reason, for conformance tools
    return _json(body, OAUTH_STATUS.get(exc.reason, 400), NO_STORE)


ROUTES: list[tuple[str, Handler, list[str]]] = [
    ("/v1/offers", create_offer, ["POST"]),
    ("/v1/offers/{offer_id}", credential_offer, ["GET"]),
    ("/v1/offers/{offer_id}/credentials", offer_credentials, ["GET"]),
    ("/v1/credentials/{credential_id}/status", credential_status, ["POST"]),
    ("/v1/status-lists/{list_id}", status_list, ["GET"]),
    ("/.well-known/openid-credential-issuer", issuer_metadata, ["GET"]),
    ("/.well-known/openid-credential-issuer/{tenant}", issuer_metadata, ["GET"]),
    ("/.well-known/oauth-authorization-server", as_metadata, ["GET"]),
    ("/.well-known/oauth-authorization-server/{tenant}", as_metadata, ["GET"]),
    ("/.well-known/jwt-vc-issuer", vc_issuer_metadata, ["GET"]),
    ("/.well-known/jwt-vc-issuer/{tenant}", vc_issuer_metadata, ["GET"]),
    ("/token", token, ["POST"]),
    ("/nonce", nonce, ["POST"]),
    ("/credential", credential, ["POST"]),
    ("/deferred_credential", deferred_credential, ["POST"]),
    ("/notification", notification, ["POST"]),
    ("/openapi.json", openapi, ["GET"]),
]


def create_app(settings: IssuerSettings, *, store: Store, clock: Clock,
               http: httpx.AsyncClient) -> Starlette:
    """`store` must carry the issuer schema (`reference.issuer.store.open_store`). The engine
    is `app.state.issuer`; `await app.state.issuer.drain()` waits for background work."""
    routes = [Route(path, handler, methods=methods) for path, handler, methods in ROUTES]
    handlers = {**error_handlers(tcs_body), Oid4vciError: on_oid4vci_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    engine = IssuerEngine(settings, store, clock, http)
    app.state.issuer = engine
    app.state.wire = Wire(engine)
    app.state.tcs = TcsService(engine)
    return app

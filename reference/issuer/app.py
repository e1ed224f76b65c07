"""The reference issuer's HTTP shape: the seed's management API (X-API-Key) and the OID4VCI 1.0
wire endpoints a wallet uses. Logic is in service.py; error rendering is decided here, once:
management errors in the seed's `{"error": {code, message, field}}` shape, wire errors in the
OAuth shape (RFC 6749 §5.2, OID4VCI 1.0 §8.3.1.2) with the status from `OAUTH_STATUS`.
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
from reference.common.errors import error_handlers, tcs_body
from reference.common.store import Store
from reference.issuer.metadata import (
    authorization_server_metadata,
    credential_issuer_metadata,
    jwt_vc_issuer_metadata,
)
from reference.issuer.openapi import openapi_document
from reference.issuer.service import IssuerService
from reference.issuer.settings import IssuerSettings

Handler = Callable[[Request], Awaitable[Response]]

# OAuth / OID4VCI error code -> HTTP status (RFC 6749 §5.2, RFC 6750 §3.1, OID4VCI §8.3.1.2).
OAUTH_STATUS = {"invalid_client": 401, "invalid_token": 401}
NO_STORE = {"Cache-Control": "no-store"}
# OID4VCI §8.3.1.2 / RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E only.
_DESCRIPTION_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def service_of(request: Request) -> IssuerService:
    service: IssuerService = request.app.state.issuer
    service.ensure_started()
    return service


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


# --- management API ------------------------------------------------------------------------


async def create_offer(request: Request) -> Response:
    service = service_of(request)
    tenant = service.authenticate(request.headers.get("x-api-key"))
    body = await json_object(request)
    return _json(await service.create_offer(tenant, body), 201)


async def offer_credentials(request: Request) -> Response:
    service = service_of(request)
    tenant = service.authenticate(request.headers.get("x-api-key"))
    return _json(service.credential_records(tenant, request.path_params["offer_id"]))


async def credential_status(request: Request) -> Response:
    service = service_of(request)
    tenant = service.authenticate(request.headers.get("x-api-key"))
    body = await json_object(request)
    return _json(service.set_status(tenant, request.path_params["credential_id"], body))


# --- OID4VCI wire --------------------------------------------------------------------------


async def credential_offer(request: Request) -> Response:
    return _json(service_of(request).credential_offer(request.path_params["offer_id"]),
                 headers=NO_STORE)


def _identifier(request: Request) -> tuple[str, Any]:
    service = service_of(request)
    tenant_id = request.path_params.get("tenant")
    tenant = service.tenant(tenant_id) if tenant_id else None
    return service.issuer_identifier(tenant_id), tenant


async def issuer_metadata(request: Request) -> Response:
    identifier, tenant = _identifier(request)
    return _json(credential_issuer_metadata(service_of(request).settings, identifier, tenant))


async def as_metadata(request: Request) -> Response:
    identifier, _ = _identifier(request)
    return _json(authorization_server_metadata(service_of(request).settings, identifier))


async def vc_issuer_metadata(request: Request) -> Response:
    identifier, _ = _identifier(request)
    return _json(jwt_vc_issuer_metadata(service_of(request).settings, identifier))


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
    return _json(service_of(request).token(params), headers=NO_STORE)


async def nonce(request: Request) -> Response:
    return _json(service_of(request).nonce(), headers=NO_STORE)


async def credential(request: Request) -> Response:
    service = service_of(request)
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None  # the service checks the access token first, then rejects the body
    result = await service.credential(request.headers.get("authorization"), body)
    return _json(result, headers=NO_STORE)


async def status_list(request: Request) -> Response:
    token = await service_of(request).status_list_token(request.path_params["list_id"])
    return Response(token, media_type="application/statuslist+jwt",
                    headers={"Cache-Control": "max-age=60"})


async def openapi(request: Request) -> Response:
    return _json(openapi_document(service_of(request).settings.base_url))


# --- assembly ------------------------------------------------------------------------------


async def on_oid4vci_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Oid4vciError)
    body = {"error": exc.reason, "error_description": _ascii(exc.message)}
    detail = getattr(exc, "detail", None)
    if detail and detail != exc.reason:
        body["error_detail"] = detail  # an extension: the finer reason, for conformance tools
    return _json(body, OAUTH_STATUS.get(exc.reason, 400), NO_STORE)


def _ascii(message: str) -> str:
    text = message.replace("§", "section ")
    return "".join(c if c in _DESCRIPTION_CHARS else "'" if c == '"' else "?" for c in text)


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
    ("/openapi.json", openapi, ["GET"]),
]


def create_app(settings: IssuerSettings, *, store: Store, clock: Clock,
               http: httpx.AsyncClient) -> Starlette:
    """`store` must carry the issuer schema (`reference.issuer.store.open_store`). The service
    is `app.state.issuer`; `await app.state.issuer.drain()` waits for background work."""
    routes = [Route(path, handler, methods=methods) for path, handler, methods in ROUTES]
    handlers = {**error_handlers(tcs_body), Oid4vciError: on_oid4vci_error}
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.issuer = IssuerService(settings, store, clock, http)
    return app

"""HTTP shape of the organisation-wallet API (organisation wallet seed): `Authorization: ApiKey
<key>` on every route but the document, errors in the seed's `{"errorCode", "errorDescription"}`
shape (errorCode is the HTTP status, as in the seed's example). The OID4VCI wire its offers
point at is the issuer engine's (reference.issuer.app).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference.common.body import json_object
from reference.common.clock import Clock
from reference.common.errors import error_handlers, orgwallet_body
from reference.common.store import Store
from reference.issuer.engine import IssuerEngine
from reference.orgwallet.openapi import BASE, HISTORY, openapi_document
from reference.orgwallet.service import OrgWalletService
from reference.orgwallet.settings import OrgWalletSettings

Handler = Callable[[Request], Awaitable[Response]]


def service_of(request: Request) -> OrgWalletService:
    service: OrgWalletService = request.app.state.service
    service.engine.ensure_started()
    service.authenticate(request.headers.get("authorization"))
    return service


async def issue(request: Request) -> Response:
    service = service_of(request)
    return JSONResponse(await service.issue(await json_object(request)))


async def history(request: Request) -> Response:
    service = service_of(request)
    return JSONResponse(service.history(request.path_params["exchange_id"]))


async def issue_deferred(request: Request) -> Response:
    service = service_of(request)
    body = await json_object(request)
    return JSONResponse(service.supply(request.path_params["exchange_id"], body))


async def deny(request: Request) -> Response:
    service = service_of(request)
    body = await json_object(request)
    return JSONResponse(service.deny(request.path_params["exchange_id"], body))


async def revocation(request: Request) -> Response:
    service = service_of(request)
    body = await json_object(request)
    return JSONResponse(service.revocation(request.path_params["exchange_id"], body))


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(request.app.state.service.settings.base_url))


ROUTES: list[tuple[str, Handler, list[str]]] = [
    (f"{BASE}/credential/issue", issue, ["POST"]),
    (HISTORY, history, ["GET"]),
    (f"{HISTORY}/issue-deferred", issue_deferred, ["POST"]),
    (f"{HISTORY}/deny", deny, ["POST"]),
    (f"{HISTORY}/revocation", revocation, ["PUT"]),
    ("/openapi.json", openapi, ["GET"]),
]


def create_app(settings: OrgWalletSettings, *, store: Store, clock: Clock,
               http: httpx.AsyncClient, engine: IssuerEngine) -> Starlette:
    """`store` carries the organisation-wallet schema (`reference.orgwallet.store.open_store`);
    `engine` is the issuer's (`issuer_app.state.issuer`). `http` is unused (this surface makes
    no outgoing calls) and kept for the uniform role signature. The service is
    `app.state.service`."""
    routes = [Route(path, handler, methods=methods) for path, handler, methods in ROUTES]
    app = Starlette(routes=routes, exception_handlers=error_handlers(orgwallet_body))
    app.state.service = OrgWalletService(settings, store, clock, engine)
    return app

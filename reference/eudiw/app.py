"""HTTP shape of the EUDIW-connector management API (EUDIW connector seed): served on its own
base URL (the seed's internal management port), apart from the OID4VCI wire, which is the
issuer engine's (reference.issuer.app). Errors answer `{"error", "error_description"}` with the
seed's snake_case codes (`unknown_credential_configuration`, ...) and, for a bad body member,
`field` naming it.
"""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference.common.body import json_object
from reference.common.clock import Clock
from reference.common.errors import ApiError, error_handlers
from reference.common.store import Store
from reference.eudiw.openapi import openapi_document
from reference.eudiw.service import EudiwService
from reference.eudiw.settings import EudiwSettings
from reference.issuer.engine import IssuerEngine


def connector_body(err: ApiError) -> dict[str, Any]:
    body: dict[str, Any] = {"error": err.code, "error_description": err.message}
    if err.field:
        body["field"] = err.field
    return body


def service_of(request: Request) -> EudiwService:
    service: EudiwService = request.app.state.service
    service.ensure_started()
    service.authenticate(request.headers.get("x-api-key"))
    return service


async def create_offer(request: Request) -> Response:
    service = service_of(request)
    body = await json_object(request)
    return JSONResponse(await service.create_offer(body), status_code=201)


async def get_offer(request: Request) -> Response:
    return JSONResponse(service_of(request).session(request.path_params["offer_id"]))


async def openapi(request: Request) -> Response:
    service: EudiwService = request.app.state.service
    return JSONResponse(openapi_document(service.settings.base_url,
                                         service.settings.api_key is not None))


ROUTES = [
    Route("/offers", create_offer, methods=["POST"]),
    Route("/offers/{offer_id}", get_offer, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
]


def create_app(settings: EudiwSettings, *, store: Store, clock: Clock, http: httpx.AsyncClient,
               engine: IssuerEngine) -> Starlette:
    """`store` carries the EUDIW schema (`reference.eudiw.store.open_store`); `engine` is the
    issuer's (`issuer_app.state.issuer`), whose wire the offers point at. The service is
    `app.state.service`; `await app.state.service.drain()` settles expiries and callbacks."""
    app = Starlette(routes=ROUTES, exception_handlers=error_handlers(connector_body))
    app.state.service = EudiwService(settings, store, clock, http, engine)
    return app

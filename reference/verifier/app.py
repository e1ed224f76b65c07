"""HTTP shape of the verifier service (shared/seeds/004).

Management API (`X-API-Key`, errors `{"error": {"code", "message"}}`):
    POST /v1/verifier/authorization-request        create a session (201)
    GET  /v1/verifier/result/{session_id}          poll its result
Wallet-facing OID4VP 1.0 endpoints (no API key; errors `{"error", "error_description"}`):
    GET|POST /v1/verifier/request/{session_id}     the signed Request Object (RFC 9101 §5.2; POST with a
                                                   wallet_nonce: OID4VP 1.0 §5.10.1)
    POST /v1/verifier/presentation/{session_id}    the response_uri (direct_post / direct_post.jwt)

Request bodies are never logged: the create body carries `verifier_private_key`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from reference.common.body import json_object, parse_uuid
from reference.common.clock import Clock
from reference.common.errors import ApiError, error_handlers, tcs_body
from reference.common.store import Store
from reference.verifier.openapi import openapi_document
from reference.verifier.service import VerifierService, oauth_error
from reference.verifier.settings import VerifierSettings

JAR_MEDIA_TYPE = "application/oauth-authz-req+jwt"
_NO_STORE = {"Cache-Control": "no-store"}


def create_app(settings: VerifierSettings, *, store: Store, clock: Clock, http: httpx.AsyncClient) -> Starlette:
    service = VerifierService(settings, store, clock, http)
    routes = _Routes(service)
    app = Starlette(routes=[
        Route("/v1/verifier/authorization-request", routes.create, methods=["POST"]),
        Route("/v1/verifier/request/{session_id}", routes.request_object, methods=["GET", "POST"]),
        Route("/v1/verifier/presentation/{session_id}", routes.presentation, methods=["POST"]),
        Route("/v1/verifier/result/{session_id}", routes.result, methods=["GET"]),
        Route("/openapi.json", routes.openapi, methods=["GET"]),
    ], exception_handlers=error_handlers(tcs_body))
    app.state.service = service
    return app


def _wire_session_id(request: Request) -> str:
    # An id that cannot exist is "unknown" to the wallet, in the OAuth error shape.
    raw = request.path_params["session_id"]
    try:
        return parse_uuid(raw, "session_id")
    except ApiError:
        raise oauth_error(404, "invalid_request", "no such session") from None


async def _params(request: Request) -> Mapping[str, Any]:
    """OID4VP 1.0 §8.2: application/x-www-form-urlencoded (UTF-8). A JSON object is accepted too,
    as the seed shows `{"verification_mode": "run_all"}` in the body of the presentation POST."""
    raw = await request.body()
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        if content_type == "application/json":
            data = json.loads(raw) if raw else {}
            if not isinstance(data, dict):
                raise ValueError("not an object")
            return data
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw))
    except (ValueError, UnicodeDecodeError):
        raise oauth_error(400, "invalid_request", "the body must be UTF-8 application/x-www-form-urlencoded "
                         "(OID4VP 1.0 §8.2) or a JSON object") from None
    names = [name for name, _ in pairs]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise oauth_error(400, "invalid_request", f"parameters repeated: {', '.join(repeated)}")
    return dict(pairs)


class _Routes:
    def __init__(self, service: VerifierService) -> None:
        self.service = service

    def _authenticate(self, request: Request) -> None:
        self.service.authenticate(request.headers.get("x-api-key"))

    async def create(self, request: Request) -> Response:
        self._authenticate(request)
        body = await json_object(request)
        return JSONResponse(await self.service.create(body), status_code=201, headers=_NO_STORE)

    async def request_object(self, request: Request) -> Response:
        session_id = _wire_session_id(request)
        wallet_nonce = None
        if request.method == "POST":
            # wallet_metadata is read but not used: formats and algorithms are fixed at creation.
            wallet_nonce = (await _params(request)).get("wallet_nonce")
        jar = self.service.request_object(session_id, wallet_nonce)
        return Response(jar, media_type=JAR_MEDIA_TYPE, headers=_NO_STORE)

    async def presentation(self, request: Request) -> Response:
        session_id = _wire_session_id(request)
        status, body = await self.service.receive(session_id, await _params(request))
        return JSONResponse(body, status_code=status, headers=_NO_STORE)

    async def result(self, request: Request) -> Response:
        self._authenticate(request)
        session_id = parse_uuid(request.path_params["session_id"], "session_id")
        return JSONResponse(self.service.result(session_id), headers=_NO_STORE)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document())

"""HTTP shape of the ledger: routes, wire forms, and the one reason -> status table.

Management routes answer errors as `{"error": {"code", "message", "field"?}}`; the resolver
route answers as a DID Resolution Result (W3C DID Resolution, HTTP(S) binding), errors included.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.errors import DidError, ProtocolError
from reference.common.body import Body, bad, json_object, parse_uuid
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError, error_handlers, tcs_body
from reference.common.store import Store
from reference.ledger.notary import MAX_DATA
from reference.ledger.openapi import openapi_document
from reference.ledger.service import LedgerService
from reference.ledger.settings import LedgerSettings
from reference.ledger.store import DidRecord, LedgerObject, NotarizationRequest

Handler = Callable[[Request], Awaitable[Response]]

# ProtocolError.reason -> HTTP status, for every management route. A reason missing here is a
# bug in this ledger (e.g. a stored document we cannot read), hence 500.
STATUS_BY_REASON = {
    "invalid_did": 400,
    "invalid_proof": 400,
    "unsupported_key_type": 400,
    "unsupported_network": 400,
    "method_not_supported": 400,
    "not_found": 404,
    "did_deactivated": 409,
}

# DidError.reason -> (status, didResolutionMetadata.error) on the resolver route
# (W3C DID Resolution, HTTP(S) binding; error names from DID Core 1.0 §7.1.2).
RESOLUTION_ERRORS = {
    "invalid_did": (400, "invalidDid"),
    "not_found": (404, "notFound"),
    "method_not_supported": (501, "methodNotSupported"),
}
RESOLUTION_MEDIA_TYPE = "application/did-resolution"
DID_DOCUMENT_MEDIA_TYPE = "application/did+ld+json"
FAULT_KNOBS = ("latency", "failure_rate", "available")


def ledger_of(request: Request) -> LedgerService:
    return request.app.state.ledger


# --- wire forms ---------------------------------------------------------------------------------


def did_time(ts: float) -> str:
    """DID Core 1.0 §7.1.3: created/updated are XML datetimes in UTC without sub-seconds."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def notarization_wire(req: NotarizationRequest) -> dict[str, Any]:
    return {"request_id": req.request_id, "status": req.status, "object_id": req.object_id,
            "error": req.error}


def object_wire(obj: LedgerObject, network: str) -> dict[str, Any]:
    return {"object_id": obj.object_id, "state": {"data": obj.data},
            "immutable_metadata": {"created_at": iso(obj.created_at), "method": obj.method},
            "network": network}


def did_metadata(record: DidRecord) -> dict[str, Any]:
    return {"created": did_time(record.created_at), "updated": did_time(record.updated_at),
            "deactivated": record.deactivated}


def did_wire(record: DidRecord) -> dict[str, Any]:
    return {"did": record.did, "didDocument": record.document,
            "didDocumentMetadata": did_metadata(record)}


# --- notarization -------------------------------------------------------------------------------


async def submit_notarization(request: Request) -> Response:
    body = await json_object(request)
    data = body.str("data", required=True, max_len=MAX_DATA)
    submitted = ledger_of(request).notary.submit(data)
    location = f"/v1/notarizations/{submitted.request_id}"
    return JSONResponse({"request_id": submitted.request_id, "status": submitted.status},
                        status_code=202, headers={"Location": location})


async def get_notarization(request: Request) -> Response:
    request_id = parse_uuid(request.path_params["request_id"], "request_id")
    return JSONResponse(notarization_wire(ledger_of(request).notary.request(request_id)))


async def get_object(request: Request) -> Response:
    ledger = ledger_of(request)
    obj = ledger.notary.object(request.path_params["object_id"])
    return JSONResponse(object_wire(obj, ledger.network))


# --- DID registry -------------------------------------------------------------------------------


def _proof(body: Body) -> str:
    # A proof is not a secret, but it is opaque: errors name the field, never echo the token.
    return body.secret("proof", required=True) or ""


async def create_did(request: Request) -> Response:
    body = await json_object(request)
    network = body.str("network", max_len=64)
    record = ledger_of(request).registry.create(_proof(body), network)
    return JSONResponse(did_wire(record), status_code=201)


async def update_did(request: Request) -> Response:
    body = await json_object(request)
    record = ledger_of(request).registry.update(request.path_params["did"], _proof(body))
    return JSONResponse(did_wire(record))


async def deactivate_did(request: Request) -> Response:
    body = await json_object(request)
    record = ledger_of(request).registry.deactivate(request.path_params["did"], _proof(body))
    return JSONResponse(did_wire(record))


async def resolve_did(request: Request) -> Response:
    try:
        record = ledger_of(request).registry.resolve(request.path_params["did"])
    except DidError as exc:
        if exc.reason not in RESOLUTION_ERRORS:
            raise
        status, error = RESOLUTION_ERRORS[exc.reason]
        return _resolution({"didDocument": None, "didResolutionMetadata": {"error": error},
                            "didDocumentMetadata": {}}, status)
    # DID Resolution, HTTP(S) binding: a deactivated DID answers 410 Gone, with the result.
    return _resolution({"didDocument": record.document,
                        "didResolutionMetadata": {"contentType": DID_DOCUMENT_MEDIA_TYPE},
                        "didDocumentMetadata": did_metadata(record)},
                       410 if record.deactivated else 200)


def _resolution(result: dict[str, Any], status: int) -> Response:
    return JSONResponse(result, status_code=status, media_type=RESOLUTION_MEDIA_TYPE)


# --- faults and the API description -------------------------------------------------------------


def _admin(request: Request) -> LedgerService:
    ledger = ledger_of(request)
    admin_key = ledger.settings.admin_key
    if admin_key is None:
        # Not configured = not there: the route does not exist for this deployment.
        raise ApiError(404, "not_found", f"{request.method} {request.url.path}: not found")
    given = request.headers.get("x-admin-key", "")
    if not hmac.compare_digest(given.encode(), admin_key.encode()):
        raise ApiError(401, "unauthorized", "X-Admin-Key is missing or wrong")
    return ledger


def _number(body: Body, key: str) -> float | None:
    value = body.data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise bad(key, "must be a number")
    return value


async def get_faults(request: Request) -> Response:
    return JSONResponse(_admin(request).faults.as_dict())


async def put_faults(request: Request) -> Response:
    ledger = _admin(request)
    body = await json_object(request)
    unknown = sorted(set(body.data) - set(FAULT_KNOBS))
    if unknown:
        raise bad(unknown[0], f"is not a fault knob (knobs: {', '.join(FAULT_KNOBS)})")
    ledger.faults.update(latency=_number(body, "latency"),
                         failure_rate=_number(body, "failure_rate"),
                         available=body.bool("available"))
    return JSONResponse(ledger.faults.as_dict())


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_document(ledger_of(request).settings.base_url))


# --- assembly -----------------------------------------------------------------------------------


def gated(handler: Handler) -> Handler:
    """The outage switch: while the ledger is off, the route answers 503."""
    async def route(request: Request) -> Response:
        ledger_of(request).faults.require_available()
        return await handler(request)
    return route


ROUTES = [
    ("/v1/notarizations", submit_notarization, ["POST"]),
    ("/v1/notarizations/{request_id}", get_notarization, ["GET"]),
    ("/v1/objects/{object_id}", get_object, ["GET"]),
    ("/v1/dids", create_did, ["POST"]),
    ("/v1/dids/{did}", update_did, ["PUT"]),
    ("/v1/dids/{did}/deactivate", deactivate_did, ["POST"]),
    ("/1.0/identifiers/{did}", resolve_did, ["GET"]),
    ("/openapi.json", openapi, ["GET"]),
]
ADMIN_ROUTES = [
    ("/v1/admin/faults", get_faults, ["GET"]),
    ("/v1/admin/faults", put_faults, ["PUT"]),
]


def _exception_handlers() -> dict[Any, Callable[..., Any]]:
    handlers = error_handlers(tcs_body)
    on_api_error = handlers[ApiError]

    async def on_protocol_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProtocolError)
        status = STATUS_BY_REASON.get(exc.reason, 500)
        return await on_api_error(request, ApiError(status, exc.reason, exc.message, exc.field))

    return {**handlers, ProtocolError: on_protocol_error}


def create_app(settings: LedgerSettings, *, store: Store, clock: Clock,
               http: httpx.AsyncClient | None = None) -> Starlette:
    """`store` must carry the ledger schema (`reference.ledger.store.open_store`). The ledger
    makes no outgoing calls; `http` is accepted for the common role signature only."""
    routes = [Route(path, gated(handler), methods=methods) for path, handler, methods in ROUTES]
    routes += [Route(path, handler, methods=methods) for path, handler, methods in ADMIN_ROUTES]
    handlers = _exception_handlers()
    app = Starlette(routes=routes, exception_handlers=handlers)
    app.state.ledger = LedgerService(settings, store, clock)
    return app

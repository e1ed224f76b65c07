"""HTTP shape of the holder service (shared/seeds/001): routes parse the body, call the service,
and render the seed's response shapes. Request bodies are never logged: two of them carry
private keys and two carry passwords.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.did import parse_did
from conformance.protocol.errors import ProtocolError
from reference.common.body import Body, bad, json_object, parse_uuid
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError, error_handlers, tcs_body
from reference.common.store import Store
from reference.holder.auth import MAX_PASSWORD_LENGTH
from reference.holder.accounts import MAX_NAME_LENGTH
from reference.holder.dids import did_json
from reference.holder.errors import from_protocol
from reference.holder.openapi import openapi_document
from reference.holder.present import VERIFICATION_MODES, Selection
from reference.holder.service import HolderService
from reference.holder.settings import HolderSettings

log = logging.getLogger("reference.holder")


def create_app(settings: HolderSettings, *, store: Store, clock: Clock,
               http: httpx.AsyncClient) -> Starlette:
    service = HolderService(settings, store, clock, http)
    routes = _Routes(service)
    app = Starlette(routes=[
        Route("/v1/user/register", routes.register, methods=["POST"]),
        Route("/v1/user/login", routes.login, methods=["POST"]),
        Route("/v1/did", routes.create_did, methods=["POST"]),
        Route("/v1/did", routes.list_dids, methods=["GET"]),
        Route("/v1/did/import", routes.import_did, methods=["POST"]),
        Route("/v1/did/{did}", routes.delete_did, methods=["DELETE"]),
        Route("/v1/oid4vci/offer-details", routes.offer_details, methods=["POST"]),
        Route("/v1/oid4vci/receive", routes.receive, methods=["POST"]),
        Route("/v1/vc", routes.list_credentials, methods=["GET"]),
        Route("/v1/vc/{id}", routes.get_credential, methods=["GET"]),
        Route("/v1/vc/{id}", routes.delete_credential, methods=["DELETE"]),
        Route("/v1/oid4vp/request-details", routes.request_details, methods=["POST"]),
        Route("/v1/oid4vp/presentation", routes.presentation, methods=["POST"]),
        Route("/openapi.json", routes.openapi, methods=["GET"]),
    ], exception_handlers=_exception_handlers())
    app.state.service = service
    return app


def _exception_handlers() -> dict[Any, Callable[..., Awaitable[Response]]]:
    """ApiErrors render in the seed's shape; a ProtocolError escaping the service (the caller's
    input breaking a spec rule) goes through the role's one reason table first."""
    handlers = error_handlers(tcs_body)
    on_api_error = handlers[ApiError]

    async def on_protocol_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProtocolError)
        return await on_api_error(request, from_protocol(exc))

    return {**handlers, ProtocolError: on_protocol_error}


class _Routes:
    def __init__(self, service: HolderService) -> None:
        self.service = service

    def _user(self, request: Request) -> str:
        return self.service.accounts.authenticate(request.headers.get("authorization"))

    # --- §1 users ----------------------------------------------------------------------------

    async def register(self, request: Request) -> Response:
        with _validation_failed():
            body = await json_object(request)
            name = body.str("name", required=True, max_len=MAX_NAME_LENGTH)
            password = _password(body)
            supplied = body.str("uuid")
            chosen = parse_uuid(supplied, "uuid") if supplied else None
        user = self.service.accounts.register(name, password, chosen)
        log.info("holder user registered: %s", user.uuid)
        return JSONResponse({"uuid": user.uuid, "name": user.name,
                             "created_at": iso(user.created_at)}, status_code=201)

    async def login(self, request: Request) -> Response:
        with _validation_failed():
            body = await json_object(request)
            user_uuid = parse_uuid(body.str("uuid", required=True), "uuid")
            password = _password(body)
        session = self.service.accounts.login(user_uuid, password)
        return JSONResponse({"access_token": session.access_token, "token_type": "Bearer",
                             "expires_in": session.expires_in,
                             "user": {"uuid": session.user.uuid, "name": session.user.name}})

    # --- §1 DIDs -----------------------------------------------------------------------------

    async def create_did(self, request: Request) -> Response:
        owner = self._user(request)
        body = await json_object(request)
        method = body.str("method", required=True, choices=tuple(self.service.dids.methods))
        row, private_key = await self.service.dids.create(owner, method)
        log.info("holder DID created: %s (user %s)", row.did, owner)
        return JSONResponse({**did_json(row), "private_key": private_key}, status_code=201)

    async def import_did(self, request: Request) -> Response:
        owner = self._user(request)
        body = await json_object(request)
        did = _did(body, "did")
        private_key = body.secret("private_key", required=True)
        row = await self.service.dids.import_(owner, did, private_key)
        log.info("holder DID imported: %s (user %s)", row.did, owner)
        return JSONResponse(did_json(row), status_code=201)

    async def list_dids(self, request: Request) -> Response:
        owner = self._user(request)
        return JSONResponse({"dids": [did_json(row) for row in self.service.dids.list(owner)]})

    async def delete_did(self, request: Request) -> Response:
        owner = self._user(request)
        did = request.path_params["did"]
        parse_did(did)
        self.service.dids.delete(owner, did)
        log.info("holder DID deleted locally: %s (user %s)", did, owner)
        return Response(status_code=204)

    # --- §2 receive --------------------------------------------------------------------------

    async def offer_details(self, request: Request) -> Response:
        self._user(request)
        body = await json_object(request)
        details = await self.service.receiver.offer_details(_offer_uri(body))
        return JSONResponse(details)

    async def receive(self, request: Request) -> Response:
        owner = self._user(request)
        body = await json_object(request)
        received = await self.service.receiver.receive(
            owner,
            offer_uri=_offer_uri(body),
            holder_did=_did(body, "holder_did"),
            private_key=body.secret("private_key", required=True),
            configuration_id=body.str("credential_configuration_id"),
            user_pin=body.secret("user_pin"),
            # The holder seed: "Whether to notarize the credential JWT on IOTA. Default true."
            notarize_on_iota=body.bool("notarize_on_iota") is not False,
        )
        log.info("credential received: %s (user %s)", received["credential_id"], owner)
        return JSONResponse(received, status_code=201)

    # --- §3 credentials ----------------------------------------------------------------------

    async def list_credentials(self, request: Request) -> Response:
        owner = self._user(request)
        return JSONResponse({"credentials": await self.service.wallet.list(owner)})

    async def get_credential(self, request: Request) -> Response:
        owner = self._user(request)
        credential_id = parse_uuid(request.path_params["id"], "id")
        return JSONResponse(await self.service.wallet.get(owner, credential_id))

    async def delete_credential(self, request: Request) -> Response:
        owner = self._user(request)
        credential_id = parse_uuid(request.path_params["id"], "id")
        self.service.wallet.delete(owner, credential_id)
        log.info("credential soft-deleted: %s (user %s)", credential_id, owner)
        return Response(status_code=204)

    # --- §4 present --------------------------------------------------------------------------

    async def request_details(self, request: Request) -> Response:
        owner = self._user(request)
        body = await json_object(request)
        uri = body.str("authorization_request_uri", required=True, max_len=8192)
        return JSONResponse(await self.service.presenter.request_details(owner, uri))

    async def presentation(self, request: Request) -> Response:
        owner = self._user(request)
        body = await json_object(request)
        result = await self.service.presenter.present(
            owner,
            authorization_request_uri=body.str("authorization_request_uri", required=True,
                                               max_len=8192),
            selections=_selections(body),
            holder_did=_did(body, "holder_did"),
            private_key=body.secret("private_key", required=True),
            verification_mode=body.str("verification_mode", choices=VERIFICATION_MODES),
        )
        log.info("presentation submitted (user %s)", owner)
        return JSONResponse(result)

    async def openapi(self, request: Request) -> Response:
        return JSONResponse(openapi_document(self.service.settings.base_url))


# --- body helpers ----------------------------------------------------------------------------


@contextmanager
def _validation_failed() -> Iterator[None]:
    """The seed's register and login tables call every 400 "Validation failed" (missing,
    malformed or against the policy): one code for all of them, the field still named."""
    try:
        yield
    except ApiError as exc:
        if exc.status != 400:
            raise
        raise ApiError(400, "validation_failed", exc.message, exc.field) from None


def _password(body: Body) -> str:
    password = body.secret("password", required=True)
    assert password is not None
    if len(password) > MAX_PASSWORD_LENGTH:
        raise bad("password", f"must be at most {MAX_PASSWORD_LENGTH} characters", "validation_failed")
    return password


def _did(body: Body, field: str) -> str:
    text = body.str(field, required=True, max_len=4096)
    assert text is not None
    try:
        return parse_did(text).did
    except ProtocolError as exc:
        raise ApiError(400, "invalid_did", exc.message, field) from None


def _offer_uri(body: Body) -> str:
    uri = body.str("credential_offer_uri", required=True, max_len=8192)
    assert uri is not None
    return uri


def _selections(body: Body) -> list[Selection]:
    raw = body.list("selected_credentials", required=True, non_empty=True) or []
    selections = []
    for position, item in enumerate(raw):
        if not isinstance(item, dict):
            raise bad(f"selected_credentials[{position}]", "must be a JSON object")
        entry = Body(item, f"selected_credentials[{position}].")
        claims = entry.list("disclosed_claims")
        if claims is not None and not all(isinstance(c, str) and c for c in claims):
            raise bad(f"selected_credentials[{position}].disclosed_claims",
                      "must be an array of claim names or dotted paths")
        selections.append(Selection(
            credential_id=parse_uuid(entry.str("credential_id", required=True) or "",
                                     f"selected_credentials[{position}].credential_id"),
            query_id=entry.str("query_id", required=True) or "",
            disclosed_claims=tuple(claims) if claims is not None else None,
        ))
    return selections

"""API errors and their one mapping to HTTP.

Services raise `ApiError(status, code, message, field)`. Each role picks the body style its
documents name; the handler renders it. Nothing else in a role builds an error response.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers


def tcs_body(err: ApiError) -> dict[str, Any]:
    """The seeds' management-API shape (verifier seed: `"error": {"code", "message"}`)."""
    error: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.field:
        error["field"] = err.field
    return {"error": error}


# RFC 6749 §5.2: error_description "MUST NOT include characters outside the set %x20-21 /
# %x23-5B / %x5D-7E" (printable ASCII without `"` and backslash). Messages cite clauses as "§5.2".
_OAUTH_SPELLED = {"\u00a7": "section ", '"': "'", "\\": "/"}
_OAUTH_ALLOWED = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


def oauth_description(message: str) -> str:
    """`message` within RFC 6749 §5.2's error_description charset: "§" spelled out, double quotes
    and backslashes turned into ' and /, any other character outside it (control characters,
    non-ASCII) replaced by "?". Every OAuth-shaped body of every role goes through here."""
    spelled = "".join(_OAUTH_SPELLED.get(ch, ch) for ch in message)
    return "".join(ch if ch in _OAUTH_ALLOWED else "?" for ch in spelled)


def oauth_body(err: ApiError) -> dict[str, Any]:
    """RFC 6749 §5.2 / OID4VCI 1.0 §8.3.1.2 shape: `error` + `error_description`."""
    return {"error": err.code, "error_description": oauth_description(err.message)}


def orgwallet_body(err: ApiError) -> dict[str, Any]:
    """The organisation wallet's documented shape: `errorCode` (the status) + `errorDescription`."""
    return {"errorCode": err.status, "errorDescription": err.message}


BodyStyle = Callable[[ApiError], dict[str, Any]]


class OAuthError(ApiError):
    """An error on an OAuth / OID4VCI / OID4VP wire endpoint: rendered in the OAuth shape."""


def error_handlers(style: BodyStyle) -> dict[Any, Callable[..., Any]]:
    async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        render = oauth_body if isinstance(exc, OAuthError) else style
        return JSONResponse(render(exc), status_code=exc.status, headers=exc.headers)

    async def on_not_found(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 404)
        code = "not_found" if status == 404 else "method_not_allowed" if status == 405 else "http_error"
        return JSONResponse(style(ApiError(status, code, f"{request.method} {request.url.path}: "
                                           f"{getattr(exc, 'detail', 'not found')}")),
                            # A 405 must keep its Allow header (RFC 9110 §15.5.6).
                            status_code=status, headers=getattr(exc, "headers", None))

    return {ApiError: on_api_error, 404: on_not_found, 405: on_not_found}

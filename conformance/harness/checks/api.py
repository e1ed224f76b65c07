"""Checks on the management APIs' HTTP shape (the seed documents' conventions)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.harness.exchanges import main_exchange

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;|$)", re.I)


@check("api.error_shape", spec="TCS verifier seed §Response (expired): error {code, message}",
       description="An error response (4xx/5xx) of a management API has the seeds' body "
                   "{\"error\": {\"code\": <snake_case>, \"message\": <text>}}.")
async def error_shape(ctx: CheckContext) -> CheckOutcome:
    status = ctx.result.status
    if status is None or status < 400:
        return CheckOutcome.skipped(f"not an error response (status {status})")
    body = ctx.result.body
    error = body.get("error") if isinstance(body, Mapping) else None
    expected = 'an object {"error": {"code": "<snake_case>", "message": "<text>"}}'
    if not isinstance(error, Mapping):
        return CheckOutcome.failed(body, expected, f"HTTP {status} body has no error object")
    code, message = error.get("code"), error.get("message")
    if not isinstance(code, str) or not _CODE.match(code):
        return CheckOutcome.failed(f"error.code = {code!r}", "a snake_case string", f"HTTP {status}")
    if not isinstance(message, str) or not message.strip():
        return CheckOutcome.failed(f"error.message = {message!r}", "a non-empty string", f"HTTP {status}")
    return CheckOutcome.passed(f"HTTP {status} error body {{code: {code!r}, message}}")


@check("api.json_content_type", spec="RFC 8259 §11; RFC 6838 §4.2.8 (+json)",
       description="The step's main response with a body is labelled application/json (or a +json type).")
async def json_content_type(ctx: CheckContext) -> CheckOutcome:
    exchange = main_exchange(ctx.result)
    if exchange is None:
        return CheckOutcome.skipped("the step got no HTTP response")
    if exchange.status == 204 or exchange.response_body in (None, ""):
        return CheckOutcome.skipped(f"{exchange.method} {exchange.url} answered {exchange.status} without a body")
    headers = {str(k).lower(): v for k, v in (exchange.response_headers or {}).items()}
    content_type = headers.get("content-type", "")
    if _JSON_TYPE.match(content_type):
        return CheckOutcome.passed(f"{exchange.method} {exchange.url}: Content-Type {content_type}")
    return CheckOutcome.failed(f"Content-Type {content_type or '(none)'}", "application/json",
                               f"{exchange.method} {exchange.url}")


@check("api.oauth_error_shape", spec="RFC 6749 §5.2; OID4VCI 1.0 §6.3, §8.3.1.2; OID4VP 1.0 §8.5",
       description="An error response of an OAuth / OID4VCI / OID4VP wire endpoint is "
                   "{\"error\": <ASCII error code>, \"error_description\"?: <text>}.")
async def oauth_error_shape(ctx: CheckContext) -> CheckOutcome:
    status = ctx.result.status
    if status is None or status < 400:
        return CheckOutcome.skipped(f"not an error response (status {status})")
    body = ctx.result.body
    error = body.get("error") if isinstance(body, Mapping) else None
    if not isinstance(error, str) or not _CODE.match(error):
        return CheckOutcome.failed(body, 'an object {"error": "<error_code>", "error_description": "..."}',
                                   f"HTTP {status}")
    description = body.get("error_description")
    if description is not None and (not isinstance(description, str) or not description.isascii()):
        return CheckOutcome.failed(f"error_description = {description!r}", "an ASCII string (RFC 6749 §5.2)")
    return CheckOutcome.passed(f"HTTP {status} OAuth error {error!r}")

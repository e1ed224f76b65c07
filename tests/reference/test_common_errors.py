"""The one edge where an API error becomes a body: OAuth-shaped bodies keep error_description
within RFC 6749 §5.2's charset (%x20-21 / %x23-5B / %x5D-7E), whatever the message says; the
management-API bodies keep the message as written."""

from __future__ import annotations

import re

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from reference.common.errors import ApiError, OAuthError, error_handlers, oauth_body, oauth_description, tcs_body

# RFC 6749 §5.2, error_description.
RFC6749_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")


def test_section_signs_are_spelled_out_and_other_characters_replaced() -> None:
    message = 'proof JWT: "nonce" \\ mismatch (OID4VCI 1.0 §8.2, RFC 9901 §7.1); expected «c_nonce»\n'
    assert oauth_description(message) == ("proof JWT: 'nonce' / mismatch (OID4VCI 1.0 section 8.2, "
                                          "RFC 9901 section 7.1); expected ?c_nonce??")


def test_allowed_text_is_unchanged() -> None:
    allowed = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')
    assert oauth_description(allowed) == allowed


@settings(max_examples=50, deadline=None)
@given(st.text())
def test_any_message_becomes_a_valid_error_description(message: str) -> None:
    description = oauth_description(message)
    assert RFC6749_DESCRIPTION.fullmatch(description)
    # One character in, one out, except "§" which is spelled out: nothing is silently dropped.
    assert len(description) == len(message) + message.count("§") * (len("section ") - 1)


def test_only_the_oauth_shape_is_sanitised() -> None:
    err = ApiError(400, "invalid_proof", "bad proof (OID4VCI 1.0 §8.2)", field="proofs")
    assert oauth_body(err) == {"error": "invalid_proof", "error_description": "bad proof (OID4VCI 1.0 section 8.2)"}
    assert tcs_body(err)["error"]["message"] == "bad proof (OID4VCI 1.0 §8.2)"


@pytest.mark.anyio
async def test_an_oauth_error_reaches_the_wire_within_the_charset() -> None:
    async def fail(request: Request) -> None:
        raise OAuthError(400, "invalid_request", 'tx_code "12§" is wrong (OID4VCI 1.0 §6.1)')

    app = Starlette(routes=[Route("/token", fail, methods=["POST"])], exception_handlers=error_handlers(tcs_body))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        response = await http.post("/token")
    assert response.status_code == 400
    body = response.json()
    assert body == {"error": "invalid_request",
                    "error_description": "tx_code '12section ' is wrong (OID4VCI 1.0 section 6.1)"}
    assert RFC6749_DESCRIPTION.fullmatch(body["error_description"])

"""One generated case as one HTTP request through the target's client, and as the report shows it.

schemathesis serialises the case (path, query, headers, body per media type); `requests` prepares
the exact bytes; the target's httpx client sends them - in-process for the embedded reference, over
the network otherwise - so a fuzzed request travels like every other harness request.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import requests

from conformance.explore.fuzz.auth import Credential
from conformance.explore.fuzz.results import SentRequest
from conformance.redact import REDACTED, redact

_REQUEST_ARGS = ("method", "url", "headers", "params", "data", "json", "files")
# Headers schemathesis adds for its own bookkeeping: not part of the API under test.
_BOOKKEEPING = {"x-schemathesis-testcaseid"}
MAX_BODY = 2000
# Generated data that cannot become an HTTP/1.1 request (raised before anything is sent).
UNSENDABLE = (httpx.LocalProtocolError, httpx.InvalidURL, httpx.UnsupportedProtocol,
              requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, UnicodeEncodeError)


@dataclass(frozen=True)
class PreparedCall:
    method: str
    url: str
    headers: dict[str, str] = field(repr=False)
    content: bytes | None
    credentials: tuple[Credential, ...] = ()


def prepare(case: Any, base_url: str, credentials: Sequence[Credential]) -> PreparedCall:
    kwargs = case.as_transport_kwargs(base_url=base_url)
    prepared = requests.Request(**{k: v for k, v in kwargs.items() if k in _REQUEST_ARGS and v is not None}).prepare()
    headers = {k: v for k, v in prepared.headers.items() if k.lower() not in _BOOKKEEPING | {"content-length"}}
    for credential in credentials:
        # The real credential replaces whatever value generation put in that header.
        headers = {k: v for k, v in headers.items() if k.lower() != credential.header.lower()}
        headers[credential.header] = credential.value
    body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
    return PreparedCall(str(prepared.method), str(prepared.url), headers, body, tuple(credentials))


async def send(http: httpx.AsyncClient, call: PreparedCall) -> httpx.Response:
    return await http.request(call.method, call.url, headers=call.headers, content=call.content)


def describe(call: PreparedCall) -> SentRequest:
    """The call with the injected credentials replaced and secret-named members redacted."""
    injected = {c.header.lower(): c for c in call.credentials}
    shown = {k: (REDACTED if k.lower() in injected else v) for k, v in call.headers.items()}
    shown = redact(shown)
    body = _body(call)
    curl_headers = {k: (_variable(injected[k.lower()]) if k.lower() in injected else v)
                    for k, v in redact(call.headers).items()}
    return SentRequest(call.method, call.url, shown, body,
                       _curl(call.method, call.url, curl_headers, body, set(injected)))


def _variable(credential: Credential) -> str:
    prefix = "Bearer " if credential.value.startswith("Bearer ") else ""
    return f"{prefix}${credential.variable}"


def _body(call: PreparedCall) -> Any:
    if not call.content:
        return None
    text = call.content.decode("utf-8", "replace")
    try:
        return redact(json.loads(text))
    except ValueError:
        return text if len(text) <= MAX_BODY else text[:MAX_BODY] + " …"


def _curl(method: str, url: str, headers: dict[str, str], body: Any, variables: set[str]) -> str:
    parts = ["curl", "-X", method, shlex.quote(url)]
    for name, value in headers.items():
        if name.lower() in ("user-agent", "accept-encoding", "connection", "accept"):
            continue
        header = f"{name}: {value}"
        # Double quotes let the shell expand the $VARIABLE credentials; the rest is quoted literally.
        parts += ["-H", f'"{header}"' if name.lower() in variables else shlex.quote(header)]
    if body is not None:
        parts += ["--data-raw", shlex.quote(body if isinstance(body, str) else json.dumps(body, ensure_ascii=False))]
    return " ".join(parts)

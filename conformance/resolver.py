"""Async DID resolution: did:key and did:jwk locally, did:iota through a ledger that speaks the
DIF Universal Resolver convention (`GET {ledger}/1.0/identifiers/{did}`).

The ledger answers 200 with a DID Resolution Result
`{"didDocument", "didResolutionMetadata", "didDocumentMetadata"}` (W3C DID Resolution §4;
DID Core §7.1), or an error status whose `didResolutionMetadata.error` names the problem
(`notFound`, `invalidDid`, `methodNotSupported`). Every failure is a `ResolutionError` with one
of the reasons in `REASONS`; the parsing and key selection rules live in `protocol/did.py`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import anyio
import httpx

from conformance.protocol.did import (
    LOCAL_METHODS,
    parse_did,
    parse_did_url,
    resolve_local,
    verification_key,
)
from conformance.protocol.errors import DidError
from conformance.protocol.jose import PublicKey

REASONS = {
    "did_not_found": "the ledger does not know the DID (404 / notFound)",
    "did_deactivated": "the DID exists but its document is deactivated",
    "resolver_unreachable": "no answer: connection error, timeout or 5xx",
    "resolver_not_configured": "a ledger DID was asked for but no ledger URL is configured",
    "invalid_did_document": "the answer is not a DID Resolution Result for the DID asked",
    "invalid_did": "the ledger rejected the DID as malformed (invalidDid)",
    "method_not_supported": "neither local resolution nor the ledger handles this DID method",
}
# DID Resolution error codes -> our reasons; anything else falls back to the HTTP status.
_ERROR_CODES = {"notFound": "did_not_found", "invalidDid": "invalid_did",
                "methodNotSupported": "method_not_supported", "deactivated": "did_deactivated"}
_STATUS_REASONS = {404: "did_not_found", 410: "did_deactivated", 400: "invalid_did",
                   501: "method_not_supported"}
_LEDGER_METHODS = frozenset({"iota"})
_ACCEPT = ('application/did-resolution, application/ld+json;profile="https://w3id.org/'
           'did-resolution";q=0.9, application/json;q=0.8')


class ResolutionError(DidError):
    """A DID could not be resolved to a usable document; `reason` is one of `REASONS`."""


class DidResolver:
    def __init__(self, http: httpx.AsyncClient, ledger_url: str | None,
                 timeout: float = 5.0) -> None:
        self._http = http
        self._ledger_url = ledger_url.rstrip("/") if ledger_url else None
        self._timeout = timeout

    async def resolve(self, did: str) -> dict[str, Any]:
        """The DID document of `did` (a DID, not a DID URL)."""
        parsed = parse_did(did)
        if parsed.method in LOCAL_METHODS:
            return resolve_local(parsed.did)
        if parsed.method in _LEDGER_METHODS:
            return await self._resolve_remote(parsed.did)
        raise ResolutionError("method_not_supported",
                              f"did:{parsed.method} is not resolvable here (local: "
                              f"{', '.join(sorted(LOCAL_METHODS))}; ledger: did:iota)", "did")

    async def key_for(self, did_url: str, relationship: str = "assertionMethod") -> PublicKey:
        """The public key named by `did_url` (or the DID's first `relationship` key)."""
        did, fragment = parse_did_url(did_url)
        document = await self.resolve(did.did)
        return verification_key(document, did_url if fragment else None, relationship)

    async def _resolve_remote(self, did: str) -> dict[str, Any]:
        if self._ledger_url is None:
            raise ResolutionError("resolver_not_configured",
                                  f"cannot resolve {did}: no ledger URL is configured", "did")
        url = f"{self._ledger_url}/1.0/identifiers/{quote(did, safe=':')}"
        try:
            # httpx timeouts are per phase; the overall deadline also bounds a slow-drip ledger.
            with anyio.fail_after(self._timeout):
                response = await self._http.get(url, headers={"Accept": _ACCEPT},
                                                timeout=self._timeout)
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise ResolutionError("resolver_unreachable", f"resolving {did}: the ledger at "
                                  f"{self._ledger_url} did not answer within {self._timeout}s",
                                  "did") from exc
        except httpx.TransportError as exc:
            raise ResolutionError("resolver_unreachable", f"resolving {did}: cannot reach the "
                                  f"ledger at {self._ledger_url}: {type(exc).__name__}",
                                  "did") from exc
        return _document_from(did, response)


def _json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _document_from(did: str, response: httpx.Response) -> dict[str, Any]:
    body = _json_body(response)
    if response.status_code != 200:
        raise _error_for(did, response.status_code, body)
    if not isinstance(body, dict) or not isinstance(body.get("didDocument"), dict):
        raise ResolutionError("invalid_did_document", f"resolving {did}: the ledger's 200 answer "
                              "is not a DID Resolution Result with a didDocument object",
                              "didDocument")
    metadata = body.get("didDocumentMetadata") or {}
    if isinstance(metadata, dict) and metadata.get("deactivated") is True:
        raise ResolutionError("did_deactivated", f"{did} is deactivated "
                              "(didDocumentMetadata.deactivated)", "did")
    document = body["didDocument"]
    if document.get("id") != did:
        raise ResolutionError("invalid_did_document", f"asked for {did} but the ledger returned "
                              f"the document of {document.get('id')!r}", "didDocument.id")
    return document


def _error_for(did: str, status: int, body: Any) -> ResolutionError:
    metadata = body.get("didResolutionMetadata") if isinstance(body, dict) else None
    code = metadata.get("error") if isinstance(metadata, dict) else None
    reason = _ERROR_CODES.get(code) if isinstance(code, str) else None
    if reason is None:
        reason = _STATUS_REASONS.get(status)
    if reason is None:
        reason = "resolver_unreachable" if status >= 500 else "invalid_did_document"
    said = f" ({code[:60]})" if isinstance(code, str) else ""
    return ResolutionError(reason, f"resolving {did}: the ledger answered HTTP {status}{said}",
                           "did")

"""Outgoing HTTP to the other roles, with the holder's one rule for a peer that cannot answer.

Every call has an explicit timeout. A transport failure (connection refused, timeout) or a 5xx
from the peer becomes the peer's "unavailable" error: 502 for the issuer and the verifier, 503 for
the ledger (the seed's tables). A 4xx is returned to the caller, who knows what it means there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from reference.common.errors import ApiError


@dataclass(frozen=True)
class Peer:
    name: str      # "issuer", "verifier", "ledger"
    code: str      # error code when it cannot answer
    status: int    # HTTP status answered then


ISSUER = Peer("issuer", "issuer_unavailable", 502)
VERIFIER = Peer("verifier", "verifier_unavailable", 502)
LEDGER = Peer("ledger", "ledger_unavailable", 503)


class Outbound:
    def __init__(self, http: httpx.AsyncClient, timeout: float) -> None:
        self.http = http
        self.timeout = timeout

    async def request(self, peer: Peer, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.http.request(method, url, timeout=self.timeout, **kwargs)
        except httpx.InvalidURL as exc:
            raise ApiError(400, "invalid_uri", f"{url!r} is not a usable URL: {exc}") from None
        except httpx.HTTPError as exc:
            raise ApiError(peer.status, peer.code, f"the {peer.name} at {_origin(url)} could not be "
                           f"reached ({type(exc).__name__})") from None
        if response.status_code >= 500:
            raise ApiError(peer.status, peer.code, f"the {peer.name} answered {method} {url} with "
                           f"HTTP {response.status_code}")
        return response

    async def json(self, peer: Peer, method: str, url: str, **kwargs: Any) -> tuple[int, Any]:
        """(status, decoded JSON body or None when the body is not JSON)."""
        response = await self.request(peer, method, url, **kwargs)
        return response.status_code, json_or_none(response)


def json_or_none(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _origin(url: str) -> str:
    try:
        parsed = httpx.URL(url)
        return f"{parsed.scheme}://{parsed.netloc.decode()}"
    except httpx.InvalidURL:
        return "?"

"""Fetching and reading an issuer's Status List Token (draft-ietf-oauth-status-list §8.3), for
every role that needs a credential's current status: the reference holder (status on read) and
the reference verifier (its `status` check).

Steps: GET the credential's `status.status_list.uri` asking for `application/statuslist+jwt`
(§8.1), find the token's signing key (§8.3 step 3) - its own `kid` / `x5c` / `iss` through
`IssuerKeys`, or, when it names none, the key the credential itself was verified with - and
verify it with `read_status_list_token` (signature, `typ`, `sub` = uri, `exp`; steps 3-5). The
Status Issuer may be another entity than the credential's Issuer (§1), so the signer is not
required to be the credential's issuer; what vouches for the list is that the credential's
signature covers its uri.

Every failure is a `StatusFetchError` with reason `status_list_unavailable`; `transient` is True
when the list could not be reached (connection error, timeout, 5xx) rather than being wrong.

`cache_ttl` seconds (0: no cache) keep a verified list for reuse; the list's own `exp` still
applies, since a cached list past its `exp` is fetched again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.issuer_keys import IssuerKey, IssuerKeyError, IssuerKeys
from conformance.protocol.errors import JoseError, ProtocolError
from conformance.protocol.jose import parse_jws
from conformance.protocol.status_list import StatusList, read_status_list_token

MEDIA_TYPE = "application/statuslist+jwt"
UNAVAILABLE = "status_list_unavailable"


class StatusFetchError(ProtocolError):
    """reason: `status_list_unavailable`."""

    def __init__(self, message: str, field: str | None = None, *, transient: bool = False) -> None:
        super().__init__(UNAVAILABLE, message, field)
        self.transient = transient


@dataclass(frozen=True)
class FetchedStatusList:
    uri: str
    status_list: StatusList
    fetched_at: float
    expires_at: float | None   # the token's exp, when it has one


class StatusListFetcher:
    def __init__(self, http: httpx.AsyncClient, keys: IssuerKeys, *, timeout: float,
                 cache_ttl: float = 0.0) -> None:
        self.http, self.keys, self.timeout, self.cache_ttl = http, keys, timeout, cache_ttl
        self._cache: dict[str, FetchedStatusList] = {}

    async def fetch(self, uri: str, *, now: float, credential_key: IssuerKey | None = None) -> FetchedStatusList:
        cached = self._cache.get(uri)
        if cached is not None and now - cached.fetched_at < self.cache_ttl and \
                (cached.expires_at is None or now < cached.expires_at):
            return cached
        fetched = await self._fetch(uri, now, credential_key)
        if self.cache_ttl > 0:
            self._cache[uri] = fetched
        return fetched

    async def _fetch(self, uri: str, now: float, credential_key: IssuerKey | None) -> FetchedStatusList:
        token = await self._get(uri)
        try:
            jws = parse_jws(token, "status_list_token")
        except JoseError as exc:
            raise StatusFetchError(f"{uri} did not answer a Status List Token: {exc.message}") from None
        key = await self._signing_key(jws.header, jws.payload, now, credential_key)
        try:
            status_list = read_status_list_token(token, key.key, expected_sub=uri, now=int(now))
        except ProtocolError as exc:
            raise StatusFetchError(f"the Status List Token of {uri} does not verify: {exc.message} "
                                   f"({exc.reason})", exc.field) from None
        exp = jws.payload.get("exp")   # a number: read_status_list_token checked it
        return FetchedStatusList(uri, status_list, now, None if exp is None else float(exp))

    async def _get(self, uri: str) -> str:
        try:
            response = await self.http.get(uri, timeout=self.timeout, headers={"Accept": MEDIA_TYPE})
        except httpx.HTTPError as exc:
            raise StatusFetchError(f"GET {uri} failed: {type(exc).__name__}", transient=True) from None
        if response.status_code != 200:
            raise StatusFetchError(f"GET {uri} answered HTTP {response.status_code}",
                                   transient=response.status_code >= 500)
        return response.text.strip()

    async def _signing_key(self, header: Mapping[str, Any], payload: Mapping[str, Any], now: float,
                           credential_key: IssuerKey | None) -> IssuerKey:
        names_own_key = any(name in header for name in ("kid", "x5c")) or "iss" in payload
        if not names_own_key:
            if credential_key is None:
                raise StatusFetchError("the Status List Token names no key (kid, x5c or iss) and no "
                                       "credential key was given to fall back on", "status_list_token.header")
            return credential_key
        try:
            return await self.keys.for_jwt(header, payload, now, "status_list_token")
        except IssuerKeyError as exc:
            raise StatusFetchError(f"its signing key: {exc.message}", exc.field,
                                   transient=exc.transient) from None

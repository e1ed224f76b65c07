"""Credential status, computed honestly on read (Token Status List §8.3; SD-JWT VC §3.2.2.2).

For a credential with a `status.status_list` reference the holder fetches the issuer's Status
List Token (cached for `status_cache_ttl` seconds), verifies it with the issuer's key and reads
the credential's entry. When the list cannot be fetched or verified, the last known value is kept
and `status_error` says why; `status_checked_at` is when the value was last confirmed.

The seed's status enum is closed (active, revoked, expired, deleted) and has no "suspended".
Both INVALID (1) and SUSPENDED (2) make a credential not presentable, so both report `revoked`,
the enum's one "issuer says no" value; `status_detail` keeps the difference visible
(`suspended` for 2, `status_list_value_<n>` for application-specific values). A revoked credential
that is also past `exp` reports `revoked` (the issuer's decision outranks the clock).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conformance.protocol.errors import ProtocolError
from conformance.protocol.jose import parse_jws
from conformance.protocol.status_list import (
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    read_status_list_token,
)
from conformance.resolver import DidResolver
from reference.common.clock import Clock
from reference.common.errors import ApiError
from reference.holder.issuer_keys import IssuerKeys
from reference.holder.outbound import STATUS_LIST, Outbound
from reference.holder.store import CredentialRow, HolderStore

STATUS_LIST_MEDIA_TYPE = "application/statuslist+jwt"


@dataclass(frozen=True)
class Status:
    value: str              # active | revoked | expired (the seed's enum minus `deleted`)
    detail: str | None      # why, when the enum hides something: suspended, status_list_value_3


def status_of(row: CredentialRow, now: float) -> Status:
    listed = row.status_value
    if listed is not None and listed != STATUS_VALID:
        detail = {STATUS_INVALID: None, STATUS_SUSPENDED: "suspended"}.get(
            listed, f"status_list_value_{listed}")
        return Status("revoked", detail)
    if row.expires_at is not None and now >= row.expires_at:
        return Status("expired", None)
    return Status("active", None)


class StatusChecker:
    def __init__(self, store: HolderStore, clock: Clock, out: Outbound, resolver: DidResolver,
                 cache_ttl: int) -> None:
        self.store, self.clock, self.out = store, clock, out
        self.keys = IssuerKeys(resolver, out)
        self.cache_ttl = cache_ttl
        self._cache: dict[str, tuple[float, StatusList]] = {}

    async def refresh(self, rows: Iterable[CredentialRow]) -> None:
        """Bring the stored status of `rows` up to date; one fetch per list URI."""
        by_uri: dict[str, list[CredentialRow]] = {}
        for row in rows:
            if row.status_uri is not None and row.status_idx is not None:
                by_uri.setdefault(row.status_uri, []).append(row)
        for uri, listed in by_uri.items():
            await self._refresh_list(uri, listed)

    async def _refresh_list(self, uri: str, rows: list[CredentialRow]) -> None:
        try:
            status_list = await self._list(uri)
        except (ApiError, ProtocolError) as exc:
            error = exc.message
            for row in rows:
                self.store.record_status_error(row.id, f"status list {uri}: {error}")
            return
        fetched_at = self._cache[uri][0]
        for row in rows:
            assert row.status_idx is not None
            try:
                value = status_list.get(row.status_idx)
            except ProtocolError as exc:
                self.store.record_status_error(row.id, exc.message)
                continue
            self.store.record_status(row.id, value, fetched_at)

    async def _list(self, uri: str) -> StatusList:
        now = self.clock.now()
        cached = self._cache.get(uri)
        if cached is not None and now - cached[0] < self.cache_ttl:
            return cached[1]
        response = await self.out.request(STATUS_LIST, "GET", uri,
                                          headers={"Accept": STATUS_LIST_MEDIA_TYPE})
        if response.status_code != 200:
            raise ApiError(502, "status_list_unavailable", f"HTTP {response.status_code}")
        token = response.text.strip()
        jws = parse_jws(token, "status_list_token")
        key = await self.keys.key_for(jws.header, jws.payload)
        status_list = read_status_list_token(token, key, expected_sub=uri, now=int(now))
        self._cache[uri] = (now, status_list)
        return status_list

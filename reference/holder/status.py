"""Credential status, computed honestly on read (Token Status List §8.3; SD-JWT VC §3.2.2.2).

For a credential with a `status.status_list` reference the holder fetches the issuer's Status
List Token through `conformance.status_fetch` (shared with the verifier: signing key found like
the credential's, signature, `sub`, `exp` checked; a verified list is reused for
`status_cache_ttl` seconds) and reads the credential's entry. When the list cannot be fetched or
verified, the last known value is kept and `status_error` says why; `status_checked_at` is when
the value was last confirmed.

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
from conformance.protocol.status_list import STATUS_INVALID, STATUS_SUSPENDED, STATUS_VALID
from conformance.status_fetch import StatusFetchError, StatusListFetcher
from reference.common.clock import Clock
from reference.holder.store import CredentialRow, HolderStore


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
    def __init__(self, store: HolderStore, clock: Clock, fetcher: StatusListFetcher) -> None:
        self.store, self.clock, self.fetcher = store, clock, fetcher

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
            # No credential key to fall back on: a list that names no key is not used.
            fetched = await self.fetcher.fetch(uri, now=self.clock.now())
        except StatusFetchError as exc:
            for row in rows:
                self.store.record_status_error(row.id, f"status list {uri}: {exc.message}")
            return
        for row in rows:
            assert row.status_idx is not None
            try:
                value = fetched.status_list.get(row.status_idx)
            except ProtocolError as exc:
                self.store.record_status_error(row.id, exc.message)
                continue
            self.store.record_status(row.id, value, fetched.fetched_at)

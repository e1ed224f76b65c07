"""The `status` check's verdict from the issuer's Token Status List (draft-ietf-oauth-status-list §8.3).

Fetching and verifying the Status List Token is `conformance.status_fetch` (shared with the
holder); this module turns the entry at `idx` into the check's reason code. One `StatusReader`
per verified response: it fetches each list once, failures included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.issuer_keys import IssuerKey
from conformance.protocol.errors import ProtocolError
from conformance.protocol.status_list import (
    STATUS_INVALID,
    STATUS_NAMES,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    parse_status_claim,
)
from conformance.status_fetch import UNAVAILABLE, StatusFetchError, StatusListFetcher

# status value -> (passes, reason code); §7.1 values. Anything else is application specific.
_VERDICTS = {
    STATUS_VALID: (True, "status_valid"),
    STATUS_INVALID: (False, "credential_revoked"),
    STATUS_SUSPENDED: (False, "credential_suspended"),
}
UNRECOGNIZED = "credential_status_unrecognized"
NOT_REFERENCED = "status_not_referenced"


@dataclass(frozen=True)
class StatusVerdict:
    ok: bool
    reason: str
    message: str


class StatusReader:
    def __init__(self, fetcher: StatusListFetcher, now: float) -> None:
        self.fetcher, self.now = fetcher, now
        self._lists: dict[str, StatusList | StatusVerdict] = {}

    async def verdict(self, payload: Mapping[str, Any], credential_key: IssuerKey) -> StatusVerdict:
        try:
            reference = parse_status_claim(payload)
        except ProtocolError as exc:
            return StatusVerdict(False, UNAVAILABLE, f"the status claim is malformed: {exc.message}")
        if reference is None:
            return StatusVerdict(True, NOT_REFERENCED, "the credential has no status list reference, "
                                 "so there is no revocation to check")
        uri, idx = reference
        listed = await self._list(uri, credential_key)
        if isinstance(listed, StatusVerdict):
            return listed
        try:
            value = listed.get(idx)
        except ProtocolError as exc:
            return StatusVerdict(False, UNAVAILABLE, exc.message)
        ok, reason = _VERDICTS.get(value, (False, UNRECOGNIZED))
        return StatusVerdict(ok, reason, f"status list {uri} entry {idx} is {value} "
                             f"({STATUS_NAMES.get(value, 'reserved')})")

    async def _list(self, uri: str, credential_key: IssuerKey) -> StatusList | StatusVerdict:
        if uri not in self._lists:
            try:
                fetched = await self.fetcher.fetch(uri, now=self.now, credential_key=credential_key)
                self._lists[uri] = fetched.status_list
            except StatusFetchError as exc:
                self._lists[uri] = StatusVerdict(False, UNAVAILABLE,
                                                 f"the status list {uri} cannot be used: {exc.message}")
        return self._lists[uri]

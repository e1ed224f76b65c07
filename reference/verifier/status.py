"""Credential status from the issuer's Token Status List (draft-ietf-oauth-status-list §8.3).

The Status List Token is fetched from the credential's `status.status_list.uri` (the credential's
signature covers that uri, so the issuer chose it), its signing key is found the way a
credential's is (`IssuerKeys`: its own kid / iss / x5c; the credential's issuer key when the token
names none), and the entry at `idx` decides. One fetch per uri per verified response.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.protocol.errors import JoseError, ProtocolError
from conformance.protocol.jose import parse_jws
from conformance.protocol.status_list import (
    STATUS_INVALID,
    STATUS_NAMES,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    parse_status_claim,
    read_status_list_token,
)
from reference.verifier.issuer_keys import IssuerKey, IssuerKeyError, IssuerKeys

MEDIA_TYPE = "application/statuslist+jwt"
# status value -> (passes, reason code); §7.1 values. Anything else is application specific.
_VERDICTS = {
    STATUS_VALID: (True, "status_valid"),
    STATUS_INVALID: (False, "credential_revoked"),
    STATUS_SUSPENDED: (False, "credential_suspended"),
}


@dataclass(frozen=True)
class StatusVerdict:
    ok: bool
    reason: str
    message: str


class StatusReader:
    """One per verified response: caches each list it fetched."""

    def __init__(self, http: httpx.AsyncClient, keys: IssuerKeys, timeout: float, now: float) -> None:
        self.http, self.keys, self.timeout, self.now = http, keys, timeout, now
        self._lists: dict[str, StatusList | StatusVerdict] = {}

    async def verdict(self, payload: Mapping[str, Any], credential_key: IssuerKey) -> StatusVerdict:
        try:
            reference = parse_status_claim(payload)
        except ProtocolError as exc:
            return StatusVerdict(False, "status_list_unavailable", f"the status claim is malformed: {exc.message}")
        if reference is None:
            return StatusVerdict(True, "status_not_referenced", "the credential has no status list reference, "
                                 "so there is no revocation to check")
        uri, idx = reference
        listed = await self._list(uri, credential_key)
        if isinstance(listed, StatusVerdict):
            return listed
        try:
            value = listed.get(idx)
        except ProtocolError as exc:
            return StatusVerdict(False, "status_list_unavailable", exc.message)
        ok, reason = _VERDICTS.get(value, (False, "credential_status_unrecognized"))
        return StatusVerdict(ok, reason, f"status list {uri} entry {idx} is {value} "
                             f"({STATUS_NAMES.get(value, 'reserved')})")

    async def _list(self, uri: str, credential_key: IssuerKey) -> StatusList | StatusVerdict:
        if uri not in self._lists:
            try:
                self._lists[uri] = await self._fetch(uri, credential_key)
            except (ProtocolError, httpx.HTTPError) as exc:
                detail = exc.message if isinstance(exc, ProtocolError) else type(exc).__name__
                self._lists[uri] = StatusVerdict(False, "status_list_unavailable",
                                                 f"the status list {uri} cannot be used: {detail}")
        return self._lists[uri]

    async def _fetch(self, uri: str, credential_key: IssuerKey) -> StatusList:
        response = await self.http.get(uri, timeout=self.timeout, headers={"Accept": MEDIA_TYPE})
        if response.status_code != 200:
            raise ProtocolError("status_list_unavailable", f"GET answered HTTP {response.status_code}")
        token = response.text.strip()
        try:
            jws = parse_jws(token, "status_list_token")
        except JoseError as exc:
            raise ProtocolError("status_list_unavailable", f"not a JWT: {exc.message}") from None
        key = credential_key
        if any(name in jws.header for name in ("kid", "x5c")) or "iss" in jws.payload:
            try:
                key = await self.keys.for_jwt(jws.header, jws.payload, self.now)
            except IssuerKeyError as exc:
                raise ProtocolError("status_list_unavailable", f"its signing key: {exc.message}") from None
        return read_status_list_token(token, key.key, expected_sub=uri, now=int(self.now))

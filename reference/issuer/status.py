"""The issuer's Token Status Lists (draft-ietf-oauth-status-list): index allocation and the
signed Status List Token served at `GET /v1/status-lists/{list_id}`.

Indices are drawn at random from a list's free ones (draft §12.5 Unlinkability: sequential
indices would let verifiers correlate issuance order). Two bits per entry, so a credential can
be VALID, INVALID (revoked) or SUSPENDED (§7.1).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from conformance.protocol.jose import PrivateKey
from conformance.protocol.status_list import (
    STATUS_INVALID,
    STATUS_SUSPENDED,
    STATUS_VALID,
    StatusList,
    build_status_list_token,
)
from reference.issuer.store import IssuerStore

BITS = 2
# The seed's record statuses -> Token Status List values (§7.1).
STATUS_VALUES = {"ACTIVE": STATUS_VALID, "REVOKED": STATUS_INVALID, "SUSPENDED": STATUS_SUSPENDED}


@dataclass(frozen=True)
class StatusEntry:
    list_id: str
    idx: int


class StatusLists:
    def __init__(self, store: IssuerStore, base_url: str, size: int) -> None:
        self._store = store
        self._base_url = base_url.rstrip("/")
        self._size = size

    def uri(self, list_id: str) -> str:
        return f"{self._base_url}/v1/status-lists/{list_id}"

    def allocate(self, now: float) -> StatusEntry:
        """A fresh VALID entry. Call inside a store transaction."""
        open_lists = self._store.open_lists()
        if open_lists:
            list_id, size, _ = open_lists[0]
        else:
            list_id, size = str(uuid.uuid4()), self._size
            self._store.add_status_list(list_id, BITS, size, now)
        free = sorted(set(range(size)) - self._store.used_indices(list_id))
        idx = secrets.choice(free)
        self._store.add_status_entry(list_id, idx, STATUS_VALID)
        return StatusEntry(list_id, idx)

    def set(self, entry: StatusEntry, status: str) -> None:
        self._store.set_status(entry.list_id, entry.idx, STATUS_VALUES[status])

    def exists(self, list_id: str) -> bool:
        return self._store.status_list(list_id) is not None

    def token(self, list_id: str, *, key: PrivateKey, kid: str, iss: str, now: float,
              ttl: int) -> str:
        """The Status List Token (§5.1): sub is the list's URI, which every Referenced Token
        names in status.status_list.uri (§6.2)."""
        bits, size = self._store.status_list(list_id)  # type: ignore[misc]
        values = [STATUS_VALID] * size
        for idx, status in self._store.statuses(list_id).items():
            values[idx] = status
        return build_status_list_token(key=key, header={"kid": kid}, sub=self.uri(list_id),
                                       iat=int(now), ttl=ttl,
                                       status_list=StatusList(bits, tuple(values)),
                                       claims={"iss": iss})

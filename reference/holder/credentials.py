"""The user's credentials (/v1/vc): list, get, soft delete, and the set presentations draw from.

Shapes follow the seed: a list entry has `id`, `vct`, `schema_id` (deprecated alias of `vct`),
`issuer_did`, `holder_did`, `issued_at`, `expires_at`, `status`, `created_at`; the full record
adds `raw_credential` and, for a notarized credential, `reference` as
`{"block_chain", "object_id"}` - the seed names the chain `block_chain` here but `chain` in the
receive response, and both forms are served where the seed shows them. Both shapes add
`on_chain_status` (the issuer seed's enum; null when the credential is not notarized) and the
record `notarization_error` when the anchor FAILED. Reading a credential whose anchor is still
PENDING / IN_PROGRESS asks the ledger once for news (notarize.py).
"""

from __future__ import annotations

from typing import Any

from reference.common.clock import Clock, iso
from reference.common.errors import ApiError
from reference.holder.held import HeldCredential
from reference.holder.notarize import LedgerNotary
from reference.holder.status import Status, StatusChecker, status_of
from reference.holder.store import CredentialRow, HolderStore


class Wallet:
    def __init__(self, store: HolderStore, clock: Clock, status: StatusChecker,
                 notary: LedgerNotary | None) -> None:
        self.store, self.clock, self.status, self.notary = store, clock, status, notary

    def owned(self, owner: str, credential_id: str, field: str = "id") -> CredentialRow:
        """403 when another user's, 404 when unknown or soft-deleted (the seed's tables)."""
        row = self.store.credential(credential_id)
        if row is None or row.deleted_at is not None:
            raise ApiError(404, "vc_not_found", f"credential {credential_id} does not exist or was "
                           "deleted", field)
        if row.owner != owner:
            raise ApiError(403, "forbidden", f"credential {credential_id} does not belong to the "
                           "authenticated user", field)
        return row

    async def list(self, owner: str) -> list[dict[str, Any]]:
        rows = await self._refreshed(self.store.credentials_of(owner))
        return [self.summary(row) for row in rows]

    async def get(self, owner: str, credential_id: str) -> dict[str, Any]:
        (row,) = await self._refreshed([self.owned(owner, credential_id)])
        return self.record(row)

    def delete(self, owner: str, credential_id: str) -> None:
        row = self.owned(owner, credential_id)
        self.store.delete_credential(row.id, self.clock.now())

    async def current(self, row: CredentialRow) -> tuple[CredentialRow, Status]:
        (fresh,) = await self._refreshed([row])
        return fresh, status_of(fresh, self.clock.now())

    async def presentable(self, owner: str) -> list[CredentialRow]:
        """The user's credentials a verifier may be shown: `active` ones whose holder DID is
        still managed here (a presentation needs it)."""
        rows = await self._refreshed(self.store.credentials_of(owner))
        now = self.clock.now()
        return [row for row in rows if status_of(row, now).value == "active"
                and self._did_active(row.holder_did)]

    def _did_active(self, did: str) -> bool:
        row = self.store.did(did)
        return row is not None and row.active

    async def _refreshed(self, rows: list[CredentialRow]) -> list[CredentialRow]:
        await self.status.refresh(rows)
        await self._refresh_anchors(rows)
        fresh = [self.store.credential(row.id) for row in rows]
        return [row for row in fresh if row is not None]

    async def _refresh_anchors(self, rows: list[CredentialRow]) -> None:
        for row in rows:
            anchor = row.anchor
            if self.notary is None or anchor is None:
                continue
            fresh = await self.notary.refresh(anchor, row.raw_credential.split("~", 1)[0])
            if fresh != anchor:
                self.store.record_anchor(row.id, fresh)

    # --- rendering ---------------------------------------------------------------------------

    def summary(self, row: CredentialRow) -> dict[str, Any]:
        status = status_of(row, self.clock.now())
        out: dict[str, Any] = {
            "id": row.id,
            "vct": row.vct,
            "schema_id": row.vct,
            "format": row.format,
            "issuer": row.issuer,
            "issuer_did": row.issuer_did,
            "holder_did": row.holder_did,
            "issued_at": iso(row.issued_at),
            "expires_at": iso(row.expires_at),
            "status": status.value,
            "on_chain_status": row.on_chain_status,
            "created_at": iso(row.created_at),
        }
        if status.detail is not None:
            out["status_detail"] = status.detail
        if row.status_uri is not None:
            out["status_checked_at"] = iso(row.status_checked_at)
            if row.status_error is not None:
                out["status_error"] = row.status_error
        return out

    def record(self, row: CredentialRow) -> dict[str, Any]:
        held = HeldCredential.parse(row.raw_credential)
        out = {**self.summary(row), "credential_configuration_id": row.configuration_id,
               "raw_credential": row.raw_credential, "claims": held.subject_claims,
               "disclosable_claims": held.disclosable_names(), "notes": row.notes}
        if row.reference is not None:
            out["reference"] = {"block_chain": row.reference["chain"],
                                "object_id": row.reference["object_id"]}
        if row.notarization_error is not None:
            out["notarization_error"] = row.notarization_error
        return out

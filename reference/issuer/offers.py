"""`POST /v1/offers`: the request body, parsed and validated into an `OfferRequest`.

Every rule of the issuer seed's parameter and error tables lives here; checks that need the
tenant, the ledger or a DID resolver (403s, key matching) are in tcs.py, the claims check (shared
by every surface) in claims.py.

Extension (seeds README: the seed documents no tx_code field): an optional `tx_code` object as
the EUDIW connector seed has it (`input_mode`, `length`, `description`); the response then
carries `tx_code_value`, to be delivered to the holder out of band.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from conformance.protocol.did import parse_did
from conformance.protocol.errors import DidError
from conformance.protocol.oid4vci import TxCode
from reference.common.body import Body, bad
from reference.common.errors import ApiError
from reference.issuer.txcode import parse_tx_code

FLOWS = ("pre-authorized", "authorization-code")
CALLBACK_MAX = 2048
_LOOPBACK_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class OfferRequest:
    config_id: str
    claims: Mapping[str, Any]
    expires_in: int
    issuer_did: str | None
    issuer_private_key: str | None = field(repr=False)
    holder_did: str | None
    notarize_on_iota: bool | None
    callback_url: str | None
    tx_code: TxCode | None


def parse_offer_request(body: Body, *, default_ttl: int, max_ttl: int) -> OfferRequest:
    credential = body.obj("credential", required=True)
    config_id = credential.str("config_id", required=True, max_len=256)
    claims = credential.obj("claims", required=True)
    flow = body.str("flow", required=True)
    if flow == "authorization-code":
        raise ApiError(400, "unsupported_flow", "flow: 'authorization-code' is not supported; "
                       "only 'pre-authorized' is (issuer seed, Step 1)", "flow")
    if flow not in FLOWS:
        raise bad("flow", f"must be 'pre-authorized'; got {flow!r}")
    issuer_did = body.str("issuer_did", max_len=512)
    issuer_key = body.secret("issuer_private_key")
    if (issuer_did is None) != (issuer_key is None):
        missing = "issuer_private_key" if issuer_key is None else "issuer_did"
        raise bad(missing, "issuer_did and issuer_private_key must be given together or not at "
                  "all (issuer seed, Step 1)")
    return OfferRequest(
        config_id=config_id,  # type: ignore[arg-type]
        claims=claims.data,  # type: ignore[union-attr]
        expires_in=body.int("expires_in", minimum=1, maximum=max_ttl) or default_ttl,
        issuer_did=_did(issuer_did, "issuer_did"),
        issuer_private_key=issuer_key,
        holder_did=_did(body.str("holder_did", max_len=512), "holder_did"),
        notarize_on_iota=body.bool("notarize_on_iota"),
        callback_url=_callback_url(body.str("callback_url", max_len=CALLBACK_MAX)),
        tx_code=_tx_code(body),
    )


def _did(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return parse_did(value).did
    except DidError as exc:
        raise bad(name, exc.message) from None


def _callback_url(url: str | None) -> str | None:
    """https, or http to a loopback host (for local receivers)."""
    if url is None:
        return None
    parts = urlsplit(url)
    if not parts.hostname or parts.scheme not in ("https", "http"):
        raise bad("callback_url", "must be an absolute https URL")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise bad("callback_url", "must use https (plain http is allowed for loopback hosts only)")
    return url


def _is_loopback(host: str) -> bool:
    if host in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _tx_code(body: Body) -> TxCode | None:
    return parse_tx_code(body.obj("tx_code"))

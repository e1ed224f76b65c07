"""The holder's one table from protocol-layer reasons to HTTP statuses.

A `ProtocolError` raised by the protocol core while the holder works for a user becomes an
`ApiError` here, with the reason as its code and the core's message. Reasons not listed are the
caller's input being wrong: 400. Call sites that need a different meaning for a reason (the
verifier's DID not resolving is a bad request object, not a missing DID of the user) rewrap the
error with their own reason before it reaches this table.
"""

from __future__ import annotations

from conformance.protocol.errors import ProtocolError
from reference.common.errors import ApiError

REASON_STATUS: dict[str, int] = {
    # DID resolution (conformance/resolver.py REASONS)
    "did_not_found": 404,
    "resolver_unreachable": 503,
    "resolver_not_configured": 503,
    "invalid_did_document": 502,
}
DEFAULT_STATUS = 400


def from_protocol(exc: ProtocolError) -> ApiError:
    status = REASON_STATUS.get(exc.reason, DEFAULT_STATUS)
    code = "ledger_unavailable" if status == 503 else exc.reason
    return ApiError(status, code, exc.message, exc.field)

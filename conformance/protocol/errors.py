"""Typed protocol errors: every spec violation is a value with a machine-readable reason.

The protocol layer never speaks HTTP. It raises (or returns) a `ProtocolError` whose `reason`
is a stable snake_case code; the edges (reference routes, harness checks) map reasons to
status codes or check results exactly once.
"""

from __future__ import annotations


class ProtocolError(Exception):
    """A spec rule was broken.

    reason: stable snake_case code (`signature_invalid`, `disclosure_digest_missing`, ...).
    message: what was wrong, where, and what was expected, in words a user can act on.
    field: the offending member or path, when there is one (`header.alg`, `claims[2].path`).
    """

    def __init__(self, reason: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field

    def __repr__(self) -> str:
        where = f", field={self.field!r}" if self.field else ""
        return f"{type(self).__name__}({self.reason!r}, {self.message!r}{where})"

    def as_dict(self) -> dict[str, str]:
        out = {"reason": self.reason, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


class JoseError(ProtocolError):
    """JWS / JWE / JWK failures."""


class SdJwtError(ProtocolError):
    """SD-JWT and SD-JWT VC failures (RFC 9901, SD-JWT VC)."""


class DcqlError(ProtocolError):
    """An invalid DCQL query (OID4VP 1.0 section 6)."""


class DidError(ProtocolError):
    """DID parsing and resolution failures."""


class StatusListError(ProtocolError):
    """Token Status List failures."""


class Oid4vciError(ProtocolError):
    """OID4VCI message failures; reason is the OAuth / OID4VCI error code where the spec names one.

    detail: a finer stable snake_case code behind that reason (`tx_code_mismatch` behind
    `invalid_grant`), for logs and error_description; the reason itself when none is given."""

    def __init__(self, reason: str, message: str, field: str | None = None,
                 detail: str | None = None) -> None:
        super().__init__(reason, message, field)
        self.detail = detail or reason


class Oid4vpError(ProtocolError):
    """OID4VP message failures; reason is the OAuth / OID4VP error code where the spec names one."""

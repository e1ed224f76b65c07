"""Redaction at the edges: secrets never reach a log, a store, an error body or a report."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

REDACTED = "[redacted]"

# Member and header names whose values are secrets wherever they appear (compared lower-case).
SECRET_NAMES = frozenset({
    "private_key", "issuer_private_key", "verifier_private_key", "password", "access_token",
    "x-api-key", "api_key", "authorization", "d", "user_pin", "tx_code_value", "userpin",
    "pre-authorized_code", "client_secret", "refresh_token",
})

# Names that hold a secret only when the value is a string: a token request's `tx_code` is the
# one-time PIN, while a Credential Offer's `tx_code` object only describes how to ask for it.
SECRET_STRING_NAMES = frozenset({"tx_code"})

_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")


def redact(value: Any) -> Any:
    """A deep copy of JSON-like `value` with every secret-named member replaced."""
    if isinstance(value, Mapping):
        return {k: REDACTED if _is_secret(str(k).lower(), v) else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _BEARER.sub(r"\1 " + REDACTED, value)
    return value


def _is_secret(name: str, value: Any) -> bool:
    return name in SECRET_NAMES or (name in SECRET_STRING_NAMES and isinstance(value, str))


def redact_text(text: str, secrets: list[str]) -> str:
    """Scrub known secret strings out of free text (e.g. a response body echoing a request)."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, REDACTED)
    return _BEARER.sub(r"\1 " + REDACTED, text)

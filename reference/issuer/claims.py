"""Offered claims against their credential configuration: one check for every API surface."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from reference.common.body import bad
from reference.issuer.configs import RESERVED_CLAIMS, CredentialConfig

# RFC 9901 §4.1 rule 7 / §4.2: names the SD-JWT machinery itself uses.
_SD_RESERVED = frozenset({"_sd", "_sd_alg", "..."})


def check_claims(config: CredentialConfig, claims: Mapping[str, Any],
                 where: str = "credential.claims") -> None:
    """The offer's claims against the configuration: only its claims, all mandatory ones, no
    names the issuer sets itself (SD-JWT VC §3.2.2.2) or SD-JWT reserves (RFC 9901 §4.1).
    `where` is the body path the claims came from, for the error's field name."""
    if not claims:
        raise bad(where, "must contain at least one claim")
    for name, value in claims.items():
        if name in RESERVED_CLAIMS:
            raise bad(f"{where}.{name}", "is set by the issuer itself and cannot be offered")
        if name not in config.allowed_claims:
            raise bad(f"{where}.{name}", f"is not a claim of {config.id} (its claims: "
                      f"{', '.join(sorted(config.allowed_claims))})")
        if value is None:
            raise bad(f"{where}.{name}", "must not be null")
        _no_reserved_names(value, f"{where}.{name}")
    missing = [name for name in config.mandatory_claims if name not in claims]
    if missing:
        raise bad(f"{where}.{missing[0]}", f"is required by {config.id} (mandatory claims: "
                  f"{', '.join(config.mandatory_claims)})")


def _no_reserved_names(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key in _SD_RESERVED:
                raise bad(f"{where}.{key}", "is a name SD-JWT reserves (RFC 9901 §4.1)")
            _no_reserved_names(child, f"{where}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            _no_reserved_names(child, f"{where}[{index}]")

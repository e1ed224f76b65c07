"""Logical names in scenario inputs, resolved against the target: configurations and API keys.

Scenarios stay deployment-neutral by naming things logically (`config: identity`,
`api_key: x509`); the target file maps the names. A lower-case identifier is always a logical
name, so a typo or a name the target lacks is an error naming the known ones, never sent as is;
anything else (`IdentityCredential`, `urn:...`, a long key) is a literal.
"""

from __future__ import annotations

import re

from conformance.dialects.base import InputError, StepContext

LOGICAL = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
DEFAULT, NONE = "default", "none"


def config_id(ctx: StepContext, value: str) -> str:
    known = dict(ctx.target.config_ids or {})
    if value in known:
        return known[value]
    if LOGICAL.fullmatch(value):
        raise InputError(f"target {ctx.target.name!r} defines no credential configuration named {value!r} "
                         f"(config_ids: {', '.join(sorted(known)) or 'none'}); add it to the target file's "
                         "config_ids, or give a literal configuration id")
    return value


def api_key(ctx: StepContext, role: str, value: str | None) -> str | None:
    """The X-API-Key to send for `role`: None means send none."""
    endpoint = ctx.endpoint(role)
    if value is None or value == DEFAULT:
        return endpoint.api_key
    if value == NONE:
        return None
    named = dict((endpoint.extra or {}).get("api_keys") or {})
    if value in named:
        return named[value]
    if LOGICAL.fullmatch(value):
        raise InputError(f"the {role} role of target {ctx.target.name!r} has no API key named {value!r} "
                         f"(named keys: {', '.join(['default', 'none', *sorted(named)])})")
    return value


def api_key_header(ctx: StepContext, role: str, value: str | None) -> dict[str, str]:
    key = api_key(ctx, role, value)
    return {"X-API-Key": key} if key is not None else {}

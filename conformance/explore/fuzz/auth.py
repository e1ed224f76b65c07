"""Credentials for the security schemes an OpenAPI document declares (OpenAPI 3.1 §4.8.27).

A scheme resolver turns one `securitySchemes` entry into a header to send, from what the target
file gives the role: `apiKey` in a header gets the role's `api_key`; `http` bearer gets the role's
`access_token` (RoleEndpoint.extra) when the target file sets one, otherwise - for a document with
the seed holder's `/v1/user/register` and `/v1/user/login` - the token of a fresh fuzz account. A
scheme no resolver can serve is reported in the notes and its operations are fuzzed without
credentials (they should then answer a documented 401).
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from conformance.exchange import Recorder, Unreachable
from conformance.explore.seed_api import PropertyFailure, SeedApi


@dataclass(frozen=True)
class Credential:
    header: str
    value: str = field(repr=False)
    variable: str             # the shell variable a reproduction names instead of the value


@dataclass
class AuthContext:
    http: httpx.AsyncClient
    role: str
    endpoint: Any             # RoleEndpoint: base_url, api_key, extra
    document: Mapping[str, Any]
    rng: random.Random
    notes: list[str] = field(default_factory=list)


Resolver = Callable[[AuthContext, str, Mapping[str, Any]], Awaitable[Credential | None]]


async def api_key_header(ctx: AuthContext, name: str, scheme: Mapping[str, Any]) -> Credential | None:
    if scheme.get("in") != "header":
        ctx.notes.append(f"security scheme {name}: apiKey in {scheme.get('in')!r} is not supported")
        return None
    if not ctx.endpoint.api_key:
        ctx.notes.append(f"security scheme {name}: the target gives {ctx.role} no api_key; "
                         "its operations are fuzzed without one")
        return None
    return Credential(scheme["name"], ctx.endpoint.api_key, f"{ctx.role.upper()}_API_KEY")


async def bearer_token(ctx: AuthContext, name: str, scheme: Mapping[str, Any]) -> Credential | None:
    token = (ctx.endpoint.extra or {}).get("access_token")
    if not token and _has_seed_accounts(ctx.document):
        token = await _fuzz_account_token(ctx)
    if not token:
        ctx.notes.append(f"security scheme {name}: no access token (set roles.{ctx.role}.access_token "
                         "in the target file); its operations are fuzzed without one")
        return None
    return Credential("Authorization", f"Bearer {token}", f"{ctx.role.upper()}_TOKEN")


def _has_seed_accounts(document: Mapping[str, Any]) -> bool:
    paths = document.get("paths") or {}
    return "/v1/user/register" in paths and "/v1/user/login" in paths


async def _fuzz_account_token(ctx: AuthContext) -> str | None:
    # The document has the seed holder's account endpoints, so this role speaks the holder API.
    api = SeedApi(Recorder(ctx.http), {"holder": ctx.endpoint.base_url}, {})
    try:
        account = await api.account(f"conformance-fuzz-{ctx.rng.getrandbits(32):08x}")
    except (PropertyFailure, Unreachable) as exc:
        ctx.notes.append(f"could not open a fuzz account on {ctx.role}: {exc}")
        return None
    ctx.notes.append(f"authenticated as a fresh account registered through {ctx.role}'s /v1/user/register")
    return account.token


RESOLVERS: dict[tuple[str, str], Resolver] = {
    ("apikey", ""): api_key_header,
    ("http", "bearer"): bearer_token,
}


@dataclass
class RoleAuth:
    """Credentials per scheme name (None: not available) for one role's document."""
    document: Mapping[str, Any]
    credentials: dict[str, Credential | None]
    notes: list[str]

    def for_operation(self, definition: Mapping[str, Any]) -> list[Credential]:
        """The credentials of the first security requirement the role can meet; none when the
        operation is public (`security: []`) or no requirement can be met."""
        requirements = definition.get("security", self.document.get("security", []))
        for requirement in requirements:
            names = list(requirement)
            if all(self.credentials.get(name) for name in names):
                return [self.credentials[name] for name in names]  # type: ignore[misc]
        return []

    @property
    def secrets(self) -> list[str]:
        return [c.value.removeprefix("Bearer ") for c in self.credentials.values() if c]


async def resolve_auth(ctx: AuthContext) -> RoleAuth:
    schemes = (ctx.document.get("components") or {}).get("securitySchemes") or {}
    credentials: dict[str, Credential | None] = {}
    for name, scheme in schemes.items():
        kind = str(scheme.get("type", "")).lower()
        key = (kind, "" if kind == "apikey" else str(scheme.get("scheme", "")).lower())
        resolver = RESOLVERS.get(key)
        if resolver is None:
            ctx.notes.append(f"security scheme {name} ({kind} {key[1]}) is not supported; its "
                             "operations are fuzzed without credentials")
            credentials[name] = None
        else:
            credentials[name] = await resolver(ctx, name, scheme)
    return RoleAuth(ctx.document, credentials, ctx.notes)

"""Reading artefacts for checks: the issuer JWT, the Issuer's key, request objects, status lists.

Artefact conventions (produced by the dialect operations, see conformance/dialects):
- `credential`: the SD-JWT VC as issued, `<issuer-jwt>~<disclosure>~...~` (str);
- `issuer_jwt`: the Issuer-signed JWT alone (str), when no full credential is at hand;
- `presentation`: an SD-JWT+KB as presented (str);
- `request_object`: the OID4VP Request Object: the compact JWS (str), its payload (dict) or a
  `conformance.protocol.oid4vp.RequestObject`;
- `offer`, `issuer_metadata`, `ledger_object`, `verifier_result`: the JSON objects (dict);
- `holder_key`: the `PublicKey` the harness wallet bound the credential to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from conformance.harness.checks.registry import CheckContext, MissingArtefact
from conformance.issuer_keys import IssuerKey, IssuerKeys
from conformance.protocol.errors import ProtocolError, SdJwtError
from conformance.protocol.jose import Jws, PublicKey, parse_jws
from conformance.protocol.sdjwt import SdJwt, parse_sd_jwt
from conformance.protocol.status_list import parse_status_claim
from conformance.status_fetch import StatusListFetcher

_TIMEOUT = 10.0   # seconds, when the target's client sets none


class EvidenceError(ProtocolError):
    """The artefact is there but does not hold what the rule needs (e.g. no resolvable key)."""


def credential(ctx: CheckContext, name: str = "credential") -> SdJwt:
    return parse_sd_jwt(ctx.artefact(name))


def issuer_jws(ctx: CheckContext) -> Jws:
    """The Issuer-signed JWT, from `credential` or else `issuer_jwt`."""
    if ctx.has("credential"):
        return credential(ctx).issuer_jws
    if ctx.has("issuer_jwt"):
        return parse_jws(ctx.artefact("issuer_jwt"), "issuer_jwt")
    raise MissingArtefact(f"needs artefact 'credential' or 'issuer_jwt', which {ctx.step.label} did not "
                          f"produce (artefacts: {', '.join(sorted(ctx.result.artefacts or {})) or 'none'})")


def request_claims(value: Any) -> Mapping[str, Any]:
    """The payload of a Request Object given as a JWS, a dict or a parsed RequestObject."""
    if isinstance(value, str):
        return parse_jws(value, "request_object").payload
    if isinstance(value, Mapping):
        return value
    claims = getattr(value, "claims", None)
    if isinstance(claims, Mapping):
        return claims
    raise EvidenceError("request_object_unreadable", f"request_object is a {type(value).__name__}; "
                        "expected a compact JWS, its payload or a RequestObject")


# --- the Issuer's key (SD-JWT VC §3.5), one implementation: conformance/issuer_keys.py ---------

# How each key source names what it found, for a check's message.
_FOUND: dict[str, Callable[[IssuerKey, Mapping[str, Any]], str]] = {
    "x5c": lambda found, header: f"x5c chain of {len(header['x5c'])} certificate(s)"
                                 + ("" if found.anchored else " (not anchored in a trust list)"),
    "did": lambda found, header: f"verification method {header.get('kid') or found.issuer}",
    "jwt-vc-issuer": lambda found, header: f"JWT VC Issuer Metadata key of {found.issuer}",
}


def issuer_keys(ctx: CheckContext) -> IssuerKeys:
    """The harness has no trust list of its own: an x5c chain must be consistent, valid now and
    name the iss, but is not required to end in a configured anchor (as for a wallet)."""
    return IssuerKeys(ctx.resolver(), ctx.target.http, require_anchor=False,
                      timeout=ctx.target.http.timeout.read or _TIMEOUT)


async def issuer_key(ctx: CheckContext, jws: Jws, part: str = "issuer_jwt") -> tuple[PublicKey, str]:
    """(key, how it was found) for a JWT signed by an Issuer; IssuerKeyError when there is none."""
    found = await issuer_keys(ctx).for_jwt(jws.header, jws.payload, ctx.now(), part)
    return found.key, _FOUND[found.source](found, jws.header)


def did_of_kid(jws: Jws) -> str | None:
    kid = jws.header.get("kid")
    if isinstance(kid, str) and kid.startswith("did:"):
        return kid.split("#", 1)[0]
    return None


# --- Token Status List (draft-ietf-oauth-status-list §6.2, §8.3): conformance/status_fetch.py --

async def current_status(ctx: CheckContext) -> tuple[int, str, int]:
    """(status value, list uri, idx) of the credential, read from its verified Status List Token;
    a token that names no key of its own is checked with the credential's key (§8.3 step 3)."""
    jws = issuer_jws(ctx)
    ref = parse_status_claim(jws.payload)
    if ref is None:
        raise SdJwtError("status_claim_missing", "the credential has no status.status_list claim "
                         "(Token Status List §6.2)", "status")
    uri, idx = ref
    keys = issuer_keys(ctx)
    credential_key = await keys.for_jwt(jws.header, jws.payload, ctx.now())
    fetcher = StatusListFetcher(ctx.target.http, keys, timeout=keys.timeout)
    fetched = await fetcher.fetch(uri, now=ctx.now(), credential_key=credential_key)
    return fetched.status_list.get(idx), uri, idx

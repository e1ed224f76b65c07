"""Trusted Authorities Queries (OID4VP 1.0 §6.1.1): a registry of matchers by `type`.

A credential matches a `trusted_authorities` array when it matches one value of one entry. How a
value is compared depends on the type; a type with no matcher here cannot be evaluated and never
matches (see `UNKNOWN_TYPE_POLICY`).

What a wallet knows about its credential's issuer is carried by `WalletCredential.issuer` (a DID)
and `WalletCredential.authority_ids` (type -> identifiers the wallet has established for the
credential, e.g. the AKIs in its x5c chain, the trusted lists or federation trust anchors it
resolved). Resolving trust lists or federations is I/O and happens outside this pure layer: for
`etsi_tl` and `openid_federation` a credential without pre-established ids never matches.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from conformance.protocol.dcql.model import TrustedAuthoritiesQuery

if TYPE_CHECKING:
    from conformance.protocol.dcql.wallet import WalletCredential

SPEC_TYPES = ("aki", "etsi_tl", "openid_federation")

DID_TYPE_NOTE = (
    "trusted_authorities type 'did' is not defined by OID4VP 1.0 §6.1.1 (it defines aki, etsi_tl and "
    "openid_federation); it is supported because the TCS verifier documents it: a credential matches "
    "when its issuer DID equals one of the values"
)

UNKNOWN_TYPE_POLICY = (
    "OID4VP 1.0 §6.1.1 lists the types it defines without closing the set, so an unknown type is not "
    "a query error; this wallet cannot evaluate it, and no credential matches that entry"
)

AuthorityMatcher = Callable[["WalletCredential", TrustedAuthoritiesQuery], bool]


def _aki_bytes(value: str) -> bytes | None:
    """§6.1.1 aki: the raw KeyIdentifier bytes must match, so compare decoded base64url, not text."""
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return None


def _wallet_ids(credential: WalletCredential, authority_type: str) -> frozenset[str]:
    ids = credential.authority_ids
    return ids.get(authority_type, frozenset()) if ids else frozenset()


def _match_aki(credential: WalletCredential, query: TrustedAuthoritiesQuery) -> bool:
    held = {_aki_bytes(value) for value in _wallet_ids(credential, "aki")} - {None}
    return any(_aki_bytes(value) in held for value in query.values)


def _match_listed(authority_type: str) -> AuthorityMatcher:
    def match(credential: WalletCredential, query: TrustedAuthoritiesQuery) -> bool:
        return not _wallet_ids(credential, authority_type).isdisjoint(query.values)

    return match


def _match_did(credential: WalletCredential, query: TrustedAuthoritiesQuery) -> bool:
    if credential.issuer is not None and credential.issuer in query.values:
        return True
    return not _wallet_ids(credential, "did").isdisjoint(query.values)


AUTHORITY_MATCHERS: Mapping[str, AuthorityMatcher] = {
    "aki": _match_aki,
    "etsi_tl": _match_listed("etsi_tl"),
    "openid_federation": _match_listed("openid_federation"),
    "did": _match_did,
}


def authorities_match(queries: Iterable[TrustedAuthoritiesQuery], credential: WalletCredential) -> bool:
    """True when the credential matches at least one entry (§6.1.1); unknown types never match."""
    for query in queries:
        matcher = AUTHORITY_MATCHERS.get(query.type)
        if matcher is not None and matcher(credential, query):
            return True
    return False

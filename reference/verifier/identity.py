"""Who the verifier is in one session: the Client Identifier it sends and the `kid` of its key.

`verifier_client_id` (seed: "The verifier's DID (or URL)") is checked against the private key
before anything is signed, so a wallet never receives a request it cannot verify:
- a DID (bare, as the seed shows, or `decentralized_identifier:<did>`): its DID document (did:key
  and did:jwk locally, did:iota on the ledger) must list the key among its verification methods,
  authorised for authentication or assertionMethod; that method's id is the JAR's `kid`
  (OID4VP 1.0 §5.9.3). The Client Identifier sent is `decentralized_identifier:<did>`, or the
  bare DID when the deployment sets `bare_did_client_id` (the seed's form).
- an https URL: `client_metadata.jwks` must hold the public key with a `kid` (the seed's pitfall
  "reference it in client_metadata.jwks"; a documented deviation from §5.1, see oid4vp.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.did import verification_key
from conformance.protocol.errors import DidError, JoseError, Oid4vpError
from conformance.protocol.jose import PrivateKey, public_key_from_jwk
from conformance.protocol.oid4vp import HTTPS_URL, ClientId, did_client_id, parse_client_id
from conformance.resolver import DidResolver
from reference.common.errors import ApiError

_RELATIONSHIPS = ("authentication", "assertionMethod")
_UNREACHABLE = frozenset({"resolver_unreachable", "resolver_not_configured"})


@dataclass(frozen=True)
class VerifierIdentity:
    client_id: str  # exactly as sent in the Authorization Request and the Request Object
    kid: str
    notes: tuple[str, ...]


def _bad(code: str, message: str, field: str = "verifier_client_id") -> ApiError:
    return ApiError(400, code, message, field)


async def verifier_identity(value: str, key: PrivateKey, client_metadata: Mapping[str, Any] | None,
                            resolver: DidResolver, *, bare_did: bool) -> VerifierIdentity:
    try:
        client = parse_client_id(value)
    except Oid4vpError as exc:
        raise _bad("invalid_verifier_client_id", exc.message) from None
    if client.did is not None:
        kid = await _did_kid(client, key, resolver)
        return VerifierIdentity(did_client_id(client.did, bare=bare_did), kid, client.notes)
    if client.kind == HTTPS_URL:
        return VerifierIdentity(client.value, _jwks_kid(key, client_metadata), client.notes)
    raise _bad("invalid_verifier_client_id", f"verifier_client_id must be a DID or an https URL, got a "
               f"{client.kind!r} Client Identifier")


async def _did_kid(client: ClientId, key: PrivateKey, resolver: DidResolver) -> str:
    assert client.did is not None
    try:
        document = await resolver.resolve(client.did)
    except DidError as exc:
        if exc.reason in _UNREACHABLE:
            raise ApiError(503, "ledger_unavailable", f"cannot resolve {client.did}: {exc.message}",
                           "verifier_client_id") from None
        raise _bad("verifier_did_not_resolvable", f"cannot resolve {client.did}: {exc.message}") from None
    wanted = key.public.thumbprint()
    for method in document.get("verificationMethod", []):
        method_id = method.get("id") if isinstance(method, Mapping) else None
        if isinstance(method_id, str) and _authorised_key_matches(document, method_id, wanted):
            return method_id if not method_id.startswith("#") else f"{client.did}{method_id}"
    raise _bad("verifier_key_mismatch", f"verifier_private_key is not a key of {client.did}: no verification "
               "method authorised for authentication or assertionMethod holds its public key")


def _authorised_key_matches(document: Mapping[str, Any], method_id: str, thumbprint: str) -> bool:
    did_url = method_id if not method_id.startswith("#") else f"{document.get('id')}{method_id}"
    for relationship in _RELATIONSHIPS:
        try:
            if verification_key(document, did_url, relationship).thumbprint() == thumbprint:
                return True
        except DidError:
            continue
    return False


def _jwks_kid(key: PrivateKey, client_metadata: Mapping[str, Any] | None) -> str:
    jwks = (client_metadata or {}).get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    wanted = key.public.thumbprint()
    for position, jwk in enumerate(keys if isinstance(keys, list) else []):
        try:
            matches = public_key_from_jwk(jwk, f"client_metadata.jwks.keys[{position}]").thumbprint() == wanted
        except JoseError:
            continue
        if matches and isinstance(jwk.get("kid"), str) and jwk["kid"]:
            return jwk["kid"]
    raise _bad("verifier_key_mismatch", "an https verifier_client_id needs client_metadata.jwks to hold the "
               "public key of verifier_private_key, with a kid, so wallets can verify the request")

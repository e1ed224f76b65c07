"""OpenID for Verifiable Presentations 1.0: the messages between a Verifier and a Wallet.

Pure (no I/O): the Verifier, the holder and the harness wallet all build and check OID4VP
messages here, so a rule is written once.

- Client Identifiers and their prefixes (§5.9): `parse_client_id`, `did_client_id`.
- The Authorization Request by reference (§5, RFC 9101 §5.2):
  `build_authorization_request` / `parse_authorization_request` (`openid4vp://authorize?...`).
- The Request Object (JAR, RFC 9101; typ `oauth-authz-req+jwt`, §5): `build_request_object`,
  `request_signing_key_source` (which key signed it, §5.9.3) and `verify_request_object`.
- The Authorization Response (§8): `parse_response_params` for `direct_post` (§8.2) and
  `decrypt_response` for `direct_post.jwt` (§8.3.1, ECDH-ES JWE); the wallet side builds them
  with `build_direct_post_body` / `build_direct_post_jwt_body`.
- Holder binding (§14.1.2, Appendix B.3.6): `RequestObject.key_binding` says which `aud`
  (the full Client Identifier, prefix included, §14.7) and `nonce` a KB-JWT must carry.

Every failure is an `Oid4vpError` whose `reason` is a fine-grained code registered in `REASONS`
with the OAuth / OID4VP error code it maps to (`error_code(exc)`, §8.5, RFC 6749 §4.1.2.1).

Deviations the TCS verifier documents, accepted and reported as notes (`ClientId.notes`):
- a bare DID as `client_id` (OID4VP 1.0 prefixes DIDs with `decentralized_identifier:`);
- an https URL `client_id` whose request-signing key is published in `client_metadata.jwks`
  (§5.1 forbids using those keys to verify signed requests; the seed relies on it).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from conformance.protocol.dcql import DcqlQuery, parse_query
from conformance.protocol.did import parse_did, parse_did_url
from conformance.protocol.errors import DcqlError, DidError, JoseError, Oid4vpError
from conformance.protocol.jose import Jws, PrivateKey, PublicKey, parse_jws, public_key_from_jwk, sign_jws
from conformance.protocol.jwe import ALG as ECDH_ES
from conformance.protocol.jwe import ENC_KEY_BYTES, EcdhPrivateKey, decrypt_ecdh_es, encrypt_ecdh_es

# --- error reasons ---------------------------------------------------------------------------

REASONS: dict[str, tuple[str, str]] = {}
"""detail reason -> (OAuth / OID4VP error code, what it means and the clause it enforces)."""


def _reason(code: str, error: str, doc: str) -> str:
    if code in REASONS:  # pragma: no cover - guards against a copy-paste slip at import time
        raise ValueError(f"duplicate OID4VP reason {code!r}")
    REASONS[code] = (error, doc)
    return code


CLIENT_ID_MISSING = _reason("client_id_missing", "invalid_request",
                            "client_id is absent or not a non-empty string (§5.2, RFC 6749 §4.1.1).")
CLIENT_ID_PREFIX_UNSUPPORTED = _reason(
    "client_id_prefix_unsupported", "invalid_request",
    "The Client Identifier Prefix is not one this implementation supports for signed requests (§5.9.1, §8.5).")
CLIENT_ID_PREFIX_RESERVED = _reason(
    "client_id_prefix_reserved", "invalid_request",
    "The `origin` prefix is reserved for the DC API and MUST NOT be accepted in requests (§5.9.3).")
CLIENT_ID_INVALID = _reason(
    "client_id_invalid", "invalid_request",
    "The part after the prefix does not belong to the prefix, e.g. not a DID after decentralized_identifier: (§5.9.3, §8.5).")
CLIENT_ID_MISMATCH = _reason(
    "client_id_mismatch", "invalid_request",
    "The Request Object's client_id differs from the client_id of the Authorization Request, prefix included "
    "(§5.10.1, RFC 9101 §5).")
AUTHORIZATION_REQUEST_MALFORMED = _reason(
    "authorization_request_malformed", "invalid_request",
    "The Authorization Request URL cannot be parsed or repeats a parameter (RFC 6749 §3.1).")
REQUEST_URI_MISSING = _reason(
    "request_uri_missing", "invalid_request",
    "Neither request_uri nor request is present: this implementation only exchanges signed Request Objects (§5, RFC 9101 §5).")
REQUEST_URI_METHOD_INVALID = _reason(
    "request_uri_method_invalid", "invalid_request_uri_method",
    "request_uri_method is neither `get` nor `post` (case-sensitive), or is present without request_uri (§5.1, §8.5).")
REQUEST_OBJECT_MALFORMED = _reason(
    "request_object_malformed", "invalid_request_object",
    "The Request Object is not a compact JWS with a JSON object payload (RFC 9101 §4).")
REQUEST_OBJECT_SIGNATURE_INVALID = _reason(
    "request_object_signature_invalid", "invalid_request_object",
    "The Request Object's signature does not verify with the Verifier's key (§5.9.3, RFC 9101 §6.2).")
REQUEST_OBJECT_TYP_INVALID = _reason(
    "request_object_typ_invalid", "invalid_request_object",
    "The Request Object's typ header is absent or not oauth-authz-req+jwt (§5, RFC 9101 §10.8).")
REQUEST_OBJECT_KID_INVALID = _reason(
    "request_object_kid_invalid", "invalid_request_object",
    "The Request Object's kid does not identify a key of the Client: for a DID Client Identifier it must be a "
    "DID URL of that DID (§5.9.3).")
REQUEST_OBJECT_EXPIRED = _reason(
    "request_object_expired", "invalid_request_object",
    "The Request Object's exp has passed (RFC 9101 §4, RFC 7519 §4.1.4).")
RESPONSE_TYPE_UNSUPPORTED = _reason(
    "response_type_unsupported", "unsupported_response_type",
    "response_type is not vp_token, the one Response Type this implementation serves (§5.6, RFC 6749 §4.1.2.1).")
RESPONSE_MODE_UNSUPPORTED = _reason(
    "response_mode_unsupported", "invalid_request",
    "response_mode is absent or not direct_post / direct_post.jwt (§5.2, §8.2, §8.3.1).")
REDIRECT_URI_WITH_DIRECT_POST = _reason(
    "redirect_uri_with_direct_post", "invalid_request",
    "redirect_uri is present although the Response Mode is direct_post(.jwt) (§8.2).")
RESPONSE_URI_MISSING = _reason(
    "response_uri_missing", "invalid_request",
    "response_uri is absent or not a URL although the Response Mode is direct_post(.jwt) (§8.2).")
NONCE_MISSING = _reason(
    "nonce_missing", "invalid_request",
    "nonce is absent or empty; it is REQUIRED (§5.2).")
NONCE_INVALID = _reason(
    "nonce_invalid", "invalid_request",
    "nonce has characters outside the ASCII URL-safe set (letters, digits, - . _ ~) (§5.2).")
STATE_INVALID = _reason(
    "state_invalid", "invalid_request",
    "state is not a string of ASCII URL-safe characters (§5.2).")
DCQL_QUERY_MISSING = _reason(
    "dcql_query_missing", "invalid_request",
    "The request has no dcql_query (and no scope standing for one), or has both (§5.1, §8.5).")
DCQL_QUERY_INVALID = _reason(
    "dcql_query_invalid", "invalid_request",
    "dcql_query is not a valid DCQL query; the message carries the DCQL reason (§6).")
CLIENT_METADATA_INVALID = _reason(
    "client_metadata_invalid", "invalid_request",
    "client_metadata is not a JSON object, or its jwks is not a JWK Set whose keys all have a kid (§5.1).")
ENCRYPTION_KEY_MISSING = _reason(
    "encryption_key_missing", "invalid_request",
    "direct_post.jwt is requested but client_metadata.jwks has no usable ECDH-ES key, or its "
    "encrypted_response_enc_values_supported names no supported enc (§8.3).")
WALLET_NONCE_MISMATCH = _reason(
    "wallet_nonce_mismatch", "invalid_request",
    "The Wallet sent a wallet_nonce but the Request Object does not carry the same value (§5.10.1).")
TRANSACTION_DATA_UNSUPPORTED = _reason(
    "transaction_data_unsupported", "invalid_transaction_data",
    "The request carries transaction_data, which this implementation does not support and so MUST reject (§5, §8.4).")
VP_TOKEN_MISSING = _reason(
    "vp_token_missing", "invalid_request",
    "The Authorization Response has neither vp_token nor error (§8.1).")
VP_TOKEN_MALFORMED = _reason(
    "vp_token_malformed", "invalid_request",
    "vp_token is not a JSON object whose keys are credential query ids and whose values are non-empty arrays "
    "of Presentations (strings or objects) (§8.1).")
VP_TOKEN_UNKNOWN_QUERY = _reason(
    "vp_token_unknown_query", "invalid_request",
    "vp_token has an entry whose key is not the id of a Credential Query of the request (§8.1).")
VP_TOKEN_TOO_MANY = _reason(
    "vp_token_too_many", "invalid_request",
    "A Credential Query without `multiple: true` is answered with more than one Presentation (§8.1).")
STATE_MISMATCH = _reason(
    "state_mismatch", "invalid_request",
    "The response's state is absent or not the state of the request it answers (§5.3, §14.3.2).")
RESPONSE_MISSING = _reason(
    "response_missing", "invalid_request",
    "direct_post.jwt: the POST body has no `response` parameter holding the JWE (§8.3.1).")
RESPONSE_DECRYPTION_FAILED = _reason(
    "response_decryption_failed", "invalid_request",
    "direct_post.jwt: `response` is not an ECDH-ES JWE that decrypts with the Verifier's key (§8.3, RFC 7516).")
RESPONSE_KID_MISMATCH = _reason(
    "response_kid_mismatch", "invalid_request",
    "The JWE kid is not the kid of the encryption key the request published (§8.3).")
RESPONSE_ENC_NOT_ALLOWED = _reason(
    "response_enc_not_allowed", "invalid_request",
    "The JWE enc is not in client_metadata.encrypted_response_enc_values_supported (default A128GCM) (§8.3).")
RESPONSE_PAYLOAD_INVALID = _reason(
    "response_payload_invalid", "invalid_request",
    "The decrypted JWE payload is not a JSON object of response parameters (§8.3).")
ERROR_RESPONSE_MALFORMED = _reason(
    "error_response_malformed", "invalid_request",
    "An Authorization Error Response whose error or error_description is not a string (RFC 6749 §4.1.2.1).")


def error_code(exc: Oid4vpError) -> str:
    """The OAuth / OID4VP `error` value for a failure (§8.5)."""
    return REASONS.get(exc.reason, ("invalid_request", ""))[0]


def _fail(reason: str, message: str, field_name: str | None = None) -> Oid4vpError:
    return Oid4vpError(reason, message, field_name)


# --- Client Identifiers (§5.9) -------------------------------------------------------------

DID_PREFIX = "decentralized_identifier"
PRE_REGISTERED = "pre-registered"
# Kinds that are not OID4VP 1.0 prefixes but forms the TCS seed uses.
BARE_DID = "bare_did"
HTTPS_URL = "https_url"

BARE_DID_NOTE = (
    "client_id is a bare DID; OID4VP 1.0 §5.9.3 prefixes DIDs with 'decentralized_identifier:'. Accepted because "
    "the TCS verifier documents it; the KB-JWT aud must still equal the client_id exactly as sent (§14.7)"
)
HTTPS_JWKS_NOTE = (
    "client_id is an https URL whose request-signing key is taken from client_metadata.jwks, as the TCS "
    "verifier documents; OID4VP 1.0 §5.1 says keys in client_metadata MUST NOT verify signed requests"
)


@dataclass(frozen=True)
class ClientIdPrefix:
    name: str
    signed: str  # "must" | "cannot" | "may": whether requests under this prefix are signed (§5.9.3)
    clause: str


# §5.9.3; `origin` is reserved for the DC API and refused.
PREFIXES: Mapping[str, ClientIdPrefix] = {p.name: p for p in (
    ClientIdPrefix("redirect_uri", "cannot", "§5.9.3"),
    ClientIdPrefix("openid_federation", "must", "§5.9.3"),
    ClientIdPrefix(DID_PREFIX, "must", "§5.9.3"),
    ClientIdPrefix("verifier_attestation", "must", "§5.9.3, §11"),
    ClientIdPrefix("x509_san_dns", "must", "§5.9.3"),
    ClientIdPrefix("x509_hash", "must", "§5.9.3"),
)}


@dataclass(frozen=True)
class ClientId:
    """A parsed Client Identifier. `value` is the whole string as sent (prefix included): it is what
    the request's and the KB-JWT's `aud` must repeat (§5.9.1, §14.7). `kind` is a prefix name from
    `PREFIXES`, `pre-registered` (no colon, §5.9.2), or a seed form (`bare_did`, `https_url`)."""

    value: str
    kind: str
    identifier: str
    notes: tuple[str, ...] = ()

    @property
    def did(self) -> str | None:
        return self.identifier if self.kind in (DID_PREFIX, BARE_DID) else None


def parse_client_id(value: Any) -> ClientId:
    """§5.9.1: the prefix is the text before the first colon, when it is a known prefix."""
    if not isinstance(value, str) or not value:
        raise _fail(CLIENT_ID_MISSING, "client_id must be a non-empty string", "client_id")
    prefix, colon, rest = value.partition(":")
    if not colon:
        return ClientId(value, PRE_REGISTERED, value)
    if prefix == "origin":
        raise _fail(CLIENT_ID_PREFIX_RESERVED, "client_id uses the reserved 'origin:' prefix, which is only "
                    "set by the Digital Credentials API and MUST NOT be accepted in a request (§5.9.3)", "client_id")
    if prefix == DID_PREFIX:
        return ClientId(value, DID_PREFIX, _did_of(rest, value))
    if prefix in PREFIXES:
        return ClientId(value, prefix, rest)
    if prefix == "did":
        return ClientId(value, BARE_DID, _did_of(value, value), (BARE_DID_NOTE,))
    if prefix == "https" and rest.startswith("//"):
        return ClientId(value, HTTPS_URL, value, (HTTPS_JWKS_NOTE,))
    raise _fail(CLIENT_ID_PREFIX_UNSUPPORTED, f"client_id prefix {prefix!r} is not supported (supported: "
                f"{', '.join(PREFIXES)}, a bare DID, an https URL, or no prefix)", "client_id")


def _did_of(text: str, client_id: str) -> str:
    try:
        return parse_did(text).did
    except DidError as exc:
        raise _fail(CLIENT_ID_INVALID, f"client_id {client_id!r} must carry a DID without fragment: "
                    f"{exc.message}", "client_id") from None


def did_client_id(did: str, *, bare: bool = False) -> str:
    """The Client Identifier for a Verifier identified by `did`: `decentralized_identifier:<did>`
    (§5.9.3), or the bare DID the seed shows when `bare`."""
    did = parse_did(did).did
    return did if bare else f"{DID_PREFIX}:{did}"


# --- Authorization Request by reference (§5, RFC 9101 §5.2) ----------------------------------

DEFAULT_AUTHORIZATION_ENDPOINT = "openid4vp://authorize"
REQUEST_URI_METHODS = ("get", "post")


@dataclass(frozen=True)
class AuthorizationRequest:
    """The parameters of an `openid4vp://` (or https) Authorization Request that points to a
    Request Object: by reference (`request_uri`) or by value (`request`)."""

    client_id: str
    request_uri: str | None = None
    request_uri_method: str | None = None
    request: str | None = None


def build_authorization_request(client_id: str, request_uri: str, *, request_uri_method: str | None = None,
                                endpoint: str = DEFAULT_AUTHORIZATION_ENDPOINT) -> str:
    """`<endpoint>?client_id=..&request_uri=..[&request_uri_method=post]`, percent-encoded."""
    if request_uri_method is not None and request_uri_method not in REQUEST_URI_METHODS:
        raise _fail(REQUEST_URI_METHOD_INVALID, f"request_uri_method {request_uri_method!r} is not one of "
                    f"{', '.join(REQUEST_URI_METHODS)} (§5.1)", "request_uri_method")
    params = [("client_id", client_id), ("request_uri", request_uri)]
    if request_uri_method is not None:
        params.append(("request_uri_method", request_uri_method))
    return f"{endpoint}?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params)


def parse_authorization_request(url: Any) -> AuthorizationRequest:
    """Parse the deep link or URL a Verifier hands to a Wallet. Accepts `openid4vp://authorize?`,
    `openid4vp://?` (the holder seed's form) and https Authorization Endpoints."""
    if not isinstance(url, str) or "?" not in url:
        raise _fail(AUTHORIZATION_REQUEST_MALFORMED, "the Authorization Request must be a URL with a query "
                    "(e.g. openid4vp://authorize?client_id=...&request_uri=...)", "authorization_request")
    try:
        query = parse_qs(urlsplit(url).query, keep_blank_values=True, strict_parsing=True)
    except ValueError as exc:
        raise _fail(AUTHORIZATION_REQUEST_MALFORMED, f"the Authorization Request query does not parse: {exc}",
                    "authorization_request") from None
    repeated = sorted(k for k, v in query.items() if len(v) > 1)
    if repeated:
        raise _fail(AUTHORIZATION_REQUEST_MALFORMED, f"parameters {', '.join(repeated)} appear more than once "
                    "(RFC 6749 §3.1)", repeated[0])
    params = {k: v[0] for k, v in query.items()}
    client = parse_client_id(params.get("client_id"))
    request_uri, request, method = params.get("request_uri"), params.get("request"), params.get("request_uri_method")
    if method is not None and (method not in REQUEST_URI_METHODS or request_uri is None):
        raise _fail(REQUEST_URI_METHOD_INVALID, f"request_uri_method {method!r} must be 'get' or 'post' and only "
                    "appear with request_uri (§5.1)", "request_uri_method")
    if not request_uri and not request:
        raise _fail(REQUEST_URI_MISSING, "the Authorization Request has neither request_uri nor request; only "
                    "signed Request Objects (RFC 9101) are exchanged here", "request_uri")
    return AuthorizationRequest(client.value, request_uri or None, method, request or None)


# --- Client metadata (§5.1, §10.1) -----------------------------------------------------------

DEFAULT_ENC = "A128GCM"
SUPPORTED_ENCS = tuple(ENC_KEY_BYTES)
# Appendix B.3.4: what this implementation accepts for SD-JWT VC presentations.
VP_FORMATS_SUPPORTED: Mapping[str, Any] = {
    "dc+sd-jwt": {"sd-jwt_alg_values": ["EdDSA", "Ed25519", "ES256"],
                  "kb-jwt_alg_values": ["EdDSA", "Ed25519", "ES256"]},
}


def build_client_metadata(base: Mapping[str, Any] | None = None, *,
                          encryption_key: EcdhPrivateKey | None = None,
                          enc_values: tuple[str, ...] = (DEFAULT_ENC,)) -> dict[str, Any]:
    """The `client_metadata` of a request: the caller's display members (client_name, logo_uri,
    policy_uri, tos_uri, jwks...), `vp_formats_supported` (§10.1), and for encrypted responses the
    public part of the ephemeral ECDH-ES key in `jwks` plus `encrypted_response_enc_values_supported`."""
    metadata = dict(base or {})
    metadata.setdefault("vp_formats_supported", copy.deepcopy(dict(VP_FORMATS_SUPPORTED)))
    if encryption_key is not None:
        if encryption_key.kid is None:
            raise ValueError("the encryption key needs a kid: every key in client_metadata.jwks has one (§5.1)")
        keys = list((metadata.get("jwks") or {}).get("keys", []))
        metadata["jwks"] = {"keys": [*keys, encryption_key.public_jwk()]}
        metadata["encrypted_response_enc_values_supported"] = list(enc_values)
    _check_client_metadata(metadata)
    return metadata


def _check_client_metadata(metadata: Any) -> Mapping[str, Any]:
    if not isinstance(metadata, Mapping):
        raise _fail(CLIENT_METADATA_INVALID, "client_metadata must be a JSON object (§5.1)", "client_metadata")
    jwks = metadata.get("jwks")
    if jwks is not None:
        keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
        if not isinstance(keys, list) or not all(isinstance(k, Mapping) for k in keys):
            raise _fail(CLIENT_METADATA_INVALID, "client_metadata.jwks must be a JWK Set {\"keys\": [...]} (§5.1, "
                        "RFC 7517 §5)", "client_metadata.jwks")
        if not all(isinstance(k.get("kid"), str) and k["kid"] for k in keys):
            raise _fail(CLIENT_METADATA_INVALID, "every key in client_metadata.jwks MUST have a kid (§5.1)",
                        "client_metadata.jwks")
    encs = metadata.get("encrypted_response_enc_values_supported")
    if encs is not None and (not isinstance(encs, list) or not encs or not all(isinstance(e, str) for e in encs)):
        raise _fail(CLIENT_METADATA_INVALID, "encrypted_response_enc_values_supported must be a non-empty array "
                    "of strings (§5.1)", "client_metadata.encrypted_response_enc_values_supported")
    return metadata


def select_encryption_jwk(client_metadata: Mapping[str, Any] | None) -> tuple[Mapping[str, Any], str]:
    """The wallet's choice for `direct_post.jwt` (§8.3): the first ECDH-ES key on a supported
    curve, and the first supported `enc` of `encrypted_response_enc_values_supported` (default A128GCM)."""
    metadata = _check_client_metadata(client_metadata or {})
    keys = (metadata.get("jwks") or {}).get("keys", [])
    usable = [k for k in keys if k.get("alg") == ECDH_ES and k.get("use", "enc") == "enc"
              and (k.get("kty"), k.get("crv")) in (("EC", "P-256"), ("OKP", "X25519"))]
    encs = [e for e in metadata.get("encrypted_response_enc_values_supported", [DEFAULT_ENC]) if e in SUPPORTED_ENCS]
    if not usable or not encs:
        raise _fail(ENCRYPTION_KEY_MISSING, "direct_post.jwt needs client_metadata.jwks to hold an ECDH-ES key "
                    "(alg ECDH-ES, P-256 or X25519) and an enc among " + ", ".join(SUPPORTED_ENCS) + " (§8.3)",
                    "client_metadata.jwks")
    return usable[0], encs[0]


# --- Request Object (JAR, RFC 9101) ----------------------------------------------------------

JAR_TYP = "oauth-authz-req+jwt"
STATIC_DISCOVERY_AUD = "https://self-issued.me/v2"  # §5.8, Static Discovery
RESPONSE_TYPE = "vp_token"
RESPONSE_MODES = ("direct_post", "direct_post.jwt")
_URL_SAFE = re.compile(r"[A-Za-z0-9._~-]+")  # §5.2: the characters nonce and state may use


@dataclass(frozen=True)
class KeyBindingTarget:
    """What a KB-JWT answering this request must carry (Appendix B.3.6, §14.1.2)."""

    aud: str
    nonce: str


@dataclass(frozen=True)
class RequestObject:
    """A verified Request Object. `claims` is the whole payload; `dcql` the parsed query."""

    client_id: str
    response_type: str
    response_mode: str
    response_uri: str
    nonce: str
    state: str | None
    dcql_query: Mapping[str, Any]
    dcql: DcqlQuery
    client_metadata: Mapping[str, Any] | None
    wallet_nonce: str | None
    header: Mapping[str, Any] = field(repr=False)
    claims: Mapping[str, Any] = field(repr=False)

    @property
    def key_binding(self) -> KeyBindingTarget:
        """§14.7: the audience is the full Client Identifier, prefix included, as sent."""
        return KeyBindingTarget(self.client_id, self.nonce)


def build_request_object(key: PrivateKey, *, client_id: str, response_uri: str, nonce: str,
                         dcql_query: Mapping[str, Any], iat: int, state: str | None = None,
                         response_mode: str = "direct_post", client_metadata: Mapping[str, Any] | None = None,
                         kid: str | None = None, wallet_nonce: str | None = None, exp: int | None = None,
                         aud: str = STATIC_DISCOVERY_AUD) -> str:
    """Sign a Request Object (RFC 9101 §4) with typ oauth-authz-req+jwt (§5). The inputs are
    checked with the same rules `verify_request_object` applies, so a Verifier cannot emit a
    request its own wallets would refuse."""
    claims: dict[str, Any] = {
        "client_id": client_id, "response_type": RESPONSE_TYPE, "response_mode": response_mode,
        "response_uri": response_uri, "nonce": nonce, "dcql_query": dict(dcql_query), "aud": aud, "iat": iat,
    }
    optional = {"state": state, "client_metadata": client_metadata, "wallet_nonce": wallet_nonce, "exp": exp}
    claims.update({k: v for k, v in optional.items() if v is not None})
    parse_client_id(client_id)
    _check_claims(claims)
    header = {"typ": JAR_TYP, **({"kid": kid} if kid else {})}
    return sign_jws(header, claims, key)


@dataclass(frozen=True)
class SigningKeySource:
    """Where the key that signed a Request Object is found (§5.9.3): a DID URL to resolve (its
    verification method), or a JWK out of client_metadata.jwks (seed deviation for https ids)."""

    client: ClientId
    did_url: str | None = None
    jwk: Mapping[str, Any] | None = None


def request_signing_key_source(token: str, client_id: str) -> SigningKeySource:
    """Read (without verifying) which key signed `token`, for the Client Identifier the
    Authorization Request named. The caller resolves it (I/O) and calls `verify_request_object`."""
    client = parse_client_id(client_id)
    jws = _parse_request_jws(token)
    kid = jws.header.get("kid")
    if client.did is not None:
        return SigningKeySource(client, did_url=_did_kid(client, kid))
    if client.kind == HTTPS_URL:
        return SigningKeySource(client, jwk=_jwks_key(jws.payload.get("client_metadata"), kid))
    raise _fail(CLIENT_ID_PREFIX_UNSUPPORTED, f"requests from a {client.kind!r} Client Identifier cannot be "
                "verified here (supported: decentralized_identifier, a bare DID, an https URL with "
                "client_metadata.jwks)", "client_id")


def _did_kid(client: ClientId, kid: Any) -> str:
    if not isinstance(kid, str):
        raise _fail(REQUEST_OBJECT_KID_INVALID, "a request signed for a DID Client Identifier MUST name its key "
                    "with a kid DID URL (§5.9.3)", "header.kid")
    if kid.startswith("#"):
        kid = f"{client.did}{kid}"
    try:
        did, _ = parse_did_url(kid)
    except DidError as exc:
        raise _fail(REQUEST_OBJECT_KID_INVALID, f"header.kid {kid!r} is not a DID URL: {exc.message}",
                    "header.kid") from None
    if did.did != client.did:
        raise _fail(REQUEST_OBJECT_KID_INVALID, f"header.kid names {did.did}, but the Client Identifier is "
                    f"{client.did} (§5.9.3)", "header.kid")
    return kid


def _jwks_key(client_metadata: Any, kid: Any) -> Mapping[str, Any]:
    metadata = _check_client_metadata(client_metadata or {})
    keys = [k for k in (metadata.get("jwks") or {}).get("keys", []) if k.get("use", "sig") == "sig"
            and k.get("alg") != ECDH_ES]
    chosen = [k for k in keys if k.get("kid") == kid] if kid is not None else keys[:1]
    if len(chosen) != 1:
        raise _fail(REQUEST_OBJECT_KID_INVALID, f"client_metadata.jwks has no signing key with kid {kid!r}",
                    "header.kid")
    return chosen[0]


def verify_request_object(token: str, key: PublicKey, *, expected_client_id: str, now: float | None = None,
                          wallet_nonce: str | None = None, leeway: int = 60) -> RequestObject:
    """Verify a Request Object for the Authorization Request that named `expected_client_id`:
    signature, typ, client_id, wallet_nonce, exp, then the OID4VP parameter rules."""
    jws = _parse_request_jws(token)
    try:
        jws.verify_with(key)
    except JoseError as exc:
        raise _fail(REQUEST_OBJECT_SIGNATURE_INVALID, f"the Request Object signature does not verify with the "
                    f"Verifier's key ({exc.reason}) (§5.9.3)", "signature") from None
    typ = jws.header.get("typ")
    if typ != JAR_TYP:
        raise _fail(REQUEST_OBJECT_TYP_INVALID, f"header.typ is {typ!r}; a Request Object MUST have typ "
                    f"{JAR_TYP!r} (§5)", "header.typ")
    claims = jws.payload
    if claims.get("client_id") != expected_client_id:
        raise _fail(CLIENT_ID_MISMATCH, f"the Request Object's client_id {claims.get('client_id')!r} is not the "
                    f"Authorization Request's {expected_client_id!r}; they MUST be identical, prefix "
                    "included (§5.10.1)", "client_id")
    if wallet_nonce is not None and claims.get("wallet_nonce") != wallet_nonce:
        raise _fail(WALLET_NONCE_MISMATCH, "the Request Object does not carry the wallet_nonce the Wallet sent "
                    "(§5.10.1)", "wallet_nonce")
    exp = claims.get("exp")
    if now is not None and isinstance(exp, int | float) and not isinstance(exp, bool) and now > exp + leeway:
        raise _fail(REQUEST_OBJECT_EXPIRED, f"the Request Object expired at {exp} (now {int(now)})", "exp")
    dcql = _check_claims(claims)
    return RequestObject(
        client_id=claims["client_id"], response_type=claims["response_type"],
        response_mode=claims["response_mode"], response_uri=claims["response_uri"], nonce=claims["nonce"],
        state=claims.get("state"), dcql_query=claims["dcql_query"], dcql=dcql,
        client_metadata=claims.get("client_metadata"), wallet_nonce=claims.get("wallet_nonce"),
        header=jws.header, claims=claims)


def _parse_request_jws(token: Any) -> Jws:
    try:
        return parse_jws(token, "request_object")
    except JoseError as exc:
        raise _fail(REQUEST_OBJECT_MALFORMED, f"the Request Object is not a signed JWT: {exc.message}",
                    "request_object") from None


def _check_claims(claims: Mapping[str, Any]) -> DcqlQuery:
    """The OID4VP parameter rules for a request answered by direct post (§5.1, §5.2, §8.2, §8.3)."""
    parse_client_id(claims.get("client_id"))
    if claims.get("response_type") != RESPONSE_TYPE:
        raise _fail(RESPONSE_TYPE_UNSUPPORTED, f"response_type is {claims.get('response_type')!r}; this "
                    f"implementation serves {RESPONSE_TYPE!r} (§5.6)", "response_type")
    mode = claims.get("response_mode")
    if mode not in RESPONSE_MODES:
        raise _fail(RESPONSE_MODE_UNSUPPORTED, f"response_mode is {mode!r}; expected one of "
                    f"{', '.join(RESPONSE_MODES)} (§8.2, §8.3.1)", "response_mode")
    if "redirect_uri" in claims:
        raise _fail(REDIRECT_URI_WITH_DIRECT_POST, "redirect_uri MUST NOT be present when the Response Mode is "
                    f"{mode} (§8.2)", "redirect_uri")
    uri = claims.get("response_uri")
    if not isinstance(uri, str) or not re.match(r"https?://[^/?#]+", uri):
        raise _fail(RESPONSE_URI_MISSING, f"response_uri must be an http(s) URL for {mode}, got {uri!r} (§8.2)",
                    "response_uri")
    _check_url_safe(claims.get("nonce"), "nonce", NONCE_MISSING, NONCE_INVALID)
    if claims.get("state") is not None:
        _check_url_safe(claims["state"], "state", STATE_INVALID, STATE_INVALID)
    if "transaction_data" in claims:
        raise _fail(TRANSACTION_DATA_UNSUPPORTED, "transaction_data is not supported here, so the request MUST "
                    "be rejected (§5)", "transaction_data")
    metadata = claims.get("client_metadata")
    if metadata is not None:
        _check_client_metadata(metadata)
    if mode == "direct_post.jwt":
        select_encryption_jwk(metadata)
    return _check_dcql(claims)


def _check_url_safe(value: Any, name: str, missing: str, invalid: str) -> None:
    if not isinstance(value, str) or not value:
        raise _fail(missing, f"{name} is required and must be a non-empty string (§5.2)", name)
    if not _URL_SAFE.fullmatch(value):
        raise _fail(invalid, f"{name} may only contain ASCII letters, digits, '-', '.', '_' and '~' (§5.2)", name)


def _check_dcql(claims: Mapping[str, Any]) -> DcqlQuery:
    query = claims.get("dcql_query")
    if query is None or "scope" in claims:
        raise _fail(DCQL_QUERY_MISSING, "the request must carry dcql_query (a scope standing for a DCQL query "
                    "is not supported here), and not both (§5.1, §8.5)", "dcql_query")
    try:
        return parse_query(query)
    except DcqlError as exc:
        raise _fail(DCQL_QUERY_INVALID, f"dcql_query is invalid ({exc.reason}): {exc.message}",
                    f"dcql_query.{exc.field}" if exc.field else "dcql_query") from None


# --- Authorization Response (§8) -------------------------------------------------------------

Presentation = str | Mapping[str, Any]


@dataclass(frozen=True)
class AuthorizationResponse:
    """§8.1: `vp_token` maps each answered credential query id to its Presentations."""

    vp_token: Mapping[str, tuple[Presentation, ...]]
    state: str | None


@dataclass(frozen=True)
class AuthorizationErrorResponse:
    """§8.2 / RFC 6749 §4.1.2.1: the Wallet declined or failed."""

    error: str
    error_description: str | None
    state: str | None


def parse_vp_token(value: Any) -> dict[str, tuple[Presentation, ...]]:
    """A vp_token as received: a JSON object, or its JSON text in a form-encoded body (§8.1, §8.2)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise _fail(VP_TOKEN_MALFORMED, f"vp_token is not JSON: {exc.msg} (§8.1)", "vp_token") from None
    if not isinstance(value, Mapping) or not value:
        raise _fail(VP_TOKEN_MALFORMED, "vp_token must be a non-empty JSON object keyed by credential query id "
                    "(§8.1)", "vp_token")
    token: dict[str, tuple[Presentation, ...]] = {}
    for query_id, presentations in value.items():
        where = f"vp_token.{query_id}"
        if not isinstance(presentations, list) or not presentations:
            raise _fail(VP_TOKEN_MALFORMED, f"{where} must be a non-empty array of Presentations (§8.1)", where)
        if not all(isinstance(p, str | Mapping) and p for p in presentations):
            raise _fail(VP_TOKEN_MALFORMED, f"{where}: each Presentation is a non-empty string or object (§8.1)",
                        where)
        token[query_id] = tuple(presentations)
    return token


def parse_response_params(params: Mapping[str, Any]) -> AuthorizationResponse | AuthorizationErrorResponse:
    """The parameters of a direct_post body (§8.2) or a decrypted direct_post.jwt payload (§8.3)."""
    state = params.get("state")
    if state is not None and not isinstance(state, str):
        raise _fail(STATE_MISMATCH, "state must be a string (§5.2)", "state")
    if "error" in params and "vp_token" not in params:
        error, description = params.get("error"), params.get("error_description")
        if not isinstance(error, str) or not error or not isinstance(description, str | None):
            raise _fail(ERROR_RESPONSE_MALFORMED, "error must be a non-empty string and error_description a "
                        "string (RFC 6749 §4.1.2.1)", "error")
        return AuthorizationErrorResponse(error, description, state)
    if params.get("vp_token") is None:
        raise _fail(VP_TOKEN_MISSING, "the response has no vp_token (§8.1)", "vp_token")
    return AuthorizationResponse(parse_vp_token(params["vp_token"]), state)


def check_vp_token_shape(vp_token: Mapping[str, tuple[Presentation, ...]], query: DcqlQuery) -> None:
    """§8.1: every key is a credential query id, and a query without `multiple` gets one Presentation.
    Whether the answered queries satisfy the request (credential sets) is DCQL's business (§6.4.2)."""
    for query_id, presentations in vp_token.items():
        try:
            credential_query = query.credential(query_id)
        except KeyError:
            raise _fail(VP_TOKEN_UNKNOWN_QUERY, f"vp_token has an entry {query_id!r}, which is not a credential "
                        f"query id of the request ({', '.join(c.id for c in query.credentials)}) (§8.1)",
                        f"vp_token.{query_id}") from None
        if len(presentations) > 1 and not credential_query.multiple:
            raise _fail(VP_TOKEN_TOO_MANY, f"vp_token.{query_id} holds {len(presentations)} Presentations but the "
                        "query does not set multiple: true, so it MUST hold one (§8.1)", f"vp_token.{query_id}")


def check_state(response_state: str | None, expected: str | None) -> None:
    """§14.3.2: the response must answer the request whose state it repeats."""
    if expected is not None and response_state != expected:
        raise _fail(STATE_MISMATCH, "the response's state is not the state of the request it answers (§14.3.2)",
                    "state")


def decrypt_response(jwe: Any, key: EcdhPrivateKey, *,
                     client_metadata: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Open a direct_post.jwt `response` (§8.3.1): decrypt, check kid and enc against what the
    request published, and return the response parameters (the JWT claims)."""
    if not isinstance(jwe, str) or not jwe:
        raise _fail(RESPONSE_MISSING, "direct_post.jwt: the body must carry `response`, the encrypted "
                    "Authorization Response (§8.3.1)", "response")
    try:
        header, plaintext = decrypt_ecdh_es(jwe, key)
    except JoseError as exc:
        raise _fail(RESPONSE_DECRYPTION_FAILED, f"direct_post.jwt: the response does not decrypt ({exc.reason}): "
                    f"{exc.message}", "response") from None
    if key.kid is not None and header.get("kid") != key.kid:
        raise _fail(RESPONSE_KID_MISMATCH, f"the JWE kid is {header.get('kid')!r}; the published key has kid "
                    f"{key.kid!r}, which the JWE MUST repeat (§8.3)", "response.header.kid")
    allowed = (client_metadata or {}).get("encrypted_response_enc_values_supported", [DEFAULT_ENC])
    if header.get("enc") not in allowed:
        raise _fail(RESPONSE_ENC_NOT_ALLOWED, f"the JWE enc is {header.get('enc')!r}; the request allowed "
                    f"{', '.join(allowed)} (§8.3)", "response.header.enc")
    try:
        payload = json.loads(plaintext)
    except (UnicodeDecodeError, json.JSONDecodeError):
        payload = None
    if not isinstance(payload, dict):
        raise _fail(RESPONSE_PAYLOAD_INVALID, "the decrypted response is not a JSON object of response "
                    "parameters (§8.3)", "response")
    return payload


def build_direct_post_body(vp_token: Mapping[str, list[Presentation]], state: str | None) -> dict[str, str]:
    """The form fields a Wallet POSTs for direct_post (§8.2): vp_token as JSON text, plus state."""
    body = {"vp_token": json.dumps(vp_token, separators=(",", ":"))}
    if state is not None:
        body["state"] = state
    return body


def build_direct_post_jwt_body(vp_token: Mapping[str, list[Presentation]], state: str | None,
                               client_metadata: Mapping[str, Any] | None) -> dict[str, str]:
    """The form fields a Wallet POSTs for direct_post.jwt (§8.3.1): `response`, a JWE to the key
    and enc chosen from the request's client_metadata, whose payload holds vp_token and state."""
    jwk, enc = select_encryption_jwk(client_metadata)
    payload: dict[str, Any] = {"vp_token": dict(vp_token)}
    if state is not None:
        payload["state"] = state
    jwe = encrypt_ecdh_es(json.dumps(payload, separators=(",", ":")).encode(), jwk, enc=enc, kid=jwk.get("kid"))
    return {"response": jwe}


def public_key_of(jwk: Mapping[str, Any]) -> PublicKey:
    """A signing key from client_metadata.jwks, as an Oid4vpError when it is unusable."""
    try:
        return public_key_from_jwk(jwk, "client_metadata.jwks")
    except JoseError as exc:
        raise _fail(CLIENT_METADATA_INVALID, exc.message, exc.field) from None

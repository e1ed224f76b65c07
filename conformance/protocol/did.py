"""DIDs: parsing (W3C DID Core 1.0 §3.1), did:key and did:jwk (local, no I/O), did:iota
identifiers, DID documents and picking a verification key out of one.

Methods:
- did:key (W3C CCG did:key v0.7): `z` + base58btc(multicodec varint || key bytes); Ed25519
  (`ed25519-pub` 0xed, 32 raw bytes) and P-256 (`p256-pub` 0x1200, 33-byte compressed point).
- did:jwk (did:jwk spec): base64url of the JWK's JSON; the one key is always `#0`.
- did:iota (IOTA DID Method Specification): `did:iota:[<network>:]0x<64 lowercase hex>`. The
  network is 1-8 characters of [a-z0-9] - the rule of the IOTA Identity reference library
  (`NetworkName::validate_network_name`), which admits both the v1.0 spec names (1-6 chars,
  e.g. `smr`) and the v2.0 chain ids (8 hex) and the seeds' `testnet`. No network = mainnet.
  Resolving it needs a ledger: see `conformance/resolver.py`.

Documents built here use the `JsonWebKey` verification method type (W3C Controlled
Identifiers 1.0, the successor of JsonWebKey2020) with `publicKeyJwk`. `verification_key`
also reads `publicKeyMultibase` (Multikey) and `publicKeyBase58` (Ed25519VerificationKey2018)
so that documents from other resolvers can be used.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from conformance.protocol.errors import DidError, JoseError
from conformance.protocol.jose import (
    PublicKey,
    b64u_decode,
    b64u_encode,
    public_key_from_jwk,
)

DID_CONTEXT = "https://www.w3.org/ns/did/v1"
CID_CONTEXT = "https://www.w3.org/ns/cid/v1"
VERIFICATION_METHOD_TYPE = "JsonWebKey"
RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation",
                 "capabilityDelegation")

# --- syntax ---------------------------------------------------------------------------------

_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
# W3C DID Core 1.0 §3.1: did = "did:" method-name ":" method-specific-id
_DID_RE = re.compile(rf"did:([a-z0-9]+):((?:{_IDCHAR}*:)*{_IDCHAR}+)")
_GENERIC_GRAMMAR = "did:<method>:<method-specific-id> (W3C DID Core 1.0 §3.1)"

_IOTA_RE = re.compile(r"(?:([a-z0-9]{1,8}):)?(0x[0-9a-f]{64})")
IOTA_GRAMMAR = "did:iota:[<network>:]0x<64 lowercase hex> (network: 1-8 chars of a-z0-9)"
_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_KEY_RE = re.compile(rf"z[{_BASE58_ALPHABET}]+")
_JWK_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class Did:
    """A parsed DID. `did` is the DID string without fragment; `identifier` is the
    method-specific id (for did:iota: the `0x...` tag, with the network split off)."""

    method: str
    network: str | None
    identifier: str
    did: str

    def __str__(self) -> str:
        return self.did


def _invalid(text: str, expected: str) -> DidError:
    return DidError("invalid_did", f"{text!r} is not a valid DID; expected {expected}", "did")


def _split_iota(text: str, msid: str) -> tuple[str | None, str]:
    match = _IOTA_RE.fullmatch(msid)
    if match is None:
        raise _invalid(text, IOTA_GRAMMAR + " (IOTA DID Method Specification, DID Format)")
    return match.group(1), match.group(2)


def _split_pattern(pattern: re.Pattern[str],
                   grammar: str) -> Callable[[str, str], tuple[None, str]]:
    def split(text: str, msid: str) -> tuple[None, str]:
        if pattern.fullmatch(msid) is None:
            raise _invalid(text, grammar)
        return None, msid
    return split


# method -> (text, method-specific id) -> (network, identifier); other methods: generic only.
_METHOD_SYNTAX: dict[str, Callable[[str, str], tuple[str | None, str]]] = {
    "iota": _split_iota,
    "key": _split_pattern(_KEY_RE, "did:key:z<base58btc multicodec key> (did:key §3.1)"),
    "jwk": _split_pattern(_JWK_RE, "did:jwk:<base64url JWK> (did:jwk spec, DID Format)"),
}


def parse_did(text: str) -> Did:
    """Parse a DID (no fragment, query or path): generic syntax, then the method's own grammar."""
    if not isinstance(text, str):
        raise DidError("invalid_did", "a DID must be a string", "did")
    if any(sep in text for sep in "#?/"):
        raise _invalid(text, _GENERIC_GRAMMAR + " without fragment, query or path "
                       "(use parse_did_url for DID URLs)")
    match = _DID_RE.fullmatch(text)
    if match is None:
        raise _invalid(text, _GENERIC_GRAMMAR)
    method, msid = match.group(1), match.group(2)
    split = _METHOD_SYNTAX.get(method)
    network, identifier = split(text, msid) if split else (None, msid)
    return Did(method=method, network=network, identifier=identifier, did=text)


def parse_did_url(text: str) -> tuple[Did, str | None]:
    """Split a DID URL `did...#fragment` into (Did, fragment). Paths and queries are not used
    by any flow here and are rejected."""
    if not isinstance(text, str):
        raise DidError("invalid_did", "a DID URL must be a string", "did")
    did_part, hashmark, fragment = text.partition("#")
    if hashmark and not fragment:
        raise DidError("invalid_did", f"{text!r} has an empty fragment after '#'", "did")
    return parse_did(did_part), (fragment if hashmark else None)


def iota_did(network: str | None, object_id_hex: str) -> str:
    """Build `did:iota:[<network>:]0x<64 hex>` from an object id (with or without `0x`)."""
    tag = object_id_hex.lower()
    tag = tag if tag.startswith("0x") else f"0x{tag}"
    did = f"did:iota:{network}:{tag}" if network else f"did:iota:{tag}"
    return parse_did(did).did


# --- base58btc and multicodec (did:key) -----------------------------------------------------

_B58_INDEX = {c: i for i, c in enumerate(_BASE58_ALPHABET)}


def base58btc_encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, rem = divmod(number, 58)
        out = _BASE58_ALPHABET[rem] + out
    # Leading zero bytes are not part of the number: each becomes a leading "1".
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def base58btc_decode(text: str, field: str = "value") -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise DidError("invalid_did", f"{field} is not base58btc: bad character {char!r}",
                           field)
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _read_varint(data: bytes) -> tuple[int, bytes]:
    value = 0
    for i, byte in enumerate(data[:4]):
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, data[i + 1:]
    raise DidError("invalid_did", "multicodec prefix is not a valid varint", "did")


@dataclass(frozen=True)
class _Codec:
    code: int
    name: str
    alg: str
    length: int
    load: Callable[[bytes], Any]
    dump: Callable[[Any], bytes]


def _raw_ed25519(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _compressed_p256(key: Any) -> bytes:
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.CompressedPoint)


_CODECS = (
    _Codec(0xED, "ed25519-pub", "EdDSA", 32, ed25519.Ed25519PublicKey.from_public_bytes,
           _raw_ed25519),
    _Codec(0x1200, "p256-pub", "ES256", 33,
           lambda raw: ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw),
           _compressed_p256),
)
_CODEC_BY_CODE = {c.code: c for c in _CODECS}
_CODEC_BY_ALG = {c.alg: c for c in _CODECS}


def multikey_encode(key: PublicKey) -> str:
    """`z` + base58btc(multicodec varint || public key bytes) - the did:key / Multikey form."""
    codec = _CODEC_BY_ALG[key.alg]
    return "z" + base58btc_encode(_varint(codec.code) + codec.dump(key.key))


def multikey_decode(text: str, field: str = "publicKeyMultibase") -> PublicKey:
    if not isinstance(text, str) or not text.startswith("z"):
        raise DidError("invalid_did", f"{field} must be multibase base58btc (leading 'z')", field)
    code, raw = _read_varint(base58btc_decode(text[1:], field))
    codec = _CODEC_BY_CODE.get(code)
    if codec is None:
        supported = ", ".join(f"{c.name} (0x{c.code:x})" for c in _CODECS)
        raise DidError("unsupported_key_type",
                       f"{field}: multicodec 0x{code:x} is not supported (supported: {supported})",
                       field)
    if len(raw) != codec.length:
        raise DidError("invalid_did", f"{field}: a {codec.name} key is {codec.length} bytes, "
                       f"got {len(raw)}", field)
    try:
        return PublicKey(codec.alg, codec.load(raw))
    except ValueError as exc:
        raise DidError("invalid_did", f"{field}: not a valid {codec.name} key: {exc}",
                       field) from exc


def did_key_from_public(key: PublicKey) -> str:
    return f"did:key:{multikey_encode(key)}"


def _jwk_json(jwk: Mapping[str, Any]) -> str:
    # Sorted, compact JSON: the same key always gives the same did:jwk (the spec's examples
    # use this lexicographic member order).
    return json.dumps(dict(jwk), separators=(",", ":"), sort_keys=True)


def did_jwk_from_public(key: PublicKey) -> str:
    return "did:jwk:" + b64u_encode(_jwk_json(key.to_jwk()).encode())


# --- documents ------------------------------------------------------------------------------


def _document(did: str, jwk: Mapping[str, Any], fragment: str,
              relationships: tuple[str, ...]) -> dict[str, Any]:
    vm_id = f"{did}#{fragment}"
    return {
        "@context": [DID_CONTEXT, CID_CONTEXT],
        "id": did,
        "verificationMethod": [{
            "id": vm_id,
            "type": VERIFICATION_METHOD_TYPE,
            "controller": did,
            "publicKeyJwk": dict(jwk),
        }],
        **{rel: [vm_id] for rel in relationships},
    }


def build_did_document(did: str, key: PublicKey, fragment: str = "key-1",
                       relationships: tuple[str, ...] = ("authentication", "assertionMethod"),
                       ) -> dict[str, Any]:
    """A DID document with one JsonWebKey verification method `<did>#<fragment>`, referenced
    from `relationships` (default: authentication and assertionMethod)."""
    parse_did(did)
    unknown = set(relationships) - set(RELATIONSHIPS)
    if unknown:
        raise DidError("invalid_did_document", f"unknown verification relationships "
                       f"{sorted(unknown)} (known: {', '.join(RELATIONSHIPS)})")
    return _document(did, key.to_jwk(), fragment, relationships)


def _resolve_key(did: Did) -> dict[str, Any]:
    key = multikey_decode(did.identifier, "did")
    # The key backs every relationship but keyAgreement: did:key derives a separate X25519
    # key for Ed25519 agreement, which no flow here uses, so it is left out.
    relationships = tuple(r for r in RELATIONSHIPS if r != "keyAgreement")
    return _document(did.did, key.to_jwk(), did.identifier, relationships)


# did:jwk spec, "To create the DID Document": use=sig drops keyAgreement, use=enc keeps only it.
_JWK_RELATIONSHIPS = {
    None: RELATIONSHIPS,
    "sig": tuple(r for r in RELATIONSHIPS if r != "keyAgreement"),
    "enc": ("keyAgreement",),
}


def _resolve_jwk(did: Did) -> dict[str, Any]:
    try:
        jwk = json.loads(b64u_decode(did.identifier, "did"))
    except (JoseError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DidError("invalid_did", "did:jwk: the method-specific id is not base64url of "
                       "a JSON object", "did") from exc
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
        raise DidError("invalid_did", "did:jwk: the decoded value is not a JWK (no kty)", "did")
    if "d" in jwk:
        # did:jwk spec, Security: a private JWK must be rejected. Never echo its value.
        raise DidError("invalid_did", "did:jwk contains private key material ('d'); only public "
                       "JWKs may be used", "did")
    use = jwk.get("use")
    if use not in _JWK_RELATIONSHIPS:
        raise DidError("invalid_did", f"did:jwk: JWK use {use!r} is not 'sig' or 'enc'", "did")
    try:
        public_key_from_jwk(jwk, "did")
    except JoseError as exc:
        # Key types we cannot verify with (e.g. X25519) still get a document.
        if exc.reason != "unsupported_key_type":
            raise DidError("invalid_did", f"did:jwk: {exc.message}", "did") from exc
    return _document(did.did, jwk, "0", _JWK_RELATIONSHIPS[use])


_LOCAL_RESOLVERS: dict[str, Callable[[Did], dict[str, Any]]] = {
    "key": _resolve_key,
    "jwk": _resolve_jwk,
}
LOCAL_METHODS = frozenset(_LOCAL_RESOLVERS)


def resolve_local(did: str) -> dict[str, Any]:
    """The DID document of a did:key or did:jwk, derived from the DID itself (no I/O)."""
    parsed = parse_did(did)
    resolver = _LOCAL_RESOLVERS.get(parsed.method)
    if resolver is None:
        raise DidError("method_not_local",
                       f"did:{parsed.method} cannot be resolved without a registry; "
                       f"local methods are {', '.join(sorted(LOCAL_METHODS))}", "did")
    return resolver(parsed)


# --- picking a key --------------------------------------------------------------------------


def _absolute(document: Mapping[str, Any], ref: str) -> str:
    # DID Core §5.2.1 allows relative DID URLs (`#key-1`) against the document's id.
    return f"{document.get('id', '')}{ref}" if ref.startswith("#") else ref


def _methods_by_id(document: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    methods: dict[str, Mapping[str, Any]] = {}
    embedded = [m for rel in RELATIONSHIPS for m in _list(document, rel) if isinstance(m, Mapping)]
    for method in [*_list(document, "verificationMethod"), *embedded]:
        if isinstance(method, Mapping) and isinstance(method.get("id"), str):
            methods.setdefault(_absolute(document, method["id"]), method)
    return methods


def _list(document: Mapping[str, Any], name: str) -> list[Any]:
    value = document.get(name, [])
    if not isinstance(value, list):
        raise DidError("invalid_did_document", f"{name} must be an array", name)
    return value


def _relationship_ids(document: Mapping[str, Any], relationship: str) -> list[str]:
    refs = []
    for entry in _list(document, relationship):
        ref = entry.get("id") if isinstance(entry, Mapping) else entry
        if isinstance(ref, str):
            refs.append(_absolute(document, ref))
    return refs


def _key_from_base58(text: Any, field: str) -> PublicKey:
    if not isinstance(text, str):
        raise DidError("invalid_did_document", f"{field} must be a string", field)
    try:
        return PublicKey("EdDSA", ed25519.Ed25519PublicKey.from_public_bytes(
            base58btc_decode(text, field)))
    except ValueError as exc:
        raise DidError("invalid_did_document", f"{field} is not an Ed25519 key: {exc}",
                       field) from exc


# verification method member -> key loader; the first member present wins.
_KEY_MEMBERS: dict[str, Callable[[Any, str], PublicKey]] = {
    "publicKeyJwk": public_key_from_jwk,
    "publicKeyMultibase": multikey_decode,
    "publicKeyBase58": _key_from_base58,
}


def method_key(method: Mapping[str, Any]) -> PublicKey:
    """The public key of one verification method."""
    vm_id = method.get("id", "?")
    for member, load in _KEY_MEMBERS.items():
        if member in method:
            try:
                return load(method[member], f"{vm_id}.{member}")
            except JoseError as exc:
                raise DidError(exc.reason, exc.message, exc.field) from exc
    raise DidError("invalid_did_document", f"verification method {vm_id} has no public key "
                   f"(expected one of {', '.join(_KEY_MEMBERS)})", "verificationMethod")


def verification_key(document: Mapping[str, Any], did_url: str | None = None,
                     relationship: str = "assertionMethod") -> PublicKey:
    """The key named by `did_url`'s fragment, which must be authorised for `relationship`;
    without a fragment, the first key of `relationship` (DID Core §5.3)."""
    if not isinstance(document, Mapping):
        raise DidError("invalid_did_document", "a DID document must be a JSON object")
    if relationship not in RELATIONSHIPS:
        raise DidError("invalid_did_document", f"unknown verification relationship "
                       f"{relationship!r} (known: {', '.join(RELATIONSHIPS)})")
    allowed = _relationship_ids(document, relationship)
    wanted = _wanted_id(document, did_url, allowed, relationship)
    method = _methods_by_id(document).get(wanted)
    if method is None:
        raise DidError("verification_method_not_found",
                       f"{wanted} is referenced by {relationship} but not defined in the "
                       f"document", "verificationMethod")
    return method_key(method)


def _wanted_id(document: Mapping[str, Any], did_url: str | None, allowed: list[str],
               relationship: str) -> str:
    doc_id = document.get("id")
    fragment = None
    if did_url is not None:
        did, fragment = parse_did_url(did_url)
        if did.did != doc_id:
            raise DidError("verification_method_not_found",
                           f"{did_url} names DID {did.did}, but the document is for {doc_id}",
                           "kid")
    if fragment is None:
        if not allowed:
            raise DidError("verification_method_not_found",
                           f"the DID document of {doc_id} has no {relationship} key",
                           relationship)
        return allowed[0]
    wanted = f"{doc_id}#{fragment}"
    if wanted not in allowed:
        raise DidError("verification_method_not_found",
                       f"{wanted} is not authorised for {relationship} in the DID document "
                       f"(authorised: {', '.join(allowed) or 'none'})", "kid")
    return wanted

"""JWS compact serialization, JWK import/export and RFC 7638 thumbprints.

Algorithms: EdDSA (Ed25519, RFC 8037) and ES256 (P-256, RFC 7518 §3.4). Nothing else is
accepted: `alg: none`, HMAC algorithms and any alg/key mismatch are rejected with a typed
`JoseError` whose reason says which rule broke.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.hashes import SHA256

from conformance.protocol.errors import JoseError

SUPPORTED_ALGS = ("EdDSA", "Ed25519", "ES256")
# RFC 9864 deprecates the polymorphic "EdDSA" in favour of the fully specified "Ed25519". The
# seeds (and most deployed SD-JWT VCs) still sign with "EdDSA", so we sign with it and accept both.
_HEADER_ALGS_FOR_KEY = {"EdDSA": ("EdDSA", "Ed25519"), "ES256": ("ES256",)}

# --- base64url (RFC 7515 §2: no padding) -------------------------------------------------


def b64u_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64U_STRICT = bytes.maketrans(b"-_+/=", b"+/!!!")  # '+', '/', '=' are not base64url: make them invalid


def b64u_decode(text: str | bytes, field: str = "value") -> bytes:
    """Strict base64url: padding and characters outside the URL-safe alphabet are errors."""
    try:
        raw = (text.encode("ascii") if isinstance(text, str) else bytes(text)).translate(_B64U_STRICT)
        if len(raw) % 4 == 1:
            raise ValueError("impossible length")
        return binascii.a2b_base64(raw + b"=" * (-len(raw) % 4), strict_mode=True)
    except (UnicodeEncodeError, ValueError, binascii.Error):
        raise JoseError("malformed_base64url", f"{field} is not unpadded base64url", field) from None


def b64u_json(obj: Any) -> str:
    return b64u_encode(json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


# What json.loads(str) runs, without its per-call argument handling, and the scanner under it.
_JSON_DECODER = json.JSONDecoder()
_decode_json = _JSON_DECODER.decode
_scan_json = _JSON_DECODER.scan_once


def json_loads(text: str) -> Any:
    """`json.loads(text)`, the same value or the same JSONDecodeError, faster for compact JSON.

    Runs for every JWS segment and Disclosure a verifier decodes. A value that starts at the first
    character and ends at the last is scanned directly, skipping `JSONDecoder.decode`'s two
    whitespace regex matches; anything else (surrounding whitespace, trailing data, an error) goes
    through `decode` itself, so acceptance and error messages are unchanged.
    """
    try:
        value, end = _scan_json(text, 0)
    except StopIteration:
        return _decode_json(text)
    if end != len(text):
        return _decode_json(text)
    return value


def json_from_b64u(text: str, field: str) -> dict[str, Any]:
    """A base64url JSON object. The octets must be UTF-8 (RFC 7515 §5.2 steps 3-4, RFC 7519 §7.2),
    so unlike `json.loads(bytes)` no UTF-16/32 detection and no BOM: those are malformed."""
    try:
        value = json_loads(b64u_decode(text, field).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JoseError("malformed_json", f"{field} is not JSON: {exc}", field) from exc
    if not isinstance(value, dict):
        raise JoseError("malformed_json", f"{field} must be a JSON object", field)
    return value



# --- keys -----------------------------------------------------------------------------------

_P256_COORD = 32
_P256 = ec.SECP256R1()
# Stateless (a hash algorithm choice): one instance serves every ES256 signature and verification.
_ECDSA_SHA256 = ec.ECDSA(SHA256())


@dataclass(frozen=True)
class PublicKey:
    """A verification key with the one algorithm it may be used with."""

    alg: str
    key: ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey

    def to_jwk(self) -> dict[str, str]:
        if self.alg == "EdDSA":
            raw = self.key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            return {"kty": "OKP", "crv": "Ed25519", "x": b64u_encode(raw)}
        numbers = self.key.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64u_encode(numbers.x.to_bytes(_P256_COORD, "big")),
            "y": b64u_encode(numbers.y.to_bytes(_P256_COORD, "big")),
        }

    def thumbprint(self) -> str:
        """RFC 7638: SHA-256 over the required members in lexicographic order, base64url."""
        jwk = self.to_jwk()
        required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
        canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
        return b64u_encode(hashlib.sha256(canonical.encode()).digest())

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            if self.alg == "EdDSA":
                self.key.verify(signature, data)
            else:
                if len(signature) != 2 * _P256_COORD:
                    return False
                self.key.verify(_der_signature(signature), data, _ECDSA_SHA256)
        except InvalidSignature:
            return False
        return True


# DER INTEGER headers for a 32-byte big-endian value without (0x20) and with (0x21, 0x00) the sign
# byte DER needs when the top bit is set, and the SEQUENCE headers for 0, 1 or 2 sign bytes.
_DER_INT = (b"\x02\x20", b"\x02\x21\x00")
_DER_SEQ = (b"\x30\x44", b"\x30\x45", b"\x30\x46")


def _der_signature(signature: bytes) -> bytes:
    """JWS r||s (RFC 7518 §3.4) as the DER ECDSA-Sig-Value OpenSSL verifies.

    Every presentation carries two signatures, so the usual case (neither value has a leading zero
    byte, which DER would strip) is assembled from fixed headers; the rest go through
    `encode_dss_signature`. OpenSSL re-encodes what it parses and rejects any difference, so a
    wrong encoding here could only fail a good signature, never pass a bad one.
    """
    r0, s0 = signature[0], signature[_P256_COORD]
    if r0 and s0:
        return b"".join((_DER_SEQ[(r0 >> 7) + (s0 >> 7)], _DER_INT[r0 >> 7], signature[:_P256_COORD],
                         _DER_INT[s0 >> 7], signature[_P256_COORD:]))
    return encode_dss_signature(int.from_bytes(signature[:_P256_COORD], "big"),
                                int.from_bytes(signature[_P256_COORD:], "big"))


@dataclass(frozen=True)
class PrivateKey:
    """A signing key. Its repr never shows key material."""

    alg: str
    key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

    def __repr__(self) -> str:
        return f"PrivateKey(alg={self.alg!r}, <redacted>)"

    @property
    def public(self) -> PublicKey:
        return PublicKey(self.alg, self.key.public_key())

    def sign(self, data: bytes) -> bytes:
        if self.alg == "EdDSA":
            return self.key.sign(data)
        r, s = decode_dss_signature(self.key.sign(data, _ECDSA_SHA256))
        return r.to_bytes(_P256_COORD, "big") + s.to_bytes(_P256_COORD, "big")

    def raw(self) -> bytes:
        """The raw private scalar: 32-byte Ed25519 seed, or the P-256 `d` (the seeds' encoding)."""
        if self.alg == "EdDSA":
            return self.key.private_bytes(
                serialization.Encoding.Raw,
                serialization.PrivateFormat.Raw,
                serialization.NoEncryption(),
            )
        return self.key.private_numbers().private_value.to_bytes(_P256_COORD, "big")

    def to_jwk(self) -> dict[str, str]:
        return {**self.public.to_jwk(), "d": b64u_encode(self.raw())}


def generate_key(alg: str = "EdDSA") -> PrivateKey:
    alg = _key_alg(alg)
    if alg == "EdDSA":
        return PrivateKey(alg, ed25519.Ed25519PrivateKey.generate())
    return PrivateKey(alg, ec.generate_private_key(ec.SECP256R1()))


def private_key_from_raw(raw: bytes, alg: str) -> PrivateKey:
    """Import a raw 32-byte private key: Ed25519 seed (EdDSA) or P-256 scalar `d` (ES256)."""
    alg = _key_alg(alg)
    if len(raw) != 32:
        raise JoseError("invalid_key", f"a raw {alg} private key is 32 bytes, got {len(raw)}")
    if alg == "EdDSA":
        return PrivateKey(alg, ed25519.Ed25519PrivateKey.from_private_bytes(raw))
    try:
        return PrivateKey(alg, ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1()))
    except ValueError as exc:
        raise JoseError("invalid_key", f"not a valid P-256 private scalar: {exc}") from exc


def private_key_from_b64u(text: str, alg: str, field: str = "private_key") -> PrivateKey:
    """The seeds' wire form: base64url of the raw private key. Errors never echo the value."""
    if not isinstance(text, str):
        raise JoseError("invalid_key", f"{field} must be a base64url string", field)
    try:
        return private_key_from_raw(b64u_decode(text, field), alg)
    except JoseError as exc:
        raise JoseError("invalid_key", f"{field} is not a raw {alg} private key in base64url "
                        f"({exc.reason})", field) from None


def public_key_from_jwk(jwk: Mapping[str, Any], field: str = "jwk") -> PublicKey:
    """Import a public JWK (OKP/Ed25519 or EC/P-256). Private members are ignored, never echoed."""
    if not (type(jwk) is dict or isinstance(jwk, Mapping)):  # dict first: no ABC check per presentation
        raise JoseError("invalid_jwk", f"{field} must be a JSON object", field)
    kty, crv = jwk.get("kty"), jwk.get("crv")
    try:
        if kty == "OKP" and crv == "Ed25519":
            x = b64u_decode(_member(jwk, "x", field), f"{field}.x")
            return PublicKey("EdDSA", ed25519.Ed25519PublicKey.from_public_bytes(x))
        if kty == "EC" and crv == "P-256":
            x = b64u_decode(_member(jwk, "x", field), f"{field}.x")
            y = b64u_decode(_member(jwk, "y", field), f"{field}.y")
            if len(x) != _P256_COORD or len(y) != _P256_COORD:
                raise JoseError("invalid_jwk", f"{field}: P-256 coordinates are 32 bytes", field)
            # The SEC 1 uncompressed point: OpenSSL checks it is on the curve, as it does for
            # EllipticCurvePublicNumbers, without the detour through Python ints.
            return PublicKey("ES256", ec.EllipticCurvePublicKey.from_encoded_point(_P256, b"\x04" + x + y))
    except ValueError as exc:
        raise JoseError("invalid_jwk", f"{field} is not a valid key: {exc}", field) from exc
    raise JoseError(
        "unsupported_key_type",
        f"{field}: kty={kty!r} crv={crv!r} is not supported (expected OKP/Ed25519 or EC/P-256)",
        field,
    )


def private_key_from_jwk(jwk: Mapping[str, Any], field: str = "jwk") -> PrivateKey:
    public = public_key_from_jwk(jwk, field)
    key = private_key_from_raw(b64u_decode(_member(jwk, "d", field), f"{field}.d"), public.alg)
    if key.public.to_jwk() != public.to_jwk():
        raise JoseError("invalid_jwk", f"{field}: private key does not match x/y", field)
    return key


def _member(jwk: Mapping[str, Any], name: str, field: str) -> str:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise JoseError("invalid_jwk", f"{field}.{name} is required and must be a string", field)
    return value


def _key_alg(alg: Any) -> str:
    _require_supported(alg)
    return "EdDSA" if alg == "Ed25519" else alg


def _require_supported(alg: Any) -> None:
    if alg not in SUPPORTED_ALGS:
        reason = "alg_none" if alg == "none" else "unsupported_alg"
        raise JoseError(reason, f"alg {alg!r} is not allowed (allowed: {', '.join(SUPPORTED_ALGS)})",
                        "header.alg")


# --- JWS compact -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Jws:
    """A parsed (not yet verified) compact JWS."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    token: str

    def verify_with(self, key: PublicKey) -> Jws:
        """Check the signature with `key`; the header alg must be the key's algorithm."""
        alg = self.header.get("alg")
        _require_supported(alg)
        if alg not in _HEADER_ALGS_FOR_KEY[key.alg]:
            raise JoseError("alg_key_mismatch",
                            f"header.alg is {alg!r} but the key is a {key.alg} key", "header.alg")
        if not key.verify(self.signature, self.signing_input):
            raise JoseError("signature_invalid", "the JWS signature does not verify", "signature")
        return self


def sign_jws(header: Mapping[str, Any], payload: Mapping[str, Any], key: PrivateKey) -> str:
    """Sign `payload` (a JSON object). The header's alg is set from the key."""
    protected = b64u_json({**header, "alg": key.alg})
    signing_input = f"{protected}.{b64u_json(payload)}"
    return f"{signing_input}.{b64u_encode(key.sign(signing_input.encode('ascii')))}"


def parse_jws(token: str, field: str = "jws") -> Jws:
    """Split and decode a compact JWS with a JSON-object payload. Does not verify."""
    if not isinstance(token, str):
        raise JoseError("malformed_jws", f"{field} must be a string", field)
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("malformed_jws",
                        f"{field} has {len(parts)} segments; a compact JWS has 3", field)
    header = json_from_b64u(parts[0], f"{field}.header")
    _require_supported(header.get("alg"))
    payload = json_from_b64u(parts[1], f"{field}.payload")
    signature = b64u_decode(parts[2], f"{field}.signature")
    # The signed octets are the token up to its last '.', ASCII since both segments decoded.
    return Jws(header, payload, token[: len(parts[0]) + len(parts[1]) + 1].encode("ascii"), signature, token)


def verify_jws(token: str, key: PublicKey, field: str = "jws") -> Jws:
    return parse_jws(token, field).verify_with(key)

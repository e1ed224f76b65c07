"""JWE compact serialization (RFC 7516 §7.1) with alg ECDH-ES in Direct Key Agreement mode
(RFC 7518 §4.6) and enc A128GCM / A256GCM (RFC 7518 §5.3). This is what OID4VP 1.0's
`direct_post.jwt` response mode uses to encrypt the Authorization Response to the Verifier.

Curves: P-256 (EC) and X25519 (OKP, RFC 8037 §3.2). The content encryption key is the Concat
KDF output (RFC 7518 §4.6.2, NIST SP 800-56A §5.8.1, SHA-256) over the shared secret Z with
AlgorithmID = the `enc` value, PartyUInfo/PartyVInfo = the decoded `apu`/`apv` (empty when
absent) and SuppPubInfo = the key length in bits. The JWE Encrypted Key is empty (RFC 7518
§4.6: direct agreement), the IV is 96 bits and the tag 128 bits (RFC 7518 §5.3), and the AAD is
the ASCII of the encoded protected header (RFC 7516 §5.1 step 14).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.concatkdf import ConcatKDFHash

from conformance.protocol.errors import JoseError
from conformance.protocol.jose import b64u_decode, b64u_encode, json_from_b64u

ALG = "ECDH-ES"
# enc -> content encryption key length in bytes (RFC 7518 §5.3)
ENC_KEY_BYTES = {"A128GCM": 16, "A256GCM": 32}
_IV_BYTES, _TAG_BYTES = 12, 16
# Members the caller may not set through extra_header: they are fixed by this module.
_RESERVED = frozenset({"alg", "enc", "epk", "zip", "crit"})

# --- curves --------------------------------------------------------------------------------


def _coord(jwk: Mapping[str, Any], name: str, size: int, field: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise JoseError("invalid_jwk", f"{field}.{name} is required and must be a string", field)
    raw = b64u_decode(value, f"{field}.{name}")
    if len(raw) != size:
        raise JoseError("invalid_jwk", f"{field}.{name} must be {size} bytes, got {len(raw)}",
                        field)
    return raw


def _p256_public(jwk: Mapping[str, Any], field: str) -> ec.EllipticCurvePublicKey:
    x, y = _coord(jwk, "x", 32, field), _coord(jwk, "y", 32, field)
    # Building the point checks that it is on the curve: the invalid-curve attack guard that
    # RFC 7516 §11.5 asks ECDH-ES recipients for.
    numbers = ec.EllipticCurvePublicNumbers(int.from_bytes(x, "big"), int.from_bytes(y, "big"),
                                            ec.SECP256R1())
    return numbers.public_key()


def _p256_jwk(public: ec.EllipticCurvePublicKey) -> dict[str, str]:
    numbers = public.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": b64u_encode(numbers.x.to_bytes(32, "big")),
            "y": b64u_encode(numbers.y.to_bytes(32, "big"))}


def _p256_private(d: bytes) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1())


def _p256_d(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_numbers().private_value.to_bytes(32, "big")


def _x25519_public(jwk: Mapping[str, Any], field: str) -> x25519.X25519PublicKey:
    return x25519.X25519PublicKey.from_public_bytes(_coord(jwk, "x", 32, field))


def _x25519_jwk(public: x25519.X25519PublicKey) -> dict[str, str]:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "X25519", "x": b64u_encode(raw)}


def _x25519_d(key: x25519.X25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                             serialization.NoEncryption())


@dataclass(frozen=True)
class _Curve:
    kty: str
    crv: str
    generate: Callable[[], Any]
    load_public: Callable[[Mapping[str, Any], str], Any]
    load_private: Callable[[bytes], Any]
    public_jwk: Callable[[Any], dict[str, str]]
    private_d: Callable[[Any], bytes]

    def exchange(self, private: Any, public: Any) -> bytes:
        if self.kty == "EC":
            return private.exchange(ec.ECDH(), public)
        return private.exchange(public)


_CURVES = {
    ("EC", "P-256"): _Curve("EC", "P-256", lambda: ec.generate_private_key(ec.SECP256R1()),
                            _p256_public, _p256_private, _p256_jwk, _p256_d),
    ("OKP", "X25519"): _Curve("OKP", "X25519", x25519.X25519PrivateKey.generate, _x25519_public,
                              x25519.X25519PrivateKey.from_private_bytes, _x25519_jwk, _x25519_d),
}


def _curve_of(jwk: Any, field: str) -> _Curve:
    if not isinstance(jwk, Mapping):
        raise JoseError("invalid_jwk", f"{field} must be a JWK object", field)
    curve = _CURVES.get((jwk.get("kty"), jwk.get("crv")))
    if curve is None:
        raise JoseError("unsupported_key_type", f"{field}: kty={jwk.get('kty')!r} "
                        f"crv={jwk.get('crv')!r} cannot do ECDH-ES here (supported: EC/P-256, "
                        "OKP/X25519)", field)
    return curve


def _public_key(jwk: Mapping[str, Any], field: str) -> tuple[_Curve, Any]:
    curve = _curve_of(jwk, field)
    try:
        return curve, curve.load_public(jwk, field)
    except ValueError as exc:
        raise JoseError("invalid_jwk", f"{field} is not a valid {curve.crv} public key: {exc}",
                        field) from exc


# --- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcdhPrivateKey:
    """A recipient's key-agreement key. Its repr never shows key material."""

    curve: _Curve
    key: Any
    kid: str | None = None

    def __repr__(self) -> str:
        return f"EcdhPrivateKey(crv={self.curve.crv!r}, kid={self.kid!r}, <redacted>)"

    def public_jwk(self) -> dict[str, str]:
        """The public JWK to publish (e.g. in OID4VP client_metadata.jwks)."""
        jwk = {**self.curve.public_jwk(self.key.public_key()), "use": "enc", "alg": ALG}
        return {**jwk, "kid": self.kid} if self.kid else jwk

    def to_jwk(self) -> dict[str, str]:
        """The private JWK (with `d`): a secret, never to be logged or stored in clear."""
        return {**self.public_jwk(), "d": b64u_encode(self.curve.private_d(self.key))}

    def agree(self, peer: Mapping[str, Any], field: str = "header.epk") -> bytes:
        """Z: the ECDH shared secret with the peer's public JWK, which must be on our curve."""
        curve, public = _public_key(peer, field)
        if curve is not self.curve:
            raise JoseError("invalid_epk", f"{field} is on {curve.crv} but the recipient key is "
                            f"on {self.curve.crv}", field)
        try:
            return self.curve.exchange(self.key, public)
        except ValueError as exc:  # X25519 all-zero output: a low-order point
            raise JoseError("invalid_epk", f"{field}: key agreement failed: {exc}", field) from exc


def generate_ecdh_key(crv: str = "P-256", kid: str | None = None) -> EcdhPrivateKey:
    curve = next((c for c in _CURVES.values() if c.crv == crv), None)
    if curve is None:
        raise JoseError("unsupported_key_type", f"crv {crv!r} is not supported for ECDH-ES "
                        "(supported: P-256, X25519)")
    return EcdhPrivateKey(curve, curve.generate(), kid)


def ecdh_key_from_jwk(jwk: Mapping[str, Any], field: str = "jwk") -> EcdhPrivateKey:
    """Import a private JWK (with `d`). Errors never echo `d`."""
    curve, public = _public_key(jwk, field)
    d = jwk.get("d")
    if not isinstance(d, str):
        raise JoseError("invalid_jwk", f"{field}.d is required for a private key", field)
    try:
        key = curve.load_private(b64u_decode(d, f"{field}.d"))
    except (ValueError, JoseError) as exc:
        raise JoseError("invalid_jwk", f"{field}.d is not a valid {curve.crv} private key",
                        field) from exc
    if curve.public_jwk(key.public_key()) != curve.public_jwk(public):
        raise JoseError("invalid_jwk", f"{field}: private key does not match the public members",
                        field)
    kid = jwk.get("kid")
    return EcdhPrivateKey(curve, key, kid if isinstance(kid, str) else None)


# --- Concat KDF and content encryption -----------------------------------------------------


def _length_prefixed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def _party_info(header: Mapping[str, Any], name: str) -> bytes:
    value = header.get(name)
    if value is None:
        return b""
    if not isinstance(value, str):
        raise JoseError("malformed_jwe", f"header.{name} must be a base64url string",
                        f"header.{name}")
    return b64u_decode(value, f"header.{name}")


def concat_kdf(z: bytes, enc: str, apu: bytes = b"", apv: bytes = b"") -> bytes:
    """RFC 7518 §4.6.2: the content encryption key for direct ECDH-ES with `enc`."""
    size = _enc_key_bytes(enc)
    other_info = (_length_prefixed(enc.encode("ascii")) + _length_prefixed(apu)
                  + _length_prefixed(apv) + (size * 8).to_bytes(4, "big"))
    return ConcatKDFHash(algorithm=SHA256(), length=size, otherinfo=other_info).derive(z)


def _enc_key_bytes(enc: Any) -> int:
    size = ENC_KEY_BYTES.get(enc) if isinstance(enc, str) else None
    if size is None:
        raise JoseError("unsupported_enc", f"enc {enc!r} is not supported (supported: "
                        f"{', '.join(ENC_KEY_BYTES)})", "header.enc")
    return size


def _cek(z: bytes, header: Mapping[str, Any]) -> bytes:
    return concat_kdf(z, header["enc"], _party_info(header, "apu"), _party_info(header, "apv"))


# --- compact serialization -----------------------------------------------------------------


def encrypt_ecdh_es(plaintext: bytes, recipient_jwk: Mapping[str, Any], *, enc: str = "A128GCM",
                    kid: str | None = None, extra_header: Mapping[str, Any] | None = None) -> str:
    """Encrypt `plaintext` to the recipient's public JWK. `extra_header` may carry apu/apv
    (base64url) and other members; alg, enc, epk, zip and crit are set here only."""
    _enc_key_bytes(enc)
    extra = dict(extra_header or {})
    clash = sorted(_RESERVED & extra.keys())
    if clash:
        raise JoseError("invalid_header", f"extra_header may not set {', '.join(clash)}",
                        "header")
    _check_recipient_jwk(recipient_jwk)
    curve, _ = _public_key(recipient_jwk, "recipient_jwk")
    ephemeral = EcdhPrivateKey(curve, curve.generate())
    header = {**extra, "alg": ALG, "enc": enc,
              "epk": curve.public_jwk(ephemeral.key.public_key())}
    if kid is not None:
        header["kid"] = kid
    cek = _cek(ephemeral.agree(recipient_jwk, "recipient_jwk"), header)
    protected = b64u_encode(json.dumps(header, separators=(",", ":")).encode())
    iv = os.urandom(_IV_BYTES)
    sealed = AESGCM(cek).encrypt(iv, plaintext, protected.encode("ascii"))
    ciphertext, tag = sealed[:-_TAG_BYTES], sealed[-_TAG_BYTES:]
    return ".".join((protected, "", b64u_encode(iv), b64u_encode(ciphertext), b64u_encode(tag)))


def _check_recipient_jwk(jwk: Mapping[str, Any]) -> None:
    # RFC 7517 §4.2 / §4.4: a key marked for another use or algorithm must not be used here.
    if not isinstance(jwk, Mapping):
        raise JoseError("invalid_jwk", "recipient_jwk must be a JWK object", "recipient_jwk")
    if jwk.get("use", "enc") != "enc":
        raise JoseError("key_use_mismatch", f"recipient_jwk has use {jwk['use']!r}; "
                        "encryption needs use 'enc'", "recipient_jwk.use")
    if jwk.get("alg", ALG) != ALG:
        raise JoseError("alg_key_mismatch", f"recipient_jwk is for alg {jwk['alg']!r}, not "
                        f"{ALG}", "recipient_jwk.alg")


@dataclass(frozen=True)
class _Parts:
    protected: str
    header: dict[str, Any]
    iv: bytes
    ciphertext: bytes
    tag: bytes


def _split(token: Any) -> _Parts:
    if not isinstance(token, str):
        raise JoseError("malformed_jwe", "a JWE must be a string", "jwe")
    parts = token.split(".")
    if len(parts) != 5:
        raise JoseError("malformed_jwe", f"the JWE has {len(parts)} segments; a compact JWE has "
                        "5 (RFC 7516 §7.1)", "jwe")
    protected, encrypted_key, iv, ciphertext, tag = parts
    header = json_from_b64u(protected, "header")
    if encrypted_key:
        raise JoseError("malformed_jwe", "the JWE Encrypted Key must be empty for ECDH-ES direct "
                        "key agreement (RFC 7518 §4.6)", "encrypted_key")
    parsed = _Parts(protected, header, b64u_decode(iv, "iv"), b64u_decode(ciphertext,
                    "ciphertext"), b64u_decode(tag, "tag"))
    if len(parsed.iv) != _IV_BYTES or len(parsed.tag) != _TAG_BYTES:
        raise JoseError("malformed_jwe", f"AES-GCM needs a {_IV_BYTES}-byte IV and a "
                        f"{_TAG_BYTES}-byte tag (RFC 7518 §5.3)", "iv")
    return parsed


def _check_header(header: Mapping[str, Any]) -> None:
    alg = header.get("alg")
    if alg != ALG:
        raise JoseError("unsupported_alg", f"JWE alg {alg!r} is not allowed (allowed: {ALG})",
                        "header.alg")
    _enc_key_bytes(header.get("enc"))
    # RFC 7516 §4.1.3/§4.1.13: compression and critical extensions we do not implement
    # must make the JWE fail rather than be half-processed.
    if "zip" in header:
        raise JoseError("unsupported_zip", f"header.zip {header['zip']!r} is not supported",
                        "header.zip")
    if "crit" in header:
        raise JoseError("unsupported_crit", f"header.crit {header['crit']!r} names extensions "
                        "this implementation does not understand", "header.crit")
    if "epk" not in header:
        raise JoseError("invalid_epk", "header.epk is required for ECDH-ES (RFC 7518 §4.6.1.1)",
                        "header.epk")


def decrypt_ecdh_es(token: str, private_key: EcdhPrivateKey) -> tuple[dict[str, Any], bytes]:
    """Decrypt a compact ECDH-ES JWE; returns (protected header, plaintext)."""
    parts = _split(token)
    _check_header(parts.header)
    cek = _cek(private_key.agree(parts.header["epk"]), parts.header)
    try:
        plaintext = AESGCM(cek).decrypt(parts.iv, parts.ciphertext + parts.tag,
                                        parts.protected.encode("ascii"))
    except InvalidTag:
        raise JoseError("jwe_decryption_failed", "the JWE does not decrypt with this key: wrong "
                        "recipient key, or the header, IV, ciphertext or tag was altered",
                        "jwe") from None
    return parts.header, plaintext

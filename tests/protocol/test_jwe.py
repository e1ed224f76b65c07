"""JWE with ECDH-ES: the RFC 7518 Appendix C key agreement example, round trips, tampering,
header strictness, and interop in both directions with joserfc."""

import json

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from conformance.protocol import jwe
from conformance.protocol.errors import JoseError
from conformance.protocol.jose import b64u_decode, b64u_encode, b64u_json

# RFC 7518 Appendix C "Example ECDH-ES Key Agreement Computation": Alice is the ephemeral
# (sender) key, Bob the recipient; apu "Alice", apv "Bob", enc A128GCM.
RFC7518_ALICE = {"kty": "EC", "crv": "P-256",
                 "x": "gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0",
                 "y": "SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps",
                 "d": "0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"}
RFC7518_BOB = {"kty": "EC", "crv": "P-256",
               "x": "weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ",
               "y": "e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck",
               "d": "VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}
RFC7518_Z = bytes([158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156,
                   251, 49, 110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196])
RFC7518_DERIVED_KEY = "VqqN6vgjbSBcIijNcacQGg"
RFC7518_HEADER = {"alg": "ECDH-ES", "enc": "A128GCM", "apu": "QWxpY2U", "apv": "Qm9i",
                  "epk": {k: v for k, v in RFC7518_ALICE.items() if k != "d"}}

CURVES = ["P-256", "X25519"]
ENCS = ["A128GCM", "A256GCM"]


def _public(jwk):
    return {k: v for k, v in jwk.items() if k != "d"}


# --- RFC 7518 Appendix C --------------------------------------------------------------------


def test_rfc7518_appendix_c_shared_secret_both_ways():
    alice, bob = jwe.ecdh_key_from_jwk(RFC7518_ALICE), jwe.ecdh_key_from_jwk(RFC7518_BOB)
    assert alice.agree(_public(RFC7518_BOB)) == RFC7518_Z
    assert bob.agree(_public(RFC7518_ALICE)) == RFC7518_Z


def test_rfc7518_appendix_c_concat_kdf():
    assert b64u_encode(jwe.concat_kdf(RFC7518_Z, "A128GCM", b"Alice", b"Bob")) == \
        RFC7518_DERIVED_KEY


def test_decrypt_a_jwe_built_from_the_appendix_c_values():
    # Sealed with the RFC's derived key: decrypting proves apu/apv/epk are read from the header.
    protected = b64u_json(RFC7518_HEADER)
    iv = bytes(range(12))
    sealed = AESGCM(b64u_decode(RFC7518_DERIVED_KEY)).encrypt(iv, b"Live long", protected.encode())
    token = ".".join((protected, "", b64u_encode(iv), b64u_encode(sealed[:-16]),
                      b64u_encode(sealed[-16:])))
    header, plaintext = jwe.decrypt_ecdh_es(token, jwe.ecdh_key_from_jwk(RFC7518_BOB))
    assert (header, plaintext) == (RFC7518_HEADER, b"Live long")
    # Without the party info the derived key differs and the tag fails.
    bare = {k: v for k, v in RFC7518_HEADER.items() if k not in ("apu", "apv")}
    protected = b64u_json(bare)
    sealed = AESGCM(b64u_decode(RFC7518_DERIVED_KEY)).encrypt(iv, b"x", protected.encode())
    token = ".".join((protected, "", b64u_encode(iv), b64u_encode(sealed[:-16]),
                      b64u_encode(sealed[-16:])))
    with pytest.raises(JoseError) as exc:
        jwe.decrypt_ecdh_es(token, jwe.ecdh_key_from_jwk(RFC7518_BOB))
    assert exc.value.reason == "jwe_decryption_failed"


# --- round trips ----------------------------------------------------------------------------


@pytest.mark.parametrize("crv", CURVES)
@pytest.mark.parametrize("enc", ENCS)
def test_round_trip(crv, enc):
    key = jwe.generate_ecdh_key(crv, kid="verifier-enc-1")
    extra = {"apu": b64u_encode(b"wallet-nonce"), "apv": b64u_encode(b"verifier-nonce"),
             "typ": "oauth-authz-resp+jwt"}
    token = jwe.encrypt_ecdh_es(b'{"vp_token": {}}', key.public_jwk(), enc=enc,
                                kid="verifier-enc-1", extra_header=extra)
    header, plaintext = jwe.decrypt_ecdh_es(token, key)
    assert plaintext == b'{"vp_token": {}}'
    assert header["alg"] == "ECDH-ES" and header["enc"] == enc
    assert header["kid"] == "verifier-enc-1" and header["apu"] == extra["apu"]
    assert header["epk"]["crv"] == crv and "d" not in header["epk"]
    assert token.split(".")[1] == ""


def test_each_encryption_uses_a_fresh_ephemeral_key_and_iv():
    key = jwe.generate_ecdh_key()
    first, second = (jwe.encrypt_ecdh_es(b"same", key.public_jwk()) for _ in range(2))
    assert first.split(".")[0] != second.split(".")[0]
    assert first.split(".")[2] != second.split(".")[2]


def test_private_jwk_round_trip_and_redaction():
    key = jwe.generate_ecdh_key(kid="k1")
    private = key.to_jwk()
    assert key.public_jwk() == {k: v for k, v in private.items() if k != "d"}
    assert key.public_jwk()["use"] == "enc" and key.public_jwk()["alg"] == "ECDH-ES"
    restored = jwe.ecdh_key_from_jwk(private)
    token = jwe.encrypt_ecdh_es(b"hi", key.public_jwk())
    assert jwe.decrypt_ecdh_es(token, restored)[1] == b"hi"
    assert private["d"] not in repr(key)


def test_private_jwk_must_match_its_public_part():
    jwk = {**jwe.generate_ecdh_key().to_jwk(), "d": jwe.generate_ecdh_key().to_jwk()["d"]}
    with pytest.raises(JoseError) as exc:
        jwe.ecdh_key_from_jwk(jwk)
    assert exc.value.reason == "invalid_jwk"
    assert jwk["d"] not in exc.value.message


# --- tampering and the wrong key ------------------------------------------------------------


def _flip(segment: str) -> str:
    raw = bytearray(b64u_decode(segment))
    raw[0] ^= 1
    return b64u_encode(bytes(raw))


@pytest.mark.parametrize("part", [2, 3, 4])  # IV, ciphertext, tag
def test_tampered_parts_fail(part):
    key = jwe.generate_ecdh_key()
    parts = jwe.encrypt_ecdh_es(b"secret claims", key.public_jwk()).split(".")
    parts[part] = _flip(parts[part])
    with pytest.raises(JoseError) as exc:
        jwe.decrypt_ecdh_es(".".join(parts), key)
    assert exc.value.reason == "jwe_decryption_failed"


def test_tampered_protected_header_fails():
    key = jwe.generate_ecdh_key()
    parts = jwe.encrypt_ecdh_es(b"secret", key.public_jwk(), kid="a").split(".")
    header = json.loads(b64u_decode(parts[0]))
    parts[0] = b64u_json({**header, "kid": "b"})
    with pytest.raises(JoseError) as exc:
        jwe.decrypt_ecdh_es(".".join(parts), key)
    assert exc.value.reason == "jwe_decryption_failed"


@pytest.mark.parametrize("crv", CURVES)
def test_wrong_recipient_key_fails(crv):
    token = jwe.encrypt_ecdh_es(b"secret", jwe.generate_ecdh_key(crv).public_jwk())
    with pytest.raises(JoseError) as exc:
        jwe.decrypt_ecdh_es(token, jwe.generate_ecdh_key(crv))
    assert exc.value.reason == "jwe_decryption_failed"


# --- header strictness ----------------------------------------------------------------------


def _with_header(token: str, **changes) -> str:
    parts = token.split(".")
    header = {**json.loads(b64u_decode(parts[0])), **changes}
    parts[0] = b64u_json({k: v for k, v in header.items() if v is not None})
    return ".".join(parts)


@pytest.mark.parametrize("changes,reason", [
    ({"alg": "ECDH-ES+A128KW"}, "unsupported_alg"),
    ({"alg": "RSA-OAEP-256"}, "unsupported_alg"),
    ({"alg": "dir"}, "unsupported_alg"),
    ({"alg": None}, "unsupported_alg"),
    ({"enc": "A128CBC-HS256"}, "unsupported_enc"),
    ({"enc": "A192GCM"}, "unsupported_enc"),
    ({"epk": None}, "invalid_epk"),
    ({"zip": "DEF"}, "unsupported_zip"),
    ({"crit": ["exp"]}, "unsupported_crit"),
    ({"epk": {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"}}, "invalid_jwk"),
    ({"epk": {"kty": "EC", "crv": "P-256", "x": b64u_encode(b"\x01" * 32),
              "y": b64u_encode(b"\x02" * 32)}}, "invalid_jwk"),       # not on the curve
    ({"epk": jwe.generate_ecdh_key("X25519").public_jwk()}, "invalid_epk"),  # other curve
    ({"epk": {"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}}, "unsupported_key_type"),
    ({"apu": 5}, "malformed_jwe"),
])
def test_header_rules(changes, reason):
    key = jwe.generate_ecdh_key()
    token = _with_header(jwe.encrypt_ecdh_es(b"x", key.public_jwk()), **changes)
    with pytest.raises(JoseError) as exc:
        jwe.decrypt_ecdh_es(token, key)
    assert exc.value.reason == reason


@pytest.mark.parametrize("mangle", [
    lambda p: p[:4],                                     # 4 segments
    lambda p: [p[0], "AAAA", *p[2:]],                    # an encrypted key in direct mode
    lambda p: [p[0], "", b64u_encode(b"short"), *p[3:]],  # 5-byte IV
    lambda p: [*p[:4], b64u_encode(b"short tag")],        # 9-byte tag
    lambda p: [b64u_encode(b"[1]"), *p[1:]],              # header not an object
])
def test_malformed_compact_serialization(mangle):
    key = jwe.generate_ecdh_key()
    parts = jwe.encrypt_ecdh_es(b"x", key.public_jwk()).split(".")
    with pytest.raises(JoseError) as exc:
        jwe.decrypt_ecdh_es(".".join(mangle(parts)), key)
    assert exc.value.reason in {"malformed_jwe", "malformed_json"}


@pytest.mark.parametrize("kwargs,reason", [
    ({"enc": "A128CBC-HS256"}, "unsupported_enc"),
    ({"extra_header": {"alg": "dir"}}, "invalid_header"),
    ({"extra_header": {"epk": {}}}, "invalid_header"),
])
def test_encrypt_refuses(kwargs, reason):
    with pytest.raises(JoseError) as exc:
        jwe.encrypt_ecdh_es(b"x", jwe.generate_ecdh_key().public_jwk(), **kwargs)
    assert exc.value.reason == reason


@pytest.mark.parametrize("jwk_changes,reason", [
    ({"use": "sig"}, "key_use_mismatch"),
    ({"alg": "RSA-OAEP"}, "alg_key_mismatch"),
    ({"kty": "RSA"}, "unsupported_key_type"),
    ({"crv": "Ed25519", "kty": "OKP"}, "unsupported_key_type"),
])
def test_recipient_key_must_fit(jwk_changes, reason):
    jwk = {**jwe.generate_ecdh_key().public_jwk(), **jwk_changes}
    with pytest.raises(JoseError) as exc:
        jwe.encrypt_ecdh_es(b"x", jwk)
    assert exc.value.reason == reason


# --- interop with joserfc -------------------------------------------------------------------


@pytest.fixture
def joserfc():
    """joserfc is the independent JOSE implementation giving interop evidence (test extra)."""
    pytest.importorskip("joserfc", reason="joserfc (the 'test' extra) is not installed; "
                        "interop evidence needs it")
    from joserfc import jwe as joserfc_jwe
    from joserfc.jwk import ECKey, OKPKey
    return joserfc_jwe, {"P-256": ECKey.import_key, "X25519": OKPKey.import_key}


@pytest.mark.parametrize("crv", CURVES)
@pytest.mark.parametrize("enc", ENCS)
def test_joserfc_decrypts_ours(joserfc, crv, enc):
    joserfc_jwe, import_key = joserfc
    key = jwe.generate_ecdh_key(crv)
    token = jwe.encrypt_ecdh_es(b"to joserfc", key.public_jwk(), enc=enc,
                                extra_header={"apu": b64u_encode(b"u"), "apv": b64u_encode(b"v")})
    result = joserfc_jwe.decrypt_compact(token, import_key[crv](key.to_jwk()))
    assert result.plaintext == b"to joserfc"


@pytest.mark.parametrize("crv", CURVES)
@pytest.mark.parametrize("enc", ENCS)
def test_we_decrypt_joserfc(joserfc, crv, enc):
    joserfc_jwe, import_key = joserfc
    key = jwe.generate_ecdh_key(crv)
    protected = {"alg": "ECDH-ES", "enc": enc, "apu": b64u_encode(b"Alice"),
                 "apv": b64u_encode(b"Bob")}
    recipient = import_key[crv](key.public_jwk())
    token = joserfc_jwe.encrypt_compact(protected, b"from joserfc", recipient)
    header, plaintext = jwe.decrypt_ecdh_es(token, key)
    assert plaintext == b"from joserfc"
    assert header["apu"] == protected["apu"]

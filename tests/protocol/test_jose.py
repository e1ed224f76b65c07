"""JWS / JWK: round trips, strictness, and interop with an independent JOSE library (joserfc)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol import jose
from conformance.protocol.errors import JoseError

ALGS = ["EdDSA", "ES256"]


@pytest.mark.parametrize("alg", ALGS)
def test_sign_verify_round_trip(alg):
    key = jose.generate_key(alg)
    token = jose.sign_jws({"typ": "JWT"}, {"sub": "alice", "n": 1}, key)
    jws = jose.verify_jws(token, key.public)
    assert jws.header == {"typ": "JWT", "alg": alg}
    assert jws.payload == {"sub": "alice", "n": 1}


@pytest.mark.parametrize("alg", ALGS)
def test_other_key_rejected(alg):
    token = jose.sign_jws({}, {"a": 1}, jose.generate_key(alg))
    with pytest.raises(JoseError) as exc:
        jose.verify_jws(token, jose.generate_key(alg).public)
    assert exc.value.reason == "signature_invalid"


def test_alg_key_mismatch_rejected():
    token = jose.sign_jws({}, {"a": 1}, jose.generate_key("EdDSA"))
    with pytest.raises(JoseError) as exc:
        jose.verify_jws(token, jose.generate_key("ES256").public)
    assert exc.value.reason == "alg_key_mismatch"


@pytest.mark.parametrize("alg,reason", [("none", "alg_none"), ("HS256", "unsupported_alg"),
                                        ("RS256", "unsupported_alg")])
def test_forbidden_algs_rejected(alg, reason):
    header = jose.b64u_json({"alg": alg})
    token = f"{header}.{jose.b64u_json({'a': 1})}."
    with pytest.raises(JoseError) as exc:
        jose.parse_jws(token)
    assert exc.value.reason == reason


@pytest.mark.parametrize("token,reason", [
    ("a.b", "malformed_jws"),
    ("a.b.c.d", "malformed_jws"),
    ("!!!.e30.", "malformed_base64url"),
    (f"{jose.b64u_encode(b'not json')}.e30.", "malformed_json"),
    (f"{jose.b64u_json({'alg': 'EdDSA'})}.{jose.b64u_json([1])}.", "malformed_json"),
    (f"{jose.b64u_json({'alg': 'EdDSA'})}.e30=.", "malformed_base64url"),
])
def test_malformed_tokens_rejected(token, reason):
    with pytest.raises(JoseError) as exc:
        jose.parse_jws(token)
    assert exc.value.reason == reason


def test_rfc7638_thumbprint_example():
    # RFC 8037 appendix A.3: thumbprint of the Ed25519 example key.
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
    assert jose.public_key_from_jwk(jwk).thumbprint() == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_signature_example():
    # RFC 8037 appendix A.4: deterministic Ed25519 JWS over "Example of Ed25519 signing".
    key = jose.private_key_from_jwk({
        "kty": "OKP", "crv": "Ed25519",
        "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"})
    signing_input = b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
    assert jose.b64u_encode(key.sign(signing_input)) == (
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")


@pytest.mark.parametrize("alg", ALGS)
def test_jwk_and_raw_round_trip(alg):
    key = jose.generate_key(alg)
    assert jose.private_key_from_jwk(key.to_jwk()).raw() == key.raw()
    assert jose.private_key_from_b64u(jose.b64u_encode(key.raw()), alg).public.to_jwk() == key.public.to_jwk()


def test_private_key_errors_never_echo_the_key():
    secret = jose.b64u_encode(b"\x01" * 31)
    with pytest.raises(JoseError) as exc:
        jose.private_key_from_b64u(secret, "EdDSA")
    assert secret not in str(exc.value) and secret not in repr(exc.value)
    assert "redacted" in repr(jose.generate_key())


@given(st.binary(max_size=64))
@settings(max_examples=50, deadline=None)
def test_b64u_round_trip(data):
    assert jose.b64u_decode(jose.b64u_encode(data)) == data


def test_fully_specified_ed25519_alg_accepted():
    key = jose.generate_key("EdDSA")
    signing_input = f"{jose.b64u_json({'alg': 'Ed25519'})}.{jose.b64u_json({'a': 1})}"
    token = f"{signing_input}.{jose.b64u_encode(key.sign(signing_input.encode()))}"
    assert jose.verify_jws(token, key.public).payload == {"a": 1}


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")  # joserfc follows RFC 9864; see jose.py
@pytest.mark.parametrize("alg", ALGS)
def test_interop_with_joserfc(alg):
    joserfc = pytest.importorskip("joserfc", reason="joserfc is a test dependency (pip install -e '.[test]')")
    from joserfc import jws
    from joserfc.jwk import import_key

    key = jose.generate_key(alg)
    theirs = import_key(key.to_jwk())
    ours_token = jose.sign_jws({"typ": "JWT"}, {"x": 1}, key)
    assert json.loads(jws.deserialize_compact(ours_token, theirs, algorithms=[alg]).payload) == {"x": 1}
    their_token = jws.serialize_compact({"alg": alg}, json.dumps({"y": 2}), theirs, algorithms=[alg])
    assert jose.verify_jws(their_token, key.public).payload == {"y": 2}

"""The X.509 signing path: an ES256 key and its `x5c` chain (RFC 7515 §4.1.6), loaded from PEM.

The default material is the TEST-ONLY PKI in fixtures/pki (see its README).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.paths import FIXTURES
from conformance.protocol.jose import PrivateKey

PKI_DIR = FIXTURES / "pki"


@dataclass(frozen=True)
class X509Signer:
    key: PrivateKey = field(repr=False)
    x5c: tuple[str, ...]  # base64 (not url) DER, leaf first; the trust anchor is not included

    @classmethod
    def from_pem(cls, key_pem: bytes, chain_pem: list[bytes]) -> X509Signer:
        key = serialization.load_pem_private_key(key_pem, password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError("the X.509 signing key must be a P-256 (ES256) key")
        certs = [x509.load_pem_x509_certificate(pem) for pem in chain_pem]
        leaf_public = certs[0].public_key().public_numbers()
        if leaf_public != key.public_key().public_numbers():
            raise ValueError("the X.509 signing key does not match the leaf certificate")
        der = [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs]
        return cls(PrivateKey("ES256", key), tuple(der))


def load_test_signer(directory: Path = PKI_DIR) -> X509Signer:
    return X509Signer.from_pem((directory / "issuer-es256.key.pem").read_bytes(),
                               [(directory / "issuer-es256.cert.pem").read_bytes()])

"""A leaf certificate for the host an issuer is actually served on, signed by the test CA.

The committed leaf in fixtures/pki names `issuer.local`, the in-process host. Under
`conformance serve` the issuer is `http://127.0.0.1:8100/...`, and SD-JWT VC
(draft-ietf-oauth-sd-jwt-vc §3.5) wants an https/http `iss` to match a SAN of the x5c leaf, so a
served deployment mints its own leaf at start. TEST-ONLY, like the CA that signs it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from reference.issuer.pki import PKI_DIR, X509Signer

VALIDITY = dt.timedelta(days=365)


def mint_test_signer(issuer_url: str, identifiers: Sequence[str] = ()) -> X509Signer:
    """An ES256 signer whose leaf names `issuer_url`'s host (DNS or IP SAN) and each Credential
    Issuer identifier in `identifiers` (URI SANs: a verifier matches `iss` against them)."""
    ca_key = serialization.load_pem_private_key((PKI_DIR / "test-ca.key.pem").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((PKI_DIR / "test-ca.cert.pem").read_bytes())
    key = ec.generate_private_key(ec.SECP256R1())
    host = httpx.URL(issuer_url).host
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(
                [_host_name(host), *(x509.UniformResourceIdentifier(i) for i in (issuer_url, *identifiers))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_cert.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return X509Signer.from_pem(key_pem, [cert.public_bytes(pem)])


def _host_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)

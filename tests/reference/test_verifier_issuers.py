"""Issuer key resolution in the verifier: x5c chains against the test PKI's trust anchor, and a
did:iota issuer resolved through the reference ledger."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.paths import FIXTURES
from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key, sign_jws
from tests.reference.test_verifier_flow import DCQL, Rig, assert_fail_fast, check

PKI = FIXTURES / "pki"
CA = str(PKI / "test-ca.cert.pem")
ISSUER_URL = "http://issuer.local"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def pki_signer() -> tuple[PrivateKey, list[str], x509.Certificate]:
    pem_key = serialization.load_pem_private_key((PKI / "issuer-es256.key.pem").read_bytes(), None)
    assert isinstance(pem_key, ec.EllipticCurvePrivateKey)
    leaf = x509.load_pem_x509_certificate((PKI / "issuer-es256.cert.pem").read_bytes())
    return PrivateKey("ES256", pem_key), [base64.b64encode(leaf.public_bytes(serialization.Encoding.DER)).decode()], leaf


def self_signed_chain(at: float) -> tuple[PrivateKey, list[str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, "rogue issuer")])
    now = dt.datetime.fromtimestamp(at, dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("issuer.local")]), critical=False)
            .sign(key, hashes.SHA256()))
    return PrivateKey("ES256", key), [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()]


@pytest.mark.anyio
async def test_x5c_issuer_anchored_in_the_test_ca() -> None:
    rig = Rig(settings={"trust_anchors_pem": (CA,)})
    key, x5c, _ = pki_signer()
    result, _ = await rig.flow(credential=rig.issue(key=key, header={"x5c": x5c}, iss=ISSUER_URL))
    assert result["status"] == "completed", result["check_results"]
    assert "x5c certificate chain" in check(result, "signature")["message"]


@pytest.mark.anyio
async def test_x5c_without_trust_anchors_or_from_a_rogue_ca_is_not_resolvable() -> None:
    key, x5c, _ = pki_signer()
    rig = Rig()
    result, _ = await rig.flow(credential=rig.issue(key=key, header={"x5c": x5c}, iss=ISSUER_URL))
    assert_fail_fast(result, "signature", "issuer_key_not_resolvable")
    rig = Rig(settings={"trust_anchors_pem": (CA,)})
    rogue_key, rogue_x5c = self_signed_chain(rig.clock.now())
    result, _ = await rig.flow(credential=rig.issue(key=rogue_key, header={"x5c": rogue_x5c}, iss=ISSUER_URL))
    assert_fail_fast(result, "signature", "issuer_key_not_resolvable")
    assert "trust anchor" in check(result, "signature")["message"]


@pytest.mark.anyio
async def test_x5c_leaf_not_naming_iss_is_a_payload_mismatch() -> None:
    rig = Rig(settings={"trust_anchors_pem": (CA,)})
    key, x5c, _ = pki_signer()
    result, _ = await rig.flow(credential=rig.issue(key=key, header={"x5c": x5c}, iss="https://evil.example"))
    assert_fail_fast(result, "signature", "signature_payload_mismatch")


@pytest.mark.anyio
async def test_trusted_authorities_aki_matches_the_chain() -> None:
    rig = Rig(settings={"trust_anchors_pem": (CA,)})
    key, x5c, leaf = pki_signer()
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier
    credential = rig.issue(key=key, header={"x5c": x5c}, iss=ISSUER_URL)
    for value, status in ((b64u_encode(aki), "completed"), (b64u_encode(b"\x00" * 20), "failed")):
        dcql = {"credentials": [{**DCQL["credentials"][0],
                                 "trusted_authorities": [{"type": "aki", "values": [value]}]}]}
        result, _ = await rig.flow(credential=credential, dcql=dcql)
        assert result["status"] == status, result["check_results"]


@pytest.mark.anyio
async def test_did_iota_issuer_through_the_reference_ledger() -> None:
    ledger_app = pytest.importorskip("reference.ledger")
    ledger_store = pytest.importorskip("reference.ledger.store")
    rig = Rig()
    ledger = ledger_app.create_app(ledger_app.LedgerSettings(), store=ledger_store.open_store(":memory:"),
                                   clock=rig.clock, http=rig.http)
    rig.network.mount("http://ledger.local", ledger)
    issuer_key = generate_key("EdDSA")
    proof = sign_jws({"jwk": issuer_key.public.to_jwk()}, {"op": "create", "iat": int(rig.clock.now())}, issuer_key)
    created = await rig.wallet.post("http://ledger.local/v1/dids", json={"proof": proof})
    assert created.status_code == 201, created.text
    did = created.json()["did"]
    credential = rig.issue(key=issuer_key, header={"kid": f"{did}#key-1"}, iss=did)
    result, _ = await rig.flow(credential=credential)
    assert result["status"] == "completed", result["check_results"]
    assert result["presentation_metadata"]["credential_metadata"][0]["issuer"] == did
    # A key that is not the DID's fails the signature check.
    forged = rig.issue(key=generate_key("EdDSA"), header={"kid": f"{did}#key-1"}, iss=did)
    result, _ = await rig.flow(credential=forged)
    assert_fail_fast(result, "signature", "signature_verification_failed")

"""Credential, status and notarization checks on real SD-JWT VCs (real keys, real signatures)."""

from __future__ import annotations

import asyncio
import base64
import datetime
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conformance.harness.checks import REGISTRY, CheckOutcome
from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key
from conformance.protocol.sdjwt import issue_sd_jwt_vc, make_disclosure

from ._doubles import VCT, World, check_context, make_target


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def holder() -> PrivateKey:
    return generate_key("EdDSA")


def run(name: str, world: World, artefacts: dict, **kw: object) -> CheckOutcome:
    async def go() -> CheckOutcome:
        target = make_target(world)
        try:
            return await REGISTRY.get(name).run(check_context(target, artefacts, **kw))
        finally:
            await target.aclose()
    return asyncio.run(go())


def test_issuer_signature_resolves_did_key_and_did_iota(world: World, holder: PrivateKey) -> None:
    outcome = run("sdjwt.issuer_signature", world, {"credential": world.issue(holder)})
    assert outcome.status == "passed" and f"verification method {world.issuer_kid}" in outcome.message
    iota = run("sdjwt.issuer_signature", world, {"credential": world.issue(holder, iota=True)})
    assert iota.status == "passed" and world.iota_kid in iota.message
    jwt_only = run("sdjwt.issuer_signature", world, {"issuer_jwt": world.issue(holder).split("~")[0]})
    assert jwt_only.status == "passed"


def test_issuer_signature_fails_on_a_corrupted_signature_or_foreign_key(world: World, holder: PrivateKey) -> None:
    world.break_signatures = True
    broken = run("sdjwt.issuer_signature", world, {"credential": world.issue(holder)})
    assert broken.status == "failed" and broken.message.startswith("signature_invalid")
    world.break_signatures = False
    del world.dids[world.iota_did]
    unresolvable = run("sdjwt.issuer_signature", world, {"credential": world.issue(holder, iota=True)})
    assert unresolvable.status == "failed" and unresolvable.message.startswith("issuer_key_not_resolvable")
    assert "(did_not_found)" in unresolvable.message


def test_issuer_signature_kid_must_belong_to_iss(world: World, holder: PrivateKey) -> None:
    issued = issue_sd_jwt_vc(issuer_key=world.issuer_key, header={"kid": world.issuer_kid},
                             payload={"iss": "did:example:someone-else", "vct": VCT, "iat": 1}, claims={"a": 1})
    outcome = run("sdjwt.issuer_signature", world, {"credential": issued.serialize()})
    assert outcome.status == "failed" and outcome.message.startswith("signature_payload_mismatch")
    assert "someone-else" in outcome.message


def _certificate(subject: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey,
                 ca: bool) -> str:
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            # SD-JWT VC §3.5: an http(s) iss must be a URI SAN of the leaf (or its host a dNSName SAN)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier("https://issuer.test")]),
                           critical=False)
            .sign(signer, hashes.SHA256()))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def test_issuer_signature_follows_an_x5c_chain(world: World) -> None:
    root, leaf = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    chain = [_certificate("issuer", leaf, "root", root, ca=False), _certificate("root", root, "root", root, ca=True)]
    signing = PrivateKey("ES256", leaf)
    issued = issue_sd_jwt_vc(issuer_key=signing, header={"x5c": chain},
                             payload={"iss": "https://issuer.test", "vct": VCT, "iat": 1}, claims={"a": 1})
    good = run("sdjwt.issuer_signature", world, {"credential": issued.serialize()})
    assert good.status == "passed" and "x5c chain of 2" in good.message
    stranger = ec.generate_private_key(ec.SECP256R1())
    bad_chain = [chain[0], _certificate("root", stranger, "root", stranger, ca=True)]
    forged = issue_sd_jwt_vc(issuer_key=signing, header={"x5c": bad_chain},
                             payload={"iss": "https://issuer.test", "vct": VCT, "iat": 1}, claims={"a": 1})
    bad = run("sdjwt.issuer_signature", world, {"credential": forged.serialize()})
    assert bad.status == "failed" and bad.message.startswith("issuer_key_not_resolvable")
    assert "not issued by x5c[1]" in bad.message


def test_disclosure_digests(world: World, holder: PrivateKey) -> None:
    credential = world.issue(holder)
    good = run("sdjwt.disclosure_digests", world, {"credential": credential})
    assert good.status == "passed" and good.message.startswith("4 Disclosures")
    stray = make_disclosure(b64u_encode(b"0" * 16), "extra", "not referenced").encoded
    bad = run("sdjwt.disclosure_digests", world, {"credential": credential + stray + "~"})
    assert bad.status == "failed" and bad.message.startswith("disclosure_not_referenced")
    first = credential.split("~")[1]
    dup = run("sdjwt.disclosure_digests", world, {"credential": credential + first + "~"})
    assert dup.status == "failed" and dup.message.startswith("duplicate_disclosure")
    none = issue_sd_jwt_vc(issuer_key=world.issuer_key, header={}, payload={"vct": VCT}, claims={"a": 1},
                           selective=lambda path: False)
    assert run("sdjwt.disclosure_digests", world, {"credential": none.serialize()}).status == "skipped"
    assert run("sdjwt.disclosure_digests", world, {}).status == "skipped"


def test_vc_claims(world: World, holder: PrivateKey) -> None:
    credential = world.issue(holder)
    assert run("sdjwt.vc_claims", world, {"credential": credential, "holder_key": holder.public}).status == "passed"
    other = run("sdjwt.vc_claims", world, {"credential": credential, "holder_key": generate_key().public})
    assert other.status == "failed" and "not the key the wallet proved possession of" in other.message
    bare = issue_sd_jwt_vc(issuer_key=world.issuer_key, header={}, payload={"vct": VCT}, claims={"a": 1})
    found = run("sdjwt.vc_claims", world, {"credential": bare.serialize()})
    assert found.status == "failed"
    for fragment in ("no iss", "iat None", "cnf claim"):
        assert fragment in found.message


def test_status_claim_and_value(world: World, holder: PrivateKey) -> None:
    credential = world.issue(holder, idx=3)
    ok = run("sdjwt.status_claim", world, {"credential": credential})
    assert ok == CheckOutcome("passed", "index 3 of http://issuer.test/status/1: VALID")
    assert run("status.valid", world, {"credential": credential}).status == "passed"
    assert run("status.revoked", world, {"credential": credential}).status == "failed"
    world.statuses = world.statuses.with_status(3, 1)
    assert run("status.revoked", world, {"credential": credential}).status == "passed"
    outside = run("sdjwt.status_claim", world, {"credential": world.issue(holder, idx=99)})
    assert outside.status == "failed" and outside.message.startswith("index_out_of_range")
    plain = issue_sd_jwt_vc(issuer_key=world.issuer_key, header={"kid": world.issuer_kid},
                            payload={"iss": world.issuer_did, "vct": VCT}, claims={"a": 1})
    missing = run("sdjwt.status_claim", world, {"credential": plain.serialize()})
    assert missing.status == "failed" and missing.message.startswith("status_claim_missing")


def test_notarization_anchor(world: World, holder: PrivateKey) -> None:
    credential = world.issue(holder, iota=True)
    jwt = credential.split("~")[0]
    anchored = world.objects[world.anchor(jwt)]
    artefacts = {"credential": credential, "ledger_object": anchored}
    assert run("notarization.anchor_matches_jwt", world, artefacts).status == "passed"
    assert run("notarization.anchor_signature", world, artefacts).status == "passed"
    other = world.issue(holder, iota=True).split("~")[0]
    mismatch = run("notarization.anchor_matches_jwt", world, {**artefacts, "ledger_object": {"state": {"data": other}}})
    assert mismatch.status == "failed" and mismatch.message.startswith("Received: state.data")
    head, body, sig = jwt.split(".")
    forged = {"state": {"data": f"{head}.{body}.{sig[::-1]}"}}
    assert run("notarization.anchor_signature", world, {"ledger_object": forged}).status == "failed"
    off_chain = {"state": {"data": world.issue(holder).split("~")[0]}}
    wrong_path = run("notarization.anchor_signature", world, {"ledger_object": off_chain})
    assert wrong_path.status == "failed" and "a did:iota DID URL" in wrong_path.message
    assert run("notarization.anchor_matches_jwt", world, {"credential": credential}).status == "skipped"


def test_checks_keep_time_injected(world: World, holder: PrivateKey) -> None:
    ctx = check_context(make_target(world), {}, now=1_000.0)
    assert ctx.now() == 1_000.0 and abs(check_context(make_target(world)).now() - time.time()) < 5

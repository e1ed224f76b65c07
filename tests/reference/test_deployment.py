"""The wired reference: every role reachable in-process, a credential travels issuer -> holder,
and persistence in db_dir survives a rebuild."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from reference.deployment import ROLES, build_reference

pytestmark = pytest.mark.anyio


async def test_every_role_answers_its_openapi_document() -> None:
    deployment = build_reference()
    try:
        http = deployment.client()
        for role in ROLES:
            response = await http.get(f"{deployment.urls[role]}/openapi.json")
            assert response.status_code == 200, role
            assert response.json()["openapi"].startswith("3."), role
    finally:
        await deployment.aclose()


async def test_issuer_offer_persists_across_rebuild(tmp_path) -> None:
    first = build_reference(db_dir=tmp_path)
    http = first.client()
    created = await http.post(f"{first.urls['issuer']}/v1/offers",
                              headers={"X-API-Key": first.api_keys["issuer"]},
                              json={"credential": {"config_id": "TuringCerts_Standard_Credential_v2_sd_jwt",
                                                   "claims": {"credentialName": "Degree",
                                                              "issuedTime": "2026-01-01T00:00:00Z"}},
                                    "flow": "pre-authorized"})
    assert created.status_code == 201, created.text
    offer_id = created.json()["offer_id"]
    await first.aclose()
    assert (tmp_path / "issuer.sqlite").exists()

    second = build_reference(db_dir=tmp_path)
    try:
        listed = await second.client().get(f"{second.urls['issuer']}/v1/offers/{offer_id}/credentials",
                                           headers={"X-API-Key": second.api_keys["issuer"]})
        assert listed.status_code == 200, listed.text
    finally:
        await second.aclose()


async def test_verifier_rejects_a_foreign_api_key() -> None:
    deployment = build_reference(verifier_api_key="k-123")
    try:
        response = await deployment.client().get(
            f"{deployment.urls['verifier']}/v1/verifier/result/00000000-0000-4000-8000-000000000000",
            headers={"X-API-Key": "wrong"})
        assert response.status_code == 401
    finally:
        await deployment.aclose()


async def test_wrong_method_answers_405_with_allow_header() -> None:
    deployment = build_reference()
    try:
        response = await deployment.client().delete(f"{deployment.urls['issuer']}/v1/offers")
        assert response.status_code == 405
        assert "POST" in response.headers["allow"]
        assert response.json()["error"]["code"] == "method_not_allowed"
    finally:
        await deployment.aclose()


def test_a_served_issuer_gets_a_leaf_naming_its_host_and_x509_tenants() -> None:
    from conformance.issuer_keys import decode_chain, load_trust_anchors, names_issuer
    from reference.deployment import TEST_CA, _issuer_settings

    settings = _issuer_settings("http://127.0.0.1:8100", "http://127.0.0.1:8103", None, None)
    leaf = decode_chain(list(settings.x509.x5c), "x5c")[0]
    assert names_issuer(leaf, "http://127.0.0.1:8100/haip")
    assert not names_issuer(leaf, "http://127.0.0.1:8100/turing")   # a did:iota tenant
    (anchor,) = load_trust_anchors((str(TEST_CA),))
    # Raises InvalidSignature unless the test CA signed the leaf.
    anchor.public_key().verify(leaf.signature, leaf.tbs_certificate_bytes,
                               ec.ECDSA(leaf.signature_hash_algorithm))

"""The verifier's management API: authentication, input validation, identities, persistence, and
the OpenAPI document checked against real responses."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from schemathesis.specs.openapi.definitions import OPENAPI_31

from conformance.protocol.jose import b64u_encode, generate_key
from conformance.protocol.jwe import generate_ecdh_key
from conformance.protocol.oid4vp import parse_authorization_request, verify_request_object
from reference.verifier import create_app, open_store
from reference.verifier.openapi import openapi_document
from tests.reference.test_verifier_flow import API_KEY, DCQL, VERIFIER_URL, Rig

CREATE = f"{VERIFIER_URL}/v1/verifier/authorization-request"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def body(rig: Rig, **overrides: Any) -> dict[str, Any]:
    data = {"dcql_query": DCQL, "verifier_private_key": b64u_encode(rig.verifier_key.raw()),
            "verifier_client_id": rig.verifier_did}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


async def post(rig: Rig, data: Any, key: str | None = API_KEY) -> Any:
    headers = {"X-API-Key": key} if key else {}
    return await rig.wallet.post(CREATE, json=data, headers=headers)


# --- auth and validation ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_api_key_is_required() -> None:
    rig = Rig()
    for key in (None, "wrong-key"):
        response = await post(rig, body(rig), key)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    created = await rig.create()
    result = await rig.wallet.get(f"{VERIFIER_URL}/v1/verifier/result/{created['session_id']}")
    assert result.status_code == 401


@pytest.mark.anyio
@pytest.mark.parametrize(("overrides", "status", "code", "field"), [
    ({"dcql_query": None}, 400, "invalid_request", "dcql_query"),
    ({"dcql_query": {"credentials": []}}, 400, "dcql_invalid_member", "dcql_query.credentials"),
    ({"dcql_query": {"credentials": [{"id": "x", "format": "mso_mdoc", "meta": {"doctype_value": "d"}}]}},
     400, "vp_formats_not_supported", "dcql_query.credentials[0].format"),
    ({"verifier_private_key": None}, 400, "invalid_request", "verifier_private_key"),
    ({"verifier_client_id": None}, 400, "invalid_request", "verifier_client_id"),
    ({"verifier_client_id": "x509_san_dns:v.example"}, 400, "invalid_verifier_client_id", "verifier_client_id"),
    ({"response_mode": "fragment"}, 400, "invalid_request", "response_mode"),
    ({"expires_in": 0}, 400, "invalid_request", "expires_in"),
    ({"redirect_uri": "javascript:alert(1)"}, 400, "invalid_request", "redirect_uri"),
    # OID4VP 1.0 §5.10: get or post, case-sensitive.
    ({"request_uri_method": "POST"}, 400, "invalid_request", "request_uri_method"),
    ({"request_uri_method": 1}, 400, "invalid_request", "request_uri_method"),
    ({"client_metadata": {"jwks": {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "BB"}]}}},
     400, "invalid_request", "client_metadata.jwks.keys[0]"),
])
async def test_create_rejections(overrides: dict[str, Any], status: int, code: str, field: str) -> None:
    rig = Rig()
    response = await post(rig, body(rig, **overrides))
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code and response.json()["error"]["field"] == field


@pytest.mark.anyio
async def test_private_key_errors_never_echo_the_key() -> None:
    rig = Rig()
    secret = b64u_encode(b"\x01" * 31)  # one byte short
    response = await post(rig, body(rig, verifier_private_key=secret))
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_verifier_private_key"
    assert secret not in response.text


@pytest.mark.anyio
async def test_key_must_belong_to_the_verifier_did() -> None:
    rig = Rig()
    other = b64u_encode(generate_key("EdDSA").raw())
    response = await post(rig, body(rig, verifier_private_key=other))
    assert response.status_code == 400 and response.json()["error"]["code"] == "verifier_key_mismatch"
    assert other not in response.text


@pytest.mark.anyio
async def test_did_iota_verifier_without_a_reachable_ledger_is_503() -> None:
    rig = Rig()
    response = await post(rig, body(rig, verifier_client_id="did:iota:testnet:0x" + "ab" * 32))
    assert response.status_code == 503 and response.json()["error"]["code"] == "ledger_unavailable"


# --- identities ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_seed_bare_did_is_accepted_and_sent_prefixed_by_default() -> None:
    rig = Rig()
    created = await rig.create(verifier_client_id=f"decentralized_identifier:{rig.verifier_did}")
    assert created["client_id"] == f"decentralized_identifier:{rig.verifier_did}"
    created = await rig.create()  # the seed's bare DID
    assert created["client_id"] == f"decentralized_identifier:{rig.verifier_did}"
    assert parse_authorization_request(created["authorization_request"]).client_id == created["client_id"]
    assert created["authorization_request"].startswith("openid4vp://authorize?client_id=decentralized_identifier")


@pytest.mark.anyio
async def test_bare_did_client_id_setting_reproduces_the_seed_form() -> None:
    rig = Rig(settings={"bare_did_client_id": True})
    result, _ = await rig.flow()
    assert result["status"] == "completed", result["check_results"]
    created = await rig.create()
    assert created["client_id"] == rig.verifier_did
    assert created["notes"][0]["code"] == "client_id_form"


@pytest.mark.anyio
async def test_https_client_id_with_jwks() -> None:
    rig = Rig()
    jwk = {**rig.verifier_key.public.to_jwk(), "kid": "sig-1"}
    created = await rig.create(verifier_client_id="https://rp.example", client_metadata={
        "client_name": "RP", "jwks": {"keys": [jwk]}, "not_a_member": "dropped"})
    jar = (await rig.wallet.get(created["request_uri"])).text
    request = verify_request_object(jar, rig.verifier_key.public, expected_client_id="https://rp.example")
    assert request.client_metadata["client_name"] == "RP" and "not_a_member" not in request.client_metadata
    assert request.header["kid"] == "sig-1"
    missing = await post(rig, body(rig, verifier_client_id="https://rp.example"))
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "verifier_key_mismatch"


@pytest.mark.anyio
async def test_request_uri_post_serves_the_jar_but_cannot_add_a_wallet_nonce() -> None:
    """Without request_uri_method=post offered (tests/reference/test_verifier_request_uri_post.py
    covers the sessions that offer it) the signing key is gone, so no wallet_nonce can be added."""
    rig = Rig()
    created = await rig.create()
    assert "request_uri_method" not in created["authorization_request"]
    posted = await rig.wallet.post(created["request_uri"], data={"wallet_metadata": "{}"})
    assert posted.status_code == 200 and posted.text.count(".") == 2
    nonce = await rig.wallet.post(created["request_uri"], data={"wallet_nonce": "abc"})
    assert nonce.status_code == 400 and nonce.json()["error"] == "invalid_request"


@pytest.mark.anyio
async def test_unknown_sessions() -> None:
    rig = Rig()
    missing = "00000000-0000-4000-8000-000000000000"
    result = await rig.wallet.get(f"{VERIFIER_URL}/v1/verifier/result/{missing}", headers={"X-API-Key": API_KEY})
    assert result.status_code == 404 and result.json()["error"]["code"] == "session_not_found"
    bad_id = await rig.wallet.get(f"{VERIFIER_URL}/v1/verifier/result/nope", headers={"X-API-Key": API_KEY})
    assert bad_id.status_code == 400
    for path in (f"/v1/verifier/request/{missing}", "/v1/verifier/request/nope"):
        assert (await rig.wallet.get(f"{VERIFIER_URL}{path}")).status_code == 404
    posted = await rig.wallet.post(f"{VERIFIER_URL}/v1/verifier/presentation/{missing}", data={"vp_token": "{}"})
    assert posted.status_code == 404 and posted.json()["error"] == "invalid_request"


# --- persistence and secrets ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_sessions_survive_a_restart_and_no_signing_key_is_stored(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = str(tmp_path / "verifier.db")
    rig = Rig(store_path=path)
    created = await rig.create(response_mode="direct_post.jwt")
    request = await rig.fetch(created)
    raw_key = b64u_encode(rig.verifier_key.raw())
    rig.store.close()
    # A new app on the same file sees the session and can still decrypt its response.
    rig.store = open_store(path)
    rig.app = create_app(rig.settings, store=rig.store, clock=rig.clock, http=rig.http)
    rig.network.mount(VERIFIER_URL, rig.app)
    assert (await rig.result(created["session_id"]))["status"] == "in_progress"
    assert (await rig.submit(request, {"degree": [rig.present(rig.issue(), request)]})).status_code == 200
    assert (await rig.result(created["session_id"]))["status"] == "completed"
    rig.store.close()
    dump = Path(path).read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("verifier.db-*"))
    assert raw_key.encode() not in dump and API_KEY.encode() not in dump
    assert rig.verifier_key.raw() not in dump
    # Nor in the logs (httpx logs every request line at DEBUG / INFO: the body never is).
    assert caplog.text and raw_key not in caplog.text and API_KEY not in caplog.text


def test_encryption_key_kid_is_required_by_the_metadata_builder() -> None:
    from conformance.protocol.oid4vp import build_client_metadata
    with pytest.raises(ValueError):
        build_client_metadata(None, encryption_key=generate_ecdh_key())


# --- the OpenAPI document -------------------------------------------------------------------------


def _validator(schema_name: str) -> jsonschema.Draft202012Validator:
    document = openapi_document()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_openapi_document_is_structurally_sound() -> None:
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    jsonschema.Draft202012Validator(OPENAPI_31).validate(document)
    for name, schema in document["components"]["schemas"].items():
        jsonschema.Draft202012Validator.check_schema(schema)
    refs = {f"#/components/schemas/{n}" for n in document["components"]["schemas"]}
    text = str(document)
    import re
    assert set(re.findall(r"#/components/schemas/\w+", text)) <= refs
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                assert operation["responses"], (path, method)


@pytest.mark.anyio
async def test_real_responses_match_the_openapi_document() -> None:
    rig = Rig()
    served = await rig.wallet.get(f"{VERIFIER_URL}/openapi.json")
    assert served.json() == openapi_document()
    created = await rig.create(redirect_uri="https://rp.example/cb")
    _validator("CreateResponse").validate(created)
    _validator("Result").validate(await rig.result(created["session_id"]))
    request = await rig.fetch(created)
    _validator("Result").validate(await rig.result(created["session_id"]))
    answer = await rig.submit(request, {"degree": [rig.present(rig.issue(status_idx=0), request)]})
    _validator("PresentationAnswer").validate(answer.json())
    _validator("Result").validate(await rig.result(created["session_id"]))
    failed, _ = await rig.flow(credential=rig.issue(exp_in=-10_000), mode="run_all")
    _validator("Result").validate(failed)
    expiring = await rig.create(expires_in=1)
    rig.clock.advance(2)
    _validator("Result").validate(await rig.result(expiring["session_id"]))
    _validator("Error").validate((await post(rig, body(rig), "nope")).json())
    replay = await rig.submit(request, {"degree": ["x~"]})
    _validator("OAuthError").validate(replay.json())
    wallet_error = await rig.create()
    wallet_request = await rig.fetch(wallet_error)
    await rig.wallet.post(wallet_request.response_uri, data={"error": "access_denied", "state": wallet_request.state})
    _validator("Result").validate(await rig.result(wallet_error["session_id"]))


# --- wallet-facing errors -------------------------------------------------------------------------

RFC6749_DESCRIPTION = re.compile(r"[\x20-\x21\x23-\x5B\x5D-\x7E]*")


@pytest.mark.anyio
async def test_oauth_error_descriptions_use_only_the_rfc_6749_characters() -> None:
    """RFC 6749 §5.2: error_description is %x20-21 / %x23-5B / %x5D-7E; the protocol core's
    messages cite clauses with '§', which the verifier spells out."""
    rig = Rig()
    created = await rig.create()
    request = await rig.fetch(created)
    answers = [
        await rig.submit(request, {"degree": [rig.present(rig.issue(), request)]}, state="forged"),  # §14.3.2
        await rig.wallet.post(request.response_uri, content=b"\xff", headers={"Content-Type": "text/plain"}),
        await rig.wallet.post(request.response_uri, content=b"state=a&state=b",
                              headers={"Content-Type": "application/x-www-form-urlencoded"}),
        await rig.wallet.post(created["request_uri"], data={"wallet_nonce": "n"}),
    ]
    for answer in answers:
        assert answer.status_code == 400, answer.text
        description = answer.json()["error_description"]
        assert RFC6749_DESCRIPTION.fullmatch(description), description
    assert "section 14.3.2" in answers[0].json()["error_description"]

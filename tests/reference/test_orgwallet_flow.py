"""The organisation-wallet surface end to end: the issue API (InTime | Deferred, userPin,
urlScheme), the credentialHistory record through its lifecycle, deferred completion over the
OID4VCI 1.0 Deferred Credential Endpoint, denial, revocation on the Token Status List, and the
clear 400s for what the reference does not issue."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from conformance.protocol.jose import generate_key
from conformance.protocol.oid4vci import parse_credential_response, parse_offer_link
from conformance.protocol.sdjwt import parse_sd_jwt, verify_sd_jwt
from conformance.protocol.status_list import STATUS_INVALID, STATUS_SUSPENDED, STATUS_VALID
from reference.common.store import Store
from reference.issuer.configs import load_configurations
from reference.orgwallet import OrgWalletSettings, create_app, open_store
from reference.orgwallet.openapi import openapi_document
from tests.reference.test_issuer_status import list_status
from tests.reference.openapi_contract import check_openapi_document, validate_response
from tests.reference.test_issuer_world import (
    ISSUER,
    Wallet,
    World,
    issuer_key,
    make_world,
    oauth_error,
)

pytestmark = pytest.mark.anyio

ORG = "http://orgwallet.local"
BASE = f"{ORG}/v2/config/digital-wallet/openid/sdjwt/credential"
API_KEY = "org-test-key-5f4e3d2c1b0a"
AUTH = {"Authorization": f"ApiKey {API_KEY}"}
CLAIMS = {"given_name": "Erika", "family_name": "Mustermann", "issuing_country": "DE"}
IN_TIME = {"issuanceMode": "InTime", "credentialDefinitionId": "IdentityCredentialSdJwt",
           "credentials": [{"credentialConfigurationId": "IdentityCredential",
                            "vct": "urn:vc-conformance:IdentityCredential:1", "claims": CLAIMS}]}
DEFERRED = {"issuanceMode": "Deferred", "credentialDefinitionId": "IdentityCredentialSdJwt",
            "credential": {}}


@dataclass
class OrgWallet:
    world: World
    app: Starlette

    @property
    def http(self) -> httpx.AsyncClient:
        return self.world.http

    async def issue(self, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
        response = await self.http.post(f"{BASE}/issue", json=body, headers=AUTH)
        assert response.status_code == expect, response.text
        return response.json()["credentialHistory"] if expect == 200 else response.json()

    async def record(self, exchange_id: str) -> dict[str, Any]:
        response = await self.http.get(f"{BASE}/history/{exchange_id}", headers=AUTH)
        assert response.status_code == 200, response.text
        return response.json()["credentialHistory"]

    async def call(self, method: str, exchange_id: str, action: str,
                   body: dict[str, Any]) -> httpx.Response:
        return await self.http.request(method, f"{BASE}/history/{exchange_id}/{action}",
                                       json=body, headers=AUTH)


def make_orgwallet(*, world: World | None = None, store: Store | None = None) -> OrgWallet:
    world = world or make_world()
    app = create_app(OrgWalletSettings(api_keys=frozenset({API_KEY})),
                     store=store or open_store(":memory:"), clock=world.clock, http=world.http,
                     engine=world.service)
    world.network.mount(ORG, app)
    return OrgWallet(world, app)


async def _deferred(org: OrgWallet, body: dict[str, Any] | None = None
                    ) -> tuple[dict[str, Any], Wallet, str]:
    """A Deferred exchange whose wallet got its transaction_id: (record, wallet, tx id)."""
    record = await org.issue(body or DEFERRED)
    wallet = Wallet(org.http, org.world.clock)
    await wallet.resolve(record["credentialOffer"])
    await wallet.token()
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert response.status_code == 202, response.text
    return record, wallet, response.json()["transaction_id"]


# --- InTime ----------------------------------------------------------------------------------


async def test_in_time_issuance_with_a_user_pin_over_haip() -> None:
    org = make_orgwallet()
    record = await org.issue({**IN_TIME, "userPin": "4711", "urlScheme": "haip://"})
    assert (record["issuanceMode"], record["status"], record["credentialStatus"]) == (
        "InTime", "offer_sent", "ready")
    assert record["credentialOffer"].startswith("haip://?credential_offer_uri=")
    assert parse_offer_link(record["credentialOffer"]).offer_uri.startswith(f"{ISSUER}/v1/offers/")
    assert record["credential"] == {"vct": "urn:vc-conformance:IdentityCredential:1",
                                    "claims": CLAIMS}
    assert "4711" not in str(record)  # userPin is write-only

    wallet = Wallet(org.http, org.world.clock, key=generate_key("ES256"))
    offer = await wallet.resolve(record["credentialOffer"])
    assert offer.pre_authorized.tx_code.to_json() == {"input_mode": "numeric", "length": 4}
    assert (await org.record(record["credentialExchangeId"]))["status"] == "offer_received"
    assert oauth_error(await wallet.token_response("4712"))[2] == "tx_code_wrong"
    await wallet.token("4711")
    credential = await wallet.credential()
    verified = verify_sd_jwt(parse_sd_jwt(credential),
                             issuer_key=await issuer_key(org.http, credential),
                             now=int(org.world.clock.now()), holder_binding=None)
    assert verified.claims["iss"].startswith("did:iota:") and verified.claims["given_name"] == "Erika"

    after = await org.record(record["credentialExchangeId"])
    assert (after["status"], after["revocationStatus"]) == ("credential_issued", "Operational")
    assert after["credentialToken"] == parse_sd_jwt(credential).issuer_jws.token
    assert after["cnf"] == {"jwk": wallet.key.public.to_jwk()}
    assert after["createdAt"] == record["createdAt"] == int(org.world.clock.now())


async def test_a_text_user_pin_and_the_default_scheme() -> None:
    org = make_orgwallet()
    record = await org.issue({**IN_TIME, "userPin": "Xy7Kq2"})
    assert record["credentialOffer"].startswith("openid-credential-offer://?")
    offer = await Wallet(org.http, org.world.clock).resolve(record["credentialOffer"])
    assert offer.pre_authorized.tx_code.to_json() == {"input_mode": "text", "length": 6}
    plain = await org.issue({**IN_TIME, "userPin": ""})  # "leave empty": no tx_code
    offer = await Wallet(org.http, org.world.clock).resolve(plain["credentialOffer"])
    assert offer.pre_authorized.tx_code is None


# --- Deferred ---------------------------------------------------------------------------------


async def test_deferred_credential_pends_until_the_backend_supplies_the_claims() -> None:
    org = make_orgwallet()
    record, wallet, transaction_id = await _deferred(org)
    assert record["credentialStatus"] == "pending" and record["credential"]["claims"] is None
    assert record["deferredInterval"] == org.world.settings.deferred_interval
    for _ in range(2):
        pending = await wallet.deferred_response(transaction_id)
        assert pending.status_code == 202 and pending.json()["transaction_id"] == transaction_id
    waiting = await org.record(record["credentialExchangeId"])
    assert (waiting["status"], waiting["credentialStatus"]) == ("offer_received", "pending")

    supplied = await org.call("POST", record["credentialExchangeId"], "issue-deferred",
                              {"credentials": [{"claims": CLAIMS}]})
    assert supplied.status_code == 200, supplied.text
    ready = supplied.json()["credentialHistory"]
    assert (ready["status"], ready["credentialStatus"]) == ("offer_received", "ready")
    again = await org.call("POST", record["credentialExchangeId"], "issue-deferred",
                           {"credential": {"claims": CLAIMS}})
    assert again.status_code == 409 and again.json()["errorCode"] == 409

    response = await wallet.deferred_response(transaction_id)
    assert response.status_code == 200
    credential = parse_credential_response(response.json()).credentials[0]
    payload = verify_sd_jwt(parse_sd_jwt(credential),
                            issuer_key=await issuer_key(org.http, credential),
                            now=int(org.world.clock.now()), holder_binding=None).claims
    assert payload["issuing_country"] == "DE"
    assert payload["cnf"] == {"jwk": wallet.key.public.to_jwk()}
    issued = await org.record(record["credentialExchangeId"])
    assert (issued["status"], issued["revocationStatus"]) == ("credential_issued", "Operational")
    assert oauth_error(await wallet.deferred_response(transaction_id))[:2] == (
        400, "invalid_transaction_id")


async def test_deferred_claims_given_up_front_wait_for_the_issue_deferred_call() -> None:
    org = make_orgwallet()
    record, wallet, transaction_id = await _deferred(
        org, {**DEFERRED, "credential": {"claims": CLAIMS}})
    assert record["credentialStatus"] == "pending"
    assert (await wallet.deferred_response(transaction_id)).status_code == 202
    answer = await org.call("POST", record["credentialExchangeId"], "issue-deferred", {})
    assert answer.json()["credentialHistory"]["credentialStatus"] == "ready"
    assert (await wallet.deferred_response(transaction_id)).status_code == 200


async def test_issue_deferred_rules() -> None:
    org = make_orgwallet()
    in_time = await org.issue(IN_TIME)
    answer = await org.call("POST", in_time["credentialExchangeId"], "issue-deferred",
                            {"credential": {"claims": CLAIMS}})
    assert answer.status_code == 409 and "InTime" in answer.json()["errorDescription"]
    deferred = await org.issue(DEFERRED)
    answer = await org.call("POST", deferred["credentialExchangeId"], "issue-deferred", {})
    assert answer.status_code == 400  # no claims given before, none now
    answer = await org.call("POST", deferred["credentialExchangeId"], "issue-deferred",
                            {"credential": {"claims": {"given_name": "only"}}})
    assert answer.status_code == 400 and "credential.claims.family_name" in answer.text
    unknown = await org.call("POST", "00000000-0000-4000-8000-000000000000", "issue-deferred", {})
    assert unknown.status_code == 404


# --- the lifecycle -----------------------------------------------------------------------------


async def test_notifications_move_the_record_acked_accepted_deleted() -> None:
    org = make_orgwallet()
    record = await org.issue(IN_TIME)
    wallet = Wallet(org.http, org.world.clock)
    await wallet.resolve(record["credentialOffer"])
    await wallet.token()
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    notification_id = response.json()["notification_id"]
    exchange_id = record["credentialExchangeId"]
    seen = [(await org.record(exchange_id))["status"]]
    for event in ("credential_failure", "credential_accepted", "credential_deleted"):
        org.world.clock.advance(10)
        assert (await wallet.notify(notification_id, event)).status_code == 204
        now = await org.record(exchange_id)
        seen.append(now["status"])
        assert now["notificationEvent"] == event and now["updatedAt"] == int(org.world.clock.now())
    assert seen == ["credential_issued", "credential_acked", "credential_accepted",
                    "credential_deleted"]


async def test_denial_before_and_after_the_wallet_asked() -> None:
    org = make_orgwallet()
    record = await org.issue(IN_TIME)
    wallet = Wallet(org.http, org.world.clock)
    await wallet.resolve(record["credentialOffer"])
    await wallet.token()
    denied = await org.call("POST", record["credentialExchangeId"], "deny",
                            {"reason": "identity check failed"})
    assert denied.status_code == 200
    assert {k: denied.json()["credentialHistory"][k] for k in ("status", "issuanceDeniedReason")} \
        == {"status": "issuance_denied", "issuanceDeniedReason": "identity check failed"}
    response = await wallet.credential_response([wallet.proof(await wallet.nonce())])
    assert oauth_error(response) == (400, "credential_request_denied", "issuance_denied")

    pending, deferred_wallet, transaction_id = await _deferred(org)
    assert (await org.call("POST", pending["credentialExchangeId"], "deny", {})).status_code == 200
    assert oauth_error(await deferred_wallet.deferred_response(transaction_id)) == (
        400, "credential_request_denied", "issuance_denied")

    issued = await org.issue(IN_TIME)
    await Wallet(org.http, org.world.clock).receive(issued["credentialOffer"])
    late = await org.call("POST", issued["credentialExchangeId"], "deny", {})
    assert late.status_code == 409 and late.json()["errorCode"] == 409


async def test_a_locked_user_pin_is_an_issuance_denied_record() -> None:
    org = make_orgwallet()
    record = await org.issue({**IN_TIME, "userPin": "8642"})
    wallet = Wallet(org.http, org.world.clock)
    await wallet.resolve(record["credentialOffer"])
    for _ in range(org.world.settings.tx_code_attempts):
        await wallet.token_response("0000")
    after = await org.record(record["credentialExchangeId"])
    assert after["status"] == "issuance_denied" and "tx_code" in after["issuanceDeniedReason"]


# --- revocation ---------------------------------------------------------------------------------


async def test_revocation_status_is_the_status_list_entry() -> None:
    org = make_orgwallet()
    record = await org.issue(IN_TIME)
    exchange_id = record["credentialExchangeId"]
    early = await org.call("PUT", exchange_id, "revocation", {"revocationStatus": "Revoked"})
    assert early.status_code == 409 and "no credential" in early.json()["errorDescription"]
    credential = await Wallet(org.http, org.world.clock).receive(record["credentialOffer"])
    assert await list_status(org.world, credential) == STATUS_VALID
    for status, expected in (("Suspended", STATUS_SUSPENDED), ("Operational", STATUS_VALID),
                             ("Revoked", STATUS_INVALID)):
        answer = await org.call("PUT", exchange_id, "revocation", {"revocationStatus": status})
        assert answer.json()["credentialHistory"]["revocationStatus"] == status
        assert await list_status(org.world, credential) == expected
    final = await org.call("PUT", exchange_id, "revocation", {"revocationStatus": "Operational"})
    assert final.status_code == 409 and (await org.record(exchange_id))["revocationStatus"] == \
        "Revoked"
    bad = await org.call("PUT", exchange_id, "revocation", {"revocationStatus": "REVOKED"})
    assert bad.status_code == 400 and "revocationStatus" in bad.json()["errorDescription"]


# --- what is not issued, and who may ask ---------------------------------------------------------

REFUSED = [
    ({**IN_TIME, "credentialDefinitionId": "PidMdoc"}, "mso_mdoc definition"),
    ({**IN_TIME, "credentialDefinitionId": "LegalPersonIdentificationDataJwtVc"},
     "jwt_vc_json definition"),
    ({**IN_TIME, "credentials": [{"credentialSubject": {"name": "ACME"}}]},
     "credentials[0].credentialSubject: belongs to the jwt_vc_json format"),
    ({**IN_TIME, "credential": {"doctype": "eu.europa.ec.eudi.pid.1", "claims": {}},
      "credentials": None}, "credential.doctype: belongs to the mso_mdoc format"),
    ({**IN_TIME, "credentialDefinitionId": "Nope"}, "credentialDefinitionId: 'Nope' is not"),
    ({**IN_TIME, "issuanceMode": "Later"}, "issuanceMode: must be one of InTime, Deferred"),
    ({**IN_TIME, "urlScheme": "https://"}, "urlScheme: must be one of"),
    ({**IN_TIME, "credential": {"claims": CLAIMS}}, "give exactly one of credential"),
    ({**IN_TIME, "credentials": [{"claims": CLAIMS}, {"claims": CLAIMS}]}, "exactly one"),
    ({**IN_TIME, "credentials": [{}]}, "credentials[0].claims: is required"),
    ({**IN_TIME, "credentials": [{"credentialConfigurationId": "ResidentCredential",
                                  "claims": CLAIMS}]}, "not a configuration of"),
    ({**IN_TIME, "credentials": [{"vct": "urn:other", "claims": CLAIMS}]}, "credentials[0].vct"),
    ({**IN_TIME, "credentials": [{"claims": {"given_name": "E"}}]},
     "credentials[0].claims.family_name: is required"),
    ({**IN_TIME, "walletCredentialOfferEndpoint": "https://wallet.example/offer"},
     "walletCredentialOfferEndpoint: issuer-initiated delivery"),
    ({**IN_TIME, "presentationDefinitionId": "pd-1"}, "presentationDefinitionId: dynamic"),
    ({**IN_TIME, "userPin": "12"}, "userPin: must be 4-12"),
]


@pytest.mark.parametrize("body,message", REFUSED, ids=[m[:40] for _, m in REFUSED])
async def test_what_is_not_issued_answers_a_clear_400(body: dict, message: str) -> None:
    org = make_orgwallet()
    answer = await org.issue({k: v for k, v in body.items() if v is not None}, expect=400)
    assert answer["errorCode"] == 400 and message in answer["errorDescription"], answer


async def test_a_bad_user_pin_is_never_echoed() -> None:
    org = make_orgwallet()
    answer = await org.issue({**IN_TIME, "userPin": "12 34-56"}, expect=400)
    assert "12 34-56" not in str(answer)


@pytest.mark.parametrize("headers", [{}, {"Authorization": "ApiKey wrong"},
                                     {"Authorization": f"Bearer {API_KEY}"},
                                     {"X-API-Key": API_KEY}])
async def test_every_route_needs_the_api_key(headers: dict[str, str]) -> None:
    org = make_orgwallet()
    response = await org.http.post(f"{BASE}/issue", json=IN_TIME, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"errorCode": 401, "errorDescription": response.json()[
        "errorDescription"]} and "ApiKey" in response.json()["errorDescription"]
    record = await org.http.get(f"{BASE}/history/00000000-0000-4000-8000-000000000000",
                                headers=headers)
    assert record.status_code == 401


# --- the document and persistence ----------------------------------------------------------------


async def test_openapi_document_is_true_to_real_responses() -> None:
    org = make_orgwallet()
    doc = (await org.http.get(f"{ORG}/openapi.json")).json()
    assert doc == openapi_document(ORG)
    check_openapi_document(doc, org.app)
    paths = {p.split("/credential/", 1)[-1]: p for p in doc["paths"]}
    issue, history = paths["issue"], paths["history/{exchange_id}"]
    answers = [(issue, "post", await org.http.post(f"{BASE}/issue", json=IN_TIME, headers=AUTH)),
               (issue, "post", await org.http.post(f"{BASE}/issue", json={}, headers=AUTH)),
               (issue, "post", await org.http.post(f"{BASE}/issue", json=IN_TIME))]
    record, wallet, transaction_id = await _deferred(org)
    exchange_id = record["credentialExchangeId"]
    answers += [
        (history, "get", await org.http.get(f"{BASE}/history/{exchange_id}", headers=AUTH)),
        (history, "get", await org.http.get(f"{BASE}/history/nope", headers=AUTH)),
        (history, "get", await org.http.get(f"{BASE}/history/{'0' * 8}-0000-4000-8000-{'0' * 12}",
                                            headers=AUTH)),
        (f"{history}/issue-deferred", "post",
         await org.call("POST", exchange_id, "issue-deferred", {"credential": {"claims": CLAIMS}})),
        (f"{history}/issue-deferred", "post",
         await org.call("POST", exchange_id, "issue-deferred", {"credential": {"claims": CLAIMS}})),
    ]
    await wallet.deferred_response(transaction_id)
    answers += [
        (f"{history}/revocation", "put",
         await org.call("PUT", exchange_id, "revocation", {"revocationStatus": "Suspended"})),
        (f"{history}/revocation", "put",
         await org.call("PUT", exchange_id, "revocation", {"revocationStatus": "x"})),
        (f"{history}/deny", "post", await org.call("POST", exchange_id, "deny", {})),
        (f"{history}/deny", "post", await org.call(
            "POST", answers[0][2].json()["credentialHistory"]["credentialExchangeId"], "deny",
            {"reason": "no"})),
    ]
    for path, method, response in answers:
        validate_response(doc, path, method, response)
    assert {r.status_code for _, _, r in answers} == {200, 400, 401, 404, 409}


async def test_a_restarted_service_knows_every_exchange_and_finishes_deferred_ones(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = generate_key("EdDSA")
    issuer_db, org_db = str(tmp_path / "issuer.db"), str(tmp_path / "orgwallet.db")
    first = make_orgwallet(world=make_world(issuer_db=issuer_db, key=key),
                           store=open_store(org_db))
    record, wallet, transaction_id = await _deferred(
        first, {**DEFERRED, "credential": {"claims": CLAIMS}})
    pinned = await first.issue({**IN_TIME, "userPin": "864209"})

    world = make_world(issuer_db=issuer_db, key=key, clock=first.world.clock,
                       ledger_app=first.world.ledger_app)
    second = make_orgwallet(world=world, store=open_store(org_db))
    assert (await second.record(record["credentialExchangeId"]))["credentialStatus"] == "pending"
    await second.call("POST", record["credentialExchangeId"], "issue-deferred", {})
    wallet.http = world.http
    assert (await wallet.deferred_response(transaction_id)).status_code == 200
    assert (await second.record(record["credentialExchangeId"]))["status"] == "credential_issued"
    other = Wallet(world.http, world.clock)
    assert (await other.receive(pinned["credentialOffer"], tx_code="864209")).endswith("~")
    stored = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert b"864209" not in stored and "864209" not in caplog.text


def test_the_fixture_definitions_name_existing_configurations() -> None:
    known = set(load_configurations())
    definitions = OrgWalletSettings().definitions
    assert {d.format for d in definitions.values()} == {"dc+sd-jwt", "jwt_vc_json", "mso_mdoc"}
    for definition in definitions.values():
        assert set(definition.configurations) <= known, definition

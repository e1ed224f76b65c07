"""OpenAPI 3.1 description of the reference organisation-wallet API, served at GET
/openapi.json. Tests validate real responses against it.

Issuance goes over the issuer engine's OID4VCI 1.0 wire (its own /openapi.json): an InTime
exchange's credential comes from the Credential Endpoint; a Deferred one's Credential Request
answers 202 with a transaction_id (§8.3), and the Deferred Credential Endpoint answers 202 with
the same transaction_id until the backend supplies the claims (`issue-deferred` below), then
the credential (§9.2; 1.0 has no issuance_pending error any more). Every credential response
carries a notification_id for the Notification Endpoint (§11), which drives the record's
credential_acked / credential_accepted / credential_deleted statuses.

Where the seed departs from OID4VCI 1.0 wording, its form is kept: `userPin` is the
Transaction Code (tx_code, §4.1.1 / §6.1); `credentialOffer` is the offer link, by reference
(§4.1.3) behind `openid-credential-offer://` or the HAIP `haip://` scheme; `credential_acked`
and friends are this API's names for the §11 notification events.

Where the reference interprets or goes beyond the seed (the seed's page lists fields and enums
by description only):
- Record member names: credentialExchangeId, issuanceMode, isPreAuthorisedCodeFlow,
  credentialOffer, credentialStatus, status, clientId, createdAt/updatedAt (Unix seconds),
  credential, holder.identifier, format, isRevocationEnabled, revocationStatus,
  credentialToken (the issuer-signed JWT, without disclosures), cnf, issuanceDeniedReason,
  deferredInterval; plus urlScheme, credentialDefinitionId, credentialConfigurationId and
  notificationEvent (the wallet's last §11 event).
- userPin is write-only: never echoed, kept only as a keyed digest; it becomes the offer's
  tx_code (numeric if all digits, else text; 4-12 letters or digits).
- One credential per exchange: `credentials` must hold exactly one entry.
- Formats other than dc+sd-jwt (definitions of jwt_vc_json or mso_mdoc, or W3C / mdoc members
  in the request) answer 400 unsupported_credential_format; issuer-initiated delivery,
  dynamic credential requests and individual recipients answer 400 not_supported.
- isPreAuthorisedCodeFlow is always true: the authorization code flow is not simulated, and
  clientId stays null (pre-authorized Token Requests are anonymous here).
- Success of the issue call is 200 with {"credentialHistory"}, as the seed has it.
- Routes the seed names without documenting, or does not name: GET .../history/{id} (the
  record), POST .../history/{id}/issue-deferred (the seed's "Issue deferred credential API"),
  POST .../history/{id}/deny (issuance_denied), PUT .../history/{id}/revocation.
- Authentication is `Authorization: ApiKey <key>` (the seed documents a 401 but no scheme).
"""

from __future__ import annotations

from typing import Any

from reference.common.openapi_kit import UUID, body, document, path_param, ref
from reference.common.openapi_kit import error_response as _error
from reference.common.openapi_kit import json_response as _json
from reference.orgwallet.definitions import FORMATS
from reference.orgwallet.records import STATUSES
from reference.orgwallet.requests import MODES, REVOCATION_STATUSES, SCHEMES

BASE = "/v2/config/digital-wallet/openid/sdjwt"
HISTORY = f"{BASE}/credential/history/{{exchange_id}}"
SECURITY = [{"ApiKey": []}]
EXCHANGE_ID = path_param("exchange_id", "The credentialExchangeId.", UUID)


UNAUTHORIZED = _error("Authorization: ApiKey <key> missing or not valid.")
RECORD = _json(ref("HistoryResponse"), "The credential exchange record.")
NOT_FOUND = _error("No such exchange (or credentialExchangeId is not a UUID: 400).")

PATHS: dict[str, Any] = {
    f"{BASE}/credential/issue": {"post": {
        "operationId": "issueCredential", "security": SECURITY,
        "summary": "Issue a credential over OID4VCI (InTime or Deferred).",
        "requestBody": body("IssueRequest"),
        "responses": {
            "200": RECORD,
            "400": _error("Validation failure (the message names the member): "
                          "unknown_credential_definition, unknown_credential_configuration, "
                          "unsupported_credential_format, not_supported, invalid_request."),
            "401": UNAUTHORIZED,
            "503": _error("The ledger is unreachable (the did:iota signing path needs it)."),
        },
    }},
    HISTORY: {"get": {
        "operationId": "getCredentialHistory", "security": SECURITY, "parameters": [EXCHANGE_ID],
        "summary": "The exchange record, as it is now.",
        "responses": {"200": RECORD, "400": _error("Not a UUID."), "401": UNAUTHORIZED,
                      "404": NOT_FOUND},
    }},
    f"{HISTORY}/issue-deferred": {"post": {
        "operationId": "issueDeferredCredential", "security": SECURITY,
        "parameters": [EXCHANGE_ID],
        "summary": "Deferred exchanges: the backend's claims are ready; the wallet's next "
                   "Deferred Credential Request gets the credential.",
        "requestBody": body("DeferredIssue"),
        "responses": {
            "200": RECORD, "400": _error("Bad claims, or none given nor given before."),
            "401": UNAUTHORIZED, "404": NOT_FOUND,
            "409": _error("not_deferred (an InTime exchange), not_pending (already supplied, "
                          "issued or denied)."),
        },
    }},
    f"{HISTORY}/deny": {"post": {
        "operationId": "denyIssuance", "security": SECURITY, "parameters": [EXCHANGE_ID],
        "summary": "Deny the issuance: status issuance_denied; the wallet's Credential or "
                   "Deferred Credential Request answers credential_request_denied.",
        "requestBody": body("Denial"),
        "responses": {"200": RECORD, "401": UNAUTHORIZED, "404": NOT_FOUND,
                      "409": _error("not_deniable: already issued or ended.")},
    }},
    f"{HISTORY}/revocation": {"put": {
        "operationId": "setRevocationStatus", "security": SECURITY, "parameters": [EXCHANGE_ID],
        "summary": "Revoke, suspend or reinstate the issued credential through its Token Status "
                   "List entry. Revoked is final.",
        "requestBody": body("Revocation"),
        "responses": {"200": RECORD, "400": _error("revocationStatus is not one of the values."),
                      "401": UNAUTHORIZED, "404": NOT_FOUND,
                      "409": _error("not_issued (nothing to revoke yet), credential_revoked.")},
    }},
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document.",
        "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
    }},
}

_CREDENTIAL = {"type": "object", "properties": {
    "credentialConfigurationId": {"type": "string"},
    "vct": {"type": "string"},
    "claims": {"type": "object"}}}
_NULLABLE_STRING = {"type": ["string", "null"]}

SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "additionalProperties": False,
              "required": ["errorCode", "errorDescription"], "properties": {
                  "errorCode": {"type": "integer"}, "errorDescription": {"type": "string"}}},
    "IssueRequest": {"type": "object", "required": ["issuanceMode", "credentialDefinitionId"],
                     "properties": {
                         "issuanceMode": {"enum": list(MODES)},
                         "urlScheme": {"enum": list(SCHEMES), "default": SCHEMES[0]},
                         "credentialDefinitionId": {"type": "string"},
                         "credential": _CREDENTIAL,
                         "credentials": {"type": "array", "minItems": 1, "maxItems": 1,
                                         "items": _CREDENTIAL},
                         "userPin": {"type": "string", "writeOnly": True,
                                     "pattern": "^([A-Za-z0-9]{4,12})?$"}}},
    "DeferredIssue": {"type": "object", "properties": {
        "credential": _CREDENTIAL,
        "credentials": {"type": "array", "minItems": 1, "maxItems": 1, "items": _CREDENTIAL}}},
    "Denial": {"type": "object", "properties": {"reason": {"type": "string"}}},
    "Revocation": {"type": "object", "required": ["revocationStatus"], "properties": {
        "revocationStatus": {"enum": list(REVOCATION_STATUSES)}}},
    "HistoryResponse": {"type": "object", "additionalProperties": False,
                        "required": ["credentialHistory"],
                        "properties": {"credentialHistory": ref("CredentialHistory")}},
    "CredentialHistory": {"type": "object", "additionalProperties": False, "required": [
        "credentialExchangeId", "issuanceMode", "isPreAuthorisedCodeFlow", "credentialOffer",
        "urlScheme", "credentialDefinitionId", "credentialConfigurationId", "format",
        "credentialStatus", "status", "clientId", "createdAt", "updatedAt", "credential",
        "holder", "isRevocationEnabled", "revocationStatus", "credentialToken", "cnf",
        "notificationEvent", "issuanceDeniedReason", "deferredInterval"], "properties": {
            "credentialExchangeId": {"type": "string", "pattern": UUID},
            "issuanceMode": {"enum": list(MODES)},
            "isPreAuthorisedCodeFlow": {"type": "boolean"},
            "credentialOffer": {"type": "string", "pattern": "^(openid-credential-offer|haip)://"
                                "\\?credential_offer_uri="},
            "urlScheme": {"enum": list(SCHEMES)},
            "credentialDefinitionId": {"type": "string"},
            "credentialConfigurationId": {"type": "string"},
            "format": {"enum": list(FORMATS)},
            "credentialStatus": {"enum": ["pending", "ready"]},
            "status": {"enum": list(STATUSES)},
            "clientId": _NULLABLE_STRING,
            "createdAt": {"type": "integer"}, "updatedAt": {"type": "integer"},
            "credential": {"type": "object", "required": ["vct", "claims"], "properties": {
                "vct": {"type": "string"}, "claims": {"type": ["object", "null"]}}},
            "holder": {"type": "object", "required": ["identifier"],
                       "properties": {"identifier": _NULLABLE_STRING}},
            "isRevocationEnabled": {"type": "boolean"},
            "revocationStatus": {"enum": [*REVOCATION_STATUSES, None]},
            "credentialToken": {"type": ["string", "null"],
                                "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$"},
            "cnf": {"type": ["object", "null"]},
            "notificationEvent": {"enum": ["credential_accepted", "credential_failure",
                                           "credential_deleted", None]},
            "issuanceDeniedReason": _NULLABLE_STRING,
            "deferredInterval": {"type": ["integer", "null"], "minimum": 1}}},
}


def openapi_document(base_url: str) -> dict[str, Any]:
    return document(
        title="vc-conformance reference organisation wallet (issuer API)", description=__doc__,
        base_url=base_url, paths=PATHS, schemas=SCHEMAS,
        security={"ApiKey": {"type": "apiKey", "in": "header", "name": "Authorization",
                             "description": "The value is `ApiKey <key>`."}})

"""OpenAPI 3.1 description of the reference EUDIW-connector management API, served at
GET /openapi.json. Tests validate real responses against it.

This is the management side only (the seed's internal port 8081). The offers it makes are
redeemed on the issuer engine's OID4VCI 1.0 wire (its own /openapi.json documents the token,
nonce, credential endpoints): the Credential Offer, credential_offer_uri's target, lives there.

Issuance callbacks go to the connector's configured callback URL as
`POST {"eventId", "status", "offerId", "errorDetails"?}`: OFFER_CREATED at once, then exactly
one of ISSUED, FAILED (with errorDetails "<code>: <why>", codes tx_code_locked,
issuance_denied, offer_key_lost) or EXPIRED (the session TTL, 5 minutes by default, passed
first). eventId equals offerId (the seed); a callback not answered 2xx is retried a few times,
so receivers deduplicate by eventId + status, as the seed says. Callbacks of one offer arrive
in order.

Where the seed departs from OID4VCI 1.0, its form is kept:
- `credential_offer_uri` in the response is the whole `openid-credential-offer://?
  credential_offer_uri=...` link; OID4VCI 1.0 §4.1 gives that name only to the https URL inside
  it, where the wallet fetches the Credential Offer (§4.1.3).
- `eventId` repeats `offerId` in every callback: it identifies the offer, not the event, so the
  seed's deduplication key is eventId + status.

Where the reference goes beyond or interprets the seed (its reason codes are stable):
- `GET /offers/{offer_id}` is an extension: the session's status and its callbacks' delivery.
- `tx_code.input_mode` and `tx_code.length` are required, length 4-12 (guessing defence,
  OID4VCI 1.0 §13.6); the value is drawn by the connector and returned once as tx_code_value.
- Management errors answer `{"error", "error_description", "field"?}` (the seed names the codes
  but not the body).
- The management API has no authentication, as the seed has it (internal network); a
  deployment may set an X-API-Key.
"""

from __future__ import annotations

from typing import Any

from reference.common.openapi_kit import TIMESTAMP, TX_CODE, UUID, body, document, path_param, ref
from reference.common.openapi_kit import error_response as _error
from reference.common.openapi_kit import json_response as _json

STATUSES = ["OFFER_CREATED", "ISSUED", "FAILED", "EXPIRED"]


def _paths(secured: bool) -> dict[str, Any]:
    security = [{"ApiKey": []}] if secured else []
    unauthorized = {"401": _error("X-API-Key missing or not valid.")} if secured else {}
    return {
        "/offers": {"post": {
            "operationId": "createOffer", "security": security,
            "summary": "Create a credential offer (pre-authorized code flow).",
            "requestBody": body("OfferCreate"),
            "responses": {
                "201": _json(ref("OfferCreated"), "The offer: its correlation id and the "
                             "openid-credential-offer:// URI to show as QR code or deep link."),
                "400": _error("unknown_credential_configuration (not a configuration of this "
                              "connector's Credential Issuer Metadata), invalid_request (a "
                              "missing or malformed member, named in field), invalid_json."),
                "503": _error("ledger_unreachable: a did:iota signing path needs the ledger."),
                **unauthorized,
            },
        }},
        "/offers/{offer_id}": {"get": {
            "operationId": "getOffer", "security": security,
            "summary": "Extension: the session's status and its callbacks.",
            "parameters": [path_param("offer_id", "The offer_id from POST /offers.", UUID)],
            "responses": {
                "200": _json(ref("Session"), "The session."),
                "404": _error("No such offer."),
                **unauthorized,
            },
        }},
        "/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document.",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
        }},
    }


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "additionalProperties": False,
              "required": ["error", "error_description"], "properties": {
                  "error": {"type": "string"}, "error_description": {"type": "string"},
                  "field": {"type": "string"}}},
    "OfferCreate": {"type": "object", "required": ["credential_configuration_id", "claims"],
                    "properties": {
                        "credential_configuration_id": {"type": "string"},
                        "claims": {"type": "object"},
                        "tx_code": {**TX_CODE, "required": ["input_mode", "length"],
                                    "properties": {**TX_CODE["properties"], "length": {
                                        "type": "integer", "minimum": 4, "maximum": 12}}}}},
    "OfferCreated": {"type": "object", "additionalProperties": False,
                     "required": ["offer_id", "credential_offer_uri"], "properties": {
                         "offer_id": {"type": "string", "pattern": UUID},
                         "credential_offer_uri": {
                             "type": "string",
                             "pattern": "^openid-credential-offer://\\?credential_offer_uri="},
                         "tx_code_value": {"type": "string", "description": "Only with tx_code: "
                                           "deliver it to the user by another channel."}}},
    "Callback": {"type": "object", "additionalProperties": False,
                 "required": ["eventId", "status", "offerId"], "properties": {
                     "eventId": {"type": "string", "pattern": UUID},
                     "status": {"enum": STATUSES},
                     "offerId": {"type": "string", "pattern": UUID},
                     "errorDetails": {"type": "string"}}},
    "Session": {"type": "object", "additionalProperties": False, "required": [
        "offer_id", "credential_configuration_id", "status", "errorDetails", "created_at",
        "expires_at", "callbacks"], "properties": {
            "offer_id": {"type": "string", "pattern": UUID},
            "credential_configuration_id": {"type": "string"},
            "status": {"enum": STATUSES},
            "errorDetails": {"type": ["string", "null"]},
            "created_at": TIMESTAMP, "expires_at": TIMESTAMP,
            "callbacks": {"type": "array", "items": {
                "type": "object", "additionalProperties": False,
                "required": ["eventId", "status", "state", "attempts"], "properties": {
                    "eventId": {"type": "string"}, "status": {"enum": STATUSES},
                    "state": {"enum": ["pending", "delivered", "abandoned"]},
                    "attempts": {"type": "integer", "minimum": 0}}}}}},
}


WEBHOOKS = {"issuanceCallback": {"post": {
    "operationId": "issuanceCallback",
    "summary": "Sent to the connector's configured callback URL; retried unless answered 2xx.",
    "requestBody": body("Callback"),
    "responses": {"200": {"description": "Any 2xx settles the callback."}},
}}}


def openapi_document(base_url: str, secured: bool) -> dict[str, Any]:
    security = {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}} if secured \
        else {}
    return document(title="vc-conformance reference EUDIW connector (management API)",
                    description=__doc__, base_url=base_url, paths=_paths(secured),
                    schemas=SCHEMAS, security=security, webhooks=WEBHOOKS)

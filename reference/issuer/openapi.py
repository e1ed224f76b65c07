"""OpenAPI 3.1 description of the reference issuer, served at GET /openapi.json.

The management API (X-API-Key) is described in full; the OID4VCI wire endpoints are listed with
the shapes this issuer returns (the specs own their full definition): they serve the offers of
every surface (the EUDIW connector and organisation wallet APIs document only their management
side). Tests validate real responses against these schemas, so the document cannot drift from
the code.

Deviations from the issuer seed, made visible here: the `tx_code` extension of POST /v1/offers
(from the EUDIW connector seed), the `SUSPENDED` record status, the status endpoint, and
`blockchain` / `on_chain_status` being null for off-chain credentials.
"""

from __future__ import annotations

from typing import Any

from reference.common.openapi_kit import NULLABLE_TIMESTAMP, TIMESTAMP, TX_CODE, UUID, document
from reference.common.openapi_kit import body as _body
from reference.common.openapi_kit import error_response as _error
from reference.common.openapi_kit import json_response as _json
from reference.common.openapi_kit import path_param as _path_param
from reference.common.openapi_kit import ref as _ref


def _oauth_error(description: str) -> dict[str, Any]:
    return _error(description, "OAuthError")


API_KEY = [{"ApiKey": []}]
UNAUTHORIZED = _error("X-API-Key missing or not valid.")
TENANT = _path_param("tenant", "A tenant id; the Credential Issuer identifier is {base}/{tenant}.")

PATHS: dict[str, Any] = {
    "/v1/offers": {"post": {
        "operationId": "createOffer", "security": API_KEY,
        "summary": "Create a credential offer (pre-authorized code flow).",
        "requestBody": _body("OfferCreate"),
        "responses": {
            "201": _json(_ref("OfferCreated"), "The offer, its URI and deep link."),
            "400": _error("Validation failure: missing fields, malformed claims, unknown "
                          "config_id, issuer_did without issuer_private_key (or the reverse), "
                          "a key that does not match issuer_did, notarize_on_iota true without "
                          "a did:iota issuer, flow authorization-code (not supported)."),
            "401": UNAUTHORIZED,
            "403": _error("The API key may not offer this configuration, or issuer_did is not "
                          "registered under the caller's tenant."),
            "503": _error("The ledger is unreachable (the default did:iota issuer registers "
                          "its DID on first use; issuer_did is resolved)."),
        },
    }},
    "/v1/offers/{offer_id}": {"get": {
        "operationId": "getCredentialOffer",
        "summary": "OID4VCI 1.0 §4.1.3: the Credential Offer object behind credential_offer_uri.",
        "parameters": [_path_param("offer_id", "The offer id.", UUID)],
        "responses": {
            "200": _json(_ref("CredentialOffer"), "The Credential Offer."),
            "400": _error("offer_id is not a UUID."),
            "404": _error("No such offer."),
            "410": _error("The offer expired."),
        },
    }},
    "/v1/offers/{offer_id}/credentials": {"get": {
        "operationId": "listOfferCredentials", "security": API_KEY,
        "summary": "The credentials issued from an offer (empty until claimed).",
        "description": "on_chain_status follows the ledger: PENDING (queued) -> IN_PROGRESS "
                       "(processing) -> COMPLETED | FAILED; object_id only when COMPLETED. A "
                       "ledger unreachable when the credential is submitted makes it FAILED at "
                       "once - issuance itself has succeeded. Off-chain credentials (X.509 path, "
                       "notarize_on_iota false) have blockchain and on_chain_status null. status "
                       "is EXPIRED once expires_at has passed; DELETED is never produced here.",
        "parameters": [_path_param("offer_id", "The offer id.")],
        "responses": {
            "200": _json({"type": "array", "items": _ref("CredentialRecord")}, "The records."),
            "400": _error("offer_id is not a valid UUID."),
            "401": UNAUTHORIZED,
            "404": _error("Offer not found, or not owned by the caller's API key (the same "
                          "answer, deliberately)."),
        },
    }},
    "/v1/credentials/{credential_id}/status": {"post": {
        "operationId": "setCredentialStatus", "security": API_KEY,
        "summary": "Revoke, suspend or reactivate a credential through its Token Status List "
                   "entry (an extension of the seed's API). REVOKED is final.",
        "parameters": [_path_param("credential_id", "The credential id.")],
        "requestBody": _body("StatusUpdate"),
        "responses": {
            "200": _json(_ref("CredentialRecord"), "The updated record."),
            "400": _error("credential_id is not a UUID, or status is not one of the values."),
            "401": UNAUTHORIZED,
            "404": _error("Credential not found or not owned by the caller."),
            "409": _error("The credential is revoked; it cannot be reactivated."),
        },
    }},
    "/v1/status-lists/{list_id}": {"get": {
        "operationId": "getStatusList",
        "summary": "Token Status List §5.1: the Status List Token (JWT), signed by the "
                   "deployment's did:iota issuer.",
        "parameters": [_path_param("list_id", "The list id.")],
        "responses": {
            "200": {"description": "The Status List Token.",
                    "content": {"application/statuslist+jwt": {"schema": {"type": "string"}}}},
            "404": _error("No such list."),
            "503": _error("The ledger is unreachable (issuer DID not yet registered)."),
        },
    }},
    "/.well-known/openid-credential-issuer": {"get": {
        "operationId": "getIssuerMetadata", "summary": "OID4VCI 1.0 §12.2: the deployment-wide "
        "Credential Issuer Metadata (identifier = base URL, every configuration).",
        "responses": {"200": _json(_ref("IssuerMetadata"), "Credential Issuer Metadata.")},
    }},
    "/.well-known/openid-credential-issuer/{tenant}": {"get": {
        "operationId": "getTenantIssuerMetadata", "parameters": [TENANT],
        "summary": "OID4VCI 1.0 §12.2: a tenant's Credential Issuer Metadata (the identifier "
                   "offers name).",
        "responses": {"200": _json(_ref("IssuerMetadata"), "Credential Issuer Metadata."),
                      "404": _error("No such tenant.")},
    }},
    "/.well-known/oauth-authorization-server": {"get": {
        "operationId": "getAsMetadata", "summary": "RFC 8414 Authorization Server Metadata.",
        "responses": {"200": _json(_ref("AsMetadata"), "AS metadata.")},
    }},
    "/.well-known/oauth-authorization-server/{tenant}": {"get": {
        "operationId": "getTenantAsMetadata", "parameters": [TENANT],
        "summary": "RFC 8414 Authorization Server Metadata of a tenant's issuer.",
        "responses": {"200": _json(_ref("AsMetadata"), "AS metadata."),
                      "404": _error("No such tenant.")},
    }},
    "/.well-known/jwt-vc-issuer": {"get": {
        "operationId": "getJwtVcIssuerMetadata", "summary": "SD-JWT VC §5: JWT VC Issuer Metadata.",
        "responses": {"200": _json(_ref("JwtVcIssuerMetadata"), "Issuer keys.")},
    }},
    "/.well-known/jwt-vc-issuer/{tenant}": {"get": {
        "operationId": "getTenantJwtVcIssuerMetadata", "parameters": [TENANT],
        "summary": "SD-JWT VC §5: JWT VC Issuer Metadata of a tenant's issuer.",
        "responses": {"200": _json(_ref("JwtVcIssuerMetadata"), "Issuer keys."),
                      "404": _error("No such tenant.")},
    }},
    "/token": {"post": {
        "operationId": "token", "summary": "OID4VCI 1.0 §6: pre-authorized code grant.",
        "requestBody": _body("TokenRequest", "application/x-www-form-urlencoded"),
        "responses": {
            "200": _json(_ref("TokenResponse"), "An access token."),
            "400": _oauth_error("invalid_request (tx_code missing or unexpected, malformed), "
                                "invalid_grant (unknown, expired or used code, wrong tx_code), "
                                "unsupported_grant_type."),
        },
    }},
    "/nonce": {"post": {
        "operationId": "nonce", "summary": "OID4VCI 1.0 §7: a fresh c_nonce.",
        "responses": {"200": _json(_ref("NonceResponse"), "A c_nonce (Cache-Control: no-store).")},
    }},
    "/credential": {"post": {
        "operationId": "credential", "security": [{"AccessToken": []}],
        "summary": "OID4VCI 1.0 §8: issue the offer's credential, bound to the key proof's key.",
        "description": "Offers made for deferred issuance (the organisation wallet's Deferred "
                       "mode) answer 202 with a transaction_id (§8.3), to be redeemed at "
                       "/deferred_credential.",
        "requestBody": _body("CredentialRequest"),
        "responses": {
            "200": _json(_ref("CredentialResponse"), "The SD-JWT VC and a notification_id."),
            "202": _json(_ref("DeferredResponse"), "Deferred issuance (§8.3)."),
            "400": _oauth_error("invalid_credential_request, unknown_credential_configuration, "
                                "unknown_credential_identifier, invalid_proof, invalid_nonce, "
                                "credential_request_denied (error_detail: already_issued, "
                                "already_deferred, tx_code_locked, issuance_denied, "
                                "offer_key_lost)."),
            "401": _oauth_error("invalid_token: missing, unknown or expired access token."),
            "503": _oauth_error("temporarily_unavailable: a holder DID cannot be resolved "
                                "because the ledger is unreachable."),
        },
    }},
    "/deferred_credential": {"post": {
        "operationId": "deferredCredential", "security": [{"AccessToken": []}],
        "summary": "OID4VCI 1.0 §9: the credential of a deferred transaction, once ready.",
        "description": "202 with the same transaction_id and an interval while the backend has "
                       "not supplied the claims (§9.2; the issuance_pending error of draft 13 "
                       "is gone in 1.0). The transaction_id is invalidated once the credential "
                       "is obtained.",
        "requestBody": _body("DeferredCredentialRequest"),
        "responses": {
            "200": _json(_ref("CredentialResponse"), "The SD-JWT VC and a notification_id."),
            "202": _json(_ref("DeferredResponse"), "Still pending: wait interval seconds."),
            "400": _oauth_error("invalid_transaction_id (unknown, collected, expired), "
                                "invalid_credential_request, credential_request_denied "
                                "(issuance denied)."),
            "401": _oauth_error("invalid_token: missing, unknown or expired access token."),
        },
    }},
    "/notification": {"post": {
        "operationId": "notification", "security": [{"AccessToken": []}],
        "summary": "OID4VCI 1.0 §11: the wallet reports credential_accepted, "
                   "credential_failure or credential_deleted (idempotent).",
        "requestBody": _body("NotificationRequest"),
        "responses": {
            "204": {"description": "Received."},
            "400": _oauth_error("invalid_notification_id, invalid_notification_request."),
            "401": _oauth_error("invalid_token: missing, unknown or expired access token."),
        },
    }},
    "/openapi.json": {"get": {
        "operationId": "openapi", "summary": "This document.",
        "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1 document.")},
    }},
}


SCHEMAS: dict[str, Any] = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "message": {"type": "string"},
            "field": {"type": "string"}}}}},
    "OAuthError": {"type": "object", "required": ["error"], "properties": {
        "error": {"type": "string"},
        "error_description": {"type": "string", "pattern": "^[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]*$"},
        "error_detail": {"type": "string", "description": "Extension: a finer, stable reason."}}},
    "OfferCreate": {"type": "object", "required": ["credential", "flow"], "properties": {
        "credential": {"type": "object", "required": ["config_id", "claims"], "properties": {
            "config_id": {"type": "string"}, "claims": {"type": "object"}}},
        "flow": {"enum": ["pre-authorized", "authorization-code"]},
        "expires_in": {"type": "integer", "minimum": 1, "default": 3600},
        "issuer_did": {"type": "string"},
        "issuer_private_key": {"type": "string", "writeOnly": True,
                               "description": "base64url raw private key of issuer_did's "
                                              "assertion key; used in memory only, never stored"},
        "holder_did": {"type": "string"},
        "notarize_on_iota": {"type": "boolean"},
        "callback_url": {"type": "string", "maxLength": 2048},
        "tx_code": {**TX_CODE, "description": "Extension (EUDIW connector seed): require a "
                                               "Transaction Code; length 4-12, default 6."}}},
    "OfferCreated": {"type": "object", "additionalProperties": False,
                     "required": ["offer_id", "credential_offer_uri", "deep_link", "expires_at"],
                     "properties": {
                         "offer_id": {"type": "string", "pattern": UUID},
                         "credential_offer_uri": {"type": "string", "format": "uri"},
                         "deep_link": {"type": "string",
                                       "pattern": "^openid-credential-offer://\\?credential_offer_uri="},
                         "expires_at": TIMESTAMP,
                         "tx_code_value": {"type": "string", "description": "Only with tx_code: "
                                           "deliver it to the holder out of band."}}},
    "CredentialRecord": {"type": "object", "additionalProperties": False, "required": [
        "credential_id", "issuer_did", "holder_did", "vct", "format", "status", "blockchain",
        "on_chain_status", "object_id", "issued_at", "expires_at", "revoked_at"], "properties": {
            "credential_id": {"type": "string", "pattern": UUID},
            "issuer_did": {"type": ["string", "null"], "description": "null on the X.509 path"},
            "holder_did": {"type": ["string", "null"]},
            "vct": {"type": "string"},
            "format": {"const": "dc+sd-jwt"},
            "status": {"enum": ["ACTIVE", "REVOKED", "SUSPENDED", "EXPIRED", "DELETED"]},
            "blockchain": {"enum": ["iota", None]},
            "on_chain_status": {"enum": ["PENDING", "IN_PROGRESS", "COMPLETED", "FAILED", None]},
            "object_id": {"type": ["string", "null"], "pattern": "^0x[0-9a-f]{64}$"},
            "issued_at": TIMESTAMP, "expires_at": NULLABLE_TIMESTAMP,
            "revoked_at": NULLABLE_TIMESTAMP}},
    "StatusUpdate": {"type": "object", "required": ["status"], "properties": {
        "status": {"enum": ["ACTIVE", "REVOKED", "SUSPENDED"]}}},
    "CredentialOffer": {"type": "object", "required": ["credential_issuer",
                                                       "credential_configuration_ids", "grants"],
                        "properties": {
                            "credential_issuer": {"type": "string"},
                            "credential_configuration_ids": {"type": "array", "minItems": 1,
                                                             "items": {"type": "string"}},
                            "grants": {"type": "object", "required": [
                                "urn:ietf:params:oauth:grant-type:pre-authorized_code"],
                                "properties": {
                                    "urn:ietf:params:oauth:grant-type:pre-authorized_code": {
                                        "type": "object", "required": ["pre-authorized_code"],
                                        "properties": {"pre-authorized_code": {"type": "string"},
                                                       "tx_code": TX_CODE}}}}}},
    "IssuerMetadata": {"type": "object", "required": [
        "credential_issuer", "credential_endpoint", "credential_configurations_supported"],
        "properties": {
            "credential_issuer": {"type": "string"}, "credential_endpoint": {"type": "string"},
            "nonce_endpoint": {"type": "string"}, "display": {"type": "array"},
            "deferred_credential_endpoint": {"type": "string"},
            "notification_endpoint": {"type": "string"},
            "credential_configurations_supported": {"type": "object", "additionalProperties": {
                "type": "object", "required": ["format", "vct"], "properties": {
                    "format": {"const": "dc+sd-jwt"}, "vct": {"type": "string"}}}}}},
    "AsMetadata": {"type": "object", "required": ["issuer", "token_endpoint"], "properties": {
        "issuer": {"type": "string"}, "token_endpoint": {"type": "string"},
        "grant_types_supported": {"type": "array", "items": {"type": "string"}},
        "pre-authorized_grant_anonymous_access_supported": {"type": "boolean"}}},
    "JwtVcIssuerMetadata": {"type": "object", "required": ["issuer", "jwks"], "properties": {
        "issuer": {"type": "string"},
        "jwks": {"type": "object", "required": ["keys"],
                 "properties": {"keys": {"type": "array", "items": {"type": "object"}}}}}},
    "TokenRequest": {"type": "object", "required": ["grant_type", "pre-authorized_code"],
                     "properties": {
                         "grant_type": {"const": "urn:ietf:params:oauth:grant-type:pre-authorized_code"},
                         "pre-authorized_code": {"type": "string"},
                         "tx_code": {"type": "string"}}},
    "TokenResponse": {"type": "object", "required": ["access_token", "token_type", "expires_in"],
                      "properties": {"access_token": {"type": "string"},
                                     "token_type": {"const": "Bearer"},
                                     "expires_in": {"type": "integer", "minimum": 1}}},
    "NonceResponse": {"type": "object", "required": ["c_nonce"],
                      "properties": {"c_nonce": {"type": "string", "minLength": 16}}},
    "CredentialRequest": {"type": "object", "required": ["credential_configuration_id", "proofs"],
                          "properties": {
                              "credential_configuration_id": {"type": "string"},
                              "proofs": {"type": "object", "required": ["jwt"], "properties": {
                                  "jwt": {"type": "array", "minItems": 1, "maxItems": 1,
                                          "items": {"type": "string"}}}}}},
    "DeferredResponse": {"type": "object", "additionalProperties": False,
                         "required": ["transaction_id", "interval"], "properties": {
                             "transaction_id": {"type": "string", "minLength": 32},
                             "interval": {"type": "integer", "minimum": 1}}},
    "DeferredCredentialRequest": {"type": "object", "required": ["transaction_id"],
                                  "properties": {"transaction_id": {"type": "string"}}},
    "NotificationRequest": {"type": "object", "required": ["notification_id", "event"],
                            "properties": {
                                "notification_id": {"type": "string"},
                                "event": {"enum": ["credential_accepted", "credential_failure",
                                                   "credential_deleted"]},
                                "event_description": {"type": "string"}}},
    "CredentialResponse": {"type": "object", "required": ["credentials"], "properties": {
        "notification_id": {"type": "string", "minLength": 16},
        "credentials": {"type": "array", "minItems": 1, "items": {
            "type": "object", "required": ["credential"],
            "properties": {"credential": {"type": "string", "pattern": "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+~"}}}}}},
}


def openapi_document(base_url: str) -> dict[str, Any]:
    return document(
        title="vc-conformance reference issuer", description=__doc__, base_url=base_url,
        paths=PATHS, schemas=SCHEMAS,
        security={
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            "AccessToken": {"type": "http", "scheme": "bearer",
                            "description": "The access token from /token (RFC 6750)."},
        })

"""OpenAPI 3.1 description of the verifier service, served at GET /openapi.json.

The schemas are the contract the tests check real responses against; the description says where
the reference follows the seed (shared/seeds/004) and where, and why, it had to choose.
"""

from __future__ import annotations

from typing import Any

from reference.common.openapi_kit import DATE_TIME, NULLABLE_DATE_TIME, STRING, body, document, path_param
from reference.common.openapi_kit import json_response as _json
from reference.common.openapi_kit import obj as _obj
from reference.common.openapi_kit import ref as _ref
from reference.verifier.checks import CHECKS

DESCRIPTION = """\
Verifier service (the verifier seed, "Verifier · Verify Credential") over OpenID for Verifiable
Presentations 1.0 with DCQL, for SD-JWT VC (`dc+sd-jwt`) presentations.

Choices and seed deviations, made visible here:

- `client_id`: a DID verifier is sent as `decentralized_identifier:<did>` (OID4VP 1.0 §5.9.3); the
  seed's examples show the bare DID, which a deployment can choose with `bare_did_client_id`. The
  create response names the `client_id` actually sent. KB-JWTs must carry it, exactly, as `aud`.
- An https `verifier_client_id` needs its signing key in `client_metadata.jwks` (the seed's advice;
  OID4VP 1.0 §5.1 forbids verifying requests with those keys - a documented deviation).
- `verifier_private_key` signs the Request Object when the session is created; it is never stored
  or logged, and is dropped at once unless the creator asks for `request_uri_method`.
- Extension to the seed: `request_uri_method` (`get` | `post`, optional) in the create body is
  copied into the Authorization Request (OID4VP 1.0 §5.10). With `post`, the verifier keeps the
  signing key in process memory (never in the store) until the session is answered or expires, and
  a wallet POSTing `wallet_nonce` to the request URI gets the Request Object re-signed with that
  `wallet_nonce` claim (§5.10.1). A POST carrying a `wallet_nonce` to a session that did not offer
  `post`, or after a verifier restart lost the key, is refused with 400 `invalid_request`; a POST
  without `wallet_nonce` is served the Request Object signed at creation. `wallet_metadata` is read
  but not used (formats and algorithms are fixed at creation). The Request Object may be fetched
  any number of times until the session is answered or expires.
- `direct_post.jwt`: `client_metadata.jwks` gets an ephemeral ECDH-ES P-256 key per session
  (`encrypted_response_enc_values_supported: ["A128GCM"]`).
- The response endpoint (`response_uri`) is `POST /v1/verifier/presentation/{session_id}`. It takes
  form-encoded `vp_token` + `state` (or `response`, the JWE, for direct_post.jwt) and the seed's
  `verification_mode` (`fail_fast` default, `run_all`); a JSON object body is accepted too. It
  answers 200 `{}` (or `{"redirect_uri"}` with a fresh `response_code` when the session has a
  redirect_uri) once the response is verified, whatever the verdict; 400 `invalid_request` when
  the response cannot be attributed (wrong state, undecryptable, expired or already answered
  session: nothing changes) or is not OID4VP-compliant (the session is then `failed`).
- `check_results` use the seed's check names and reason codes; checks the seed does not name are
  added (`disclosures`, `validity_period`, `key_binding`, `status`, `dcql`, and `wallet_response`
  for a wallet's error response), see reference/verifier/CHECKS.md. Skipped checks report
  `status: "skipped"`, `reason_code: "skipped"` (the seed lists `skipped` among fail reasons; a
  separate status keeps "walk the entries with status fail" pointing at the real failure).
- `expired` is derived from the clock on read; a response after expiry is refused.
- Wallet-facing errors (`{"error", "error_description"}`) keep `error_description` within the
  characters RFC 6749 §5.2 allows: clause references are spelled `section 8.2`, not with '§'.
- `presentation_metadata.claims` holds exactly the claims revealed by Disclosures (merged over the
  presentations); `credential_metadata[]` adds `query_id`, `vct` and the per-credential `claims`.
"""

CHECK_NAMES = [check.name for check in CHECKS] + ["wallet_response"]



SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({"code": STRING, "message": STRING, "field": STRING}, ["code", "message"])},
                  ["error"]),
    "OAuthError": _obj({"error": STRING, "error_description": STRING}, ["error"]),
    "CreateRequest": _obj({
        "dcql_query": {"type": "object", "description": "OID4VP 1.0 §6 DCQL query; `dc+sd-jwt` only."},
        "verifier_private_key": {"type": "string", "writeOnly": True,
                                 "description": "base64url raw Ed25519 (32 bytes). Never stored or logged."},
        "verifier_client_id": {"type": "string", "description": "A DID (bare or decentralized_identifier:) or an "
                               "https URL with the key in client_metadata.jwks."},
        "response_mode": {"enum": ["direct_post", "direct_post.jwt"], "default": "direct_post"},
        "expires_in": {"type": "integer", "minimum": 1, "default": 300},
        "client_metadata": _obj({k: STRING for k in ("client_name", "logo_uri", "policy_uri", "tos_uri")}
                                | {"jwks": {"type": "object"}}),
        "redirect_uri": {"type": "string", "format": "uri"},
        "request_uri_method": {"enum": ["get", "post"], "description": "Extension to the seed (OID4VP 1.0 "
                               "§5.10): sent in the Authorization Request; `post` lets a wallet POST a "
                               "wallet_nonce to the request URI. Omitted: the parameter is not sent (GET)."},
    }, ["dcql_query", "verifier_private_key", "verifier_client_id"]),
    "CreateResponse": _obj({
        "session_id": {"type": "string", "format": "uuid"}, "request_uri": STRING,
        "authorization_request": {"type": "string", "pattern": "^openid4vp://authorize\\?"},
        "expires_at": DATE_TIME, "client_id": STRING,
        "notes": {"type": "array", "items": _obj({"code": STRING, "message": STRING}, ["code", "message"])},
    }, ["session_id", "request_uri", "authorization_request", "expires_at", "client_id"], extra=False),
    "CheckResult": _obj({
        "check": {"enum": CHECK_NAMES}, "status": {"enum": ["success", "fail", "skipped"]},
        "reason_code": STRING, "message": STRING,
    }, ["check", "status", "reason_code", "message"], extra=False),
    "CredentialMetadata": _obj({
        "query_id": STRING, "issuer": {"type": ["string", "null"]}, "vct": {"type": ["string", "null"]},
        "credential_type": {"type": "array", "items": STRING}, "issued_at": NULLABLE_DATE_TIME,
        "expires_at": NULLABLE_DATE_TIME, "claims": {"type": "object"},
    }, ["query_id", "issuer", "credential_type", "issued_at", "expires_at", "claims"]),
    "Result": _obj({
        "session_id": {"type": "string", "format": "uuid"},
        "status": {"enum": ["pending", "in_progress", "completed", "failed", "expired"]},
        "created_at": DATE_TIME, "expires_at": DATE_TIME, "verified_at": DATE_TIME,
        "verification_mode": {"enum": ["fail_fast", "run_all"]},
        "check_results": {"type": "array", "items": _ref("CheckResult")},
        "presentation_metadata": _obj({
            "claims": {"type": "object"},
            "credential_metadata": {"type": "array", "items": _ref("CredentialMetadata")},
        }, ["claims", "credential_metadata"]),
        "error": _obj({"code": STRING, "message": STRING}, ["code", "message"]),
    }, ["session_id", "status", "created_at", "expires_at"], extra=False),
    "PresentationAnswer": _obj({"redirect_uri": {"type": "string", "format": "uri"}}, extra=False),
}


_API_KEY = [{"ApiKey": []}]
_SESSION = path_param("session_id", "The verification session id (a UUID).", fmt="uuid")

PATHS: dict[str, Any] = {
    "/v1/verifier/authorization-request": {"post": {
        "summary": "Create an authorization request (a verification session)",
        "security": _API_KEY,
        "requestBody": body("CreateRequest"),
        "responses": {"201": _json(_ref("CreateResponse"), "Session created"),
                      "400": _json(_ref("Error"), "Malformed body, invalid DCQL query (code = the DCQL reason), "
                                   "key not matching verifier_client_id"),
                      "401": _json(_ref("Error"), "Invalid or missing X-API-Key"),
                      "503": _json(_ref("Error"), "The ledger needed to resolve verifier_client_id is unreachable")},
    }},
    "/v1/verifier/request/{session_id}": {
        "parameters": [_SESSION],
        "get": {"summary": "The signed Request Object (typ oauth-authz-req+jwt); pending -> in_progress",
                "responses": {"200": {"description": "The JAR", "content": {
                    "application/oauth-authz-req+jwt": {"schema": {"type": "string"}}}},
                    "404": _json(_ref("OAuthError"), "Unknown, expired or already answered session "
                                 "(invalid_request_uri)")}},
        "post": {"summary": "request_uri_method=post (OID4VP 1.0 §5.10.1): the JAR, re-signed with the "
                            "wallet_nonce when one is sent",
                 "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": _obj(
                     {"wallet_metadata": STRING, "wallet_nonce": STRING})}}},
                 "responses": {"200": {"description": "The JAR", "content": {
                     "application/oauth-authz-req+jwt": {"schema": {"type": "string"}}}},
                     "400": _json(_ref("OAuthError"), "A wallet_nonce the session cannot sign in (the session "
                                  "did not offer request_uri_method=post, the verifier restarted, or the "
                                  "value is empty or longer than 512 characters)"),
                     "404": _json(_ref("OAuthError"), "Unknown, expired or answered session")}},
    },
    "/v1/verifier/presentation/{session_id}": {
        "parameters": [_SESSION],
        "post": {"summary": "The response_uri: the Authorization Response (direct_post / direct_post.jwt)",
                 "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _obj({
                     "vp_token": {"type": "string", "description": "JSON object: credential query id -> "
                                  "array of Presentations (OID4VP 1.0 §8.1)"},
                     "state": STRING, "response": {"type": "string", "description": "direct_post.jwt: the JWE"},
                     "error": STRING, "error_description": STRING,
                     "verification_mode": {"enum": ["fail_fast", "run_all"], "default": "fail_fast"}})}}},
                 "responses": {"200": _json(_ref("PresentationAnswer"), "Verified (the verdict is in the result)"),
                               "400": _json(_ref("OAuthError"), "Not attributable, replayed, expired, or not "
                                            "OID4VP-compliant"),
                               "404": _json(_ref("OAuthError"), "Unknown session")}},
    },
    "/v1/verifier/result/{session_id}": {"get": {
        "summary": "Poll the verification result",
        "security": _API_KEY, "parameters": [_SESSION],
        "responses": {"200": _json(_ref("Result"), "pending, in_progress, completed, failed or expired"),
                      "400": _json(_ref("Error"), "session_id is not a UUID"),
                      "401": _json(_ref("Error"), "Invalid or missing X-API-Key"),
                      "404": _json(_ref("Error"), "Unknown session")},
    }},
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {
        "description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
}


def openapi_document() -> dict[str, Any]:
    return document(title="Reference verifier (OID4VP 1.0 + DCQL)", description=DESCRIPTION,
                    base_url="http://verifier.local", paths=PATHS, schemas=SCHEMAS,
                    security={"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}})

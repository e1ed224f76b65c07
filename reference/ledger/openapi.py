"""OpenAPI 3.1 description of the ledger, served at GET /openapi.json.

Tests validate real responses against these schemas, so the document cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from reference.common.openapi_kit import DATE_TIME, document
from reference.common.openapi_kit import body as _body
from reference.common.openapi_kit import error_response as _error
from reference.common.openapi_kit import json_response as _json
from reference.common.openapi_kit import path_param as _path_param
from reference.common.openapi_kit import ref as _ref
from reference.ledger.notary import MAX_DATA

HEX_OBJECT_ID = "^0x[0-9a-f]{64}$"
IOTA_DID = "^did:iota:([a-z0-9]{1,8}:)?0x[0-9a-f]{64}$"


UNAVAILABLE = _error("The ledger is switched off (fault injection): code ledger_unavailable.")
BAD_REQUEST = _error("The body or a path parameter is malformed; `error.field` names it.")


_DID_PARAM = _path_param("did", "A did:iota DID of this network.")

PATHS: dict[str, Any] = {
    "/v1/notarizations": {"post": {
        "operationId": "submitNotarization",
        "summary": "Queue a locked notarization of `data` (the issuer-signed JWT).",
        "requestBody": _body("NotarizationSubmit"),
        "responses": {
            "202": _json(_ref("NotarizationAccepted"), "Queued; poll the Location."),
            "400": BAD_REQUEST, "503": UNAVAILABLE,
        },
    }},
    "/v1/notarizations/{request_id}": {"get": {
        "operationId": "getNotarization",
        "summary": "Progress of a notarization: queued, processing, completed or failed.",
        "parameters": [_path_param("request_id", "The request id (a UUID).")],
        "responses": {
            "200": _json(_ref("NotarizationStatus"), "The request's current state."),
            "400": BAD_REQUEST, "404": _error("No such request."), "503": UNAVAILABLE,
        },
    }},
    "/v1/objects/{object_id}": {"get": {
        "operationId": "getObject",
        "summary": "Read a notarization object; public, no authentication.",
        "parameters": [_path_param("object_id", "0x + 64 hex digits.")],
        "responses": {
            "200": _json(_ref("LedgerObject"), "The object."),
            "400": BAD_REQUEST, "404": _error("No such object on this network."),
            "503": UNAVAILABLE,
        },
    }},
    "/v1/dids": {"post": {
        "operationId": "createDid",
        "summary": "Create a did:iota DID whose document holds the proof's header key.",
        "requestBody": _body("DidCreate"),
        "responses": {
            "201": _json(_ref("DidWriteResult"), "Created."),
            "400": _error("Malformed body, invalid_proof, unsupported_key_type or "
                          "unsupported_network."),
            "503": UNAVAILABLE,
        },
    }},
    "/v1/dids/{did}": {"put": {
        "operationId": "updateDid",
        "summary": "Rotate the DID's key to `proof.payload.jwk`; signed by the current key.",
        "parameters": [_DID_PARAM],
        "requestBody": _body("DidProof"),
        "responses": {
            "200": _json(_ref("DidWriteResult"), "Updated."),
            "400": _error("Malformed body or DID, invalid_proof, unsupported_key_type."),
            "404": _error("No such DID."), "409": _error("The DID is deactivated."),
            "503": UNAVAILABLE,
        },
    }},
    "/v1/dids/{did}/deactivate": {"post": {
        "operationId": "deactivateDid",
        "summary": "Deactivate the DID; signed by the current key. Irreversible.",
        "parameters": [_DID_PARAM],
        "requestBody": _body("DidProof"),
        "responses": {
            "200": _json(_ref("DidWriteResult"), "Deactivated."),
            "400": _error("Malformed body or DID, invalid_proof."),
            "404": _error("No such DID."), "409": _error("The DID is already deactivated."),
            "503": UNAVAILABLE,
        },
    }},
    "/1.0/identifiers/{did}": {"get": {
        "operationId": "resolveDid",
        "summary": "Resolve a DID (DIF Universal Resolver / W3C DID Resolution HTTP(S) binding).",
        "parameters": [_path_param("did", "The DID to resolve.")],
        "responses": {
            status: _json(_ref("DidResolutionResult"), text, "application/did-resolution")
            for status, text in (
                ("200", "Resolved."),
                ("400", "invalidDid: the DID is malformed."),
                ("404", "notFound: no such DID on this network."),
                ("410", "The DID is deactivated (didDocumentMetadata.deactivated is true)."),
                ("501", "methodNotSupported: not a did:iota DID."),
            )
        } | {"503": UNAVAILABLE},
    }},
    "/v1/admin/faults": {
        "get": {
            "operationId": "getFaults",
            "summary": "Current fault knobs. Served only when an admin key is configured.",
            "security": [{"adminKey": []}],
            "responses": {"200": _json(_ref("Faults"), "The knobs."),
                          "401": _error("X-Admin-Key missing or wrong."),
                          "404": _error("No admin key is configured.")},
        },
        "put": {
            "operationId": "putFaults",
            "summary": "Change latency, failure rate or availability at run time.",
            "security": [{"adminKey": []}],
            "requestBody": _body("FaultsUpdate"),
            "responses": {"200": _json(_ref("Faults"), "The knobs after the change."),
                          "400": BAD_REQUEST,
                          "401": _error("X-Admin-Key missing or wrong."),
                          "404": _error("No admin key is configured.")},
        },
    },
    "/openapi.json": {"get": {
        "operationId": "openapi",
        "summary": "This document.",
        "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1."), "503": UNAVAILABLE},
    }},
}

_JWK = {"type": "object", "required": ["kty", "crv", "x"], "not": {"required": ["d"]},
        "properties": {"kty": {"const": "OKP"}, "crv": {"const": "Ed25519"},
                       "x": {"type": "string"}}}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object", "required": ["error"], "additionalProperties": False,
        "properties": {"error": {
            "type": "object", "required": ["code", "message"], "additionalProperties": False,
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                           "field": {"type": "string"}},
        }},
    },
    "NotarizationSubmit": {
        "type": "object", "required": ["data"],
        "properties": {"data": {"type": "string", "minLength": 1, "maxLength": MAX_DATA,
                                "description": "The issuer-signed JWT (SD-JWT without "
                                               "disclosures)."}},
    },
    "NotarizationAccepted": {
        "type": "object", "required": ["request_id", "status"], "additionalProperties": False,
        "properties": {"request_id": {"type": "string", "format": "uuid"},
                       "status": {"const": "queued"}},
    },
    "NotarizationStatus": {
        "type": "object", "additionalProperties": False,
        "required": ["request_id", "status", "object_id", "error"],
        "properties": {
            "request_id": {"type": "string", "format": "uuid"},
            "status": {"enum": ["queued", "processing", "completed", "failed"]},
            "object_id": {"type": ["string", "null"], "pattern": HEX_OBJECT_ID},
            "error": {"type": ["string", "null"]},
        },
        # object_id exactly when completed; error exactly when failed.
        "allOf": [
            {"if": {"properties": {"status": {"const": "completed"}}},
             "then": {"properties": {"object_id": {"type": "string"}, "error": {"type": "null"}}},
             "else": {"properties": {"object_id": {"type": "null"}}}},
            {"if": {"properties": {"status": {"const": "failed"}}},
             "then": {"properties": {"error": {"type": "string"}}},
             "else": {"properties": {"error": {"type": "null"}}}},
        ],
    },
    "LedgerObject": {
        "type": "object", "additionalProperties": False,
        "required": ["object_id", "state", "immutable_metadata", "network"],
        "properties": {
            "object_id": {"type": "string", "pattern": HEX_OBJECT_ID},
            "state": {"type": "object", "required": ["data"], "additionalProperties": False,
                      "properties": {"data": {"type": "string"}}},
            "immutable_metadata": {
                "type": "object", "required": ["created_at", "method"],
                "additionalProperties": False,
                "properties": {"created_at": DATE_TIME, "method": {"const": "locked"}},
            },
            "network": {"type": "string"},
        },
    },
    "DidCreate": {
        "type": "object", "required": ["proof"],
        "properties": {
            "network": {"type": "string", "description": "Must be this ledger's network."},
            "proof": {"type": "string", "description": "Compact JWS by the new Ed25519 key; "
                      "header `jwk` = its public JWK; payload {op: create, iat}."},
        },
    },
    "DidProof": {
        "type": "object", "required": ["proof"],
        "properties": {"proof": {"type": "string", "description": "Compact JWS by the DID's "
                                 "capabilityInvocation key; payload {op, did, iat[, jwk]}."}},
    },
    "DidDocument": {
        "type": "object", "required": ["id", "verificationMethod"],
        "properties": {
            "@context": {"type": "array", "items": {"type": "string"}},
            "id": {"type": "string", "pattern": IOTA_DID},
            "verificationMethod": {"type": "array", "minItems": 1, "items": {
                "type": "object", "required": ["id", "type", "controller", "publicKeyJwk"],
                "properties": {"id": {"type": "string"}, "type": {"const": "JsonWebKey"},
                               "controller": {"type": "string"}, "publicKeyJwk": _JWK},
            }},
            **{rel: {"type": "array", "items": {"type": "string"}}
               for rel in ("authentication", "assertionMethod", "capabilityInvocation")},
        },
    },
    "DidDocumentMetadata": {
        "type": "object", "required": ["created", "updated", "deactivated"],
        "additionalProperties": False,
        "properties": {"created": DATE_TIME, "updated": DATE_TIME,
                       "deactivated": {"type": "boolean"}},
    },
    "DidWriteResult": {
        "type": "object", "required": ["did", "didDocument", "didDocumentMetadata"],
        "additionalProperties": False,
        "properties": {"did": {"type": "string", "pattern": IOTA_DID},
                       "didDocument": _ref("DidDocument"),
                       "didDocumentMetadata": _ref("DidDocumentMetadata")},
    },
    "DidResolutionResult": {
        "type": "object", "additionalProperties": False,
        "required": ["didDocument", "didResolutionMetadata", "didDocumentMetadata"],
        "properties": {
            "didDocument": {"oneOf": [_ref("DidDocument"), {"type": "null"}]},
            "didResolutionMetadata": {
                "type": "object", "additionalProperties": False,
                "properties": {
                    "contentType": {"const": "application/did+ld+json"},
                    "error": {"enum": ["invalidDid", "notFound", "methodNotSupported"]},
                },
                "oneOf": [{"required": ["contentType"]}, {"required": ["error"]}],
            },
            "didDocumentMetadata": {"oneOf": [_ref("DidDocumentMetadata"),
                                              {"type": "object", "maxProperties": 0}]},
        },
    },
    "Faults": {
        "type": "object", "required": ["latency", "failure_rate", "available"],
        "additionalProperties": False,
        "properties": {"latency": {"type": "number", "minimum": 0},
                       "failure_rate": {"type": "number", "minimum": 0, "maximum": 1},
                       "available": {"type": "boolean"}},
    },
    "FaultsUpdate": {
        "type": "object", "additionalProperties": False,
        "properties": {"latency": {"type": "number", "minimum": 0, "maximum": 60},
                       "failure_rate": {"type": "number", "minimum": 0, "maximum": 1},
                       "available": {"type": "boolean"}},
    },
}


def openapi_document(base_url: str) -> dict[str, Any]:
    return document(title="Reference ledger (simulated IOTA network)",
                    description="Locked notarization objects and a did:iota registry.",
                    base_url=base_url, paths=PATHS, schemas=SCHEMAS,
                    security={"adminKey": {"type": "apiKey", "in": "header", "name": "X-Admin-Key"}})

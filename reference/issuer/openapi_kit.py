"""Building blocks of the OpenAPI 3.1 documents every issuer surface serves at /openapi.json
(the TCS API in openapi.py, reference/eudiw/openapi.py, reference/orgwallet/openapi.py)."""

from __future__ import annotations

from typing import Any

UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"],
                      "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"}
TX_CODE = {"type": "object", "additionalProperties": False, "properties": {
    "input_mode": {"enum": ["numeric", "text"]},
    "length": {"type": "integer", "minimum": 1},
    "description": {"type": "string", "maxLength": 300}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str,
                  media_type: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def path_param(name: str, description: str, pattern: str | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


def body(schema_name: str, media_type: str = "application/json") -> dict[str, Any]:
    return {"required": True, "content": {media_type: {"schema": ref(schema_name)}}}


def document(*, title: str, description: str | None, base_url: str, paths: dict[str, Any],
             schemas: dict[str, Any], security: dict[str, Any],
             webhooks: dict[str, Any] | None = None) -> dict[str, Any]:
    """`webhooks`: the requests this API makes to its users (OpenAPI 3.1 §4.8.1)."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description or ""},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security},
    }
    if webhooks:
        doc["webhooks"] = webhooks
    return doc

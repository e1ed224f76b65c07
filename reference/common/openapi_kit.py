"""Building blocks of the OpenAPI 3.1 documents every reference service serves at /openapi.json
(issuer, eudiw, orgwallet, holder, ledger, verifier): one way to write a $ref, a JSON response,
a path parameter, a request body, an object schema and the document around them."""

from __future__ import annotations

from typing import Any

UUID = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"],
                      "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"}
DATE_TIME = {"type": "string", "format": "date-time"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
STRING = {"type": "string"}
TX_CODE = {"type": "object", "additionalProperties": False, "properties": {
    "input_mode": {"enum": ["numeric", "text"]},
    "length": {"type": "integer", "minimum": 1},
    "description": {"type": "string", "maxLength": 300}}}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def json_response(schema: dict[str, Any], description: str,
                  media_type: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media_type: {"schema": schema}}}


def error_response(description: str, schema_name: str = "Error") -> dict[str, Any]:
    return json_response(ref(schema_name), description)


def path_param(name: str, description: str, pattern: str | None = None, *,
               fmt: str | None = None) -> dict[str, Any]:
    """`pattern` or `fmt` (a JSON Schema format such as "uuid") narrows the string."""
    schema: dict[str, Any] = {"type": "string"}
    if pattern:
        schema["pattern"] = pattern
    if fmt:
        schema["format"] = fmt
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": schema}


def body(schema_name: str, media_type: str = "application/json") -> dict[str, Any]:
    return {"required": True, "content": {media_type: {"schema": ref(schema_name)}}}


def obj(properties: dict[str, Any], required: list[str] | None = None, *,
        extra: bool = True, description: str | None = None) -> dict[str, Any]:
    """An object schema; `extra=False` closes it (additionalProperties: false)."""
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required or []}
    if not extra:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def document(*, title: str, description: str | None, base_url: str, paths: dict[str, Any],
             schemas: dict[str, Any], security: dict[str, Any],
             webhooks: dict[str, Any] | None = None,
             required_security: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """`security`: the schemes; `required_security`: what every operation needs unless it says
    otherwise (OpenAPI 3.1 §4.8.1 `security`); `webhooks`: the requests this API makes to its
    users (§4.8.1)."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": "1.0.0", "description": description or ""},
        "servers": [{"url": base_url}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": security},
    }
    if required_security:
        doc["security"] = required_security
    if webhooks:
        doc["webhooks"] = webhooks
    return doc

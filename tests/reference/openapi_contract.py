"""The OpenAPI contract every reference service's tests hold it to (no tests here).

- `check_openapi_document(doc, app)`: the document is valid OpenAPI 3.1 (schemas valid JSON
  Schema 2020-12), every route is documented with its path parameters and nothing is documented
  that is not routed.
- `OpenApiContract(doc, host)`: every response is checked against the document the service
  serves: the status is documented for the operation, the media type is the documented one, and
  the body validates against the documented schema (a documented response without content must
  have no body). `check` is an httpx response hook (responses from other hosts and the document
  itself are left alone); `validate_response` checks one response for a path template.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import jsonschema
from starlette.applications import Starlette


def check_openapi_document(doc: dict[str, Any], app: Starlette) -> None:
    assert doc["openapi"].startswith("3.1") and doc["info"]["title"] and doc["paths"]
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for path, operations in doc["paths"].items():
        params = set(re.findall(r"{(\w+)}", path))
        for op in operations.values():
            assert params == {p["name"] for p in op.get("parameters", []) if p["in"] == "path"}
            assert op["responses"] and op["operationId"]
            for ref in re.findall(r'"\$ref": "#/components/schemas/(\w+)"', json.dumps(op)):
                assert ref in doc["components"]["schemas"], ref
    routes = {route.path for route in app.routes}  # type: ignore[attr-defined]
    assert routes == set(doc["paths"]), "every route documented, nothing documented that is not"


class OpenApiContract:
    def __init__(self, doc: dict[str, Any], host: str | None = None) -> None:
        self.doc, self.host = doc, host
        self._templates = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", t) + "$"), t) for t in doc["paths"]]

    def operation(self, method: str, path: str) -> dict[str, Any]:
        """The operation a concrete request path falls under."""
        for regex, template in self._templates:
            if regex.match(path) and method.lower() in self.doc["paths"][template]:
                return self.doc["paths"][template][method.lower()]
        raise AssertionError(f"{method} {path} is not described in the OpenAPI document of {self.host}")

    def validate(self, schema: dict[str, Any], instance: Any) -> None:
        # `#/components/...` refs resolve against the root: give the schema the doc's components.
        root = {**schema, "components": self.doc["components"]}
        jsonschema.Draft202012Validator(
            root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER).validate(instance)

    async def check(self, response: httpx.Response) -> None:
        request = response.request
        if request.url.host != self.host or request.url.path == "/openapi.json":
            return
        await response.aread()
        self._conforms(self.operation(request.method, request.url.path), response,
                       f"{request.method} {request.url.path}")

    def validate_response(self, path: str, method: str, response: httpx.Response) -> None:
        """`path`: the documented template ("/offers/{id}"), `method` lower case."""
        self._conforms(self.doc["paths"][path][method], response, f"{method.upper()} {path}")

    def _conforms(self, operation: dict[str, Any], response: httpx.Response, label: str) -> None:
        responses = operation["responses"]
        status = str(response.status_code)
        assert status in responses, (f"{label} answered {status} ({response.text[:300]}); "
                                     f"documented: {', '.join(responses)}")
        content = responses[status].get("content")
        if content is None:
            assert not response.content, f"{label}: {status} has a body, none is documented"
            return
        ((media_type, spec),) = content.items()
        got = response.headers.get("content-type", "").split(";")[0].strip()
        assert got == media_type, f"{label}: content-type {got!r}, documented {media_type!r}"
        # JWTs (statuslist+jwt, oauth-authz-req+jwt) and text are strings; the rest (JSON,
        # did-resolution) are JSON documents.
        text = media_type.endswith("jwt") or media_type.startswith("text/")
        self.validate(spec["schema"], response.text if text else json.loads(response.content))


def validate_response(doc: dict[str, Any], path: str, method: str, response: httpx.Response) -> None:
    OpenApiContract(doc).validate_response(path, method, response)

"""A role's OpenAPI document: from its `openapi` (RoleEndpoint.extra: a URL or a file) when the
target file sets one, else `GET {base_url}/openapi.json` through the target's client. A document that cannot be had
is a configuration problem (exit 2), not a finding."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import schemathesis
import yaml


class DocumentError(Exception):
    """A role's OpenAPI document cannot be fetched or read."""


async def load_document(http: httpx.AsyncClient, endpoint: Any) -> dict[str, Any]:
    source = (endpoint.extra or {}).get("openapi") or endpoint.base_url.rstrip("/") + "/openapi.json"
    if not source.startswith(("http://", "https://")):
        return _from_file(Path(source))
    try:
        response = await http.get(source)
    except httpx.HTTPError as exc:
        raise DocumentError(f"GET {source}: no response ({type(exc).__name__}: {exc})") from None
    if response.status_code != 200:
        raise DocumentError(f"GET {source} answered {response.status_code}; set roles.<role>.openapi in the "
                            "target file to where the document is served")
    return _checked(_parse(response.text, source), source)


def schema_of(document: dict[str, Any]) -> Any:
    """The schemathesis schema of a document (an unsupported OpenAPI version is a DocumentError)."""
    try:
        return schemathesis.openapi.from_dict(document)
    except schemathesis.errors.LoaderError as exc:
        raise DocumentError(str(exc)) from None


def _from_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DocumentError(f"cannot read the OpenAPI document {path}: {exc.strerror or exc}") from None
    return _checked(_parse(text, str(path)), str(path))


def _parse(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)  # JSON is YAML too
    except yaml.YAMLError as exc:
        raise DocumentError(f"{source} is neither JSON nor YAML: {exc}") from None


def _checked(document: Any, source: str) -> dict[str, Any]:
    if not isinstance(document, dict) or "paths" not in document or "openapi" not in document:
        raise DocumentError(f"{source} is not an OpenAPI 3 document (needs `openapi` and `paths`)")
    return document

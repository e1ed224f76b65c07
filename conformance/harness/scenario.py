"""The scenario model: frozen dataclasses built from a schema-validated YAML document.

Parsing happens once, at the edge (`conformance.harness.loader`); everything after trusts
these types. Each element keeps its `Source` (file, line) so that any later complaint about
it (an unknown check, an unknown operation) can point at the line to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from conformance.harness.yamlsource import YamlDocument

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class Source:
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class FieldMatcher:
    """Conditions on one dotted path: `conditions` pairs a matcher name with its argument."""

    path: str
    conditions: tuple[tuple[str, Any], ...]
    source: Source


@dataclass(frozen=True)
class Expectation:
    status: tuple[int, ...] = ()
    schema: str | Mapping[str, Any] | None = None
    body: tuple[FieldMatcher, ...] = ()
    artefacts: tuple[FieldMatcher, ...] = ()
    checks: tuple[str, ...] = ()
    check_sources: tuple[Source, ...] = ()


@dataclass(frozen=True)
class HttpRequest:
    role: str
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=lambda: _EMPTY)
    query: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    json: Any = None
    has_json: bool = False
    content: str | None = None


@dataclass(frozen=True)
class Step:
    name: str
    index: int
    op: str | None
    http: HttpRequest | None
    inputs: Mapping[str, Any]
    capture: Mapping[str, str]
    expect: Expectation
    source: Source

    @property
    def label(self) -> str:
        """What the step calls: the operation name, or `http POST issuer /v1/offers`."""
        if self.op:
            return self.op
        assert self.http is not None
        return f"http {self.http.method} {self.http.role} {self.http.path}"


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    roles: tuple[str, ...]
    spec: tuple[str, ...]
    steps: tuple[Step, ...]
    source: Source
    tags: tuple[str, ...] = ()
    description: str = ""
    conformance_suite: tuple[str, ...] = ()
    seed_endpoints: tuple[str, ...] = ()
    vars: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    webhooks: bool = False
    dialects: tuple[str, ...] = ()   # the dialects the scenario is written for; () = every dialect


# --- building from a validated document -----------------------------------------------------

def build_scenario(doc: YamlDocument) -> Scenario:
    """The Scenario of a document that passed the JSON Schema (so shapes are trusted here)."""
    data = doc.data
    return Scenario(
        id=data["id"],
        title=data["title"],
        roles=tuple(data["roles"]),
        spec=tuple(data["spec"]),
        steps=tuple(_step(doc, i, raw) for i, raw in enumerate(data["steps"])),
        source=Source(doc.file, doc.line_of(("id",))),
        tags=tuple(data.get("tags", ())),
        description=data.get("description", ""),
        conformance_suite=tuple(data.get("conformance_suite", ())),
        seed_endpoints=tuple(data.get("seed_endpoints", ())),
        vars=MappingProxyType(dict(data.get("vars", {}))),
        webhooks=bool(data.get("webhooks", False)),
        dialects=tuple(data.get("dialects", ())),
    )


def _step(doc: YamlDocument, index: int, raw: Mapping[str, Any]) -> Step:
    path = ("steps", index)
    return Step(
        name=raw["name"],
        index=index,
        op=raw.get("op"),
        http=_http(raw["http"]) if "http" in raw else None,
        inputs=MappingProxyType(dict(raw.get("with", {}))),
        capture=MappingProxyType(dict(raw.get("capture", {}))),
        expect=_expect(doc, (*path, "expect"), raw.get("expect", {})),
        source=Source(doc.file, doc.line_of(path)),
    )


def _http(raw: Mapping[str, Any]) -> HttpRequest:
    return HttpRequest(
        role=raw["role"], method=raw["method"], path=raw["path"],
        headers=MappingProxyType(dict(raw.get("headers", {}))),
        query=MappingProxyType(dict(raw.get("query", {}))),
        json=raw.get("json"), has_json="json" in raw, content=raw.get("content"),
    )


def _expect(doc: YamlDocument, path: tuple[Any, ...], raw: Mapping[str, Any]) -> Expectation:
    status = raw.get("status", ())
    checks = tuple(raw.get("checks", ()))
    return Expectation(
        status=(status,) if isinstance(status, int) else tuple(status),
        schema=raw.get("schema"),
        body=_matchers(doc, (*path, "body"), raw.get("body", {})),
        artefacts=_matchers(doc, (*path, "artefacts"), raw.get("artefacts", {})),
        checks=checks,
        check_sources=tuple(Source(doc.file, doc.line_of((*path, "checks", i)))
                            for i in range(len(checks))),
    )


def _matchers(doc: YamlDocument, path: tuple[Any, ...], raw: Mapping[str, Any]) -> tuple[FieldMatcher, ...]:
    return tuple(
        FieldMatcher(str(key), tuple(spec.items()), Source(doc.file, doc.line_of((*path, key))))
        for key, spec in raw.items()
    )

"""Named JSON Schemas in fixtures/schemas/: the scenario file format and response schemas.

A scenario's `expect.schema: offer_created` names `fixtures/schemas/offer_created.schema.yaml`
(or `.schema.json`). Schemas are written in YAML or JSON, draft 2020-12.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from conformance import paths

SUFFIXES = (".schema.yaml", ".schema.yml", ".schema.json")


def schema_dir() -> Path:
    return paths.FIXTURES / "schemas"


def find_schema(name: str) -> Path | None:
    for suffix in SUFFIXES:
        candidate = schema_dir() / f"{name}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def known_schemas() -> list[str]:
    names = {p.name.split(".schema.")[0] for p in schema_dir().glob("*.schema.*")}
    return sorted(names - {"scenario", "target"})   # file formats, not response bodies


@cache
def load_schema(name: str) -> dict[str, Any]:
    path = find_schema(name)
    if path is None:
        raise KeyError(f"no schema {name!r} in {schema_dir()} (known: {', '.join(known_schemas())})")
    text = path.read_text(encoding="utf-8")
    schema = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(load_schema(name))

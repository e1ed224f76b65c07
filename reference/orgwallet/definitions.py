"""Credential definitions: what the organisation wallet's `credentialDefinitionId` names
(format, the credential configurations it covers). Loaded from YAML, validated; the file format
is documented at the top of fixtures/issuer/credential_definitions.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jsonschema
import yaml

from conformance.paths import FIXTURES

DEFAULT_FILE = FIXTURES / "issuer" / "credential_definitions.yaml"
FORMATS = ("dc+sd-jwt", "jwt_vc_json", "mso_mdoc")
SUPPORTED_FORMATS = ("dc+sd-jwt",)
FILE_SCHEMA = {
    "type": "object", "required": ["definitions"], "additionalProperties": False,
    "properties": {"definitions": {"type": "object", "minProperties": 1, "additionalProperties": {
        "type": "object", "required": ["format", "configurations"], "additionalProperties": False,
        "properties": {"format": {"enum": list(FORMATS)},
                       "configurations": {"type": "array", "items": {"type": "string"}}}}}},
}


@dataclass(frozen=True)
class CredentialDefinition:
    id: str
    format: str
    configurations: tuple[str, ...]


def load_definitions(path: Path = DEFAULT_FILE) -> dict[str, CredentialDefinition]:
    try:
        data = yaml.safe_load(path.read_text())
        jsonschema.validate(data, FILE_SCHEMA)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read credential definitions: {exc}") from None
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ValueError(f"{path}: {where}: {exc.message}") from None
    return {did: CredentialDefinition(did, raw["format"], tuple(raw["configurations"]))
            for did, raw in data["definitions"].items()}

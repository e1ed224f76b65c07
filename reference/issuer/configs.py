"""Credential configurations: loaded from YAML, validated, rendered as issuer metadata.

The file format is documented at the top of fixtures/issuer/credential_configurations.yaml.
A configuration also decides which claims an offer may carry (the first element of each claims
path) and which it must carry (`mandatory`, OID4VCI 1.0 Appendix B.2: "the Credential Issuer
will always include this claim").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from conformance.paths import FIXTURES
from conformance.protocol.oid4vci import FORMAT_SD_JWT_VC

DEFAULT_FILE = FIXTURES / "issuer" / "credential_configurations.yaml"
# Claims the issuer sets itself (SD-JWT VC §3.2.2.2, Token Status List §6.2, RFC 9901 §4.1).
RESERVED_CLAIMS = frozenset({"iss", "sub", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity",
                             "status", "jti", "aud", "_sd", "_sd_alg", "..."})

_ALGS = {"type": "array", "minItems": 1, "items": {"enum": ["EdDSA", "ES256"]}}
_DISPLAY = {"type": "array", "items": {"type": "object", "required": ["name"]}}
_CONFIG_MEMBERS = {
    "format": {"const": FORMAT_SD_JWT_VC},
    "vct": {"type": "string", "minLength": 1},
    "lifetime": {"type": ["integer", "null"], "minimum": 1},
    "display": _DISPLAY,
    "claims": {"type": "array", "items": {
        "type": "object", "required": ["path"], "additionalProperties": False,
        "properties": {"path": {"type": "array", "minItems": 1,
                                "items": {"type": ["string", "integer", "null"]}},
                       "mandatory": {"type": "boolean"}, "display": _DISPLAY}}},
    "cryptographic_binding_methods_supported": {"type": "array", "minItems": 1,
                                                "items": {"type": "string"}},
    "credential_signing_alg_values_supported": _ALGS,
    "proof_types_supported": {"type": "object", "required": ["jwt"], "additionalProperties": False,
                              "properties": {"jwt": {
                                  "type": "object", "additionalProperties": False,
                                  "required": ["proof_signing_alg_values_supported"],
                                  "properties": {"proof_signing_alg_values_supported": _ALGS}}}},
}
FILE_SCHEMA = {
    "type": "object", "required": ["configurations"], "additionalProperties": False,
    "properties": {
        "defaults": {"type": "object", "additionalProperties": False, "properties": _CONFIG_MEMBERS},
        "configurations": {"type": "object", "minProperties": 1, "additionalProperties": {
            "type": "object", "required": ["vct", "claims"], "additionalProperties": False,
            "properties": _CONFIG_MEMBERS}},
    },
}


class ConfigurationError(ValueError):
    """The configurations file is invalid; the message names the file and the member."""


@dataclass(frozen=True)
class CredentialConfig:
    id: str
    vct: str
    format: str
    lifetime: int | None
    display: tuple[Mapping[str, Any], ...]
    claims: tuple[Mapping[str, Any], ...]
    binding_methods: tuple[str, ...]
    signing_algs: tuple[str, ...]
    proof_algs: tuple[str, ...]

    @property
    def allowed_claims(self) -> frozenset[str]:
        return frozenset(c["path"][0] for c in self.claims if isinstance(c["path"][0], str))

    @property
    def mandatory_claims(self) -> tuple[str, ...]:
        return tuple(c["path"][0] for c in self.claims
                     if c.get("mandatory") and len(c["path"]) == 1)

    def metadata(self) -> dict[str, Any]:
        """This configuration in `credential_configurations_supported` (§12.2.4, A.3.2)."""
        return {
            "format": self.format,
            "vct": self.vct,
            "scope": self.id,
            "cryptographic_binding_methods_supported": list(self.binding_methods),
            "credential_signing_alg_values_supported": list(self.signing_algs),
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported":
                                              list(self.proof_algs)}},
            "credential_metadata": {"display": [dict(d) for d in self.display],
                                    "claims": [dict(c) for c in self.claims]},
        }


def load_configurations(path: Path = DEFAULT_FILE) -> dict[str, CredentialConfig]:
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"{path}: cannot read credential configurations: {exc}") from None
    try:
        jsonschema.validate(data, FILE_SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
        raise ConfigurationError(f"{path}: {where}: {exc.message}") from None
    defaults = data.get("defaults") or {}
    return {cid: _config(cid, {**defaults, **raw}, path) for cid, raw in data["configurations"].items()}


def _config(cid: str, raw: Mapping[str, Any], path: Path) -> CredentialConfig:
    missing = [k for k in ("format", "cryptographic_binding_methods_supported",
                           "credential_signing_alg_values_supported", "proof_types_supported")
               if k not in raw]
    if missing:
        raise ConfigurationError(f"{path}: configurations/{cid}: missing {', '.join(missing)} "
                                 "(set it on the configuration or in defaults)")
    reserved = sorted({c["path"][0] for c in raw["claims"]} & RESERVED_CLAIMS)
    if reserved:
        raise ConfigurationError(f"{path}: configurations/{cid}: claims {reserved} are set by the "
                                 "issuer itself and cannot be offered")
    return CredentialConfig(
        id=cid, vct=raw["vct"], format=raw["format"], lifetime=raw.get("lifetime"),
        display=tuple(raw.get("display") or ()), claims=tuple(raw["claims"]),
        binding_methods=tuple(raw["cryptographic_binding_methods_supported"]),
        signing_algs=tuple(raw["credential_signing_alg_values_supported"]),
        proof_algs=tuple(raw["proof_types_supported"]["jwt"]["proof_signing_alg_values_supported"]),
    )

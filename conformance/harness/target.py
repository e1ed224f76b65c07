"""The deployment a run talks to: the embedded reference, or one described by a target file.

    target = await open_target(None, seed=0)                     # embedded reference, no sockets
    target = await open_target("fixtures/targets/x.yaml", seed=0)

A target file (YAML; JSON Schema: fixtures/schemas/target.schema.yaml) names the dialect, a base
URL and credentials per role, logical credential configuration names, the HTTP timeout and the
polling bounds. Secrets come from the environment: `${env.NAME}` (or `${NAME}`) in any string
value; `$${` is a literal `${`. Every problem (unreadable file, YAML syntax, an unset variable, a
schema violation, an unknown dialect) is a TargetError naming the file, line and field.

The embedded reference (`reference/deployment.py`) is the one place the harness imports
`reference`; its target also has the `reference` pseudo-role (clock, ledger fault knobs).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx

from conformance.harness import schemas
from conformance.harness.yamlsource import YamlDocument, YamlSyntaxError, load_yaml
from conformance.net import make_client
from conformance.redact import REDACTED

TARGET_SCHEMA = "target"
REFERENCE_ROLE = "reference"
DEFAULT_TIMEOUT = 10.0
DEFAULT_POLL = {"interval": 1.0, "timeout": 30.0}
# The embedded reference settles background work on demand (deployment.drain), so it polls fast.
REFERENCE_POLL = {"interval": 0.02, "timeout": 10.0}
# Logical credential configuration names of the embedded reference (fixtures/issuer/).
REFERENCE_CONFIG_IDS = MappingProxyType({
    "default": "TuringCerts_Standard_Credential_v2_sd_jwt",
    "identity": "IdentityCredential",
    "resident": "ResidentCredential",
})
_REF = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
_ENV_NAME = re.compile(r"(?:env\.)?([A-Za-z_][A-Za-z0-9_]*)")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class TargetError(Exception):
    """The target cannot be opened as described; the message names the file, line and field."""


@dataclass(frozen=True)
class RoleEndpoint:
    base_url: str
    api_key: str | None = field(default=None, repr=False)
    extra: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, repr=False)  # e.g. api_keys: {x509: ...}


@dataclass
class Target:
    name: str
    dialect: str
    roles: dict[str, RoleEndpoint]
    config_ids: Mapping[str, str]
    http: httpx.AsyncClient
    deployment: Any = None                 # reference.deployment.ReferenceDeployment when embedded
    poll_interval: float = DEFAULT_POLL["interval"]
    poll_timeout: float = DEFAULT_POLL["timeout"]
    webhooks: Mapping[str, Any] | None = None    # the file's `webhooks` section (listen, public_url)
    source: str = "embedded"

    def has(self, role: str) -> bool:
        return role in self.roles or (role == REFERENCE_ROLE and self.deployment is not None)

    def secrets(self) -> list[str]:
        """Every credential of the target, to scrub from free text."""
        found = []
        for endpoint in self.roles.values():
            found += [endpoint.api_key] if endpoint.api_key else []
            found += [str(v) for v in dict(endpoint.extra.get("api_keys") or {}).values() if v]
            found += [endpoint.extra["access_token"]] if endpoint.extra.get("access_token") else []
        return found

    def describe(self) -> dict[str, Any]:
        """For reports: URLs and which credentials are set, never their values."""
        roles = {}
        for role, endpoint in self.roles.items():
            entry: dict[str, Any] = {"base_url": endpoint.base_url}
            if endpoint.api_key:
                entry["api_key"] = REDACTED
            named = sorted(dict(endpoint.extra.get("api_keys") or {}))
            if named:
                entry["api_keys"] = {name: REDACTED for name in named}
            if endpoint.extra.get("access_token"):
                entry["access_token"] = REDACTED
            if endpoint.extra.get("openapi"):
                entry["openapi"] = endpoint.extra["openapi"]
            roles[role] = entry
        timeout = self.http.timeout
        return {"name": self.name, "dialect": self.dialect, "source": self.source,
                "embedded": self.deployment is not None, "roles": roles, "config_ids": dict(self.config_ids),
                "timeout": timeout.read, "poll": {"interval": self.poll_interval, "timeout": self.poll_timeout}}

    async def aclose(self) -> None:
        if self.deployment is not None:
            await self.deployment.aclose()   # closes the clients it made, this one included
        else:
            await self.http.aclose()


async def open_target(spec: str | None, *, seed: int) -> Target:
    """`None` or "reference": the embedded reference; "reference:<dialect>" the same
    deployment seen through another vendor API (EMBEDDED_DIALECTS); anything else: a target
    file's path."""
    if spec is None or spec == REFERENCE_ROLE or spec.startswith(f"{REFERENCE_ROLE}:"):
        return _embedded(seed, (spec or REFERENCE_ROLE).partition(":")[2] or "tcs")
    return _from_file(Path(spec))


# --- the embedded reference --------------------------------------------------------------------

# The embedded reference seen through each vendor API it simulates (`reference:<dialect>`): the
# management API the `issuer` role means, and the logical configuration names. Every surface
# issues through the one issuer engine, so the OID4VCI wire (offers, tokens, credentials, status
# lists) is the issuer's whatever the dialect. eudiw: the connector's credential_configuration_id
# values; orgwallet: credentialDefinitionId values (reference/orgwallet/definitions.py).
EMBEDDED_DIALECTS = ("tcs", "eudiw", "orgwallet")
# The embedded holder's scrypt cost: a run registers dozens of throwaway users, and at the
# interactive default (2^14) hashing would be a large share of the run time.
EMBEDDED_SCRYPT_N = 2 ** 10
ORGWALLET_CONFIG_IDS = MappingProxyType({
    "default": "TuringCertsSdJwt",
    "identity": "IdentityCredentialSdJwt",
    "resident": "ResidentCredentialSdJwt",
})
# Where the embedded EUDIW connector posts its issuance callbacks: one receiver for the whole
# run (the connector has one callback URL, as the seed configures it), on the in-process network.
EUDIW_CALLBACKS = "http://callbacks.eudiw.local"


def _embedded(seed: int, dialect: str = "tcs") -> Target:
    """The reference deployment in-process, as a `dialect` target. The tcs target has every
    role; the eudiw and orgwallet targets have `issuer` (that vendor's management API) and
    `ledger`: the holder and verifier APIs are the TCS platform's."""
    from reference.deployment import build_reference

    if dialect not in EMBEDDED_DIALECTS:
        raise TargetError(f"reference:{dialect}: the embedded reference speaks "
                          f"{', '.join(EMBEDDED_DIALECTS)} (e.g. --target reference:eudiw)")
    receiver = None
    if dialect == "eudiw":
        from conformance.harness.webhooks import CALLBACK_PATH, WebhookReceiver

        receiver = WebhookReceiver(url=EUDIW_CALLBACKS + CALLBACK_PATH)
    deployment = build_reference(seed=seed, eudiw_callback_url=receiver.url if receiver else None,
                                 scrypt_n=EMBEDDED_SCRYPT_N)
    urls, keys = deployment.urls, deployment.api_keys
    ledger = RoleEndpoint(urls["ledger"])
    if dialect == "eudiw":
        assert receiver is not None and deployment.network is not None
        deployment.network.mount(EUDIW_CALLBACKS, receiver.app())
        roles = {"issuer": RoleEndpoint(urls["eudiw"], None, MappingProxyType({"callbacks": receiver})),
                 "ledger": ledger}
        config_ids: Mapping[str, str] = REFERENCE_CONFIG_IDS
    elif dialect == "orgwallet":
        roles = {"issuer": RoleEndpoint(urls["orgwallet"], keys["orgwallet"]), "ledger": ledger}
        config_ids = ORGWALLET_CONFIG_IDS
    else:
        roles = {
            "issuer": RoleEndpoint(urls["issuer"], keys["issuer"], MappingProxyType(
                {"api_keys": MappingProxyType({"x509": keys["issuer_x509"], "limited": keys["issuer_limited"]})})),
            "holder": RoleEndpoint(urls["holder"]),
            "verifier": RoleEndpoint(urls["verifier"], keys["verifier"]),
            "ledger": ledger,
        }
        config_ids = REFERENCE_CONFIG_IDS
    name = REFERENCE_ROLE if dialect == "tcs" else f"{REFERENCE_ROLE}-{dialect}"
    return Target(name, dialect, roles, config_ids, deployment.client(DEFAULT_TIMEOUT),
                  deployment=deployment, poll_interval=REFERENCE_POLL["interval"],
                  poll_timeout=REFERENCE_POLL["timeout"])


# --- target files ------------------------------------------------------------------------------

def _from_file(path: Path) -> Target:
    doc = _load(path)
    data = _interpolated(doc)
    _validate(doc, data)
    poll = {**DEFAULT_POLL, **data.get("poll", {})}
    roles = {role: _endpoint(raw, path.parent) for role, raw in data["roles"].items()}
    timeout = httpx.Timeout(float(data.get("timeout", DEFAULT_TIMEOUT)))
    http = make_client(timeout=timeout) if data.get("tls_verify", True) else \
        httpx.AsyncClient(timeout=timeout, follow_redirects=False, verify=False)
    return Target(data.get("name") or path.stem, data["dialect"], roles,
                  MappingProxyType(dict(data.get("config_ids", {}))), http, poll_interval=float(poll["interval"]),
                  poll_timeout=float(poll["timeout"]), webhooks=data.get("webhooks"), source=str(path))


def _load(path: Path) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TargetError(f"{path}: cannot read the target file: {exc}") from None
    try:
        doc = load_yaml(text, str(path))
    except YamlSyntaxError as exc:
        raise TargetError(str(exc)) from None
    if not isinstance(doc.data, dict):
        raise TargetError(f"{path}:1: a target file is a YAML mapping (dialect:, roles: ...); "
                          f"see {schemas.schema_dir() / 'target.schema.yaml'}")
    return doc


def _interpolated(doc: YamlDocument) -> dict[str, Any]:
    """The document with `${env.NAME}` replaced in every string; all unset variables at once."""
    missing: list[str] = []

    def walk(value: Any, where: tuple[Any, ...]) -> Any:
        if isinstance(value, str):
            return _REF.sub(lambda m: _variable(m, doc, where, missing), value)
        if isinstance(value, Mapping):
            return {k: walk(v, (*where, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*where, i)) for i, v in enumerate(value)]
        return value

    data = walk(doc.data, ())
    if missing:
        raise TargetError("\n".join(missing))
    return data


def _variable(match: re.Match[str], doc: YamlDocument, where: tuple[Any, ...], missing: list[str]) -> str:
    if match.group(1) is None:
        return "${"
    reference = _ENV_NAME.fullmatch(match.group(1).strip())
    if reference is None:
        missing.append(f"{doc.file}:{doc.line_of(where)}: {_field(where)}: ${{{match.group(1)}}} is not allowed "
                       "in a target file (only ${env.NAME}, from the environment)")
        return ""
    name = reference.group(1)
    value = os.environ.get(name)
    if value is None:
        missing.append(f"{doc.file}:{doc.line_of(where)}: {_field(where)}: environment variable {name} "
                       f"is not set (export {name}=... before the run)")
        return ""
    return value


def _validate(doc: YamlDocument, data: dict[str, Any]) -> None:
    from conformance.dialects import dialect_names
    from conformance.harness.loader import explain

    validator = schemas.validator(TARGET_SCHEMA)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    problems = [str(problem) for error in errors for problem in explain(doc, error)]
    dialect = data.get("dialect")
    if isinstance(dialect, str) and dialect not in dialect_names():
        problems.append(f"{doc.file}:{doc.line_of(('dialect',))}: dialect: unknown dialect {dialect!r} "
                        f"(known: {', '.join(dialect_names())})")
    if problems:
        count = f"{len(problems)} problem{'s' * (len(problems) > 1)}"
        raise TargetError(f"invalid target file ({count}):\n" + "\n".join(problems))


def _endpoint(raw: Mapping[str, Any], base_dir: Path) -> RoleEndpoint:
    extra: dict[str, Any] = {}
    if raw.get("api_keys"):
        extra["api_keys"] = MappingProxyType(dict(raw["api_keys"]))
    if raw.get("access_token"):
        extra["access_token"] = raw["access_token"]
    if raw.get("openapi"):
        # A file is relative to the target file, like every other path in it.
        source = raw["openapi"]
        extra["openapi"] = source if source.startswith(("http://", "https://")) else str(base_dir / source)
    return RoleEndpoint(raw["base_url"].rstrip("/"), raw.get("api_key"), MappingProxyType(extra))


def _field(where: tuple[Any, ...]) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in where).replace(".[", "[") or "(top)"

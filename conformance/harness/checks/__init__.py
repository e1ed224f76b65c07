"""The registry of named checks, with the built-in checks loaded.

    from conformance.harness.checks import REGISTRY, check, CheckContext, CheckOutcome

A new check is one decorated function in the module of its area (`api`, `sdjwt`, `kb`, `oid4vci`,
`notarization`, `verifier`, `dcql`); a module added here is loaded with the registry.
"""

import importlib

from conformance.harness.checks.registry import (
    REGISTRY,
    SEVERITIES,
    Check,
    CheckContext,
    CheckOutcome,
    MissingArtefact,
    Registry,
    check,
)

BUILTIN_MODULES = ("api", "sdjwt", "kb", "oid4vci", "notarization", "verifier", "dcql", "holder",
                   "verification", "issuance")

for _module in BUILTIN_MODULES:
    importlib.import_module(f"{__name__}.{_module}")

__all__ = ["BUILTIN_MODULES", "REGISTRY", "SEVERITIES", "Check", "CheckContext", "CheckOutcome",
           "MissingArtefact", "Registry", "check"]

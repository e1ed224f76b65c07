"""The checks applied to every fuzzed response: a registry of schemathesis check functions.

Three are schemathesis' own OpenAPI checks (status code documented, media type documented, body
valid against the documented schema). The server-error check is ours: a 500 always fails, and so
does any 5xx the operation does not document; a documented 502/503/504 passes, because those
describe an upstream (issuer, verifier, ledger) the role could not reach - which a fuzzer provokes
on purpose when it hands the holder a random offer or request URI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemathesis.checks import load_all_checks
from schemathesis.core.failures import ServerError

from conformance.explore.defaults import FUZZ_CHECKS

load_all_checks()

from schemathesis.specs.openapi.checks import (  # noqa: E402  (registered by load_all_checks)
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CheckFunction = Callable[[Any, Any, Any], bool | None]


def documented_statuses(case: Any) -> set[str]:
    return {str(code) for code in case.operation.definition.raw.get("responses", {})}


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 500, or a 5xx the operation does not document, is a server error."""
    status = response.status_code
    if status < 500:
        return None
    documented = documented_statuses(case)
    if status != 500 and (str(status) in documented or "5XX" in {d.upper() for d in documented}):
        return None
    raise ServerError(operation=case.operation.label, status_code=status,
                      message=f"Received: {status}\nDocumented: {', '.join(sorted(documented))}")


CHECKS: dict[str, CheckFunction] = {
    "no_server_error": no_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_schema_conformance": response_schema_conformance,
}

DESCRIPTIONS = FUZZ_CHECKS
assert set(CHECKS) == set(DESCRIPTIONS), "every check has a description in conformance.explore.defaults"

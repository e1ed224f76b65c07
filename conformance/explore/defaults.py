"""Defaults and names the `fuzz` and `explore` commands show in --help, importable without
hypothesis or schemathesis (every CLI start-up imports every command module)."""

from __future__ import annotations

FUZZ_MAX_EXAMPLES = 10          # generated requests per operation and generation mode
EXPLORE_MAX_EXAMPLES = 10       # examples per property
SHRINK_SECONDS = 20.0           # time limit for shrinking one failure
FUZZ_MODES = ("positive", "negative")

# The fuzz checks by name (their functions: conformance.explore.fuzz.checks.CHECKS).
FUZZ_CHECKS = {
    "no_server_error": "no 500, and no 5xx the operation does not document",
    "status_code_conformance": "the status code is documented for the operation",
    "content_type_conformance": "the response media type is documented for that status",
    "response_schema_conformance": "the body validates against the documented schema",
}

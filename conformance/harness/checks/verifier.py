"""Checks on the verifier's result API (TCS verifier seed, "Poll the result", reason_code table)."""

from __future__ import annotations

from collections.abc import Mapping
import re
from typing import Any

from conformance.harness.checks.registry import CheckContext, CheckOutcome, check

SESSION_STATUSES = ("pending", "in_progress", "completed", "failed", "expired")
MODES = ("fail_fast", "run_all")
ANY_CHECK_FAIL = frozenset({"dcql_not_satisfied", "skipped"})
_ROADMAP = (frozenset({"not_implemented"}), frozenset())
# check -> (reason codes on success, reason codes on fail): the seed's closed set.
REASON_CODES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "oid4vp_compliance": (frozenset({"oid4vp_request_valid"}), frozenset({"oid4vp_non_compliant", "presentation_invalid"})),
    "credential_format": (frozenset({"credential_format_valid"}), frozenset({"credential_format_invalid"})),
    "signature": (frozenset({"signature_verified"}),
                  frozenset({"signature_verification_failed", "signature_payload_mismatch", "issuer_key_not_resolvable"})),
    "issuer_trust": _ROADMAP,
    "schema_governance": _ROADMAP,
    "schema_version": _ROADMAP,
    "issuer_governance": _ROADMAP,
}


# The seed's table is "the closed set currently surfaced"; a verifier may surface more checks
# (the reference adds disclosures, validity_period, key_binding, status, dcql: see its CHECKS.md).
# Extensions are accepted when shaped like the seed's entries, and named in the outcome message.
_SNAKE = re.compile(r"[a-z][a-z0-9_]*")
# The seed lists `skipped` as a fail reason code; a verifier may also report it under its own
# status `skipped` (the reference does, documented), which is named as a variant in the message.
SKIPPED_STATUS = "skipped"


def _entry_problems(index: int, entry: Any) -> list[str]:
    where = f"check_results[{index}]"
    if not isinstance(entry, Mapping):
        return [f"{where} is not an object"]
    name, status, code = entry.get("check"), entry.get("status"), entry.get("reason_code")
    if not isinstance(name, str) or not _SNAKE.fullmatch(name):
        return [f"{where}.check {name!r} is not a snake_case check name"]
    if status == SKIPPED_STATUS:
        allowed = frozenset({"skipped"})
    elif status not in ("success", "fail"):
        return [f"{where}.status {status!r} (expected success or fail)"]
    elif name in REASON_CODES:
        success, fail = REASON_CODES[name]
        allowed = success if status == "success" else fail | ANY_CHECK_FAIL
    else:
        allowed = None   # an extension check: any snake_case reason code
    if allowed is None:
        problems = [] if isinstance(code, str) and _SNAKE.fullmatch(code) else \
            [f"{where}: reason_code {code!r} is not snake_case"]
    else:
        problems = [] if code in allowed else [f"{where}: {name}/{status} with reason_code {code!r} "
                                               f"(allowed: {', '.join(sorted(allowed)) or 'none'})"]
    if not isinstance(entry.get("message"), str):
        problems.append(f"{where}.message is not a string")
    return problems


def _order_problems(results: list[Any], mode: Any) -> list[str]:
    """fail_fast: nothing but `skipped` entries may follow the first failure."""
    if mode != "fail_fast":
        return []
    statuses = [(e.get("status"), e.get("reason_code")) for e in results if isinstance(e, Mapping)]
    first = next((i for i, (s, _) in enumerate(statuses) if s == "fail"), None)
    if first is None:
        return []
    late = [i for i, (_, code) in enumerate(statuses) if i > first and code != "skipped"]
    return [f"fail_fast reported check_results[{late[0]}] after the failure at [{first}]"] if late else []


def _session_problems(result: Mapping[str, Any]) -> list[str]:
    status = result.get("status")
    if status not in SESSION_STATUSES:
        return [f"status {status!r} (expected one of {', '.join(SESSION_STATUSES)})"]
    if status == "expired":
        error = result.get("error")
        ok = isinstance(error, Mapping) and isinstance(error.get("code"), str)
        return [] if ok else ["an expired session without error {code, message}"]
    if status not in ("completed", "failed"):
        return []
    results = result.get("check_results")
    if not isinstance(results, list) or not results:
        return [f"a {status} session without check_results"]
    mode = result.get("verification_mode")
    problems = [] if mode in MODES or mode is None else [f"verification_mode {mode!r}"]
    problems += [p for i, entry in enumerate(results) for p in _entry_problems(i, entry)]
    problems += _order_problems(results, mode)
    failing = [e for e in results if isinstance(e, Mapping) and e.get("status") == "fail"]
    if status == "completed" and failing:
        problems.append("status completed although a check failed")
    if status == "failed" and not failing:
        problems.append("status failed but no check_results entry failed")
    return problems


@check("verifier.check_results_shape", spec="TCS verifier seed: Poll the result, reason_code reference",
       needs=("verifier_result",),
       description="The verification result uses the seed's session statuses, check names and reason codes; "
                   "completed means every check succeeded, failed means one failed; fail_fast stops at the "
                   "first failure; an expired session carries error {code, message}.")
async def check_results_shape(ctx: CheckContext) -> CheckOutcome:
    result = ctx.artefact("verifier_result")
    if not isinstance(result, Mapping):
        return CheckOutcome.failed(result, "a JSON object")
    problems = _session_problems(result)
    if problems:
        return CheckOutcome.failed("; ".join(problems), "the seed's result shape")
    entries = [e for e in result.get("check_results") or [] if isinstance(e, Mapping)]
    notes = _deviation_notes(entries)
    return CheckOutcome.passed(f"session {result['status']} with {len(entries)} check result(s) in the "
                               f"seed's vocabulary" + (f" ({'; '.join(notes)})" if notes else ""))


def _deviation_notes(entries: list[Mapping[str, Any]]) -> list[str]:
    extensions = sorted({str(e.get("check")) for e in entries} - set(REASON_CODES))
    notes = [f"extension checks beyond the seed's table: {', '.join(extensions)}"] if extensions else []
    if any(e.get("status") == SKIPPED_STATUS for e in entries):
        notes.append("skipped checks reported with status 'skipped' (the seed: status fail, reason skipped)")
    return notes

"""The verification checks, in the order they run, and the two ways to run them.

| # | check              | success reason            | fail reasons                                    | origin |
|---|--------------------|---------------------------|-------------------------------------------------|--------|
| 1 | oid4vp_compliance  | oid4vp_request_valid      | oid4vp_non_compliant, presentation_invalid       | seed   |
| 2 | credential_format  | credential_format_valid   | credential_format_invalid                        | seed   |
| 3 | signature          | signature_verified        | signature_verification_failed,                   | seed   |
|   |                    |                           | signature_payload_mismatch,                      |        |
|   |                    |                           | issuer_key_not_resolvable                        |        |
| 4 | disclosures        | disclosures_valid         | the RFC 9901 §7.1 reasons (disclosure_not_...)   | added  |
| 5 | validity_period    | validity_period_valid     | credential_expired, credential_not_yet_valid,    | added  |
|   |                    |                           | time_claim_invalid                               |        |
| 6 | key_binding        | key_binding_verified,     | kb_jwt_missing, kb_signature_invalid,            | added  |
|   |                    | key_binding_not_required  | kb_aud_mismatch, kb_nonce_mismatch, ... (§7.3)   |        |
| 7 | status             | status_valid,             | credential_revoked, credential_suspended,        | added  |
|   |                    | status_not_referenced     | credential_status_unrecognized,                  |        |
|   |                    |                           | status_list_unavailable                          |        |
| 8 | dcql               | dcql_satisfied            | dcql_not_satisfied                               | added  |
| 9 | issuer_trust       | not_implemented           | -                                                | seed   |
|10 | schema_governance  | not_implemented           | -                                                | seed   |
|11 | schema_version     | not_implemented           | -                                                | seed   |
|12 | issuer_governance  | not_implemented           | -                                                | seed   |

Any check may also report `skipped`: in `fail_fast` every check after the first failure, in
`run_all` a check whose input an earlier failed check could not provide (e.g. key_binding after
the signature failed). CHECKS.md documents each reason and its clause. A new check is one
`Check` in `CHECKS`.

With several Presentations a check fails when one of them fails it; the message names it
(`vp_token.<query id>[<n>]: ...`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import Oid4vpError
from conformance.protocol.oid4vp import Presentation, check_vp_token_shape
from reference.verifier.evaluation import (
    Environment,
    Failure,
    NotRequired,
    PresentationEvaluation,
    query_satisfied,
    required_queries_answered,
)

SUCCESS, FAIL, SKIPPED = "success", "fail", "skipped"
MODES = ("fail_fast", "run_all")


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str
    reason_code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"check": self.check, "status": self.status, "reason_code": self.reason_code,
                "message": self.message}


@dataclass
class Response:
    """What the checks look at: the request's environment, the vp_token (or why it could not be
    read) and one evaluation per Presentation, built once the response is known compliant."""

    env: Environment
    vp_token: dict[str, tuple[Presentation, ...]] | None
    unreadable: Oid4vpError | None = None
    presentations: list[PresentationEvaluation] | None = None


Evaluate = Callable[[Response], Awaitable[CheckResult]]


@dataclass(frozen=True)
class Check:
    name: str
    success: str
    evaluate: Evaluate
    seed: bool
    clause: str


def _order(name: str) -> int:
    return next(i for i, check in enumerate(CHECKS) if check.name == name)


def _verdict(check: str, outcome: Any, success: str, message: str) -> CheckResult:
    """Turn a stage's outcome into this check's result: its own failure fails it; a failure of an
    earlier check means it could not run (skipped); a failure of a later check means everything
    this check looks at passed before the stage stopped."""
    if not isinstance(outcome, Failure):
        return CheckResult(check, SUCCESS, success, message)
    if outcome.check == check:
        return CheckResult(check, FAIL, outcome.reason, outcome.message)
    if _order(outcome.check) < _order(check):
        return CheckResult(check, SKIPPED, "skipped", f"not evaluated: {outcome.check} failed")
    return CheckResult(check, SUCCESS, success, f"{message} (later stages stopped at {outcome.check})")


async def _per_presentation(response: Response, check: str,
                            judge: Callable[[PresentationEvaluation], Awaitable[CheckResult]]) -> CheckResult:
    if response.presentations is None:
        return CheckResult(check, SKIPPED, "skipped", "not evaluated: oid4vp_compliance failed")
    results = []
    for presentation in response.presentations:
        result = await judge(presentation)
        if result.status == FAIL:
            return CheckResult(check, FAIL, result.reason_code, f"{presentation.where}: {result.message}")
        results.append((presentation, result))
    for presentation, result in results:
        if result.status == SKIPPED:
            return CheckResult(check, SKIPPED, "skipped", f"{presentation.where}: {result.message}")
    notes = [r.message for _, r in results]
    message = notes[0] if len(set(notes)) == 1 else "; ".join(f"{p.where}: {r.message}" for p, r in results)
    return CheckResult(check, SUCCESS, results[0][1].reason_code, message)


# --- 1 oid4vp_compliance --------------------------------------------------------------------

async def oid4vp_compliance(response: Response) -> CheckResult:
    """OID4VP 1.0 §8.1 / §8.6 step 1: vp_token is an object keyed by credential query ids, one
    Presentation per query unless `multiple`; for dc+sd-jwt each Presentation is a string (B.3)."""
    name = "oid4vp_compliance"
    if response.unreadable is not None or response.vp_token is None:
        error = response.unreadable
        return CheckResult(name, FAIL, "oid4vp_non_compliant", error.message if error else "no vp_token")
    try:
        check_vp_token_shape(response.vp_token, response.env.query)
    except Oid4vpError as exc:
        return CheckResult(name, FAIL, "oid4vp_non_compliant", exc.message)
    for query_id, presentations in response.vp_token.items():
        for index, presentation in enumerate(presentations):
            if not isinstance(presentation, str):
                return CheckResult(name, FAIL, "presentation_invalid", f"vp_token.{query_id}[{index}] is a JSON "
                                   "object; a dc+sd-jwt Presentation is a compact SD-JWT string (OID4VP 1.0 B.3)")
    response.presentations = [PresentationEvaluation(response.env, query_id, index, presentation)
                              for query_id, presentations in response.vp_token.items()
                              for index, presentation in enumerate(presentations)]
    return CheckResult(name, SUCCESS, "oid4vp_request_valid", "OID4VP request and response are spec-compliant")


# --- 2..7 per Presentation --------------------------------------------------------------------

async def credential_format(response: Response) -> CheckResult:
    name, ok = "credential_format", "credential_format_valid"

    async def judge(p: PresentationEvaluation) -> CheckResult:
        parsed = await p.parsed()
        if isinstance(parsed, Failure):
            return _verdict(name, parsed, ok, "")
        return _verdict(name, await p.base(), ok, "Credential format is valid SD-JWT VC")
    return await _per_presentation(response, name, judge)


_KEY_SOURCES = {"did": "the resolved DID Document", "x5c": "the x5c certificate chain (trust anchor validated)",
                "jwt-vc-issuer": "the issuer's JWT VC Issuer Metadata"}


async def signature(response: Response) -> CheckResult:
    name = "signature"

    async def judge(p: PresentationEvaluation) -> CheckResult:
        key = await p.signature()
        source = "" if isinstance(key, Failure) else _KEY_SOURCES[key.source]
        return _verdict(name, key, "signature_verified", f"Issuer signature verified against {source}")
    return await _per_presentation(response, name, judge)


async def disclosures(response: Response) -> CheckResult:
    async def judge(p: PresentationEvaluation) -> CheckResult:
        return _verdict("disclosures", await p.unpacked(), "disclosures_valid",
                        "Every Disclosure is referenced by a digest of the Issuer-signed JWT (RFC 9901 §7.1)")
    return await _per_presentation(response, "disclosures", judge)


async def validity_period(response: Response) -> CheckResult:
    async def judge(p: PresentationEvaluation) -> CheckResult:
        return _verdict("validity_period", await p.base(), "validity_period_valid",
                        "The credential is within its validity period (exp / nbf)")
    return await _per_presentation(response, "validity_period", judge)


async def key_binding(response: Response) -> CheckResult:
    name = "key_binding"

    async def judge(p: PresentationEvaluation) -> CheckResult:
        bound = await p.bound()
        if isinstance(bound, NotRequired):
            return CheckResult(name, SUCCESS, "key_binding_not_required", "the credential query sets "
                               "require_cryptographic_holder_binding: false and no KB-JWT was sent")
        return _verdict(name, bound, "key_binding_verified", "KB-JWT verified against cnf: aud is the client_id, "
                        "nonce is this session's, iat is recent, sd_hash matches")
    return await _per_presentation(response, name, judge)


async def status(response: Response) -> CheckResult:
    name = "status"

    async def judge(p: PresentationEvaluation) -> CheckResult:
        verdict = await p.status()
        if isinstance(verdict, Failure):
            return _verdict(name, verdict, "status_valid", "")
        return CheckResult(name, SUCCESS if verdict.ok else FAIL, verdict.reason, verdict.message)
    return await _per_presentation(response, name, judge)


# --- 8 dcql -----------------------------------------------------------------------------------

async def dcql(response: Response) -> CheckResult:
    """OID4VP 1.0 §6.4, §8.6 step 2.2 and 3, §14.8: each Presentation satisfies the credential query
    it answers (format, vct, claims and values, trusted_authorities, holder binding), and the
    answered queries satisfy the request (every query, or every required credential set)."""
    name = "dcql"
    if response.presentations is None:
        return CheckResult(name, SKIPPED, "skipped", "not evaluated: oid4vp_compliance failed")
    query = response.env.query
    unsatisfied: dict[str, str] = {}
    for p in response.presentations:
        credential = await p.wallet_credential()
        if isinstance(credential, Failure):
            return _verdict(name, credential, "dcql_satisfied", "")
        if not query_satisfied(p.credential_query, credential):
            unsatisfied.setdefault(p.query_id, f"{p.where} does not match credential query {p.query_id!r} "
                                   "(format, vct, claims / values, trusted_authorities or holder binding)")
    if unsatisfied:
        return CheckResult(name, FAIL, "dcql_not_satisfied", "; ".join(unsatisfied.values()))
    missing = required_queries_answered(query, set(response.vp_token or {}) - set(unsatisfied))
    if missing:
        return CheckResult(name, FAIL, "dcql_not_satisfied", f"no Presentation answers {', '.join(missing)}")
    return CheckResult(name, SUCCESS, "dcql_satisfied", "The presented credentials satisfy the DCQL query")


# --- 9..12 not implemented ----------------------------------------------------------------------

def _not_implemented(name: str, what: str) -> Evaluate:
    async def evaluate(response: Response) -> CheckResult:
        return CheckResult(name, SUCCESS, "not_implemented", f"{what} not yet wired into the verification pipeline")
    return evaluate


CHECKS: Sequence[Check] = (
    Check("oid4vp_compliance", "oid4vp_request_valid", oid4vp_compliance, True, "OID4VP 1.0 §8.1, §8.6"),
    Check("credential_format", "credential_format_valid", credential_format, True,
          "RFC 9901 §4; SD-JWT VC §3.2; OID4VP 1.0 B.3"),
    Check("signature", "signature_verified", signature, True, "RFC 9901 §7.1 step 2; SD-JWT VC §3.5"),
    Check("disclosures", "disclosures_valid", disclosures, False, "RFC 9901 §7.1 steps 3-5"),
    Check("validity_period", "validity_period_valid", validity_period, False, "RFC 9901 §7.1 step 6; RFC 7519"),
    Check("key_binding", "key_binding_verified", key_binding, False, "RFC 9901 §7.3; OID4VP 1.0 B.3, §14.1"),
    Check("status", "status_valid", status, False, "draft-ietf-oauth-status-list §8.3"),
    Check("dcql", "dcql_satisfied", dcql, False, "OID4VP 1.0 §6.4, §8.6"),
    Check("issuer_trust", "not_implemented", _not_implemented("issuer_trust", "Trust Registry check"), True, "seed"),
    Check("schema_governance", "not_implemented",
          _not_implemented("schema_governance", "Schema-side governance check"), True, "seed"),
    Check("schema_version", "not_implemented",
          _not_implemented("schema_version", "Schema-version policy check"), True, "seed"),
    Check("issuer_governance", "not_implemented",
          _not_implemented("issuer_governance", "Issuer-side governance check"), True, "seed"),
)
if len({c.name for c in CHECKS}) != len(CHECKS):  # pragma: no cover - guards a copy-paste slip
    raise ValueError("duplicate check name in CHECKS")


async def run_checks(response: Response, mode: str) -> list[CheckResult]:
    """fail_fast: stop at the first failure, the rest `skipped`; run_all: evaluate every check."""
    results: list[CheckResult] = []
    failed = False
    for check in CHECKS:
        if failed and mode == "fail_fast":
            results.append(CheckResult(check.name, SKIPPED, "skipped", "skipped by fail_fast after an earlier failure"))
            continue
        result = await check.evaluate(response)
        results.append(result)
        failed = failed or result.status == FAIL
    return results

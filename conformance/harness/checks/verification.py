"""Checks on a verifier under test, seen from the harness wallet and the result API: did it serve
its Request Object as OID4VP 1.0 §5.10 asks, did it accept what is valid and reject what is not
(the automatic verdict standing in for the public conformance programme's screenshot review), and
do its two verification modes behave as the verifier seed describes.

Artefacts read: `verifier_result` (verifier.result / verifier.wait_result), and from wallet.present
`request_object`, `request_uri_method`, `wallet_nonce`, `request_content_type`, `presentation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.registry import CheckContext, CheckOutcome, MissingArtefact, check

JAR_MEDIA_TYPE = "application/oauth-authz-req+jwt"
# RFC 7638 §3.2: the members a public JWK of each key type requires; anything else is optional.
REQUIRED_JWK_MEMBERS = {"EC": frozenset({"kty", "crv", "x", "y"}), "OKP": frozenset({"kty", "crv", "x"}),
                        "RSA": frozenset({"kty", "n", "e"})}


def _result(ctx: CheckContext) -> Mapping[str, Any]:
    result = ctx.artefact("verifier_result")
    if not isinstance(result, Mapping):
        raise ev.EvidenceError("verifier_result_unreadable", f"verifier_result is a {type(result).__name__}, "
                               "not the result API's JSON object")
    return result


def _entries(result: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    entries = result.get("check_results")
    return [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []


def _failures(entries: list[Mapping[str, Any]]) -> list[int]:
    return [i for i, e in enumerate(entries) if e.get("status") == "fail"]


def _label(entry: Mapping[str, Any]) -> str:
    return f"{entry.get('check')}/{entry.get('reason_code')}"


# --- the Request Object ---------------------------------------------------------------------------

@check("verification.request_uri_post", spec="OID4VP 1.0 §5.10, §5.10.1",
       needs=("request_object", "request_uri_method"),
       description="Fetched with request_uri_method=post, the verifier answered the form POST with its Request "
                   "Object as application/oauth-authz-req+jwt, and the Request Object carries, as wallet_nonce, "
                   "exactly the wallet_nonce the wallet posted.")
async def request_uri_post(ctx: CheckContext) -> CheckOutcome:
    method = ctx.artefact("request_uri_method")
    if method != "post":
        return CheckOutcome.failed(f"request_uri fetched with {method!r}", "a POST", "the wallet follows the "
                                   "Authorization Request: did it offer request_uri_method=post?")
    content_type = str(ctx.artefact("request_content_type")) if ctx.has("request_content_type") else ""
    if not content_type.split(";")[0].strip().lower() == JAR_MEDIA_TYPE:
        return CheckOutcome.failed(f"Content-Type {content_type or None!r}", JAR_MEDIA_TYPE, "Request URI Response")
    posted = ctx.artefact("wallet_nonce")
    served = ev.request_claims(ctx.artefact("request_object")).get("wallet_nonce")
    if served != posted:
        return CheckOutcome.failed(f"Request Object wallet_nonce {served!r}", f"the posted {posted!r}")
    return CheckOutcome.passed("the Request Object answered to the POST repeats the posted wallet_nonce")


# --- the credential's holder key --------------------------------------------------------------------

@check("verification.cnf_jwk_minimal", spec="SD-JWT VC §3.2.2.2; RFC 7800 §3.2; RFC 7638 §3.2",
       description="The presented (else the received) credential's cnf.jwk holds only the members its key type "
                   "requires (EC: kty, crv, x, y; OKP: kty, crv, x): no kid, alg, use, key_ops or x5c for the "
                   "verifier to lean on.")
async def cnf_jwk_minimal(ctx: CheckContext) -> CheckOutcome:
    name = "presentation" if ctx.has("presentation") else "credential"
    if not ctx.has(name):
        raise MissingArtefact(f"needs artefact 'presentation' or 'credential', which {ctx.step.label} did not "
                              "produce")
    cnf = ev.credential(ctx, name).issuer_jws.payload.get("cnf")
    jwk = cnf.get("jwk") if isinstance(cnf, Mapping) else None
    if not isinstance(jwk, Mapping):
        return CheckOutcome.failed(f"cnf {cnf!r}", "cnf.jwk, a JSON object")
    required = REQUIRED_JWK_MEMBERS.get(jwk.get("kty"))  # type: ignore[arg-type]
    if required is None:
        return CheckOutcome.failed(f"kty {jwk.get('kty')!r}", f"one of {', '.join(REQUIRED_JWK_MEMBERS)}")
    if set(jwk) != required:
        extra, missing = sorted(set(jwk) - required), sorted(required - set(jwk))
        return CheckOutcome.failed(f"cnf.jwk members {sorted(jwk)}", f"exactly {sorted(required)}",
                                   f"extra {extra}, missing {missing}")
    return CheckOutcome.passed(f"cnf.jwk ({jwk['kty']}) has only {', '.join(sorted(required))}")


# --- the verdict ---------------------------------------------------------------------------------

@check("verification.presentation_accepted", spec="TCS verifier seed: Status values (completed); OID4VP 1.0 §8.6",
       needs=("verifier_result",),
       description="The session completed: every check_results entry is success and presentation_metadata "
                   "carries the disclosed claims and one credential_metadata entry per presentation.")
async def presentation_accepted(ctx: CheckContext) -> CheckOutcome:
    result = _result(ctx)
    entries = _entries(result)
    if result.get("status") != "completed":
        failing = [_label(entries[i]) for i in _failures(entries)]
        return CheckOutcome.failed(f"status {result.get('status')!r}" + (f" ({', '.join(failing)})" if failing
                                                                         else ""), "completed")
    not_success = [_label(e) for e in entries if e.get("status") != "success"]
    if not entries or not_success:
        return CheckOutcome.failed(not_success or "no check_results", "every check success")
    metadata = result.get("presentation_metadata")
    claims = metadata.get("claims") if isinstance(metadata, Mapping) else None
    credentials = metadata.get("credential_metadata") if isinstance(metadata, Mapping) else None
    if not isinstance(claims, Mapping) or not isinstance(credentials, list) or not credentials:
        return CheckOutcome.failed(f"presentation_metadata {metadata!r}",
                                   "{claims: {...}, credential_metadata: [...]} with one entry per credential")
    return CheckOutcome.passed(f"completed: {len(entries)} checks success, {len(claims)} claim(s) released")


@check("verification.presentation_rejected", spec="TCS verifier seed: Status values (failed); OID4VP 1.0 §8.6, "
       "§14.1.2", needs=("verifier_result",),
       description="The session failed: at least one check_results entry is fail (the one to show the user), "
                   "and no presentation_metadata releases claims of the rejected presentation.")
async def presentation_rejected(ctx: CheckContext) -> CheckOutcome:
    result = _result(ctx)
    entries = _entries(result)
    failures = _failures(entries)
    if result.get("status") != "failed":
        return CheckOutcome.failed(f"status {result.get('status')!r}", "failed")
    if not failures:
        return CheckOutcome.failed("no check_results entry with status fail", "the failing check named")
    if result.get("presentation_metadata") is not None:
        return CheckOutcome.failed("presentation_metadata present", "no claims released from a failed session")
    return CheckOutcome.passed(f"failed on {', '.join(_label(entries[i]) for i in failures)}")


# --- the two verification modes (seed: fail_fast / run_all) --------------------------------------

@check("verification.fail_fast_stops", spec="TCS verifier seed: fail_fast / run_all", needs=("verifier_result",),
       description="A fail_fast result has exactly one failing check and nothing after it but skipped entries "
                   "(or nothing at all: the seed's example stops at the failure).")
async def fail_fast_stops(ctx: CheckContext) -> CheckOutcome:
    result = _result(ctx)
    if result.get("verification_mode") != "fail_fast":
        return CheckOutcome.failed(f"verification_mode {result.get('verification_mode')!r}", "fail_fast")
    entries = _entries(result)
    failures = _failures(entries)
    if len(failures) != 1:
        return CheckOutcome.failed(f"{len(failures)} failing entries", "exactly one (the first failure)")
    later = entries[failures[0] + 1:]
    evaluated = [_label(e) for e in later if e.get("status") != "skipped" and e.get("reason_code") != "skipped"]
    if evaluated:
        return CheckOutcome.failed(f"evaluated after the failure: {evaluated}", "nothing but skipped entries")
    return CheckOutcome.passed(f"stopped at {_label(entries[failures[0]])}; {len(later)} later check(s) skipped")


@check("verification.run_all_continues", spec="TCS verifier seed: fail_fast / run_all", needs=("verifier_result",),
       description="A run_all result with a failure goes on evaluating: some check after the first failure is "
                   "reported as success or fail, not skipped.")
async def run_all_continues(ctx: CheckContext) -> CheckOutcome:
    result = _result(ctx)
    if result.get("verification_mode") != "run_all":
        return CheckOutcome.failed(f"verification_mode {result.get('verification_mode')!r}", "run_all")
    entries = _entries(result)
    failures = _failures(entries)
    if not failures:
        return CheckOutcome.failed("no failing entry", "a failed run_all result (nothing to continue after)")
    later = entries[failures[0] + 1:]
    evaluated = [e for e in later if e.get("status") in ("success", "fail")]
    if not evaluated:
        return CheckOutcome.failed(f"{len(later)} later entries, none evaluated",
                                   "every applicable check reported after the first failure")
    return CheckOutcome.passed(f"after {_label(entries[failures[0]])}: {len(evaluated)} of {len(later)} later "
                               "check(s) evaluated")

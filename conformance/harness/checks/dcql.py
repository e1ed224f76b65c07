"""Checks tying a presentation to the DCQL query it answers (OID4VP 1.0 §6, §7)."""

from __future__ import annotations

from collections.abc import Iterable

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.protocol.dcql import CredentialQuery, parse_query
from conformance.protocol.sdjwt import unpack

Path = tuple[str | int, ...]
Pointer = tuple[str | int | None, ...]


def _component_matches(pointer: str | int | None, concrete: str | int) -> bool:
    # An integer index is compared leniently: a verifier sees arrays without their undisclosed
    # elements (RFC 9901 §7.1), so indices shift between the holder's and the verifier's view.
    if pointer is None or isinstance(pointer, int):
        return isinstance(concrete, int)
    return pointer == concrete


def _allowed(path: Path, pointers: Iterable[Pointer]) -> bool:
    """Inside a requested claim, or a parent that must be disclosed to reach one (RFC 9901 §4.2.6)."""
    for pointer in pointers:
        n = min(len(path), len(pointer))
        if all(_component_matches(p, c) for p, c in zip(pointer[:n], path[:n])):
            return True
    return False


def _candidates(queries: tuple[CredentialQuery, ...], vct: object) -> list[CredentialQuery]:
    sd_jwt = [q for q in queries if q.format in ("dc+sd-jwt", "vc+sd-jwt")]
    by_vct = [q for q in sd_jwt if vct in (q.meta.get("vct_values") or ())]
    return by_vct or sd_jwt


@check("dcql.disclosed_only_requested", spec="OID4VP 1.0 §6.4.1, §7; RFC 9901 §7.2",
       needs=("presentation", "request_object"),
       description="Every claim the presentation discloses was requested by the DCQL query (or is a parent "
                   "needed to reach a requested claim): no over-disclosure.")
async def disclosed_only_requested(ctx: CheckContext) -> CheckOutcome:
    claims = ev.request_claims(ctx.artefact("request_object"))
    query = parse_query(claims.get("dcql_query"))
    sd_jwt = ev.credential(ctx, "presentation")
    revealed = sorted(unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures).revealed, key=str)
    candidates = _candidates(query.credentials, sd_jwt.issuer_jws.payload.get("vct"))
    if not candidates:
        return CheckOutcome.skipped("the DCQL query has no SD-JWT VC credential query")
    if any(q.claims is None for q in candidates):
        return CheckOutcome.skipped("the matching credential query omits `claims`: the wallet may choose "
                                    "what to disclose (OID4VP 1.0 §6.1)")
    pointers = [c.path.components for q in candidates for c in q.claims or ()]
    extra = [p for p in revealed if not _allowed(p, pointers)]
    if extra:
        return CheckOutcome.failed(f"disclosed {['.'.join(map(str, p)) for p in extra]}",
                                   f"only {[list(p) for p in pointers]}", "over-disclosure")
    return CheckOutcome.passed(f"{len(revealed)} disclosed claim(s), all requested")

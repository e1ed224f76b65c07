"""Checks on an issued SD-JWT VC (RFC 9901; SD-JWT VC = draft-ietf-oauth-sd-jwt-vc)."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.protocol.sdjwt import VC_TYP, holder_public_key, unpack
from conformance.protocol.sdjwt.issuance import VC_NON_DISCLOSABLE
from conformance.protocol.status_list import STATUS_NAMES


@check("sdjwt.issuer_signature", spec="RFC 9901 §7.1 step 2; SD-JWT VC §3.5",
       description="The Issuer-signed JWT verifies with the Issuer's key, found through the kid DID URL "
                   "(resolved via the ledger for did:iota), the x5c chain (consistent, valid now, naming "
                   "the iss) or the iss's JWT VC Issuer Metadata; a kid DID must be the iss.")
async def issuer_signature(ctx: CheckContext) -> CheckOutcome:
    jws = ev.issuer_jws(ctx)
    key, found = await ev.issuer_key(ctx, jws)   # a kid of another DID than iss: signature_payload_mismatch
    jws.verify_with(key)
    return CheckOutcome.passed(f"{jws.header.get('alg')} signature verifies with the {found}")


@check("sdjwt.disclosure_digests", spec="RFC 9901 §4.2.3, §7.1 steps 3-5", needs=("credential",),
       description="Every Disclosure of the issued credential is well formed, sent once and referenced by "
                   "exactly one digest reachable from the Issuer-signed JWT; no digest repeats.")
async def disclosure_digests(ctx: CheckContext) -> CheckOutcome:
    sd_jwt = ev.credential(ctx)
    if not sd_jwt.disclosures:
        return CheckOutcome.skipped("the credential has no Disclosures: no digest to check")
    unpacked = unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures)
    return CheckOutcome.passed(f"{len(sd_jwt.disclosures)} Disclosures, each matched by one digest "
                               f"({len(unpacked.revealed)} claims revealed)")


@check("sdjwt.vc_claims", spec="SD-JWT VC §3.2.1, §3.2.2.1, §3.2.2.2; RFC 9901 §4.1.2",
       description="The SD-JWT VC has typ dc+sd-jwt and, in the clear, a string vct, an iss, a numeric iat "
                   "and a cnf.jwk holder key (the wallet's key when the harness wallet received it); "
                   "none of iss, nbf, exp, cnf, vct, status is selectively disclosable.")
async def vc_claims(ctx: CheckContext) -> CheckOutcome:
    jws = ev.issuer_jws(ctx)
    payload = jws.payload
    problems = []
    if jws.header.get("typ") != VC_TYP:
        problems.append(f"typ {jws.header.get('typ')!r}")
    if type(payload.get("vct")) is not str:
        problems.append("no string vct")
    if not isinstance(payload.get("iss"), str) and "x5c" not in jws.header:
        problems.append("no iss")
    if type(payload.get("iat")) not in (int, float):
        problems.append(f"iat {payload.get('iat')!r}")
    problems += _cnf_problems(ctx, payload)
    if ctx.has("credential"):
        sd_jwt = ev.credential(ctx)
        hidden = sorted({d.name for d in sd_jwt.disclosures if d.name in VC_NON_DISCLOSABLE})
        problems += [f"{name} in a Disclosure" for name in hidden]
    expected = f"typ {VC_TYP}; vct, iss, iat, cnf.jwk in the clear"
    if problems:
        return CheckOutcome.failed("; ".join(problems), expected)
    return CheckOutcome.passed(f"vct {payload['vct']!r}, iss, iat and cnf.jwk present; typ {VC_TYP}")


def _cnf_problems(ctx: CheckContext, payload: Mapping) -> list[str]:
    try:
        key = holder_public_key(payload)
    except Exception as exc:  # noqa: BLE001 - SdJwtError with the reason; reported as a finding
        return [getattr(exc, "message", str(exc))]
    if ctx.has("holder_key") and ctx.artefact("holder_key").thumbprint() != key.thumbprint():
        return ["cnf.jwk is not the key the wallet proved possession of"]
    return []


@check("sdjwt.status_claim", spec="Token Status List §6.2, §8.3",
       description="The credential carries status.status_list {idx, uri}; the uri serves a Status List Token, "
                   "verified with its own key or else the credential's (§8.3 step 3), whose list contains idx.")
async def status_claim(ctx: CheckContext) -> CheckOutcome:
    value, uri, idx = await ev.current_status(ctx)
    return CheckOutcome.passed(f"index {idx} of {uri}: {STATUS_NAMES.get(value, value)}")


async def _status_is(ctx: CheckContext, wanted: int) -> CheckOutcome:
    value, uri, idx = await ev.current_status(ctx)
    name = STATUS_NAMES.get(value, str(value))
    if value != wanted:
        return CheckOutcome.failed(name, STATUS_NAMES[wanted], f"status of index {idx} in {uri}")
    return CheckOutcome.passed(f"index {idx} of {uri} is {name}")


@check("status.valid", spec="Token Status List §7.1",
       description="The credential's entry in its Status List Token is VALID (0x00).")
async def status_valid(ctx: CheckContext) -> CheckOutcome:
    return await _status_is(ctx, 0)


@check("status.revoked", spec="Token Status List §7.1",
       description="The credential's entry in its Status List Token is INVALID (0x01): revoked.")
async def status_revoked(ctx: CheckContext) -> CheckOutcome:
    return await _status_is(ctx, 1)

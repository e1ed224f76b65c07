"""Checks on the Key Binding JWT of a presentation (RFC 9901 §4.3, §7.3; OID4VP 1.0 §14.1.2)."""

from __future__ import annotations

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import Jws
from conformance.protocol.sdjwt import KB_TYP, SdJwt, holder_public_key
from conformance.protocol.sdjwt.disclosure import sha256_b64u


def _kb(ctx: CheckContext) -> tuple[SdJwt, Jws]:
    sd_jwt = ev.credential(ctx, "presentation")
    if sd_jwt.kb_jws is None:
        raise SdJwtError("kb_jwt_missing", "the presentation ends in '~': it carries no KB-JWT "
                         "(RFC 9901 §4.3)", "kb_jwt")
    return sd_jwt, sd_jwt.kb_jws


@check("kb.present", spec="RFC 9901 §4.3, §7.3 steps 5.1-5.4", needs=("presentation",),
       description="The presentation ends with a KB-JWT of typ kb+jwt signed by the key in the "
                   "credential's cnf.jwk.")
async def present(ctx: CheckContext) -> CheckOutcome:
    sd_jwt, kb = _kb(ctx)
    if kb.header.get("typ") != KB_TYP:
        return CheckOutcome.failed(f"typ {kb.header.get('typ')!r}", f"typ {KB_TYP}", "KB-JWT header")
    kb.verify_with(holder_public_key(sd_jwt.issuer_jws.payload))
    return CheckOutcome.passed(f"KB-JWT ({kb.header.get('alg')}) verifies with cnf.jwk")


@check("kb.nonce", spec="RFC 9901 §7.3 step 5.6; OID4VP 1.0 §14.1.2", needs=("presentation", "request_object"),
       description="The KB-JWT nonce is the nonce of the verifier's Request Object.")
async def nonce(ctx: CheckContext) -> CheckOutcome:
    _, kb = _kb(ctx)
    expected = ev.request_claims(ctx.artefact("request_object")).get("nonce")
    if not isinstance(expected, str):
        return CheckOutcome.skipped("the Request Object has no nonce to compare with")
    got = kb.payload.get("nonce")
    if got != expected:
        return CheckOutcome.failed(f"nonce {got!r}", f"the request's nonce {expected!r}")
    return CheckOutcome.passed("KB-JWT nonce equals the Request Object's nonce")


@check("kb.aud", spec="RFC 9901 §7.3 step 5.6; OID4VP 1.0 §14.1.2, §14.7", needs=("presentation", "request_object"),
       description="The KB-JWT aud is the verifier's full Client Identifier (prefix included) from the "
                   "Request Object.")
async def aud(ctx: CheckContext) -> CheckOutcome:
    _, kb = _kb(ctx)
    expected = ev.request_claims(ctx.artefact("request_object")).get("client_id")
    if not isinstance(expected, str):
        return CheckOutcome.skipped("the Request Object has no client_id to compare with")
    got = kb.payload.get("aud")
    if got != expected:
        return CheckOutcome.failed(f"aud {got!r}", f"the Client Identifier {expected!r}")
    return CheckOutcome.passed(f"KB-JWT aud is {expected}")


@check("kb.sd_hash", spec="RFC 9901 §4.3.1, §7.3 step 5.7", needs=("presentation",),
       description="The KB-JWT sd_hash is the base64url SHA-256 of the presented SD-JWT (issuer JWT and "
                   "Disclosures, up to the last '~').")
async def sd_hash(ctx: CheckContext) -> CheckOutcome:
    sd_jwt, kb = _kb(ctx)
    expected = sha256_b64u(sd_jwt.sd_jwt_part)
    got = kb.payload.get("sd_hash")
    if got != expected:
        return CheckOutcome.failed(f"sd_hash {got!r}", f"{expected!r}")
    return CheckOutcome.passed(f"sd_hash covers the {len(sd_jwt.disclosures)} presented Disclosures")

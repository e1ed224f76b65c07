"""Checks on the on-chain anchor of a notarized credential (TCS issuer seed, "On-chain notarization")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.protocol.did import parse_did
from conformance.protocol.jose import parse_jws

SEED = "TCS issuer seed, On-chain notarization"


def _anchored_data(ctx: CheckContext) -> Any:
    obj = ctx.artefact("ledger_object")
    state = obj.get("state") if isinstance(obj, Mapping) else None
    return state.get("data") if isinstance(state, Mapping) else None


@check("notarization.anchor_matches_jwt", spec=f"{SEED}: the object's state stores the issuer-signed JWT",
       needs=("ledger_object",),
       description="The ledger object's state.data is exactly the credential's Issuer-signed JWT "
                   "(header.payload.signature, without Disclosures).")
async def anchor_matches_jwt(ctx: CheckContext) -> CheckOutcome:
    data = _anchored_data(ctx)
    jwt = ev.issuer_jws(ctx).token
    if data != jwt:
        return CheckOutcome.failed(f"state.data = {data!r}", f"the issuer JWT {jwt!r}")
    return CheckOutcome.passed(f"ledger object {ctx.artefact('ledger_object').get('object_id')} anchors "
                               "the issuer JWT byte for byte")


@check("notarization.anchor_signature", spec=f"{SEED}: How to verify the on-chain record", needs=("ledger_object",),
       description="The JWT anchored in the ledger object verifies against the verification method of its "
                   "issuer's did:iota DID Document, resolved through the ledger.")
async def anchor_signature(ctx: CheckContext) -> CheckOutcome:
    data = _anchored_data(ctx)
    if not isinstance(data, str):
        return CheckOutcome.failed(f"state.data = {data!r}", "a compact JWS string")
    jws = parse_jws(data, "state.data")
    did = ev.did_of_kid(jws)
    if did is None or parse_did(did).method != "iota":
        return CheckOutcome.failed(f"kid {jws.header.get('kid')!r}", "a did:iota DID URL",
                                   "on-chain notarization runs only on the did:iota signing path")
    key, found = await ev.issuer_key(ctx, jws, "state.data")
    jws.verify_with(key)
    return CheckOutcome.passed(f"anchored JWT verifies with the {found}")

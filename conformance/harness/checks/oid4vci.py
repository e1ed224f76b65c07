"""Checks on OID4VCI 1.0 issuer artefacts: the Credential Offer and the Issuer Metadata."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.harness.checks.registry import CheckContext, CheckOutcome, check
from conformance.protocol.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    parse_credential_offer,
    parse_issuer_metadata,
    parse_offer_link,
    well_known_url,
)

WELL_KNOWN = "openid-credential-issuer"


@check("oid4vci.offer_shape", spec="OID4VCI 1.0 §4.1, §4.1.1", needs=("offer",),
       description="The Credential Offer is valid (https credential_issuer, non-empty "
                   "credential_configuration_ids, a pre-authorized_code grant) and, when the step answered "
                   "with a deep_link, it points at the answered credential_offer_uri.")
async def offer_shape(ctx: CheckContext) -> CheckOutcome:
    offer = parse_credential_offer(ctx.artefact("offer"))
    if offer.pre_authorized is None:
        return CheckOutcome.failed("grants without a pre-authorized_code", f"a {PRE_AUTHORIZED_GRANT} grant",
                                   "the seeds' issuer supports only the pre-authorized flow")
    body = ctx.result.body if isinstance(ctx.result.body, Mapping) else {}
    link, uri = body.get("deep_link"), body.get("credential_offer_uri")
    if isinstance(link, str) and isinstance(uri, str):
        target = parse_offer_link(link).offer_uri
        if target != uri:
            return CheckOutcome.failed(f"deep_link -> {target!r}", f"credential_offer_uri {uri!r}")
    tx = " with tx_code" if offer.pre_authorized.tx_code else ""
    return CheckOutcome.passed(f"offer for {', '.join(offer.credential_configuration_ids)} from "
                               f"{offer.credential_issuer}, pre-authorized{tx}")


@check("oid4vci.issuer_metadata", spec="OID4VCI 1.0 §12.2.2, §12.2.4", needs=("issuer_metadata",),
       description="The Credential Issuer Metadata is valid, names the offer's credential_issuer, lists every "
                   "offered credential configuration and is served at the well-known URL of that issuer.")
async def issuer_metadata(ctx: CheckContext) -> CheckOutcome:
    raw = ctx.artefact("issuer_metadata")
    offer = parse_credential_offer(ctx.artefact("offer")) if ctx.has("offer") else None
    expected = offer.credential_issuer if offer else raw.get("credential_issuer") if isinstance(raw, Mapping) else None
    metadata = parse_issuer_metadata(raw, expected_issuer=expected)
    missing = [cid for cid in (offer.credential_configuration_ids if offer else ()) if cid not in metadata.configurations]
    if missing:
        return CheckOutcome.failed(f"configurations {sorted(metadata.configurations)}",
                                   f"to include the offered {missing}")
    fetched = [e.url for e in ctx.result.exchanges or [] if f"/.well-known/{WELL_KNOWN}" in str(e.url)]
    url = well_known_url(metadata.credential_issuer, WELL_KNOWN)
    if fetched and str(fetched[-1]).split("?")[0] != url:
        return CheckOutcome.failed(f"metadata fetched from {fetched[-1]}", url)
    return CheckOutcome.passed(f"{len(metadata.configurations)} configuration(s) for {metadata.credential_issuer}")

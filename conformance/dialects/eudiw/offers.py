"""issuer.create_offer for the EUDIW connector (seed 002, Step 1: "Create a credential offer").

    POST /offers {"credential_configuration_id", "claims", "tx_code"?: {input_mode, length,
                  description?}}  ->  201 {"offer_id", "credential_offer_uri", "tx_code_value"?}

The seed's `credential_offer_uri` is the whole `openid-credential-offer://?credential_offer_uri=`
link (OID4VCI 1.0 §4.1 gives that name only to the https URL inside it): the artefacts name both
as the catalogue does, `deep_link` (the link) and `credential_offer_uri` (the URL the wallet
fetches, §4.1.3), and `offer` is the Credential Offer fetched from it, as a wallet would.

Inputs the connector has no member for are refused with the reason, never dropped: an offer's
lifetime is the connector's session TTL, its callback URL is configuration, and it has no issuer
override, holder binding or notarization.

`refuse_unsupported`, `tx_code_input` and `fetch_offer` serve the orgwallet dialect too (the
same catalogue inputs, the same offer-by-reference links).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import api_key_header, config_id
from conformance.protocol.errors import ProtocolError
from conformance.protocol.oid4vci import parse_offer_link

DEFAULT_TX_CODE: Mapping[str, Any] = {"input_mode": "numeric", "length": 6}
PRE_AUTHORIZED = "pre-authorized"
# Inputs of issuer.create_offer this API cannot express -> why (the step fails with it).
UNSUPPORTED: Mapping[str, str] = {
    "expires_in": "an offer lives for the connector's session TTL (configuration, 5 minutes by default)",
    "holder_did": "POST /offers has no holder binding",
    "issuer_did": "the connector signs with its configured Issuer Signing Certificate",
    "issuer_private_key": "the connector signs with its configured Issuer Signing Certificate",
    "callback": "the callback URL is the connector's configuration, not a member of an offer",
    "deferred": "the connector issues at once (no deferred issuance in POST /offers)",
}


def refuse_unsupported(args: Inputs, api: str, unsupported: Mapping[str, str]) -> None:
    """InputError for the first input `api` has no equivalent for. `notarize: false` is what
    every API without notarization does anyway, so only `true` is refused."""
    for name, why in unsupported.items():
        if args.raw(name) is not None:
            raise InputError(f"{args.operation}: input {name!r} has no equivalent in the {api}: {why}")
    if args.flag("notarize"):
        raise InputError(f"{args.operation}: input 'notarize' has no equivalent in the {api}: it does not "
                         "notarize credentials")
    flow = args.text("flow", PRE_AUTHORIZED)
    if flow != PRE_AUTHORIZED:
        raise InputError(f"{args.operation}: input 'flow' {flow!r}: the {api} offers the pre-authorized "
                         "code flow only")


def tx_code_input(args: Inputs) -> dict[str, Any] | None:
    """`tx_code: true` (a 6-digit numeric code) or the tx_code object itself (§4.1.1)."""
    value = args.raw("tx_code")
    if value is True:
        return dict(DEFAULT_TX_CODE)
    if isinstance(value, Mapping):
        return dict(value)
    if value in (None, False):
        return None
    raise InputError(f"{args.operation}: input 'tx_code' must be true or a tx_code object "
                     "{input_mode, length, description}")


async def fetch_offer(calls: Calls, link: Any) -> dict[str, Any]:
    """Artefacts of an offer link: deep_link, credential_offer_uri (the https URL inside it) and
    offer, the Credential Offer fetched there (OID4VCI 1.0 §4.1.3) as a wallet would. A link that
    does not parse yields no offer: the checks on it say what is missing."""
    if not isinstance(link, str):
        return {}
    try:
        uri = parse_offer_link(link).offer_uri
    except ProtocolError:
        return {"deep_link": link}
    if uri is None:
        return {"deep_link": link}
    fetched = await calls.send("GET", uri, headers={"Accept": "application/json"})
    return {"deep_link": link, "credential_offer_uri": uri,
            "offer": json_of(fetched) if succeeded(fetched) else None}


def offer_body(ctx: StepContext, args: Inputs) -> dict[str, Any]:
    refuse_unsupported(args, "EUDIW connector API", UNSUPPORTED)
    body: dict[str, Any] = {"credential_configuration_id": config_id(ctx, args.text("config", "default")),
                            "claims": args.obj("claims", required=True)}
    tx_code = tx_code_input(args)
    if tx_code is not None:
        body["tx_code"] = tx_code
    return body


async def create_offer(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await calls.send("POST", ctx.url("issuer", "/offers"), json=offer_body(ctx, args),
                                headers=api_key_header(ctx, "issuer", args.text("api_key")))
    created = json_of(response) if succeeded(response) else None
    artefacts: dict[str, Any] = {}
    if isinstance(created, Mapping):
        artefacts = {"offer_id": created.get("offer_id"), "tx_code_value": created.get("tx_code_value"),
                     "claims": args.obj("claims"), **await fetch_offer(calls, created.get("credential_offer_uri"))}
    return calls.result(response, artefacts)


OPERATIONS = {"issuer.create_offer": create_offer}

"""issuer.* for the organisation wallet (seed 003, "Issue credential") and the record routes the
seed names without documenting them (as the reference has them, reference/orgwallet/openapi.py).

    POST {BASE}/issue                           {issuanceMode, credentialDefinitionId, credential:
                                                 {claims}, userPin?} -> 200 {credentialHistory}
    GET  {BASE}/history/{id}                    the credentialHistory record
    POST {BASE}/history/{id}/issue-deferred     the backend supplies a Deferred exchange's claims
    POST {BASE}/history/{id}/deny               {reason}: issuance_denied
    PUT  {BASE}/history/{id}/revocation         {revocationStatus: Operational|Revoked|Suspended}

`offer_id` in every operation is the record's credentialExchangeId. The transaction code is
the caller's choice here (`userPin`), so `tx_code: true` makes the harness draw one from the
scenario's seeded randomness and hand it on as the artefact `tx_code_value` (userPin is
write-only: the record never shows it).
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from urllib.parse import quote

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.eudiw.offers import fetch_offer, refuse_unsupported, tx_code_input
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import api_key, config_id

BASE = "/v2/config/digital-wallet/openid/sdjwt/credential"
API = "organisation wallet API"
MODES = MappingProxyType({False: "InTime", True: "Deferred"})
# The abstract credential statuses (issuer.revoke) -> the record's revocationStatus.
REVOCATION = MappingProxyType({"ACTIVE": "Operational", "SUSPENDED": "Suspended", "REVOKED": "Revoked"})
UNSUPPORTED = MappingProxyType({
    "expires_in": "an offer lives for the wallet's configured offer lifetime",
    "holder_did": "the issue call has no holder binding",
    "issuer_did": "the wallet signs with the organisation's own key",
    "issuer_private_key": "the wallet signs with the organisation's own key",
    "callback": "the API reports through the credentialHistory record, not callbacks",
})
PIN_ALPHABETS = MappingProxyType({"numeric": string.digits, "text": string.ascii_letters + string.digits})


def authorization(ctx: StepContext, value: str | None) -> dict[str, str]:
    """The seed documents a 401 but no scheme; the reference (and this dialect) use ApiKey."""
    key = api_key(ctx, "issuer", value)
    return {"Authorization": f"ApiKey {key}"} if key is not None else {}


def history_url(ctx: StepContext, exchange_id: str, suffix: str = "") -> str:
    return ctx.url("issuer", f"{BASE}/history/{quote(exchange_id, safe='')}{suffix}")


def draw_pin(ctx: StepContext, spec: Mapping[str, Any]) -> str:
    """A userPin in the shape of a tx_code object (§4.1.1 input_mode, length)."""
    alphabet = PIN_ALPHABETS.get(spec.get("input_mode", "numeric"))
    length = spec.get("length", 6)
    if alphabet is None or isinstance(length, bool) or not isinstance(length, int) or not 1 <= length <= 64:
        raise InputError(f"issuer.create_offer: tx_code {dict(spec)!r}: input_mode must be numeric or text and "
                         "length a positive integer")
    return "".join(ctx.rng.choice(alphabet) for _ in range(length))


def record_of(response: Any) -> Mapping[str, Any] | None:
    body = json_of(response) if succeeded(response) else None
    record = body.get("credentialHistory") if isinstance(body, Mapping) else None
    return record if isinstance(record, Mapping) else None


async def create_offer(ctx: StepContext, args: Inputs) -> OperationResult:
    refuse_unsupported(args, API, UNSUPPORTED)
    deferred = bool(args.flag("deferred"))
    claims = args.obj("claims", required=not deferred)   # Deferred: the backend may supply them later
    credential: dict[str, Any] = {} if claims is None else {"claims": claims}
    body: dict[str, Any] = {"issuanceMode": MODES[deferred],
                            "credentialDefinitionId": config_id(ctx, args.text("config", "default")),
                            "credential": credential}
    tx_code = tx_code_input(args)
    pin = draw_pin(ctx, tx_code) if tx_code is not None else None
    if pin is not None:
        body["userPin"] = pin
    calls = Calls(ctx)
    response = await calls.send("POST", ctx.url("issuer", f"{BASE}/issue"), json=body,
                                headers=authorization(ctx, args.text("api_key")))
    record = record_of(response)
    artefacts: dict[str, Any] = {}
    if record is not None:
        artefacts = {"offer_id": record.get("credentialExchangeId"), "credential_history": record,
                     "tx_code_value": pin, "claims": claims, **await fetch_offer(calls, record.get("credentialOffer"))}
    return calls.result(response, artefacts)


async def _on_record(ctx: StepContext, args: Inputs, exchange_id: str | None, method: str, suffix: str = "",
                     json: Mapping[str, Any] | None = None, **extra: Any) -> OperationResult:
    """One call on an exchange's record route; the answer is the record."""
    calls = Calls(ctx)
    kwargs: dict[str, Any] = {"headers": authorization(ctx, args.text("api_key"))}
    if json is not None:
        kwargs["json"] = dict(json)
    response = await calls.send(method, history_url(ctx, exchange_id or "", suffix), **kwargs)
    return calls.result(response, {"credential_history": record_of(response), **extra})


async def offer_credentials(ctx: StepContext, args: Inputs) -> OperationResult:
    return await _on_record(ctx, args, args.text("offer_id", required=True), "GET")


async def supply_deferred(ctx: StepContext, args: Inputs) -> OperationResult:
    claims = args.obj("claims")
    return await _on_record(ctx, args, args.text("offer_id", required=True), "POST", "/issue-deferred",
                            {} if claims is None else {"credential": {"claims": claims}})


async def deny(ctx: StepContext, args: Inputs) -> OperationResult:
    reason = args.text("reason")
    return await _on_record(ctx, args, args.text("offer_id", required=True), "POST", "/deny",
                            {} if reason is None else {"reason": reason})


async def revoke(ctx: StepContext, args: Inputs) -> OperationResult:
    """`credential_id` is the credentialExchangeId: this API revokes an exchange's credential.
    `status` is the abstract ACTIVE / SUSPENDED / REVOKED or the API's own word."""
    status = args.text("status", "REVOKED") or "REVOKED"
    wanted = REVOCATION.get(status, status)
    if wanted not in REVOCATION.values():
        raise InputError(f"issuer.revoke: input 'status' must be one of {', '.join(REVOCATION)} (or "
                         f"{', '.join(REVOCATION.values())}), got {status!r}")
    return await _on_record(ctx, args, args.text("credential_id", required=True), "PUT", "/revocation",
                            {"revocationStatus": wanted}, credential=args.text("credential"))


OPERATIONS = {
    "issuer.create_offer": create_offer,
    "issuer.offer_credentials": offer_credentials,
    "issuer.supply_deferred": supply_deferred,
    "issuer.deny": deny,
    "issuer.revoke": revoke,
}

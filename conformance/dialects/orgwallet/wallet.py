"""wallet.collect_deferred: the harness wallet's Deferred Credential Request (OID4VCI 1.0 §9),
for the organisation wallet's Deferred exchanges.

A Deferred exchange answers the wallet's Credential Request with 202 {transaction_id, interval}
(§8.3); the wallet then asks the Deferred Credential Endpoint, with the same access token, until
the credential is there:

    POST deferred_credential_endpoint {transaction_id}  -> 202 {transaction_id, interval} while the
                                                           backend has not supplied the claims (§9.2)
                                                        -> 200 Credential Response (§9.2 -> §8.3)

The access token is the one the shared `wallet.receive` kept in the scenario's private state
(conformance.dialects.shared.wallet, SESSION); the endpoint comes from the Credential Issuer
Metadata, read again at the well-known URL of the session's Credential Issuer (§12.2.2). With
`wait: false` one request is made (to see the pending answer), else the endpoint is polled
(bounded by the target's poll timeout) until it stops answering 202.

The credential is bound to the key the wallet proved in the first Credential Request, which the
wallet does not hand out: it is checked (artefacts credential, issuer_jwt, and holder_key when the
scenario passes the one wallet.receive reported) but not held for later presentations. Its
notification_id goes to the session, for `wallet.notify`.

This belongs in the shared wallet once it keeps transaction ids; it lives here because only the
organisation wallet's surface issues deferred credentials today.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.inputs import Inputs
from conformance.dialects.polling import settings
from conformance.dialects.shared.wallet import SESSION
from conformance.protocol.errors import ProtocolError
from conformance.protocol.oid4vci import parse_credential_response, well_known_url
from conformance.protocol.sdjwt import parse_sd_jwt

ISSUER_WELL_KNOWN = "openid-credential-issuer"


def _session(ctx: StepContext) -> Any:
    session = ctx.state.get(SESSION)
    if session is None:
        raise InputError("wallet.collect_deferred needs the access token of a wallet.receive in this scenario "
                         "(run wallet.receive first; its Credential Request must have answered 202)")
    return session


def _pending(body: Any) -> bool:
    """§9.2: still pending is the transaction_id again, without credentials."""
    return isinstance(body, Mapping) and "transaction_id" in body and "credentials" not in body


async def _deferred_endpoint(calls: Calls, credential_issuer: str) -> str | None:
    fetched = await calls.send("GET", well_known_url(credential_issuer, ISSUER_WELL_KNOWN),
                               headers={"Accept": "application/json"})
    metadata = json_of(fetched) if succeeded(fetched) else None
    endpoint = metadata.get("deferred_credential_endpoint") if isinstance(metadata, Mapping) else None
    return endpoint if isinstance(endpoint, str) else None


def _pause(ctx: StepContext, args: Inputs, answer: Any) -> float:
    """Seconds to the next request: the input, else the target's poll interval; against a real
    deployment never less than the `interval` the issuer asked for (§9.2)."""
    _, interval = settings(ctx, None, args.number("interval", minimum=0))
    suggested = answer.get("interval") if isinstance(answer, Mapping) else None
    if ctx.target.deployment is None and args.raw("interval") is None and \
            isinstance(suggested, int | float) and not isinstance(suggested, bool):
        interval = max(interval, float(suggested))
    return interval


@dataclass(frozen=True)
class _Asked:
    response: Any        # httpx.Response | None: the last answer
    body: Any
    polls: int
    waited: float


async def _ask(ctx: StepContext, args: Inputs, calls: Calls, endpoint: str, session: Any,
               transaction_id: str, wait: bool) -> _Asked:
    """One Deferred Credential Request, or (wait) as many as it takes to stop being pending,
    bounded by the timeout."""
    headers = {"Authorization": f"Bearer {session.access_token}", "Accept": "application/json"}
    timeout, _ = settings(ctx, args.number("timeout", minimum=0), None)
    started, polls = time.monotonic(), 0
    while True:
        response = await calls.send("POST", endpoint, json={"transaction_id": transaction_id}, headers=headers)
        polls += 1
        body = json_of(response)
        remaining = timeout - (time.monotonic() - started)
        if not wait or not (succeeded(response) and _pending(body)) or remaining <= 0:
            return _Asked(response, body, polls, time.monotonic() - started)
        await asyncio.sleep(min(_pause(ctx, args, body), remaining))


async def collect_deferred(ctx: StepContext, args: Inputs) -> OperationResult:
    session = _session(ctx)
    transaction_id = args.text("transaction_id", required=True) or ""
    calls = Calls(ctx)
    endpoint = await _deferred_endpoint(calls, session.credential_issuer)
    if endpoint is None:
        return calls.result(calls.last_response, error="the Credential Issuer Metadata names no "
                            "deferred_credential_endpoint (OID4VCI 1.0 §12.2.4)")
    wait = args.flag("wait") is not False
    asked = await _ask(ctx, args, calls, endpoint, session, transaction_id, wait)
    artefacts: dict[str, Any] = {"transaction_id": transaction_id, "polls": asked.polls,
                                 "holder_key": args.raw("holder_key")}
    error = None
    if asked.response is not None and asked.response.status_code == 200:
        error = _collected(ctx, session, asked.body, artefacts)
    elif wait and succeeded(asked.response) and _pending(asked.body):
        error = (f"the deferred credential was still pending after {asked.waited:.1f} s ({asked.polls} "
                 f"Deferred Credential Requests answered {asked.response.status_code} with the transaction_id)")
    return calls.result(asked.response, artefacts, error=error)


def _collected(ctx: StepContext, session: Any, body: Any, artefacts: dict[str, Any]) -> str | None:
    """The credential of a 200 Deferred Credential Response (§9.2: as a Credential Response, §8.3)."""
    try:
        answer = parse_credential_response(body)
        if answer.transaction_id is not None or not isinstance(answer.credentials[0], str):
            return "the 200 Deferred Credential Response holds no compact SD-JWT credential (§9.2, A.3.4)"
        credential = answer.credentials[0]
        artefacts.update(credential=credential, issuer_jwt=parse_sd_jwt(credential).issuer_jws.token,
                         notification_id=answer.notification_id)
    except ProtocolError as exc:
        return f"credential: {exc.message}"
    if answer.notification_id is not None:
        ctx.state[SESSION] = replace(session, notification_id=answer.notification_id)
    return None


OPERATIONS = {"wallet.collect_deferred": collect_deferred}

"""wallet.*: the harness's own wallet on the standard wires.

OID4VCI 1.0 and OID4VP 1.0 are the same whatever vendor API manages the issuer or verifier, so
these operations belong to no dialect. The wallet (conformance.wallet.HarnessWallet, one per
scenario) remembers what it received, so `wallet.present` can answer with it.

A wallet that stops on a 2xx answer it cannot accept (a credential whose signature fails, a
request object that does not verify) reports why in `artefacts.error`; that is also the step's
error, so a scenario expecting success cannot pass on it.

After `wallet.receive` got an access token, the scenario keeps a `WireSession` (its token and
the issuer's endpoints) in the context's private state, never in artefacts: `wallet.credential_request`
and `wallet.notify` send further requests on that token, as the public conformance programme's
issuer modules do after the first Credential Request (OID4VCI 1.0 §8.2, §11).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import config_id
from conformance.exchange import Recorder, Unreachable
from conformance.protocol.errors import ProtocolError
from conformance.protocol.jose import PrivateKey, generate_key, private_key_from_b64u
from conformance.protocol.oid4vci import (
    CredentialRequest,
    build_proof_jwt,
    parse_credential_offer,
    parse_credential_response,
    parse_nonce_response,
    parse_offer_link,
    well_known_url,
)
from conformance.resolver import DidResolver
from conformance.wallet.held import HeldCredential
from conformance.wallet.outcome import Flow, run
from conformance.wallet.receive import AS_WELL_KNOWN, ISSUER_WELL_KNOWN, JSON_ACCEPT

SESSION = "wallet.session"


# --- what the wallet keeps from a redeemed offer ---------------------------------------------

@dataclass(frozen=True)
class WireSession:
    """The access token of the last `wallet.receive` and where to use it. The token lives only
    here (the context's private state): reports see it redacted, scenarios never see it."""

    access_token: str = field(repr=False)
    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    notification_endpoint: str | None
    config_id: str | None
    notification_id: str | None = None


_CREDENTIAL_REQUEST_MEMBERS = frozenset({"credential_configuration_id", "credential_identifier"})


@dataclass
class _WalletChannel(Recorder):
    """The wallet's Recorder, which also keeps the access token of the Token Response it relays
    (the wallet's own artefacts carry it redacted) and adds `credential_headers` to the
    Credential Request (extra headers a scenario sends, e.g. Accept variants)."""

    credential_headers: Mapping[str, str] = field(default_factory=dict)
    access_token: str | None = field(default=None, repr=False)

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        body = kwargs.get("json")
        if self.credential_headers and isinstance(body, Mapping) and _CREDENTIAL_REQUEST_MEMBERS & set(body):
            kwargs["headers"] = {**dict(kwargs.get("headers") or {}), **self.credential_headers}
        response = await super().send(method, url, **kwargs)
        form = kwargs.get("data")
        if method == "POST" and isinstance(form, Mapping) and "grant_type" in form and response.status_code == 200:
            answer = json_of(response)
            token = answer.get("access_token") if isinstance(answer, Mapping) else None
            if isinstance(token, str):
                self.access_token = token
        return response


def _remember(ctx: StepContext, recorder: _WalletChannel, outcome: Any) -> None:
    """Keep the session for later requests; forget an older one when this flow got no token."""
    artefacts = dict(outcome.artefacts)
    metadata, offer = artefacts.get("issuer_metadata"), artefacts.get("offer")
    if recorder.access_token is None or not isinstance(metadata, Mapping) or not isinstance(offer, Mapping):
        ctx.state.pop(SESSION, None)
        return
    body = outcome.body if isinstance(outcome.body, Mapping) else {}
    ctx.state[SESSION] = WireSession(
        access_token=recorder.access_token, credential_issuer=str(offer.get("credential_issuer")),
        credential_endpoint=str(metadata.get("credential_endpoint")),
        nonce_endpoint=_text(metadata.get("nonce_endpoint")),
        notification_endpoint=_text(metadata.get("notification_endpoint")),
        config_id=_text(artefacts.get("config_id")), notification_id=_text(body.get("notification_id")))


def _session(ctx: StepContext, operation: str) -> WireSession:
    session = ctx.state.get(SESSION)
    if not isinstance(session, WireSession):
        raise InputError(f"{operation} needs an access token: run wallet.receive first, up to the Token "
                         "Response at least (a later wallet.receive that got no token forgets the earlier one)")
    return session


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --- results ---------------------------------------------------------------------------------

def _result(recorder: Recorder, outcome: Any, extra: Mapping[str, Any] | None = None) -> OperationResult:
    artefacts = {k: v for k, v in {**dict(outcome.artefacts), **(extra or {})}.items() if v is not None}
    artefacts["stage"] = outcome.stage
    return OperationResult(outcome.status, outcome.body, recorder.exchanges, artefacts,
                           artefacts.get("error"))


def _unreachable(recorder: Recorder, exc: Unreachable) -> OperationResult:
    return OperationResult(None, None, recorder.exchanges, {}, str(exc))


# --- wallet.receive ---------------------------------------------------------------------------

def _offer_text(args: Inputs) -> str:
    """The offer as the wallet takes it; an object (a captured Credential Offer) as its JSON."""
    offer = args.raw("offer")
    if isinstance(offer, Mapping):
        return json.dumps(offer)
    return args.text("offer", required=True)  # type: ignore[return-value]


async def receive(ctx: StepContext, args: Inputs) -> OperationResult:
    config = args.text("config")
    recorder = _WalletChannel(ctx.target.http, credential_headers=_extra_headers(args, "wallet.receive"))
    try:
        outcome = await ctx.wallet.receive(
            recorder, _offer_text(args), tx_code=args.text("tx_code"),
            config_id=config_id(ctx, config) if config else None, alg=args.text("alg", "ES256"),
            faults=args.strings("faults"))
    except Unreachable as exc:
        return _unreachable(recorder, exc)
    _remember(ctx, recorder, outcome)
    return _result(recorder, outcome, {"offered_claims": args.obj("offered_claims")})


# --- wallet.credential_request: one more Credential Request on the session's token (§8.2) ----

def _proof_key(args: Inputs) -> tuple[PrivateKey, str | None]:
    """(signing key, kid): a fresh key sent as jwk, or the given key under its DID URL."""
    private, kid = args.text("private_key"), args.text("kid")
    if private is None:
        if kid is not None:
            raise InputError("wallet.credential_request: input 'kid' needs 'private_key' (the key it names)")
        return generate_key(args.text("alg", "ES256")), None
    try:
        return private_key_from_b64u(private, args.text("alg", "EdDSA")), kid
    except ProtocolError as exc:
        raise InputError(f"wallet.credential_request: input 'private_key': {exc.message}") from None


def _extra_headers(args: Inputs, operation: str) -> dict[str, str]:
    extra = args.obj("headers") or {}
    if not all(isinstance(v, str) for v in extra.values()):
        raise InputError(f"{operation}: input 'headers' must map header names to strings")
    if any(name.lower() == "authorization" for name in extra):
        raise InputError(f"{operation}: input 'headers' cannot set Authorization (the wallet sends its token)")
    return extra


async def _request_credential(ctx: StepContext, args: Inputs, session: WireSession, flow: Flow) -> None:
    nonce = None
    if session.nonce_endpoint is not None:
        response = await flow.call("nonce", "POST", session.nonce_endpoint, headers=JSON_ACCEPT)
        nonce = flow.checked(parse_nonce_response, flow.json(response, "the Nonce Response")).c_nonce
        flow.artefacts["c_nonce"] = nonce
    key, kid = _proof_key(args)
    flow.artefacts["holder_key"] = key.public
    proof = build_proof_jwt(key, aud=session.credential_issuer, nonce=nonce, iat=int(ctx.wallet.clock()), kid=kid)
    identifier = args.text("credential_identifier")
    config = args.text("config")
    chosen = config_id(ctx, config) if config else session.config_id
    flow.artefacts["config_id"] = None if identifier else chosen
    request = CredentialRequest(None if identifier else chosen, identifier, "jwt", (proof,)).to_json()
    response = await flow.call("credential", "POST", session.credential_endpoint, json=request,
                               headers={**JSON_ACCEPT, **_extra_headers(args, "wallet.credential_request"),
                                        "Authorization": f"Bearer {session.access_token}"})
    if nonce is not None:
        ctx.wallet.spent_nonces.append(nonce)
    answer = flow.checked(parse_credential_response, flow.json(response, "the Credential Response"))
    if answer.transaction_id is not None:
        flow.artefacts["transaction_id"] = answer.transaction_id  # §9 deferred: reported, not polled
        return
    if not isinstance(answer.credentials[0], str):
        flow.fail("unsupported_credential", "credentials[0].credential is not a string; a dc+sd-jwt "
                  "credential is a compact SD-JWT (OID4VCI 1.0 A.3.4)")
    held = flow.checked(HeldCredential.parse, answer.credentials[0], key, config_id=chosen,
                        credential_issuer=session.credential_issuer)
    flow.artefacts.update(credential=held.serialized, issuer_jwt=held.issuer_jwt,
                          notification_id=answer.notification_id)
    ctx.wallet.held.append(held)
    ctx.state[SESSION] = replace(session, notification_id=answer.notification_id or session.notification_id)


async def credential_request(ctx: StepContext, args: Inputs) -> OperationResult:
    session = _session(ctx, "wallet.credential_request")
    recorder = Recorder(ctx.target.http)
    flow = Flow(recorder, "nonce")
    try:
        outcome = await run(flow, _request_credential(ctx, args, session, flow))
    except Unreachable as exc:
        return _unreachable(recorder, exc)
    return _result(recorder, outcome, {"offered_claims": args.obj("offered_claims")})


# --- wallet.notify: the Notification Endpoint (§11) -------------------------------------------

async def notify(ctx: StepContext, args: Inputs) -> OperationResult:
    """Notifying is optional for an issuer (§11: no notification_endpoint, or no notification_id in
    the Credential Response, means none is expected): then nothing is sent, status is None and
    `artefacts.notified` false, which the issuance.notification_accepted check reports as skipped."""
    session = _session(ctx, "wallet.notify")
    notification_id = args.text("notification_id") or session.notification_id
    missing = ("the Credential Issuer Metadata names no notification_endpoint" if session.notification_endpoint is None
               else "the Credential Response carried no notification_id" if notification_id is None else None)
    if missing:
        return OperationResult(None, None, [], {"notified": False, "reason": f"{missing} (OID4VCI 1.0 §11)"})
    event = args.text("event", "credential_accepted")
    body: dict[str, Any] = {"notification_id": notification_id, "event": event}
    if args.text("description") is not None:
        body["event_description"] = args.text("description")
    calls = Calls(ctx)
    response = await calls.send("POST", session.notification_endpoint, json=body,  # type: ignore[arg-type]
                                headers={"Authorization": f"Bearer {session.access_token}"})
    return calls.result(response, {"notified": True, "notification_id": notification_id, "event": event})


# --- wallet.metadata: what a wallet reads before the Token Request (§12.2.2, §12.3) -----------

async def _read_metadata(ctx: StepContext, args: Inputs, flow: Flow) -> None:
    issuer = args.text("credential_issuer")
    if issuer is None:
        issuer = await _offered_issuer(args, flow)
    response = await flow.call("metadata", "GET", well_known_url(issuer, ISSUER_WELL_KNOWN), headers=JSON_ACCEPT)
    metadata = flow.json(response, "the Credential Issuer Metadata")
    flow.artefacts["issuer_metadata"] = metadata
    servers = metadata.get("authorization_servers") if isinstance(metadata, Mapping) else None
    server = servers[0] if isinstance(servers, list) and servers and isinstance(servers[0], str) else issuer
    response = await flow.call("metadata", "GET", well_known_url(server, AS_WELL_KNOWN), headers=JSON_ACCEPT)
    flow.artefacts["as_metadata"] = flow.json(response, "the Authorization Server Metadata")
    flow.artefacts["credential_issuer"] = issuer


async def _offered_issuer(args: Inputs, flow: Flow) -> str:
    text = _offer_text(args)
    if text.lstrip().startswith("{"):
        try:
            raw = json.loads(text)
        except ValueError as exc:
            flow.fail("invalid_offer", f"the Credential Offer is not JSON: {exc}")
    else:
        link = flow.checked(parse_offer_link, text)
        if link.offer is not None:
            raw = link.offer.to_json()
        else:
            fetched = await flow.call("offer", "GET", link.offer_uri, headers=JSON_ACCEPT)
            raw = flow.json(fetched, "the Credential Offer")
    flow.artefacts["offer"] = raw
    return flow.checked(parse_credential_offer, raw).credential_issuer


async def metadata(ctx: StepContext, args: Inputs) -> OperationResult:
    if args.raw("offer") is None and args.text("credential_issuer") is None:
        raise InputError("wallet.metadata: give 'offer' (the wallet reads the issuer from it) or 'credential_issuer'")
    recorder = Recorder(ctx.target.http)
    flow = Flow(recorder, "offer")
    try:
        outcome = await run(flow, _read_metadata(ctx, args, flow))
    except Unreachable as exc:
        return _unreachable(recorder, exc)
    return _result(recorder, outcome)


# --- wallet.present ---------------------------------------------------------------------------

async def present(ctx: StepContext, args: Inputs) -> OperationResult:
    recorder = Recorder(ctx.target.http)
    try:
        outcome = await ctx.wallet.present(
            recorder, args.text("request", required=True), credential=_held(ctx, args.integer("credential")),
            disclose=args.obj("disclose"), request_uri_method=args.text("request_uri_method"),
            faults=args.strings("faults"), resolver=_resolver(ctx))
    except Unreachable as exc:
        return _unreachable(recorder, exc)
    return _result(recorder, outcome)


def _resolver(ctx: StepContext) -> DidResolver:
    """did:key / did:jwk locally; did:iota (a verifier's Client Identifier) on the target's ledger."""
    ledger = ctx.target.roles.get("ledger")
    return DidResolver(ctx.target.http, ledger.base_url if ledger else None)


def _held(ctx: StepContext, index: int | None) -> Any:
    if index is None:
        return None
    held = list(ctx.wallet.held)
    if not -len(held) <= index < len(held):
        raise InputError(f"wallet.present: input 'credential' is {index}, but the wallet holds "
                         f"{len(held)} credential(s) from this scenario")
    return held[index]


OPERATIONS = {"wallet.receive": receive, "wallet.credential_request": credential_request,
              "wallet.notify": notify, "wallet.metadata": metadata, "wallet.present": present}

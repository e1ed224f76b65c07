"""verifier.* for the TCS-style verifier service (shared/seeds/004, "Verifier · Verify Credential").

    POST /v1/verifier/authorization-request   create a session (Step 1)
    GET  /v1/verifier/result/{session_id}     its result (Step 3 · Poll the result)

The seed has the caller bring the verifier's identity: `verifier_private_key` (base64url raw
Ed25519) and `verifier_client_id` (a DID or URL). The harness makes a fresh one per request: a
did:key or did:jwk (self-describing), or a did:iota it first publishes on the target's ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.identities import IOTA, LOCAL_DIDS, publish_iota, raw_b64u
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import api_key_header
from conformance.dialects.polling import poll, settings
from conformance.protocol.errors import ProtocolError
from conformance.protocol.jose import PublicKey, generate_key, private_key_from_b64u

SESSION = "verifier.session"
TERMINAL = frozenset({"completed", "failed", "expired"})
# `request_uri_method` is the reference's documented extension of the seed's body (OID4VP 1.0 §5.10).
_OPTIONAL = ("response_mode", "expires_in", "client_metadata", "redirect_uri", "request_uri_method")


async def _identity(ctx: StepContext, calls: Calls, args: Inputs) -> tuple[str | None, str, PublicKey | None]:
    """(verifier_client_id or None when publishing failed, private key b64u, public key)."""
    literal, given_key = args.text("client_id"), args.text("private_key")
    if literal is not None or given_key is not None:
        if literal is None or given_key is None:
            raise InputError("verifier.create_request: `client_id` and `private_key` go together")
        try:
            public = private_key_from_b64u(given_key, "EdDSA").public
        except ProtocolError:  # the verifier judges a bad key; the harness just cannot name its public half
            public = None
        return literal, given_key, public
    scheme = args.text("client_id_scheme", "did:key")
    key = generate_key("EdDSA")   # the seed: "Base64url-encoded raw Ed25519 (32 bytes)"
    if scheme in LOCAL_DIDS:
        return LOCAL_DIDS[scheme](key.public), raw_b64u(key), key.public
    if scheme == IOTA:
        published = await publish_iota(ctx, calls, key)
        return published.did, raw_b64u(key), key.public
    raise InputError(f"verifier.create_request: input 'client_id_scheme' must be one of "
                     f"{', '.join([*LOCAL_DIDS, IOTA])}, got {scheme!r}")


async def create_request(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    client_id, private_key, public = await _identity(ctx, calls, args)
    if client_id is None:
        return calls.result(calls.last_response, error="could not publish the verifier's did:iota on the ledger")
    body: dict[str, Any] = {"dcql_query": args.obj("dcql", required=True), "verifier_private_key": private_key,
                            "verifier_client_id": client_id}
    body.update({name: args.raw(name) for name in _OPTIONAL if args.raw(name) is not None})
    response = await calls.send("POST", ctx.url("verifier", "/v1/verifier/authorization-request"), json=body,
                                headers=api_key_header(ctx, "verifier", args.text("api_key")))
    created = json_of(response) if succeeded(response) else None
    artefacts: dict[str, Any] = {"verifier_client_id": client_id, "verifier_key": public}
    if isinstance(created, Mapping):
        ctx.state[SESSION] = created.get("session_id")
        artefacts.update(session_id=created.get("session_id"),
                         authorization_request=created.get("authorization_request"))
    return calls.result(response, artefacts)


def _result_url(ctx: StepContext, args: Inputs) -> str:
    session_id = args.text("session_id") or ctx.state.get(SESSION)
    if session_id is None:
        raise InputError("no verifier session: run verifier.create_request first, or give `session_id`")
    return ctx.url("verifier", f"/v1/verifier/result/{quote(session_id, safe='')}")


def result_artefacts(body: Any) -> dict[str, Any]:
    """`verifier_result` as answered, plus two views of its check_results that scenarios can match
    by name whatever order a verifier reports them in: `check_results` (check name -> its first
    entry) and `first_failure` (the first entry with status fail, or None)."""
    entries = body.get("check_results") if isinstance(body, Mapping) else None
    entries = [e for e in entries if isinstance(e, Mapping)] if isinstance(entries, list) else []
    by_name: dict[str, Any] = {}
    for entry in entries:
        by_name.setdefault(str(entry.get("check")), dict(entry))
    failure = next((dict(e) for e in entries if e.get("status") == "fail"), None)
    return {"verifier_result": body, "check_results": by_name or None, "first_failure": failure}


async def result(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await calls.send("GET", _result_url(ctx, args),
                                headers=api_key_header(ctx, "verifier", args.text("api_key")))
    return calls.result(response, result_artefacts(json_of(response) if succeeded(response) else None))


def _terminal(body: Any) -> bool:
    return isinstance(body, Mapping) and body.get("status") in TERMINAL


async def wait_result(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    url = _result_url(ctx, args)
    headers = api_key_header(ctx, "verifier", args.text("api_key"))
    timeout, interval = settings(ctx, args.number("timeout", minimum=0), args.number("interval", minimum=0))
    polled = await poll(ctx, lambda: calls.send("GET", url, headers=headers), _terminal,
                        timeout=timeout, interval=interval)
    body = json_of(polled.response) if succeeded(polled.response) else None
    error = None
    if succeeded(polled.response) and not polled.settled:
        status = body.get("status") if isinstance(body, Mapping) else None
        error = f"the session did not end within {timeout:g} s ({polled.polls} polls; status {status!r})"
    return calls.result(polled.response, {**result_artefacts(body), "polls": polled.polls}, error=error)


OPERATIONS = {
    "verifier.create_request": create_request,
    "verifier.result": result,
    "verifier.wait_result": wait_result,
}

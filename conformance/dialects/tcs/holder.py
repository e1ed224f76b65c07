"""holder.* for the TCS-style custodial wallet service (shared/seeds/001, "Holder · Manage
Wallets & Credentials"): users (§1), DIDs (§1), receive (§2), credentials (§3), present (§4).

The seed leaves the user's secrets with the integrator: the password, the access token and each
DID's private key (§5 "Holder Service does not persist holder private keys"). The harness plays
that integrator: it remembers them in the scenario's StepContext.state, so a scenario says
`holder.receive` without threading keys through captures, and can still override each one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.identities import LOCAL_DIDS, raw_b64u
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import NONE, config_id
from conformance.protocol.did import method_key, resolve_local
from conformance.protocol.errors import ProtocolError
from conformance.protocol.jose import PublicKey, generate_key, private_key_from_b64u

USER, USERS, TOKEN, DIDS, CURRENT_DID, MATCHES = ("holder.user", "holder.users", "holder.token", "holder.dids",
                                                  "holder.did", "holder.matches")
# Key algorithm of a DID per the seed's `method` names (§2 receive: "EdDSA for did:iota, ES256 (raw
# d) for did:key"); JWK is the reference's Ed25519 did:jwk.
METHOD_ALGS = {"IOTA": "EdDSA", "KEY": "ES256", "JWK": "EdDSA"}
IMPORT_KINDS = {"KEY": ("did:key", "ES256"), "JWK": ("did:jwk", "EdDSA")}


@dataclass(frozen=True)
class HeldDid:
    did: str
    private_key: str
    alg: str

    def public(self) -> PublicKey | None:
        try:
            return private_key_from_b64u(self.private_key, self.alg).public
        except ProtocolError:  # an unusable key yields no holder_key artefact, not a crash
            return None


def _alg_of(did: str) -> str:
    """The key type of a self-describing DID (did:key, did:jwk); did:iota keys are Ed25519."""
    try:
        return method_key(resolve_local(did)["verificationMethod"][0]).alg
    except (ProtocolError, KeyError, IndexError):  # not self-describing: the ledger's only key type
        return "EdDSA"


# --- session state ---------------------------------------------------------------------------

def _auth(ctx: StepContext, args: Inputs) -> dict[str, str]:
    token = args.text("token")
    if token is None:
        token = ctx.state.get(TOKEN)
        if token is None:
            raise InputError("no holder access token: run holder.login first, or give `token`")
    return {} if token == NONE else {"Authorization": f"Bearer {token}"}


def _remember_did(ctx: StepContext, held: HeldDid) -> None:
    ctx.state.setdefault(DIDS, {})[held.did] = held
    ctx.state[CURRENT_DID] = held.did


def _did(ctx: StepContext, args: Inputs) -> tuple[str, str]:
    """(holder DID, its private key): given, else the scenario's current DID and its key."""
    did = args.text("did") or ctx.state.get(CURRENT_DID)
    if did is None:
        raise InputError("no holder DID: run holder.create_did or holder.import_did first, or give `did`")
    held = ctx.state.get(DIDS, {}).get(did)
    private_key = args.text("private_key") or (held.private_key if held else None)
    if private_key is None:
        raise InputError(f"no private key for {did}: give `private_key`")
    return did, private_key


async def _send(ctx: StepContext, calls: Calls, method: str, path: str, args: Inputs,
                json: Any = None) -> httpx.Response | None:
    kwargs: dict[str, Any] = {"headers": _auth(ctx, args)}
    if json is not None:
        kwargs["json"] = json
    return await calls.send(method, ctx.url("holder", path), **kwargs)


def _body(response: httpx.Response | None) -> Mapping[str, Any]:
    body = json_of(response) if succeeded(response) else None
    return body if isinstance(body, Mapping) else {}


# --- §1 users ----------------------------------------------------------------------------------

async def register(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    # A random password that meets the seed's policy (letters and digits), drawn from the seeded rng.
    password = args.text("password") or f"Pw{ctx.rng.getrandbits(64):016x}9"
    body: dict[str, Any] = {"name": args.text("name") or f"Harness user {ctx.rng.getrandbits(32):08x}",
                            "password": password}
    if args.text("uuid"):
        body["uuid"] = args.text("uuid")
    response = await calls.send("POST", ctx.url("holder", "/v1/user/register"), json=body)
    user = _body(response)
    if "uuid" in user:
        ctx.state[USER] = {"uuid": user["uuid"], "password": password}
        # Every user of the scenario stays known, so `holder.login` with a uuid can switch back.
        ctx.state.setdefault(USERS, {})[user["uuid"]] = password
    return calls.result(response, {"user": dict(user) or None})


async def login(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    known = ctx.state.get(USER, {})
    uuid = args.text("uuid") or known.get("uuid")
    password = args.text("password") or ctx.state.get(USERS, {}).get(uuid) or known.get("password")
    if uuid is None or password is None:
        raise InputError("holder.login: no user: run holder.register first, or give `uuid` and `password`")
    response = await calls.send("POST", ctx.url("holder", "/v1/user/login"),
                                json={"uuid": uuid, "password": password})
    token = _body(response).get("access_token")
    if isinstance(token, str):
        ctx.state[TOKEN] = token
    return calls.result(response)


# --- §1 DIDs -------------------------------------------------------------------------------------

async def create_did(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    method = args.text("method", "IOTA")
    response = await _send(ctx, calls, "POST", "/v1/did", args, {"method": method})
    created = _body(response)
    artefacts: dict[str, Any] = {}
    if isinstance(created.get("did"), str) and isinstance(created.get("private_key"), str):
        held = HeldDid(created["did"], created["private_key"], METHOD_ALGS.get(method, "EdDSA"))
        _remember_did(ctx, held)
        artefacts = {"did": held.did, "holder_key": held.public()}
    return calls.result(response, artefacts)


async def import_did(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    did, private_key = args.text("did"), args.text("private_key")
    if did is None:
        kind = args.text("method", "KEY")
        if kind not in IMPORT_KINDS:
            raise InputError(f"holder.import_did: input 'method' must be one of {', '.join(IMPORT_KINDS)}")
        scheme, alg = IMPORT_KINDS[kind]
        key = generate_key(alg)
        held = HeldDid(LOCAL_DIDS[scheme](key.public), raw_b64u(key), alg)
    elif private_key is None:
        raise InputError("holder.import_did: `did` needs its `private_key`")
    else:
        held = HeldDid(did, private_key, _alg_of(did))
    response = await _send(ctx, calls, "POST", "/v1/did/import", args,
                           {"did": held.did, "private_key": held.private_key})
    if succeeded(response):
        _remember_did(ctx, held)
    return calls.result(response, {"did": held.did, "private_key": held.private_key, "holder_key": held.public()})


async def list_dids(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await _send(ctx, calls, "GET", "/v1/did", args)
    return calls.result(response)


async def delete_did(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    did = args.text("did") or ctx.state.get(CURRENT_DID)
    if did is None:
        raise InputError("holder.delete_did: no DID: give `did`")
    response = await _send(ctx, calls, "DELETE", f"/v1/did/{quote(did, safe='')}", args)
    return calls.result(response, {"did": did})


# --- §2 receive ----------------------------------------------------------------------------------

async def offer_details(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await _send(ctx, calls, "POST", "/v1/oid4vci/offer-details", args,
                           {"credential_offer_uri": args.text("offer", required=True)})
    return calls.result(response)


async def receive(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    did, private_key = _did(ctx, args)
    body: dict[str, Any] = {"credential_offer_uri": args.text("offer", required=True), "holder_did": did,
                            "private_key": private_key}
    config = args.text("config")
    if config is not None:
        body["credential_configuration_id"] = config_id(ctx, config)
    if args.text("user_pin") is not None:
        body["user_pin"] = args.text("user_pin")
    if args.flag("notarize") is not None:
        body["notarize_on_iota"] = args.flag("notarize")
    response = await _send(ctx, calls, "POST", "/v1/oid4vci/receive", args, body)
    received = _body(response)
    held = ctx.state.get(DIDS, {}).get(did)
    return calls.result(response, {"credential": received.get("raw_credential"),
                                   "credential_id": received.get("credential_id"),
                                   "holder_key": held.public() if held and held.private_key == private_key else None})


# --- §3 credentials --------------------------------------------------------------------------------

def _credential_path(args: Inputs) -> str:
    return f"/v1/vc/{quote(args.text('credential_id', required=True) or '', safe='')}"


async def list_credentials(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await _send(ctx, calls, "GET", "/v1/vc", args)
    return calls.result(response)


async def get_credential(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await _send(ctx, calls, "GET", _credential_path(args), args)
    return calls.result(response, {"credential": _body(response).get("raw_credential")})


async def delete_credential(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await _send(ctx, calls, "DELETE", _credential_path(args), args)
    return calls.result(response)


# --- §4 present ------------------------------------------------------------------------------------

async def request_details(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    response = await _send(ctx, calls, "POST", "/v1/oid4vp/request-details", args,
                           {"authorization_request_uri": args.text("request", required=True)})
    matches = _body(response).get("matching_credentials")
    if isinstance(matches, list):
        ctx.state[MATCHES] = matches
    return calls.result(response, {"matching_credentials": matches})


def _selection(ctx: StepContext, args: Inputs) -> list[Any]:
    """selected_credentials: given whole, or one credential, or every remembered match."""
    selected = args.array("selected")
    if selected is not None:
        return selected
    claims = args.array("disclosed_claims")
    if args.text("credential_id") is not None:
        entry: dict[str, Any] = {"credential_id": args.text("credential_id"),
                                 "query_id": args.text("query_id", required=True)}
        if claims is not None:
            entry["disclosed_claims"] = claims
        return [entry]
    matches = ctx.state.get(MATCHES)
    if not matches:
        raise InputError("holder.present: nothing to present: run holder.request_details first (with "
                         "matching credentials), or give `selected` or `credential_id` + `query_id`")
    return [{"credential_id": m.get("credential_id"), "query_id": m.get("query_id"),
             "disclosed_claims": claims if claims is not None else m.get("requested_claims")}
            for m in matches if isinstance(m, Mapping)]


async def present(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    did, private_key = _did(ctx, args)
    body: dict[str, Any] = {"authorization_request_uri": args.text("request", required=True),
                            "selected_credentials": _selection(ctx, args), "holder_did": did,
                            "private_key": private_key}
    mode = args.text("verification_mode")
    if mode is not None:
        body["verification_mode"] = mode
    response = await _send(ctx, calls, "POST", "/v1/oid4vp/presentation", args, body)
    return calls.result(response, {"selected_credentials": body["selected_credentials"]})


OPERATIONS = {
    "holder.register": register, "holder.login": login,
    "holder.create_did": create_did, "holder.import_did": import_did, "holder.list_dids": list_dids,
    "holder.delete_did": delete_did,
    "holder.offer_details": offer_details, "holder.receive": receive,
    "holder.list_credentials": list_credentials, "holder.get_credential": get_credential,
    "holder.delete_credential": delete_credential,
    "holder.request_details": request_details, "holder.present": present,
}

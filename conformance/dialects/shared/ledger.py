"""ledger.*: the IOTA-like ledger's public reads (objects, DID resolution) and DID writes.

Paths: `GET /v1/objects/{id}` (the notarization object whose state holds the issuer-signed JWT,
issuer seed "How to verify the on-chain record"), `GET /1.0/identifiers/{did}` (DIF Universal
Resolver convention, W3C DID Resolution HTTP(S) binding), `POST /v1/dids` and
`POST /v1/dids/{did}/deactivate` (a transaction signed by the DID's capabilityInvocation key,
IOTA DID Method Specification v2.0, Deactivate).
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

from conformance.dialects.base import Calls, InputError, OperationResult, StepContext, json_of, succeeded
from conformance.dialects.identities import publish_iota, raw_b64u
from conformance.dialects.inputs import Inputs
from conformance.protocol.errors import ProtocolError
from conformance.protocol.jose import generate_key, private_key_from_b64u, sign_jws


async def ledger_object(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    object_id = args.text("object_id", required=True)
    response = await calls.send("GET", ctx.url("ledger", f"/v1/objects/{quote(object_id, safe='')}"))
    return calls.result(response, {"ledger_object": json_of(response) if succeeded(response) else None,
                                   "credential": args.text("credential")})


async def resolve(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    did = args.text("did", required=True)
    response = await calls.send("GET", ctx.url("ledger", f"/1.0/identifiers/{quote(did, safe=':')}"),
                                headers={"Accept": "application/did-resolution"})
    body = json_of(response)
    document = body.get("didDocument") if isinstance(body, dict) else None
    return calls.result(response, {"did_document": document})


async def create_did(ctx: StepContext, args: Inputs) -> OperationResult:
    calls = Calls(ctx)
    key = generate_key("EdDSA")
    published = await publish_iota(ctx, calls, key, args.text("network"))
    artefacts = {}
    if published.did is not None:
        artefacts = {"did": published.did, "kid": published.kid, "private_key": raw_b64u(key),
                     "public_jwk": key.public.to_jwk()}
    return calls.result(published.response, artefacts)


async def deactivate_did(ctx: StepContext, args: Inputs) -> OperationResult:
    did: str = args.text("did", required=True)  # type: ignore[assignment]
    try:
        key = private_key_from_b64u(args.text("private_key", required=True), "EdDSA")  # type: ignore[arg-type]
    except ProtocolError as exc:
        raise InputError(f"ledger.deactivate_did: input 'private_key': {exc.message}") from None
    proof = sign_jws({"typ": "JWT"}, {"op": "deactivate", "did": did, "iat": int(ctx.now()),
                                      "jti": str(uuid.uuid4())}, key)
    calls = Calls(ctx)
    response = await calls.send("POST", ctx.url("ledger", f"/v1/dids/{quote(did, safe=':')}/deactivate"),
                                json={"proof": proof})
    body = json_of(response)
    document = body.get("didDocument") if isinstance(body, dict) else None
    return calls.result(response, {"did": did, "did_document": document})


OPERATIONS = {"ledger.object": ledger_object, "ledger.resolve": resolve, "ledger.create_did": create_did,
              "ledger.deactivate_did": deactivate_did}

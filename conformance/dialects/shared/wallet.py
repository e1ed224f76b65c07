"""wallet.receive / wallet.present: the harness's own wallet on the standard wires.

OID4VCI 1.0 and OID4VP 1.0 are the same whatever vendor API manages the issuer or verifier, so
these operations belong to no dialect. The wallet (conformance.wallet.HarnessWallet, one per
scenario) remembers what it received, so `wallet.present` can answer with it.

A wallet that stops on a 2xx answer it cannot accept (a credential whose signature fails, a
request object that does not verify) reports why in `artefacts.error`; that is also the step's
error, so a scenario expecting success cannot pass on it.
"""

from __future__ import annotations

from typing import Any

from conformance.dialects.base import InputError, OperationResult, StepContext
from conformance.dialects.inputs import Inputs
from conformance.dialects.names import config_id
from conformance.exchange import Recorder, Unreachable
from conformance.resolver import DidResolver


def _result(recorder: Recorder, outcome: Any) -> OperationResult:
    artefacts = {k: v for k, v in dict(outcome.artefacts).items() if v is not None}
    artefacts["stage"] = outcome.stage
    return OperationResult(outcome.status, outcome.body, recorder.exchanges, artefacts,
                           artefacts.get("error"))


def _unreachable(recorder: Recorder, exc: Unreachable) -> OperationResult:
    return OperationResult(None, None, recorder.exchanges, {}, str(exc))


async def receive(ctx: StepContext, args: Inputs) -> OperationResult:
    config = args.text("config")
    recorder = Recorder(ctx.target.http)
    try:
        outcome = await ctx.wallet.receive(
            recorder, args.text("offer", required=True), tx_code=args.text("tx_code"),
            config_id=config_id(ctx, config) if config else None, alg=args.text("alg", "ES256"),
            faults=args.strings("faults"))
    except Unreachable as exc:
        return _unreachable(recorder, exc)
    return _result(recorder, outcome)


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


OPERATIONS = {"wallet.receive": receive, "wallet.present": present}

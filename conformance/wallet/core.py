"""HarnessWallet: the harness's own protocol-level wallet.

It lets the harness test an issuer through its OID4VCI 1.0 wire endpoints and a verifier through
its OID4VP 1.0 endpoints with no holder service in between, and misbehave on purpose (`faults`)
for the negative cases. Every HTTP call goes through the caller's `Recorder`, so the exchanges
land in the report; every outcome is a `WalletOutcome`, never an exception (an unknown fault
name is a programming error: ValueError).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence

from conformance.exchange import Recorder
from conformance.resolver import DidResolver
from conformance.wallet.faults import PRESENT_FAULTS, RECEIVE_FAULTS, checked_faults
from conformance.wallet.held import HeldCredential
from conformance.wallet.outcome import Flow, WalletOutcome, run
from conformance.wallet.present import _Present
from conformance.wallet.receive import _Receive


class HarnessWallet:
    """`rng` draws every value the wallet invents (wrong codes, nonces, salts); keys come from
    the OS. `clock` gives iat of key proofs and KB-JWTs and the `exp` check of Request Objects.
    `ledger_url` lets the wallet resolve did:iota Verifier identifiers (see `present`)."""

    def __init__(self, rng: random.Random, clock: Callable[[], float] = time.time, *,
                 ledger_url: str | None = None) -> None:
        self.rng = rng
        self.clock = clock
        self.ledger_url = ledger_url
        self.held: list[HeldCredential] = []
        self.spent_nonces: list[str] = []  # c_nonces used in successful Credential Requests

    async def receive(self, send: Recorder, offer: str, *, tx_code: str | None = None,
                      config_id: str | None = None, alg: str = "ES256",
                      faults: Collection[str] = ()) -> WalletOutcome:
        """Run the pre-authorized code flow for `offer` (an `openid-credential-offer://` link with
        credential_offer_uri or credential_offer, an http(s) offer URI, or the offer JSON).
        `config_id` defaults to the offer's first configuration; `alg` is the holder key's
        (ES256 or EdDSA). On success the credential is appended to `held`.
        Artefacts: offer, issuer_metadata, as_metadata, token_response (secrets redacted),
        c_nonce, config_id, proof_jwt, credential, issuer_jwt, holder_key (PublicKey)."""
        chosen = checked_faults(faults, RECEIVE_FAULTS, "receive")
        flow = Flow(send, "offer")
        steps = _Receive(self, flow, faults=chosen, tx_code=tx_code, config_id=config_id, alg=alg)
        return await run(flow, steps.run(offer))

    async def present(self, send: Recorder, request: str, *, credential: HeldCredential | None = None,
                      disclose: Mapping[str, Sequence[Sequence[str | int | None]]] | None = None,
                      request_uri_method: str | None = None, faults: Collection[str] = (),
                      resolver: DidResolver | None = None) -> WalletOutcome:
        """Answer the `openid4vp://` Authorization Request `request`.

        The credential per query is the newest held one DCQL matches, disclosing the claims the
        query names; `credential` forces one (presented even if it does not match), `disclose`
        maps a credential query id to the claims path pointers to disclose instead.
        `request_uri_method` ("get"/"post") overrides the request's. `resolver` resolves the
        Verifier's DID; by default did:key/did:jwk locally and did:iota via `ledger_url`.
        Artefacts: request_jwt, request_object (claims), client_id, response_mode,
        request_uri_method, request_fetches, request_content_type, wallet_nonce (when it POSTed
        one), dcql_result, presentation, disclosed, holder_key, vp_token (or error_response),
        redirect_uri / response_code (when the verifier answers with a redirect_uri)."""
        chosen = checked_faults(faults, PRESENT_FAULTS, "present")
        if request_uri_method not in (None, "get", "post"):
            raise ValueError(f"request_uri_method must be 'get' or 'post' (OID4VP 1.0 §5.10), got "
                             f"{request_uri_method!r}")
        flow = Flow(send, "request")
        steps = _Present(self, flow, faults=chosen, credential=credential, disclose=disclose,
                         request_uri_method=request_uri_method, resolver=resolver)
        return await run(flow, steps.run(request))

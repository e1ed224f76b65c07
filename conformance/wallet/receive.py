"""OID4VCI 1.0 pre-authorized code flow, run by the harness wallet against an issuer's wire
endpoints: Credential Offer (§4.1) -> Credential Issuer Metadata (§12.2.2) -> Authorization
Server Metadata (§12.3, RFC 8414 §3) -> Token Request (§6.1) -> Nonce (§7) -> Credential Request
with a `jwt` key proof (§8.2, Appendix F.1). The faults of `RECEIVE_FAULTS` each alter one input.
"""

from __future__ import annotations

import json
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from random import Random
from typing import TYPE_CHECKING, Any

from conformance.protocol.errors import Oid4vciError, ProtocolError
from conformance.protocol.jose import PrivateKey, b64u_encode, b64u_json, generate_key, parse_jws, sign_jws
from conformance.protocol.oid4vci import (
    PRE_AUTHORIZED_GRANT,
    CredentialOffer,
    IssuerMetadata,
    TokenRequest,
    TokenResponse,
    TxCode,
    build_credential_request,
    build_proof_jwt,
    parse_authorization_server_metadata,
    parse_credential_offer,
    parse_credential_response,
    parse_issuer_metadata,
    parse_nonce_response,
    parse_offer_link,
    parse_token_response,
    well_known_url,
)
from conformance.redact import redact
from conformance.wallet.held import HeldCredential
from conformance.wallet.outcome import Flow, Stopped
from conformance.wallet.tamper import flip_signature

if TYPE_CHECKING:
    from conformance.wallet.core import HarnessWallet

ISSUER_WELL_KNOWN = "openid-credential-issuer"
AS_WELL_KNOWN = "oauth-authorization-server"
JSON_ACCEPT = {"Accept": "application/json"}


# --- the key proof and its faults (Appendix F.1, F.4) ------------------------------------------


@dataclass(frozen=True)
class ProofDraft:
    """A key proof before signing. `signer` None: an unsigned `alg: none` JWT (RFC 7519 §6.1)."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    signer: PrivateKey | None
    finish: Callable[[str], str] = field(default=lambda token: token)

    def sign(self) -> str:
        if self.signer is None:
            unsigned = f"{b64u_json({**self.header, 'alg': 'none'})}.{b64u_json(self.payload)}."
            return self.finish(unsigned)
        return self.finish(sign_jws(self.header, self.payload, self.signer))


def _without(payload: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != name}


ProofFault = Callable[[ProofDraft, "_Receive"], ProofDraft]
PROOF_FAULTS: Mapping[str, ProofFault] = {
    "proof_wrong_aud": lambda d, r: replace(d, payload={**d.payload, "aud": r.metadata.credential_endpoint}),
    "proof_stale_nonce": lambda d, r: replace(d, payload={**d.payload, "nonce": r.stale_nonce()}),
    "proof_no_nonce": lambda d, r: replace(d, payload=_without(d.payload, "nonce")),
    "proof_bad_signature": lambda d, r: replace(d, finish=flip_signature),
    "proof_wrong_typ": lambda d, r: replace(d, header={**d.header, "typ": "JWT"}),
    "proof_alg_none": lambda d, r: replace(d, signer=None),
    # The jwk header still names the holder key: only the signing key changes.
    "proof_other_key": lambda d, r: replace(d, signer=generate_key(r.alg)),
}


def wrong_tx_code(tx_code: TxCode | None, given: str | None, rng: Random) -> str:
    """A value in the offer's tx_code shape (§4.1.1 input_mode, length) that is not `given`."""
    numeric = tx_code is None or tx_code.input_mode == "numeric"
    alphabet = string.digits if numeric else string.ascii_letters + string.digits
    length = (tx_code.length if tx_code and tx_code.length else None) or len(given or "") or 6
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(length))
        if value != given:
            return value


# --- the flow ------------------------------------------------------------------------------


class _Receive:
    def __init__(self, wallet: HarnessWallet, flow: Flow, *, faults: frozenset[str], tx_code: str | None,
                 config_id: str | None, alg: str) -> None:
        self.wallet, self.flow, self.faults = wallet, flow, faults
        self.tx_code, self.config_id, self.alg = tx_code, config_id, alg
        self.metadata: IssuerMetadata

    async def run(self, offer_text: str) -> None:
        offer = await self._offer(offer_text)
        self.metadata = await self._issuer_metadata(offer)
        token_endpoint = await self._token_endpoint(offer)
        token = await self._token(offer, token_endpoint)
        nonce = await self._nonce()
        await self._credential(offer, token, nonce)

    # offer (§4.1) --------------------------------------------------------------------------

    async def _offer(self, text: str) -> CredentialOffer:
        flow = self.flow
        flow.stage = "offer"
        try:
            if text.lstrip().startswith("{"):
                raw = _json_text(text)
            else:
                link = parse_offer_link(text)
                if link.offer is not None:
                    raw = link.offer.to_json()
                else:
                    response = await flow.call("offer", "GET", link.offer_uri, headers=JSON_ACCEPT)
                    raw = flow.json(response, "the Credential Offer")
            flow.artefacts["offer"] = redact(raw)
            offer = parse_credential_offer(raw)
        except ProtocolError as exc:
            flow.reject(exc)
        if offer.pre_authorized is None:
            flow.fail("unsupported_grant", "the offer has no pre-authorized_code grant; the harness wallet "
                      "runs the pre-authorized code flow only (§4.1.1)")
        return offer

    # metadata (§12.2.2, §12.3) -------------------------------------------------------------

    async def _issuer_metadata(self, offer: CredentialOffer) -> IssuerMetadata:
        url = well_known_url(offer.credential_issuer, ISSUER_WELL_KNOWN)
        response = await self.flow.call("metadata", "GET", url, headers=JSON_ACCEPT)
        raw = self.flow.json(response, "the Credential Issuer Metadata")
        self.flow.artefacts["issuer_metadata"] = raw
        return self.flow.checked(parse_issuer_metadata, raw, expected_issuer=offer.credential_issuer)

    async def _token_endpoint(self, offer: CredentialOffer) -> str:
        """§4.1.1: the grant may name its Authorization Server; else the metadata's (§12.2.4)."""
        assert offer.pre_authorized is not None
        server = offer.pre_authorized.authorization_server or self.metadata.authorization_server
        response = await self.flow.call("metadata", "GET", well_known_url(server, AS_WELL_KNOWN),
                                        headers=JSON_ACCEPT)
        raw = self.flow.json(response, "the Authorization Server Metadata")
        self.flow.artefacts["as_metadata"] = raw
        return self.flow.checked(parse_authorization_server_metadata, raw, expected_issuer=server).token_endpoint

    # token (§6) ------------------------------------------------------------------------------

    async def _token(self, offer: CredentialOffer, endpoint: str) -> TokenResponse:
        assert offer.pre_authorized is not None
        expected = offer.pre_authorized.tx_code
        self.flow.artefacts["tx_code_required"] = expected is not None
        tx_code = self.tx_code
        if "wrong_tx_code" in self.faults:
            tx_code = wrong_tx_code(expected, self.tx_code, self.wallet.rng)
        form = TokenRequest(PRE_AUTHORIZED_GRANT, offer.pre_authorized.code, tx_code).to_form()
        response = await self.flow.call("token", "POST", endpoint, data=form)
        raw = self.flow.json(response, "the Token Response")
        self.flow.artefacts["token_response"] = redact(raw)
        if "reuse_code" in self.faults:
            # The outcome is the replay's answer, whatever it is.
            await self.flow.call("token", "POST", endpoint, data=form)
            raise Stopped()
        token = self.flow.checked(parse_token_response, raw)
        if token.token_type.lower() != "bearer":
            self.flow.fail("unsupported_token_type", f"token_type {token.token_type!r}: the harness wallet "
                           "sends Bearer tokens only (no DPoP proofs)")
        return token

    # nonce (§7) ------------------------------------------------------------------------------

    async def _nonce(self) -> str | None:
        if self.metadata.nonce_endpoint is None:
            return None  # §7: without a Nonce Endpoint, key proofs carry no c_nonce
        response = await self.flow.call("nonce", "POST", self.metadata.nonce_endpoint, headers=JSON_ACCEPT)
        c_nonce = self.flow.checked(parse_nonce_response, self.flow.json(response, "the Nonce Response")).c_nonce
        self.flow.artefacts["c_nonce"] = c_nonce
        return c_nonce

    def stale_nonce(self) -> str:
        spent = self.wallet.spent_nonces
        self.flow.artefacts["stale_nonce_source"] = "spent" if spent else "never_issued"
        return spent[-1] if spent else b64u_encode(self.wallet.rng.randbytes(24))

    # credential (§8) ---------------------------------------------------------------------------

    async def _credential(self, offer: CredentialOffer, token: TokenResponse, nonce: str | None) -> None:
        flow = self.flow
        config_id = self.config_id or offer.credential_configuration_ids[0]
        if "unknown_config" in self.faults:
            config_id = f"unknown-configuration-{self.wallet.rng.getrandbits(32):08x}"
        flow.artefacts["config_id"] = config_id
        key = generate_key(self.alg)
        flow.artefacts["holder_key"] = key.public
        proofs = [] if "proof_missing" in self.faults else [self._proof(key, offer, nonce)]
        if proofs:
            flow.artefacts["proof_jwt"] = proofs[0]
        request = build_credential_request(config_id, proofs).to_json()
        response = await flow.call("credential", "POST", self.metadata.credential_endpoint, json=request,
                                   headers={**JSON_ACCEPT, "Authorization": f"Bearer {token.access_token}"})
        if nonce is not None:
            self.wallet.spent_nonces.append(nonce)
        self._hold(flow.json(response, "the Credential Response"), key, config_id, offer)

    def _proof(self, key: PrivateKey, offer: CredentialOffer, nonce: str | None) -> str:
        token = build_proof_jwt(key, aud=offer.credential_issuer, nonce=nonce, iat=int(self.wallet.clock()))
        chosen = [name for name in PROOF_FAULTS if name in self.faults]
        if not chosen:
            return token
        jws = parse_jws(token)
        draft = ProofDraft(_without(jws.header, "alg"), jws.payload, key)
        for name in chosen:
            draft = PROOF_FAULTS[name](draft, self)
        return draft.sign()

    def _hold(self, raw: Any, key: PrivateKey, config_id: str, offer: CredentialOffer) -> None:
        flow = self.flow
        response = flow.checked(parse_credential_response, raw)
        if response.transaction_id is not None:
            # §9 deferred issuance: reported, not polled.
            flow.artefacts["transaction_id"] = response.transaction_id
            return
        credential = response.credentials[0]
        if not isinstance(credential, str):
            flow.fail("unsupported_credential", "credentials[0].credential is not a string; a dc+sd-jwt "
                      "credential is a compact SD-JWT (OID4VCI 1.0 A.3.4)")
        flow.artefacts["credential"] = credential
        held = flow.checked(HeldCredential.parse, credential, key, config_id=config_id,
                            credential_issuer=offer.credential_issuer)
        flow.artefacts["issuer_jwt"] = held.issuer_jwt
        self.wallet.held.append(held)


def _json_text(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise Oid4vciError("invalid_request", f"the Credential Offer is not JSON: {exc.msg}",
                           "credential_offer") from None

"""Shared helpers for the harness wallet tests (no tests here).

`Rig` is the embedded reference deployment (`build_reference()`) with a HarnessWallet, a
Recorder, and the management calls the tests need: issuer offers (issuer seed, POST /v1/offers)
and verifier sessions (verifier seed, POST /v1/verifier/authorization-request).
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from conformance.exchange import Recorder
from conformance.protocol.did import did_key_from_public
from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key, sign_jws
from conformance.protocol.sdjwt import parse_sd_jwt
from conformance.wallet import HarnessWallet, WalletOutcome
from reference.deployment import ReferenceDeployment, build_reference

TURING_CONFIG = "TuringCerts_Standard_Credential_v2_sd_jwt"
TURING_CLAIMS = {"credentialName": "University Degree", "issuedTime": "2026-03-26T00:00:00Z"}
IDENTITY_CONFIG = "IdentityCredential"
IDENTITY_CLAIMS = {"given_name": "Ana", "family_name": "Silva", "document_number": "X123"}
TURING_QUERY = {"credentials": [{
    "id": "certificate", "format": "dc+sd-jwt", "meta": {"vct_values": [TURING_CONFIG]},
    "claims": [{"path": ["credentialName"]}],
}]}
IDENTITY_QUERY = {"credentials": [{
    "id": "identity", "format": "dc+sd-jwt", "meta": {"vct_values": ["urn:vc-conformance:IdentityCredential:1"]},
    "claims": [{"path": ["given_name"]}, {"path": ["family_name"]}],
}]}


@dataclass
class Rig:
    ref: ReferenceDeployment
    wallet: HarnessWallet
    send: Recorder

    @property
    def issuer(self) -> str:
        return self.ref.urls["issuer"]

    @property
    def verifier(self) -> str:
        return self.ref.urls["verifier"]

    def recorder(self) -> Recorder:
        """A fresh recorder, so a test sees only the exchanges of the flow it runs."""
        self.send = Recorder(self.send.http)
        return self.send

    async def offer(self, *, tenant: str = "issuer", config: str = TURING_CONFIG,
                    claims: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
        response = await self.send.http.post(
            f"{self.issuer}/v1/offers", headers={"X-API-Key": self.ref.api_keys[tenant]},
            json={"credential": {"config_id": config, "claims": claims or TURING_CLAIMS},
                  "flow": "pre-authorized", **extra})
        assert response.status_code == 201, response.text
        return response.json()

    async def receive(self, *, tenant: str = "issuer", config: str = TURING_CONFIG,
                      claims: dict[str, Any] | None = None, **kw: Any) -> WalletOutcome:
        offer = await self.offer(tenant=tenant, config=config, claims=claims)
        outcome = await self.wallet.receive(self.recorder(), offer["deep_link"], **kw)
        assert outcome.succeeded, (outcome.status, outcome.body, outcome.error)
        return outcome

    async def verifier_did(self, client: str = "did:key") -> tuple[PrivateKey, str]:
        key = generate_key("EdDSA")
        if client == "did:key":
            return key, did_key_from_public(key.public)
        proof = sign_jws({"jwk": key.public.to_jwk()}, {"op": "create", "iat": int(self.ref.clock.now())}, key)
        response = await self.send.http.post(f"{self.ref.urls['ledger']}/v1/dids", json={"proof": proof})
        assert response.status_code == 201, response.text
        return key, response.json()["did"]

    async def session(self, dcql: dict[str, Any] = TURING_QUERY, *, mode: str = "direct_post",
                      client: str = "did:key", **extra: Any) -> dict[str, Any]:
        key, did = await self.verifier_did(client)
        response = await self.send.http.post(
            f"{self.verifier}/v1/verifier/authorization-request",
            headers={"X-API-Key": self.ref.api_keys["verifier"]},
            json={"dcql_query": dcql, "verifier_private_key": b64u_encode(key.raw()),
                  "verifier_client_id": did, "response_mode": mode,
                  "client_metadata": {"client_name": "Wallet tests"}, **extra})
        assert response.status_code == 201, response.text
        return response.json()

    async def result(self, session: dict[str, Any]) -> dict[str, Any]:
        response = await self.send.http.get(f"{self.verifier}/v1/verifier/result/{session['session_id']}",
                                            headers={"X-API-Key": self.ref.api_keys["verifier"]})
        assert response.status_code == 200, response.text
        return response.json()

    async def present(self, session: dict[str, Any], **kw: Any) -> WalletOutcome:
        return await self.wallet.present(self.recorder(), session["authorization_request"], **kw)


@asynccontextmanager
async def rig(seed: int = 7) -> AsyncIterator[Rig]:
    ref = build_reference(seed=seed)
    try:
        wallet = HarnessWallet(random.Random(seed), ref.clock.now, ledger_url=ref.urls["ledger"])
        yield Rig(ref, wallet, Recorder(ref.client()))
    finally:
        await ref.aclose()


def first_failure(result: dict[str, Any]) -> tuple[str, str]:
    failed = [c for c in result.get("check_results", []) if c["status"] == "fail"]
    assert failed, result
    return failed[0]["check"], failed[0]["reason_code"]


def kb_payload(presentation: str) -> dict[str, Any]:
    kb = parse_sd_jwt(presentation).kb_jws
    assert kb is not None, "the presentation carries no KB-JWT"
    return kb.payload

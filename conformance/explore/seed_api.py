"""The seed APIs (issuer, holder, verifier: shared/seeds 000, 001, 004) as the explorer calls them.

The properties and the fuzzer's holder login speak these APIs directly - the `tcs` dialect, which
the reference implements - over a `Recorder`, so each example's exchanges can go into the report.
A reply is data, never an exception: the property decides what status it expects (`expect`).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from conformance.exchange import Recorder, parse_body
from conformance.protocol.did import did_key_from_public
from conformance.protocol.jose import b64u_encode, generate_key
from conformance.redact import redact

DIALECT = "tcs"
ISSUER_METADATA = "/.well-known/openid-credential-issuer"


class PropertyFailure(AssertionError):
    """A property does not hold; the message says what was expected and what happened."""


@dataclass(frozen=True)
class Reply:
    method: str
    url: str
    status: int
    body: Any

    def describe(self) -> str:
        return f"{self.method} {self.url} answered {self.status}: {_short(redact(self.body))}"


def expect(reply: Reply, status: int, what: str) -> Any:
    """The reply's body when it has `status`, else a PropertyFailure naming the step."""
    if reply.status != status:
        raise PropertyFailure(f"{what}: expected HTTP {status}; {reply.describe()}")
    return reply.body


def fresh_password() -> str:
    """A password meeting the seed holder's policy (letters and digits)."""
    return f"pw{secrets.token_hex(8)}9x"


def _short(body: Any, limit: int = 300) -> str:
    text = repr(body)
    return text if len(text) <= limit else text[:limit] + " …"


@dataclass(frozen=True)
class Account:
    uuid: str
    token: str = ""

    @property
    def auth(self) -> dict[str, str]:
        """The Authorization header; none for an account without a token (to test the 401)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass(frozen=True)
class VerifierSession:
    session_id: str
    authorization_request: str
    client_id: str


class SeedApi:
    """`base_urls` role -> base URL; `api_keys` role -> X-API-Key (issuer, verifier)."""

    def __init__(self, send: Recorder, base_urls: Mapping[str, str], api_keys: Mapping[str, str | None]) -> None:
        self.send, self.base_urls, self.api_keys = send, dict(base_urls), dict(api_keys)

    @classmethod
    def for_target(cls, target: Any, send: Recorder | None = None) -> SeedApi:
        roles = target.roles
        return cls(send or Recorder(target.http), {r: e.base_url for r, e in roles.items()},
                   {r: e.api_key for r, e in roles.items()})

    async def call(self, role: str, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                   **kwargs: Any) -> Reply:
        url = self.base_urls[role].rstrip("/") + path
        response = await self.send.send(method, url, headers=dict(headers or {}), **kwargs)
        return Reply(method, url, response.status_code, parse_body(response))

    def _key(self, role: str) -> dict[str, str]:
        key = self.api_keys.get(role)
        return {"X-API-Key": key} if key else {}

    # --- issuer (seed 000) ----------------------------------------------------------------------

    async def issuer_metadata(self) -> Reply:
        return await self.call("issuer", "GET", ISSUER_METADATA)

    async def create_offer(self, config_id: str, claims: Mapping[str, Any], **extra: Any) -> Reply:
        body = {"credential": {"config_id": config_id, "claims": dict(claims)}, "flow": "pre-authorized", **extra}
        return await self.call("issuer", "POST", "/v1/offers", headers=self._key("issuer"), json=body)

    # --- holder (seed 001) ----------------------------------------------------------------------

    async def register(self, name: str, password: str) -> Reply:
        return await self.call("holder", "POST", "/v1/user/register", json={"name": name, "password": password})

    async def login(self, uuid: str, password: str) -> Reply:
        return await self.call("holder", "POST", "/v1/user/login", json={"uuid": uuid, "password": password})

    async def account(self, name: str, password: str | None = None) -> Account:
        """Register and log in; PropertyFailure when the holder refuses either."""
        password = password or fresh_password()
        uuid = expect(await self.register(name, password), 201, "holder register")["uuid"]
        token = expect(await self.login(uuid, password), 200, "holder login")["access_token"]
        return Account(uuid, token)

    async def create_did(self, user: Account, method: str) -> Reply:
        return await self.call("holder", "POST", "/v1/did", headers=user.auth, json={"method": method})

    async def list_dids(self, user: Account) -> Reply:
        return await self.call("holder", "GET", "/v1/did", headers=user.auth)

    async def delete_did(self, user: Account, did: str) -> Reply:
        return await self.call("holder", "DELETE", f"/v1/did/{quote(did, safe='')}", headers=user.auth)

    async def receive(self, user: Account, offer_uri: str, did: str, private_key: str) -> Reply:
        return await self.call("holder", "POST", "/v1/oid4vci/receive", headers=user.auth, json={
            "credential_offer_uri": offer_uri, "holder_did": did, "private_key": private_key})

    async def list_credentials(self, user: Account) -> Reply:
        return await self.call("holder", "GET", "/v1/vc", headers=user.auth)

    async def get_credential(self, user: Account, credential_id: str) -> Reply:
        return await self.call("holder", "GET", f"/v1/vc/{credential_id}", headers=user.auth)

    async def delete_credential(self, user: Account, credential_id: str) -> Reply:
        return await self.call("holder", "DELETE", f"/v1/vc/{credential_id}", headers=user.auth)

    async def request_details(self, user: Account, uri: str) -> Reply:
        return await self.call("holder", "POST", "/v1/oid4vp/request-details", headers=user.auth,
                               json={"authorization_request_uri": uri})

    async def present(self, user: Account, uri: str, did: str, private_key: str,
                      selections: list[dict[str, Any]]) -> Reply:
        return await self.call("holder", "POST", "/v1/oid4vp/presentation", headers=user.auth, json={
            "authorization_request_uri": uri, "holder_did": did, "private_key": private_key,
            "selected_credentials": selections})

    # --- verifier (seed 004) --------------------------------------------------------------------

    async def verifier_request(self, dcql: Mapping[str, Any], *, response_mode: str = "direct_post") -> VerifierSession:
        """A verification session under a fresh did:key verifier identity."""
        key = generate_key("EdDSA")
        reply = await self.call("verifier", "POST", "/v1/verifier/authorization-request",
                                headers=self._key("verifier"), json={
                                    "dcql_query": dict(dcql), "verifier_private_key": b64u_encode(key.raw()),
                                    "verifier_client_id": did_key_from_public(key.public),
                                    "response_mode": response_mode,
                                    "client_metadata": {"client_name": "conformance explore"}})
        body = expect(reply, 201, "verifier authorization-request")
        return VerifierSession(body["session_id"], body["authorization_request"], body["client_id"])

    async def verifier_result(self, session_id: str) -> Reply:
        return await self.call("verifier", "GET", f"/v1/verifier/result/{session_id}", headers=self._key("verifier"))

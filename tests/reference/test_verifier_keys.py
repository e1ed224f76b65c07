"""The shared issuer-key and status-list readers (conformance/issuer_keys.py,
conformance/status_fetch.py) that the verifier's `signature` and `status` checks and the holder's
receive / status-on-read both use: every key source, the x5c policies, and which failures are
transient (cannot check now) rather than final (does not check)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.issuer_keys import NOT_RESOLVABLE, IssuerKeyError, IssuerKeys, load_trust_anchors
from conformance.net import Network, make_client
from conformance.protocol.jose import PrivateKey, generate_key
from conformance.protocol.status_list import StatusList, build_status_list_token
from conformance.resolver import DidResolver
from conformance.status_fetch import StatusFetchError, StatusListFetcher
from tests.reference.test_verifier_flow import did_kid
from tests.reference.test_verifier_issuers import CA, pki_signer, self_signed_chain

ISSUER = "https://issuer.example"
LIST_URI = f"{ISSUER}/lists/1"
NOW = 1_790_000_000.0


class IssuerHost:
    """An https issuer: JWT VC Issuer Metadata (SD-JWT VC §5) and one Status List Token, with
    knobs for the ways such a host goes wrong. `hits` counts status list fetches."""

    def __init__(self, key: PrivateKey) -> None:
        self.key = key
        self.metadata: dict[str, Any] = {"issuer": ISSUER, "jwks": {"keys": [{**key.public.to_jwk(), "kid": "k1"}]}}
        self.status_header: dict[str, Any] = {"kid": "k1"}
        self.status_claims: dict[str, Any] = {"iss": ISSUER}
        self.status_exp: int | None = None
        self.list_status = 200
        self.hits = 0

    def app(self) -> Starlette:
        async def metadata(request: Request) -> Response:
            return JSONResponse(self.metadata)

        async def jwks(request: Request) -> Response:
            return JSONResponse({"keys": [{**self.key.public.to_jwk(), "kid": "k1"}]})

        async def status_list(request: Request) -> Response:
            self.hits += 1
            if self.list_status != 200:
                return Response("no", status_code=self.list_status)
            token = build_status_list_token(key=self.key, header=self.status_header, sub=LIST_URI, iat=int(NOW),
                                            exp=self.status_exp, status_list=StatusList.empty(1, 8).with_status(3, 1),
                                            claims=self.status_claims)
            return Response(token, media_type="application/statuslist+jwt")
        return Starlette(routes=[Route("/.well-known/jwt-vc-issuer", metadata), Route("/jwks", jwks),
                                 Route("/lists/1", status_list)])


def world(**keys_options: Any) -> tuple[Network, httpx.AsyncClient, IssuerHost, IssuerKeys]:
    network = Network()
    http = make_client(network)
    host = IssuerHost(generate_key("EdDSA"))
    network.mount(ISSUER, host.app())
    keys = IssuerKeys(DidResolver(http, "http://ledger.local"), http, timeout=2.0, **keys_options)
    return network, http, host, keys


# --- JWT VC Issuer Metadata ----------------------------------------------------------------------


@pytest.mark.anyio
async def test_https_issuer_key_from_metadata_jwks_and_jwks_uri() -> None:
    network, http, host, keys = world()
    async with http:
        found = await keys.for_jwt({"kid": "k1"}, {"iss": ISSUER}, NOW)
        assert found.source == "jwt-vc-issuer" and found.key.to_jwk() == host.key.public.to_jwk()
        host.metadata = {"issuer": ISSUER, "jwks_uri": f"{ISSUER}/jwks"}
        assert (await keys.for_jwt({"kid": "k1"}, {"iss": ISSUER}, NOW)).issuer == ISSUER
        with pytest.raises(IssuerKeyError) as unknown_kid:
            await keys.for_jwt({"kid": "k2"}, {"iss": ISSUER}, NOW)
        assert unknown_kid.value.reason == NOT_RESOLVABLE and not unknown_kid.value.transient
        host.metadata = {"issuer": "https://someone-else.example", "jwks": host.metadata}
        with pytest.raises(IssuerKeyError) as other_issuer:
            await keys.for_jwt({"kid": "k1"}, {"iss": ISSUER}, NOW)
        assert not other_issuer.value.transient
        network.set_reachable(ISSUER, False)
        with pytest.raises(IssuerKeyError) as down:
            await keys.for_jwt({"kid": "k1"}, {"iss": ISSUER}, NOW)
        assert down.value.reason == NOT_RESOLVABLE and down.value.transient


@pytest.mark.anyio
async def test_did_issuers_unreachable_ledger_is_transient_unknown_did_is_not() -> None:
    _, http, _, keys = world()
    async with http:
        iota = "did:iota:testnet:0x" + "ab" * 32
        with pytest.raises(IssuerKeyError) as away:
            await keys.for_jwt({"kid": f"{iota}#key-1"}, {"iss": iota}, NOW)
        assert away.value.transient and "resolver_unreachable" in away.value.message
        key = generate_key("EdDSA")
        did, kid = did_kid(key)
        assert (await keys.for_jwt({"kid": kid}, {"iss": did}, NOW)).issuer == did
        # A did:key whose fragment names no key of that DID: final, not transient.
        with pytest.raises(IssuerKeyError) as missing:
            await keys.for_jwt({"kid": f"{did}#nope"}, {"iss": did}, NOW)
        assert not missing.value.transient
        with pytest.raises(IssuerKeyError) as nothing:
            await keys.for_jwt({}, {}, NOW)
        assert nothing.value.reason == NOT_RESOLVABLE and nothing.value.field == "issuer_jwt.header"


# --- x5c policies --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_x5c_anchored_unanchored_and_refused() -> None:
    _, x5c, _ = pki_signer()
    header, payload = {"x5c": x5c}, {"iss": "http://issuer.local"}
    _, http, _, anchored = world(anchors=load_trust_anchors((CA,)))
    async with http:
        assert (await anchored.for_jwt(header, payload, NOW)).anchored is True
    _, http, _, lenient = world(require_anchor=False)
    async with http:
        found = await lenient.for_jwt(header, payload, NOW)
        assert found.anchored is False and found.source == "x5c" and found.key.alg == "ES256"
        # Consistency is still required: a chain whose second certificate did not sign the first.
        _, rogue = self_signed_chain(NOW)
        with pytest.raises(IssuerKeyError, match="not issued by"):
            await lenient.for_jwt({"x5c": [*x5c, *rogue]}, payload, NOW)
        # And validity at `now`.
        late = dt.datetime(2100, 1, 1, tzinfo=dt.UTC).timestamp()
        with pytest.raises(IssuerKeyError, match="not valid at this time"):
            await lenient.for_jwt(header, payload, late)
    _, http, _, strict = world()
    async with http:
        with pytest.raises(IssuerKeyError, match="no trust anchors"):
            await strict.for_jwt(header, payload, NOW)


# --- status lists --------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_status_list_is_cached_for_its_ttl_and_never_past_its_exp() -> None:
    _, http, host, keys = world()
    async with http:
        fetcher = StatusListFetcher(http, keys, timeout=2.0, cache_ttl=60)
        first = await fetcher.fetch(LIST_URI, now=NOW)
        assert first.status_list.get(3) == 1 and first.status_list.get(2) == 0 and host.hits == 1
        assert (await fetcher.fetch(LIST_URI, now=NOW + 30)) is first and host.hits == 1
        await fetcher.fetch(LIST_URI, now=NOW + 61)
        assert host.hits == 2
        host.status_exp = int(NOW + 150)
        fresh = await fetcher.fetch(LIST_URI, now=NOW + 122)
        assert host.hits == 3 and fresh.expires_at == NOW + 150
        # Within the cache ttl but past the cached token's exp: fetched again (and the issuer's
        # token is expired by now too, so it does not verify).
        with pytest.raises(StatusFetchError, match="expired"):
            await fetcher.fetch(LIST_URI, now=NOW + 160)
        assert host.hits == 4
        uncached = StatusListFetcher(http, keys, timeout=2.0)
        host.status_exp = None
        await uncached.fetch(LIST_URI, now=NOW)
        await uncached.fetch(LIST_URI, now=NOW)
        assert host.hits == 6


@pytest.mark.anyio
async def test_status_list_signing_key_and_failures() -> None:
    network, http, host, keys = world()
    async with http:
        fetcher = StatusListFetcher(http, keys, timeout=2.0)
        credential_key = await keys.for_jwt({"kid": "k1"}, {"iss": ISSUER}, NOW)
        # A token that names no key is verified with the credential's key, and only then.
        host.status_header, host.status_claims = {}, {}
        assert (await fetcher.fetch(LIST_URI, now=NOW, credential_key=credential_key)).status_list.get(3) == 1
        with pytest.raises(StatusFetchError, match="names no key"):
            await fetcher.fetch(LIST_URI, now=NOW)
        # A token signed by another key than the one it names does not verify.
        other = generate_key("EdDSA")
        host.key, host.status_header, host.status_claims = other, {"kid": "k1"}, {"iss": ISSUER}
        host.metadata = {"issuer": ISSUER, "jwks": {"keys": [{**credential_key.key.to_jwk(), "kid": "k1"}]}}
        with pytest.raises(StatusFetchError) as bad_signature:
            await fetcher.fetch(LIST_URI, now=NOW)
        assert bad_signature.value.reason == "status_list_unavailable" and not bad_signature.value.transient
        host.list_status = 404
        with pytest.raises(StatusFetchError) as missing:
            await fetcher.fetch(LIST_URI, now=NOW)
        assert not missing.value.transient
        host.list_status = 503
        with pytest.raises(StatusFetchError) as busy:
            await fetcher.fetch(LIST_URI, now=NOW)
        assert busy.value.transient
        network.set_reachable(ISSUER, False)
        with pytest.raises(StatusFetchError) as down:
            await fetcher.fetch(LIST_URI, now=NOW)
        assert down.value.transient

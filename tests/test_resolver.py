"""DidResolver against a mocked ledger (respx): the DIF Universal Resolver answers, faults and
the local methods that must never touch the network."""

import httpx
import pytest
import respx

from conformance.protocol import did as dids
from conformance.protocol import jose
from conformance.protocol.errors import DidError, ProtocolError
from conformance.resolver import REASONS, DidResolver, ResolutionError

pytestmark = pytest.mark.anyio

LEDGER = "http://ledger.test"
DID = "did:iota:testnet:0x" + "7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
ENDPOINT = f"{LEDGER}/1.0/identifiers/{DID}"


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
async def http():
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def resolver(http):
    return DidResolver(http, LEDGER + "/", timeout=0.5)


def _result(document, deactivated=False):
    return {"didDocument": document,
            "didResolutionMetadata": {"contentType": "application/did+ld+json"},
            "didDocumentMetadata": {"deactivated": deactivated}}


async def _reason(coro) -> str:
    with pytest.raises(ResolutionError) as exc:
        await coro
    return exc.value.reason


@respx.mock
async def test_resolves_a_ledger_did_and_its_key(resolver):
    signer = jose.generate_key("EdDSA")
    document = dids.build_did_document(DID, signer.public)
    route = respx.get(ENDPOINT).respond(200, json=_result(document))
    assert await resolver.resolve(DID) == document
    key = await resolver.key_for(f"{DID}#key-1")
    token = jose.sign_jws({"kid": f"{DID}#key-1"}, {"iss": DID}, signer)
    assert jose.verify_jws(token, key).payload == {"iss": DID}
    assert (await resolver.key_for(DID)).to_jwk() == signer.public.to_jwk()
    assert route.call_count == 3
    assert "did-resolution" in route.calls.last.request.headers["accept"]


@respx.mock
async def test_key_for_a_fragment_that_is_not_an_assertion_key(resolver):
    document = dids.build_did_document(DID, jose.generate_key().public,
                                       relationships=("authentication",))
    respx.get(ENDPOINT).respond(200, json=_result(document))
    with pytest.raises(DidError) as exc:
        await resolver.key_for(f"{DID}#key-1")
    assert exc.value.reason == "verification_method_not_found"
    assert await resolver.key_for(f"{DID}#key-1", "authentication")


@pytest.mark.parametrize("status,body,reason", [
    (404, {"didResolutionMetadata": {"error": "notFound"}}, "did_not_found"),
    (404, None, "did_not_found"),
    (410, {"didResolutionMetadata": {}, "didDocumentMetadata": {"deactivated": True}},
     "did_deactivated"),
    (400, {"didResolutionMetadata": {"error": "invalidDid"}}, "invalid_did"),
    (501, {"didResolutionMetadata": {"error": "methodNotSupported"}}, "method_not_supported"),
    (500, None, "resolver_unreachable"),
    (503, {"didResolutionMetadata": {"error": "internalError"}}, "resolver_unreachable"),
    (418, None, "invalid_did_document"),
])
@respx.mock
async def test_error_answers(resolver, status, body, reason):
    answer = {"json": body} if body is not None else {"text": "oops"}
    respx.get(ENDPOINT).respond(status, **answer)
    assert await _reason(resolver.resolve(DID)) == reason


@respx.mock
async def test_deactivated_did_with_200(resolver):
    document = dids.build_did_document(DID, jose.generate_key().public)
    respx.get(ENDPOINT).respond(200, json=_result(document, deactivated=True))
    assert await _reason(resolver.resolve(DID)) == "did_deactivated"


@pytest.mark.parametrize("answer", [
    {"text": "<html>not json</html>"},
    {"json": ["a", "list"]},
    {"json": {"didResolutionMetadata": {}}},                      # no didDocument
    {"json": {"didDocument": "did:iota:..."}},                    # not an object
    {"json": _result({"id": "did:iota:0x" + "0" * 64})},          # someone else's document
])
@respx.mock
async def test_invalid_resolution_results(resolver, answer):
    respx.get(ENDPOINT).respond(200, **answer)
    assert await _reason(resolver.resolve(DID)) == "invalid_did_document"


@pytest.mark.parametrize("fault", [httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"),
                                   httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("cut")])
@respx.mock
async def test_unreachable_ledger(resolver, fault):
    respx.get(ENDPOINT).mock(side_effect=fault)
    assert await _reason(resolver.resolve(DID)) == "resolver_unreachable"


async def test_timeout_is_enforced():
    import anyio

    async def slow(request):
        await anyio.sleep(5)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(slow)) as client:
        resolver = DidResolver(client, LEDGER, timeout=0.05)
        with anyio.fail_after(2):
            # MockTransport ignores httpx timeouts, so the resolver's own deadline must act.
            assert await _reason(resolver.resolve(DID)) == "resolver_unreachable"


@respx.mock
async def test_local_methods_never_touch_the_network(resolver):
    signer = jose.generate_key("ES256")
    for did in (dids.did_key_from_public(signer.public), dids.did_jwk_from_public(signer.public)):
        assert (await resolver.key_for(did)).to_jwk() == signer.public.to_jwk()
    assert respx.calls.call_count == 0


async def test_ledger_did_without_ledger(http):
    assert await _reason(DidResolver(http, None).resolve(DID)) == "resolver_not_configured"


async def test_unsupported_method(resolver):
    assert await _reason(resolver.resolve("did:web:example.com")) == "method_not_supported"


@respx.mock
async def test_seed_non_grammar_did_fails_before_any_request(resolver):
    with pytest.raises(DidError) as exc:
        await resolver.resolve("did:iota:issuer-ntu-001")
    assert exc.value.reason == "invalid_did"
    assert respx.calls.call_count == 0


def test_resolution_error_is_a_did_error_with_documented_reasons():
    assert issubclass(ResolutionError, DidError) and issubclass(ResolutionError, ProtocolError)
    assert {"did_not_found", "resolver_unreachable", "invalid_did_document",
            "did_deactivated"} <= set(REASONS)

"""The ledger's OpenAPI 3.1 document: valid, complete (every route, nothing more), served, and
true to real responses - here under schemathesis-generated requests; every other ledger test
checks its own responses through the kit's client hook."""

from __future__ import annotations

import jsonschema
import pytest
import schemathesis
from hypothesis import settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.routing import Route

from reference.common.clock import FakeClock
from reference.ledger import LedgerSettings, create_app
from reference.ledger.store import open_store
from tests.reference.test_ledger_kit import DOC, LEDGER, running_ledger


def test_document_is_valid_openapi_31():
    # schemathesis ships the OAS 3.1 meta-schema; openapi-spec-validator is not installed.
    from schemathesis.specs.openapi.definitions import OPENAPI_31

    jsonschema.Draft202012Validator(OPENAPI_31).validate(DOC)
    for schema in DOC["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


def _refs(node):
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_ref_resolves():
    for ref in _refs(DOC):
        _, *path = ref.split("/")
        node = DOC
        for part in path:
            assert part in node, f"dangling $ref {ref}"
            node = node[part]


def test_document_and_routes_match():
    app = create_app(LedgerSettings(), store=open_store(":memory:"), clock=FakeClock())
    served = {(method.lower(), route.path) for route in app.routes if isinstance(route, Route)
              for method in route.methods - {"HEAD"}}
    documented = {(method, path) for path, item in DOC["paths"].items() for method in item}
    assert served == documented


@pytest.mark.anyio
async def test_served_document_is_this_document():
    async with running_ledger() as ledger:
        assert (await ledger.get("/openapi.json")).json() == DOC


# schemathesis needs the schema at collection time (its from_fixture breaks under pytest 9).
_FUZZ_STORE = open_store(":memory:")
fuzz = schemathesis.openapi.from_asgi("/openapi.json", create_app(
    LedgerSettings(LEDGER, latency=0.0, admin_key="fuzz-admin-key"), store=_FUZZ_STORE,
    clock=FakeClock()))


def teardown_module():
    _FUZZ_STORE.close()


@fuzz.parametrize()
@settings(max_examples=25, deadline=None)
def test_generated_requests_get_documented_answers(case):
    # Not `call_and_validate()`'s full default set: positive-data acceptance cannot hold for
    # proofs, which a schema cannot describe as validly signed.
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance,
                                   content_type_conformance, response_schema_conformance])


@pytest.mark.anyio
async def test_the_contract_hook_catches_what_the_document_does_not_say():
    """The hook every ledger and holder test client runs can fail: an undocumented status, another
    media type, and a body off the schema are each caught."""
    import httpx

    from tests.reference.test_ledger_kit import CONTRACT

    def answer(status: int, body: bytes, media_type: str = "application/json") -> httpx.Response:
        request = httpx.Request("GET", f"{LEDGER}/v1/notarizations/00000000-0000-4000-8000-000000000000")
        return httpx.Response(status, content=body, headers={"content-type": media_type}, request=request)

    good = b'{"request_id": "00000000-0000-4000-8000-000000000000", "status": "queued", ' \
           b'"object_id": null, "error": null}'
    await CONTRACT.check(answer(200, good))
    with pytest.raises(AssertionError, match="answered 418"):
        await CONTRACT.check(answer(418, good))
    with pytest.raises(AssertionError, match="content-type"):
        await CONTRACT.check(answer(200, good, "text/plain"))
    with pytest.raises(jsonschema.ValidationError):
        await CONTRACT.check(answer(200, good.replace(b'"queued"', b'"pending"')))

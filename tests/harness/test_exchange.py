"""record/Recorder: every round trip is captured redacted; transport trouble is a value."""

from __future__ import annotations

import httpx
import pytest

from conformance.exchange import Recorder, Unreachable, record
from conformance.net import Network, make_client
from conformance.redact import REDACTED

pytestmark = pytest.mark.anyio


def _echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, json={"seen": request.headers.get("x-api-key"), "password": "p4ssw0rd!"})


async def test_record_redacts_both_directions() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(_echo)) as http:
        response, exchange = await record(http, "POST", "http://t.local/x",
                                          headers={"X-API-Key": "k-secret-123"},
                                          json={"private_key": "abc", "name": "n"})
    assert response is not None and response.status_code == 201
    assert exchange.request_headers["X-API-Key"] == REDACTED
    assert exchange.request_body == {"private_key": REDACTED, "name": "n"}
    assert exchange.response_body["password"] == REDACTED
    assert exchange.error is None and exchange.elapsed_ms >= 0


async def test_unreachable_host_is_reported_not_raised() -> None:
    async with make_client(Network()) as http:
        response, exchange = await record(http, "GET", "http://nowhere.local/")
        assert response is None and exchange.status is None
        assert "ConnectError" in exchange.error
        recorder = Recorder(http)
        with pytest.raises(Unreachable, match="nowhere.local"):
            await recorder.send("GET", "http://nowhere.local/")
        assert len(recorder.exchanges) == 1


async def test_timeout_names_the_limit() -> None:
    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(hang), timeout=2.5) as http:
        _, exchange = await record(http, "GET", "http://t.local/")
    assert exchange.error == "timeout after 2.5 s"


def test_tx_code_is_secret_as_a_pin_but_not_as_an_offer_description() -> None:
    from conformance.redact import redact
    assert redact({"tx_code": "493536"}) == {"tx_code": REDACTED}
    offer = {"grants": {"pre-authorized_code": "x", "tx_code": {"length": 6, "input_mode": "numeric"}}}
    assert redact(offer)["grants"]["tx_code"] == {"length": 6, "input_mode": "numeric"}

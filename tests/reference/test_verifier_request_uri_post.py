"""request_uri_method=post on the reference verifier (OID4VP 1.0 §5.10, §5.10.1): the create body's
`request_uri_method` (an extension to the seed) reaches the Authorization Request, and a wallet
POSTing a `wallet_nonce` gets the Request Object re-signed with it, for as long as the session
waits for its response. The key that signs it lives in memory only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.protocol.did import did_key_from_public
from conformance.protocol.errors import Oid4vpError
from conformance.protocol.jose import b64u_encode, parse_jws
from conformance.protocol.oid4vp import RequestObject, parse_authorization_request, verify_request_object
from reference.verifier import create_app, open_store
from tests.reference.test_verifier_flow import VERIFIER_URL, Rig

JAR = "application/oauth-authz-req+jwt"
FORM = {"Accept": JAR}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def post_request_uri(rig: Rig, created: dict[str, Any], **form: str) -> httpx.Response:
    return await rig.wallet.post(created["request_uri"], data=form, headers=FORM)


def verified(rig: Rig, created: dict[str, Any], token: str, wallet_nonce: str | None = None) -> RequestObject:
    """The Request Object as a wallet checks it: signed by the verifier's did:key, same client_id."""
    assert did_key_from_public(rig.verifier_key.public) == rig.verifier_did
    return verify_request_object(token, rig.verifier_key.public, expected_client_id=created["client_id"],
                                 now=rig.clock.now(), wallet_nonce=wallet_nonce)


@pytest.mark.anyio
async def test_post_offered_and_wallet_nonce_signed_into_the_request_object() -> None:
    rig = Rig()
    created = await rig.create(request_uri_method="post")
    auth = parse_authorization_request(created["authorization_request"])
    assert auth.request_uri_method == "post" and auth.request_uri == created["request_uri"]
    answer = await post_request_uri(rig, created, wallet_metadata='{"vp_formats_supported": {}}',
                                    wallet_nonce="qPmxiNFCR3QTm19POc8u")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(JAR)
    request = verified(rig, created, answer.text, wallet_nonce="qPmxiNFCR3QTm19POc8u")
    assert request.wallet_nonce == "qPmxiNFCR3QTm19POc8u"
    assert (await rig.result(created["session_id"]))["status"] == "in_progress"
    # Everything but wallet_nonce (and iat) is the Request Object signed at creation.
    plain = await rig.wallet.get(created["request_uri"], headers=FORM)
    first, second = parse_jws(plain.text).payload, parse_jws(answer.text).payload
    assert "wallet_nonce" not in first
    assert {k: v for k, v in second.items() if k not in ("wallet_nonce", "iat")} == \
           {k: v for k, v in first.items() if k != "iat"}
    assert parse_jws(plain.text).header == parse_jws(answer.text).header
    # A wallet that expects its own nonce refuses the other fetch's Request Object (§5.10.1).
    with pytest.raises(Oid4vpError, match="wallet_nonce"):
        verified(rig, created, plain.text, wallet_nonce="qPmxiNFCR3QTm19POc8u")
    # Each POST is signed for its own nonce; the session answers as usual.
    again = verified(rig, created, (await post_request_uri(rig, created, wallet_nonce="n2")).text, "n2")
    vp_token = {"degree": [rig.present(rig.issue(), again)]}
    assert (await rig.submit(again, vp_token)).status_code == 200
    assert (await rig.result(created["session_id"]))["status"] == "completed"


@pytest.mark.anyio
async def test_the_key_is_held_only_while_the_session_waits() -> None:
    rig = Rig()
    signers = rig.app.state.service.signers
    answered = await rig.create(request_uri_method="post")
    expiring = await rig.create(request_uri_method="post", expires_in=60)
    await rig.create(request_uri_method="get")
    await rig.create()
    assert len(signers) == 2 and "key" not in repr(signers).lower()
    request = verified(rig, answered, (await post_request_uri(rig, answered, wallet_nonce="w1")).text, "w1")
    assert (await rig.submit(request, {"degree": [rig.present(rig.issue(), request)]})).status_code == 200
    assert len(signers) == 1  # answered: dropped
    after = await post_request_uri(rig, answered, wallet_nonce="w2")
    assert after.status_code == 404 and after.json()["error"] == "invalid_request_uri"
    rig.clock.advance(61)
    assert len(signers) == 0  # expired: purged
    gone = await post_request_uri(rig, expiring, wallet_nonce="w3")
    assert gone.status_code == 404


@pytest.mark.anyio
@pytest.mark.parametrize(("create", "form", "says"), [
    ({"request_uri_method": "get"}, {"wallet_nonce": "abc"}, "did not offer request_uri_method=post"),
    ({}, {"wallet_nonce": "abc"}, "did not offer request_uri_method=post"),
    ({"request_uri_method": "post"}, {"wallet_nonce": ""}, "non-empty"),
    ({"request_uri_method": "post"}, {"wallet_nonce": "n" * 513}, "at most 512"),
])
async def test_wallet_nonces_the_session_cannot_sign_are_refused(create: dict[str, Any], form: dict[str, str],
                                                                  says: str) -> None:
    rig = Rig()
    created = await rig.create(**create)
    if create:
        assert f"request_uri_method={create['request_uri_method']}" in created["authorization_request"]
    else:
        assert "request_uri_method" not in created["authorization_request"]
    answer = await post_request_uri(rig, created, **form)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert says in answer.json()["error_description"]
    assert (await rig.result(created["session_id"]))["status"] == "pending"  # nothing was served
    # A POST without wallet_nonce is served the Request Object signed at creation.
    served = await post_request_uri(rig, created, wallet_metadata="{}")
    assert served.status_code == 200 and "wallet_nonce" not in parse_jws(served.text).payload


@pytest.mark.anyio
async def test_a_restart_loses_the_key_never_stores_it(tmp_path: Path) -> None:
    path = str(tmp_path / "verifier.db")
    rig = Rig(store_path=path)
    created = await rig.create(request_uri_method="post")
    assert (await post_request_uri(rig, created, wallet_nonce="before")).status_code == 200
    rig.store.close()
    rig.store = open_store(path)
    rig.app = create_app(rig.settings, store=rig.store, clock=rig.clock, http=rig.http)
    rig.network.mount(VERIFIER_URL, rig.app)
    lost = await post_request_uri(rig, created, wallet_nonce="after")
    assert lost.status_code == 400 and "restarted" in lost.json()["error_description"]
    assert (await rig.wallet.get(created["request_uri"], headers=FORM)).status_code == 200
    rig.store.close()
    dump = b"".join(p.read_bytes() for p in tmp_path.glob("verifier.db*"))
    assert rig.verifier_key.raw() not in dump and b64u_encode(rig.verifier_key.raw()).encode() not in dump


def test_a_store_written_before_the_column_gains_it(tmp_path: Path) -> None:
    import sqlite3
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE sessions (session_id TEXT PRIMARY KEY, client_id TEXT NOT NULL, request_jwt TEXT "
                "NOT NULL, nonce TEXT NOT NULL UNIQUE, state TEXT NOT NULL UNIQUE, dcql_query TEXT NOT NULL, "
                "response_mode TEXT NOT NULL, client_metadata TEXT NOT NULL, enc_private_jwk TEXT, redirect_uri "
                "TEXT, status TEXT NOT NULL, created_at REAL NOT NULL, expires_at REAL NOT NULL, fetched_at REAL, "
                "answered_at REAL, verified_at REAL, verification_mode TEXT, check_results TEXT, "
                "presentation_metadata TEXT, error TEXT)")
    old.close()
    store = open_store(str(path))
    columns = {row["name"] for row in store.all("PRAGMA table_info(sessions)")}
    assert "request_uri_method" in columns
    store.close()

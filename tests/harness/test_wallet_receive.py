"""HarnessWallet.receive against the reference issuer's OID4VCI 1.0 wire endpoints: both signing
paths, every offer form, tx_code, and each receive fault answered with the error the spec names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.exchange import Recorder
from conformance.protocol.errors import JoseError
from conformance.protocol.jose import b64u_decode, parse_jws, public_key_from_jwk
from conformance.protocol.oid4vci import PROOF_TYP, build_offer_link, parse_credential_offer
from conformance.redact import REDACTED
from conformance.resolver import DidResolver
from conformance.wallet import RECEIVE_FAULTS, WALLET_FAULTS
from tests.harness.test_wallet_kit import IDENTITY_CLAIMS, IDENTITY_CONFIG, TURING_CLAIMS, rig

pytestmark = pytest.mark.anyio


def proof_parts(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header_b64, payload_b64, signature = token.split(".")
    return (json.loads(b64u_decode(header_b64)), json.loads(b64u_decode(payload_b64)), signature)


def verifies(token: str, key: Any) -> bool:
    try:
        parse_jws(token).verify_with(key)
    except JoseError:
        return False
    return True


# --- happy paths -------------------------------------------------------------------------------


async def test_receive_on_the_did_iota_path_binds_the_holder_key() -> None:
    async with rig() as r:
        outcome = await r.receive()
        assert (outcome.status, outcome.stage, outcome.error) == (200, "credential", None)
        urls = [(e.method, e.url) for e in r.send.exchanges]
        issuer = f"{r.issuer}/turing"
        # §12.2.2 / RFC 8414 §3.1: the well-known segment goes between host and the /turing path.
        assert urls[1:] == [("GET", f"{r.issuer}/.well-known/openid-credential-issuer/turing"),
                            ("GET", f"{r.issuer}/.well-known/oauth-authorization-server/turing"),
                            ("POST", f"{r.issuer}/token"), ("POST", f"{r.issuer}/nonce"),
                            ("POST", f"{r.issuer}/credential")]
        held = r.wallet.held[-1]
        assert held.serialized == outcome.artefacts["credential"] and held.config_id == outcome.artefacts["config_id"]
        assert held.claims["credentialName"] == TURING_CLAIMS["credentialName"]
        jws = held.sd_jwt.issuer_jws
        assert jws.header["kid"].startswith("did:iota:") and jws.payload["iss"] == jws.header["kid"].split("#")[0]
        # A real signature by the issuer's DID key, resolved on the reference ledger.
        key = await DidResolver(r.send.http, r.ref.urls["ledger"]).key_for(jws.header["kid"])
        jws.verify_with(key)
        assert public_key_from_jwk(jws.payload["cnf"]["jwk"]) == outcome.artefacts["holder_key"]
        header, payload, _ = proof_parts(outcome.artefacts["proof_jwt"])
        assert header["typ"] == PROOF_TYP and header["alg"] == "ES256" and "jwk" in header
        assert payload["aud"] == issuer and payload["nonce"] == outcome.artefacts["c_nonce"]
        # Secrets stay out of artefacts and exchanges.
        grant = outcome.artefacts["offer"]["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        assert grant["pre-authorized_code"] == REDACTED
        assert outcome.artefacts["token_response"]["access_token"] == REDACTED
        assert r.send.exchanges[-1].request_headers["Authorization"] == REDACTED


async def test_receive_on_the_x509_path_with_an_eddsa_holder_key() -> None:
    async with rig() as r:
        outcome = await r.receive(tenant="issuer_x509", config=IDENTITY_CONFIG, claims=IDENTITY_CLAIMS,
                                  alg="EdDSA")
        jws = r.wallet.held[-1].sd_jwt.issuer_jws
        assert "x5c" in jws.header and jws.payload["iss"] == f"{r.issuer}/haip"
        assert jws.payload["vct"] == "urn:vc-conformance:IdentityCredential:1"
        assert outcome.artefacts["holder_key"].alg == "EdDSA"
        assert parse_jws(outcome.artefacts["proof_jwt"]).header["alg"] == "EdDSA"
        assert r.wallet.held[-1].dcql_view().authority_ids is not None  # AKIs read from x5c


@pytest.mark.parametrize("form", ["uri", "json", "by_value_link"])
async def test_every_offer_form_is_accepted(form: str) -> None:
    async with rig() as r:
        created = await r.offer()
        raw = (await r.send.http.get(created["credential_offer_uri"])).json()
        text = {"uri": created["credential_offer_uri"], "json": json.dumps(raw),
                "by_value_link": build_offer_link(offer=parse_credential_offer(raw))}[form]
        outcome = await r.wallet.receive(r.recorder(), text)
        assert outcome.succeeded, outcome
        fetched_offer = any("/v1/offers/" in e.url for e in r.send.exchanges)
        assert fetched_offer is (form == "uri")


async def test_tx_code_is_sent_when_the_offer_asks_for_one() -> None:
    async with rig() as r:
        created = await r.offer(tx_code={"input_mode": "numeric", "length": 6})
        outcome = await r.wallet.receive(r.recorder(), created["deep_link"], tx_code=created["tx_code_value"])
        assert outcome.succeeded and outcome.artefacts["tx_code_required"] is True
        missing = await r.wallet.receive(r.recorder(), (await r.offer(tx_code={"length": 6}))["deep_link"])
        assert (missing.status, missing.stage, missing.body["error"]) == (400, "token", "invalid_request")


# --- faults ----------------------------------------------------------------------------------------

# fault -> (stage, status, error, error_detail): the reference issuer's answer (OID4VCI 1.0 §6.3, §8.3.1.2).
EXPECTED = {
    "proof_missing": ("credential", 400, "invalid_proof", "proofs_missing"),
    "proof_wrong_aud": ("credential", 400, "invalid_proof", "aud_mismatch"),
    "proof_stale_nonce": ("credential", 400, "invalid_nonce", "nonce_invalid"),
    "proof_no_nonce": ("credential", 400, "invalid_proof", "nonce_missing"),
    "proof_bad_signature": ("credential", 400, "invalid_proof", "signature_invalid"),
    "proof_wrong_typ": ("credential", 400, "invalid_proof", "invalid_typ"),
    "proof_alg_none": ("credential", 400, "invalid_proof", "unsupported_alg"),
    "proof_other_key": ("credential", 400, "invalid_proof", "signature_invalid"),
    "unknown_config": ("credential", 400, "unknown_credential_configuration", None),
    "wrong_tx_code": ("token", 400, "invalid_grant", "tx_code_wrong"),
    "reuse_code": ("token", 400, "invalid_grant", "code_used"),
}


def test_every_receive_fault_has_an_expectation() -> None:
    assert set(EXPECTED) == set(RECEIVE_FAULTS)


@pytest.mark.parametrize("fault", sorted(EXPECTED))
async def test_receive_fault_yields_the_spec_error(fault: str) -> None:
    async with rig() as r:
        await r.receive()  # a first issuance: proof_stale_nonce replays its spent c_nonce
        created = await r.offer(tx_code={"input_mode": "numeric", "length": 6})
        outcome = await r.wallet.receive(r.recorder(), created["deep_link"], tx_code=created["tx_code_value"],
                                         faults=[fault])
        stage, status, error, detail = EXPECTED[fault]
        assert (outcome.stage, outcome.status, outcome.body.get("error")) == (stage, status, error), outcome.body
        assert outcome.body.get("error_detail", error) == (detail or error)
        assert len(r.wallet.held) == 1 and outcome.error is None


# fault -> what the key proof must show (the one altered member), given the correct values.
PROOF_CHANGES = {
    "proof_wrong_aud": lambda h, p, s, o: p["aud"] == o["issuer_metadata"]["credential_endpoint"],
    "proof_stale_nonce": lambda h, p, s, o: p["nonce"] != o["c_nonce"] and o["stale_nonce_source"] == "spent",
    "proof_no_nonce": lambda h, p, s, o: "nonce" not in p,
    "proof_bad_signature": lambda h, p, s, o: not verifies(o["proof_jwt"], o["holder_key"]),
    "proof_wrong_typ": lambda h, p, s, o: h["typ"] == "JWT",
    "proof_alg_none": lambda h, p, s, o: h["alg"] == "none" and s == "",
    "proof_other_key": lambda h, p, s, o: (public_key_from_jwk(h["jwk"]) == o["holder_key"]
                                           and not verifies(o["proof_jwt"], o["holder_key"])),
}


@pytest.mark.parametrize("fault", sorted(PROOF_CHANGES))
async def test_proof_faults_alter_one_member(fault: str) -> None:
    async with rig() as r:
        good = await r.receive()
        assert verifies(good.artefacts["proof_jwt"], good.artefacts["holder_key"])
        created = await r.offer()
        outcome = await r.wallet.receive(r.recorder(), created["deep_link"], faults=[fault])
        header, payload, signature = proof_parts(outcome.artefacts["proof_jwt"])
        assert PROOF_CHANGES[fault](header, payload, signature, outcome.artefacts)
        reference_header, reference_payload, _ = proof_parts(good.artefacts["proof_jwt"])
        changed = {k for k in header.keys() | reference_header.keys() if k != "jwk"
                   and header.get(k) != reference_header.get(k)}
        changed |= {k for k in payload.keys() | reference_payload.keys() if k not in ("iat", "nonce")
                    and payload.get(k) != reference_payload.get(k)}
        assert changed <= {"aud", "typ", "alg"}, changed


async def test_stale_nonce_without_history_is_one_never_issued() -> None:
    async with rig() as r:
        outcome = await r.wallet.receive(r.recorder(), (await r.offer())["deep_link"], faults=["proof_stale_nonce"])
        assert outcome.artefacts["stale_nonce_source"] == "never_issued"
        assert (outcome.status, outcome.body["error"]) == (400, "invalid_nonce")


async def test_wrong_tx_code_without_a_tx_code_offer_is_unexpected() -> None:
    async with rig() as r:
        outcome = await r.wallet.receive(r.recorder(), (await r.offer())["deep_link"], faults=["wrong_tx_code"])
        assert (outcome.stage, outcome.status, outcome.body["error"]) == ("token", 400, "invalid_request")
        assert outcome.body["error_detail"] == "tx_code_unexpected"


def test_unknown_and_misplaced_faults_are_refused() -> None:
    from conformance.wallet.faults import PRESENT_FAULTS, checked_faults
    with pytest.raises(ValueError, match="no_such_fault"):
        checked_faults(["no_such_fault"], RECEIVE_FAULTS, "receive")
    with pytest.raises(ValueError, match="other flow"):
        checked_faults(["kb_missing"], RECEIVE_FAULTS, "receive")
    with pytest.raises(ValueError, match="collection"):
        checked_faults("replay", PRESENT_FAULTS, "present")
    assert set(WALLET_FAULTS) == set(RECEIVE_FAULTS) | set(PRESENT_FAULTS)
    assert all(description.strip() for description in WALLET_FAULTS.values())


# --- the flow stops where the target fails --------------------------------------------------------


async def test_unknown_offer_stops_at_the_offer_stage() -> None:
    async with rig() as r:
        outcome = await r.wallet.receive(r.recorder(), f"{r.issuer}/v1/offers/00000000-0000-4000-8000-000000000000")
        assert (outcome.stage, outcome.status) == ("offer", 404) and len(r.send.exchanges) == 1


async def test_unreachable_issuer_is_an_outcome_not_an_exception() -> None:
    async with rig() as r:
        link = (await r.offer())["deep_link"]
        r.ref.network.set_reachable(r.issuer, False)
        outcome = await r.wallet.receive(r.recorder(), link)
        assert (outcome.stage, outcome.status, outcome.body) == ("offer", None, None)
        assert outcome.artefacts["error_reason"] == "unreachable" and "ConnectError" in outcome.error
        assert r.send.exchanges[0].error is not None


async def test_malformed_offer_json_is_reported() -> None:
    async with rig() as r:
        outcome = await r.wallet.receive(Recorder(r.send.http), '{"credential_issuer": "not a url"}')
        assert outcome.status is None and outcome.artefacts["error_reason"] == "invalid_request"
        assert "credential_issuer" in outcome.error

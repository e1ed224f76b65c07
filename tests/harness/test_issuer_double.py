"""The harness issuer double (conformance/issuer_double.py, conformance/dialects/shared/issuer_double.py):
a good offer yields what a conforming wallet accepts, each defect breaks exactly what it names
(the protocol core refuses it for that reason, nothing else), its wire is a real OID4VCI 1.0
pre-authorized code issuer (the harness wallet redeems it; codes, nonces and proofs are checked),
and the operation hosts it on a real socket for targets that are not the embedded reference -
with real keys, real signatures and real SD-JWT VCs."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from conformance.dialects.base import InputError, StepContext
from conformance.dialects.catalogue import spec_of
from conformance.dialects.inputs import Inputs
from conformance.dialects.shared import issuer_double as double_ops
from conformance.exchange import Recorder
from conformance.harness.target import RoleEndpoint, Target
from conformance.issuer_double import DEFECTS, IssuerDouble, mint, new_issuer_key, plan_credential
from conformance.issuer_keys import IssuerKeyError, IssuerKeys
from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import PublicKey, generate_key
from conformance.protocol.oid4vci import parse_offer_link
from conformance.protocol.sdjwt import parse_sd_jwt, verify_sd_jwt
from conformance.protocol.sdjwt.binding import holder_public_key
from conformance.resolver import DidResolver
from conformance.wallet import HarnessWallet

BASE = "https://issuer-double.test"
VCT = f"{BASE}/vct/Degree"
CLAIMS = {"name": "Ada", "grade": "A"}
NOW = 1_800_000_000

# What the core says about each defect (RFC 9901 §7.1; SD-JWT VC §3.2.1, §3.5); the binding
# defects verify as SD-JWTs and are caught by comparing cnf with the proved key.
REFUSALS = {
    "bad_signature": "issuer_signature_invalid",
    "expired": "credential_expired",
    "not_yet_valid": "credential_not_yet_valid",
    "wrong_typ": "typ_mismatch",
    "undisclosed_digest_missing": "disclosure_not_referenced",
}


def _draw() -> Any:
    rng = random.Random(11)
    return lambda n: "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789-._~") for _ in range(n))


def _mint(*defects: str, holder: PublicKey, key: Any = None) -> tuple[str, Any]:
    key = key or new_issuer_key("ES256", "k1")
    return mint(plan_credential(NOW, defects), issuer=BASE, key=key, vct=VCT, claims=CLAIMS, holder_key=holder), key


def _verify(credential: str, key: Any) -> Any:
    return verify_sd_jwt(credential, issuer_key=key.key.public, now=NOW, holder_binding=None)


# --- minting --------------------------------------------------------------------------------------


def test_a_good_credential_verifies_and_is_bound_to_the_proved_key() -> None:
    holder = generate_key("ES256").public
    credential, key = _mint(holder=holder)
    verified = _verify(credential, key)
    assert verified.claims["iss"] == BASE and verified.claims["vct"] == VCT
    assert {k: verified.claims[k] for k in CLAIMS} == CLAIMS
    assert verified.header["kid"] == "k1" and verified.header["typ"] == "dc+sd-jwt"
    assert holder_public_key(verified.claims).to_jwk() == holder.to_jwk()


@pytest.mark.parametrize("defect", sorted(REFUSALS))
def test_each_defect_is_refused_by_the_core_for_its_own_reason(defect: str) -> None:
    holder = generate_key("ES256").public
    credential, key = _mint(defect, holder=holder)
    with pytest.raises(SdJwtError) as refused:
        _verify(credential, key)
    assert refused.value.reason == REFUSALS[defect]


@pytest.mark.parametrize("defect", ["no_cnf", "cnf_other_key"])
def test_binding_defects_verify_but_are_not_bound_to_the_proved_key(defect: str) -> None:
    holder = generate_key("ES256").public
    credential, key = _mint(defect, holder=holder)
    claims = _verify(credential, key).claims
    if defect == "no_cnf":
        assert "cnf" not in claims
    else:
        assert holder_public_key(claims).to_jwk() != holder.to_jwk()


def test_defects_change_only_what_they_name() -> None:
    """Apart from what it names, a defective credential's plan is the good one's."""
    good = plan_credential(NOW, ())
    assert good.exp > good.iat == NOW and good.nbf is None
    for name in DEFECTS:
        changed = {f for f in vars(good) if getattr(good, f) != getattr(plan_credential(NOW, (name,)), f)}
        assert changed and changed <= {"iat", "exp", "nbf", "bind", "signer", "typ", "drop_digest", "corrupt"}, name
    assert plan_credential(NOW, ("expired",)).exp < NOW < plan_credential(NOW, ("not_yet_valid",)).nbf


def test_unknown_defects_and_the_catalogue() -> None:
    with pytest.raises(ValueError, match="unknown issuer double defect"):
        plan_credential(NOW, ("nope",))
    described = spec_of("issuer.double_offer").inputs["defects"]
    assert all(name in described for name in DEFECTS)
    assert spec_of("issuer.double_offer").roles == ("holder",)


# --- the wire, redeemed by the harness wallet ---------------------------------------------------


@pytest.fixture
async def wired() -> AsyncIterator[tuple[IssuerDouble, httpx.AsyncClient]]:
    double = IssuerDouble(BASE, draw=_draw(), clock=lambda: NOW)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=double.app()), timeout=5.0) as http:
        yield double, http


def _offer(double: IssuerDouble, *defects: str, config: str = "Degree") -> str:
    offer = double.add_offer(offer_id=f"o{len(double.offers)}", config_id=config, vct=VCT, claims=CLAIMS,
                             defects=defects)
    return double.deep_link(offer)


async def _issuer_key(http: httpx.AsyncClient, credential: str) -> PublicKey:
    jws = parse_sd_jwt(credential).issuer_jws
    return (await IssuerKeys(DidResolver(http, None), http).for_jwt(jws.header, jws.payload, NOW)).key


@pytest.mark.anyio
async def test_the_harness_wallet_redeems_a_good_offer_and_finds_the_issuer_key(wired: Any) -> None:
    double, http = wired
    link = _offer(double)
    assert parse_offer_link(link).offer_uri == f"{BASE}/offers/o0"
    outcome = await HarnessWallet(random.Random(1), clock=lambda: NOW).receive(Recorder(http), link)
    assert (outcome.status, outcome.stage) == (200, "credential"), outcome.body
    credential = outcome.artefacts["credential"]
    verified = verify_sd_jwt(credential, issuer_key=await _issuer_key(http, credential), now=NOW,
                             holder_binding=None)
    assert holder_public_key(verified.claims).to_jwk() == outcome.artefacts["holder_key"].to_jwk()
    assert double.offers["o0"].redeemed and double.offers["o0"].issued == [credential]
    assert outcome.artefacts["issuer_metadata"]["credential_configurations_supported"]["Degree"]["vct"] == VCT


@pytest.mark.anyio
async def test_an_unpublished_key_cannot_be_resolved(wired: Any) -> None:
    double, http = wired
    outcome = await HarnessWallet(random.Random(2), clock=lambda: NOW).receive(
        Recorder(http), _offer(double, "unknown_issuer_key"))
    assert outcome.status == 200
    with pytest.raises(IssuerKeyError) as refused:
        await _issuer_key(http, outcome.artefacts["credential"])
    assert refused.value.reason == "issuer_key_not_resolvable" and not refused.value.transient


@pytest.mark.anyio
@pytest.mark.parametrize(("fault", "status", "error"), [
    ("reuse_code", 400, "invalid_grant"),            # §4.1.1: the pre-authorized code is single use
    ("proof_wrong_aud", 400, "invalid_proof"),       # F.4: aud is the Credential Issuer Identifier
    ("proof_stale_nonce", 400, "invalid_nonce"),     # §7: only a c_nonce this issuer gave
    ("proof_no_nonce", 400, "invalid_proof"),        # F.1: a nonce is required with a Nonce Endpoint
    ("proof_bad_signature", 400, "invalid_proof"),
    ("unknown_config", 400, "unknown_credential_configuration"),
])
async def test_the_wire_refuses_what_an_issuer_must(wired: Any, fault: str, status: int, error: str) -> None:
    double, http = wired
    outcome = await HarnessWallet(random.Random(3), clock=lambda: NOW).receive(
        Recorder(http), _offer(double), faults=[fault])
    assert outcome.status == status and outcome.body["error"] == error, outcome.body
    assert outcome.body["error_description"].isascii()
    assert not double.offers["o0"].issued


@pytest.mark.anyio
async def test_the_credential_endpoint_wants_a_live_bearer_token(wired: Any) -> None:
    double, http = wired
    answer = await http.post(f"{BASE}/credential", json={}, headers={"Authorization": "Bearer forged"})
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    assert (await http.get(f"{BASE}/offers/unknown")).status_code == 404


def test_offers_refuse_a_configuration_with_two_types() -> None:
    double = IssuerDouble(BASE, draw=_draw(), clock=lambda: NOW)
    _offer(double)
    with pytest.raises(ValueError, match="already has vct"):
        double.add_offer(offer_id="x", config_id="Degree", vct=f"{BASE}/other", claims=CLAIMS, defects=())
    with pytest.raises(ValueError, match="needs at least one claim"):
        double.add_offer(offer_id="y", config_id="Empty", vct=VCT, claims={}, defects=("undisclosed_digest_missing",))


# --- the operation, hosted on a real socket (a target that is not the embedded reference) ---------


def _socket_context() -> StepContext:
    http = httpx.AsyncClient(timeout=5.0)
    target = Target("socket-test", "tcs", {"holder": RoleEndpoint("http://127.0.0.1:9")}, {}, http)
    return StepContext(target=target, vars={}, rng=random.Random(5), wallet=None)


def _inputs(**given: Any) -> Inputs:
    return Inputs("issuer.double_offer", given, tuple(spec_of("issuer.double_offer").inputs))


@pytest.mark.anyio
async def test_the_operation_hosts_the_issuer_on_a_socket() -> None:
    ctx = _socket_context()
    try:
        created = await double_ops.create_offer(ctx, _inputs(defects=["bad_signature"], claims=CLAIMS))
        uri = created.body["credential_offer_uri"]
        assert uri.startswith("http://127.0.0.1:") and created.body["defects"] == ["bad_signature"]
        assert created.artefacts["offer"]["credential_issuer"] == created.body["credential_issuer"]
        fetched = await ctx.target.http.get(uri)
        assert fetched.status_code == 200 and fetched.json() == created.artefacts["offer"]
        keys = (await ctx.target.http.get(created.artefacts["issuer_key_url"])).json()["jwks"]["keys"]
        assert [k["kid"] for k in keys] == [created.artefacts["issuer_kid"]]
        outcome = await HarnessWallet(random.Random(6)).receive(Recorder(ctx.target.http), created.body["deep_link"])
        with pytest.raises(SdJwtError, match="signature"):
            verify_sd_jwt(outcome.artefacts["credential"], issuer_key=created.artefacts["issuer_key"],
                          now=int(ctx.now()), holder_binding=None)
        second = await double_ops.create_offer(ctx, _inputs())   # the same issuer, a good offer
        assert second.body["credential_issuer"] == created.body["credential_issuer"]
        with pytest.raises(InputError, match="unknown issuer double defect"):
            await double_ops.create_offer(ctx, _inputs(defects=["nope"]))
    finally:
        await ctx.aclose()
        await ctx.target.http.aclose()
    with pytest.raises(httpx.ConnectError):   # the cleanup stopped the server
        async with httpx.AsyncClient() as http:
            await http.get(uri)

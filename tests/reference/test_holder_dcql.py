"""The DCQL vectors (fixtures/vectors/dcql), through the holder service this time.

tests/protocol/test_dcql_vectors.py runs every vector directly against the engine. Here each
vector whose wallet is made of SD-JWT VCs becomes a real wallet: every credential is issued as a
signed SD-JWT VC (every claim selectively disclosable, recursively) bound to the user's DID and
put in the holder's store; the query is served by the harness Verifier (conformance/rp.py) as a
signed Request Object. Then, through the holder seed's API:

- request-details must match exactly the credentials the vector expects, per credential query,
  with the claims the vector expects (when it says), and say whether the query can be satisfied;
- for a satisfiable query, a presentation of one candidate per credential query the engine would
  answer must reach the Verifier and be accepted there: signatures, KB-JWT, the DCQL query on what
  the Verifier sees (credential_sets included), and no Disclosure beyond the requested claims.

Vectors outside what a custodial SD-JWT VC wallet can hold are left to the engine test, each
with its reason: other formats, unbound credentials, issuer-specific trust (trusted_authorities,
`issuer`), reserved claim names, and strict-mode parsing.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from conformance.protocol.dcql import parse_query
from conformance.protocol.did import did_jwk_from_public, resolve_local
from conformance.protocol.jose import Jws, PublicKey, generate_key, private_key_from_b64u
from conformance.protocol.sdjwt import issue_sd_jwt_vc
from conformance.protocol.sdjwt.issuance import VC_NON_DISCLOSABLE
from conformance.resolver import DidResolver
from conformance.rp import RelyingParty, authorization_request, judge, new_identity, plan_request
from reference.holder.held import path_name
from reference.holder.store import CredentialRow
from tests.reference.test_holder_kit import User, World, holder_world

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "dcql"
RP = "https://rp.local"
_RESERVED = VC_NON_DISCLOSABLE | {"iat", "sub", "jti", "_sd", "_sd_alg", "..."}


def _unfit(case: dict[str, Any]) -> str | None:
    """Why a vector cannot run through an SD-JWT VC custodial wallet, or None."""
    if case.get("strict"):
        return "strict-mode parsing (engine only)"
    for credential in case["wallet"]:
        if credential.get("format") != "dc+sd-jwt" or not isinstance(credential.get("vct"), str):
            return "a wallet credential that is not an SD-JWT VC with a vct"
        if credential.get("cryptographic_holder_binding") is False:
            return "an unbound credential (the holder binds every credential to a DID)"
        if {"issuer", "aki", "authority_ids"} & set(credential):
            return "issuer-specific trust data the holder derives from the real issuer"
        if _RESERVED & set(credential.get("claims", {})):
            return "a claim name SD-JWT VC reserves"
    if any("trusted_authorities" in c or c.get("format") != "dc+sd-jwt" for c in case["query"]["credentials"]):
        return "a query the holder cannot evaluate the same way (trusted authorities or another format)"
    return None


def _cases() -> list[Any]:
    params = []
    for path in sorted(VECTORS.glob("*.json")):
        for case in json.loads(path.read_text(encoding="utf-8"))["cases"]:
            if "expected" not in case:   # a query the parser must reject: no wallet, nothing to present
                continue
            reason = _unfit(case)
            marks = [pytest.mark.skip(reason=f"engine only: {reason}")] if reason else []
            params.append(pytest.param(case, id=f"{path.stem}: {case['name']}", marks=marks))
    return params


CASES = _cases()


def test_enough_vectors_run_through_the_holder() -> None:
    runnable = [p for p in CASES if not p.marks]
    assert len(runnable) >= 12, [p.id for p in runnable]
    assert any(not p.values[0]["expected"]["can_be_satisfied"] for p in runnable)
    assert any("credential_sets" in p.values[0]["query"] for p in runnable)
    assert any(any("claim_sets" in c for c in p.values[0]["query"]["credentials"]) for p in runnable)


class _Wallet:
    """A holder user whose wallet holds one vector's credentials, in vector order."""

    def __init__(self, world: World, user: User, did: str, private_key: str) -> None:
        self.world, self.user, self.did, self.private_key = world, user, did, private_key
        self.holder_key = private_key_from_b64u(private_key, "EdDSA").public
        self.issuer_key = generate_key("EdDSA")
        self.issuer = did_jwk_from_public(self.issuer_key.public)
        self.ids: list[str] = []

    def hold(self, credential: dict[str, Any]) -> None:
        now = self.world.clock.now()
        issued = issue_sd_jwt_vc(
            issuer_key=self.issuer_key, header={"kid": resolve_local(self.issuer)["verificationMethod"][0]["id"]},
            payload={"iss": self.issuer, "vct": credential["vct"], "iat": int(now)},
            claims=credential.get("claims", {}), holder_key=self.holder_key)
        row = CredentialRow(
            id=str(uuid.uuid4()), owner=self.user.uuid, holder_did=self.did, format="dc+sd-jwt",
            vct=credential["vct"], issuer=self.issuer, issuer_did=self.issuer, configuration_id="vector",
            raw_credential=issued.serialize(), issued_at=now, expires_at=None, status_uri=None, status_idx=None,
            status_value=None, status_checked_at=None, status_error=None, reference=None, notes=[],
            created_at=now, deleted_at=None)
        self.world.service.store.add_credential(row)
        self.ids.append(row.id)


async def _wallet(world: World, case: dict[str, Any]) -> _Wallet:
    user = await world.user()
    did, private_key = await world.did(user, "JWK")
    wallet = _Wallet(world, user, did, private_key)
    for credential in case["wallet"]:
        wallet.hold(credential)
    return wallet


def _expected_claims(case: dict[str, Any]) -> dict[tuple[str, int], list[str]]:
    return {(qid, int(index)): [path_name(p) for p in paths]
            for qid, per in case["expected"].get("claims", {}).items() for index, paths in per.items()}


def _answered(case: dict[str, Any], matches: dict[str, list[int]]) -> list[str]:
    """The credential queries a wallet answers: every one, or with credential_sets the first
    satisfiable option of each set (required or not) - what the engine prefers (§6.4.2)."""
    query = case["query"]
    if "credential_sets" not in query:
        return [c["id"] for c in query["credentials"]]
    answered: list[str] = []
    for credential_set in query["credential_sets"]:
        option = next((o for o in credential_set["options"] if all(matches.get(q) for q in o)), None)
        answered += [q for q in option or [] if q not in answered]
    return answered


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_vector_through_request_details_and_presentation(case: dict[str, Any]) -> None:
    async with holder_world(ledger=False) as world:
        party = RelyingParty(RP, clock=world.clock.now)
        world.network.mount(RP, party.app())
        wallet = await _wallet(world, case)
        identity = new_identity()
        plan = plan_request(base_url=RP, request_id="r1", identity=identity, dcql_query=case["query"],
                            draw=lambda n: "n" * n)
        hosted = party.add(plan, identity.key)
        link = authorization_request(plan)

        details = await world.post("/v1/oid4vp/request-details", {"authorization_request_uri": link}, wallet.user)
        assert details.status_code == 200, details.text
        body = details.json()
        index_of = {cid: i for i, cid in enumerate(wallet.ids)}
        matches: dict[str, list[int]] = {}
        for entry in body["matching_credentials"]:
            matches.setdefault(entry["query_id"], []).append(index_of[entry["credential_id"]])
        expected = case["expected"]
        assert body["can_be_satisfied"] is expected["can_be_satisfied"]
        if "matches" in expected:
            assert {q: m for q, m in matches.items()} == {q: m for q, m in expected["matches"].items() if m}
        if "unsatisfied" in expected:
            assert body["unsatisfied"] == expected["unsatisfied"]
        requested = {(e["query_id"], index_of[e["credential_id"]]): e["requested_claims"]
                     for e in body["matching_credentials"]}
        for key, names in _expected_claims(case).items():
            assert requested[key] == names, key
        if not expected["can_be_satisfied"]:
            return

        keepers = {(e["query_id"], index_of[e["credential_id"]]): e["position_claims"]
                   for e in body["matching_credentials"]}
        selected = [{"credential_id": wallet.ids[matches[q][0]], "query_id": q,
                     "disclosed_claims": requested[(q, matches[q][0])]} for q in _answered(case, matches)]
        presented = await world.post("/v1/oid4vp/presentation", {
            "authorization_request_uri": link, "selected_credentials": selected, "holder_did": wallet.did,
            "private_key": wallet.private_key}, wallet.user)
        assert presented.status_code == 200, presented.text
        verdict = await judge(hosted, issuer_key=_issuer_key(world), now=world.clock.now())
        assert verdict.outcome == "presented" and not verdict.problems, verdict.problems
        for item in verdict.summary["presentations"]:
            key = (item["query_id"], wallet.ids.index(
                next(s["credential_id"] for s in selected if s["query_id"] == item["query_id"])))
            wanted, positions = requested[key], keepers[key]
            assert set(wanted) <= set(item["disclosed"]), (item["query_id"], wanted, item["disclosed"])
            # Nothing beyond the requested claims (their parents, their contents) and the bare
            # position keepers, whose own contents stay undisclosed.
            assert all(d in positions or any(d == w or w.startswith(d + ".") or d.startswith(w + ".")
                                             for w in wanted) for d in item["disclosed"]), \
                ("over-disclosure", wanted, positions, item["disclosed"])
        parse_query(case["query"])   # the query stayed valid through the holder


def _issuer_key(world: World) -> Any:
    resolver = DidResolver(world.http, None)

    async def lookup(jws: Jws) -> PublicKey:
        return await resolver.key_for(jws.header["kid"])

    return lookup


def _held(claims: dict[str, Any]) -> Any:
    from reference.holder.held import HeldCredential
    issuer, holder = generate_key("EdDSA"), generate_key("EdDSA")
    did = did_jwk_from_public(issuer.public)
    return HeldCredential.parse(issue_sd_jwt_vc(issuer_key=issuer, header={"kid": f"{did}#0"},
                                                payload={"iss": did, "vct": "urn:x", "iat": 1}, claims=claims,
                                                holder_key=holder.public).serialize())


def test_position_keepers_only_for_positions_a_query_names() -> None:
    held = _held({"nationalities": ["PT", "BR", "ES"], "degrees": [{"type": "BSc"}, {"type": "MSc"}]})
    # ["nationalities", 2]: the two elements before it travel (their own Disclosures)
    assert held.position_keepers([("nationalities", 2)], [("nationalities", 2)]) == (
        ("nationalities", 0), ("nationalities", 1))
    view = held.disclosed_view([("nationalities", 2)], [("nationalities", 2)])
    assert view["nationalities"] == ["PT", "BR", "ES"]
    # a wildcard (null) or a pick by dotted name costs nothing extra: the element travels alone
    assert held.position_keepers([("nationalities", 2)], [("nationalities", None)]) == ()
    assert held.position_keepers([("nationalities", 2)]) == ()
    assert held.disclosed_view([("nationalities", 2)])["nationalities"] == ["ES"]
    # an object element keeps its position with its own Disclosure, its members withheld
    keepers = held.position_keepers([("degrees", 1, "type")], [("degrees", 1, "type")])
    assert keepers == (("degrees", 0),)
    assert held.disclosed_view([("degrees", 1, "type")], [("degrees", 1, "type")])["degrees"] == [{}, {"type": "MSc"}]
    # an element already disclosed for its own sake needs no keeper
    assert held.position_keepers([("nationalities", 0), ("nationalities", 1)],
                                 [("nationalities", 0), ("nationalities", 1)]) == ()

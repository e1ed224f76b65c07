"""Random DCQL queries against random wallets, through the verifier and the holder service.

Each example fills the holder account's wallet with 1-3 credentials of the target's configurations
(random claims from small value pools, so that `values` constraints sometimes match), draws a DCQL
query aimed at them - vct_values, claims with object, index and wildcard paths, values,
claim_sets, multiple, credential_sets with required and optional sets, claims that do not exist -
and has the verifier create a request with it. The holder's request-details must then agree with
OID4VP 1.0 §6.4 as the harness's own DCQL engine evaluates it on the same credentials: the same
`can_be_satisfied`, and for each credential query the same matching credentials. When the query
can be satisfied, the engine's choice is presented through the holder and the verifier must accept
it (every check passes).

The presentation part is limited to queries whose paths name object members only: an index or
wildcard into an array of selectively disclosable elements shifts positions once undisclosed
elements are dropped (RFC 9901 §7.3), which the disclosure round-trip property documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.explore.properties.base import ExploreContext, Property, Skip
from conformance.explore.properties.claims import KEYS, ClaimShape, claim_sets, concrete_paths, dotted, value_at
from conformance.explore.properties.roundtrip import HolderService, check_verdict
from conformance.explore.seed_api import PropertyFailure, expect
from conformance.protocol.dcql import WalletCredential, match, parse_query

UNKNOWN_VCT = "urn:vc-conformance:explore:unknown"
MISSING_CLAIM = "explore_missing_claim"
POOL = st.sampled_from(["x", "y", 1, 2, True])
VALUES = st.recursive(
    POOL, lambda c: st.lists(c, max_size=2) | st.dictionaries(st.sampled_from(KEYS[:3]), c, max_size=2), max_leaves=4)


@dataclass(frozen=True)
class Config:
    id: str
    vct: str = field(repr=False)
    shape: ClaimShape = field(repr=False)


@dataclass(frozen=True)
class Held:
    config: Config
    claims: dict[str, Any]


@dataclass(frozen=True)
class DcqlCase:
    wallet: tuple[Held, ...]
    query: dict[str, Any]


def _claims_query(draw: st.DrawFn, target: Held, position: int, with_id: bool) -> dict[str, Any]:
    paths = concrete_paths(target.claims)
    if not paths or draw(st.integers(0, 5)) == 0:
        claim: dict[str, Any] = {"path": [MISSING_CLAIM]}
    else:
        path = draw(st.sampled_from(paths))
        claim = {"path": [None if isinstance(step, int) and draw(st.booleans()) else step for step in path]}
        value = value_at(target.claims, path)
        if type(value) in (str, int, bool) and draw(st.integers(0, 2)) == 0:
            claim["values"] = draw(st.sampled_from([[value], [value, "y"], ["no-such-value"]]))
    if with_id:
        claim["id"] = f"c{position}"
    return claim


def _credential_query(draw: st.DrawFn, query_id: str, wallet: Sequence[Held], vcts: Sequence[str]) -> dict[str, Any]:
    target = draw(st.sampled_from(wallet))
    others = [v for v in vcts if v != target.config.vct] + [UNKNOWN_VCT]
    vct_values = draw(st.sampled_from([[target.config.vct], [target.config.vct, others[0]], [others[-1]]]))
    query: dict[str, Any] = {"id": query_id, "format": "dc+sd-jwt", "meta": {"vct_values": vct_values}}
    if draw(st.integers(0, 3)):
        count = draw(st.integers(1, 3))
        with_sets = count > 1 and draw(st.booleans())
        query["claims"] = [_claims_query(draw, target, i, with_sets) for i in range(count)]
        if with_sets:
            ids = [c["id"] for c in query["claims"]]
            query["claim_sets"] = draw(st.lists(st.lists(st.sampled_from(ids), min_size=1, unique=True),
                                                min_size=1, max_size=2))
    if draw(st.booleans()):
        query["multiple"] = draw(st.booleans())
    return query


@st.composite
def dcql_cases(draw: st.DrawFn, configs: Sequence[Config]) -> DcqlCase:
    specs = draw(st.lists(st.sampled_from(configs), min_size=1, max_size=3))
    wallet = tuple(Held(c, draw(claim_sets(c.shape, values=VALUES))) for c in specs)
    vcts = sorted({c.vct for c in configs})
    ids = [f"q{i}" for i in range(draw(st.integers(1, 2)))]
    query: dict[str, Any] = {"credentials": [_credential_query(draw, qid, wallet, vcts) for qid in ids]}
    if len(ids) > 1 and draw(st.booleans()):
        options = draw(st.sampled_from([[[ids[0]], [ids[1]]], [ids], [[ids[1]], [ids[0]]]]))
        query["credential_sets"] = [{"options": options, "required": draw(st.booleans())}]
    return DcqlCase(wallet, query)


async def configurations(ctx: ExploreContext) -> list[Config]:
    metadata = expect(await ctx.api.issuer_metadata(), 200, "issuer metadata")
    supported = metadata.get("credential_configurations_supported") or {}
    found = []
    for config_id in dict.fromkeys(ctx.target.config_ids.values()):
        config = supported.get(config_id)
        if isinstance(config, Mapping) and "vct" in config:
            shape = ClaimShape.from_metadata(config)
            if shape.mandatory or shape.optional:
                found.append(Config(config_id, config["vct"], shape))
    if not found:
        raise Skip("none of the target's config_ids names an issuer configuration with a vct and claims")
    return found


async def check_case(ctx: ExploreContext, holder: HolderService, case: DcqlCase) -> None:
    ctx.note("wallet", [{"config": h.config.id, "claims": h.claims} for h in case.wallet])
    ctx.note("query", case.query)
    user = await holder.account()
    await _empty_wallet(ctx, user)
    ids = [await _receive(ctx, holder, held) for held in case.wallet]
    wallet = [WalletCredential("dc+sd-jwt", held.config.vct, held.claims) for held in case.wallet]
    expected = match(parse_query(case.query), wallet)
    ctx.note("engine", expected.as_dict())
    session = await ctx.api.verifier_request(case.query)
    details = expect(await ctx.api.request_details(user, session.authorization_request), 200, "holder request-details")
    _compare(details, expected, ids)
    chosen = _chosen_queries(expected)
    # Nothing to present when only optional credential sets exist and none can be satisfied.
    if expected.can_be_satisfied and chosen and _member_paths_only(case.query):
        await _present(ctx, holder, session, expected, chosen, ids)


async def _empty_wallet(ctx: ExploreContext, user: Any) -> None:
    listed = expect(await ctx.api.list_credentials(user), 200, "holder list credentials")
    for credential in listed.get("credentials", []):
        expect(await ctx.api.delete_credential(user, credential["id"]), 204, "holder delete credential")


async def _receive(ctx: ExploreContext, holder: HolderService, held: Held) -> str:
    offer = expect(await ctx.api.create_offer(held.config.id, held.claims, notarize_on_iota=False), 201,
                   "issuer create offer")
    credential_id, _, _ = await holder.receive(offer, "KEY")
    return credential_id  # type: ignore[no-any-return]


def _compare(details: Mapping[str, Any], expected: Any, ids: list[str]) -> None:
    got: dict[str, set[str]] = {}
    for entry in details.get("matching_credentials") or []:
        got.setdefault(entry.get("query_id"), set()).add(entry.get("credential_id"))
    for result in expected.queries:
        want = {ids[i] for i in result.indices}
        if got.get(result.id, set()) != want:
            raise PropertyFailure(f"holder request-details matches {sorted(got.get(result.id, set()))} for credential "
                                  f"query {result.id!r}; OID4VP 1.0 §6.4 matches {sorted(want)}")
    if details.get("can_be_satisfied") is not expected.can_be_satisfied:
        raise PropertyFailure(f"holder request-details says can_be_satisfied={details.get('can_be_satisfied')}; "
                              f"OID4VP 1.0 §6.4 evaluation says {expected.can_be_satisfied} "
                              f"(unsatisfied: {list(expected.unsatisfied)})")


def _member_paths_only(query: Mapping[str, Any]) -> bool:
    return all(isinstance(step, str) for cq in query["credentials"] for claim in cq.get("claims") or []
               for step in claim["path"])


def _chosen_queries(expected: Any) -> list[str]:
    if expected.credential_sets is None:
        return [q.id for q in expected.queries]
    chosen: list[str] = []
    for result in expected.credential_sets:
        if result.chosen_option is not None:
            chosen += [qid for qid in result.options[result.chosen_option] if qid not in chosen]
    return chosen


async def _present(ctx: ExploreContext, holder: HolderService, session: Any, expected: Any, chosen: list[str],
                   ids: list[str]) -> None:
    user = await holder.account()
    did, key = await holder.did("KEY")
    selections = []
    for query_id in chosen:
        candidate = expected.query(query_id).matches[0]
        selections.append({"credential_id": ids[candidate.index], "query_id": query_id,
                           "disclosed_claims": [dotted(path) for path in candidate.claims]})
    ctx.note("presented", selections)
    expect(await ctx.api.present(user, session.authorization_request, did, key, selections), 200, "holder presentation")
    check_verdict(expect(await ctx.api.verifier_result(session.session_id), 200, "verifier result"))


def build(ctx: ExploreContext) -> Any:
    configs = ctx.once("configurations", lambda: ctx.call(configurations, ctx))
    holder = ctx.once("holder", lambda: HolderService(ctx.api, ctx.cache))

    @given(case=dcql_cases(configs))
    def dcql_matches(case: DcqlCase) -> None:
        ctx.start_example()
        ctx.call(check_case, ctx, holder, case)

    return ctx.settings(dcql_matches)


PROPERTIES = (
    Property("dcql.holder_matches_engine", "Random DCQL queries against random wallets: the holder's matches "
             "agree with OID4VP 1.0 §6.4, and the verifier accepts a presentation of the chosen credentials",
             ("OID4VP 1.0 §6.1", "OID4VP 1.0 §6.4", "OID4VP 1.0 §7.1"), ("issuer", "holder", "verifier"), build),
)

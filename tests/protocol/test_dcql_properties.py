"""DCQL properties (hypothesis): wallet order does not matter, disclosed claims exist in the credential,
and the compiled fast paths agree with the step-by-step processing of OID4VP 1.0 §7.1.1."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol.dcql import WalletCredential, match, parse_query
from conformance.protocol.dcql.paths import ClaimsPathPointer, _select_general

KEYS = ["a", "b", "c"]
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-1, 2), st.sampled_from(["x", "y"]))
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=3),
    max_leaves=12,
)
ROOTS = st.dictionaries(st.sampled_from(KEYS), JSON, min_size=1, max_size=3)
POINTERS = st.lists(st.one_of(st.sampled_from(KEYS), st.none(), st.integers(0, 2)), min_size=1, max_size=4)
VALUES = st.lists(st.sampled_from(["x", "y", 0, 1, True, False]), min_size=1, max_size=3,
                  unique_by=lambda v: (type(v), v))
VCTS = ["v1", "v2"]
ISSUERS = ["did:example:a", "did:example:b"]

CREDENTIALS = st.builds(
    WalletCredential,
    format=st.just("dc+sd-jwt"),
    vct=st.sampled_from(VCTS),
    claims=ROOTS,
    issuer=st.sampled_from([None, *ISSUERS]),
    cryptographic_holder_binding=st.sampled_from([True, True, True, False]),
)


def _paths_in(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    """Every concrete path of a JSON tree with its value."""
    found = [(prefix, node)] if prefix else []
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        found.extend(_paths_in(child, (*prefix, key)))
    return found


@st.composite
def claims_queries(draw: Any, claim_id: str, target: WalletCredential | None) -> dict[str, Any]:
    """Mostly pointers taken from the target credential (ints sometimes widened to null), so that
    matches are common; otherwise a random pointer."""
    existing = _paths_in(target.claims) if target is not None else []
    if not existing or draw(st.integers(0, 4)) == 0:
        return {"id": claim_id, "path": draw(POINTERS), **({"values": draw(VALUES)} if draw(st.booleans()) else {})}
    path, value = draw(st.sampled_from(existing))
    pointer = [None if isinstance(c, int) and draw(st.booleans()) else c for c in path]
    claim: dict[str, Any] = {"id": claim_id, "path": pointer}
    if type(value) in (str, int, bool) and draw(st.integers(0, 2)) == 0:
        claim["values"] = [value, *draw(VALUES)]
    return claim


@st.composite
def credential_queries(draw: Any, query_id: str, wallet: list[WalletCredential]) -> dict[str, Any]:
    # Each credential query aims at one held credential, so that most queries have candidates.
    target = draw(st.sampled_from(wallet)) if wallet else None
    vcts = draw(st.lists(st.sampled_from(VCTS), min_size=1, unique=True))
    if target is not None and draw(st.integers(0, 3)) > 0 and target.vct not in vcts:
        vcts.append(target.vct)
    raw: dict[str, Any] = {"id": query_id, "format": "dc+sd-jwt", "meta": {"vct_values": vcts}}
    claims = [draw(claims_queries(f"c{position}", target)) for position in range(draw(st.integers(0, 3)))]
    if claims:
        raw["claims"] = claims
        if draw(st.booleans()):
            ids = [claim["id"] for claim in claims]
            raw["claim_sets"] = draw(st.lists(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True),
                                              min_size=1, max_size=3))
    if draw(st.integers(0, 3)) == 0:
        raw["trusted_authorities"] = [{"type": "did", "values": draw(st.lists(st.sampled_from(ISSUERS), min_size=1))}]
    raw["require_cryptographic_holder_binding"] = draw(st.sampled_from([True, False, None]))
    if raw["require_cryptographic_holder_binding"] is None:
        del raw["require_cryptographic_holder_binding"]
    return raw


@st.composite
def queries(draw: Any, wallet: list[WalletCredential]) -> dict[str, Any]:
    ids = [f"q{i}" for i in range(draw(st.integers(1, 3)))]
    raw: dict[str, Any] = {"credentials": [draw(credential_queries(query_id, wallet)) for query_id in ids]}
    if draw(st.booleans()):
        option = st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True)
        raw["credential_sets"] = [
            {"options": draw(st.lists(option, min_size=1, max_size=3)), "required": draw(st.booleans())}
            for _ in range(draw(st.integers(1, 2)))
        ]
    return raw


def _by_credential(result: Any, order: list[int]) -> dict[str, dict[int, tuple[Any, Any]]]:
    """Per query id: original wallet index -> (claim set, disclosed paths)."""
    return {q.id: {order[m.index]: (m.claim_set, m.claims) for m in q.matches} for q in result.queries}


WALLET_AND_QUERY = st.lists(CREDENTIALS, min_size=1, max_size=6).flatmap(
    lambda wallet: st.tuples(st.just(wallet), queries(wallet))
)


@settings(max_examples=50, deadline=None)
@given(WALLET_AND_QUERY, st.randoms(use_true_random=False))
def test_results_do_not_depend_on_wallet_order(wallet_and_query, rng):
    wallet, raw_query = wallet_and_query
    query = parse_query(raw_query)
    order = list(range(len(wallet)))
    rng.shuffle(order)
    shuffled = [wallet[i] for i in order]
    straight, permuted = match(query, wallet), match(query, shuffled)
    assert _by_credential(straight, list(range(len(wallet)))) == _by_credential(permuted, order)
    assert straight.can_be_satisfied == permuted.can_be_satisfied
    assert straight.credential_sets == permuted.credential_sets
    for result in permuted.queries:  # still reported in wallet order
        assert list(result.indices) == sorted(result.indices)


def _resolve(root: Any, path: tuple[Any, ...]) -> Any:
    node = root
    for component in path:
        assert component is not None, "a disclosed path must be concrete"
        if isinstance(component, str):
            assert isinstance(node, dict) and component in node
        else:
            assert isinstance(node, list) and 0 <= component < len(node)
        node = node[component]
    return node


@settings(max_examples=50, deadline=None)
@given(WALLET_AND_QUERY)
def test_disclosed_claims_resolve_in_the_credential(wallet_and_query):
    wallet, raw_query = wallet_and_query
    query = parse_query(raw_query)
    for result in match(query, wallet).queries:
        credential_query = query.credential(result.id)
        for found in result.matches:
            credential = wallet[found.index]
            assert credential.vct in credential_query.meta["vct_values"]
            assert credential.cryptographic_holder_binding or not credential_query.require_cryptographic_holder_binding
            claims = credential_query.claims or ()
            if credential_query.claim_sets is not None:
                claims = tuple(credential_query.claim(i) for i in credential_query.claim_sets[found.claim_set])
            for path in found.claims:
                value = _resolve(credential.claims, path)
                owners = [c for c in claims if _instance_of(path, c.path.components)]
                assert owners, f"{path} was not requested"
                assert any(c.accepts_value(value) for c in owners)
            for claim in claims:  # every requested claim is disclosed at least once
                assert any(_instance_of(path, claim.path.components) for path in found.claims)


def _instance_of(path: tuple[Any, ...], pointer: tuple[Any, ...]) -> bool:
    return len(path) == len(pointer) and all((p is None and isinstance(c, int)) or (p == c and type(p) is type(c))
                                             for c, p in zip(path, pointer, strict=True))


@settings(max_examples=60, deadline=None)
@given(POINTERS, ROOTS, st.one_of(st.none(), VALUES))
def test_compiled_disclosure_agrees_with_stepwise_processing(components, root, values):
    pointer = ClaimsPathPointer(tuple(components))

    def accept(value: Any) -> bool:
        return any(type(value) is type(v) and value == v for v in values)

    reference = _select_general(pointer.components, root)
    if values is None:
        assert pointer.disclosure()(root) == tuple(path for path, _ in reference)
    else:
        assert pointer.disclosure(accept)(root) == tuple(path for path, value in reference if accept(value))
    assert pointer.select(root) == reference

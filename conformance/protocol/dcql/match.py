"""Evaluate a DCQL query against a wallet (OID4VP 1.0 §6.4): which credentials, which claims.

For each credential query, a credential is a candidate when (§6.1, §6.4, Appendix B):
the format is the same; the format's `meta` constraint holds (e.g. `vct` in `vct_values`); it has
cryptographic holder binding unless `require_cryptographic_holder_binding` is false; it matches one
`trusted_authorities` entry when that array is present; and its claims satisfy the query:

- no `claims`: nothing selectively disclosable is requested; it matches and discloses nothing;
- `claims` without `claim_sets`: every claim (ignoring duplicate paths, §6.1) must be present;
- `claim_sets`: the first set (in the verifier's order of preference) whose claims are all present
  is chosen, and only its claims are disclosed (§6.4.1).

A claim is present when its path pointer selects at least one element (§7.1.1) whose value, if
`values` is given, has the same JSON type and value as one of them; non-matching elements count as
absent, so the claims to disclose are the concrete paths (wildcards expanded to array indices) of
the selected, matching elements.

Every candidate is reported, `multiple` or not: choosing one (or letting the End-User choose) is the
wallet's UI decision (§6.4.3). Credential sets (§6.4.2): an option is satisfiable when each query it
names has a candidate; a set is satisfied by its first satisfiable option; the query can be
satisfied when every required set is (or, without `credential_sets`, every credential query has a
candidate).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any, NamedTuple

from conformance.protocol.dcql.authorities import authorities_match
from conformance.protocol.dcql.model import ClaimsQuery, CredentialQuery, CredentialSetQuery, DcqlQuery, Note
from conformance.protocol.dcql.paths import ConcretePath
from conformance.protocol.dcql.wallet import CredentialIndex, WalletCredential


class CredentialMatch(NamedTuple):
    """One candidate credential for a credential query.

    A NamedTuple rather than a frozen dataclass because one is built per matching credential in
    the hot loop, and a tuple is several times cheaper to construct; it is just as immutable.
    """

    index: int
    claim_set: int | None
    claims: tuple[ConcretePath, ...]


@dataclass(frozen=True)
class QueryResult:
    """The candidates for one credential query, in wallet order."""

    id: str
    multiple: bool
    matches: tuple[CredentialMatch, ...]

    @property
    def satisfied(self) -> bool:
        return bool(self.matches)

    @property
    def indices(self) -> tuple[int, ...]:
        return tuple(m.index for m in self.matches)


@dataclass(frozen=True)
class CredentialSetResult:
    """One credential set query (§6.2) evaluated: which of its options the wallet can satisfy."""

    index: int
    required: bool
    options: tuple[tuple[str, ...], ...]
    satisfiable_options: tuple[int, ...]

    @property
    def satisfied(self) -> bool:
        return bool(self.satisfiable_options)

    @property
    def chosen_option(self) -> int | None:
        """The first satisfiable option, the verifier's preference."""
        return self.satisfiable_options[0] if self.satisfiable_options else None


@dataclass(frozen=True)
class DcqlResult:
    queries: tuple[QueryResult, ...]
    credential_sets: tuple[CredentialSetResult, ...] | None
    can_be_satisfied: bool
    notes: tuple[Note, ...] = ()

    def query(self, query_id: str) -> QueryResult:
        for result in self.queries:
            if result.id == query_id:
                return result
        raise KeyError(query_id)

    @property
    def matches(self) -> dict[str, tuple[int, ...]]:
        return {result.id: result.indices for result in self.queries}

    @property
    def unsatisfied(self) -> tuple[str, ...]:
        """What keeps the query from being satisfied: query ids, or `credential_sets[i]`."""
        if self.credential_sets is None:
            return tuple(result.id for result in self.queries if not result.satisfied)
        return tuple(f"credential_sets[{s.index}]" for s in self.credential_sets if s.required and not s.satisfied)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape printed by `conformance dcql`."""
        out: dict[str, Any] = {
            "can_be_satisfied": self.can_be_satisfied,
            "matches": {qid: list(indices) for qid, indices in self.matches.items()},
            "queries": {result.id: _query_dict(result) for result in self.queries},
        }
        if self.credential_sets is not None:
            out["credential_sets"] = [_set_dict(s) for s in self.credential_sets]
        out["unsatisfied"] = list(self.unsatisfied)
        out["notes"] = [note.as_dict() for note in self.notes]
        return out


def _query_dict(result: QueryResult) -> dict[str, Any]:
    return {
        "multiple": result.multiple,
        "candidates": [
            {"index": m.index, "claim_set": m.claim_set, "claims": [list(path) for path in m.claims]}
            for m in result.matches
        ],
    }


def _set_dict(result: CredentialSetResult) -> dict[str, Any]:
    return {
        "required": result.required,
        "satisfied": result.satisfied,
        "chosen_option": result.chosen_option,
        "satisfiable_options": list(result.satisfiable_options),
        "options": [list(option) for option in result.options],
    }


Wallet = CredentialIndex | Iterable[WalletCredential]
ClaimChoice = tuple[int | None, tuple[ConcretePath, ...]]
ClaimSelector = Callable[[Mapping[str, Any]], ClaimChoice | None]

_NOTHING_REQUESTED: ClaimChoice = (None, ())


def match(query: DcqlQuery, wallet: Wallet) -> DcqlResult:
    """Match a parsed query against the wallet (a `CredentialIndex`, or credentials to index)."""
    index = wallet if isinstance(wallet, CredentialIndex) else CredentialIndex(wallet)
    results = tuple(_match_credential_query(cq, index) for cq in query.credentials)
    if query.credential_sets is None:
        return DcqlResult(results, None, all(r.satisfied for r in results), query.notes)
    satisfied = {r.id for r in results if r.satisfied}
    sets = tuple(_evaluate_set(position, cs, satisfied) for position, cs in enumerate(query.credential_sets))
    return DcqlResult(results, sets, all(s.satisfied for s in sets if s.required), query.notes)


def _evaluate_set(position: int, query: CredentialSetQuery, satisfied: set[str]) -> CredentialSetResult:
    options = tuple(i for i, option in enumerate(query.options) if satisfied.issuperset(option))
    return CredentialSetResult(position, query.required, query.options, options)


def _match_credential_query(query: CredentialQuery, index: CredentialIndex) -> QueryResult:
    credentials = index.credentials
    need_binding = query.require_cryptographic_holder_binding
    authorities = query.trusted_authorities
    select = _claim_selector(query)
    found = []
    for position in index.candidates(query.format, query.meta_constraint):
        credential = credentials[position]
        if need_binding and not credential.cryptographic_holder_binding:
            continue
        if authorities is not None and not authorities_match(authorities, credential):
            continue
        choice = select(credential.claims)
        if choice is not None:
            found.append(CredentialMatch(position, choice[0], choice[1]))
    return QueryResult(query.id, query.multiple, tuple(found))


def _claim_selector(query: CredentialQuery) -> ClaimSelector:
    """Pick the claim evaluation once per query, by the shape of its claims / claim_sets."""
    if query.claims is None:
        return lambda claims: _NOTHING_REQUESTED
    if query.claim_sets is None:
        return _all_claims(query)
    return _first_claim_set(query)


def _unique(parts: Iterable[tuple[ConcretePath, ...]]) -> tuple[ConcretePath, ...]:
    # Two pointers may reach one claim (["a", null] and ["a", 0]); disclose it once.
    return tuple(dict.fromkeys(chain.from_iterable(parts)))


def _concatenate(parts: Iterable[tuple[ConcretePath, ...]]) -> tuple[ConcretePath, ...]:
    return tuple(chain.from_iterable(parts))


def _may_overlap(claims: Sequence[ClaimsQuery]) -> bool:
    return any(a.path.may_overlap(b.path) for i, a in enumerate(claims) for b in claims[i + 1:])


def _all_claims(query: CredentialQuery) -> ClaimSelector:
    claims = query.distinct_claims
    disclosers = tuple(claim.disclose for claim in claims)
    if all(claim.path.is_concrete for claim in claims):
        # Each claim is one fixed path (distinct, so no duplicates): the disclosure is a constant.
        constant: ClaimChoice = (None, tuple(claim.path.components for claim in claims))  # type: ignore[misc]

        def select_fixed(root: Mapping[str, Any]) -> ClaimChoice | None:
            for disclose in disclosers:
                if not disclose(root):
                    return None
            return constant

        return select_fixed

    combine = _unique if _may_overlap(claims) else _concatenate

    def select(root: Mapping[str, Any]) -> ClaimChoice | None:
        parts = []
        for disclose in disclosers:
            paths = disclose(root)
            if not paths:
                return None
            parts.append(paths)
        return None, combine(parts)

    return select


def _first_claim_set(query: CredentialQuery) -> ClaimSelector:
    claim_sets = query.claim_sets or ()
    by_id = {claim_id: query.claim(claim_id) for claim_set in claim_sets for claim_id in claim_set}

    def select(root: Mapping[str, Any]) -> ClaimChoice | None:
        evaluated: dict[str, tuple[ConcretePath, ...]] = {}
        for set_index, claim_set in enumerate(claim_sets):
            parts = []
            for claim_id in claim_set:
                paths = evaluated.get(claim_id)
                if paths is None:
                    paths = evaluated[claim_id] = by_id[claim_id].disclose(root)
                if not paths:
                    break
                parts.append(paths)
            else:
                return set_index, _unique(parts)
        return None

    return select

"""The parsed DCQL query (OID4VP 1.0 §6): frozen values built once by `parse_query`, trusted after.

What the matcher needs per credential is precomputed here (compiled path disclosures with their
value tests, type alternatives, duplicate-free claims), so matching allocates as little as possible.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from conformance.protocol.dcql.paths import ClaimsPathPointer, Disclosure

ClaimValue = str | int | bool


@dataclass(frozen=True)
class Note:
    """Something about a query that a reader should see although it is not a parse error.

    code: stable snake_case code (`dcql_authority_type_did`, ...).
    spec_violation: the query breaks an OID4VP 1.0 rule that this engine tolerates (a documented
    seed form, or a rule the spec tells wallets to be lenient about); `parse_query(strict=True)`
    raises these instead.
    """

    code: str
    message: str
    field: str | None = None
    spec_violation: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        out["spec_violation"] = self.spec_violation
        return out


@dataclass(frozen=True)
class ClaimsQuery:
    """§6.3: one claim by its path, optionally restricted to `values`."""

    path: ClaimsPathPointer
    id: str | None = None
    values: tuple[ClaimValue, ...] | None = None
    disclose: Disclosure = field(init=False, repr=False, compare=False)
    """`disclose(credential_claims)`: concrete paths of the selected claims that satisfy `values`;
    `()` when none does. Elements whose value does not match count as absent (§6.4.1), so a
    wildcard pointer discloses only the matching array elements."""

    def __post_init__(self) -> None:
        accept = _value_test(self.values) if self.values is not None else None
        object.__setattr__(self, "disclose", self.path.disclosure(accept))

    def accepts_value(self, value: Any) -> bool:
        """§6.3 / §6.4.1: same JSON type and value as one of `values` (always true without `values`)."""
        return self.values is None or _value_test(self.values)(value)


def _value_test(values: tuple[ClaimValue, ...]) -> Callable[[Any], bool]:
    # Split by JSON type because §6.3 wants "type and value" to match and Python's 1 == True.
    strings = frozenset(v for v in values if type(v) is str)
    numbers = frozenset(v for v in values if type(v) is int)
    booleans = frozenset(v for v in values if type(v) is bool)

    def accept(value: Any) -> bool:
        kind = type(value)
        if kind is str:
            return value in strings
        if kind is bool:
            return value in booleans
        if kind is int or kind is float:
            # JSON has one number type: 1.0 in a credential is the integer 1 of the query.
            return value in numbers
        return False

    return accept


@dataclass(frozen=True)
class TrustedAuthoritiesQuery:
    """§6.1.1: the credential's issuer must be certified by one of `values` of this `type`."""

    type: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class MetaConstraint:
    """The format-specific `meta` of a credential query, reduced to what matching needs.

    alternatives: the credential's type set must contain one of these sets (`vct_values` gives
    one single-element set per vct, `doctype_value` one, `type_values` one per inner array);
    None means no type constraint, and an empty tuple means "cannot be satisfied" (constraints
    of a format this engine does not know).
    """

    alternatives: tuple[frozenset[str], ...] | None


@dataclass(frozen=True)
class CredentialQuery:
    """§6.1: one requested credential."""

    id: str
    format: str
    meta: Mapping[str, Any]
    meta_constraint: MetaConstraint
    multiple: bool = False
    require_cryptographic_holder_binding: bool = True
    claims: tuple[ClaimsQuery, ...] | None = None
    claim_sets: tuple[tuple[str, ...], ...] | None = None
    trusted_authorities: tuple[TrustedAuthoritiesQuery, ...] | None = None
    _claims_by_id: Mapping[str, ClaimsQuery] = field(init=False, repr=False, compare=False)
    _distinct_claims: tuple[ClaimsQuery, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "meta", MappingProxyType(dict(self.meta)))
        by_id = {claim.id: claim for claim in self.claims or () if claim.id is not None}
        object.__setattr__(self, "_claims_by_id", MappingProxyType(by_id))
        # §6.1: Wallets SHOULD ignore a claims query pointing to a claim already pointed to.
        first_by_path: dict[tuple[Any, ...], ClaimsQuery] = {}
        for claim in self.claims or ():
            first_by_path.setdefault(claim.path.components, claim)
        object.__setattr__(self, "_distinct_claims", tuple(first_by_path.values()))

    @property
    def distinct_claims(self) -> tuple[ClaimsQuery, ...]:
        """`claims` without later duplicates of a path, the set a wallet evaluates without claim_sets."""
        return self._distinct_claims

    def claim(self, claim_id: str) -> ClaimsQuery:
        return self._claims_by_id[claim_id]


@dataclass(frozen=True)
class CredentialSetQuery:
    """§6.2: one use case; any one option (a list of credential query ids) satisfies it."""

    options: tuple[tuple[str, ...], ...]
    required: bool = True


@dataclass(frozen=True)
class DcqlQuery:
    """§6: the whole query, plus the notes gathered while parsing it."""

    credentials: tuple[CredentialQuery, ...]
    credential_sets: tuple[CredentialSetQuery, ...] | None = None
    notes: tuple[Note, ...] = ()

    def credential(self, query_id: str) -> CredentialQuery:
        for query in self.credentials:
            if query.id == query_id:
                return query
        raise KeyError(query_id)

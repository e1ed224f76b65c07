"""Claim sets, disclosure selections and what a verifier must see: strategies and pure functions.

Claims are shaped by the credential configuration's claim descriptions (OID4VCI 1.0 Appendix B.2,
from the Credential Issuer Metadata): every top-level claim the configuration names, mandatory
ones always; a claim whose description has sub-paths becomes an object with those members; any
other value is random JSON - strings, integers, booleans, arrays and nested objects - so arrays
and nesting come out of the generation itself. Keys come from a small alphabet without dots (the
holder API names claims as dotted paths) and never an SD-JWT reserved name (RFC 9901 §4.2.6).

`reveal(claims, paths)` is what a presentation disclosing exactly `paths` shows (RFC 9901 §7.3
processing): each path's claim whole, inside the structure of its ancestors, with array elements
that are not disclosed removed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from conformance.protocol.dcql.paths import ConcretePath

KEYS = ("a", "b", "c", "name", "value", "street", "x1")
TEXT = st.text(alphabet=st.characters(codec="utf-8", categories=("L", "N", "Zs")), max_size=6)
SCALARS = st.one_of(TEXT, st.integers(-10_000, 10_000), st.booleans())
# Inside objects and arrays also null and fractional numbers; a top-level claim is never null
# (the seed issuer refuses a null claim in an offer).
NESTED_SCALARS = SCALARS | st.none() | st.floats(allow_nan=False, allow_infinity=False)
JSON = st.recursive(
    NESTED_SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(KEYS), children, max_size=3),
    max_leaves=8,
)


@dataclass(frozen=True)
class ClaimShape:
    """A configuration's claims as the metadata describes them."""
    mandatory: tuple[str, ...]
    optional: tuple[str, ...]
    members: Mapping[str, tuple[str, ...]]     # top-level claim -> described member names

    @classmethod
    def from_metadata(cls, config: Mapping[str, Any]) -> ClaimShape:
        """From a `credential_configurations_supported` entry (claims under credential_metadata,
        or at the top level as earlier drafts put them)."""
        descriptions = (config.get("credential_metadata") or {}).get("claims") or config.get("claims") or []
        names: dict[str, bool] = {}
        members: dict[str, list[str]] = {}
        for description in descriptions:
            path = description.get("path") or []
            if not path or not isinstance(path[0], str):
                continue
            if len(path) == 1:
                names[path[0]] = names.get(path[0], False) or bool(description.get("mandatory"))
            else:
                names.setdefault(path[0], False)
                if isinstance(path[1], str) and path[1] not in members.setdefault(path[0], []):
                    members[path[0]].append(path[1])
        return cls(tuple(n for n, m in names.items() if m), tuple(n for n, m in names.items() if not m),
                   {name: tuple(found) for name, found in members.items()})


def claim_value(shape: ClaimShape, name: str, *, values: st.SearchStrategy[Any] = JSON) -> st.SearchStrategy[Any]:
    members = shape.members.get(name)
    if members:
        return st.fixed_dictionaries({}, optional={member: values for member in members})
    if name in shape.mandatory:
        return SCALARS
    return values.filter(lambda value: value is not None)


def claim_sets(shape: ClaimShape, *, values: st.SearchStrategy[Any] = JSON) -> st.SearchStrategy[dict[str, Any]]:
    """Claims an offer of this configuration may carry: all mandatory ones, any optional ones."""
    return st.fixed_dictionaries(
        {name: claim_value(shape, name, values=values) for name in shape.mandatory},
        optional={name: claim_value(shape, name, values=values) for name in shape.optional})


def concrete_paths(node: Any, prefix: ConcretePath = ()) -> list[ConcretePath]:
    """Every claim's path, parents before children (objects by key, arrays by index)."""
    children: Any = node.items() if isinstance(node, Mapping) else enumerate(node) if isinstance(node, list) else ()
    found: list[ConcretePath] = []
    for key, child in children:
        path = (*prefix, key)
        found.append(path)
        found += concrete_paths(child, path)
    return found


def member_paths(node: Any, prefix: ConcretePath = ()) -> list[ConcretePath]:
    """The paths of object members reachable without crossing an array: the claims a selection
    can name by position-free paths. An array is disclosed whole; its elements are not selected
    one by one, because RFC 9901 §7.3 drops undisclosed elements and so shifts the index a claims
    path pointer (OID4VP 1.0 §7.1) would use."""
    if not isinstance(node, Mapping):
        return []
    found: list[ConcretePath] = []
    for key, child in node.items():
        found.append((*prefix, key))
        found += member_paths(child, (*prefix, key))
    return found


def value_at(node: Any, path: ConcretePath) -> Any:
    for step in path:
        node = node[step]
    return node


def reveal(node: Any, paths: Sequence[ConcretePath]) -> Any:
    """`node` as a verifier sees it when exactly `paths` (relative to it) are disclosed."""
    if any(len(path) == 0 for path in paths):
        return node
    if isinstance(node, Mapping):
        return {key: reveal(child, below) for key, child in node.items()
                if (below := [p[1:] for p in paths if p[0] == key])}
    if isinstance(node, list):
        return [reveal(child, below) for index, child in enumerate(node)
                if (below := [p[1:] for p in paths if p[0] == index])]
    return node


def dotted(path: ConcretePath) -> str:
    """The holder API's claim name for a path: `address.locality`, `nationalities.0`."""
    return ".".join(str(step) for step in path)

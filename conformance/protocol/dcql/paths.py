"""Claims path pointers (OID4VP 1.0 §7): validation and processing against JSON-based credentials.

A pointer is a non-empty array of strings (object keys), nulls (every element of an array) and
non-negative integers (one array index). Processing (§7.1.1) starts at the credential's top-level
object and returns the selected elements, or an error when a step meets the wrong JSON type or the
final selection is empty. `ClaimsPathPointer.select` reports both errors as `()`: for matching they
mean the same thing, "this claim is not in the credential".

mdoc pointers (§7.2: exactly two strings, namespace then data element) are processed with the same
code over a `{namespace: {element: value}}` mapping; their shape is checked when the query is parsed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import DcqlError

PathComponent = str | int | None
ConcretePath = tuple[str | int, ...]
Selection = tuple[tuple[ConcretePath, Any], ...]

_MISSING = object()


def is_object(node: Any) -> bool:
    # The exact-type test first: almost every node is a plain dict and isinstance on an ABC is slow.
    return type(node) is dict or isinstance(node, Mapping)


def is_array(node: Any) -> bool:
    if type(node) is list or type(node) is tuple:
        return True
    return isinstance(node, Sequence) and not isinstance(node, (str, bytes, bytearray))


def is_path_component(value: Any) -> bool:
    """§7: a component is a string, null, or a non-negative integer (JSON booleans are not integers)."""
    if value is None or type(value) is str:
        return True
    return type(value) is int and value >= 0


def parse_path(raw: Any, field_name: str) -> ClaimsPathPointer:
    """Validate a claims path pointer from JSON (§6.3 `path`, §7) and compile it."""
    if not isinstance(raw, list) or not raw:
        raise DcqlError(
            "dcql_invalid_path",
            f"{field_name} must be a non-empty array of strings, nulls and non-negative integers "
            f"(OID4VP 1.0 §7), got {raw!r}",
            field_name,
        )
    for position, component in enumerate(raw):
        if not is_path_component(component):
            raise DcqlError(
                "dcql_invalid_path",
                f"{field_name}[{position}] is {component!r}: a claims path component must be a string, "
                "null or a non-negative integer (OID4VP 1.0 §7)",
                f"{field_name}[{position}]",
            )
    return ClaimsPathPointer(tuple(raw))


def _select_keys(keys: tuple[str, ...], root: Any) -> Selection:
    """Fast path for the common pointer made only of strings: one element, no intermediate lists."""
    node = root
    for key in keys:
        if not is_object(node):
            return ()
        node = node.get(key, _MISSING)
        if node is _MISSING:
            return ()
    return ((keys, node),)


def _select_general(components: tuple[PathComponent, ...], root: Any) -> Selection:
    """§7.1.1 step by step; any selected element of the wrong type aborts the whole processing."""
    if not is_object(root):
        return ()
    selection: list[tuple[ConcretePath, Any]] = [((), root)]
    for component in components:
        following: list[tuple[ConcretePath, Any]] = []
        if component is None:
            for path, node in selection:
                if not is_array(node):
                    return ()
                following.extend(((*path, index), item) for index, item in enumerate(node))
        elif type(component) is str:
            for path, node in selection:
                if not is_object(node):
                    return ()
                item = node.get(component, _MISSING)
                if item is not _MISSING:
                    following.append(((*path, component), item))
        else:
            for path, node in selection:
                if not is_array(node):
                    return ()
                if component < len(node):
                    following.append(((*path, component), node[component]))
        selection = following
    return tuple(selection)


Accept = Callable[[Any], bool]
Disclosure = Callable[[Mapping[str, Any]], tuple[ConcretePath, ...]]


_LOOKUP_ERRORS = (KeyError, TypeError, IndexError)


def _walk(node: Any, keys: tuple[str, ...]) -> Any:
    """Follow object keys from `node`; `_MISSING` when a key is absent or a node is not an object.

    Subscripting instead of type-testing every step: on JSON values `node[key]` raises exactly when
    §7.1.1 says "error" (a list, string, number or null indexed by a string) or "removed" (absent
    key), and the try costs nothing on the path taken by credentials that have the claim.
    """
    try:
        for key in keys:
            node = node[key]
    except _LOOKUP_ERRORS:
        return _MISSING
    return node


def _compile_keys(keys: tuple[str, ...], accept: Accept | None) -> Disclosure:
    """Pointers of strings only: at most one claim, and its concrete path is the pointer itself.

    Compiled disclosures take the credential's claims, which `WalletCredential` guarantees to be a
    mapping (§7.1.1 step 1: the root is the top-level JSON object), so `key in root` is a key test.
    """
    found = (keys,)  # shared by every credential that has the claim: no allocation per match
    if len(keys) == 1 and accept is None:
        (key,) = keys
        return lambda root: found if key in root else ()

    def disclose(root: Mapping[str, Any]) -> tuple[ConcretePath, ...]:
        node = _walk(root, keys)
        if node is _MISSING:
            return ()
        return found if accept is None or accept(node) else ()

    return disclose


_CACHED_INDICES = 16


def _compile_trailing_wildcard(prefix: tuple[str, ...], accept: Accept | None) -> Disclosure:
    """[key, ..., key, null]: every element of one array, the common shape for multi-valued claims."""
    # Concrete paths for the first indices, built once and shared (tuples are immutable).
    cached = tuple((*prefix, index) for index in range(_CACHED_INDICES))

    def disclose(root: Mapping[str, Any]) -> tuple[ConcretePath, ...]:
        node = _walk(root, prefix)
        if node is _MISSING or (type(node) is not list and not is_array(node)):
            return ()
        found = []
        for index, item in enumerate(node):
            if accept is None or accept(item):
                found.append(cached[index] if index < _CACHED_INDICES else (*prefix, index))
        return tuple(found)

    return disclose


def _compile_general(components: tuple[PathComponent, ...], accept: Accept | None) -> Disclosure:
    def disclose(root: Mapping[str, Any]) -> tuple[ConcretePath, ...]:
        selection = _select_general(components, root)
        return tuple(path for path, value in selection if accept is None or accept(value))

    return disclose


@dataclass(frozen=True)
class ClaimsPathPointer:
    """A validated pointer: `select` processes it (§7.1.1), `disclosure` compiles it for matching."""

    components: tuple[PathComponent, ...]

    def select(self, root: Any) -> Selection:
        """The selected (concrete path, value) pairs; `()` where §7.1.1 returns an error."""
        if all(type(c) is str for c in self.components):
            return _select_keys(self.components, root)  # type: ignore[arg-type]
        return _select_general(self.components, root)

    def disclosure(self, accept: Accept | None = None) -> Disclosure:
        """A function from credential claims to the concrete paths of the selected elements that
        `accept` (the claims query's `values` test) admits; `()` when none, or on error.

        Same result as filtering `select`, specialised by pointer shape because matching calls it
        once per claim per candidate credential.
        """
        components = self.components
        if all(type(c) is str for c in components):
            return _compile_keys(components, accept)  # type: ignore[arg-type]
        if components[-1] is None and all(type(c) is str for c in components[:-1]):
            return _compile_trailing_wildcard(components[:-1], accept)  # type: ignore[arg-type]
        return _compile_general(components, accept)

    def may_overlap(self, other: ClaimsPathPointer) -> bool:
        """Whether both pointers can select the same concrete claim in some credential.

        Position by position the components must be able to name the same node: equal, or a null
        against an index or a null (both array steps); a string never names an array element.
        """
        if len(self.components) != len(other.components):
            return False
        for mine, theirs in zip(self.components, other.components, strict=True):
            if mine == theirs and type(mine) is type(theirs):
                continue
            if (mine is None and type(theirs) is int) or (theirs is None and type(mine) is int):
                continue
            return False
        return True

    @property
    def is_concrete(self) -> bool:
        """True when the pointer has no null wildcard (it names at most one claim)."""
        return None not in self.components

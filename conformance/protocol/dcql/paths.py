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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

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


@dataclass(frozen=True)
class ClaimsPathPointer:
    """A validated pointer; `select(credential_claims)` processes it (§7.1.1)."""

    components: tuple[PathComponent, ...]
    _select: Callable[[Any], Selection] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        components = self.components
        if all(type(component) is str for component in components):
            keys: tuple[str, ...] = components  # type: ignore[assignment]
            object.__setattr__(self, "_select", lambda root: _select_keys(keys, root))
        else:
            object.__setattr__(self, "_select", lambda root: _select_general(components, root))

    def select(self, root: Any) -> Selection:
        """The selected (concrete path, value) pairs; `()` where §7.1.1 returns an error."""
        return self._select(root)

    @property
    def is_concrete(self) -> bool:
        """True when the pointer has no null wildcard (it names at most one claim)."""
        return None not in self.components

    def as_json(self) -> list[PathComponent]:
        return list(self.components)

"""An operation's `with:` inputs, read with types: a wrong input is an `InputError` naming it.

`Inputs` is a read-only mapping (so it is also what the `Operation` contract passes) whose
accessors say what they expected: `args.text("offer", required=True)`, `args.flag("notarize")`.
Names outside the operation's declared inputs are refused up front, with the closest match.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from conformance.dialects.base import InputError

_MISSING = object()


class Inputs(Mapping[str, Any]):
    def __init__(self, operation: str, raw: Mapping[str, Any], allowed: Iterable[str]) -> None:
        self.operation = operation
        self._raw = dict(raw)
        allowed = list(allowed)
        for name in sorted(set(self._raw) - set(allowed)):
            close = difflib.get_close_matches(name, allowed, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"{operation}: unknown input {name!r}{hint} "
                             f"(inputs: {', '.join(allowed) or 'none'})")

    # --- Mapping ------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> Any:
        return self._raw[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw)

    def __len__(self) -> int:
        return len(self._raw)

    # --- typed access -------------------------------------------------------------------------

    def _get(self, name: str, default: Any, required: bool) -> Any:
        value = self._raw.get(name, _MISSING)
        if value is _MISSING or value is None:
            if required:
                raise InputError(f"{self.operation}: input {name!r} is required")
            return default
        return value

    def _wrong(self, name: str, value: Any, expected: str) -> InputError:
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        return InputError(f"{self.operation}: input {name!r} must be {expected}, got {shown}")

    def text(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._get(name, default, required)
        if value is not None and not isinstance(value, str):
            raise self._wrong(name, value, "a string")
        return value

    def flag(self, name: str, default: bool | None = None) -> bool | None:
        value = self._get(name, default, False)
        if value is not None and not isinstance(value, bool):
            raise self._wrong(name, value, "true or false")
        return value

    def number(self, name: str, default: float | None = None, *, minimum: float | None = None) -> float | None:
        value = self._get(name, default, False)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._wrong(name, value, "a number")
        if minimum is not None and value < minimum:
            raise self._wrong(name, value, f"at least {minimum:g}")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self._get(name, default, False)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise self._wrong(name, value, "an integer")
        return value

    def obj(self, name: str, default: Mapping[str, Any] | None = None, *,
            required: bool = False) -> dict[str, Any] | None:
        value = self._get(name, default, required)
        if value is not None and not isinstance(value, Mapping):
            raise self._wrong(name, value, "an object")
        return dict(value) if value is not None else None

    def array(self, name: str, default: list[Any] | None = None, *,
              required: bool = False) -> list[Any] | None:
        value = self._get(name, default, required)
        if value is not None and not isinstance(value, list | tuple):
            raise self._wrong(name, value, "a list")
        return list(value) if value is not None else None

    def strings(self, name: str) -> list[str]:
        values = self.array(name, []) or []
        if not all(isinstance(v, str) for v in values):
            raise self._wrong(name, values, "a list of strings")
        return values

    def raw(self, name: str, default: Any = None) -> Any:
        """The value as given (any JSON type), e.g. a body member passed through."""
        return self._get(name, default, False)

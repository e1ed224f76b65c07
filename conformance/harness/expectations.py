"""Evaluating a step's `expect:` block (status, JSON Schema, field matchers) on its result.

Field matchers are a registry: name -> function(value, argument) returning None when satisfied or
the failure text. A path that does not exist is `MISSING`, which only `exists: false` accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from jsonschema import Draft202012Validator

from conformance.harness import schemas
from conformance.harness.checks.registry import shown
from conformance.harness.results import ExpectationResult
from conformance.harness.scenario import Expectation, FieldMatcher
from conformance.harness.template import Lookup, dig, render


class _Missing:
    def __repr__(self) -> str:
        return "<absent>"


MISSING = _Missing()


def _equals(value: Any, expected: Any) -> str | None:
    if value is MISSING:
        return f"is absent (expected {shown(expected)})"
    same = value == expected and type(value) is type(expected) or (
        _is_number(value) and _is_number(expected) and value == expected)
    return None if same else f"Received: {shown(value)} / Expected: {shown(expected)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _exists(value: Any, expected: bool) -> str | None:
    present = value is not MISSING
    if present == expected:
        return None
    return f"is present ({shown(value)}), expected absent" if present else "is absent, expected present"


def _matches(value: Any, pattern: str) -> str | None:
    if not isinstance(value, str):
        return f"Received: {shown(value)} / Expected: a string matching /{pattern}/"
    return None if re.search(pattern, value) else f"Received: {shown(value)} / Expected: a match of /{pattern}/"


def _one_of(value: Any, options: Sequence[Any]) -> str | None:
    if any(_equals(value, option) is None for option in options):
        return None
    return f"Received: {shown(value)} / Expected: one of {shown(list(options))}"


def _length(value: Any, spec: int | Mapping[str, int]) -> str | None:
    if not isinstance(value, str | list | dict):
        return f"Received: {shown(value)} / Expected: a string, array or object with a length"
    size = len(value)
    low, high = (spec, spec) if isinstance(spec, int) else (spec.get("min", 0), spec.get("max"))
    if size >= low and (high is None or size <= high):
        return None
    want = f"{low}" if low == high else f"{low}..{'' if high is None else high}"
    return f"Received: length {size} / Expected: length {want}"


MATCHERS: dict[str, Callable[[Any, Any], str | None]] = {
    "equals": _equals,
    "exists": _exists,
    "matches": _matches,
    "one_of": _one_of,
    "length": _length,
}


def check_matcher(matcher: FieldMatcher, root: Any, prefix: str, lookup: Lookup) -> ExpectationResult:
    try:
        value = dig(root, matcher.path)
    except LookupError:
        value = MISSING
    kind = f"{prefix}.{matcher.path}"
    for name, argument in matcher.conditions:
        problem = MATCHERS[name](value, render(argument, lookup))
        if problem:
            return ExpectationResult(kind, False, f"{kind} {problem}")
    return ExpectationResult(kind, True, f"{kind} ok")


def check_status(expected: tuple[int, ...], status: int | None) -> ExpectationResult:
    want = expected[0] if len(expected) == 1 else f"one of {', '.join(map(str, expected))}"
    if status in expected:
        return ExpectationResult("status", True, f"status {status}")
    return ExpectationResult("status", False, f"status: Received: {status if status is not None else 'no response'} "
                             f"/ Expected: {want}")


def check_schema(schema: str | Mapping[str, Any], body: Any) -> ExpectationResult:
    if isinstance(schema, str):
        validator, label = schemas.validator(schema), f"schema {schema}"
    else:
        validator, label = Draft202012Validator(schema), "inline schema"
    errors = sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:
        return ExpectationResult("schema", True, f"body matches {label}")
    first = errors[0]
    where = "/".join(map(str, first.absolute_path)) or "(root)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return ExpectationResult("schema", False, f"body does not match {label} at {where}: "
                             f"{shown(first.message)}{more}")


def evaluate(expect: Expectation, status: int | None, body: Any, artefacts: Mapping[str, Any],
             lookup: Lookup) -> list[ExpectationResult]:
    results = []
    if expect.status:
        results.append(check_status(expect.status, status))
    if expect.schema is not None:
        results.append(check_schema(expect.schema, body))
    results += [check_matcher(m, body, "body", lookup) for m in expect.body]
    results += [check_matcher(m, artefacts, "artefacts", lookup) for m in expect.artefacts]
    return results

"""-k expressions and --tag selection."""

from __future__ import annotations

import pytest

from conformance.harness.scenario import Scenario, Source
from conformance.harness.selection import SelectionError, select


def scenario(id: str, title: str = "t", tags: tuple[str, ...] = ()) -> Scenario:
    return Scenario(id, title, ("issuer",), ("X",), (), Source("f", 1), tags=tags)


ALL = [scenario("issuance.happy", "Issue a degree", ("smoke",)), scenario("issuance.notarized", tags=("notarization",)),
       scenario("verification.tampered", "Tampered VP", ("attack", "smoke"))]


@pytest.mark.parametrize("expression, expected", [
    ("issuance", ["issuance.happy", "issuance.notarized"]),
    ("issuance and not notarization", ["issuance.happy"]),
    ("DEGREE or tampered", ["issuance.happy", "verification.tampered"]),
    ("not (issuance or attack)", []),
    ("smoke and (verification or happy)", ["issuance.happy", "verification.tampered"]),
])
def test_keyword_expressions(expression: str, expected: list[str]) -> None:
    assert [s.id for s in select(ALL, keyword=expression)] == expected


def test_tags_select_any_and_combine_with_keywords() -> None:
    assert [s.id for s in select(ALL, tags=["attack", "notarization"])] == ["issuance.notarized", "verification.tampered"]
    assert [s.id for s in select(ALL, keyword="issuance", tags=["smoke"])] == ["issuance.happy"]


@pytest.mark.parametrize("expression, message", [
    ("a and", "unexpected end of expression"), ("(a", "missing ')'"), ("a b", "unexpected 'b'"),
    ("and a", "unexpected 'and'"), ("  ", "-k needs an expression"),
])
def test_malformed_expressions(expression: str, message: str) -> None:
    with pytest.raises(SelectionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        select(ALL, keyword=expression)

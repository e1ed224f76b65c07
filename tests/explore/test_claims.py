"""The pure parts of the disclosure property: claim shapes from issuer metadata, the selectable
paths, and what a verifier must see for a selection (RFC 9901 §7.3)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance.explore.properties.claims import ClaimShape, claim_sets, concrete_paths, member_paths, reveal

RESIDENT = {"credential_metadata": {"claims": [
    {"path": ["given_name"], "mandatory": True}, {"path": ["family_name"]}, {"path": ["address"]},
    {"path": ["address", "locality"]}, {"path": ["address", "country"]}, {"path": ["nationalities"]},
    {"path": ["nationalities", None]}]}}
CLAIMS = {"given_name": "Ana", "address": {"locality": "Lisboa", "extra": {"a": [1, 2]}},
          "nationalities": ["PT", {"name": "BR"}]}


def test_shape_from_the_configuration_metadata() -> None:
    shape = ClaimShape.from_metadata(RESIDENT)
    assert shape.mandatory == ("given_name",)
    assert shape.optional == ("family_name", "address", "nationalities")
    assert shape.members == {"address": ("locality", "country")}


def test_member_paths_stop_at_arrays_and_concrete_paths_do_not() -> None:
    assert member_paths(CLAIMS) == [("given_name",), ("address",), ("address", "locality"), ("address", "extra"),
                                    ("address", "extra", "a"), ("nationalities",)]
    assert ("nationalities", 1, "name") in concrete_paths(CLAIMS)


def test_reveal_keeps_ancestors_whole_claims_and_drops_undisclosed_array_elements() -> None:
    assert reveal(CLAIMS, [("address", "locality")]) == {"address": {"locality": "Lisboa"}}
    assert reveal(CLAIMS, [("address", "extra"), ("given_name",)]) == {
        "given_name": "Ana", "address": {"extra": {"a": [1, 2]}}}
    assert reveal(CLAIMS, [("nationalities", 1, "name")]) == {"nationalities": [{"name": "BR"}]}
    assert reveal(CLAIMS, [("nationalities",)]) == {"nationalities": CLAIMS["nationalities"]}


@given(claim_sets(ClaimShape.from_metadata(RESIDENT)), st.data())
def test_generated_claims_follow_the_shape_and_reveal_is_a_projection(claims: dict[str, Any], data: Any) -> None:
    assert "given_name" in claims and set(claims) <= {"given_name", "family_name", "address", "nationalities"}
    assert all(set(claims["address"]) <= {"locality", "country"} for _ in [0] if "address" in claims)
    assert reveal(claims, member_paths(claims)) == claims
    chosen = data.draw(st.lists(st.sampled_from(member_paths(claims)), max_size=3))
    assert set(reveal(claims, chosen)) == {path[0] for path in chosen}

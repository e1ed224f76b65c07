"""`${...}` templating and dotted-path digging."""

from __future__ import annotations

import random

import pytest

from conformance.harness.template import Scope, TemplateError, dig, references, render

from ._doubles import World, make_target


def scope(vars: dict | None = None, seed: int = 1, target: object = None, webhooks: str | None = None) -> Scope:
    return Scope(vars or {}, random.Random(seed), "step 'create offer'", target=target, webhooks_url=webhooks)


def test_a_whole_reference_keeps_its_type_and_text_is_interpolated() -> None:
    s = scope({"offer": {"id": "o-1", "n": 3}, "flag": True})
    assert render("${offer}", s) == {"id": "o-1", "n": 3}
    assert render({"a": ["${offer.n}", "id=${offer.id}, n=${offer.n}, ${flag}"]}, s) == {
        "a": [3, "id=o-1, n=3, true"]}
    assert render("literal $${offer.id} and ${ offer.id }", s) == "literal ${offer.id} and o-1"


def test_random_values_replay_with_the_seed() -> None:
    first = render(["${random.hex8}", "${random.uuid}", "${random.int}"], scope(seed=7))
    again = render(["${random.hex8}", "${random.uuid}", "${random.int}"], scope(seed=7))
    other = render(["${random.hex8}", "${random.uuid}", "${random.int}"], scope(seed=8))
    assert first == again and first != other
    assert len(first[0]) == 8 and len(first[1]) == 36 and isinstance(first[2], int)


def test_target_values() -> None:
    target = make_target(World(), roles=("issuer",))
    s = scope(target=target)
    assert render("${target.config.default}", s) == "degree"
    assert render("${target.url.issuer}/x", s) == "http://issuer.test/x"
    assert render("${target.name}", s) == "fake-deployment"
    with pytest.raises(TemplateError, match=r"\$\{target.config.identity\}.*the target defines no config "
                                            r"'identity'.*known: target.config.default"):
        render("${target.config.identity}", s)


def test_unknown_variable_names_the_step_and_what_is_known() -> None:
    with pytest.raises(TemplateError) as info:
        render({"x": "${offer_uri}"}, scope({"offer_id": "1"}))
    assert str(info.value) == ("step 'create offer': unknown variable ${offer_uri}; known: offer_id, random, "
                               "target, webhooks")
    with pytest.raises(TemplateError, match=r"unknown variable \$\{offer.missing\} \(no member 'missing'"):
        render("${offer.missing}", scope({"offer": {"id": 1}}))
    with pytest.raises(TemplateError, match="declare `webhooks: true`"):
        render("${webhooks.url}", scope())
    assert render("${webhooks.url}", scope(webhooks="http://hooks/cb")) == "http://hooks/cb"


def test_references_lists_names_except_escapes() -> None:
    assert sorted(references({"a": ["${x}", "$${y}", "${z.w} ${random.hex8}"]})) == ["random.hex8", "x", "z.w"]


def test_dig_follows_keys_and_indices_and_says_where_it_stopped() -> None:
    value = {"items": [{"id": "a"}, {"id": "b"}]}
    assert dig(value, "items.1.id") == "b" and dig(value, "items.-1.id") == "b" and dig(value, "") is value
    with pytest.raises(LookupError, match="index 5 out of range at items"):
        dig(value, "items.5")
    with pytest.raises(LookupError, match="no member 'nope' at items.0 \\(members: id\\)"):
        dig(value, "items.0.nope")
    with pytest.raises(LookupError, match="cannot take 'x' of a str at items.0.id"):
        dig(value, "items.0.id.x")

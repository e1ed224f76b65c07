"""Field matchers, status and JSON Schema expectations."""

from __future__ import annotations

import random

import pytest

from conformance.harness.expectations import check_matcher, check_schema, check_status
from conformance.harness.scenario import FieldMatcher, Source
from conformance.harness.template import Scope

BODY = {"status": "ACTIVE", "count": 1, "flag": True, "items": [{"id": "a"}, {"id": "b"}], "ratio": 1.0}


def match(path: str, **conditions: object) -> tuple[bool, str]:
    scope = Scope({"expected": "ACTIVE"}, random.Random(0), "step 'x'")
    result = check_matcher(FieldMatcher(path, tuple(conditions.items()), Source("f", 1)), BODY, "body", scope)
    return result.passed, result.message


@pytest.mark.parametrize("path, conditions, passed", [
    ("status", {"equals": "ACTIVE"}, True),
    ("status", {"equals": "${expected}"}, True),
    ("count", {"equals": True}, False),          # JSON types differ: 1 is not true
    ("flag", {"equals": 1}, False),
    ("ratio", {"equals": 1}, True),              # one JSON number type
    ("items.1.id", {"one_of": ["b", "c"]}, True),
    ("items.1.id", {"one_of": ["c"]}, False),
    ("missing", {"exists": False}, True),
    ("missing", {"exists": True}, False),
    ("status", {"exists": False}, False),
    ("status", {"matches": "^ACT"}, True),
    ("count", {"matches": "1"}, False),          # not a string
    ("items", {"length": 2}, True),
    ("items", {"length": {"min": 3}}, False),
    ("status", {"length": {"min": 1, "max": 6}}, True),
    ("count", {"length": 1}, False),
    ("missing", {"equals": None}, False),        # absent is not null
    ("status", {"exists": True, "equals": "REVOKED"}, False),
])
def test_matchers(path: str, conditions: dict, passed: bool) -> None:
    assert match(path, **conditions)[0] is passed


def test_matcher_messages_say_received_and_expected() -> None:
    assert match("status", equals="REVOKED")[1] == "body.status Received: ACTIVE / Expected: REVOKED"
    assert match("items", length={"min": 3})[1] == "body.items Received: length 2 / Expected: length 3.."
    assert match("missing", exists=True)[1] == "body.missing is absent, expected present"


def test_status_and_schema() -> None:
    assert check_status((201,), 201).passed and check_status((200, 204), 204).passed
    assert check_status((201,), None).message == "status: Received: no response / Expected: 201"
    assert check_status((200, 204), 500).message == "status: Received: 500 / Expected: one of 200, 204"
    inline = {"type": "object", "required": ["offer_id"], "properties": {"offer_id": {"type": "string"}}}
    assert check_schema(inline, {"offer_id": "x"}).passed
    failed = check_schema(inline, {"offer_id": 3, "x": 1})
    assert not failed.passed and failed.message == "body does not match inline schema at offer_id: 3 is not of type 'string'"
    named = check_schema("scenario", {"id": "a.b"})
    assert not named.passed and named.message.startswith("body does not match schema scenario at (root)")

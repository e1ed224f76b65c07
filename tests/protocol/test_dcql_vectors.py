"""Table-driven DCQL vectors: fixtures/vectors/dcql/*.json, expected results derived from the spec text.

Each file: {"source", "description", "cases": [{"name", "source"?, "strict"?, "query",
"wallet" + "expected" | "expected_error"}]}. `expected` may give: can_be_satisfied, matches,
unsatisfied, claims ({query id: {wallet index: [paths]}}), claim_sets ({query id: {wallet index:
chosen set}}), credential_sets (per set, the members given), multiple ({query id: bool}), notes
(the exact list of note codes).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.protocol.dcql import CredentialIndex, WalletCredential, match, parse_query
from conformance.protocol.errors import DcqlError

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "dcql"
EXPECTED_KEYS = {"can_be_satisfied", "matches", "unsatisfied", "claims", "claim_sets", "credential_sets",
                 "multiple", "notes"}


def _load() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(VECTORS.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            cases.append((f"{path.stem}: {case['name']}", case))
    return cases


CASES = _load()


def test_vector_files_are_well_formed():
    files = sorted(VECTORS.glob("*.json"))
    assert len(files) >= 12
    for path in files:
        document = json.loads(path.read_text(encoding="utf-8"))
        assert document["source"].startswith(("OID4VP 1.0", "seed")), path.name
        assert document["cases"], path.name
        for case in document["cases"]:
            assert ("expected" in case) != ("expected_error" in case), (path.name, case["name"])
            assert set(case.get("expected", {})) <= EXPECTED_KEYS, (path.name, case["name"])
            if "expected" in case:
                assert "wallet" in case and "can_be_satisfied" in case["expected"], (path.name, case["name"])


@pytest.mark.parametrize("case", [case for _, case in CASES], ids=[name for name, _ in CASES])
def test_vector(case: dict[str, Any]) -> None:
    strict = case.get("strict", False)
    if "expected_error" in case:
        with pytest.raises(DcqlError) as exc:
            parse_query(case["query"], strict=strict)
        assert exc.value.reason == case["expected_error"]["reason"], exc.value.message
        assert exc.value.field == case["expected_error"]["field"], exc.value.message
        return
    query = parse_query(case["query"], strict=strict)
    wallet = [WalletCredential.from_json(credential) for credential in case["wallet"]]
    result = match(query, CredentialIndex(wallet))
    assert result == match(query, wallet)  # indexing first or inside the call is the same
    _check(result.as_dict(), case["expected"])


def _check(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    assert actual["can_be_satisfied"] is expected["can_be_satisfied"]
    for key in ("matches", "unsatisfied"):
        if key in expected:
            assert actual[key] == expected[key], key
    if "notes" in expected:
        assert [note["code"] for note in actual["notes"]] == expected["notes"]
    candidates = {qid: {str(c["index"]): c for c in q["candidates"]} for qid, q in actual["queries"].items()}
    for query_id, per_credential in expected.get("claims", {}).items():
        for index, paths in per_credential.items():
            assert candidates[query_id][index]["claims"] == paths, (query_id, index)
    for query_id, per_credential in expected.get("claim_sets", {}).items():
        for index, claim_set in per_credential.items():
            assert candidates[query_id][index]["claim_set"] == claim_set, (query_id, index)
    for query_id, multiple in expected.get("multiple", {}).items():
        assert actual["queries"][query_id]["multiple"] is multiple
    if "credential_sets" in expected:
        assert len(actual["credential_sets"]) == len(expected["credential_sets"])
        for got, want in zip(actual["credential_sets"], expected["credential_sets"], strict=True):
            assert {key: got[key] for key in want} == want

"""`conformance dcql QUERY.json CREDENTIALS.json` through the real command registry."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from conformance.cli import main

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "dcql"
DEGREE = "https://schema-registry.turingspace.co/schemas/UniversityDegreeCredential/v1"
SEED_REQUEST = {  # seed 004: the verifier's authorization request body, DCQL part
    "dcql_query": {"credentials": [{
        "id": "degree_credential", "format": "dc+sd-jwt", "meta": {"vct_values": [DEGREE]},
        "claims": [{"path": ["credentialName"]}, {"path": ["studentId"]}, {"path": ["degreeName"]}],
        "trusted_authorities": [{"type": "did", "values": ["did:iota:0xabc123def456"]}],
    }]},
    "response_mode": "direct_post",
}
WALLET = [
    {"format": "dc+sd-jwt", "vct": DEGREE, "issuer": "did:iota:0xother",
     "claims": {"credentialName": "BSc", "studentId": "S-1", "degreeName": "CS"}},
    {"format": "dc+sd-jwt", "vct": DEGREE, "issuer": "did:iota:0xabc123def456",
     "claims": {"credentialName": "BSc", "studentId": "S-1", "degreeName": "CS", "gpa": "3.9"}},
]


def write(tmp_path: Path, name: str, content: object) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return str(path)


def test_seed_request_form_matches_and_lists_the_did_note(tmp_path, capsys):
    code = main(["dcql", write(tmp_path, "q.json", SEED_REQUEST), write(tmp_path, "c.json", WALLET)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["can_be_satisfied"] is True
    assert out["matches"] == {"degree_credential": [1]}
    assert out["queries"]["degree_credential"]["candidates"] == [
        {"index": 1, "claim_set": None, "claims": [["credentialName"], ["studentId"], ["degreeName"]]}]
    assert [note["code"] for note in out["notes"]] == ["dcql_authority_type_did"]
    assert "not defined by OID4VP 1.0" in out["notes"][0]["message"]


def test_bare_query_from_stdin_and_wrapped_credentials(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(SEED_REQUEST["dcql_query"])))
    code = main(["dcql", "-", write(tmp_path, "c.json", {"credentials": WALLET[:1]})])
    out = json.loads(capsys.readouterr().out)
    assert (code, out["can_be_satisfied"], out["matches"], out["unsatisfied"]) == (
        1, False, {"degree_credential": []}, ["degree_credential"])


def test_credentials_from_stdin_with_credential_sets(tmp_path, capsys, monkeypatch):
    vector = json.loads((VECTORS / "spec_appendix_d_credentials_alternatives.json").read_text(encoding="utf-8"))
    case = vector["cases"][0]
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(case["wallet"])))
    code = main(["dcql", write(tmp_path, "q.json", case["query"]), "-"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["matches"] == case["expected"]["matches"]
    assert [s["chosen_option"] for s in out["credential_sets"]] == [2, 0]


def test_invalid_query_is_one_line_naming_the_field(tmp_path, capsys):
    bad = {"credentials": [{"id": "a", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]}},
                           {"id": "b", "format": "dc+sd-jwt", "meta": {"vct_values": ["v"]},
                            "claims": [{"path": ["x", -1]}]}]}
    code = main(["dcql", write(tmp_path, "q.json", bad), write(tmp_path, "c.json", [])])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("conformance dcql: error: ")
    assert "credentials[1].claims[0].path[1]" in lines[0] and "(dcql_invalid_path)" in lines[0]


@pytest.mark.parametrize("query,credentials,message", [
    ("{not json", "[]", "is not valid JSON"),
    (json.dumps(SEED_REQUEST), '{"credentials": 3}', "must hold a JSON array of credentials"),
    (json.dumps(SEED_REQUEST), '[{"vct": "x"}]', "[0].format"),
])
def test_unreadable_input_exits_2(tmp_path, capsys, query, credentials, message):
    code = main(["dcql", write(tmp_path, "q.json", query), write(tmp_path, "c.json", credentials)])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert message in captured.err and len(captured.err.strip().splitlines()) == 1


def test_missing_file_and_double_stdin_exit_2(tmp_path, capsys):
    assert main(["dcql", str(tmp_path / "absent.json"), write(tmp_path, "c.json", [])]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["dcql", "-", "-"]) == 2
    assert "only one of" in capsys.readouterr().err


def test_strict_rejects_tolerated_deviations(tmp_path, capsys):
    lenient = {"credentials": [{"id": "any", "format": "dc+sd-jwt", "meta": {}}]}
    query, wallet = write(tmp_path, "q.json", lenient), write(tmp_path, "c.json", WALLET)
    assert main(["dcql", query, wallet]) == 0
    assert [n["code"] for n in json.loads(capsys.readouterr().out)["notes"]] == ["dcql_vct_values_missing"]
    assert main(["dcql", "--strict", query, wallet]) == 2
    assert "(dcql_vct_values_missing)" in capsys.readouterr().err

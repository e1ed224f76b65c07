"""Scenario files: schema validation with file:line and fix hints, rules beyond the schema, discovery."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance.harness.checks import REGISTRY
from conformance.harness.loader import ScenarioError, discover, load_scenario_text, load_scenarios

GOOD = textwrap.dedent("""\
    id: issuance.happy_path
    title: Issue a credential
    roles: [issuer]
    tags: [issuance, smoke]
    spec: ["OID4VCI 1.0 §4.1"]
    seed_endpoints: ["POST /v1/offers"]
    vars:
      degree: "Degree ${random.hex8}"
    steps:
      - name: create offer
        op: issuer.create_offer
        with: {claims: {credentialName: "${degree}"}}
        capture: {offer_id: body.offer_id, where: headers.location}
        expect:
          status: 201
          body: {offer_id: {exists: true}, expires_at: {matches: "^20"}}
          checks: [oid4vci.offer_shape]
      - name: read it back
        http: {role: issuer, method: GET, path: "/v1/offers/${offer_id}", headers: {X-API-Key: "${target.api_key.issuer}"}}
        expect: {status: [200, 304], body: {credential_issuer: {equals: "${target.url.issuer}"}}}
    """)


def load(text: str):
    return load_scenario_text(text, "s.yaml", known_checks=REGISTRY.names())


def problems(text: str) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load(text)
    return [str(p) for p in info.value.problems]


def test_a_valid_scenario_becomes_typed_steps() -> None:
    scenario = load(GOOD)
    assert scenario.id == "issuance.happy_path" and scenario.roles == ("issuer",)
    first, second = scenario.steps
    assert first.op == "issuer.create_offer" and first.expect.status == (201,)
    assert first.expect.checks == ("oid4vci.offer_shape",)
    assert [m.path for m in first.expect.body] == ["offer_id", "expires_at"]
    assert first.expect.body[1].source.line == 16
    assert second.http is not None and second.http.method == "GET" and second.expect.status == (200, 304)
    assert second.label == "http GET issuer /v1/offers/${offer_id}"
    assert first.source.line == 10 and second.source.line == 18


def test_unknown_member_names_the_line_and_suggests_the_fix() -> None:
    found = problems(GOOD.replace("      status: 201", "      stauts: 201"))
    assert found == ["s.yaml:15: steps[0].expect: unknown member 'stauts'\n"
                     "  hint: did you mean 'status'? (allowed: status, schema, body, artefacts, checks)"]


def test_missing_member_quotes_the_schema_description() -> None:
    found = problems(GOOD.replace('spec: ["OID4VCI 1.0 §4.1"]\n', ""))
    assert len(found) == 1 and found[0].startswith("s.yaml:1: the top level: missing required member 'spec'")
    assert "Spec clauses the scenario exercises" in found[0]


@pytest.mark.parametrize("change, line, fragment", [
    (("status: 201", "status: two hundred"), 15, "steps[0].expect.status"),
    (("roles: [issuer]", "roles: [admin]"), 3, "roles[0]: 'admin' is not one of"),
    (("id: issuance.happy_path", "id: Not An Id"), 1, "id: 'Not An Id' does not match"),
    (("op: issuer.create_offer", "op: issuer.create_offer\n    http: {role: issuer, method: GET, path: /x}"),
     10, "has both `op:` and `http:`"),
])
def test_schema_violations_point_at_their_line(change: tuple[str, str], line: int, fragment: str) -> None:
    found = problems(GOOD.replace(*change))
    assert any(p.startswith(f"s.yaml:{line}:") and fragment in p for p in found), found


def test_yaml_syntax_and_duplicate_keys_are_located() -> None:
    assert problems("id: a.b\ntitle: [unclosed\n")[0].startswith("s.yaml:3: invalid YAML")
    dup = problems(GOOD.replace("title: Issue a credential", "title: Issue a credential\ntitle: again"))
    assert dup[0].startswith("s.yaml:3: invalid YAML: duplicate key 'title' (first defined on line 2)")
    assert problems("- a\n- b\n")[0].startswith("s.yaml:1: a scenario file must be a YAML mapping")


def test_unknown_check_is_reported_with_a_suggestion() -> None:
    found = problems(GOOD.replace("[oid4vci.offer_shape]", "[oid4vci.offer_shap]"))
    assert found == ["s.yaml:17: step 'create offer': unknown check 'oid4vci.offer_shap'\n"
                     "  hint: did you mean 'oid4vci.offer_shape'? `conformance list --checks` shows the "
                     "registered checks"]


@pytest.mark.parametrize("change, fragment", [
    (("/v1/offers/${offer_id}", "/v1/offers/${offer}"), "step 'read it back': unknown variable ${offer}"),
    (('"Degree ${random.hex8}"', '"${random.hex9}"'), "unknown generator ${random.hex9}"),
    (('"Degree ${random.hex8}"', '"${env.SECRET}"'), "${env.SECRET} is only allowed in target files"),
    (('"Degree ${random.hex8}"', '"${webhooks.url}"'), "needs a webhook receiver"),
    (('matches: "^20"', 'matches: "(["'), "expires_at: `matches` is not a valid regular expression"),
    (("status: 201", "status: 201\n      schema: no_such_schema"), "expect.schema names 'no_such_schema'"),
])
def test_rules_beyond_the_schema(change: tuple[str, str], fragment: str) -> None:
    found = problems(GOOD.replace(*change))
    assert any(fragment in p for p in found), found


def test_a_capture_is_only_usable_after_the_step_that_makes_it() -> None:
    text = GOOD.replace('"${degree}"', '"${offer_id}"')
    assert any("step 'create offer': unknown variable ${offer_id}" in p and "defined so far: degree" in p
               for p in problems(text))


def test_files_are_discovered_and_duplicate_ids_rejected(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.yaml").write_text(GOOD)
    (tmp_path / "two.yml").write_text(GOOD.replace("issuance.happy_path", "issuance.other"))
    (tmp_path / "notes.txt").write_text("not a scenario")
    assert [p.name for p in discover([tmp_path])] == ["one.yaml", "two.yml"]
    assert [s.id for s in load_scenarios([tmp_path])] == ["issuance.happy_path", "issuance.other"]
    (tmp_path / "three.yaml").write_text(GOOD)
    with pytest.raises(ScenarioError) as info:
        load_scenarios([tmp_path])
    assert "duplicate scenario id 'issuance.happy_path'" in str(info.value)
    assert f"also defined at {tmp_path / 'a' / 'one.yaml'}:1" in str(info.value)


def test_every_broken_file_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD.replace("title:", "titel:"))
    (tmp_path / "b.yaml").write_text("id: [\n")
    with pytest.raises(ScenarioError) as info:
        load_scenarios([tmp_path])
    files = {Path(p.file).name for p in info.value.problems}
    assert files == {"a.yaml", "b.yaml"} and str(info.value).startswith("invalid scenarios (")


def test_a_missing_location_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such file or directory"):
        load_scenarios([tmp_path / "nope"])


def test_dialects_are_optional_and_limited_to_the_registered_dialects() -> None:
    from conformance.dialects.registry import dialect_names
    from conformance.harness import schemas

    assert load(GOOD).dialects == ()
    bound = GOOD.replace("roles: [issuer]\n", "roles: [issuer]\ndialects: [tcs, orgwallet]\n")
    assert load(bound).dialects == ("tcs", "orgwallet")
    (typo,) = problems(GOOD.replace("roles: [issuer]\n", "roles: [issuer]\ndialects: [tsc]\n"))
    assert typo.startswith("s.yaml:4: dialects[0]: 'tsc' is not one of") and "hint: A dialect name" in typo
    (empty,) = problems(GOOD.replace("roles: [issuer]\n", "roles: [issuer]\ndialects: []\n"))
    assert "s.yaml:4: dialects" in empty and "written for" in empty
    # The schema's list is the registry's: a new dialect must be added to both.
    enum = schemas.load_schema("scenario")["properties"]["dialects"]["items"]["enum"]
    assert sorted(enum) == dialect_names()

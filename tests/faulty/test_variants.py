"""The harness catches a broken deployment (issue 6 acceptance; issue 7 closing figure).

Each faulty variant of the embedded reference (variants.py) is applied to a fresh deployment
and the scenarios it names are run through the harness's Runner: the variant must make the
declared scenario fail with the declared check or expectation. The unmodified reference must
pass those same scenarios (the control), so a catch is the variant's doing. A variant no scenario
catches yet is a finding: its test is a strict xfail that runs the scenarios it probes, and a
demo (demos.py) proves, independently of the scenario library, that the variant really breaks
what it claims. The summary line "N variants caught of M tried" is printed at the end of the
session (conftest.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.checks import REGISTRY
from conformance.harness.target import open_target
from tests.faulty import trial
from tests.faulty.demos import DEMOS, Steps
from tests.faulty.variants import ROLES, VARIANTS, Catch, Variant


def _param(variant: Variant) -> Any:
    marks = [pytest.mark.xfail(strict=True, reason=f"not caught yet: {variant.missing}")] if variant.missing else []
    return pytest.param(variant, id=variant.name, marks=marks)


@pytest.fixture(scope="module")
def baseline() -> dict[str, str]:
    """Scenarios the unmodified reference does not pass, among all those the variants run."""
    names = {s.id for v in VARIANTS.values() for s in trial.scenarios_for(v)}
    return trial.passed_all(asyncio.run(trial.run(trial.select(sorted(names)))))


def test_unmodified_reference_passes_every_scenario_the_variants_run(baseline: dict[str, str]) -> None:
    assert not baseline, baseline


@pytest.mark.parametrize("variant", [_param(v) for v in VARIANTS.values()])
def test_variant_is_caught(variant: Variant, request: pytest.FixtureRequest) -> None:
    verdict = asyncio.run(trial.try_variant(variant))
    if variant.missing:
        # Any probed failure counts for a variant not caught yet, so one that the unmodified
        # reference shares would prove nothing. (A declared catch names its failure exactly.)
        baseline = request.getfixturevalue("baseline")
        assert not set(verdict.failures) & set(baseline), baseline
    assert verdict.caught, verdict.explain()


def test_registry_covers_every_role_with_known_scenarios_and_checks() -> None:
    assert len(VARIANTS) >= 12
    assert {v.role for v in VARIANTS.values()} == set(ROLES)
    known = trial.library()
    for variant in VARIANTS.values():
        assert variant.name.startswith(f"{variant.role}."), variant.name
        for catch in variant.catch:
            assert catch.scenario in known, f"{variant.name}: no scenario {catch.scenario}"
            assert catch.check is None or catch.check in REGISTRY.names(), f"{variant.name}: no check {catch.check}"
        # A probe matching nothing would make the trial of a variant not caught yet vacuous.
        assert not variant.probe or trial.select(variant.probe, prefixes=True), variant.name


def test_every_variant_not_caught_yet_has_a_demo() -> None:
    assert {v.name for v in VARIANTS.values() if v.missing} <= set(DEMOS) <= set(VARIANTS)


async def _demo(name: str, broken: bool) -> tuple[bool, str]:
    target = await open_target("reference", seed=trial.SEED)
    try:
        if broken:
            VARIANTS[name].apply(target.deployment)
        steps = Steps(target, seed=trial.SEED)
        try:
            return await DEMOS[name](steps, target.deployment)
        finally:
            await steps.aclose()
    finally:
        await target.aclose()


@pytest.mark.parametrize("name", sorted(DEMOS))
def test_demo_shows_the_variant_really_breaks_its_behaviour(name: str) -> None:
    held, seen = asyncio.run(_demo(name, broken=False))
    assert held, f"the unmodified reference: {seen}"
    held, seen = asyncio.run(_demo(name, broken=True))
    assert not held, f"{name} left the behaviour intact: {seen}"


def test_readme_lists_every_variant_with_its_catch() -> None:
    readme = (Path(__file__).parent / "README.md").read_text(encoding="utf-8")
    missing = [row for row in trial.table_rows() if row not in readme]
    assert not missing, "tests/faulty/README.md lacks these rows:\n" + "\n".join(missing)


def test_judge_asks_for_the_declared_failure_and_nothing_else() -> None:
    """A catch holds only for the named scenario failing with the named check or expectation."""
    variant = VARIANTS["issuer.error_body_shape"]
    scenarios = trial.select(["issuance.offer_requires_api_key"])
    broken = asyncio.run(trial.run(scenarios, variant.apply))
    clean = asyncio.run(trial.run(scenarios))
    assert trial.judge(variant, broken).caught
    passed = trial.judge(variant, clean)
    assert not passed.caught and "the scenario passed" in passed.missed[0]
    other_check = dataclasses.replace(variant, catch=(Catch("issuance.offer_requires_api_key",
                                                            check="api.json_content_type"),))
    verdict = trial.judge(other_check, broken)
    assert not verdict.caught and "it failed otherwise" in verdict.missed[0]
    elsewhere = dataclasses.replace(variant, catch=(Catch("issuance.tx_code", expectation="status"),))
    assert "did not run" in trial.judge(elsewhere, broken).missed[0]
    probing = dataclasses.replace(variant, catch=(), missing="a finding", probe=("issuance.offer_requires",))
    assert trial.judge(probing, broken).caught and not trial.judge(probing, clean).caught

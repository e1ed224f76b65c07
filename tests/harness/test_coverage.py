"""Coverage tables: inventory items no scenario claims show as not covered; unknown claims show
under "other" instead of vanishing."""

from __future__ import annotations

import re

from conformance import paths
from conformance.harness.coverage import OTHER, coverage_rows, coverage_summary, load_inventory
from conformance.harness.loader import load_scenarios

INVENTORY = {"seed_endpoints": {"issuer": ("POST /v1/offers", "GET /v1/offers/{id}/credentials")}}
SCENARIOS = [
    {"id": "a", "status": "passed", "seed_endpoints": ["POST /v1/offers"]},
    {"id": "b", "status": "failed", "seed_endpoints": ["POST /v1/offers", "POST /v1/ofers"]},
]


def test_rows_follow_the_inventory_then_list_unknown_claims() -> None:
    rows = coverage_rows("seed_endpoints", SCENARIOS, INVENTORY)
    assert [(r.group, r.item, [s["id"] for s in r.scenarios]) for r in rows] == [
        ("issuer", "POST /v1/offers", ["a", "b"]),
        ("issuer", "GET /v1/offers/{id}/credentials", []),
        (OTHER, "POST /v1/ofers", ["b"]),
    ]
    assert not rows[1].covered


def test_the_shipped_inventory_lists_every_seed_document() -> None:
    groups = load_inventory()["seed_endpoints"]
    assert {g.split("(")[-1].rstrip(")") for g in groups} == {"000", "001", "002", "003", "004"}


def test_summary_names_what_is_missing() -> None:
    summary = coverage_summary(SCENARIOS)["seed_endpoints"]
    assert summary["covered"]["POST /v1/offers"] == ["a", "b"]
    assert "POST /v1/user/register" in summary["not_covered"]


def test_the_shipped_inventory_lists_the_suite_modules_of_the_profile() -> None:
    groups = load_inventory()["conformance_suite"]
    assert set(groups) == {"OID4VCI 1.0 issuer", "OID4VP 1.0 verifier", "OID4VP 1.0 wallet"}
    prefixes = {"OID4VCI 1.0 issuer": "oid4vci-1_0-issuer-", "OID4VP 1.0 verifier": "oid4vp-1final-verifier-",
                "OID4VP 1.0 wallet": "oid4vp-1final-wallet-"}
    for group, modules in groups.items():
        assert modules and len(set(modules)) == len(modules), group
        assert all(m.startswith(prefixes[group]) for m in modules), group
    # Out of the profile (mdoc, key / client attestation, encrypted credential responses).
    listed = {m for modules in groups.values() for m in modules}
    assert not {m for m in listed if re.search(r"session-transcript|key-attestation|client-attestation|"
                                                r"encryption-algorithm|identifier-list", m)}


def test_every_module_a_scenario_claims_is_in_the_inventory() -> None:
    """A typo in a scenario's `conformance_suite:` would otherwise only show under "other"."""
    listed = {m for modules in load_inventory()["conformance_suite"].values() for m in modules}
    claimed = {m for scenario in load_scenarios([paths.SCENARIOS]) for m in scenario.conformance_suite}
    assert claimed, "no scenario claims a conformance-suite module"
    assert claimed - listed == set()

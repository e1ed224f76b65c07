"""Coverage tables: inventory items no scenario claims show as not covered; unknown claims show
under "other" instead of vanishing."""

from __future__ import annotations

from conformance.harness.coverage import OTHER, coverage_rows, coverage_summary, load_inventory

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

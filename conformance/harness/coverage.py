"""Coverage: which scenarios claim which seed endpoint or conformance-suite module, against the
inventory of what a complete run should cover (fixtures/coverage/inventory.yaml).

An inventory item no scenario claims is reported as not covered; a claimed item the inventory
does not list still shows, under "other", so a typo in a scenario is visible rather than lost.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from conformance.paths import FIXTURES

INVENTORY = FIXTURES / "coverage" / "inventory.yaml"
KINDS = ("seed_endpoints", "conformance_suite")
OTHER = "other (not in the inventory)"


@dataclass(frozen=True)
class CoverageRow:
    group: str
    item: str
    scenarios: tuple[Mapping[str, Any], ...]   # report entries of the scenarios claiming the item

    @property
    def covered(self) -> bool:
        return bool(self.scenarios)


@cache
def load_inventory(path: Path = INVENTORY) -> Mapping[str, Mapping[str, tuple[str, ...]]]:
    """kind -> group -> items. A missing file is an empty inventory (coverage shows claims only)."""
    if not path.is_file():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {kind: {group: tuple(items) for group, items in (data.get(kind) or {}).items()} for kind in KINDS}


def coverage_rows(kind: str, scenarios: Sequence[Mapping[str, Any]],
                  inventory: Mapping[str, Mapping[str, tuple[str, ...]]] | None = None) -> list[CoverageRow]:
    groups = (load_inventory() if inventory is None else inventory).get(kind, {})
    claims: dict[str, list[Mapping[str, Any]]] = {}
    for scenario in scenarios:
        for item in scenario.get(kind) or ():
            claims.setdefault(item, []).append(scenario)
    rows = [CoverageRow(group, item, tuple(claims.pop(item, ()))) for group, items in groups.items()
            for item in items]
    return rows + [CoverageRow(OTHER, item, tuple(found)) for item, found in sorted(claims.items())]


def coverage_summary(scenarios: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """For report.json: per kind, item -> claiming scenario ids, and the items not covered."""
    summary: dict[str, Any] = {}
    for kind in KINDS:
        rows = coverage_rows(kind, scenarios)
        summary[kind] = {
            "covered": {row.item: [s["id"] for s in row.scenarios] for row in rows if row.covered},
            "not_covered": [row.item for row in rows if not row.covered],
        }
    return summary

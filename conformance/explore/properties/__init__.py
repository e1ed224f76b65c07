"""The hypothesis properties `conformance explore` runs against a target, by name.

A new property is a `Property` in one of the modules listed in MODULES (each exports PROPERTIES).
They speak the seed APIs (the `tcs` dialect); a target of another dialect skips them.
"""

from __future__ import annotations

import importlib

from conformance.explore.properties.base import ExploreContext, Property, Skip

MODULES = (
    "conformance.explore.properties.roundtrip",
    "conformance.explore.properties.dcql",
    "conformance.explore.properties.holder_machine",
)


def registry() -> dict[str, Property]:
    found: dict[str, Property] = {}
    for module_name in MODULES:
        for prop in importlib.import_module(module_name).PROPERTIES:
            if prop.name in found:
                raise ValueError(f"property {prop.name!r} is defined twice ({module_name})")
            found[prop.name] = prop
    return found


__all__ = ["MODULES", "ExploreContext", "Property", "Skip", "registry"]

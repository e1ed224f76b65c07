"""Hooks of the conformance pytest plugin; implement them in a conftest to substitute the target
or the dialect environment behind the scenario items (the first non-None result wins)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_conformance_open_target(config: pytest.Config, spec: str | None, seed: int) -> Any:
    """Return an awaitable resolving to the Target (`spec` None = the embedded reference)."""


@pytest.hookspec(firstresult=True)
def pytest_conformance_environment(config: pytest.Config) -> Any:
    """Return the conformance.harness.environment.Environment (the dialect layer) to use."""

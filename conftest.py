"""Project-wide test configuration.

Hypothesis profiles: `ci` (default, bounded so the suite stays within minutes on 2 cores) and
`deep` for local exploration: `HYPOTHESIS_PROFILE=deep pytest tests/protocol`.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile("ci", max_examples=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=2000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"

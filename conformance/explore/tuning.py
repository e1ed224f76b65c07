"""How the explorer tunes hypothesis for runs against a deployment.

- Shrinking time: hypothesis stops shrinking after `MAX_SHRINKING_SECONDS` (five minutes), a module
  constant it documents as the knob to change. Each example against a deployment costs real
  requests, so a run lowers it; what is reported is always a real failing example - the smallest
  found when the time ran out.
- Readable examples: schemathesis, once set up (its pytest plugin does it at start-up), swaps
  hypothesis' representation printer for one that prints nothing, which blanks every falsifying
  example ("case=,"). A run puts hypothesis' own printer back for its duration, since the printed
  example is what the report shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis import core
from hypothesis.internal.conjecture import engine
from hypothesis.vendor import pretty

from conformance.explore.defaults import SHRINK_SECONDS

DEFAULT_SHRINK_SECONDS = SHRINK_SECONDS
# Hypothesis reports the cut-off as a warning addressed to its own maintainers; drop it from reports.
CUT_OFF_WARNING = "WARNING: Hypothesis has spent more than five minutes working to shrink"


@contextmanager
def tuned(shrink_seconds: float) -> Iterator[None]:
    saved = engine.MAX_SHRINKING_SECONDS, core.RepresentationPrinter
    engine.MAX_SHRINKING_SECONDS = shrink_seconds  # type: ignore[assignment]
    core.RepresentationPrinter = pretty.RepresentationPrinter  # type: ignore[misc]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS, core.RepresentationPrinter = saved  # type: ignore[misc]


def reporter_lines(lines: list[str]) -> list[str]:
    return [line for line in lines if not line.startswith(CUT_OFF_WARNING)]

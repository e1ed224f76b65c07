"""What a property is, and what it gets to run with.

A property names the roles it needs and builds a hypothesis test (a `@given` function or a state
machine test) from an `ExploreContext`. The context reaches the target through the session, speaks
the seed APIs through one recorder, and keeps per-example evidence (`note`, the exchanges) that
the explorer puts in the report when the example is the shrunk failing one - hypothesis replays
the minimal example last, so the evidence left at the end is that example's.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from hypothesis import settings as Settings

from conformance.exchange import Exchange, Recorder
from conformance.explore.seed_api import SeedApi
from conformance.explore.session import Session

P = ParamSpec("P")
T = TypeVar("T")


class Skip(Exception):
    """The target cannot run this property (a missing role, configuration or dialect); the
    message says what is missing."""


@dataclass
class ExploreContext:
    session: Session
    settings: Settings
    seed: int
    rng: random.Random
    recorder: Recorder = field(init=False)
    api: SeedApi = field(init=False)
    examples: int = 0
    notes: dict[str, Any] = field(default_factory=dict)       # evidence of the current example
    cache: dict[str, Any] = field(default_factory=dict)       # setup shared by the examples

    def __post_init__(self) -> None:
        self.recorder = Recorder(self.session.target.http)
        self.api = SeedApi.for_target(self.session.target, self.recorder)

    @property
    def target(self) -> Any:
        return self.session.target

    def call(self, fn: Callable[P, Awaitable[T]], *args: P.args, **kwargs: P.kwargs) -> T:
        return self.session.call(fn, *args, **kwargs)

    def start_example(self) -> None:
        """Call first in every example (it resets the evidence and counts the example)."""
        self.examples += 1
        self.notes = {}
        self.recorder.exchanges.clear()

    def note(self, name: str, value: Any) -> None:
        self.notes[name] = value

    @property
    def exchanges(self) -> list[Exchange]:
        return list(self.recorder.exchanges)

    def once(self, key: str, make: Callable[[], T]) -> T:
        """Setup made on first use and shared by later examples (an account, a DID)."""
        if key not in self.cache:
            self.cache[key] = make()
        return self.cache[key]  # type: ignore[no-any-return]


# Builds the test to run: a zero-argument callable (a @given function or a state machine test).
Builder = Callable[[ExploreContext], Callable[[], None]]


@dataclass(frozen=True)
class Property:
    name: str
    title: str
    spec: tuple[str, ...]
    roles: tuple[str, ...]
    build: Builder
    description: str = ""

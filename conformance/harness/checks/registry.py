"""The one registry of named checks and the `@check` decorator every check uses.

A check is `async def (ctx: CheckContext) -> CheckOutcome`. It declares the artefacts it
`needs`; when the step did not produce one, the check is SKIPPED with the reason - a check
never passes for want of evidence. A `ProtocolError` raised inside a check is a failure carrying
its reason code; any other exception is an `error` (a harness bug or a shape nobody foresaw),
which counts like a failure.
"""

from __future__ import annotations

import difflib
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from conformance.protocol.errors import ProtocolError

if TYPE_CHECKING:  # the dialect layer owns these types; checks only read them
    from conformance.harness.scenario import Scenario, Step

SEVERITIES = ("required", "recommended", "informational")
PASSED, FAILED, SKIPPED, ERROR = "passed", "failed", "skipped", "error"
_SHOWN = 160


def shown(value: Any) -> str:
    """A value as it appears in a check message: short, one line."""
    text = value if isinstance(value, str) else repr(value)
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


@dataclass(frozen=True)
class CheckOutcome:
    status: str
    message: str

    @classmethod
    def passed(cls, message: str) -> CheckOutcome:
        return cls(PASSED, message)

    @classmethod
    def failed(cls, received: Any, expected: Any, detail: str = "") -> CheckOutcome:
        """The schemathesis-style message: `Received: X / Expected: Y` (+ detail)."""
        message = f"Received: {shown(received)} / Expected: {shown(expected)}"
        return cls(FAILED, f"{detail}: {message}" if detail else message)

    @classmethod
    def skipped(cls, reason: str) -> CheckOutcome:
        return cls(SKIPPED, reason)


class MissingArtefact(Exception):
    """Raised by `CheckContext.artefact`; the registry turns it into a skip."""


@dataclass(frozen=True)
class CheckContext:
    """What a check may look at: the step's OperationResult, the scenario state, the target."""

    result: Any                       # conformance.dialects.OperationResult
    vars: Mapping[str, Any]
    target: Any                       # conformance.harness.target.Target
    step: Step
    scenario: Scenario
    clock: Callable[[], float] = time.time

    def now(self) -> float:
        """Seconds since the epoch (injected, so tests can pin it)."""
        return self.clock()

    def artefact(self, name: str) -> Any:
        artefacts = getattr(self.result, "artefacts", None) or {}
        value = artefacts.get(name)
        if value is None:
            have = ", ".join(sorted(artefacts)) or "none"
            raise MissingArtefact(f"needs artefact {name!r}, which {self.step.label} did not "
                                  f"produce (artefacts: {have})")
        return value

    def has(self, name: str) -> bool:
        return (getattr(self.result, "artefacts", None) or {}).get(name) is not None

    def role_url(self, role: str) -> str | None:
        roles = getattr(self.target, "roles", {}) or {}
        return roles[role].base_url if role in roles else None

    def resolver(self) -> Any:
        from conformance.resolver import DidResolver
        return DidResolver(self.target.http, self.role_url("ledger"))


CheckFunc = Callable[[CheckContext], Awaitable[CheckOutcome]]


@dataclass(frozen=True)
class Check:
    name: str
    description: str
    severity: str
    spec: str
    func: CheckFunc = field(repr=False, compare=False)
    needs: tuple[str, ...] = ()

    async def run(self, ctx: CheckContext) -> CheckOutcome:
        try:
            for name in self.needs:
                ctx.artefact(name)
            outcome = await self.func(ctx)
        except MissingArtefact as exc:
            return CheckOutcome.skipped(str(exc))
        except ProtocolError as exc:
            return CheckOutcome(FAILED, f"{exc.reason}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - reported as an error result, never a traceback
            return CheckOutcome(ERROR, f"check crashed: {type(exc).__name__}: {shown(str(exc))}")
        if not isinstance(outcome, CheckOutcome):
            return CheckOutcome(ERROR, f"check returned {type(outcome).__name__}, not a CheckOutcome")
        return outcome


class Registry:
    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def register(self, item: Check) -> Check:
        if item.name in self._checks:
            raise ValueError(f"check {item.name!r} is already registered "
                             f"(by {self._checks[item.name].func.__module__})")
        if item.severity not in SEVERITIES:
            raise ValueError(f"check {item.name!r}: severity {item.severity!r} is not one of "
                             f"{', '.join(SEVERITIES)}")
        self._checks[item.name] = item
        return item

    def check(self, name: str, *, description: str, spec: str, severity: str = "required",
              needs: tuple[str, ...] = ()) -> Callable[[CheckFunc], CheckFunc]:
        def decorate(func: CheckFunc) -> CheckFunc:
            self.register(Check(name, description, severity, spec, func, tuple(needs)))
            return func
        return decorate

    def get(self, name: str) -> Check:
        try:
            return self._checks[name]
        except KeyError:
            close = difflib.get_close_matches(name, list(self._checks), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise KeyError(f"unknown check {name!r}{hint}") from None

    def names(self) -> list[str]:
        return sorted(self._checks)

    def __iter__(self) -> Iterator[Check]:
        return iter(sorted(self._checks.values(), key=lambda c: c.name))

    def __contains__(self, name: object) -> bool:
        return name in self._checks


REGISTRY = Registry()
check = REGISTRY.check

"""The fuzz engine: per role, per operation, per generation mode, one hypothesis run.

Each run sends `max_examples` generated requests (schema-valid ones in the positive mode,
schema-violating ones in the negative mode) and applies every check to each response. The first
failing request stops the run and hypothesis shrinks it; the minimal request that still fails is
what the report shows. Runs are seeded from (seed, role, operation, mode), with no example
database, so `--seed` replays them against an unchanged target.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.reporting import with_reporter
from schemathesis import GenerationMode
from schemathesis.core.failures import FailureGroup

from conformance import __version__
from conformance.explore.defaults import FUZZ_MAX_EXAMPLES, FUZZ_MODES
from conformance.explore.fuzz import wire
from conformance.explore.fuzz.auth import AuthContext, RoleAuth, resolve_auth
from conformance.explore.fuzz.checks import CHECKS
from conformance.explore.fuzz.document import DocumentError, load_document, schema_of
from conformance.explore.fuzz.results import Counter, FuzzFailure, FuzzRun, OperationResult, RoleResult
from conformance.explore.session import Session
from conformance.explore.tuning import DEFAULT_SHRINK_SECONDS, tuned
from conformance.exchange import parse_body
from conformance.redact import redact, redact_text

DEFAULT_MAX_EXAMPLES = FUZZ_MAX_EXAMPLES
MODES = FUZZ_MODES
Progress = Callable[[str], None]


@dataclass(frozen=True)
class FuzzSettings:
    max_examples: int = DEFAULT_MAX_EXAMPLES      # per operation and generation mode
    seed: int = 0
    modes: tuple[str, ...] = MODES
    checks: tuple[str, ...] = tuple(CHECKS)
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS  # per failure


class _Found(Exception):
    """Raised inside the hypothesis test so that it shrinks; carries nothing (see _Probe.last)."""


@dataclass
class _Probe:
    """The hypothesis test body for one operation and mode; remembers the last failing request,
    which after shrinking is the minimal one (hypothesis replays it last)."""
    session: Session
    base_url: str
    credentials: list[Any]
    checks: Mapping[str, Any]
    counter: Counter
    last: tuple[wire.PreparedCall, list[tuple[str, str, str]], httpx.Response | None] | None = None

    def __call__(self, case: Any) -> None:
        try:
            call = wire.prepare(case, self.base_url, self.credentials)
            response = self.session.call(wire.send, self.session.target.http, call)
        except wire.UNSENDABLE as exc:
            # Generated data HTTP/1.1 cannot carry (a header value with a control character, a
            # malformed URL): no request left the harness, so there is nothing to judge.
            self.counter.note(f"generated requests that cannot be sent over HTTP were discarded ({type(exc).__name__})")
            reject()
        except httpx.HTTPError as exc:
            self.counter.requests += 1
            self.last = (call, [("no_response", "No response", f"{type(exc).__name__}: {exc}")], None)
            raise _Found() from None
        self.counter.requests += 1
        found = failed_checks(case, response, self.checks)
        if found:
            self.last = (call, found, response)
            raise _Found()


def failed_checks(case: Any, response: httpx.Response, checks: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """(check name, title, message) of every check the response fails."""
    found = []
    for name, check in checks.items():
        try:
            case.validate_response(response, checks=[check])
        except FailureGroup as group:
            found += [(name, failure.title, failure.message) for failure in group.exceptions]
    return found


def fuzz_target(session: Session, roles: Sequence[str], config: FuzzSettings,
                progress: Progress = lambda line: None) -> FuzzRun:
    started, clock = datetime.now(UTC).isoformat(timespec="seconds"), time.perf_counter()
    results = []
    for role in roles:
        results.append(fuzz_role(session, role, config, progress))
    session.drain()
    return FuzzRun(seed=config.seed, target=session.target.describe(), max_examples=config.max_examples,
                   checks=config.checks, roles=tuple(results), duration_ms=_ms(clock),
                   tool_version=__version__, started_at=started)


def fuzz_role(session: Session, role: str, config: FuzzSettings, progress: Progress) -> RoleResult:
    clock = time.perf_counter()
    endpoint = session.target.roles[role]
    try:
        document = session.call(load_document, session.target.http, endpoint)
        schema = schema_of(document)
    except DocumentError as exc:
        progress(f"fuzz {role}: cannot read its OpenAPI document: {exc}")
        return RoleResult(role, endpoint.base_url, 0, _ms(clock), error=str(exc))
    auth = session.call(resolve_auth, AuthContext(session.target.http, role, endpoint, document,
                                                  random.Random(_seed(config.seed, role, "auth"))))
    operations, notes = _operations(schema)
    progress(f"fuzz {role} ({endpoint.base_url}): {len(operations)} operations, "
             f"{config.max_examples} examples per operation and mode")
    results, failures = [], []
    for operation in operations:
        result, found = _fuzz_operation(session, role, operation, auth, config)
        results.append(result)
        failures += found
        progress(_progress_line(role, result, found))
    return RoleResult(role, endpoint.base_url, sum(r.requests for r in results), _ms(clock),
                      tuple(results), tuple(failures), tuple(auth.notes + notes))


def _operations(schema: Any) -> tuple[list[Any], list[str]]:
    operations, notes = [], []
    for result in schema.get_all_operations():
        try:
            operations.append(result.ok())
        except Exception as exc:  # an operation schemathesis cannot use: say so, fuzz the rest
            notes.append(f"operation skipped: {exc}")
    return operations, notes


def _fuzz_operation(session: Session, role: str, operation: Any, auth: RoleAuth,
                    config: FuzzSettings) -> tuple[OperationResult, list[FuzzFailure]]:
    counter, clock = Counter(), time.perf_counter()
    checks = {name: CHECKS[name] for name in config.checks}
    credentials = auth.for_operation(operation.definition.raw)
    failures = []
    for mode in config.modes:
        if mode == "negative" and not negatable(operation):
            counter.note("negative: nothing to violate (no body, no constrained parameter)")
            continue
        probe = _Probe(session, session.target.roles[role].base_url, credentials, checks, counter)
        found = _run_mode(probe, operation, mode, _seed(config.seed, role, operation.label, mode), config)
        if found is None:
            continue
        failure = _failure(role, operation.label, mode, found, auth.secrets)
        if any(_same(failure, earlier) for earlier in failures):
            counter.note(f"{mode}: the same failure as with {failures[0].mode} data")
        else:
            failures.append(failure)
    status = "failed" if failures else "passed"
    return OperationResult(operation.label, counter.requests, status, _ms(clock), tuple(counter.notes)), failures


def _same(one: FuzzFailure, other: FuzzFailure) -> bool:
    return (one.check, one.title, one.status) == (other.check, other.title, other.status)


def negatable(operation: Any) -> bool:
    """Whether schema-violating input exists: a body, or a parameter the schema constrains. A path
    parameter that is any string cannot be violated (hypothesis would search in vain)."""
    raw = operation.definition.raw
    if raw.get("requestBody"):
        return True
    path_item = (operation.schema.raw_schema.get("paths") or {}).get(operation.path) or {}
    for parameter in [*path_item.get("parameters", []), *raw.get("parameters", [])]:
        schema = parameter.get("schema") or {}
        if ("$ref" in parameter or parameter.get("in") != "path"
                or schema.get("type", "string") != "string" or set(schema) - _UNCONSTRAINING):
            return True
    return False


_UNCONSTRAINING = {"type", "description", "title", "example", "examples"}


def _run_mode(probe: _Probe, operation: Any, mode: str, run_seed: int, config: FuzzSettings) -> Any:
    strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

    @seed(run_seed)
    @settings(max_examples=config.max_examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), report_multiple_bugs=False,
              phases=(Phase.generate, Phase.shrink))
    @given(strategy)
    def test(case: Any) -> None:
        probe(case)

    try:
        # Hypothesis' own report is not needed: the probe keeps the minimal request.
        with with_reporter(lambda text: None), tuned(config.shrink_seconds):
            test()
    except Unsatisfiable:
        probe.counter.note(f"{mode}: schemathesis can generate no {mode} case for this operation")
    except Exception:
        # _Found (possibly wrapped as flaky when a replay behaved differently): the probe kept the
        # request. Anything else is a harness bug and must surface.
        if probe.last is None:
            raise
        return probe.last
    return None


def _failure(role: str, operation: str, mode: str, last: Any, secrets: list[str]) -> FuzzFailure:
    call, found, response = last
    check, title, message = found[0]
    if len(found) > 1:
        message += "".join(f"\n\nAlso failed: {name}: {t}: {m}" for name, t, m in found[1:])
    return FuzzFailure(
        role=role, operation=operation, mode=mode, check=check, title=title,
        message=redact_text(message, secrets), request=wire.describe(call),
        status=response.status_code if response is not None else None,
        response_body=redact(parse_body(response)) if response is not None else None)


def _progress_line(role: str, result: OperationResult, failures: list[FuzzFailure]) -> str:
    verdict = "ok" if not failures else "FAIL " + ", ".join(sorted({f.check for f in failures}))
    return (f"  [{role}] {result.operation}: {result.requests} requests in {result.duration_ms / 1000:.1f} s, "
            f"{verdict}")


def _seed(base: int, *parts: str) -> int:
    digest = hashlib.sha256("\x00".join([str(base), *parts]).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)



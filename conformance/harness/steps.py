"""Running one step: template the inputs, call the operation (or raw HTTP), evaluate.

Nothing a target does can escape as an exception: a transport failure, a timeout, a crash in
an operation or a template naming an unknown variable each become a failed StepResult whose
`error` says what happened in one line (with secrets scrubbed).
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.harness.checks import REGISTRY
from conformance.harness.checks.registry import CheckContext, CheckOutcome
from conformance.harness.environment import Environment
from conformance.harness.exchanges import main_exchange
from conformance.harness.expectations import evaluate
from conformance.harness.results import FAILED, PASSED, SKIPPED, CheckResult, ExpectationResult, StepResult
from conformance.harness.scenario import HttpRequest, Scenario, Step
from conformance.harness.template import Scope, TemplateError, dig, render
from conformance.redact import SECRET_NAMES, redact, redact_text

MAX_TEXT = 16_000   # characters of one string kept in a report (bodies are summaries, not archives)


@dataclass
class StepRun:
    """Everything one step needs; built by the runner once per scenario."""

    env: Environment
    target: Any
    scenario: Scenario
    context: Any                    # conformance.dialects.StepContext
    vars: dict[str, Any]
    rng: random.Random
    secrets: list[str]              # grows as secret-named values show up (harvest_secrets)
    timeout: float
    clock: Any = time.time

    def scope(self, step: Step) -> Scope:
        return self.scope_named(f"step {step.name!r}")

    def scope_named(self, where: str) -> Scope:
        webhooks = getattr(self.context, "webhooks", None)
        return Scope(self.vars, self.rng, where, target=self.target, webhooks_url=getattr(webhooks, "url", None))

    def scrub(self, text: str) -> str:
        return redact_text(text, list(self.secrets))


async def run_step(run: StepRun, step: Step) -> StepResult:
    started = time.perf_counter()
    result, error = await _call(run, step)
    if result is not None:
        harvest_secrets((result.body, result.artefacts), run.secrets)
        expectations, checks = _evaluate(run, step, result), await _checks(run, step, result)
    else:
        expectations = []
        checks = tuple(_not_evaluated(name, "the operation did not complete") for name in step.expect.checks)
    failed = error is not None or any(not e.passed for e in expectations) or any(c.blocks for c in checks)
    return StepResult(
        index=step.index, name=step.name, label=step.label, status=FAILED if failed else PASSED,
        duration_ms=(time.perf_counter() - started) * 1000, expectations=tuple(expectations),
        checks=checks, exchanges=_exchanges(run, result), error=error,
    )


def _evaluate(run: StepRun, step: Step, result: Any) -> list[ExpectationResult]:
    """Transport error, expectations and captures, with secrets scrubbed from every message."""
    found = [ExpectationResult("operation", False, str(result.error))] if result.error else []
    found += evaluate(step.expect, result.status, result.body, result.artefacts or {}, run.scope(step))
    found += _capture(run, step, result)
    return [dataclasses.replace(e, message=run.scrub(e.message)) for e in found]


async def _call(run: StepRun, step: Step) -> tuple[Any, str | None]:
    """(OperationResult, None) or (None, why the operation could not be run to its end)."""
    try:
        if step.op is not None:
            operation = run.env.get_operation(run.target.dialect, step.op)
            inputs = render(dict(step.inputs), run.scope(step))
            harvest_secrets(inputs, run.secrets)
            return await asyncio.wait_for(operation(run.context, inputs), run.timeout), None
        assert step.http is not None
        return await asyncio.wait_for(_raw_http(run, step, step.http), run.timeout), None
    except TemplateError as exc:
        return None, str(exc)
    except TimeoutError:
        return None, f"{step.label} did not finish within {run.timeout:g} s"
    except Exception as exc:  # noqa: BLE001 - the report says what broke; no traceback on the console
        return None, run.scrub(f"{step.label} raised {type(exc).__name__}: {exc}")[:MAX_TEXT]


async def _raw_http(run: StepRun, step: Step, request: HttpRequest) -> Any:
    scope = run.scope(step)
    base = run.target.roles[request.role].base_url.rstrip("/")
    kwargs: dict[str, Any] = {"headers": render(dict(request.headers), scope),
                              "params": render(dict(request.query), scope)}
    if request.has_json:
        kwargs["json"] = render(request.json, scope)
    elif request.content is not None:
        kwargs["content"] = render(request.content, scope)
    harvest_secrets(kwargs, run.secrets)
    url = base + render(request.path, scope)
    response, exchange = await run.env.record(run.target.http, request.method, url, **kwargs)
    return run.env.result_type(
        status=response.status_code if response is not None else None,
        body=_body(response), exchanges=[exchange], artefacts={},
        error=getattr(exchange, "error", None),
    )


def _body(response: Any) -> Any:
    if response is None or not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return response.text


def harvest_secrets(value: Any, found: list[str]) -> None:
    """Add every string held under a secret name (private_key, password, access_token, ...) to
    `found`, so that it is scrubbed from every message and report of the run, wherever it recurs
    (a DID private key returned once by the holder and captured for later steps, say)."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if str(key).lower() in SECRET_NAMES and isinstance(item, str) and len(item) >= 8 and item not in found:
                found.append(item)
            else:
                harvest_secrets(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            harvest_secrets(item, found)


# --- captures -------------------------------------------------------------------------------

def _capture_roots(result: Any) -> dict[str, Any]:
    headers = getattr(main_exchange(result), "response_headers", None) or {}
    return {"body": result.body, "artefacts": result.artefacts or {}, "status": result.status,
            "headers": {str(k).lower(): v for k, v in dict(headers).items()}}


def _capture(run: StepRun, step: Step, result: Any) -> list[ExpectationResult]:
    roots = _capture_roots(result)
    out = []
    for name, path in step.capture.items():
        head, _, rest = path.partition(".")
        try:
            run.vars[name] = dig(roots[head], rest.lower() if head == "headers" else rest)
        except LookupError as exc:
            out.append(ExpectationResult(f"capture.{name}", False, f"capture {name} from {path}: {exc}"))
    return out


# --- checks ---------------------------------------------------------------------------------

async def _checks(run: StepRun, step: Step, result: Any) -> tuple[CheckResult, ...]:
    context = CheckContext(result=result, vars=dict(run.vars), target=run.target, step=step,
                           scenario=run.scenario, clock=run.clock)
    out = []
    for name in step.expect.checks:
        check = REGISTRY.get(name)
        try:
            outcome = await asyncio.wait_for(check.run(context), run.timeout)
        except TimeoutError:
            outcome = CheckOutcome("error", f"check did not finish within {run.timeout:g} s")
        out.append(CheckResult(check.name, outcome.status, run.scrub(outcome.message), check.severity,
                               check.spec, check.description))
    return tuple(out)


def _not_evaluated(name: str, why: str) -> CheckResult:
    check = REGISTRY.get(name)
    return CheckResult(name, SKIPPED, f"not evaluated: {why}", check.severity, check.spec, check.description)


# --- exchanges for reports ------------------------------------------------------------------

def _exchanges(run: StepRun, result: Any) -> tuple[Mapping[str, Any], ...]:
    exchanges = getattr(result, "exchanges", None) or []
    return tuple(jsonable(redact(_as_dict(e)), run.secrets) for e in exchanges)


def _as_dict(exchange: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(exchange) and not isinstance(exchange, type):
        return dataclasses.asdict(exchange)
    return dict(exchange)


def jsonable(value: Any, secrets: Sequence[str] = ()) -> Any:
    """A JSON-safe, size-capped, secret-scrubbed copy of `value` for a report."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v, secrets) for v in value]
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if value is None or isinstance(value, bool | int | float):
        return value
    text = redact_text(value if isinstance(value, str) else repr(value), list(secrets))
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + f"… [{len(text) - MAX_TEXT} more characters]"

"""pytest plugin: scenario files under a `scenarios/` directory are collected as test items.

    pytest scenarios/                       # against the embedded reference
    pytest scenarios/ --target serve.yaml   # against a deployment; composes with -k, -x, --junitxml, -n

Design: each pytest process (each xdist worker too) owns ONE event loop and ONE target, opened
lazily by the first scenario item and closed at session end on that same loop. Items run their
scenario with `loop.run_until_complete`, one after another, so the target's HTTP client and any
background work of the embedded reference (notarization, webhooks) stay on the loop they were
created on. Other async tests are unaffected: between items the loop is not running.

Hooks (`pytest_conformance_open_target`, `pytest_conformance_environment`) let a conftest put
another target or dialect environment behind the same items.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from conformance.harness.loader import ScenarioError, load_scenario_text
from conformance.harness.results import FAILED, SKIPPED, ScenarioResult
from conformance.harness.runner import DEFAULT_STEP_TIMEOUT, ConfigurationError, Runner, preflight
from conformance.harness.scenario import Scenario

SCENARIO_DIR = "scenarios"
_HARNESS = pytest.StashKey["_Harness"]()


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from conformance.harness import pytest_hooks
    pluginmanager.add_hookspecs(pytest_hooks)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "conformance scenarios")
    group.addoption("--target", default="reference", metavar="reference|FILE",
                    help="target of the scenario items: `reference` (embedded) or a target YAML file")
    group.addoption("--conformance-seed", type=int, default=0, metavar="N",
                    help="seed of the scenarios' random values (default 0)")
    group.addoption("--step-timeout", type=float, default=DEFAULT_STEP_TIMEOUT, metavar="SECONDS",
                    help="upper bound for one scenario step")


@pytest.hookimpl(trylast=True)
def pytest_conformance_open_target(config: pytest.Config, spec: str | None, seed: int) -> Any:
    from conformance.harness.target import open_target
    return open_target(spec, seed=seed)


@pytest.hookimpl(trylast=True)
def pytest_conformance_environment(config: pytest.Config) -> Any:
    from conformance.harness.environment import default_environment
    return default_environment()


class SetupError(Exception):
    """The target could not be opened; every scenario item fails with this one message."""


class _Harness:
    """The per-process loop and target, opened on first use."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.loop: asyncio.AbstractEventLoop | None = None
        self.runner: Runner | None = None
        self.error: str | None = None

    def get_runner(self) -> Runner:
        if self.error:
            raise SetupError(self.error)
        if self.runner is None:
            self.loop = asyncio.new_event_loop()
            hook, option = self.config.hook, self.config.getoption
            spec = option("--target")
            try:
                target = self.loop.run_until_complete(hook.pytest_conformance_open_target(
                    config=self.config, spec=None if spec == "reference" else spec, seed=option("--conformance-seed")))
            except Exception as exc:  # TargetError and friends: one clear message, every item
                self.error = f"cannot open target {spec}: {type(exc).__name__}: {exc}"
                raise SetupError(self.error) from None
            self.runner = Runner(target, env=hook.pytest_conformance_environment(config=self.config),
                                 seed=option("--conformance-seed"), step_timeout=option("--step-timeout"))
        return self.runner

    def run(self, scenario: Scenario) -> ScenarioResult:
        runner = self.get_runner()
        assert self.loop is not None
        preflight([scenario], runner.env)
        return self.loop.run_until_complete(runner.run_scenario(scenario))

    def close(self) -> None:
        if self.loop is None:
            return
        if self.runner is not None:
            self.loop.run_until_complete(self.runner.target.aclose())
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        self.loop = None


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_HARNESS] = _Harness(config)


def pytest_unconfigure(config: pytest.Config) -> None:
    harness = config.stash.get(_HARNESS, None)
    if harness is not None:
        harness.close()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.suffix in (".yaml", ".yml") and SCENARIO_DIR in file_path.parent.parts:
        return YamlFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    seen: dict[str, ScenarioItem] = {}
    for item in items:
        if not isinstance(item, ScenarioItem):
            continue
        first = seen.setdefault(item.scenario.id, item)
        if first is not item:
            raise pytest.UsageError(f"{item.scenario.source}: duplicate scenario id {item.scenario.id!r} "
                                    f"(also at {first.scenario.source})")


class YamlFile(pytest.File):
    def collect(self) -> list[pytest.Item]:
        from conformance.harness.checks import REGISTRY
        try:
            scenario = load_scenario_text(self.path.read_text(encoding="utf-8"), str(self.path),
                                          known_checks=REGISTRY.names())
        except ScenarioError as exc:
            raise self.CollectError(str(exc)) from None
        return [ScenarioItem.from_parent(self, name=scenario.id, scenario=scenario)]


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(result.reason)
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        for tag in scenario.tags:
            # Tags become markers (`-m smoke`); registered so that --strict-markers accepts them.
            if not any(line.split(":")[0].strip() == tag for line in self.config.getini("markers")):
                self.config.addinivalue_line("markers", f"{tag}: scenario tag")
            self.add_marker(tag)
        self.user_properties.append(("spec", "; ".join(scenario.spec)))

    def runtest(self) -> None:
        try:
            result = self.config.stash[_HARNESS].run(self.scenario)
        except (SetupError, ConfigurationError) as exc:
            pytest.fail(str(exc), pytrace=False)
        if result.status == SKIPPED:
            pytest.skip(f"{self.scenario.source}: {result.reason or 'skipped'}")
        for warning in result.warnings:
            self.user_properties.append(("warning", f"{warning.name}: {warning.message}"))
        if result.status == FAILED:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return describe_failure(self.scenario, excinfo.value.result)
        return str(super().repr_failure(excinfo, style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.source.line - 1, f"scenario {self.scenario.id}"


def describe_failure(scenario: Scenario, result: ScenarioResult) -> str:
    lines = [f"scenario {scenario.id}: {scenario.title}", f"  {scenario.source} · spec: {'; '.join(scenario.spec)}"]
    for step in result.steps:
        if step.status != FAILED:
            continue
        lines.append(f"  step {step.index + 1} {step.name!r} ({step.label}) failed")
        if step.error:
            lines.append(f"    error: {step.error}")
        lines += [f"    {e.message}" for e in step.failed_expectations]
        lines += [f"    check {c.name} [{c.severity}; {c.spec}]: {c.message}" for c in step.failed_checks]
        if step.exchanges:
            last = step.exchanges[-1]
            lines.append(f"    last exchange: {last.get('method')} {last.get('url')} -> {last.get('status')}")
    if not result.steps and result.reason:
        lines.append(f"  {result.reason}")
    return "\n".join(lines)

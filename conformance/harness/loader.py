"""Find, validate and load scenario files, failing before anything runs.

Every problem is reported with the file, the line, what is wrong and how to fix it (the
schema's description of the member), and all problems of all files are reported at once:

    scenarios/issuance/happy.yaml:14: steps[0].expect: unknown member 'stauts'
      hint: did you mean 'status'? (allowed: status, schema, body, artefacts, checks)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from conformance.harness import schemas
from conformance.harness.scenario import FieldMatcher, Scenario, Source, Step, build_scenario
from conformance.harness.template import BUILTIN_NAMESPACES, RANDOM, references
from conformance.harness.yamlsource import YamlDocument, YamlSyntaxError, load_yaml

SCENARIO_SCHEMA = "scenario"
PATTERNS = ("*.yaml", "*.yml")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}: {self.message}"
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class ScenarioError(Exception):
    """One or more malformed scenario files; str() lists every problem with file:line."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = f"{len(self.problems)} problem{'s' * (len(self.problems) != 1)}"
        super().__init__(f"invalid scenarios ({count}):\n" + "\n".join(map(str, self.problems)))


# --- discovery ------------------------------------------------------------------------------

def discover(locations: Iterable[str | Path]) -> list[Path]:
    """Scenario files under each location (a file, or a directory searched recursively)."""
    found: list[Path] = []
    for location in map(Path, locations):
        if location.is_file():
            found.append(location)
        elif location.is_dir():
            found.extend(sorted(p for pattern in PATTERNS for p in location.rglob(pattern)))
        else:
            raise ScenarioError([Problem(str(location), 0, "no such file or directory",
                                         "pass a scenario file or a directory of them")])
    return list(dict.fromkeys(found))


def load_scenarios(locations: Iterable[str | Path], *, known_checks: Iterable[str] | None = None) -> list[Scenario]:
    """Every scenario under `locations`, validated; raises ScenarioError listing all problems."""
    if known_checks is None:
        from conformance.harness.checks import REGISTRY
        known_checks = REGISTRY.names()
    checks = frozenset(known_checks)
    problems: list[Problem] = []
    scenarios: list[Scenario] = []
    for path in discover(locations):
        scenario = _load_file(path, checks, problems)
        if scenario is not None:
            scenarios.append(scenario)
    problems.extend(_duplicate_ids(scenarios))
    if problems:
        raise ScenarioError(problems)
    return scenarios


def load_scenario_text(text: str, file: str, *, known_checks: Iterable[str]) -> Scenario:
    problems: list[Problem] = []
    scenario = _parse(text, file, frozenset(known_checks), problems)
    if problems or scenario is None:
        raise ScenarioError(problems)
    return scenario


def _load_file(path: Path, checks: frozenset[str], problems: list[Problem]) -> Scenario | None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(str(path), 0, f"cannot read the file: {exc}"))
        return None
    return _parse(text, str(path), checks, problems)


def _parse(text: str, file: str, checks: frozenset[str], problems: list[Problem]) -> Scenario | None:
    try:
        doc = load_yaml(text, file)
    except YamlSyntaxError as exc:
        problems.append(Problem(exc.file, exc.line, exc.message, "fix the YAML syntax"))
        return None
    found = _schema_problems(doc)
    if found:
        problems.extend(found)
        return None
    scenario = build_scenario(doc)
    before = len(problems)
    problems.extend(_semantic_problems(scenario, checks))
    return scenario if len(problems) == before else None


def _duplicate_ids(scenarios: list[Scenario]) -> list[Problem]:
    first: dict[str, Scenario] = {}
    found = []
    for scenario in scenarios:
        if scenario.id in first:
            found.append(Problem(scenario.source.file, scenario.source.line,
                                 f"duplicate scenario id {scenario.id!r}",
                                 f"also defined at {first[scenario.id].source}; ids must be unique"))
        else:
            first[scenario.id] = scenario
    return found


# --- schema validation ----------------------------------------------------------------------

def _schema_problems(doc: YamlDocument) -> list[Problem]:
    if not isinstance(doc.data, dict):
        return [Problem(doc.file, 1, "a scenario file must be a YAML mapping (id:, title:, steps: ...)",
                        "see fixtures/schemas/scenario.schema.yaml")]
    validator: Draft202012Validator = schemas.validator(SCENARIO_SCHEMA)
    errors = sorted(validator.iter_errors(doc.data), key=lambda e: [str(p) for p in e.absolute_path])
    return [problem for error in errors for problem in explain(doc, error)]


def _where(path: Sequence[Any]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "the top level"


def explain(doc: YamlDocument, error: ValidationError) -> list[Problem]:
    path = tuple(error.absolute_path)
    explain = _EXPLAINERS.get(str(error.validator), _generic)
    return [Problem(doc.file, doc.line_of(p), msg, hint) for p, msg, hint in explain(error, path)]


Explained = list[tuple[tuple[Any, ...], str, str | None]]


def _generic(error: ValidationError, path: tuple[Any, ...]) -> Explained:
    return [(path, f"{_where(path)}: {error.message}", error.schema.get("description"))]


def _unknown_members(error: ValidationError, path: tuple[Any, ...]) -> Explained:
    allowed = list(error.schema.get("properties", {}))
    out: Explained = []
    for key in sorted(set(error.instance) - set(allowed)):
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = (f"did you mean {close[0]!r}? " if close else "") + f"(allowed: {', '.join(allowed)})"
        out.append(((*path, key), f"{_where(path)}: unknown member {key!r}", hint))
    return out


def _missing(error: ValidationError, path: tuple[Any, ...]) -> Explained:
    properties = error.schema.get("properties", {})
    missing = [name for name in error.validator_value if name not in error.instance]
    return [(path, f"{_where(path)}: missing required member {name!r}",
             properties.get(name, {}).get("description")) for name in missing]


def _one_of(error: ValidationError, path: tuple[Any, ...]) -> Explained:
    instance = error.instance
    if isinstance(instance, dict) and "name" in error.schema.get("properties", {}):   # a step
        has = {k for k in ("op", "http", "with") if k in instance}
        message = ("has both `op:` and `http:`" if {"op", "http"} <= has else
                   "`with:` is for `op:` steps; a raw request takes its body in `http.json`"
                   if {"http", "with"} <= has else "has neither `op:` nor `http:`")
        return [(path, f"{_where(path)}: {message}", error.schema.get("description"))]
    return [(path, f"{_where(path)}: {instance!r} is not valid here", error.schema.get("description"))]


_EXPLAINERS = {
    "additionalProperties": _unknown_members,
    "required": _missing,
    "oneOf": _one_of,
}


# --- rules beyond the schema ----------------------------------------------------------------

def _semantic_problems(scenario: Scenario, checks: frozenset[str]) -> list[Problem]:
    problems = _template_problems(scenario)
    for step in scenario.steps:
        problems += _check_problems(step, checks)
        problems += _schema_name_problems(step)
        problems += [p for m in (*step.expect.body, *step.expect.artefacts) for p in _regex_problems(m)]
    return problems


def _check_problems(step: Step, checks: frozenset[str]) -> list[Problem]:
    out = []
    for name, source in zip(step.expect.checks, step.expect.check_sources):
        if name not in checks:
            close = difflib.get_close_matches(name, sorted(checks), n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            out.append(Problem(source.file, source.line, f"step {step.name!r}: unknown check {name!r}",
                               hint + "`conformance list --checks` shows the registered checks"))
    return out


def _schema_name_problems(step: Step) -> list[Problem]:
    name = step.expect.schema
    if isinstance(name, str) and schemas.find_schema(name) is None:
        return [Problem(step.source.file, step.source.line,
                        f"step {step.name!r}: expect.schema names {name!r}, which is not in {schemas.schema_dir()}",
                        f"known schemas: {', '.join(schemas.known_schemas()) or 'none'}")]
    return []


def _regex_problems(matcher: FieldMatcher) -> list[Problem]:
    pattern = dict(matcher.conditions).get("matches")
    if pattern is None:
        return []
    try:
        re.compile(pattern)
    except re.error as exc:
        return [Problem(matcher.source.file, matcher.source.line,
                        f"{matcher.path}: `matches` is not a valid regular expression: {exc}")]
    return []


def _template_problems(scenario: Scenario) -> list[Problem]:
    """Every `${name}` must be defined before use: scenario vars, earlier captures, built-ins."""
    known = set(scenario.vars)
    problems = [p for name in references(dict(scenario.vars))
                for p in _reference_problem(name, set(), scenario, scenario.source, "vars")]
    for step in scenario.steps:
        used = references(_templated_parts(step))
        problems += [p for name in used for p in _reference_problem(name, known, scenario, step.source, step.name)]
        known |= set(step.capture)
    return problems


def _templated_parts(step: Step) -> list[Any]:
    parts: list[Any] = [dict(step.inputs)]
    if step.http is not None:
        parts += [step.http.path, dict(step.http.headers), dict(step.http.query), step.http.json,
                  step.http.content]
    parts += [dict(m.conditions) for m in (*step.expect.body, *step.expect.artefacts)]
    return parts


def _reference_problem(name: str, known: set[str], scenario: Scenario, source: Source,
                       where: str) -> list[Problem]:
    head, _, rest = name.partition(".")
    if head == "env":
        return [Problem(source.file, source.line, f"{where}: ${{{name}}} is only allowed in target files",
                        "put secrets and deployment settings in the target file; scenarios use ${target.*}")]
    if head == "random" and rest not in RANDOM:
        return [Problem(source.file, source.line, f"{where}: unknown generator ${{{name}}}",
                        f"known: {', '.join('random.' + k for k in RANDOM)}")]
    if head == "webhooks" and not scenario.webhooks:
        return [Problem(source.file, source.line, f"{where}: ${{{name}}} needs a webhook receiver",
                        "add `webhooks: true` to the scenario")]
    if head in BUILTIN_NAMESPACES or head in known:
        return []
    return [Problem(source.file, source.line, f"step {where!r}: unknown variable ${{{name}}}",
                    f"defined so far: {', '.join(sorted(known)) or 'none'}; capture it in an earlier "
                    "step (`capture: {name: body.path}`) or declare it under `vars:`")]

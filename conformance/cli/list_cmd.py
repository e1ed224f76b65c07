"""`conformance list`: the registered checks and the available scenarios."""

from __future__ import annotations

import argparse
import textwrap
from collections import defaultdict

from conformance import paths
from conformance.cli import EXIT_OK, UsageError
from conformance.harness.checks import REGISTRY
from conformance.harness.loader import ScenarioError, load_scenarios
from conformance.harness.scenario import Scenario

NAME = "list"
HELP = "list the registered checks and the scenarios"
DESCRIPTION = """\
List what the harness knows.

  --checks     every check: name, severity (required / recommended / informational), the spec
               clause it enforces and what it verifies. Scenarios name checks in `expect.checks`.
  --scenarios  every scenario, grouped by the roles it needs, with its spec references.

Without a flag, both are listed.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checks", action="store_true", help="list the checks")
    parser.add_argument("--scenarios", action="store_true", help="list the scenarios")
    parser.add_argument("--path", nargs="+", default=None, metavar="PATH",
                        help=f"scenario files or directories (default: {paths.SCENARIOS})")


def format_checks() -> str:
    lines = [f"Checks ({len(REGISTRY.names())})", ""]
    for item in REGISTRY:
        lines.append(f"{item.name}  [{item.severity}]  {item.spec}")
        lines += textwrap.wrap(item.description, width=96, initial_indent="    ", subsequent_indent="    ")
        if item.needs:
            lines.append(f"    needs: {', '.join(item.needs)}")
    return "\n".join(lines)


def format_scenarios(scenarios: list[Scenario]) -> str:
    groups: dict[str, list[Scenario]] = defaultdict(list)
    for scenario in scenarios:
        groups[" + ".join(scenario.roles)].append(scenario)
    lines = [f"Scenarios ({len(scenarios)})"]
    for roles in sorted(groups):
        lines += ["", f"roles: {roles}"]
        for s in sorted(groups[roles], key=lambda s: s.id):
            tags = f"  [{', '.join(s.tags)}]" if s.tags else ""
            lines.append(f"  {s.id}  {s.title}{tags}")
            lines.append(f"      spec: {'; '.join(s.spec)}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    both = not (args.checks or args.scenarios)
    out = []
    if args.checks or both:
        out.append(format_checks())
    if args.scenarios or both:
        try:
            out.append(format_scenarios(load_scenarios(args.path or [paths.SCENARIOS])))
        except ScenarioError as exc:
            raise UsageError(str(exc)) from None
    print("\n\n".join(out))
    return EXIT_OK

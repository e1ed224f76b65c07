"""`conformance run`: run scenarios against a target, print progress and a summary, write reports."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from conformance import __version__, paths
from conformance.cli import EXIT_FAILED, EXIT_OK, UsageError
from conformance.harness.events import RunFinished, RunStarted
from conformance.harness.loader import ScenarioError, load_scenarios
from conformance.harness.reports import ProgressReporter, file_reporters, summary_table
from conformance.harness.results import RunInfo, RunResult
from conformance.harness.runner import DEFAULT_STEP_TIMEOUT, ConfigurationError, Runner, target_secrets
from conformance.harness.scenario import Scenario
from conformance.harness.selection import SelectionError, select

NAME = "run"
HELP = "run scenarios against a target and write reports"
DESCRIPTION = """\
Run conformance scenarios against a target and write reports.

The target is `reference` (default: the reference issuer, holder, verifier and ledger
in-process, no sockets) or a target file (YAML: dialect, base URL and credentials per role,
${ENV_VAR} for secrets). Scenarios needing a role the target lacks are skipped, with the reason.

Reports written to --report-dir (kept current while running, also after Ctrl-C):
  junit.xml     one testcase per scenario; failures list failed checks and spec clauses
  report.json   everything: steps, checks, redacted request/response summaries, timing, seed
  summary.md    a table for a CI job summary
  report.html   one self-contained page: what failed, why, which clause, the offending exchange

Exit status: 0 no required check failed; 1 a required check or expectation failed;
2 usage or configuration error (malformed scenario or target file, unknown operation).

Examples:
  conformance run
  conformance run --target fixtures/targets/serve.yaml --tag smoke
  conformance run -k 'issuance and not notarization' --seed 42 --report-dir out/
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="reference", metavar="reference|FILE",
                        help="`reference` (embedded, default; `reference:eudiw` / `reference:orgwallet`: "
                             "the same through the EUDIW connector or organisation wallet API) or a "
                             "target YAML file")
    parser.add_argument("--scenarios", nargs="+", metavar="PATH", default=None,
                        help=f"scenario files or directories (default: {paths.SCENARIOS})")
    parser.add_argument("-k", dest="keyword", metavar="EXPR",
                        help="select scenarios whose id, title or tag matches EXPR "
                             "(words with and/or/not, as pytest -k)")
    parser.add_argument("--tag", action="append", default=[], metavar="TAG",
                        help="select scenarios with this tag (repeatable: any of them)")
    parser.add_argument("--report-dir", default="reports", metavar="DIR",
                        help="where to write the reports (default: reports/)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed of every random value, to replay a run (default: random, printed)")
    parser.add_argument("--step-timeout", type=float, default=DEFAULT_STEP_TIMEOUT, metavar="SECONDS",
                        help=f"upper bound for one step, polling included (default: {DEFAULT_STEP_TIMEOUT:g})")


def run(args: argparse.Namespace) -> int:
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    selection = {"scenarios": args.scenarios or [str(paths.SCENARIOS)], "keyword": args.keyword, "tags": args.tag}
    try:
        scenarios = select(load_scenarios(args.scenarios or [paths.SCENARIOS]), keyword=args.keyword, tags=args.tag)
    except (ScenarioError, SelectionError) as exc:
        _config_failure(args, seed, selection, str(exc))
    if not scenarios:
        _config_failure(args, seed, selection, "no scenario matches the selection "
                        f"(-k {args.keyword!r}, --tag {args.tag})")
    result = asyncio.run(_execute(args, seed, selection, scenarios))
    print(summary_table(result))
    print(f"reports: {Path(args.report_dir) / 'report.html'} (+ junit.xml, report.json, summary.md)")
    return EXIT_OK if result.ok else EXIT_FAILED


async def _execute(args: argparse.Namespace, seed: int, selection: dict[str, Any],
                   scenarios: list[Scenario]) -> RunResult:
    from conformance.harness.environment import default_environment
    from conformance.harness.target import TargetError, open_target

    try:
        target = await open_target(None if args.target == "reference" else args.target, seed=seed)
    except TargetError as exc:
        _config_failure(args, seed, selection, f"target {args.target}: {exc}")
    try:
        handlers = [ProgressReporter(sys.stderr), *file_reporters(args.report_dir, target_secrets(target))]
        runner = Runner(target, env=default_environment(), handlers=handlers, seed=seed,
                        step_timeout=args.step_timeout, selection=selection)
        try:
            return await runner.run(scenarios)
        except ConfigurationError as exc:
            _config_failure(args, seed, selection, str(exc), target.describe())
    finally:
        await target.aclose()
    raise AssertionError("unreachable")  # pragma: no cover


def _config_failure(args: argparse.Namespace, seed: int, selection: dict[str, Any], message: str,
                    target: dict[str, Any] | None = None) -> None:
    """Write a report that records the configuration error, then stop with exit status 2."""
    info = RunInfo(seed=seed, target=target or {"name": args.target}, tool_version=__version__,
                   started_at=datetime.now(UTC).isoformat(timespec="seconds"), scenario_count=0,
                   selection=selection)
    try:
        for reporter in file_reporters(args.report_dir):
            reporter.handle_event(RunStarted(info))
            reporter.handle_event(RunFinished(RunResult(info, (), 0.0, error=message)))
    except OSError as exc:
        message += f"\n(and the report could not be written to {args.report_dir}: {exc})"
    raise UsageError(message)

"""`conformance explore`: hypothesis properties over whole flows against a target."""

from __future__ import annotations

import argparse
import secrets
import sys
import textwrap
from typing import TYPE_CHECKING, Any, NoReturn

from conformance.cli import EXIT_FAILED, EXIT_OK
from conformance.explore.cli_common import config_failure, open_or_fail, positive_int, target_secrets
from conformance.explore.defaults import EXPLORE_MAX_EXAMPLES, SHRINK_SECONDS

if TYPE_CHECKING:
    from conformance.explore.results import ExploreRun

NAME = "explore"
HELP = "run hypothesis properties (random claims, DCQL queries, a holder state machine) against a target"
DESCRIPTION = """\
Generate whole scenarios with hypothesis and check properties that must hold for every one:
random claim sets and disclosure selections through issue -> present -> verify (the verifier
reveals exactly the disclosed claims; with the target's holder and with the harness wallet),
random DCQL queries against random wallets (the holder matches what OID4VP 1.0 §6.4 matches, the
verifier accepts the presentation), and a state machine over the holder API (register, login,
DIDs, receive, delete, present in any order; lists match a model, deletions stay hidden, users
are isolated). --list-properties names them.

A failing example is shrunk to a minimal one (shrinking stops after --shrink-seconds) and written
to the reports with the command that replays it: the same --seed replays the same examples
against an unchanged target. The properties speak the seed APIs (the tcs dialect); a property
needing a role the target lacks is skipped, with the reason.

Reports in --report-dir: explore.json (everything, the minimal example's exchanges included) and
explore.md.

Exit status: 0 every property held (or was skipped); 1 a property failed or could not run;
2 usage or configuration error.

Examples:
  conformance explore
  conformance explore --property holder.state_machine --max-examples 50 --seed 7
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="reference", metavar="reference|FILE",
                        help="`reference` (embedded, default) or a target YAML file")
    parser.add_argument("--property", action="append", default=[], metavar="NAME",
                        help="run this property (repeatable; default: all)")
    parser.add_argument("--list-properties", action="store_true", help="list the properties and exit")
    parser.add_argument("--max-examples", type=positive_int, default=EXPLORE_MAX_EXAMPLES, metavar="N",
                        help=f"examples per property (default {EXPLORE_MAX_EXAMPLES})")
    parser.add_argument("--shrink-seconds", type=float, default=SHRINK_SECONDS, metavar="S",
                        help=f"time limit for shrinking one failure (default {SHRINK_SECONDS:g})")
    parser.add_argument("--report-dir", default="reports", metavar="DIR",
                        help="where to write explore.json and explore.md (default: reports/)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed of the generation, to replay a run (default: random, printed)")


def run(args: argparse.Namespace) -> int:
    from conformance.explore import render
    from conformance.explore.explorer import explore
    from conformance.explore.properties import registry

    known = registry()
    if args.list_properties:
        print(list_properties(known.values()))
        return EXIT_OK
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    unknown = [name for name in args.property if name not in known]
    if unknown:
        _fail(args, seed, f"unknown property {', '.join(unknown)} (known: {', '.join(known)})")
    selected = [known[name] for name in dict.fromkeys(args.property)] or list(known.values())
    session = open_or_fail(args.target, seed, lambda message: _fail(args, seed, message))
    try:
        print(f"conformance explore: {len(selected)} properties against {args.target} (seed {seed})", file=sys.stderr)
        result = explore(session, selected, max_examples=args.max_examples, run_seed=seed,
                         target_spec=args.target, shrink_seconds=args.shrink_seconds,
                         progress=lambda line: print(line, file=sys.stderr, flush=True))
        paths = render.write(result, args.report_dir, target_secrets(session.target))
    finally:
        session.close()
    print(summary(result))
    print(f"reports: {paths[1]} (+ {paths[0].name})")
    return EXIT_OK if result.ok else EXIT_FAILED


def list_properties(properties: Any) -> str:
    lines = []
    for prop in properties:
        lines += [f"{prop.name}  (roles: {', '.join(prop.roles)}; {'; '.join(prop.spec)})",
                  textwrap.fill(prop.title, 96, initial_indent="    ", subsequent_indent="    ")]
    return "\n".join(lines)


def summary(result: ExploreRun) -> str:
    lines = [f"{o.status.upper():7} {o.name}  ({o.examples} examples)" + (f": {o.reason}" if o.reason else "")
             for o in result.properties]
    lines += [f"  replay: {o.falsified.replay}" for o in result.properties if o.falsified]
    counts = {status: result.count(status) for status in ("passed", "failed", "skipped", "error")}
    lines.append(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped, "
                 f"{counts['error']} errors in {result.duration_ms / 1000:.1f} s (seed {result.seed})")
    return "\n".join(lines)


def _fail(args: argparse.Namespace, seed: int, message: str) -> NoReturn:
    """Write a report that records the configuration error, then stop with exit status 2."""
    from conformance.explore import render
    from conformance.explore.results import ExploreRun

    def write(started_at: str, version: str) -> None:
        render.write(ExploreRun(seed=seed, target={"name": args.target}, max_examples=args.max_examples,
                                properties=(), duration_ms=0.0, tool_version=version, started_at=started_at,
                                error=message), args.report_dir)

    config_failure(message, args.report_dir, write)

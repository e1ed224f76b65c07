"""`conformance fuzz`: schemathesis-generated requests against each role's OpenAPI document."""

from __future__ import annotations

import argparse
import secrets
import sys
from typing import TYPE_CHECKING, Any, NoReturn

from conformance.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from conformance.explore.cli_common import config_failure, open_or_fail, positive_int, target_secrets
from conformance.explore.defaults import FUZZ_CHECKS, FUZZ_MAX_EXAMPLES, FUZZ_MODES, SHRINK_SECONDS

if TYPE_CHECKING:
    from conformance.explore.fuzz.results import FuzzRun
    from conformance.explore.session import Session

NAME = "fuzz"
HELP = "fuzz each role's API from its OpenAPI document (schemathesis)"
DESCRIPTION = f"""\
Send generated requests to each role of a target, derived from the role's OpenAPI document
(GET {{base_url}}/openapi.json, or roles.<role>.openapi in the target file: a URL or a file),
and check every response:
{chr(10).join(f'  {name:28} {text}' for name, text in FUZZ_CHECKS.items())}

Positive mode sends schema-valid data, negative mode schema-violating data. Operations that
declare security get the role's credentials: X-API-Key (apiKey schemes) from the target's
api_key; a bearer token from roles.<role>.access_token or, for the seed holder API, a fresh
account registered for the run. A failing request is shrunk to a minimal one.

Reports in --report-dir: fuzz.json (everything) and fuzz.md (requests per role, each failure with
a curl reproduction; credentials appear as $ROLE_API_KEY / $ROLE_TOKEN, never their values).

Exit status: 0 no failure; 1 a check failed; 2 usage or configuration error (target file,
unknown role, a role whose OpenAPI document cannot be read).

Examples:
  conformance fuzz
  conformance fuzz --role holder --max-examples 50 --seed 7
  conformance fuzz --target my-deployment.yaml --report-dir out/
"""

ROLE_ORDER = ("issuer", "holder", "verifier", "ledger")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", default="reference", metavar="reference|FILE",
                        help="`reference` (embedded, default) or a target YAML file")
    parser.add_argument("--role", action="append", default=[], metavar="ROLE",
                        help="fuzz this role (repeatable; default: every role of the target)")
    parser.add_argument("--max-examples", type=positive_int, default=FUZZ_MAX_EXAMPLES, metavar="N",
                        help=f"generated requests per operation and mode (default {FUZZ_MAX_EXAMPLES})")
    parser.add_argument("--mode", action="append", choices=FUZZ_MODES, default=[],
                        help="positive and/or negative data (default: both)")
    parser.add_argument("--shrink-seconds", type=float, default=SHRINK_SECONDS, metavar="S",
                        help=f"time limit for shrinking one failure (default {SHRINK_SECONDS:g})")
    parser.add_argument("--report-dir", default="reports", metavar="DIR",
                        help="where to write fuzz.json and fuzz.md (default: reports/)")
    parser.add_argument("--seed", type=int, default=None, metavar="N",
                        help="seed of the generation, to replay a run (default: random, printed)")


def run(args: argparse.Namespace) -> int:
    from conformance.explore.fuzz import render
    from conformance.explore.fuzz.runner import FuzzSettings, fuzz_target

    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    session = open_or_fail(args.target, seed, lambda message: _fail(args, seed, message))
    try:
        roles = _roles(args, session, seed)
        config = FuzzSettings(max_examples=args.max_examples, seed=seed, modes=tuple(args.mode) or FUZZ_MODES,
                              shrink_seconds=args.shrink_seconds)
        print(f"conformance fuzz: {', '.join(roles)} of {args.target} (seed {seed})", file=sys.stderr)
        result = fuzz_target(session, roles, config, progress=lambda line: print(line, file=sys.stderr, flush=True))
        paths = render.write(result, args.report_dir, target_secrets(session.target))
    finally:
        session.close()
    print(summary(result))
    print(f"reports: {paths[1]} (+ {paths[0].name})")
    if any(role.error for role in result.roles):
        return EXIT_USAGE
    return EXIT_OK if result.ok else EXIT_FAILED


def summary(result: FuzzRun) -> str:
    lines = [f"{role.role:9} {role.requests:6} requests  "
             + (f"error: {role.error}" if role.error else f"{len(role.failures)} failure(s)")
             for role in result.roles]
    lines += [f"  FAIL {f.role} {f.operation} [{f.check}, {f.mode}]: {f.title}" for f in result.failures]
    lines.append(f"{result.requests} requests, {len(result.failures)} failure(s) in "
                 f"{result.duration_ms / 1000:.1f} s (seed {result.seed})")
    return "\n".join(lines)


def _roles(args: argparse.Namespace, session: Session, seed: int) -> list[str]:
    available = [r for r in ROLE_ORDER if r in session.target.roles] + \
                [r for r in session.target.roles if r not in ROLE_ORDER]
    unknown = [r for r in args.role if r not in available]
    if unknown:
        _fail(args, seed, f"the target has no role {', '.join(unknown)} (it has: {', '.join(available)})",
              session.target.describe())
    return list(dict.fromkeys(args.role)) or available


def _fail(args: argparse.Namespace, seed: int, message: str, target: dict[str, Any] | None = None) -> NoReturn:
    """Write a report that records the configuration error, then stop with exit status 2."""
    from conformance.explore.fuzz import render
    from conformance.explore.fuzz.results import FuzzRun

    def write(started_at: str, version: str) -> None:
        render.write(FuzzRun(seed=seed, target=target or {"name": args.target}, max_examples=args.max_examples,
                             checks=tuple(FUZZ_CHECKS), roles=(), duration_ms=0.0, tool_version=version,
                             started_at=started_at, error=message, complete=False), args.report_dir)

    config_failure(message, args.report_dir, write)

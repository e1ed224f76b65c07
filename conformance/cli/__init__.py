"""The `conformance` command: a registry of subcommands, one module each.

A subcommand module exposes NAME, HELP, DESCRIPTION (for --help), `add_arguments(parser)` and
`run(args) -> int`. Adding a command is one module and one line in COMMANDS.

Exit codes: 0 success, 1 a required check failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from conformance import __version__

COMMANDS = (
    "conformance.cli.run_cmd",
    "conformance.cli.list_cmd",
    "conformance.cli.dcql_cmd",
    "conformance.cli.serve_cmd",
    "conformance.cli.fuzz_cmd",
    "conformance.cli.explore_cmd",
)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A bad argument or configuration file: printed as one line, exit 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="conformance",
        description="Conformance harness and reference simulator for OID4VCI 1.0, OID4VP 1.0 "
        "(DCQL), SD-JWT VC and Token Status List.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMANDS:
        module = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            module.NAME,
            help=module.HELP,
            description=module.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args._run(args)
    except UsageError as exc:
        print(f"conformance {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

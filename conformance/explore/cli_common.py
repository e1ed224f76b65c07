"""What the `fuzz` and `explore` commands share: argument types, opening the target with a
configuration error as exit 2, the report of a configuration error, the secrets to scrub."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NoReturn

from conformance import __version__
from conformance.cli import UsageError
from conformance.explore.session import Session, open_session


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def open_or_fail(spec: str, seed: int, fail: Callable[[str], NoReturn]) -> Session:
    """The target `spec` on its own loop; a malformed target file goes to `fail` (exit 2)."""
    from conformance.harness import target as target_module

    try:
        return open_session(spec, seed=seed)
    except target_module.TargetError as exc:
        fail(f"target {spec}: {exc}")


def config_failure(message: str, report_dir: str, write: Callable[[str, str], None]) -> NoReturn:
    """Record the error in the command's report (`write(started_at, tool_version)`), then stop
    with exit status 2 - also when the report cannot be written, saying so."""
    try:
        write(datetime.now(UTC).isoformat(timespec="seconds"), __version__)
    except OSError as exc:
        message += f"\n(and the report could not be written to {report_dir}: {exc})"
    raise UsageError(message)


def target_secrets(target: Any) -> list[str]:
    """The target's credentials (API keys, named extra keys), to scrub from every report line."""
    from conformance.harness.runner import target_secrets as from_roles

    found = list(target.secrets()) if callable(getattr(target, "secrets", None)) else []
    return list(dict.fromkeys([*found, *from_roles(target)]))

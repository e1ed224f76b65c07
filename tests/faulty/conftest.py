"""The faulty-variant tally, at the end of the pytest session: "N variants caught of M tried".

Counted from the reports of tests/faulty/test_variants.py::test_variant_is_caught (so it also
works under pytest-xdist, where the reports reach the controller): a variant with declared
catches is caught when its test passed; a variant not caught yet (strict xfail) is caught when
its test XPASSed - which fails the run on purpose, until its catch is declared. (Under
pytest-xdist the controller loads this file only when tests/faulty is named on the command line.)
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.faulty.variants import VARIANTS

_TEST = "test_variants.py::test_variant_is_caught["
TALLY: dict[str, bool] = {}    # variant name -> caught, for this session


def _name(nodeid: str) -> str | None:
    return nodeid.split(_TEST, 1)[1].rstrip("]") if _TEST in nodeid else None


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    name = _name(report.nodeid)
    if name is None or name not in VARIANTS or report.when != "call":
        return
    if VARIANTS[name].missing:
        TALLY[name] = report.failed and "XPASS" in str(report.longrepr)
    else:
        TALLY[name] = report.passed


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TALLY:
        return
    missed = sorted(name for name, caught in TALLY.items() if not caught)
    terminalreporter.write_sep("-", f"faulty reference variants: {sum(TALLY.values())} variants caught "
                                    f"of {len(TALLY)} tried")
    if missed:
        terminalreporter.write_line(f"not caught: {', '.join(missed)} (see tests/faulty/README.md)")

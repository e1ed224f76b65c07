"""Where the data folders are: the repository checkout first, the installed copy otherwise.

A checkout (or an editable install) uses the top-level `fixtures/` and `scenarios/` beside the
packages, so edits take effect at once; a wheel install uses the copies shipped as
`conformance._data` (see setup.py).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _data_dir(name: str) -> Path:
    checkout = _CHECKOUT / name
    if checkout.is_dir():
        return checkout
    return _PACKAGE / "_data" / name


FIXTURES = _data_dir("fixtures")
SCENARIOS = _data_dir("scenarios")

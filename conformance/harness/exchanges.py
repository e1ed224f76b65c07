"""Which HTTP exchange of an operation is its main response."""

from __future__ import annotations

from typing import Any


def main_exchange(result: Any) -> Any:
    """The last exchange whose status is the operation's status (operations make helper calls
    too, e.g. fetching the offer after creating it); else the last answered one; else None."""
    answered = [e for e in (getattr(result, "exchanges", None) or []) if getattr(e, "status", None) is not None]
    main = [e for e in answered if e.status == result.status]
    return (main or answered or [None])[-1]

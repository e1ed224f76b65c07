"""Knobs of one ledger deployment."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The did:iota network name rule (IOTA DID Method Specification, DID Format; see protocol/did.py).
_NETWORK = re.compile(r"[a-z0-9]{1,8}")


@dataclass(frozen=True)
class LedgerSettings:
    """`latency` (seconds) is spent in each notarization step (queued, then processing);
    `failure_rate` is the chance in [0, 1] that a notarization fails, drawn from
    `random.Random(seed)` so a run replays. Without `admin_key` the fault API is not served.
    Latency, failure rate and availability can be changed at run time (see faults.py)."""

    base_url: str = "http://ledger.local"
    network: str = "testnet"
    latency: float = 0.05
    failure_rate: float = 0.0
    seed: int = 0
    admin_key: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not _NETWORK.fullmatch(self.network):
            raise ValueError(f"network {self.network!r} must be 1-8 characters of a-z0-9")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"failure_rate {self.failure_rate} must be within [0, 1]")
        if self.latency < 0:
            raise ValueError(f"latency {self.latency} must not be negative")

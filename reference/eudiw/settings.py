"""Knobs of the EUDIW-connector surface (EUDIW connector seed, shared/seeds/002)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EudiwSettings:
    """`base_url` is the management API's own address (the seed's internal port 8081), not the
    wire: offers point wallets at the issuer engine's public base URL.

    `callback_url`: where issuance callbacks go (one per connector, as the seed configures it);
    None sends none. `session_ttl`: an offer's lifetime, the seed's 5 minutes by default.
    `api_key`: None leaves the management API open as the seed has it (internal network only);
    set, every call needs `X-API-Key`. Callbacks are retried (the seed deduplicates retries by
    eventId + status): `callback_attempts` tries, `callback_retry_delay` seconds apart, each
    bounded by `callback_timeout`. `sweep_interval`: how often a server looks for expired
    sessions (None: only on requests and `drain()`, which suits an in-process clock).
    `tenant`: the engine tenant whose Credential Issuer identifier and signing path offers use.
    """

    base_url: str = "http://eudiw.local"
    tenant: str = "eudiw"
    callback_url: str | None = None
    session_ttl: int = 300
    api_key: str | None = field(default=None, repr=False)
    callback_timeout: float = 5.0
    callback_attempts: int = 3
    callback_retry_delay: float = 1.0
    sweep_interval: float | None = None

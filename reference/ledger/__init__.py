"""The reference ledger: a simulated IOTA network.

Two services behind one HTTP API:
- notarization: locked notarization objects holding an issuer-signed JWT, written
  asynchronously (queued -> processing -> completed | failed) with configurable latency and
  failure rate;
- a did:iota registry: create / update / deactivate, each authorised by a JWS from the
  controller key (the simulated transaction signature), resolved the DIF Universal Resolver way.

A fault switch makes the whole ledger answer 503, so the other roles' outage paths are testable.
"""

from reference.ledger.app import create_app
from reference.ledger.settings import LedgerSettings
from reference.ledger.store import open_store

__all__ = ["LedgerSettings", "create_app", "open_store"]

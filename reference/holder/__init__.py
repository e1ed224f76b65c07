"""Reference holder: the custodial wallet service of shared/seeds/001 (Holder · Manage Wallets &
Credentials). One account per end user; the service does the OID4VCI and OID4VP work on their
behalf with private keys that callers pass per request and that are never persisted.

    app = create_app(HolderSettings(), store=open_store(":memory:"), clock=SystemClock(), http=client)
"""

from reference.holder.app import create_app
from reference.holder.settings import HolderSettings
from reference.holder.store import open_store

__all__ = ["HolderSettings", "create_app", "open_store"]

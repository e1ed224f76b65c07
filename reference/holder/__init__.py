"""Reference holder: the custodial wallet service of shared/seeds/001 (Holder · Manage Wallets &
Credentials). One account per end user; the service does the OID4VCI and OID4VP work on their
behalf with private keys that callers pass per request and that are never persisted.

`notarize_on_iota` on receive (default true, as the seed says) anchors the received credential's
Issuer-signed JWT on the ledger: the holder reuses an issuer-reported `reference` once the ledger
confirms its object holds that JWT, and otherwise submits the JWT to the ledger's notarization API
itself and waits (at most `notarization_wait`, 5 s by default) for the outcome. The receive
response carries `on_chain_status` (PENDING / IN_PROGRESS / COMPLETED / FAILED, the issuer seed's
enum; null when not notarized) and, once COMPLETED, `reference {chain, object_id}`; GET
/v1/vc/{id} shows it as `reference {block_chain, object_id}` and asks the ledger again while the
anchor is still open. An unreachable ledger never fails a receive (the seed's receive table has no
503, and the pre-authorized code is spent by then): the credential is stored, the anchor FAILED,
`notarization_error` says why. Only did:iota-path credentials are anchored (issuer seed, DID path
only). Details: notarize.py; the deviation is listed in the OpenAPI description.

Issuer keys and status lists are read with `conformance.issuer_keys` / `conformance.status_fetch`,
the same code the reference verifier uses.

    app = create_app(HolderSettings(), store=open_store(":memory:"), clock=SystemClock(), http=client)
"""

from reference.holder.app import create_app
from reference.holder.settings import HolderSettings
from reference.holder.store import open_store

__all__ = ["HolderSettings", "create_app", "open_store"]

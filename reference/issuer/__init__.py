"""The reference issuer: one engine (offers, the OID4VCI 1.0 pre-authorized code flow with
immediate and deferred issuance, did:iota and X.509 signing paths, Token Status List
revocation, ledger notarization) behind the issuer seed's management API; the EUDIW connector
(reference.eudiw) and organisation wallet (reference.orgwallet) APIs are further surfaces over
the same engine."""

from reference.issuer.app import create_app
from reference.issuer.engine import IssuerEngine
from reference.issuer.settings import IssuerSettings
from reference.issuer.store import open_store

__all__ = ["IssuerEngine", "IssuerSettings", "create_app", "open_store"]

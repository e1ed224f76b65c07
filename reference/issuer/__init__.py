"""The reference issuer: the issuer seed's management API over a real OID4VCI 1.0
pre-authorized code flow, with did:iota and X.509 signing paths, Token Status List revocation
and ledger notarization."""

from reference.issuer.app import create_app
from reference.issuer.settings import IssuerSettings
from reference.issuer.store import open_store

__all__ = ["IssuerSettings", "create_app", "open_store"]

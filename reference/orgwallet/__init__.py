"""The organisation-wallet API surface (shared/seeds/003): `POST /v2/config/digital-wallet/
openid/sdjwt/credential/issue` with InTime and Deferred issuance, the `credentialHistory`
record, deferred completion and revocation, over the one issuer engine (reference.issuer)."""

from reference.orgwallet.app import create_app
from reference.orgwallet.settings import OrgWalletSettings
from reference.orgwallet.store import open_store

__all__ = ["OrgWalletSettings", "create_app", "open_store"]

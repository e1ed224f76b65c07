"""The EUDIW-connector API surface (shared/seeds/002): `POST /offers` with
`credential_configuration_id`, `claims` and `tx_code`, and issuance callbacks (OFFER_CREATED,
ISSUED, FAILED, EXPIRED), over the one issuer engine (reference.issuer)."""

from reference.eudiw.app import create_app
from reference.eudiw.settings import EudiwSettings
from reference.eudiw.store import open_store

__all__ = ["EudiwSettings", "create_app", "open_store"]

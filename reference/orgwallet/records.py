"""The `credentialHistory` record (organisation wallet seed, Issue credential response), built
from the exchange and the engine's state of its offer - nothing here is stored twice.

The seed lists the statuses but not what moves a record between them; the reference reads them
off the OID4VCI 1.0 flow (first match wins):

    issuance_denied      the issuer denied it (the deny endpoint), or the offer can no longer
                         be completed (tx_code_locked, offer_key_lost): issuanceDeniedReason
    credential_deleted   the wallet's Notification Request said credential_deleted (§11.1)
    credential_accepted  ... credential_accepted
    credential_acked     ... any other event (credential_failure): receipt acknowledged, not kept
    credential_issued    the credential was delivered: Credential Endpoint (InTime), Deferred
                         Credential Endpoint (Deferred)
    offer_received       the wallet fetched the Credential Offer or redeemed the code
    offer_sent           the offer exists

`credentialStatus` is `pending` while a Deferred exchange waits for its claims, else `ready`.
`revocationStatus` follows the credential's Token Status List entry: Operational (VALID),
Revoked (INVALID), Suspended (SUSPENDED).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from conformance.protocol.jose import parse_jws
from reference.issuer.store import CredentialRow, OfferRow
from reference.orgwallet.store import Exchange

LIFECYCLE: tuple[tuple[str, Callable[[OfferRow], bool]], ...] = (
    ("issuance_denied", lambda o: o.failure is not None),
    ("credential_deleted", lambda o: o.notification_event == "credential_deleted"),
    ("credential_accepted", lambda o: o.notification_event == "credential_accepted"),
    ("credential_acked", lambda o: o.notification_event is not None),
    ("credential_issued", lambda o: o.issued_at is not None),
    ("offer_received", lambda o: o.received_at is not None),
    ("offer_sent", lambda o: True),
)
STATUSES = tuple(name for name, _ in reversed(LIFECYCLE))
REVOCATION = {"ACTIVE": "Operational", "REVOKED": "Revoked", "SUSPENDED": "Suspended"}
REVOCATION_TO_ENGINE = {v: k for k, v in REVOCATION.items()}


def status_of(offer: OfferRow) -> str:
    return next(name for name, holds in LIFECYCLE if holds(offer))


def history_record(exchange: Exchange, offer: OfferRow, credential: CredentialRow | None,
                   vct: str, interval: int) -> dict[str, Any]:
    deferred = exchange.issuance_mode == "Deferred"
    revoked_at = credential.revoked_at if credential and credential.revoked_at else 0.0
    updated = max(offer.updated_at, revoked_at)
    return {
        "credentialExchangeId": exchange.exchange_id,
        "issuanceMode": exchange.issuance_mode,
        "isPreAuthorisedCodeFlow": True,  # the only flow the reference issues with
        "credentialOffer": exchange.credential_offer,
        "urlScheme": exchange.url_scheme,
        "credentialDefinitionId": exchange.definition_id,
        "credentialConfigurationId": exchange.config_id,
        "format": exchange.format,
        "credentialStatus": "pending" if deferred and offer.claims_at is None else "ready",
        "status": status_of(offer),
        "clientId": None,  # pre-authorized Token Requests here are anonymous (§6.1, §12.3)
        "createdAt": int(exchange.created_at),
        "updatedAt": int(updated),
        "credential": {"vct": vct, "claims": offer.claims},
        "holder": {"identifier": credential.holder_did if credential else None},
        "isRevocationEnabled": True,
        "revocationStatus": REVOCATION[credential.status] if credential else None,
        "credentialToken": credential.issuer_jwt if credential else None,
        "cnf": parse_jws(credential.issuer_jwt).payload.get("cnf") if credential else None,
        "notificationEvent": offer.notification_event,
        "issuanceDeniedReason": offer.failure_detail if offer.failure else None,
        "deferredInterval": interval if deferred else None,
    }

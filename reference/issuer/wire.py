"""The OID4VCI 1.0 wire a wallet talks to, over the engine: the Credential Offer by reference
(§4.1.3), the token endpoint with the pre-authorized code grant (§6), the nonce endpoint (§7),
the credential endpoint (§8), the deferred credential endpoint (§9) and the notification
endpoint (§11). Raises Oid4vciError (rendered in the OAuth error shape) and OAuthError.

Every surface's offers come through here: the wire neither knows nor cares which management
API made an offer, except that a deferred offer answers 202 with a `transaction_id` (§8.3).
"""

from __future__ import annotations

import secrets
from typing import Any

from conformance.protocol.errors import Oid4vciError
from conformance.protocol.oid4vci import (
    CredentialOffer,
    NonceResponse,
    PreAuthorizedGrant,
    TokenResponse,
    TxCode,
    oid4vci_error,
    parse_credential_request,
    parse_deferred_credential_request,
    parse_notification_request,
    parse_token_request,
)
from reference.common.body import parse_uuid
from reference.common.clock import iso
from reference.common.errors import ApiError, OAuthError
from reference.issuer.configs import CredentialConfig
from reference.issuer.engine import Answer, IssuerEngine
from reference.issuer.signing import Holder, Signer
from reference.issuer.store import OfferRow, TransactionRow


class Wire:
    def __init__(self, engine: IssuerEngine) -> None:
        self.engine = engine
        self.db = engine.db
        self.settings = engine.settings
        self.clock = engine.clock

    # --- the Credential Offer object (§4.1.3) -----------------------------------------------

    def credential_offer(self, offer_id: str) -> dict[str, Any]:
        offer = self.db.offer(parse_uuid(offer_id, "offer_id"))
        if offer is None:
            raise ApiError(404, "not_found", f"no credential offer {offer_id}")
        now = self.clock.now()
        if offer.expired(now):
            raise ApiError(410, "offer_expired", f"credential offer {offer_id} expired at "
                           f"{iso(offer.expires_at)}")
        if self.db.mark_fetched(offer.offer_id, now):
            self.engine.notify(offer.offer_id)
        tx = TxCode(**offer.tx_code) if offer.tx_code else None
        return CredentialOffer(offer.credential_issuer, (offer.config_id,), PreAuthorizedGrant(
            self.engine.pre_authorized_code(offer.offer_id), tx)).to_json()

    # --- token endpoint (§6) ----------------------------------------------------------------

    def token(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        request = parse_token_request(params)
        offer = self.db.offer_by_code(request.pre_authorized_code)
        now = self.clock.now()
        if offer is None:
            raise oid4vci_error("invalid_grant", "the pre-authorized code is not known here",
                                "pre-authorized_code", "code_unknown")
        if offer.expired(now):
            raise oid4vci_error("invalid_grant", f"the pre-authorized code expired with its offer "
                                f"at {iso(offer.expires_at)}", "pre-authorized_code", "code_expired")
        if offer.code_used_at is not None:
            raise oid4vci_error("invalid_grant", "the pre-authorized code was already used; it is "
                                "single use (§4.1.1)", "pre-authorized_code", "code_used")
        self._check_tx_code(offer, request.tx_code)
        if offer.failure is not None:
            raise oid4vci_error("invalid_grant", f"the offer can no longer be redeemed: "
                                f"{offer.failure_detail}", "pre-authorized_code", offer.failure)
        if not self.db.redeem_code(offer.offer_id, now):
            raise oid4vci_error("invalid_grant", "the pre-authorized code was already used",
                                "pre-authorized_code", "code_used")
        access_token = secrets.token_urlsafe(32)
        ttl = int(min(self.settings.access_token_ttl, max(1, offer.expires_at - now)))
        self.db.add_token(access_token, offer.offer_id, now + ttl)
        self.engine.notify(offer.offer_id)
        return TokenResponse(access_token, "Bearer", ttl).to_json()

    def _check_tx_code(self, offer: OfferRow, tx_code: str | None) -> None:
        """§6.3: missing or unexpected tx_code is invalid_request; a wrong one invalid_grant.
        After `tx_code_attempts` wrong codes the offer is dead (guessing defence, §13.6)."""
        if offer.tx_code_hash is None:
            if tx_code is not None:
                raise oid4vci_error("invalid_request", "this offer has no tx_code, but the request "
                                    "sends one (§6.3)", "tx_code", "tx_code_unexpected")
            return
        if tx_code is None:
            raise oid4vci_error("invalid_request", "this offer requires a tx_code (§6.3)",
                                "tx_code", "tx_code_missing")
        limit = self.settings.tx_code_attempts
        if offer.tx_attempts >= limit:
            raise oid4vci_error("invalid_grant", "too many wrong tx_code attempts; the offer is "
                                "no longer redeemable", "tx_code", "tx_code_locked")
        expected = offer.tx_code_hash
        if not secrets.compare_digest(self.engine.tx_digest(offer.offer_id, tx_code), expected):
            if self.db.count_tx_failure(offer.offer_id) >= limit:
                self.engine.fail(offer.offer_id, "tx_code_locked",
                                 f"{limit} wrong tx_code attempts; the offer is locked (§13.6)")
            raise oid4vci_error("invalid_grant", "the tx_code is wrong (§6.3)", "tx_code",
                                "tx_code_wrong")

    # --- nonce endpoint (§7) ----------------------------------------------------------------

    def nonce(self) -> dict[str, Any]:
        c_nonce = secrets.token_urlsafe(24)
        self.db.add_nonce(c_nonce, self.clock.now() + self.settings.nonce_ttl)
        return NonceResponse(c_nonce).to_json()

    # --- credential endpoint (§8) -----------------------------------------------------------

    async def credential(self, authorization: str | None, body: Any) -> Answer:
        offer = self._token_offer(authorization)
        if offer.issued_at is not None:
            raise oid4vci_error("credential_request_denied", "the credential of this offer was "
                                "already issued", None, "already_issued")
        if offer.deferred_at is not None:
            raise oid4vci_error("credential_request_denied", "this offer's credential was already "
                                "requested; fetch it at the Deferred Credential Endpoint (§9)",
                                None, "already_deferred")
        _refuse_failed(offer)
        request = parse_credential_request(body)
        config = self._requested_config(offer, request.credential_configuration_id,
                                        request.credential_identifier)
        proof = await self.engine.proofs.verify(offer, config, request.proof_type, request.proofs)
        holder = Holder(proof.key.to_jwk(), proof.did)
        if offer.deferred:
            return self.engine.defer(offer, holder, proof.nonce)
        signer = await self._signer(offer)
        return Answer(self.engine.issue(offer, config, holder, signer, nonce=proof.nonce))

    def _token_offer(self, authorization: str | None) -> OfferRow:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise OAuthError(401, "invalid_token", "an access token is required: Authorization: "
                             "Bearer <token> (RFC 6750 section 2.1)",
                             headers={"WWW-Authenticate": "Bearer"})
        offer_id = self.db.token_offer(token.strip(), self.clock.now())
        offer = self.db.offer(offer_id) if offer_id else None
        if offer is None:
            raise OAuthError(401, "invalid_token", "the access token is unknown or expired",
                             headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return offer

    def _requested_config(self, offer: OfferRow, config_id: str | None,
                          identifier: str | None) -> CredentialConfig:
        if identifier is not None:
            raise oid4vci_error("unknown_credential_identifier", "this issuer returns no "
                                "credential_identifiers; use credential_configuration_id",
                                "credential_identifier")
        config = self.engine.configuration(config_id or "")
        if config is None:
            raise oid4vci_error("unknown_credential_configuration", f"{config_id!r} is not in "
                                "credential_configurations_supported", "credential_configuration_id")
        if config.id != offer.config_id:
            raise oid4vci_error("invalid_credential_request", f"the access token covers "
                                f"{offer.config_id!r}, not {config.id!r} (§6.1)",
                                "credential_configuration_id", "configuration_not_offered")
        return config

    async def _signer(self, offer: OfferRow) -> Signer:
        try:
            return await self.engine.signers.signer(offer)
        except Oid4vciError as exc:
            if getattr(exc, "detail", None) == "offer_key_lost":
                self.engine.fail(offer.offer_id, "offer_key_lost")
            raise

    # --- deferred credential endpoint (§9) --------------------------------------------------

    async def deferred_credential(self, authorization: str | None, body: Any) -> Answer:
        offer = self._token_offer(authorization)
        request = parse_deferred_credential_request(body)
        transaction = self._transaction(offer, request.transaction_id)
        offer = self.db.offer(offer.offer_id)  # type: ignore[assignment]
        _refuse_failed(offer)
        if offer.claims_at is None:
            # §9.2: still pending - the same transaction_id, and how long to wait.
            return Answer({"transaction_id": request.transaction_id,
                           "interval": self.settings.deferred_interval}, 202)
        config = self.engine.configuration(offer.config_id)
        assert config is not None
        signer = await self._signer(offer)
        holder = Holder(transaction.holder_jwk, transaction.holder_did)
        return Answer(self.engine.issue(offer, config, holder, signer, transaction=transaction))

    def _transaction(self, offer: OfferRow, transaction_id: str) -> TransactionRow:
        transaction = self.db.transaction(transaction_id)
        if transaction is None or transaction.offer_id != offer.offer_id:
            raise oid4vci_error("invalid_transaction_id", "the transaction_id was not issued for "
                                "this access token (§9.3)", "transaction_id", "unknown")
        if transaction.collected_at is not None:
            raise oid4vci_error("invalid_transaction_id", "the credential of this transaction was "
                                "already obtained; the transaction_id is invalidated (§9.1)",
                                "transaction_id", "collected")
        if self.clock.now() >= transaction.expires_at:
            raise oid4vci_error("invalid_transaction_id", "the deferred transaction expired",
                                "transaction_id", "expired")
        return transaction

    # --- notification endpoint (§11) --------------------------------------------------------

    def notification(self, authorization: str | None, body: Any) -> None:
        """Idempotent (§11): the same notification again is a success; the last event wins."""
        offer = self._token_offer(authorization)
        request = parse_notification_request(body)
        if offer.notification_id is None or not secrets.compare_digest(
                request.notification_id, offer.notification_id):
            raise oid4vci_error("invalid_notification_id", "the notification_id was not issued "
                                "with this access token's credential (§11.3)", "notification_id")
        self.db.set_notification(offer.offer_id, request.event, self.clock.now())
        self.engine.notify(offer.offer_id)


def _refuse_failed(offer: OfferRow) -> None:
    """§8.3.1.2 / §9.3: an offer that can no longer be completed answers
    credential_request_denied, with the reason as the detail."""
    if offer.failure is not None:
        raise oid4vci_error("credential_request_denied", f"the credential will not be issued: "
                            f"{offer.failure_detail}", None, offer.failure)

"""The organisation-wallet surface over the issuer engine: issue (InTime | Deferred), read the
exchange record, supply a deferred credential's claims, deny, revoke. Raises ApiError.

Where the seed names an API without documenting it ("the Issue deferred credential API") or is
silent (reading a record, denying, revoking), the routes are this reference's, documented in
openapi.py.
"""

from __future__ import annotations

import hmac
import uuid
from typing import Any

from reference.common.body import Body, bad, parse_uuid
from reference.common.clock import Clock
from reference.common.errors import ApiError
from reference.common.store import Store
from reference.issuer.claims import check_claims
from reference.issuer.configs import CredentialConfig
from reference.issuer.engine import IssuerEngine, OfferSpec
from reference.issuer.txcode import tx_code_for
from reference.orgwallet.definitions import SUPPORTED_FORMATS, CredentialDefinition
from reference.orgwallet.records import REVOCATION_TO_ENGINE, history_record
from reference.orgwallet.requests import (
    CredentialEntry,
    parse_credential,
    parse_denial,
    parse_issue_request,
    parse_revocation,
)
from reference.orgwallet.settings import OrgWalletSettings
from reference.orgwallet.store import Exchange, OrgWalletStore

AUTH_SCHEME = "ApiKey"


class OrgWalletService:
    def __init__(self, settings: OrgWalletSettings, store: Store, clock: Clock,
                 engine: IssuerEngine) -> None:
        self.settings = settings
        self.db = OrgWalletStore(store)
        self.clock = clock
        self.engine = engine
        self.tenant = engine.surface_tenant(settings.tenant)

    def authenticate(self, authorization: str | None) -> None:
        scheme, _, key = (authorization or "").partition(" ")
        key = key.strip()
        if scheme != AUTH_SCHEME or not key or not any(
                hmac.compare_digest(key.encode(), k.encode()) for k in self.settings.api_keys):
            raise ApiError(401, "unauthorized", "Authorization: ApiKey <key> is missing or not "
                           "valid", "Authorization")

    async def drain(self) -> None:
        """Nothing runs in the background here; the engine's own work is the engine's."""

    # --- issue ------------------------------------------------------------------------------

    async def issue(self, body: Body) -> dict[str, Any]:
        request = parse_issue_request(body)
        definition = self._definition(request.definition_id)
        config = self._config(definition, request.credential)
        claims = request.credential.claims
        if claims is not None:
            check_claims(config, claims, where=f"{request.credential.where}.claims")
        tx_code = tx_code_for(request.user_pin, "userPin") if request.user_pin else None
        signing = await self.engine.signing_path(self.tenant)
        created = self.engine.create_offer(OfferSpec(
            surface="orgwallet", tenant=self.tenant, config=config, claims=claims,
            expires_in=self.settings.offer_ttl, signing=signing, tx_code=tx_code,
            tx_code_value=request.user_pin, deferred=request.issuance_mode == "Deferred",
            link_scheme=request.url_scheme))
        exchange = Exchange(str(uuid.uuid4()), created.offer_id, definition.id, config.id,
                            definition.format, request.issuance_mode, request.url_scheme,
                            created.deep_link, self.clock.now())
        self.db.add(exchange)
        return self._answer(exchange)

    def _definition(self, definition_id: str) -> CredentialDefinition:
        definition = self.settings.definitions.get(definition_id)
        if definition is None:
            raise ApiError(400, "unknown_credential_definition", f"credentialDefinitionId: "
                           f"{definition_id!r} is not a credential definition here (known: "
                           f"{', '.join(sorted(self.settings.definitions))})",
                           "credentialDefinitionId")
        if definition.format not in SUPPORTED_FORMATS:
            raise ApiError(400, "unsupported_credential_format", f"credentialDefinitionId: "
                           f"{definition_id} is a {definition.format} definition; the reference "
                           f"issues {', '.join(SUPPORTED_FORMATS)} only", "credentialDefinitionId")
        return definition

    def _config(self, definition: CredentialDefinition, entry: CredentialEntry) -> CredentialConfig:
        where = f"{entry.where}.credentialConfigurationId"
        config_id = entry.config_id
        if config_id is None:
            if len(definition.configurations) != 1:
                raise bad(where, f"is required: {definition.id} covers "
                          f"{', '.join(definition.configurations)}")
            config_id = definition.configurations[0]
        config = self.engine.configuration(config_id)
        if config_id not in definition.configurations or config is None or \
                not self.tenant.may_offer(config_id):
            raise ApiError(400, "unknown_credential_configuration", f"{where}: {config_id!r} is "
                           f"not a configuration of {definition.id} (its configurations: "
                           f"{', '.join(definition.configurations)})", where)
        if entry.vct is not None and entry.vct != config.vct:
            raise bad(f"{entry.where}.vct", f"is {entry.vct!r}, but {config_id} issues "
                      f"{config.vct!r}")
        return config

    # --- the exchange record ----------------------------------------------------------------

    def _exchange(self, exchange_id: str) -> Exchange:
        exchange = self.db.get(parse_uuid(exchange_id, "credentialExchangeId"))
        if exchange is None:
            raise ApiError(404, "not_found", f"no credential exchange {exchange_id}",
                           "credentialExchangeId")
        return exchange

    def _answer(self, exchange: Exchange) -> dict[str, Any]:
        offer = self.engine.offer(exchange.offer_id)
        assert offer is not None, "an exchange always has its offer"
        config = self.engine.configuration(exchange.config_id)
        return {"credentialHistory": history_record(
            exchange, offer, self.engine.credential_of(exchange.offer_id),
            config.vct if config else "", self.engine.settings.deferred_interval)}

    def history(self, exchange_id: str) -> dict[str, Any]:
        return self._answer(self._exchange(exchange_id))

    def supply(self, exchange_id: str, body: Body) -> dict[str, Any]:
        """The seed's "Issue deferred credential API": the backend's data is ready."""
        exchange = self._exchange(exchange_id)
        if exchange.issuance_mode != "Deferred":
            raise ApiError(409, "not_deferred", "this exchange was issued InTime; there is "
                           "nothing to supply", "credentialExchangeId")
        entry = parse_credential(body, claims_required=False) if (
            body.has("credential") or body.has("credentials")) else None
        claims = entry.claims if entry else None
        config = self.engine.configuration(exchange.config_id)
        offer = self.engine.offer(exchange.offer_id)
        assert config is not None and offer is not None
        if entry is not None and claims is not None:
            check_claims(config, claims, where=f"{entry.where}.claims")
        elif offer.claims is None:
            raise bad("credentials", "the exchange was created without claims; supply them now")
        if not self.engine.supply_claims(exchange.offer_id, claims):
            raise ApiError(409, "not_pending", "the credential of this exchange is not pending "
                           "any more (supplied, issued or denied)", "credentialExchangeId")
        return self._answer(exchange)

    def deny(self, exchange_id: str, body: Body) -> dict[str, Any]:
        exchange = self._exchange(exchange_id)
        if not self.engine.fail(exchange.offer_id, "issuance_denied", parse_denial(body).reason):
            raise ApiError(409, "not_deniable", "the credential was already issued, or the "
                           "exchange already ended", "credentialExchangeId")
        return self._answer(exchange)

    def revocation(self, exchange_id: str, body: Body) -> dict[str, Any]:
        exchange = self._exchange(exchange_id)
        status = parse_revocation(body)
        credential = self.engine.credential_of(exchange.offer_id)
        if credential is None:
            raise ApiError(409, "not_issued", "no credential was issued in this exchange yet",
                           "credentialExchangeId")
        self.engine.set_credential_status(credential, REVOCATION_TO_ENGINE[status])
        return self._answer(exchange)

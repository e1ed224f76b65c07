"""The `orgwallet` dialect: an organisation wallet's issuer API (shared/seeds/003).

    issuer.create_offer       POST /v2/config/digital-wallet/openid/sdjwt/credential/issue
                              (issuanceMode InTime, or Deferred with `deferred: true`) -> 200
                              {"credentialHistory"}; `offer_id` is its credentialExchangeId
    issuer.offer_credentials  GET  .../credential/history/{credentialExchangeId}: the record
    issuer.supply_deferred    POST .../credential/history/{id}/issue-deferred (the seed's "Issue
                              deferred credential API": the backend's claims are ready)
    issuer.deny               POST .../credential/history/{id}/deny (issuance_denied)
    issuer.revoke             PUT  .../credential/history/{id}/revocation {revocationStatus}
    wallet.collect_deferred   the Deferred Credential Endpoint (OID4VCI 1.0 §9), on the access
                              token the shared wallet.receive kept (wallet.notify, §11, is shared)

Authentication is `Authorization: ApiKey <key>` (the role's api_key). The target's `config_ids`
name credential definitions (credentialDefinitionId), whose format and configuration the
deployment knows. The OID4VCI wire is the issuer's, a public standard.
"""

from conformance.dialects.orgwallet import issuer, wallet

OPERATIONS = {**issuer.OPERATIONS, **wallet.OPERATIONS}

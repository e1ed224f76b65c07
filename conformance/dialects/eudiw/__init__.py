"""The `eudiw` dialect: a self-hosted EUDIW connector's management API (shared/seeds/002).

    issuer.create_offer    POST /offers {credential_configuration_id, claims, tx_code?}
                           -> 201 {offer_id, credential_offer_uri, tx_code_value?}
    issuer.wait_callbacks  the connector's issuance callbacks about one offer, as the scenario's
                           callback receiver got them: OFFER_CREATED, then ISSUED, FAILED or
                           EXPIRED (deduplicated by eventId + status, the seed's rule)

The connector documents no read API for an offer (the reference's GET /offers/{id} is its own
extension), so `issuer.offer_credentials` is not implemented: scenarios reading TCS credential
records are skipped, with the reason. The OID4VCI wire its offers point at is a public standard:
`wallet.*` come from conformance.dialects.shared, as for every dialect.

Callbacks go to ONE URL per connector (its configuration, not a per-offer member). The embedded
`reference:eudiw` target points the connector at a receiver of its own (role extra `callbacks`);
against a deployment, declare `webhooks: true` in the scenario and give the target file a
`webhooks.listen` address (and `public_url`) that the connector's callback URL names.
"""

from conformance.dialects.eudiw import callbacks, offers

OPERATIONS = {**offers.OPERATIONS, **callbacks.OPERATIONS}

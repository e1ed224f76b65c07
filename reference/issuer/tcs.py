"""The TCS surface: the issuer seed's management API (`POST /v1/offers`, `GET /v1/offers/{id}/
credentials`, the status extension) over the issuer engine. Raises ApiError.

What only this surface has: X-API-Key tenants, per-offer issuer overrides (`issuer_did` +
`issuer_private_key`, used in memory only), on-chain notarization with its webhook, and the
seed's credential record shape.
"""

from __future__ import annotations

from typing import Any

from conformance.protocol.did import method_key, parse_did, verification_key
from conformance.protocol.errors import DidError, JoseError
from conformance.protocol.jose import PublicKey, private_key_from_b64u
from conformance.resolver import ResolutionError
from reference.common.body import Body, bad, parse_uuid
from reference.common.clock import iso
from reference.common.errors import ApiError
from reference.issuer.configs import CredentialConfig
from reference.issuer.engine import IssuerEngine, OfferSpec
from reference.issuer.claims import check_claims
from reference.issuer.offers import OfferRequest, parse_offer_request
from reference.issuer.settings import Tenant
from reference.issuer.signing import OfferKey, SigningPath
from reference.issuer.store import CredentialRow, OfferRow

RECORD_STATUSES = ("ACTIVE", "REVOKED", "SUSPENDED")


class TcsService:
    def __init__(self, engine: IssuerEngine) -> None:
        self.engine = engine
        self.settings = engine.settings

    def authenticate(self, api_key: str | None) -> Tenant:
        if not api_key:
            raise ApiError(401, "unauthorized", "X-API-Key header is required", "X-API-Key")
        tenant = self.settings.tenant_for_key(api_key)
        if tenant is None:
            raise ApiError(401, "unauthorized", "X-API-Key is not valid", "X-API-Key")
        return tenant

    # --- POST /v1/offers --------------------------------------------------------------------

    async def create_offer(self, tenant: Tenant, body: Body) -> dict[str, Any]:
        request = parse_offer_request(body, default_ttl=self.settings.offer_ttl_default,
                                      max_ttl=self.settings.offer_ttl_max)
        config = self._offerable_config(tenant, request)
        check_claims(config, request.claims)
        signing = await self._signing_path(tenant, request)
        created = self.engine.create_offer(OfferSpec(
            surface="tcs", tenant=tenant, config=config, claims=request.claims,
            expires_in=request.expires_in, signing=signing, holder_did=request.holder_did,
            notarize=self._notarize(request, signing.issuer_did),
            callback_url=request.callback_url, tx_code=request.tx_code))
        response = {"offer_id": created.offer_id, "credential_offer_uri": created.offer_uri,
                    "deep_link": created.deep_link, "expires_at": iso(created.expires_at)}
        if created.tx_code_value:
            response["tx_code_value"] = created.tx_code_value
        return response

    def _offerable_config(self, tenant: Tenant, request: OfferRequest) -> CredentialConfig:
        config = self.engine.configuration(request.config_id)
        if config is None:
            raise ApiError(400, "unknown_credential_configuration", f"credential.config_id: "
                           f"{request.config_id!r} is not a credential configuration of this "
                           f"issuer (known: {', '.join(sorted(self.settings.configurations))})",
                           "credential.config_id")
        if not tenant.may_offer(config.id):
            raise ApiError(403, "forbidden", f"credential.config_id: this API key may not offer "
                           f"{config.id}", "credential.config_id")
        return config

    async def _signing_path(self, tenant: Tenant, request: OfferRequest) -> SigningPath:
        """The tenant's path, or the offer's own issuer (403 unless registered; key checked)."""
        if request.issuer_did is None:
            return await self.engine.signing_path(tenant)
        if not tenant.may_use_did(request.issuer_did):
            raise ApiError(403, "forbidden", "issuer_did: this DID is not registered under the "
                           "caller's tenant", "issuer_did")
        key = await self._offer_key(request.issuer_did, request.issuer_private_key or "")
        return SigningPath("did", request.issuer_did, key)

    async def _offer_key(self, did: str, private_key: str) -> OfferKey:
        """The caller's key must be the one the DID document names for assertions (400 if not).
        Neither the key nor anything derived from it appears in an error."""
        try:
            document = await self.engine.resolver.resolve(did)
        except ResolutionError as exc:
            if exc.reason == "resolver_unreachable":
                raise ApiError(503, "ledger_unreachable", f"issuer_did: cannot resolve {did}: "
                               "the ledger is unreachable", "issuer_did") from None
            raise bad("issuer_did", f"cannot be resolved ({exc.reason})") from None
        except DidError as exc:
            raise bad("issuer_did", exc.message) from None
        try:
            public, kid = _assertion_key(document)
            key = private_key_from_b64u(private_key, public.alg, "issuer_private_key")
        except (DidError, JoseError):
            raise bad("issuer_private_key", "is not a base64url raw private key of the type "
                      "issuer_did's assertion key uses") from None
        if key.public.to_jwk() != public.to_jwk():
            raise bad("issuer_private_key", "does not match the assertionMethod key of issuer_did")
        return OfferKey(key, kid)

    @staticmethod
    def _notarize(request: OfferRequest, issuer_did: str | None) -> bool:
        on_iota = issuer_did is not None and parse_did(issuer_did).method == "iota"
        if request.notarize_on_iota and not on_iota:
            raise bad("notarize_on_iota", "true requires a did:iota issuer; X.509 and other DID "
                      "issuers cannot notarize (issuer seed, On-chain notarization)")
        return on_iota if request.notarize_on_iota is None else request.notarize_on_iota

    # --- records and status -----------------------------------------------------------------

    def _owned_offer(self, tenant: Tenant, offer_id: str) -> OfferRow:
        offer = self.engine.offer(parse_uuid(offer_id, "offer_id"))
        if offer is None or offer.tenant != tenant.id:
            # Unknown and not-owned are deliberately the same answer (issuer seed, Step 3).
            raise ApiError(404, "not_found", f"offer {offer_id} not found")
        return offer

    def credential_records(self, tenant: Tenant, offer_id: str) -> list[dict[str, Any]]:
        offer = self._owned_offer(tenant, offer_id)
        return [self._record(row) for row in self.engine.db.credentials_of_offer(offer.offer_id)]

    def _record(self, row: CredentialRow) -> dict[str, Any]:
        status = row.status
        if status != "REVOKED" and row.expires_at is not None and \
                self.engine.clock.now() >= row.expires_at:
            status = "EXPIRED"
        return {
            "credential_id": row.credential_id, "issuer_did": row.issuer_did,
            "holder_did": row.holder_did, "vct": row.vct, "format": row.format, "status": status,
            "blockchain": "iota" if row.notarize else None,
            "on_chain_status": row.on_chain_status,
            "object_id": row.object_id if row.on_chain_status == "COMPLETED" else None,
            "issued_at": iso(row.issued_at), "expires_at": iso(row.expires_at),
            "revoked_at": iso(row.revoked_at),
        }

    def set_status(self, tenant: Tenant, credential_id: str, body: Body) -> dict[str, Any]:
        row = self.engine.db.credential(parse_uuid(credential_id, "credential_id"))
        if row is None or row.tenant != tenant.id:
            raise ApiError(404, "not_found", f"credential {credential_id} not found")
        status = body.str("status", required=True, choices=RECORD_STATUSES)
        return self._record(self.engine.set_credential_status(row, status))  # type: ignore[arg-type]


def _assertion_key(document: dict[str, Any]) -> tuple[PublicKey, str]:
    """The document's first assertionMethod key and its verification method id."""
    key = verification_key(document, None, "assertionMethod")
    for method in document.get("verificationMethod", []):
        if isinstance(method, dict) and method_key(method).to_jwk() == key.to_jwk():
            vm_id = method["id"]
            return key, vm_id if not vm_id.startswith("#") else document["id"] + vm_id
    raise DidError("verification_method_not_found", "the assertion key has no verification "
                   "method id")

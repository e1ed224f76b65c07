"""The reference issuer's logic: offers, the OID4VCI pre-authorized code flow, credential
records, revocation. Raises ApiError (management API) and Oid4vciError / OAuthError (wire).

Identifiers: each tenant is its own Credential Issuer, `{base_url}/{tenant}` (the issuer seed
discovers configurations at `/.well-known/openid-credential-issuer/:tenant`); its metadata is
at the well-known URL that identifier yields (OID4VCI 1.0 §12.2.2). The token, nonce and
credential endpoints are shared; an access token belongs to one offer, hence to one issuer.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from conformance.protocol.did import method_key, parse_did, verification_key
from conformance.protocol.errors import DidError, JoseError
from conformance.protocol.jose import (
    PrivateKey,
    PublicKey,
    b64u_encode,
    generate_key,
    private_key_from_b64u,
)
from conformance.protocol.oid4vci import (
    CredentialOffer,
    CredentialResponse,
    NonceResponse,
    PreAuthorizedGrant,
    TokenResponse,
    TxCode,
    VerifiedProof,
    build_offer_link,
    oid4vci_error,
    parse_credential_request,
    parse_token_request,
)
from conformance.protocol.sdjwt import issue_sd_jwt_vc
from conformance.resolver import DidResolver, ResolutionError
from reference.common.body import Body, bad, parse_uuid
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError, OAuthError
from reference.common.store import Store
from reference.issuer.configs import CredentialConfig
from reference.issuer.identity import DefaultIssuer, Identity
from reference.issuer.notarize import Notarizer
from reference.issuer.offers import OfferRequest, check_claims, parse_offer_request
from reference.issuer.proofs import ProofChecker
from reference.issuer.settings import IssuerSettings, Tenant
from reference.issuer.status import StatusEntry, StatusLists
from reference.issuer.store import CredentialRow, IssuerStore, OfferRow, digest
from reference.issuer.tasks import TaskSet

FORMAT = "dc+sd-jwt"
RECORD_STATUSES = ("ACTIVE", "REVOKED", "SUSPENDED")


@dataclass(frozen=True)
class Signer:
    key: PrivateKey
    header: dict[str, Any]   # kid or x5c
    iss: str
    did: str | None


@dataclass(frozen=True)
class _OfferKey:
    """An offer-scoped issuer key: process memory only, until the credential is issued."""

    key: PrivateKey
    kid: str

    def __repr__(self) -> str:
        return f"_OfferKey(kid={self.kid!r}, <redacted>)"


class IssuerService:
    def __init__(self, settings: IssuerSettings, store: Store, clock: Clock,
                 http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.db = IssuerStore(store)
        self.clock = clock
        self.tasks = TaskSet()
        self.resolver = DidResolver(http, settings.ledger_url, timeout=settings.ledger_timeout)
        self.default_issuer = DefaultIssuer(settings.default_issuer_key or generate_key("EdDSA"),
                                            self.db, http, settings.ledger_url,
                                            settings.iota_network, clock, settings.ledger_timeout)
        self.status_lists = StatusLists(self.db, settings.base_url, settings.status_list_size)
        self.notarizer = Notarizer(settings, self.db, http, clock, self.tasks)
        self.proofs = ProofChecker(settings, self.db, self.resolver, clock)
        self._offer_keys: dict[str, _OfferKey] = {}
        self._code_key = _derive_code_key(self.default_issuer.key)
        self._started = False

    # --- lifecycle --------------------------------------------------------------------------

    def ensure_started(self) -> None:
        """Resume unfinished notarizations once, lazily on the first request (no lifespan runs
        under an in-process ASGI transport)."""
        if not self._started:
            self._started = True
            self.notarizer.resume()

    async def drain(self) -> None:
        await self.tasks.drain()

    # --- identifiers ------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self.settings.base_url.rstrip("/")

    def issuer_identifier(self, tenant_id: str | None) -> str:
        return f"{self.base_url}/{tenant_id}" if tenant_id else self.base_url

    def tenant(self, tenant_id: str) -> Tenant:
        for tenant in self.settings.tenants:
            if tenant.id == tenant_id:
                return tenant
        raise ApiError(404, "not_found", f"no credential issuer {tenant_id!r} here")

    def authenticate(self, api_key: str | None) -> Tenant:
        if not api_key:
            raise ApiError(401, "unauthorized", "X-API-Key header is required", "X-API-Key")
        tenant = self.settings.tenant_for_key(api_key)
        if tenant is None:
            raise ApiError(401, "unauthorized", "X-API-Key is not valid", "X-API-Key")
        return tenant

    # --- offers (management API) ------------------------------------------------------------

    async def create_offer(self, tenant: Tenant, body: Body) -> dict[str, Any]:
        request = parse_offer_request(body, default_ttl=self.settings.offer_ttl_default,
                                      max_ttl=self.settings.offer_ttl_max)
        config = self._offerable_config(tenant, request)
        check_claims(config, request.claims)
        signing, issuer_did, offer_key = await self._signing_path(tenant, request)
        notarize = self._notarize(request, signing, issuer_did)
        now = self.clock.now()
        offer_id = str(uuid.uuid4())
        code = self._code(offer_id)
        tx_value = _tx_code_value(request.tx_code) if request.tx_code else None
        self.db.add_offer(OfferRow(
            offer_id=offer_id, tenant=tenant.id, config_id=config.id, claims=dict(request.claims),
            credential_issuer=self.issuer_identifier(tenant.id), signing=signing,
            issuer_did=issuer_did, holder_did=request.holder_did, notarize=notarize,
            callback_url=request.callback_url, code_hash=digest(code),
            tx_code=request.tx_code.to_json() if request.tx_code else None,
            tx_code_hash=digest(tx_value) if tx_value else None, tx_attempts=0, created_at=now,
            expires_at=now + request.expires_in, code_used_at=None, issued_at=None))
        if offer_key is not None:
            self._offer_keys[offer_id] = offer_key
        offer_uri = f"{self.base_url}/v1/offers/{offer_id}"
        response = {"offer_id": offer_id, "credential_offer_uri": offer_uri,
                    "deep_link": build_offer_link(offer_uri=offer_uri),
                    "expires_at": iso(now + request.expires_in)}
        if tx_value:
            response["tx_code_value"] = tx_value
        return response

    def _offerable_config(self, tenant: Tenant, request: OfferRequest) -> CredentialConfig:
        config = self.settings.configurations.get(request.config_id)
        if config is None:
            raise ApiError(400, "unknown_credential_configuration", f"credential.config_id: "
                           f"{request.config_id!r} is not a credential configuration of this "
                           f"issuer (known: {', '.join(sorted(self.settings.configurations))})",
                           "credential.config_id")
        if not tenant.may_offer(config.id):
            raise ApiError(403, "forbidden", f"credential.config_id: this API key may not offer "
                           f"{config.id}", "credential.config_id")
        return config

    async def _signing_path(self, tenant: Tenant, request: OfferRequest
                            ) -> tuple[str, str | None, _OfferKey | None]:
        """(signing, issuer_did, offer-scoped key). Checks 403 registration and key match."""
        if request.issuer_did is not None:
            if not tenant.may_use_did(request.issuer_did):
                raise ApiError(403, "forbidden", "issuer_did: this DID is not registered under "
                               "the caller's tenant", "issuer_did")
            key = await self._offer_key(request.issuer_did, request.issuer_private_key or "")
            return "did", request.issuer_did, key
        if tenant.signing == "x509":
            if self.settings.x509 is None:
                raise ApiError(500, "x509_not_configured", "this deployment has no X.509 signer")
            return "x509", None, None
        identity = await self.default_issuer.identity()
        return "default", identity.did, None

    async def _offer_key(self, did: str, private_key: str) -> _OfferKey:
        """The caller's key must be the one the DID document names for assertions (400 if not).
        Neither the key nor anything derived from it appears in an error."""
        try:
            document = await self.resolver.resolve(did)
        except ResolutionError as exc:
            if exc.reason == "resolver_unreachable":
                raise ApiError(503, "ledger_unreachable", f"issuer_did: cannot resolve {did}: "
                               "the ledger is unreachable", "issuer_did") from None
            raise bad("issuer_did", f"cannot be resolved ({exc.reason})") from None
        except DidError as exc:
            raise bad("issuer_did", exc.message) from None
        try:
            public = _assertion_key(document)
            key = private_key_from_b64u(private_key, public.key.alg, "issuer_private_key")
        except (DidError, JoseError):
            raise bad("issuer_private_key", "is not a base64url raw private key of the type "
                      "issuer_did's assertion key uses") from None
        if key.public.to_jwk() != public.key.to_jwk():
            raise bad("issuer_private_key", "does not match the assertionMethod key of issuer_did")
        return _OfferKey(key, public.kid)

    def _notarize(self, request: OfferRequest, signing: str, issuer_did: str | None) -> bool:
        on_iota = issuer_did is not None and parse_did(issuer_did).method == "iota"
        if request.notarize_on_iota and not on_iota:
            raise bad("notarize_on_iota", "true requires a did:iota issuer; X.509 and other DID "
                      "issuers cannot notarize (issuer seed, On-chain notarization)")
        return on_iota if request.notarize_on_iota is None else request.notarize_on_iota

    # --- the Credential Offer object (§4.1.3) -----------------------------------------------

    def credential_offer(self, offer_id: str) -> dict[str, Any]:
        offer = self.db.offer(parse_uuid(offer_id, "offer_id"))
        if offer is None:
            raise ApiError(404, "not_found", f"no credential offer {offer_id}")
        if self.clock.now() >= offer.expires_at:
            raise ApiError(410, "offer_expired", f"credential offer {offer_id} expired at "
                           f"{iso(offer.expires_at)}")
        tx = TxCode(**offer.tx_code) if offer.tx_code else None
        return CredentialOffer(offer.credential_issuer, (offer.config_id,),
                               PreAuthorizedGrant(self._code(offer.offer_id), tx)).to_json()

    def _code(self, offer_id: str) -> str:
        """The offer's pre-authorized code: HMAC of its id under a key derived from the
        deployment secret. Only its digest is stored, yet a restarted issuer with the same
        secret still serves every offer."""
        mac = hmac.new(self._code_key, offer_id.encode(), hashlib.sha256).digest()
        return b64u_encode(mac)

    # --- token endpoint (§6) ----------------------------------------------------------------

    def token(self, params: list[tuple[str, str]]) -> dict[str, Any]:
        request = parse_token_request(params)
        offer = self.db.offer_by_code(request.pre_authorized_code)
        now = self.clock.now()
        if offer is None:
            raise oid4vci_error("invalid_grant", "the pre-authorized code is not known here",
                                "pre-authorized_code", "code_unknown")
        if now >= offer.expires_at:
            raise oid4vci_error("invalid_grant", f"the pre-authorized code expired with its offer "
                                f"at {iso(offer.expires_at)}", "pre-authorized_code", "code_expired")
        if offer.code_used_at is not None:
            raise oid4vci_error("invalid_grant", "the pre-authorized code was already used; it is "
                                "single use (§4.1.1)", "pre-authorized_code", "code_used")
        self._check_tx_code(offer, request.tx_code)
        if not self.db.redeem_code(offer.offer_id, now):
            raise oid4vci_error("invalid_grant", "the pre-authorized code was already used",
                                "pre-authorized_code", "code_used")
        access_token = secrets.token_urlsafe(32)
        ttl = int(min(self.settings.access_token_ttl, max(1, offer.expires_at - now)))
        self.db.add_token(access_token, offer.offer_id, now + ttl)
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
        if offer.tx_attempts >= self.settings.tx_code_attempts:
            raise oid4vci_error("invalid_grant", "too many wrong tx_code attempts; the offer is "
                                "no longer redeemable", "tx_code", "tx_code_locked")
        if not secrets.compare_digest(digest(tx_code), offer.tx_code_hash):
            self.db.count_tx_failure(offer.offer_id)
            raise oid4vci_error("invalid_grant", "the tx_code is wrong (§6.3)", "tx_code",
                                "tx_code_wrong")

    # --- nonce endpoint (§7) ----------------------------------------------------------------

    def nonce(self) -> dict[str, Any]:
        c_nonce = secrets.token_urlsafe(24)
        self.db.add_nonce(c_nonce, self.clock.now() + self.settings.nonce_ttl)
        return NonceResponse(c_nonce).to_json()

    # --- credential endpoint (§8) -----------------------------------------------------------

    async def credential(self, authorization: str | None, body: Any) -> dict[str, Any]:
        offer = self._offer_for_token(authorization)
        request = parse_credential_request(body)
        config = self._requested_config(offer, request.credential_configuration_id,
                                        request.credential_identifier)
        proof = await self.proofs.verify(offer, config, request.proof_type, request.proofs)
        signer = await self._signer(offer)
        return self._issue(offer, config, proof, signer)

    def _offer_for_token(self, authorization: str | None) -> OfferRow:
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
        if offer.issued_at is not None:
            raise oid4vci_error("credential_request_denied", "the credential of this offer was "
                                "already issued", None, "already_issued")
        return offer

    def _requested_config(self, offer: OfferRow, config_id: str | None,
                          identifier: str | None) -> CredentialConfig:
        if identifier is not None:
            raise oid4vci_error("unknown_credential_identifier", "this issuer returns no "
                                "credential_identifiers; use credential_configuration_id",
                                "credential_identifier")
        config = self.settings.configurations.get(config_id or "")
        if config is None:
            raise oid4vci_error("unknown_credential_configuration", f"{config_id!r} is not in "
                                "credential_configurations_supported", "credential_configuration_id")
        if config.id != offer.config_id:
            raise oid4vci_error("invalid_credential_request", f"the access token covers "
                                f"{offer.config_id!r}, not {config.id!r} (§6.1)",
                                "credential_configuration_id", "configuration_not_offered")
        return config

    async def _signer(self, offer: OfferRow) -> Signer:
        if offer.signing == "x509":
            x509 = self.settings.x509
            assert x509 is not None
            return Signer(x509.key, {"x5c": list(x509.x5c)}, offer.credential_issuer, None)
        if offer.signing == "did":
            held = self._offer_keys.get(offer.offer_id)
            if held is None:
                raise oid4vci_error("credential_request_denied", "the issuer key of this offer was "
                                    "held in memory only and is gone after a restart of the issuer; "
                                    "the issuer must create a new offer", None, "offer_key_lost")
            did = offer.issuer_did or ""
            return Signer(held.key, {"kid": held.kid}, did, did)
        identity: Identity = await self.default_issuer.identity()
        return Signer(self.default_issuer.key, {"kid": identity.kid}, identity.did, identity.did)

    def _issue(self, offer: OfferRow, config: CredentialConfig, proof: VerifiedProof,
               signer: Signer) -> dict[str, Any]:
        """Everything after the last await: nonce, offer and status index are taken atomically."""
        now = self.clock.now()
        credential_id = str(uuid.uuid4())
        with self.db.db.transaction():
            if proof.nonce is None or not self.db.spend_nonce(proof.nonce, now):
                raise oid4vci_error("invalid_nonce", "key proof: the c_nonce was used meanwhile; "
                                    "fetch a new one (§7)", "nonce", "nonce_invalid")
            if not self.db.mark_issued(offer.offer_id, now):
                raise oid4vci_error("credential_request_denied", "the credential of this offer "
                                    "was already issued", None, "already_issued")
            entry = self.status_lists.allocate(now)
            issued = self._sign(offer, config, proof, signer, entry, now)
            self.db.add_credential(CredentialRow(
                credential_id=credential_id, offer_id=offer.offer_id, tenant=offer.tenant,
                issuer_did=signer.did, holder_did=proof.did or offer.holder_did, vct=config.vct,
                format=FORMAT, status="ACTIVE", notarize=offer.notarize,
                on_chain_status="PENDING" if offer.notarize else None, object_id=None,
                request_id=None, issuer_jwt=issued.issuer_jwt, list_id=entry.list_id,
                idx=entry.idx, issued_at=now, expires_at=_expiry(config, now), revoked_at=None,
                notarized_at=None, webhook_at=None))
        self._offer_keys.pop(offer.offer_id, None)
        if offer.notarize:
            self.notarizer.start(credential_id)
        return CredentialResponse((issued.serialize(),)).to_json()

    def _sign(self, offer: OfferRow, config: CredentialConfig, proof: VerifiedProof,
              signer: Signer, entry: StatusEntry, now: float) -> Any:
        payload: dict[str, Any] = {
            "iss": signer.iss, "vct": config.vct, "iat": int(now),
            "cnf": {"jwk": proof.key.to_jwk()},
            "status": {"status_list": {"idx": entry.idx,
                                       "uri": self.status_lists.uri(entry.list_id)}},
        }
        expiry = _expiry(config, now)
        if expiry is not None:
            payload["exp"] = int(expiry)
        return issue_sd_jwt_vc(issuer_key=signer.key, header=signer.header, payload=payload,
                               claims=offer.claims, decoys=self.settings.decoys)

    # --- records and status (management API) ------------------------------------------------

    def _owned_offer(self, tenant: Tenant, offer_id: str) -> OfferRow:
        offer = self.db.offer(parse_uuid(offer_id, "offer_id"))
        if offer is None or offer.tenant != tenant.id:
            # Unknown and not-owned are deliberately the same answer (issuer seed, Step 3).
            raise ApiError(404, "not_found", f"offer {offer_id} not found")
        return offer

    def credential_records(self, tenant: Tenant, offer_id: str) -> list[dict[str, Any]]:
        offer = self._owned_offer(tenant, offer_id)
        return [self._record(row) for row in self.db.credentials_of_offer(offer.offer_id)]

    def _record(self, row: CredentialRow) -> dict[str, Any]:
        status = row.status
        if status != "REVOKED" and row.expires_at is not None and self.clock.now() >= row.expires_at:
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
        row = self.db.credential(parse_uuid(credential_id, "credential_id"))
        if row is None or row.tenant != tenant.id:
            raise ApiError(404, "not_found", f"credential {credential_id} not found")
        status = body.str("status", required=True, choices=RECORD_STATUSES)
        if row.status == "REVOKED" and status != "REVOKED":
            raise ApiError(409, "credential_revoked", "a revoked credential stays revoked (Token "
                           "Status List §7.1: INVALID is final)", "status")
        now = self.clock.now()
        with self.db.db.transaction():
            self.status_lists.set(StatusEntry(row.list_id, row.idx), status)  # type: ignore[arg-type]
            revoked_at = row.revoked_at or (now if status == "REVOKED" else None)
            self.db.update_credential(row.credential_id, status=status, revoked_at=revoked_at)
        return self._record(self.db.credential(row.credential_id))  # type: ignore[arg-type]

    async def status_list_token(self, list_id: str) -> str:
        if not self.status_lists.exists(list_id):
            raise ApiError(404, "not_found", f"no status list {list_id}")
        identity = await self.default_issuer.identity()
        return self.status_lists.token(list_id, key=self.default_issuer.key, kid=identity.kid,
                                       iss=identity.did, now=self.clock.now(),
                                       ttl=self.settings.status_list_ttl)


def _derive_code_key(key: PrivateKey) -> bytes:
    # A distinct label keeps the derived MAC key independent of the signing use (RFC 5869 §3.2).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"vc-conformance issuer: pre-authorized codes").derive(key.raw())


def _expiry(config: CredentialConfig, now: float) -> float | None:
    return now + config.lifetime if config.lifetime else None


def _tx_code_value(tx_code: TxCode) -> str:
    length = tx_code.length or 6
    numeric = tx_code.input_mode == "numeric"
    alphabet = string.digits if numeric else string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class _AssertionKey:
    key: PublicKey
    kid: str


def _assertion_key(document: dict[str, Any]) -> _AssertionKey:
    """The document's first assertionMethod key and its verification method id."""
    key = verification_key(document, None, "assertionMethod")
    for method in document.get("verificationMethod", []):
        if isinstance(method, dict) and method_key(method).to_jwk() == key.to_jwk():
            vm_id = method["id"]
            return _AssertionKey(key, vm_id if not vm_id.startswith("#") else document["id"] + vm_id)
    raise DidError("verification_method_not_found", "the assertion key has no verification "
                   "method id")

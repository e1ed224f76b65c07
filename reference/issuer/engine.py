"""The one issuer engine: offers, signing, the Token Status List, notarization and the OID4VCI
1.0 wire (wire.py), shared by every management API surface.

The wire (wire.py) drives the engine. A surface (the TCS API in tcs.py, the EUDIW connector in reference/eudiw, the organisation wallet
in reference/orgwallet) parses its own request bodies, builds an `OfferSpec` and renders the
engine's state in its own words; it never signs, never speaks OID4VCI and keeps no second copy
of an offer's lifecycle. It learns about changes through `subscribe(surface, listener)`: after
each state change of one of its offers the engine calls `listener(offer_id)` (synchronously,
after the change is committed), and the surface reads `offer(offer_id)` again.

Identifiers: each tenant is its own Credential Issuer, `{base_url}/{tenant}` (the issuer seed
discovers configurations at `/.well-known/openid-credential-issuer/:tenant`); its metadata is
at the well-known URL that identifier yields (OID4VCI 1.0 §12.2.2). The token, nonce,
credential, deferred credential and notification endpoints are shared; an access token belongs
to one offer, hence to one issuer.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import string
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key
from conformance.protocol.oid4vci import CredentialResponse, TxCode, build_offer_link, oid4vci_error
from conformance.resolver import DidResolver
from reference.common.clock import Clock
from reference.common.errors import ApiError
from reference.common.store import Store
from reference.issuer.configs import CredentialConfig
from reference.issuer.identity import DefaultIssuer
from reference.issuer.notarize import Notarizer
from reference.issuer.proofs import ProofChecker
from reference.issuer.settings import IssuerSettings, Tenant
from reference.issuer.signing import (
    Holder,
    Signer,
    Signers,
    SigningPath,
    StatusRef,
    expiry,
    sign_credential,
)
from reference.issuer.status import STATUS_VALUES, StatusEntry, StatusLists
from reference.issuer.store import CredentialRow, IssuerStore, OfferRow, TransactionRow, digest
from reference.issuer.tasks import TaskSet

log = logging.getLogger("reference.issuer")

FORMAT = "dc+sd-jwt"
SURFACES = ("tcs", "eudiw", "orgwallet")
OFFER_SCHEMES = ("openid-credential-offer://", "haip://")
# Why an offer can no longer be completed; every surface reports these (stable codes).
FAILURES = {
    "tx_code_locked": "too many wrong tx_code attempts; the offer is no longer redeemable",
    "issuance_denied": "the issuer denied the issuance",
    "offer_key_lost": "the offer-scoped issuer key is gone after a restart of the issuer",
}
Listener = Callable[[str], None]


@dataclass(frozen=True)
class OfferSpec:
    """What a surface asks the engine for. `claims` None: a deferred offer whose claims the
    backend supplies later (`supply_claims`). `tx_code_value`: the value the caller chose (the
    organisation wallet's userPin); None with a `tx_code` lets the engine draw one."""

    surface: str
    tenant: Tenant
    config: CredentialConfig
    claims: Mapping[str, Any] | None
    expires_in: int
    signing: SigningPath
    holder_did: str | None = None
    notarize: bool = False
    callback_url: str | None = None
    tx_code: TxCode | None = None
    tx_code_value: str | None = field(default=None, repr=False)
    deferred: bool = False
    link_scheme: str = OFFER_SCHEMES[0]

    def __post_init__(self) -> None:
        assert self.surface in SURFACES, self.surface
        assert self.link_scheme in OFFER_SCHEMES, self.link_scheme
        assert self.claims is not None or self.deferred, "only deferred offers may lack claims"
        assert self.tx_code_value is None or self.tx_code is not None


@dataclass(frozen=True)
class CreatedOffer:
    offer_id: str
    offer_uri: str           # the Credential Offer by reference (§4.1.3), on the wire host
    deep_link: str           # `<scheme>?credential_offer_uri=...` (§4.1)
    expires_at: float
    tx_code_value: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Answer:
    """A wire answer whose status is not always 200 (deferred issuance answers 202, §8.3)."""

    body: dict[str, Any]
    status: int = 200


class IssuerEngine:
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
        self.signers = Signers(settings, self.default_issuer)
        self._code_key = _derive(self.default_issuer.key, b"pre-authorized codes")
        self._tx_key = _derive(self.default_issuer.key, b"transaction codes")
        self._listeners: dict[str, list[Listener]] = {}
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

    def _find_tenant(self, tenant_id: str) -> Tenant | None:
        return next((t for t in self.settings.tenants if t.id == tenant_id), None)

    def tenant(self, tenant_id: str) -> Tenant:
        tenant = self._find_tenant(tenant_id)
        if tenant is None:
            raise ApiError(404, "not_found", f"no credential issuer {tenant_id!r} here")
        return tenant

    def surface_tenant(self, tenant_id: str) -> Tenant:
        """The tenant a surface issues as; a deployment error (not an API one) if missing."""
        tenant = self._find_tenant(tenant_id)
        if tenant is None:
            raise ValueError(f"the issuer has no tenant {tenant_id!r} for this surface (see "
                             "fixtures/issuer/tenants.yaml)")
        return tenant

    # --- events -----------------------------------------------------------------------------

    def subscribe(self, surface: str, listener: Listener) -> None:
        assert surface in SURFACES, surface
        self._listeners.setdefault(surface, []).append(listener)

    def notify(self, offer: OfferRow | str) -> None:
        """Tell the offer's surface that the offer changed. A failing listener is logged: the
        wire answer does not depend on what a surface does with the news."""
        row = self.db.offer(offer) if isinstance(offer, str) else offer
        if row is None:
            return
        for listener in self._listeners.get(row.surface, ()):
            try:
                listener(row.offer_id)
            except Exception:  # noqa: BLE001 - a surface bug must not break the wire
                log.exception("listener of surface %s failed for offer %s", row.surface,
                              row.offer_id)

    # --- offers -----------------------------------------------------------------------------

    async def signing_path(self, tenant: Tenant) -> SigningPath:
        return await self.signers.path_for(tenant)

    def create_offer(self, spec: OfferSpec) -> CreatedOffer:
        now = self.clock.now()
        offer_id = str(uuid.uuid4())
        tx_value = spec.tx_code_value
        if spec.tx_code is not None and tx_value is None:
            tx_value = _tx_code_value(spec.tx_code)
        self.db.add_offer(OfferRow(
            offer_id=offer_id, surface=spec.surface, tenant=spec.tenant.id,
            config_id=spec.config.id,
            claims=dict(spec.claims) if spec.claims is not None else None,
            credential_issuer=self.issuer_identifier(spec.tenant.id), signing=spec.signing.kind,
            issuer_did=spec.signing.issuer_did, holder_did=spec.holder_did,
            notarize=spec.notarize, callback_url=spec.callback_url,
            code_hash=digest(self.pre_authorized_code(offer_id)),
            tx_code=spec.tx_code.to_json() if spec.tx_code else None,
            tx_code_hash=self.tx_digest(offer_id, tx_value) if tx_value else None, tx_attempts=0,
            deferred=spec.deferred, created_at=now, expires_at=now + spec.expires_in))
        if spec.signing.offer_key is not None:
            self.signers.hold(offer_id, spec.signing.offer_key)
        offer_uri = f"{self.base_url}/v1/offers/{offer_id}"
        return CreatedOffer(offer_id, offer_uri,
                            build_offer_link(offer_uri=offer_uri, base=spec.link_scheme),
                            now + spec.expires_in, tx_value)

    def offer(self, offer_id: str) -> OfferRow | None:
        return self.db.offer(offer_id)

    def credential_of(self, offer_id: str) -> CredentialRow | None:
        rows = self.db.credentials_of_offer(offer_id)
        return rows[0] if rows else None

    def configuration(self, config_id: str) -> CredentialConfig | None:
        return self.settings.configurations.get(config_id)

    def pre_authorized_code(self, offer_id: str) -> str:
        """HMAC of the offer id under a key derived from the deployment secret. Only its digest
        is stored, yet a restarted issuer with the same secret still serves every offer."""
        return b64u_encode(hmac.new(self._code_key, offer_id.encode(), hashlib.sha256).digest())

    def tx_digest(self, offer_id: str, value: str) -> str:
        """A transaction code is short (a 6-digit code has 10^6 values), so a plain hash would
        give it away: keyed with the deployment secret and salted with the offer id."""
        message = f"{offer_id}\x00{value}".encode()
        return hmac.new(self._tx_key, message, hashlib.sha256).hexdigest()

    # --- lifecycle changes a surface may ask for --------------------------------------------

    def fail(self, offer_id: str, failure: str, detail: str | None = None) -> bool:
        assert failure in FAILURES, failure
        changed = self.db.mark_failed(offer_id, failure, detail or FAILURES[failure],
                                      self.clock.now())
        if changed:
            self.notify(offer_id)
        return changed

    def supply_claims(self, offer_id: str, claims: Mapping[str, Any] | None) -> bool:
        """Deferred issuance: the backend's claims are ready (None: those given with the offer).
        False when the offer is not waiting for them any more."""
        offer = self.db.offer(offer_id)
        if offer is None or not offer.deferred:
            return False
        data = dict(claims) if claims is not None else offer.claims
        if data is None or not self.db.supply_claims(offer_id, data, self.clock.now()):
            return False
        self.notify(offer_id)
        return True

    def set_credential_status(self, row: CredentialRow, status: str) -> CredentialRow:
        """ACTIVE | SUSPENDED | REVOKED through the credential's Token Status List entry.
        REVOKED is final (Token Status List §7.1: INVALID)."""
        assert status in STATUS_VALUES, status
        if row.status == "REVOKED" and status != "REVOKED":
            raise ApiError(409, "credential_revoked", "a revoked credential stays revoked (Token "
                           "Status List §7.1: INVALID is final)", "status")
        now = self.clock.now()
        with self.db.db.transaction():
            self.status_lists.set(StatusEntry(row.list_id, row.idx), status)
            revoked_at = row.revoked_at or (now if status == "REVOKED" else None)
            self.db.update_credential(row.credential_id, status=status, revoked_at=revoked_at)
        self.notify(row.offer_id)
        return self.db.credential(row.credential_id)  # type: ignore[return-value]

    async def status_list_token(self, list_id: str) -> str:
        if not self.status_lists.exists(list_id):
            raise ApiError(404, "not_found", f"no status list {list_id}")
        identity = await self.default_issuer.identity()
        return self.status_lists.token(list_id, key=self.default_issuer.key, kid=identity.kid,
                                       iss=identity.did, now=self.clock.now(),
                                       ttl=self.settings.status_list_ttl)

    # --- issuance (called by the wire, after the key proof was verified) --------------------

    def issue(self, offer: OfferRow, config: CredentialConfig, holder: Holder, signer: Signer, *,
              nonce: str | None = None, transaction: TransactionRow | None = None
              ) -> dict[str, Any]:
        """Everything after the last await, atomically: the nonce (immediate issuance) or the
        transaction (deferred), the offer and the status index are taken together."""
        assert offer.claims is not None
        now = self.clock.now()
        credential_id = str(uuid.uuid4())
        notification_id = secrets.token_urlsafe(16)
        with self.db.db.transaction():
            self._take(offer, nonce, transaction, now)
            if not self.db.mark_issued(offer.offer_id, now, notification_id):
                raise oid4vci_error("credential_request_denied", "the credential of this offer "
                                    "was already issued", None, "already_issued")
            entry = self.status_lists.allocate(now)
            issued = sign_credential(config=config, claims=offer.claims, holder=holder,
                                     signer=signer, decoys=self.settings.decoys, now=now,
                                     status=StatusRef(self.status_lists.uri(entry.list_id),
                                                      entry.idx))
            self.db.add_credential(CredentialRow(
                credential_id=credential_id, offer_id=offer.offer_id, tenant=offer.tenant,
                issuer_did=signer.did, holder_did=holder.did or offer.holder_did, vct=config.vct,
                format=FORMAT, status="ACTIVE", notarize=offer.notarize,
                on_chain_status="PENDING" if offer.notarize else None, object_id=None,
                request_id=None, issuer_jwt=issued.issuer_jwt, list_id=entry.list_id,
                idx=entry.idx, issued_at=now, expires_at=expiry(config, now), revoked_at=None,
                notarized_at=None, webhook_at=None))
        self.signers.release(offer.offer_id)
        if offer.notarize:
            self.notarizer.start(credential_id)
        self.notify(offer.offer_id)
        return CredentialResponse((issued.serialize(),), notification_id=notification_id).to_json()

    def _take(self, offer: OfferRow, nonce: str | None, transaction: TransactionRow | None,
              now: float) -> None:
        if transaction is not None:
            if not self.db.collect_transaction(transaction.tx_hash, now):
                raise oid4vci_error("invalid_transaction_id", "the credential of this transaction "
                                    "was already obtained (§9.1)", "transaction_id", "collected")
            return
        if nonce is None or not self.db.spend_nonce(nonce, now):
            raise oid4vci_error("invalid_nonce", "key proof: the c_nonce was used meanwhile; "
                                "fetch a new one (§7)", "nonce", "nonce_invalid")

    def defer(self, offer: OfferRow, holder: Holder, nonce: str | None) -> Answer:
        """§8.3: not issuable yet. The proof's key is kept (public only) for the credential the
        Deferred Credential Endpoint will hand out; the access token lives as long."""
        now = self.clock.now()
        transaction_id = secrets.token_urlsafe(32)
        until = now + self.settings.deferred_ttl
        with self.db.db.transaction():
            self._take(offer, nonce, None, now)
            if not self.db.mark_deferred(offer.offer_id, now):
                raise oid4vci_error("credential_request_denied", "this offer's credential was "
                                    "already requested; fetch it at the Deferred Credential "
                                    "Endpoint", None, "already_deferred")
            self.db.add_transaction(TransactionRow(digest(transaction_id), offer.offer_id,
                                                   dict(holder.jwk), holder.did, now, until, None))
            self.db.extend_tokens(offer.offer_id, until)
        self.notify(offer.offer_id)
        return Answer(CredentialResponse(transaction_id=transaction_id,
                                         interval=self.settings.deferred_interval).to_json(), 202)


def _derive(key: PrivateKey, label: bytes) -> bytes:
    # A distinct label keeps each derived MAC key independent of the signing use (RFC 5869 §3.2).
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=b"vc-conformance issuer: " + label).derive(key.raw())


def _tx_code_value(tx_code: TxCode) -> str:
    length = tx_code.length or 6
    numeric = tx_code.input_mode == "numeric"
    alphabet = string.digits if numeric else string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))

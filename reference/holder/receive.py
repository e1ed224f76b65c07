"""Receiving a credential (/v1/oid4vci/*): the wallet side of the OID4VCI 1.0 pre-authorized
code flow, done on the user's behalf with the private key they pass in.

offer link -> Credential Offer (§4.1.3: GET credential_offer_uri) -> Credential Issuer Metadata
(§12.2.2) -> Authorization Server Metadata (RFC 8414) -> Token Request with the pre-authorized
code and `tx_code` (§6.1) -> c_nonce (§7) -> key proof JWT (Appendix F.1) -> Credential Request
(§8.2) -> the SD-JWT VC, checked (issuer signature, holder binding, vct) and stored.

Seed deviations handled here:
- `credential_offer_uri` is given the `openid-credential-offer://` deep link (a plain https
  offer URI is accepted too);
- `notarize_on_iota` (default true) anchors the credential's Issuer-signed JWT on the ledger
  through this service (notarize.py): a holder-side anchor, separate from the notarization the
  issuer decides at offer creation (issuer seed: the credential request cannot change that one).
  An issuer-reported `reference` that the ledger confirms is reused instead of anchoring twice.
  The 201 body carries `on_chain_status` and, once anchored, `reference {chain, object_id}`;
- `user_pin` is the seed's name for the OID4VCI `tx_code`.

Checking what arrives (SD-JWT VC §3.4 as a holder): the issuer's key is found with
`conformance.issuer_keys` (shared with the verifier). The pre-authorized code is spent once the
issuer has answered, so a credential whose key cannot be fetched right now (ledger or metadata
host unreachable) is kept with the note `issuer_signature_unchecked` rather than lost; one whose
key is wrong, or whose signature fails, is refused (502 invalid_credential).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.issuer_keys import IssuerKeyError, IssuerKeys
from conformance.protocol.did import parse_did
from conformance.protocol.errors import DidError, Oid4vciError, ProtocolError
from conformance.protocol.jose import PrivateKey
from conformance.protocol.oid4vci import (
    FORMAT_SD_JWT_VC,
    PRE_AUTHORIZED_GRANT,
    AuthorizationServerMetadata,
    CredentialOffer,
    IssuerMetadata,
    TokenRequest,
    build_credential_request,
    build_proof_jwt,
    parse_authorization_server_metadata,
    parse_credential_offer,
    parse_credential_response,
    parse_issuer_metadata,
    parse_nonce_response,
    parse_offer_link,
    parse_token_response,
    well_known_url,
)
from conformance.protocol.sdjwt import verify_sd_jwt
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError
from reference.holder.credentials import Wallet
from reference.holder.dids import DidService, signing_key
from reference.holder.held import HeldCredential
from reference.holder.notarize import NO_LEDGER_NOTE, NOT_APPLICABLE_NOTE, LedgerNotary
from reference.holder.outbound import ISSUER, Outbound
from reference.holder.store import CredentialRow, DidRow, HolderStore

X5C_UNVERIFIED_NOTE = {
    "code": "x5c_chain_not_validated",
    "message": "the issuer signed with an x5c certificate chain; the holder checked the chain's "
               "consistency and the signature with the leaf certificate's key, but has no trust "
               "anchors configured to validate the chain against (the verifier does)",
}
SIGNATURE_UNCHECKED_NOTE = {
    "code": "issuer_signature_unchecked",
    "message": "the issuer's key could not be resolved when the credential arrived, so its "
               "signature is unchecked; the credential was kept because its code is spent",
}
# Offer members outside OID4VCI §4.1.1 that the seed's consent screen shows.
_OFFER_EXPIRY_MEMBERS = ("expires_at", "exp")


@dataclass(frozen=True)
class LoadedOffer:
    offer: CredentialOffer
    raw: Mapping[str, Any]
    metadata: IssuerMetadata


def _issuer_error(status: int, body: Any) -> str:
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        description = body.get("error_description")
        return f"{body['error']}" + (f": {description}" if isinstance(description, str) else "")
    return f"HTTP {status}"


class Receiver:
    def __init__(self, store: HolderStore, clock: Clock, out: Outbound, keys: IssuerKeys,
                 dids: DidService, wallet: Wallet, notary: LedgerNotary | None) -> None:
        self.store, self.clock, self.out, self.keys = store, clock, out, keys
        self.dids, self.wallet, self.notary = dids, wallet, notary

    # --- offer-details -----------------------------------------------------------------------

    async def offer_details(self, link: str) -> dict[str, Any]:
        loaded = await self._load(link)
        offer, metadata = loaded.offer, loaded.metadata
        display = _first(metadata.display)
        grant = offer.pre_authorized
        out: dict[str, Any] = {
            "issuer": offer.credential_issuer,
            "issuer_name": display.get("name"),
            "issuer_logo_uri": _logo(display),
            "credential_configurations": [_configuration(metadata, cid)
                                          for cid in offer.credential_configuration_ids],
            "pre_authorized_code_grant": None,
            "expires_at": _offer_expiry(loaded.raw),
        }
        if grant is not None:
            out["pre_authorized_code_grant"] = {
                "pre_authorized_code": grant.code,
                "user_pin_required": grant.tx_code is not None,
                "tx_code": grant.tx_code.to_json() if grant.tx_code is not None else None,
            }
        return out

    async def _load(self, link: str) -> LoadedOffer:
        try:
            parsed = parse_offer_link(link)
        except Oid4vciError as exc:
            raise ApiError(400, "invalid_uri", exc.message, "credential_offer_uri") from None
        raw: Any = parsed.offer.to_json() if parsed.offer is not None else None
        if parsed.offer_uri is not None:
            status, raw = await self.out.json(ISSUER, "GET", parsed.offer_uri,
                                              headers={"Accept": "application/json"})
            if status != 200:
                raise ApiError(400, "offer_unavailable", "the issuer answered the credential offer "
                               f"URI with {_issuer_error(status, raw)}: the offer is unknown, "
                               "expired or already used", "credential_offer_uri")
        try:
            offer = parse_credential_offer(raw)
        except Oid4vciError as exc:
            raise ApiError(400, "invalid_uri", f"not an OID4VCI credential offer: {exc.message}",
                           "credential_offer_uri") from None
        return LoadedOffer(offer, raw, await self._metadata(offer.credential_issuer))

    async def _metadata(self, issuer: str) -> IssuerMetadata:
        url = well_known_url(issuer, "openid-credential-issuer")
        status, body = await self.out.json(ISSUER, "GET", url, headers={"Accept": "application/json"})
        if status != 200:
            raise ApiError(502, "issuer_unavailable", f"the issuer has no Credential Issuer Metadata "
                           f"at {url} (HTTP {status})")
        try:
            return parse_issuer_metadata(body, expected_issuer=issuer)
        except Oid4vciError as exc:
            raise ApiError(502, "invalid_issuer_metadata", exc.message) from None

    async def _authorization_server(self, metadata: IssuerMetadata) -> AuthorizationServerMetadata:
        issuer = metadata.authorization_server
        for suffix in ("oauth-authorization-server", "openid-configuration"):
            status, body = await self.out.json(ISSUER, "GET", well_known_url(issuer, suffix))
            if status == 200:
                try:
                    return parse_authorization_server_metadata(body, expected_issuer=issuer)
                except Oid4vciError as exc:
                    raise ApiError(502, "invalid_issuer_metadata", exc.message) from None
        raise ApiError(502, "issuer_unavailable", f"the authorization server {issuer} publishes no "
                       "metadata (RFC 8414 §3)")

    # --- receive -----------------------------------------------------------------------------

    async def receive(self, owner: str, *, offer_uri: str, holder_did: str, private_key: str,
                      configuration_id: str | None, user_pin: str | None,
                      notarize_on_iota: bool) -> dict[str, Any]:
        did_row = self.dids.owned(owner, holder_did)
        key = signing_key(did_row, private_key)
        loaded = await self._load(offer_uri)
        config_id = _choose_configuration(loaded, configuration_id)
        access_token = await self._token(loaded, user_pin)
        credential, offered = await self._credential(loaded.metadata, config_id, access_token,
                                                     key, did_row)
        row = await self._store(owner, did_row, loaded.metadata, config_id, credential,
                                notarize_on_iota)
        if notarize_on_iota and self.notary and _anchor_blocker(row.issuer_did, self.notary) is None:
            issuer_jwt = credential.split("~", 1)[0]
            self.store.record_anchor(row.id, await self.notary.anchor(issuer_jwt, offered))
        row, status = await self.wallet.current(row)
        out: dict[str, Any] = {
            "credential_id": row.id, "vct": row.vct, "schema_id": row.vct, "format": row.format,
            "issuer_did": row.issuer_did, "holder_did": row.holder_did,
            "raw_credential": row.raw_credential, "issued_at": iso(row.issued_at),
            "expires_at": iso(row.expires_at), "status": status.value,
            "on_chain_status": row.on_chain_status,
        }
        if row.reference is not None:
            out["reference"] = row.reference
        if row.notarization_error is not None:
            out["notarization_error"] = row.notarization_error
        if row.notes:
            out["notes"] = row.notes
        return out

    async def _token(self, loaded: LoadedOffer, user_pin: str | None) -> str:
        grant = loaded.offer.pre_authorized
        if grant is None:
            raise ApiError(400, "unsupported_grant", "the offer has no pre-authorized code grant; only "
                           "the pre-authorized code flow is supported", "credential_offer_uri")
        if grant.tx_code is not None and user_pin is None:
            raise ApiError(400, "user_pin_required", "the issuer requires a transaction code: pass "
                           "it as user_pin", "user_pin")
        server = await self._authorization_server(loaded.metadata)
        request = TokenRequest(PRE_AUTHORIZED_GRANT, grant.code,
                               user_pin if grant.tx_code is not None else None)
        status, body = await self.out.json(ISSUER, "POST", server.token_endpoint,
                                           data=request.to_form())
        if status != 200:
            raise ApiError(400, "pre_authorized_code_invalid", "the issuer refused the pre-authorized code (offer expired, "
                           f"code consumed, wrong tenant or wrong PIN): {_issuer_error(status, body)}",
                           "credential_offer_uri")
        return _parsed(parse_token_response, body).access_token

    async def _nonce(self, metadata: IssuerMetadata) -> str | None:
        if metadata.nonce_endpoint is None:
            return None
        status, body = await self.out.json(ISSUER, "POST", metadata.nonce_endpoint)
        if status != 200:
            raise ApiError(502, "issuer_unavailable", f"the nonce endpoint answered "
                           f"{_issuer_error(status, body)}")
        return _parsed(parse_nonce_response, body).c_nonce

    async def _credential(self, metadata: IssuerMetadata, config_id: str, access_token: str,
                          key: PrivateKey, did_row: DidRow) -> tuple[str, Mapping[str, Any] | None]:
        kid = _proof_kid(metadata, config_id, did_row)
        # One retry with a fresh c_nonce: §8.3.1.2 `invalid_nonce` means exactly "get a new one".
        for attempt in range(2):
            proof = build_proof_jwt(key, aud=metadata.credential_issuer,
                                    nonce=await self._nonce(metadata), iat=int(self.clock.now()),
                                    kid=kid)
            request = build_credential_request(config_id, [proof])
            status, body = await self.out.json(
                ISSUER, "POST", metadata.credential_endpoint, json=request.to_json(),
                headers={"Authorization": f"Bearer {access_token}"})
            if status == 200:
                break
            if not (attempt == 0 and isinstance(body, Mapping) and body.get("error") == "invalid_nonce"):
                raise ApiError(400, "credential_request_rejected", "the issuer refused the credential "
                               f"request: {_issuer_error(status, body)}")
        response = _parsed(parse_credential_response, body)
        if response.transaction_id is not None:
            raise ApiError(502, "deferred_issuance_unsupported", "the issuer deferred issuance "
                           "(transaction_id); this holder supports immediate issuance only")
        credential = response.credentials[0]
        if not isinstance(credential, str):
            raise ApiError(502, "invalid_credential", "the issuer returned a credential that is not "
                           "an SD-JWT VC string")
        return credential, _offered_reference(body)

    async def _store(self, owner: str, did_row: DidRow, metadata: IssuerMetadata, config_id: str,
                     credential: str, notarize: bool) -> CredentialRow:
        held, notes = await self._checked(credential, metadata, config_id, did_row)
        status_ref = held.status_reference
        issuer = held.issuer or metadata.credential_issuer
        blocker = _anchor_blocker(_did_or_none(issuer), self.notary) if notarize else None
        if blocker is not None:
            notes.append(blocker)
        row = CredentialRow(
            id=str(uuid.uuid4()), owner=owner, holder_did=did_row.did, format=FORMAT_SD_JWT_VC,
            vct=held.vct, issuer=issuer, issuer_did=_did_or_none(issuer), configuration_id=config_id,
            raw_credential=credential, issued_at=held.time("iat"), expires_at=held.time("exp"),
            status_uri=status_ref[0] if status_ref else None,
            status_idx=status_ref[1] if status_ref else None, status_value=None,
            status_checked_at=None, status_error=None, reference=None,
            notes=notes, created_at=self.clock.now(), deleted_at=None)
        self.store.add_credential(row)
        return row

    async def _checked(self, credential: str, metadata: IssuerMetadata, config_id: str,
                       did_row: DidRow) -> tuple[HeldCredential, list[dict[str, str]]]:
        """A wallet checks what it is given before keeping it (SD-JWT VC §3.4 as a holder):
        structure, issuer signature, the offered vct, and that it is bound to our key.

        The code is spent once the issuer has answered, so a credential whose issuer key cannot
        be fetched right now (ledger unreachable) is kept, with a note saying it is unchecked,
        rather than lost."""
        notes: list[dict[str, str]] = []
        try:
            held = HeldCredential.parse(credential)
            try:
                issuer_key = await self.keys.for_jwt(held.header, held.payload, self.clock.now())
            except IssuerKeyError as exc:
                if not exc.transient:
                    raise
                notes.append({**SIGNATURE_UNCHECKED_NOTE, "message": SIGNATURE_UNCHECKED_NOTE[
                    "message"] + f" ({exc.message})"})
                issuer_key = None
            if issuer_key is not None:
                verify_sd_jwt(held.sd_jwt, issuer_key=issuer_key.key, now=int(self.clock.now()),
                              holder_binding=None)
                if not issuer_key.anchored:
                    notes.append(X5C_UNVERIFIED_NOTE)
        except ProtocolError as exc:
            raise ApiError(502, "invalid_credential", f"the issued credential does not verify: "
                           f"{exc.message}") from None
        expected_vct = metadata.configurations[config_id].vct
        if expected_vct is not None and held.vct != expected_vct:
            raise ApiError(502, "invalid_credential", f"the issued credential has vct {held.vct!r}; "
                           f"the offered configuration {config_id} has {expected_vct!r}")
        _check_binding(held, did_row)
        return held, notes


# --- helpers ---------------------------------------------------------------------------------


def _parsed(parse: Any, body: Any) -> Any:
    try:
        return parse(body)
    except Oid4vciError as exc:
        raise ApiError(502, "invalid_issuer_response", exc.message) from None


def _first(display: tuple[Mapping[str, Any], ...]) -> Mapping[str, Any]:
    return display[0] if display and isinstance(display[0], Mapping) else {}


def _logo(display: Mapping[str, Any]) -> str | None:
    logo = display.get("logo")
    uri = logo.get("uri") if isinstance(logo, Mapping) else None
    return uri if isinstance(uri, str) else None


def _configuration(metadata: IssuerMetadata, config_id: str) -> dict[str, Any]:
    config = metadata.configurations.get(config_id)
    if config is None:
        raise ApiError(502, "invalid_issuer_metadata", f"the offer names configuration {config_id!r}, "
                       "which the issuer metadata does not describe (§4.1.1)")
    display = _first(config.display)
    return {"id": config_id, "format": config.format, "vct": config.vct,
            "display": {k: display[k] for k in ("name", "description", "locale") if k in display}}


def _offer_expiry(raw: Mapping[str, Any]) -> str | None:
    """OID4VCI offers carry no expiry; an issuer may add one (the seed shows `expires_at`)."""
    for member in _OFFER_EXPIRY_MEMBERS:
        value = raw.get(member)
        if isinstance(value, str):
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return iso(float(value))
    return None


def _choose_configuration(loaded: LoadedOffer, wanted: str | None) -> str:
    offered = loaded.offer.credential_configuration_ids
    if wanted is None:
        if len(offered) > 1:
            raise ApiError(400, "credential_configuration_id_required", "the offer advertises "
                           f"{len(offered)} configurations ({', '.join(offered)}); pass "
                           "credential_configuration_id", "credential_configuration_id")
        wanted = offered[0]
    if wanted not in offered:
        raise ApiError(400, "unknown_credential_configuration", f"{wanted!r} is not offered; the "
                       f"offer has {', '.join(offered)}", "credential_configuration_id")
    _configuration(loaded.metadata, wanted)
    return wanted


def _proof_kid(metadata: IssuerMetadata, config_id: str, did_row: DidRow) -> str | None:
    """Name the key by its DID URL when the issuer binds to DIDs of this method, else send the
    JWK (Appendix F.1: one of kid / jwk)."""
    methods = metadata.configurations[config_id].binding_methods
    did_method = f"did:{parse_did(did_row.did).method}"
    if did_method in methods or "did" in methods:
        return did_row.kid
    if "jwk" in methods or not methods:
        return None
    raise ApiError(400, "binding_method_unsupported", f"the issuer binds {config_id} to "
                   f"{', '.join(methods)}; {did_row.did} is none of them", "holder_did")


def _check_binding(held: HeldCredential, did_row: DidRow) -> None:
    cnf = held.payload.get("cnf")
    bound = (isinstance(cnf, Mapping) and (cnf.get("jwk") == did_row.public_jwk
                                           or cnf.get("kid") in (did_row.kid, did_row.did)))
    if isinstance(cnf, Mapping) and isinstance(cnf.get("jwk"), Mapping) and not bound:
        bound = held.holder_key.to_jwk() == did_row.public_jwk
    if not bound:
        raise ApiError(502, "invalid_credential", "the issued credential is not bound to the key of "
                       f"{did_row.did} (cnf)")


def _offered_reference(body: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The issuer seed's notarization block on the credential response,
    `{"chain": "iota", "object_id": "0x..."}`, when there is one. A claim only: notarize.py
    reuses it once the ledger confirms the object holds this credential."""
    reference = body.get("reference")
    return reference if isinstance(reference, Mapping) else None


def _anchor_blocker(issuer_did: str | None, notary: LedgerNotary | None) -> dict[str, str] | None:
    """Why a requested anchor cannot be made (a note kept with the credential), or None."""
    if issuer_did is None or parse_did(issuer_did).method != "iota":
        return NOT_APPLICABLE_NOTE
    if notary is None:
        return NO_LEDGER_NOTE
    return None


def _did_or_none(text: str) -> str | None:
    try:
        return parse_did(text).did
    except DidError:
        return None


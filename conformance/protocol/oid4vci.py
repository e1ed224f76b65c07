"""OpenID for Verifiable Credential Issuance 1.0: the messages of the pre-authorized code flow
and the `jwt` key proof, as typed values with parse/build functions. Pure: no I/O.

Sections cited are those of OID4VCI 1.0 (final): §4 Credential Offer, §6 Token Endpoint,
§7 Nonce Endpoint, §8 Credential Endpoint, §12 Metadata, Appendix F Proof Types.

Every failure raises `Oid4vciError` whose `reason` is the error code the specs name for it
(RFC 6749 §5.2 for the token endpoint, OID4VCI §8.3.1.2 for the credential endpoint) and
whose `detail` (an attribute set by `oid4vci_error`) is a finer, stable snake_case reason
such as `aud_mismatch` or `nonce_expired`. `ERROR_CODES` documents the codes.
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from conformance.protocol.did import parse_did_url
from conformance.protocol.errors import DidError, JoseError, Oid4vciError
from conformance.protocol.jose import PrivateKey, PublicKey, parse_jws, public_key_from_jwk, sign_jws

PRE_AUTHORIZED_GRANT = "urn:ietf:params:oauth:grant-type:pre-authorized_code"
AUTHORIZATION_CODE_GRANT = "authorization_code"
PROOF_TYP = "openid4vci-proof+jwt"
OFFER_SCHEME = "openid-credential-offer"
FORMAT_SD_JWT_VC = "dc+sd-jwt"
TX_CODE_DESCRIPTION_MAX = 300  # §4.1.1

# Error code -> (where the spec defines it, what it means). The edges map codes to statuses.
ERROR_CODES: dict[str, tuple[str, str]] = {
    "invalid_request": ("RFC 6749 §5.2; OID4VCI §6.3",
                        "malformed token request, or tx_code missing / unexpected"),
    "invalid_grant": ("RFC 6749 §5.2; OID4VCI §6.3",
                      "unknown, expired or already used pre-authorized code, or wrong tx_code"),
    "unsupported_grant_type": ("RFC 6749 §5.2", "grant_type other than the pre-authorized code"),
    "invalid_client": ("RFC 6749 §5.2; OID4VCI §6.3", "client authentication failed"),
    "invalid_token": ("RFC 6750 §3.1", "missing, unknown or expired access token"),
    "invalid_credential_request": ("OID4VCI §8.3.1.2", "malformed Credential Request"),
    "unknown_credential_configuration": ("OID4VCI §8.3.1.2",
                                         "credential_configuration_id is not in the metadata"),
    "unknown_credential_identifier": ("OID4VCI §8.3.1.2", "credential_identifier is unknown"),
    "invalid_proof": ("OID4VCI §8.3.1.2", "proofs missing, a key proof invalid, or no nonce in it"),
    "invalid_nonce": ("OID4VCI §8.3.1.2", "a key proof carries a c_nonce that is not valid"),
    "credential_request_denied": ("OID4VCI §8.3.1.2", "the issuer will not issue this credential"),
    "invalid_transaction_id": ("OID4VCI §9.3", "the transaction_id is unknown, expired or was "
                               "already used to obtain the credential"),
    "invalid_notification_id": ("OID4VCI §11.3", "the notification_id is not valid"),
    "invalid_notification_request": ("OID4VCI §11.3", "the Notification Request is malformed"),
}


def oid4vci_error(code: str, message: str, field: str | None = None,
                  detail: str | None = None) -> Oid4vciError:
    """An Oid4vciError with the spec's error code as `reason` and a finer `detail`."""
    assert code in ERROR_CODES, code
    return Oid4vciError(code, message, field, detail)


# --- small typed readers --------------------------------------------------------------------


def _obj(value: Any, name: str, code: str = "invalid_request") -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise oid4vci_error(code, f"{name} must be a JSON object", name, "not_an_object")
    return value


def _str(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True,
         code: str = "invalid_request") -> str | None:
    value = obj.get(key)
    name = f"{where}.{key}" if where else key
    if value is None:
        if required:
            raise oid4vci_error(code, f"{name} is required", name, "missing_parameter")
        return None
    if not isinstance(value, str) or not value:
        raise oid4vci_error(code, f"{name} must be a non-empty string", name, "invalid_parameter")
    return value


def _url(obj: Mapping[str, Any], key: str, where: str, *, required: bool = True,
         code: str = "invalid_request") -> str | None:
    value = _str(obj, key, where, required=required, code=code)
    if value is not None and not is_http_url(value):
        name = f"{where}.{key}" if where else key
        raise oid4vci_error(code, f"{name} must be an absolute http(s) URL, got {value!r}", name,
                            "invalid_url")
    return value


def is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_https(url: str) -> bool:
    """The specs require https for every URL here (§4.1, §12.2); the parsers accept http too so
    that local deployments work, and callers report plain http as a finding of their own."""
    return urlsplit(url).scheme == "https"


def _str_list(value: Any, name: str, code: str = "invalid_request", *,
              unique: bool = True) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise oid4vci_error(code, f"{name} must be a non-empty array of strings", name,
                            "invalid_parameter")
    if unique and len(set(value)) != len(value):
        raise oid4vci_error(code, f"{name} must not repeat values", name, "duplicate_value")
    return tuple(value)


# --- Credential Offer (§4.1) -----------------------------------------------------------------


@dataclass(frozen=True)
class TxCode:
    """§4.1.1: the Transaction Code the Authorization Server expects with the Token Request."""

    input_mode: str = "numeric"
    length: int | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if self.input_mode not in ("numeric", "text"):
            raise oid4vci_error("invalid_request", f"tx_code.input_mode must be 'numeric' or "
                                f"'text', got {self.input_mode!r} (§4.1.1)", "tx_code.input_mode",
                                "invalid_tx_code")
        if self.length is not None and (isinstance(self.length, bool)
                                        or not isinstance(self.length, int) or self.length < 1):
            raise oid4vci_error("invalid_request", f"tx_code.length must be a positive integer, "
                                f"got {self.length!r} (§4.1.1)", "tx_code.length", "invalid_tx_code")
        if self.description is not None and (not isinstance(self.description, str)
                                             or len(self.description) > TX_CODE_DESCRIPTION_MAX):
            raise oid4vci_error("invalid_request", f"tx_code.description must be a string of at "
                                f"most {TX_CODE_DESCRIPTION_MAX} characters (§4.1.1)",
                                "tx_code.description", "invalid_tx_code")

    @classmethod
    def parse(cls, value: Any, name: str = "tx_code") -> TxCode:
        obj = _obj(value, name)
        return cls(input_mode=obj.get("input_mode", "numeric"), length=obj.get("length"),
                   description=obj.get("description"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"input_mode": self.input_mode}
        if self.length is not None:
            out["length"] = self.length
        if self.description is not None:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class PreAuthorizedGrant:
    code: str = field(repr=False)
    tx_code: TxCode | None = None
    authorization_server: str | None = None


@dataclass(frozen=True)
class AuthorizationCodeGrant:
    issuer_state: str | None = None
    authorization_server: str | None = None


@dataclass(frozen=True)
class CredentialOffer:
    credential_issuer: str
    credential_configuration_ids: tuple[str, ...]
    pre_authorized: PreAuthorizedGrant | None = None
    authorization_code: AuthorizationCodeGrant | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"credential_issuer": self.credential_issuer,
                               "credential_configuration_ids": list(self.credential_configuration_ids)}
        grants: dict[str, Any] = {}
        if self.pre_authorized is not None:
            grant: dict[str, Any] = {"pre-authorized_code": self.pre_authorized.code}
            if self.pre_authorized.tx_code is not None:
                grant["tx_code"] = self.pre_authorized.tx_code.to_json()
            if self.pre_authorized.authorization_server:
                grant["authorization_server"] = self.pre_authorized.authorization_server
            grants[PRE_AUTHORIZED_GRANT] = grant
        if self.authorization_code is not None:
            grants[AUTHORIZATION_CODE_GRANT] = {
                k: v for k, v in (("issuer_state", self.authorization_code.issuer_state),
                                  ("authorization_server",
                                   self.authorization_code.authorization_server)) if v}
        if grants:
            out["grants"] = grants
        return out


def parse_credential_offer(value: Any) -> CredentialOffer:
    """§4.1.1. Unknown parameters and unknown grant types are ignored, as the spec requires."""
    obj = _obj(value, "credential_offer")
    issuer = _url(obj, "credential_issuer", "credential_offer")
    ids = _str_list(obj.get("credential_configuration_ids"),
                    "credential_offer.credential_configuration_ids")
    grants = obj.get("grants") or {}
    grants = _obj(grants, "credential_offer.grants")
    pre = grants.get(PRE_AUTHORIZED_GRANT)
    auth = grants.get(AUTHORIZATION_CODE_GRANT)
    return CredentialOffer(issuer, ids, _parse_pre_authorized(pre) if pre is not None else None,
                           _parse_authorization_code(auth) if auth is not None else None)


def _parse_pre_authorized(value: Any) -> PreAuthorizedGrant:
    where = f"credential_offer.grants.{PRE_AUTHORIZED_GRANT}"
    obj = _obj(value, where)
    code = _str(obj, "pre-authorized_code", where)
    tx = obj.get("tx_code")
    # §4.1.1: the object's presence, "even if empty", means a tx_code is required.
    tx_code = TxCode.parse(tx, f"{where}.tx_code") if tx is not None else None
    return PreAuthorizedGrant(code, tx_code, _str(obj, "authorization_server", where,
                                                  required=False))


def _parse_authorization_code(value: Any) -> AuthorizationCodeGrant:
    where = f"credential_offer.grants.{AUTHORIZATION_CODE_GRANT}"
    obj = _obj(value, where)
    return AuthorizationCodeGrant(_str(obj, "issuer_state", where, required=False),
                                  _str(obj, "authorization_server", where, required=False))


# --- offer links (§4.1, §4.1.2, §4.1.3) ----------------------------------------------------


@dataclass(frozen=True)
class OfferLink:
    """Exactly one of `offer` (by value) and `offer_uri` (by reference) is set."""

    offer: CredentialOffer | None = None
    offer_uri: str | None = None


def build_offer_link(*, offer_uri: str | None = None, offer: CredentialOffer | None = None,
                     base: str = f"{OFFER_SCHEME}://") -> str:
    if (offer_uri is None) == (offer is None):
        raise ValueError("give exactly one of offer_uri and offer")
    if offer_uri is not None:
        return f"{base}?credential_offer_uri={quote(offer_uri, safe='')}"
    text = json.dumps(offer.to_json(), separators=(",", ":"))  # type: ignore[union-attr]
    return f"{base}?credential_offer={quote(text, safe='')}"


def parse_offer_link(text: str) -> OfferLink:
    """Parse a Credential Offer link: `openid-credential-offer://?credential_offer_uri=...` or
    `...?credential_offer=<json>` (any scheme: wallets may use claimed https links too).

    A bare http(s) URL without either parameter is taken as the offer URI itself: the seeds'
    holder `receive` is handed such values as well (seeds README, deviations)."""
    if not isinstance(text, str) or not text:
        raise oid4vci_error("invalid_request", "the credential offer link must be a non-empty "
                            "string", "credential_offer_uri", "invalid_offer_link")
    parts = urlsplit(text)
    params = parse_qsl(parts.query, keep_blank_values=True)
    names = [name for name, _ in params]
    by_value = names.count("credential_offer")
    by_ref = names.count("credential_offer_uri")
    if by_value + by_ref == 0:
        if is_http_url(text):
            return OfferLink(offer_uri=text)
        raise oid4vci_error("invalid_request", f"{_clip(text)} has neither credential_offer nor "
                            "credential_offer_uri (§4.1)", "credential_offer_uri",
                            "invalid_offer_link")
    if by_value + by_ref > 1:
        raise oid4vci_error("invalid_request", "a Credential Offer link carries exactly one of "
                            "credential_offer and credential_offer_uri, once (§4.1)",
                            "credential_offer_uri", "invalid_offer_link")
    value = dict(params)
    if by_ref:
        uri = value["credential_offer_uri"]
        if not is_http_url(uri):
            raise oid4vci_error("invalid_request", f"credential_offer_uri must be an http(s) URL "
                                f"(§4.1), got {_clip(uri)}", "credential_offer_uri", "invalid_url")
        return OfferLink(offer_uri=uri)
    try:
        offer_json = json.loads(value["credential_offer"])
    except json.JSONDecodeError as exc:
        raise oid4vci_error("invalid_request", f"credential_offer is not JSON: {exc.msg}",
                            "credential_offer", "invalid_offer_link") from None
    return OfferLink(offer=parse_credential_offer(offer_json))


def _clip(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")


# --- metadata (§12.2, §12.3; RFC 8414) ------------------------------------------------------


def well_known_url(identifier: str, suffix: str) -> str:
    """Insert `/.well-known/<suffix>` between host and path (§12.2.2; RFC 8414 §3.1; SD-JWT VC
    §5: a terminating `/` of the path is removed first)."""
    parts = urlsplit(identifier)
    path = parts.path.rstrip("/")
    return f"{parts.scheme}://{parts.netloc}/.well-known/{suffix}{path}"


@dataclass(frozen=True)
class ProofTypeMetadata:
    signing_algs: tuple[str, ...]


@dataclass(frozen=True)
class CredentialConfigurationMetadata:
    id: str
    format: str
    vct: str | None
    scope: str | None
    binding_methods: tuple[str, ...]
    signing_algs: tuple[str, ...]
    proof_types: Mapping[str, ProofTypeMetadata]
    display: tuple[Mapping[str, Any], ...] = ()
    claims: tuple[Mapping[str, Any], ...] = ()

    @property
    def requires_proof(self) -> bool:
        """§8.2: `proofs` MUST be present when proof_types_supported is."""
        return bool(self.proof_types)


@dataclass(frozen=True)
class IssuerMetadata:
    credential_issuer: str
    credential_endpoint: str
    nonce_endpoint: str | None
    authorization_servers: tuple[str, ...]
    configurations: Mapping[str, CredentialConfigurationMetadata]
    batch_size: int | None = None
    display: tuple[Mapping[str, Any], ...] = ()
    deferred_credential_endpoint: str | None = None   # §12.2.4, for §9
    notification_endpoint: str | None = None          # §12.2.4, for §11

    @property
    def authorization_server(self) -> str:
        """The AS to use: the first listed, or the issuer itself (§12.2.4)."""
        return self.authorization_servers[0] if self.authorization_servers else self.credential_issuer


def parse_issuer_metadata(value: Any, *, expected_issuer: str) -> IssuerMetadata:
    """§12.2.4. `credential_issuer` must equal the identifier the wallet used, compared as plain
    strings (§12.2.4: otherwise the data MUST NOT be used)."""
    obj = _obj(value, "metadata")
    issuer = _url(obj, "credential_issuer", "metadata")
    if issuer != expected_issuer:
        raise oid4vci_error("invalid_request", f"metadata.credential_issuer is {issuer!r} but the "
                            f"offer names {expected_issuer!r}; they must be identical (§12.2.4)",
                            "metadata.credential_issuer", "issuer_mismatch")
    servers = obj.get("authorization_servers")
    configs = _obj(obj.get("credential_configurations_supported"),
                   "metadata.credential_configurations_supported")
    batch = obj.get("batch_credential_issuance")
    batch_size = _obj(batch, "metadata.batch_credential_issuance").get("batch_size") if batch else None
    return IssuerMetadata(
        credential_issuer=issuer,  # type: ignore[arg-type]
        credential_endpoint=_url(obj, "credential_endpoint", "metadata"),  # type: ignore[arg-type]
        nonce_endpoint=_url(obj, "nonce_endpoint", "metadata", required=False),
        authorization_servers=(_str_list(servers, "metadata.authorization_servers")
                               if servers is not None else ()),
        configurations={cid: _parse_configuration(cid, cfg) for cid, cfg in configs.items()},
        batch_size=batch_size if isinstance(batch_size, int) else None,
        display=tuple(obj.get("display") or ()),
        deferred_credential_endpoint=_url(obj, "deferred_credential_endpoint", "metadata", required=False),
        notification_endpoint=_url(obj, "notification_endpoint", "metadata", required=False),
    )


def _parse_configuration(cid: str, value: Any) -> CredentialConfigurationMetadata:
    where = f"metadata.credential_configurations_supported.{cid}"
    obj = _obj(value, where)
    proof_types = _obj(obj.get("proof_types_supported") or {}, f"{where}.proof_types_supported")
    binding = obj.get("cryptographic_binding_methods_supported")
    signing = obj.get("credential_signing_alg_values_supported")
    meta = obj.get("credential_metadata") or {}
    fmt = _str(obj, "format", where)
    vct = _str(obj, "vct", where, required=fmt == FORMAT_SD_JWT_VC)  # Appendix A.3.2
    return CredentialConfigurationMetadata(
        id=cid, format=fmt, vct=vct,  # type: ignore[arg-type]
        scope=_str(obj, "scope", where, required=False),
        binding_methods=_str_list(binding, f"{where}.cryptographic_binding_methods_supported")
        if binding is not None else (),
        signing_algs=_str_list(signing, f"{where}.credential_signing_alg_values_supported")
        if signing is not None else (),
        proof_types={
            name: ProofTypeMetadata(_str_list(
                _obj(pt, f"{where}.proof_types_supported.{name}").get(
                    "proof_signing_alg_values_supported"),
                f"{where}.proof_types_supported.{name}.proof_signing_alg_values_supported"))
            for name, pt in proof_types.items()},
        display=tuple(_obj(meta, f"{where}.credential_metadata").get("display") or ()),
        claims=tuple(meta.get("claims") or ()),
    )


@dataclass(frozen=True)
class AuthorizationServerMetadata:
    issuer: str
    token_endpoint: str
    grant_types: tuple[str, ...]
    anonymous_pre_authorized: bool


def parse_authorization_server_metadata(value: Any, *, expected_issuer: str
                                        ) -> AuthorizationServerMetadata:
    """RFC 8414 §2 and §3.3 (issuer must be identical), plus OID4VCI §12.3."""
    obj = _obj(value, "as_metadata")
    issuer = _url(obj, "issuer", "as_metadata")
    if issuer != expected_issuer:
        raise oid4vci_error("invalid_request", f"as_metadata.issuer is {issuer!r}, expected "
                            f"{expected_issuer!r} (RFC 8414 §3.3)", "as_metadata.issuer",
                            "issuer_mismatch")
    grants = obj.get("grant_types_supported")
    return AuthorizationServerMetadata(
        issuer=issuer,  # type: ignore[arg-type]
        token_endpoint=_url(obj, "token_endpoint", "as_metadata"),  # type: ignore[arg-type]
        # RFC 8414 §2: the default is ["authorization_code", "implicit"].
        grant_types=_str_list(grants, "as_metadata.grant_types_supported")
        if grants is not None else ("authorization_code", "implicit"),
        anonymous_pre_authorized=obj.get("pre-authorized_grant_anonymous_access_supported") is True,
    )


# --- token endpoint (§6) --------------------------------------------------------------------


@dataclass(frozen=True)
class TokenRequest:
    grant_type: str
    pre_authorized_code: str = field(repr=False)
    tx_code: str | None = field(default=None, repr=False)

    def to_form(self) -> dict[str, str]:
        form = {"grant_type": self.grant_type, "pre-authorized_code": self.pre_authorized_code}
        if self.tx_code is not None:
            form["tx_code"] = self.tx_code
        return form

    def encode(self) -> str:
        return urlencode(self.to_form())


def parse_token_request(params: Sequence[tuple[str, str]]) -> TokenRequest:
    """§6.1 over RFC 6749 §4.1.3: form parameters, each at most once (RFC 6749 §3.2)."""
    names = [name for name, _ in params]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise oid4vci_error("invalid_request", f"parameter(s) {', '.join(repeated)} sent more than "
                            "once (RFC 6749 §3.2)", repeated[0], "repeated_parameter")
    form = dict(params)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise oid4vci_error("invalid_request", "grant_type is required (RFC 6749 §4.1.3)",
                            "grant_type", "missing_parameter")
    if grant_type != PRE_AUTHORIZED_GRANT:
        raise oid4vci_error("unsupported_grant_type", f"grant_type {grant_type!r} is not supported; "
                            f"this endpoint takes {PRE_AUTHORIZED_GRANT}", "grant_type")
    code = form.get("pre-authorized_code")
    if not code:
        raise oid4vci_error("invalid_request", "pre-authorized_code is required with the "
                            "pre-authorized code grant (§6.1)", "pre-authorized_code",
                            "missing_parameter")
    tx_code = form.get("tx_code")
    return TokenRequest(grant_type, code, tx_code if tx_code != "" else None)


@dataclass(frozen=True)
class TokenResponse:
    access_token: str = field(repr=False)
    token_type: str = "Bearer"
    expires_in: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"access_token": self.access_token, "token_type": self.token_type}
        if self.expires_in is not None:
            out["expires_in"] = self.expires_in
        return out


def parse_token_response(value: Any) -> TokenResponse:
    """RFC 6749 §5.1. token_type is compared case-insensitively (§7.1)."""
    obj = _obj(value, "token_response")
    token = _str(obj, "access_token", "token_response")
    token_type = _str(obj, "token_type", "token_response")
    if token_type.lower() not in ("bearer", "dpop"):  # type: ignore[union-attr]
        raise oid4vci_error("invalid_request", f"token_type {token_type!r} is not Bearer or DPoP",
                            "token_response.token_type", "unsupported_token_type")
    expires = obj.get("expires_in")
    return TokenResponse(token, token_type,  # type: ignore[arg-type]
                         expires if isinstance(expires, int) and not isinstance(expires, bool)
                         else None)


# --- nonce endpoint (§7) --------------------------------------------------------------------


@dataclass(frozen=True)
class NonceResponse:
    c_nonce: str

    def to_json(self) -> dict[str, Any]:
        return {"c_nonce": self.c_nonce}


def parse_nonce_response(value: Any) -> NonceResponse:
    obj = _obj(value, "nonce_response")
    return NonceResponse(_str(obj, "c_nonce", "nonce_response"))  # type: ignore[arg-type]


# --- credential endpoint (§8) ---------------------------------------------------------------


@dataclass(frozen=True)
class CredentialRequest:
    credential_configuration_id: str | None
    credential_identifier: str | None
    proof_type: str | None
    proofs: tuple[Any, ...]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.credential_configuration_id is not None:
            out["credential_configuration_id"] = self.credential_configuration_id
        if self.credential_identifier is not None:
            out["credential_identifier"] = self.credential_identifier
        if self.proof_type is not None:
            out["proofs"] = {self.proof_type: list(self.proofs)}
        return out


def build_credential_request(configuration_id: str, proof_jwts: Sequence[str]) -> CredentialRequest:
    return CredentialRequest(configuration_id, None, "jwt" if proof_jwts else None,
                             tuple(proof_jwts))


def parse_credential_request(value: Any) -> CredentialRequest:
    """§8.2. Exactly one of credential_configuration_id / credential_identifier; `proofs` holds
    exactly one proof type whose value is a non-empty array (§8.2, Appendix F)."""
    obj = _obj(value, "credential_request", "invalid_credential_request")
    code = "invalid_credential_request"
    config_id = _str(obj, "credential_configuration_id", "", required=False, code=code)
    identifier = _str(obj, "credential_identifier", "", required=False, code=code)
    if (config_id is None) == (identifier is None):
        raise oid4vci_error(code, "a Credential Request carries exactly one of "
                            "credential_configuration_id and credential_identifier (§8.2)",
                            "credential_configuration_id", "ambiguous_credential")
    if "proof" in obj:
        # Drafts before 1.0 used a singular `proof`; 1.0 only has `proofs`.
        raise oid4vci_error(code, "`proof` is not a 1.0 parameter; send `proofs` with one proof "
                            "type, e.g. {\"jwt\": [<proof JWT>]} (§8.2)", "proof",
                            "legacy_proof_parameter")
    proofs = obj.get("proofs")
    if proofs is None:
        return CredentialRequest(config_id, identifier, None, ())
    proofs = _obj(proofs, "proofs", "invalid_proof")
    if len(proofs) != 1:
        raise oid4vci_error("invalid_proof", f"proofs must contain exactly one proof type, got "
                            f"{sorted(proofs) or 'none'} (§8.2)", "proofs", "malformed_proofs")
    (proof_type, items), = proofs.items()
    if not isinstance(items, list) or not items:
        raise oid4vci_error("invalid_proof", f"proofs.{proof_type} must be a non-empty array "
                            "(§8.2)", f"proofs.{proof_type}", "malformed_proofs")
    return CredentialRequest(config_id, identifier, proof_type, tuple(items))


@dataclass(frozen=True)
class CredentialResponse:
    credentials: tuple[Any, ...] = ()
    transaction_id: str | None = None
    interval: int | None = None
    notification_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.transaction_id is not None:
            return {"transaction_id": self.transaction_id, "interval": self.interval}
        out: dict[str, Any] = {"credentials": [{"credential": c} for c in self.credentials]}
        if self.notification_id is not None:
            out["notification_id"] = self.notification_id
        return out


def parse_credential_response(value: Any) -> CredentialResponse:
    """§8.3: either `credentials` (array of objects with `credential`) or a deferred
    `transaction_id` with `interval`, never both."""
    obj = _obj(value, "credential_response")
    creds, tx = obj.get("credentials"), obj.get("transaction_id")
    if (creds is None) == (tx is None):
        raise oid4vci_error("invalid_request", "a Credential Response has exactly one of "
                            "credentials and transaction_id (§8.3)", "credentials",
                            "malformed_credential_response")
    if tx is not None:
        interval = obj.get("interval")
        if isinstance(interval, bool) or not isinstance(interval, int | float) or interval <= 0:
            raise oid4vci_error("invalid_request", "interval is required with transaction_id and "
                                "must be a positive number (§8.3)", "interval",
                                "malformed_credential_response")
        return CredentialResponse(transaction_id=_str(obj, "transaction_id", ""),
                                  interval=int(interval))
    if not isinstance(creds, list) or not creds:
        raise oid4vci_error("invalid_request", "credentials must be a non-empty array (§8.3)",
                            "credentials", "malformed_credential_response")
    out = []
    for i, item in enumerate(creds):
        if not isinstance(item, Mapping) or item.get("credential") in (None, ""):
            raise oid4vci_error("invalid_request", f"credentials[{i}] must be an object with a "
                                "`credential` (§8.3)", f"credentials[{i}]",
                                "malformed_credential_response")
        out.append(item["credential"])
    notification = obj.get("notification_id")
    return CredentialResponse(tuple(out), notification_id=notification
                              if isinstance(notification, str) else None)


# --- deferred credential endpoint (§9) and notification endpoint (§11) ----------------------

NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")


@dataclass(frozen=True)
class DeferredCredentialRequest:
    transaction_id: str


def parse_deferred_credential_request(value: Any) -> DeferredCredentialRequest:
    """§9.1: `transaction_id` is required; unknown parameters are ignored."""
    code = "invalid_credential_request"
    obj = _obj(value, "deferred_credential_request", code)
    return DeferredCredentialRequest(_handle(obj, "transaction_id", code, "§9.1"))


@dataclass(frozen=True)
class NotificationRequest:
    notification_id: str
    event: str
    event_description: str | None


def parse_notification_request(value: Any) -> NotificationRequest:
    """§11.1: `notification_id`, `event` (one of three, case sensitive), optional ASCII
    `event_description` restricted to %x20-21 / %x23-5B / %x5D-7E."""
    code = "invalid_notification_request"
    obj = _obj(value, "notification_request", code)
    notification_id = _handle(obj, "notification_id", code, "§11.1")
    event = obj.get("event")
    if event not in NOTIFICATION_EVENTS:
        raise oid4vci_error(code, f"event must be one of {', '.join(NOTIFICATION_EVENTS)} (§11.1), "
                            f"got {event!r}", "event", "invalid_event")
    description = obj.get("event_description")
    if description is not None and (not isinstance(description, str) or not _event_text(description)):
        raise oid4vci_error(code, "event_description must be ASCII text without '\"' or '\\' (§11.1)",
                            "event_description", "invalid_parameter")
    return NotificationRequest(notification_id, event, description)


def _handle(obj: Mapping[str, Any], key: str, code: str, clause: str) -> str:
    """An identifier the issuer handed out earlier: required, a non-empty string."""
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise oid4vci_error(code, f"{key} is required and must be a non-empty string ({clause})", key,
                            "missing_parameter")
    return value


def _event_text(text: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in text)


# --- the `jwt` key proof (Appendix F.1, F.4) ------------------------------------------------


def build_proof_jwt(key: PrivateKey, *, aud: str, nonce: str | None, iat: int,
                    kid: str | None = None, iss: str | None = None,
                    extra_header: Mapping[str, Any] | None = None) -> str:
    """A key proof: `kid` (a DID URL) when given, otherwise the public key as `jwk` (F.1: never
    both). `iss` is omitted for anonymous pre-authorized access (F.1)."""
    header: dict[str, Any] = {"typ": PROOF_TYP, **(extra_header or {})}
    if kid is not None:
        header["kid"] = kid
    else:
        header["jwk"] = key.public.to_jwk()
    payload: dict[str, Any] = {"aud": aud, "iat": iat}
    if nonce is not None:
        payload["nonce"] = nonce
    if iss is not None:
        payload["iss"] = iss
    return sign_jws(header, payload, key)


@dataclass(frozen=True)
class ProofJwt:
    """A parsed key proof: who signed it (`jwk` or `kid`), not yet verified."""

    header: Mapping[str, Any]
    payload: Mapping[str, Any]
    jwk: Mapping[str, Any] | None
    kid: str | None
    token: str

    @property
    def did(self) -> str | None:
        """The DID when `kid` is a DID URL."""
        if self.kid is None or not self.kid.startswith("did:"):
            return None
        try:
            return parse_did_url(self.kid)[0].did
        except DidError:
            return None

    @property
    def nonce(self) -> Any:
        return self.payload.get("nonce")


@dataclass(frozen=True)
class VerifiedProof:
    key: PublicKey
    kid: str | None
    did: str | None
    nonce: str | None
    iat: int


def _proof_error(code: str, message: str, field: str | None, detail: str) -> Oid4vciError:
    return oid4vci_error(code, f"key proof: {message}", field, detail)


def parse_proof_jwt(token: Any, *, index: int = 0) -> ProofJwt:
    """Split a key proof and check its header shape (F.1, F.4): explicit typ, exactly one of
    kid / jwk / x5c, no private key in the header."""
    field_name = f"proofs.jwt[{index}]"
    try:
        jws = parse_jws(token, field_name)
    except JoseError as exc:
        bad_alg = exc.reason in ("alg_none", "unsupported_alg")
        detail = "unsupported_alg" if bad_alg else "malformed_proof"
        raise _proof_error("invalid_proof", exc.message, exc.field, detail) from None
    header = jws.header
    if header.get("typ") != PROOF_TYP:
        raise _proof_error("invalid_proof", f"header typ is {header.get('typ')!r}; a key proof is "
                           f"explicitly typed {PROOF_TYP} (F.1)", f"{field_name}.header.typ",
                           "invalid_typ")
    refs = [name for name in ("kid", "jwk", "x5c") if name in header]
    if len(refs) != 1:
        raise _proof_error("invalid_proof", f"the header must carry exactly one of kid, jwk and "
                           f"x5c, found {refs or 'none'} (F.1)", f"{field_name}.header",
                           "key_reference_missing" if not refs else "key_reference_ambiguous")
    if refs == ["x5c"]:
        raise _proof_error("invalid_proof", "x5c key proofs are not supported here; use jwk or a "
                           "DID URL kid", f"{field_name}.header.x5c", "unsupported_key_reference")
    jwk = header.get("jwk")
    if jwk is not None:
        if not isinstance(jwk, Mapping):
            raise _proof_error("invalid_proof", "header jwk must be a JSON object (F.1)",
                               f"{field_name}.header.jwk", "malformed_proof")
        if "d" in jwk:
            # F.4: the header must not contain a private key. Its value is never echoed.
            raise _proof_error("invalid_proof", "header jwk contains private key material ('d') "
                               "(F.4)", f"{field_name}.header.jwk", "private_key_in_header")
    kid = header.get("kid")
    if kid is not None and (not isinstance(kid, str) or not kid):
        raise _proof_error("invalid_proof", "header kid must be a non-empty string (F.1)",
                           f"{field_name}.header.kid", "malformed_proof")
    return ProofJwt(header, jws.payload, jwk, kid, token)


def verify_proof_jwt(proof: str | ProofJwt, *, expected_aud: str,
                     expected_nonce: str | Container[str] | None, now: float, max_age: int,
                     allowed_algs: Sequence[str] = ("EdDSA", "Ed25519", "ES256"),
                     key: PublicKey | None = None, max_skew: int = 60) -> VerifiedProof:
    """Verify a `jwt` key proof (F.4).

    `key` is the holder key when the proof names it by `kid` (the caller resolves DID URLs,
    which may need I/O); with `jwk` the key comes from the header. `expected_nonce` is the
    server-provided c_nonce (or a container of currently valid ones), or None when the issuer
    has no Nonce Endpoint. `max_age` bounds how old `iat` may be; `max_skew` how far in the
    future it may be (§13.5 allows "reasonably near future").

    Reasons: a missing nonce is `invalid_proof` and a wrong or stale one `invalid_nonce`
    (§8.3.1.2); everything else is `invalid_proof` with a `detail`.
    """
    parsed = proof if isinstance(proof, ProofJwt) else parse_proof_jwt(proof)
    alg = parsed.header.get("alg")
    if alg not in allowed_algs:
        raise _proof_error("invalid_proof", f"alg {alg!r} is not one of the supported proof "
                           f"signing algorithms {list(allowed_algs)} (F.1)", "header.alg",
                           "unsupported_alg")
    key = _proof_key(parsed, key)
    try:
        parse_jws(parsed.token).verify_with(key)
    except JoseError as exc:
        detail = "key_type_mismatch" if exc.reason == "alg_key_mismatch" else "signature_invalid"
        raise _proof_error("invalid_proof", exc.message, exc.field, detail) from None
    claims = parsed.payload
    aud = claims.get("aud")
    if aud is None:
        raise _proof_error("invalid_proof", "aud is required (F.1)", "aud", "aud_missing")
    if aud != expected_aud:
        raise _proof_error("invalid_proof", f"aud is {aud!r} but must be the Credential Issuer "
                           f"Identifier {expected_aud!r} (F.1)", "aud", "aud_mismatch")
    iat = _check_iat(claims.get("iat"), now, max_age, max_skew)
    nonce = _check_nonce(claims.get("nonce"), expected_nonce)
    return VerifiedProof(key, parsed.kid, parsed.did, nonce, iat)


def _proof_key(parsed: ProofJwt, key: PublicKey | None) -> PublicKey:
    if parsed.jwk is not None:
        try:
            return public_key_from_jwk(parsed.jwk, "header.jwk")
        except JoseError as exc:
            unsupported = exc.reason == "unsupported_key_type"
            detail = "unsupported_key_type" if unsupported else "malformed_proof"
            raise _proof_error("invalid_proof", exc.message, exc.field, detail) from None
    if key is None:
        raise _proof_error("invalid_proof", f"kid {parsed.kid!r} could not be resolved to a key",
                           "header.kid", "key_unresolved")
    return key


def _check_iat(iat: Any, now: float, max_age: int, max_skew: int) -> int:
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise _proof_error("invalid_proof", "iat is required and must be a number (F.1)", "iat",
                           "iat_missing")
    if iat > now + max_skew:
        raise _proof_error("invalid_proof", f"iat {int(iat)} is {int(iat - now)}s in the future "
                           f"(allowed skew {max_skew}s)", "iat", "iat_in_future")
    if now - iat > max_age:
        raise _proof_error("invalid_proof", f"iat {int(iat)} is {int(now - iat)}s old; proofs "
                           f"older than {max_age}s are not accepted (F.4)", "iat", "proof_too_old")
    return int(iat)


def _check_nonce(nonce: Any, expected: str | Container[str] | None) -> str | None:
    if expected is None:
        return nonce if isinstance(nonce, str) else None
    if nonce is None:
        raise _proof_error("invalid_proof", "nonce is required: the issuer has a Nonce Endpoint "
                           "(F.1, §8.3.1.2)", "nonce", "nonce_missing")
    valid = nonce == expected if isinstance(expected, str) else (
        isinstance(nonce, str) and nonce in expected)
    if not isinstance(nonce, str) or not valid:
        raise _proof_error("invalid_nonce", "nonce is not a c_nonce this issuer provided, or it "
                           "expired or was used; fetch a new one from the Nonce Endpoint (§7)",
                           "nonce", "nonce_invalid")
    return nonce

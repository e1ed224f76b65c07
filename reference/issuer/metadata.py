"""The issuer's published metadata documents.

- Credential Issuer Metadata (OID4VCI 1.0 §12.2.4), one per Credential Issuer identifier, with
  the deferred credential (§9) and notification (§11) endpoints every surface shares;
- OAuth 2.0 Authorization Server Metadata (RFC 8414 §2, OID4VCI §12.3): the issuer is its own
  Authorization Server, so `authorization_servers` is omitted (§12.2.4);
- JWT VC Issuer Metadata (SD-JWT VC §5): the keys that verify X.509-path credentials, whose
  `iss` is the Credential Issuer identifier.
"""

from __future__ import annotations

from typing import Any

from conformance.protocol.jose import public_key_from_jwk
from conformance.protocol.oid4vci import PRE_AUTHORIZED_GRANT
from reference.issuer.settings import IssuerSettings, Tenant


def _endpoint(settings: IssuerSettings, path: str) -> str:
    return f"{settings.base_url.rstrip('/')}{path}"


def credential_issuer_metadata(settings: IssuerSettings, identifier: str,
                               tenant: Tenant | None) -> dict[str, Any]:
    configs = {cid: cfg.metadata() for cid, cfg in settings.configurations.items()
               if tenant is None or tenant.may_offer(cid)}
    return {
        "credential_issuer": identifier,
        "credential_endpoint": _endpoint(settings, "/credential"),
        "nonce_endpoint": _endpoint(settings, "/nonce"),
        "deferred_credential_endpoint": _endpoint(settings, "/deferred_credential"),
        "notification_endpoint": _endpoint(settings, "/notification"),
        "display": [{"name": settings.display_name, "locale": "en-US"}],
        "credential_configurations_supported": configs,
    }


def authorization_server_metadata(settings: IssuerSettings, identifier: str) -> dict[str, Any]:
    return {
        "issuer": identifier,
        "token_endpoint": _endpoint(settings, "/token"),
        "grant_types_supported": [PRE_AUTHORIZED_GRANT],
        "token_endpoint_auth_methods_supported": ["none"],
        # §12.3: Token Requests with a pre-authorized code need no client_id here.
        "pre-authorized_grant_anonymous_access_supported": True,
    }


def jwt_vc_issuer_metadata(settings: IssuerSettings, identifier: str) -> dict[str, Any]:
    keys = []
    if settings.x509 is not None:
        public = settings.x509.key.public
        jwk = {**public.to_jwk(), "kid": public.thumbprint(), "use": "sig", "alg": "ES256",
               "x5c": list(settings.x509.x5c)}
        public_key_from_jwk(jwk)  # a self-check: what is published must be a usable key
        keys.append(jwk)
    return {"issuer": identifier, "jwks": {"keys": keys}}

"""Request bodies of the organisation-wallet API, parsed at the edge into typed values.

The issue body (organisation wallet seed, "Issue credential", IETF SD-JWT VC form):
`issuanceMode` (InTime | Deferred), `urlScheme` (openid-credential-offer:// | haip://, default
the former), `credentialDefinitionId`, one credential - as `credential` (an object) or
`credentials` (an array of exactly one) - with `credentialConfigurationId` (optional when the
definition covers one configuration), `vct` (optional, must match) and `claims` (required for
InTime, optional for Deferred, where the backend may supply them later), and `userPin` (the
tx_code value; empty or absent: none).

The seed's W3C (`type`, `credentialSubject`) and mdoc (`doctype`) members, and its features
the reference does not simulate (issuer-initiated delivery to a wallet endpoint, dynamic
credential requests, individual recipients), answer a clear 400 naming the member.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from reference.common.body import Body, bad
from reference.common.errors import ApiError

MODES = ("InTime", "Deferred")
SCHEMES = ("openid-credential-offer://", "haip://")
# Members of the other formats' credential objects -> the format they belong to.
FORMAT_MEMBERS = {"type": "jwt_vc_json", "credentialSubject": "jwt_vc_json",
                  "credentialMetadata": "jwt_vc_json", "doctype": "mso_mdoc"}
NOT_SIMULATED = {
    "walletCredentialOfferEndpoint": "issuer-initiated delivery to a wallet's credential offer "
                                     "endpoint",
    "presentationDefinitionId": "dynamic credential requests (OpenID4VP before issuance)",
    "transactionData": "dynamic credential requests (OpenID4VP before issuance)",
    "individualId": "delivery to an individual's registered device",
}


@dataclass(frozen=True)
class CredentialEntry:
    """One credential of a request: `where` is its body path, for error fields."""

    where: str
    config_id: str | None
    vct: str | None
    claims: Mapping[str, Any] | None


@dataclass(frozen=True)
class IssueRequest:
    issuance_mode: str
    url_scheme: str
    definition_id: str
    credential: CredentialEntry
    user_pin: str | None = field(repr=False)


def parse_issue_request(body: Body) -> IssueRequest:
    for member, feature in NOT_SIMULATED.items():
        if body.has(member):
            raise ApiError(400, "not_supported", f"{member}: {feature} is not supported by the "
                           "reference organisation wallet", member)
    mode = body.str("issuanceMode", required=True, choices=MODES)
    scheme = body.str("urlScheme", choices=SCHEMES) or SCHEMES[0]
    definition_id = body.str("credentialDefinitionId", required=True, max_len=256)
    entry = parse_credential(body, claims_required=mode == "InTime")
    return IssueRequest(mode, scheme, definition_id, entry, _user_pin(body))  # type: ignore[arg-type]


def parse_credential(body: Body, *, claims_required: bool) -> CredentialEntry:
    """The one credential of `credential` or `credentials[1]`."""
    single, many = body.obj("credential"), body.list("credentials")
    if (single is None) == (many is None):
        raise bad("credentials", "give exactly one of credential (an object) and credentials (an "
                  "array)")
    if many is not None:
        if len(many) != 1 or not isinstance(many[0], dict):
            raise bad("credentials", "must hold exactly one credential object: the reference "
                      "issues one credential per exchange")
        single = Body(many[0], "credentials[0].")
    assert single is not None
    where = single.prefix.rstrip(".")
    for member, fmt in FORMAT_MEMBERS.items():
        if single.has(member):
            raise ApiError(400, "unsupported_credential_format", f"{where}.{member}: belongs to "
                           f"the {fmt} format; this API issues dc+sd-jwt only (vct and claims)",
                           f"{where}.{member}")
    claims = single.obj("claims", required=claims_required)
    return CredentialEntry(where, single.str("credentialConfigurationId", max_len=256),
                           single.str("vct", max_len=512), claims.data if claims else None)


def _user_pin(body: Body) -> str | None:
    if body.data.get("userPin") == "":
        return None  # the seed: "Leave empty" when no transaction code is wanted
    return body.secret("userPin")


@dataclass(frozen=True)
class Denial:
    reason: str


def parse_denial(body: Body) -> Denial:
    return Denial(body.str("reason", max_len=500) or "the issuer denied the issuance")


REVOCATION_STATUSES = ("Operational", "Revoked", "Suspended")


def parse_revocation(body: Body) -> str:
    return body.str("revocationStatus", required=True, choices=REVOCATION_STATUSES)  # type: ignore[return-value]

"""Verifying one Authorization Response, stage by stage (OID4VP 1.0 §8.6 "VP Token Validation").

Each Presentation goes through memoised stages, computed only when a check asks for them (so
`fail_fast` never fetches a status list after a signature failed):

    parsed -> issuer_key -> signature ----+
       \\-> unpacked --------------------+-> base -> bound        parsed + issuer_key -> status

- parsed: `parse_sd_jwt` (RFC 9901 §4).
- issuer_key: `conformance.issuer_keys.IssuerKeys` (SD-JWT VC §3.5), shared with the holder.
- signature: the Issuer-signed JWT verified with that key (RFC 9901 §7.1 step 2).
- unpacked: `unpack`, the Disclosures applied (RFC 9901 §7.1 steps 3-5).
- base: `verify_sd_jwt` without Key Binding: the SD-JWT VC rules and exp / nbf.
- bound: `verify_sd_jwt` with the Key Binding this request demands (aud = client_id as sent,
  nonce, iat window; RFC 9901 §7.3, OID4VP 1.0 B.3.6), or "not required" when the credential
  query sets `require_cryptographic_holder_binding: false` and no KB-JWT was sent.
- status: the Token Status List entry (draft-ietf-oauth-status-list §8.3).

A stage that fails yields a `Failure` naming the check it belongs to (through `SDJWT_REASONS`,
the one table from SD-JWT reasons to checks), and every stage after it yields the same Failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.issuer_keys import IssuerKey, IssuerKeyError, IssuerKeys
from conformance.protocol.dcql import CredentialQuery, DcqlQuery, WalletCredential, match
from conformance.protocol.errors import JoseError, SdJwtError
from conformance.protocol.sdjwt import (
    VC_TYP,
    KbExpectations,
    SdJwt,
    Unpacked,
    VerifiedSdJwt,
    parse_sd_jwt,
    unpack,
    verify_sd_jwt,
)
from conformance.protocol.sdjwt.serialization import from_jose
from reference.verifier.status import StatusReader, StatusVerdict

# --- the one table: SD-JWT reason -> (check, reason_code) ---------------------------------------

_FORMAT = ("credential_format", "credential_format_invalid")
_SIGNATURE = ("signature", "signature_verification_failed")

SDJWT_REASONS: Mapping[str, tuple[str, str]] = {
    # RFC 9901 §4 serialization and the SD-JWT VC profile: the seed's credential_format check.
    **{reason: _FORMAT for reason in (
        "sd_jwt_not_compact", "sd_jwt_missing_separator", "sd_jwt_empty_disclosure", "issuer_jwt_malformed",
        "kb_jwt_malformed", "alg_none", "unsupported_alg", "disclosure_not_base64url", "disclosure_not_json_array",
        "disclosure_wrong_length", "disclosure_salt_not_string", "disclosure_name_not_string",
        "duplicate_disclosure", "typ_mismatch", "vct_missing", "iss_missing", "non_disclosable_claim",
        # Holder / issuer side reasons: a verifier never meets them, but every reason has a home.
        "unexpected_kb_jwt", "unknown_claim_path")},
    # RFC 9901 §7.1 step 2: the seed's signature check.
    "issuer_signature_invalid": _SIGNATURE,
    "alg_key_mismatch": _SIGNATURE,
    # RFC 9901 §7.1 steps 3-5: added check `disclosures`, reason = the SD-JWT reason.
    **{reason: ("disclosures", reason) for reason in (
        "unsupported_sd_alg", "sd_claim_malformed", "disclosure_kind_mismatch", "reserved_claim_name",
        "claim_name_collision", "duplicate_digest", "disclosure_not_referenced")},
    # RFC 9901 §7.1 step 6 / RFC 7519: added check `validity_period`.
    **{reason: ("validity_period", reason) for reason in (
        "credential_expired", "credential_not_yet_valid", "time_claim_invalid")},
    # RFC 9901 §7.3: added check `key_binding`.
    **{reason: ("key_binding", reason) for reason in (
        "kb_jwt_missing", "cnf_missing", "cnf_unsupported", "cnf_jwk_invalid", "kb_typ_invalid",
        "kb_signature_invalid", "kb_claim_missing", "kb_iat_out_of_window", "kb_aud_mismatch",
        "kb_nonce_mismatch", "kb_sd_hash_mismatch")},
}


@dataclass(frozen=True)
class Failure:
    check: str
    reason: str
    message: str


def sdjwt_failure(exc: SdJwtError) -> Failure:
    # A reason the table does not know yet (a test guards against it) still fails, as a format error.
    check, reason = SDJWT_REASONS.get(exc.reason, _FORMAT)
    detail = "" if reason == exc.reason else f" ({exc.reason})"
    return Failure(check, reason, f"{exc.message}{detail}")


@dataclass(frozen=True)
class NotRequired:
    """The credential query waived Key Binding and none was sent (OID4VP 1.0 §5.3, B.3)."""


@dataclass(frozen=True)
class Environment:
    """What every Presentation of one response is verified against."""

    client_id: str
    nonce: str
    query: DcqlQuery
    now: float
    leeway: int
    iat_max_age: int
    keys: IssuerKeys
    statuses: StatusReader


@dataclass
class PresentationEvaluation:
    env: Environment
    query_id: str
    index: int
    raw: str
    _memo: dict[str, Any] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"vp_token.{self.query_id}[{self.index}]"

    @property
    def credential_query(self) -> CredentialQuery:
        return self.env.query.credential(self.query_id)

    async def _stage(self, name: str, compute: Any) -> Any:
        if name not in self._memo:
            self._memo[name] = await compute()
        return self._memo[name]

    async def parsed(self) -> SdJwt | Failure:
        async def compute() -> SdJwt | Failure:
            try:
                sd = parse_sd_jwt(self.raw)
            except SdJwtError as exc:
                return sdjwt_failure(exc)
            typ = sd.issuer_jws.header.get("typ")
            if typ != VC_TYP:
                # Checked here, not only in `base`, so a wrong typ is reported even when the
                # signature cannot be verified (SD-JWT VC §3.2.1).
                return Failure(*_FORMAT, f"issuer_jwt header typ is {typ!r}, expected {VC_TYP!r} (typ_mismatch)")
            return sd
        return await self._stage("parsed", compute)

    async def issuer_key(self) -> IssuerKey | Failure:
        async def compute() -> IssuerKey | Failure:
            sd = await self.parsed()
            if isinstance(sd, Failure):
                return sd
            try:
                return await self.env.keys.for_jwt(sd.issuer_jws.header, sd.issuer_jws.payload, self.env.now)
            except IssuerKeyError as exc:
                return Failure("signature", exc.reason, exc.message)
        return await self._stage("issuer_key", compute)

    async def signature(self) -> IssuerKey | Failure:
        async def compute() -> IssuerKey | Failure:
            sd, key = await self.parsed(), await self.issuer_key()
            if isinstance(sd, Failure):
                return sd
            if isinstance(key, Failure):
                return key
            try:
                sd.issuer_jws.verify_with(key.key)
            except JoseError as exc:
                return sdjwt_failure(from_jose(exc, "issuer_jwt", malformed="issuer_signature_invalid",
                                               bad_signature="issuer_signature_invalid"))
            return key
        return await self._stage("signature", compute)

    async def unpacked(self) -> Unpacked | Failure:
        async def compute() -> Unpacked | Failure:
            sd = await self.parsed()
            if isinstance(sd, Failure):
                return sd
            try:
                return unpack(sd.issuer_jws.payload, sd.disclosures)
            except SdJwtError as exc:
                return sdjwt_failure(exc)
        return await self._stage("unpacked", compute)

    async def base(self) -> VerifiedSdJwt | Failure:
        return await self._stage("base", lambda: self._verify(None))

    async def bound(self) -> VerifiedSdJwt | NotRequired | Failure:
        async def compute() -> VerifiedSdJwt | NotRequired | Failure:
            base = await self.base()
            if isinstance(base, Failure):
                return base
            sd = await self.parsed()
            assert isinstance(sd, SdJwt)
            if sd.kb_jwt is None and not self.credential_query.require_cryptographic_holder_binding:
                return NotRequired()
            return await self._verify(KbExpectations(self.env.client_id, self.env.nonce, self.env.iat_max_age))
        return await self._stage("bound", compute)

    async def _verify(self, binding: KbExpectations | None) -> VerifiedSdJwt | Failure:
        for prerequisite in (self.signature, self.unpacked):
            result = await prerequisite()
            if isinstance(result, Failure):
                return result
        sd, key = await self.parsed(), await self.signature()
        assert isinstance(sd, SdJwt) and isinstance(key, IssuerKey)
        try:
            return verify_sd_jwt(sd, issuer_key=key.key, now=int(self.env.now), holder_binding=binding,
                                 leeway=self.env.leeway)
        except SdJwtError as exc:
            return sdjwt_failure(exc)

    async def status(self) -> StatusVerdict | Failure:
        async def compute() -> StatusVerdict | Failure:
            sd, key = await self.parsed(), await self.issuer_key()
            if isinstance(sd, Failure):
                return sd
            if isinstance(key, Failure):
                return key
            return await self.env.statuses.verdict(sd.issuer_jws.payload, key)
        return await self._stage("status", compute)

    async def wallet_credential(self) -> WalletCredential | Failure:
        """What DCQL matching sees (OID4VP 1.0 §6.4): the claims as disclosed, the issuer, and
        whether the credential can be key-bound (it has cnf)."""
        unpacked = await self.unpacked()
        if isinstance(unpacked, Failure):
            return unpacked
        claims = unpacked.claims
        key = await self.issuer_key()
        authority_ids = key.authority_ids if isinstance(key, IssuerKey) else None
        issuer = claims.get("iss") if isinstance(claims.get("iss"), str) else None
        vct = claims.get("vct") if isinstance(claims.get("vct"), str) else None
        return WalletCredential(format="dc+sd-jwt", vct=vct, claims=claims, issuer=issuer,
                                cryptographic_holder_binding="cnf" in claims,
                                authority_ids=dict(authority_ids) if authority_ids else None)


def query_satisfied(query: CredentialQuery, credential: WalletCredential) -> bool:
    """§6.4: does this one presented credential satisfy the credential query it answers?"""
    single = DcqlQuery(credentials=(query,))
    return match(single, [credential]).query(query.id).satisfied


def required_queries_answered(query: DcqlQuery, satisfied: set[str]) -> list[str]:
    """§6.4.2: what keeps the answered set from satisfying the request, or [] when it does.
    Without credential_sets every credential query is required; with them, every required set
    needs one option whose queries were all satisfied."""
    if query.credential_sets is None:
        return [c.id for c in query.credentials if c.id not in satisfied]
    return [f"credential_sets[{position}]" for position, cs in enumerate(query.credential_sets)
            if cs.required and not any(satisfied.issuperset(option) for option in cs.options)]


def disclosed_claims(verified: Unpacked) -> dict[str, Any]:
    """Exactly the claims revealed by Disclosures, nested as in the credential (the seed's
    presentation_metadata.claims): a disclosed object or array comes whole, a claim in an
    always-visible container comes with only its disclosed siblings."""
    out: dict[str, Any] = {}
    for path in sorted(verified.revealed, key=len):
        if any(path[:n] in verified.revealed for n in range(1, len(path))):
            continue  # inside an already included disclosed claim
        _place(out, verified.claims, path)
    return out


def _place(out: dict[str, Any], claims: Mapping[str, Any], path: tuple) -> None:
    source: Any = claims
    target: Any = out
    for depth, step in enumerate(path):
        source = source[step]
        last = depth == len(path) - 1
        if isinstance(target, list):
            target.append(source if last else _empty_like(source))
            target = target[-1]
        elif last:
            target[step] = source
        else:
            target = target.setdefault(step, _empty_like(source))


def _empty_like(value: Any) -> Any:
    return [] if isinstance(value, list) else {}

"""Deliberately faulty variants of the embedded reference: each breaks ONE behaviour of a built
deployment and names the scenario(s) that must then fail, and how.

A variant is a function `apply(deployment)` registered with `@variant(...)`. It changes only the
deployment it is given (middleware mounted on its network, or one attribute of one of its
service objects; see middleware.py), never reference code. `catch` lists what must happen:
`Catch("issuance.happy_path_did_iota", check="sdjwt.issuer_signature")` means that scenario must
fail, with that required check failing. A variant no scenario catches yet keeps `catch` empty
and says in `missing` what would catch it; `probe` names the scenario id prefixes its trial runs
(so the day a scenario catches it, its strict xfail turns into a failure that asks for `catch`).

The registry is `VARIANTS` (name -> Variant), in declaration order.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from conformance.protocol.jose import PublicKey, b64u_encode, generate_key
from reference.issuer.pki import X509Signer

from tests.faulty.middleware import (
    answer_instead,
    flip_signature,
    header,
    install,
    issued_credential,
    Proxy,
    patch,
    payload_of,
    resign,
    rewrite_body,
    rewrite_response,
    rewrite_headers,
    rewrite_json,
    split_sd_jwt,
    with_credential,
)

Apply = Callable[[Any], None]
ROLES = ("issuer", "holder", "verifier", "ledger")


@dataclass(frozen=True)
class Catch:
    """One failure a variant must cause: `scenario` fails, with the required `check` failing or
    the `expectation` (an expectation kind: `status`, `body.<path>`, `artefacts.<path>`,
    `operation`) not met."""

    scenario: str
    check: str | None = None
    expectation: str | None = None

    def __post_init__(self) -> None:
        if (self.check is None) == (self.expectation is None):
            raise ValueError(f"{self.scenario}: name exactly one of check / expectation")

    def __str__(self) -> str:
        how = f"check {self.check}" if self.check else f"expectation {self.expectation}"
        return f"{self.scenario} fails {how}"


@dataclass(frozen=True)
class Variant:
    name: str                       # <role>.<what is broken>
    role: str
    breaks: str                     # the behaviour broken, in one sentence
    apply: Apply
    catch: tuple[Catch, ...] = ()
    missing: str | None = None      # not caught yet: which scenario / check would catch it
    probe: tuple[str, ...] = ()     # for a variant not caught yet: scenario id prefixes to try

    def __post_init__(self) -> None:
        assert self.role in ROLES, self.role
        assert bool(self.catch) != bool(self.missing), f"{self.name}: give catch, or missing (+ probe)"
        assert not self.missing or self.probe, f"{self.name}: a variant not caught yet names its probe"

    @property
    def scenarios(self) -> tuple[str, ...]:
        """Scenario ids (or, for a variant not caught yet, id prefixes) its trial runs."""
        return tuple(dict.fromkeys(c.scenario for c in self.catch)) or self.probe


VARIANTS: dict[str, Variant] = {}


def variant(name: str, role: str, breaks: str, *, catch: tuple[Catch, ...] = (), missing: str | None = None,
            probe: tuple[str, ...] = ()) -> Callable[[Apply], Apply]:
    def register(apply: Apply) -> Apply:
        assert name not in VARIANTS, f"variant {name} registered twice"
        VARIANTS[name] = Variant(name, role, breaks, apply, tuple(catch), missing, tuple(probe))
        return apply
    return register


# --- shared pieces ------------------------------------------------------------------------------------

CREDENTIAL = r"/credential"
STATUS_LIST = r"/v1/status-lists/[^/]+"
ISSUER_METADATA = r"/\.well-known/openid-credential-issuer(/[^/]+)?"
LEDGER_OBJECT = r"/v1/objects/[^/]+"
DID_RESOLUTION = r"/1\.0/identifiers/[^/]+"
VERIFIER_RESULT = r"/v1/verifier/result/[^/]+"
REQUEST_OBJECT = r"/v1/verifier/request/[^/]+"
ANSWERED = ("completed", "failed")


def engine(deployment: Any) -> Any:
    return deployment.services["issuer"]


def edit_credential(deployment: Any, change: Callable[[str], str]) -> None:
    """The issuer answers every Credential Request with `change(credential)`."""
    def edit(body: Any, scope: Any) -> Any:
        credential = issued_credential(body)
        return with_credential(body, change(credential)) if credential else body
    install(deployment, "issuer", lambda app: rewrite_json(app, "POST", CREDENTIAL, edit, statuses=range(200, 201)))


def edit_issued_payload(deployment: Any, change: Callable[[dict[str, Any], list[str]], dict[str, Any]]) -> None:
    """The did:iota issuer's credentials carry `change(payload, disclosures)`, validly signed by
    its key (the other signing paths' credentials pass untouched)."""
    key = engine(deployment).default_issuer.key

    def edit(credential: str) -> str:
        jwt, rest = split_sd_jwt(credential)
        disclosures = [d for d in rest.split("~") if d]
        changed = resign(key, jwt, lambda payload: change(payload, disclosures))
        return credential if changed is None else changed + rest
    edit_credential(deployment, edit)


def sd_digest(disclosure: str) -> str:
    """RFC 9901 §4.2.3: base64url SHA-256 of the Disclosure as sent (the issuer uses sha-256)."""
    return b64u_encode(hashlib.sha256(disclosure.encode("ascii")).digest())


def _sd(payload: dict[str, Any]) -> list[str]:
    digests = payload.get("_sd")
    if not isinstance(digests, list) or not digests:
        raise ValueError("the credential has no top-level _sd digests to break")
    return digests


class TrustingKey(PublicKey):
    """A public key whose `verify` says yes to anything: a verifier that never really checks."""

    def verify(self, signature: bytes, data: bytes) -> bool:
        return True


def trusting_keys(keys: Any) -> Proxy:
    """An issuer key finder (conformance.issuer_keys.IssuerKeys) whose keys accept any signature."""
    async def for_jwt(*args: Any, **kwargs: Any) -> Any:
        found = await keys.for_jwt(*args, **kwargs)
        return dataclasses.replace(found, key=TrustingKey(found.key.alg, found.key.key))
    return Proxy(keys, for_jwt=for_jwt)


# --- issuer ---------------------------------------------------------------------------------------

@variant("issuer.corrupted_signature", "issuer",
         "credentials leave the credential endpoint with one bit of the Issuer-signed JWT's signature flipped",
         catch=(Catch("issuance.happy_path_did_iota", check="sdjwt.issuer_signature"),))
def corrupted_signature(deployment: Any) -> None:
    def corrupt(credential: str) -> str:
        jwt, rest = split_sd_jwt(credential)
        return flip_signature(jwt) + rest
    edit_credential(deployment, corrupt)


@variant("issuer.orphan_disclosure", "issuer",
         "a Disclosure is sent whose digest was dropped from _sd (signed anyway): nothing references it",
         catch=(Catch("issuance.happy_path_did_iota", check="sdjwt.disclosure_digests"),))
def orphan_disclosure(deployment: Any) -> None:
    def drop_one(payload: dict[str, Any], disclosures: list[str]) -> dict[str, Any]:
        digests = _sd(payload)
        referenced = [d for d in map(sd_digest, disclosures) if d in digests]
        if not referenced:
            raise ValueError("no top-level Disclosure to orphan")
        payload["_sd"] = [d for d in digests if d != referenced[0]]
        return payload
    edit_issued_payload(deployment, drop_one)


@variant("issuer.duplicate_digest", "issuer",
         "the Issuer-signed JWT's _sd array lists one digest twice (RFC 9901 §7.1 step 4 forbids it)",
         catch=(Catch("issuance.happy_path_did_iota", check="sdjwt.disclosure_digests"),))
def duplicate_digest(deployment: Any) -> None:
    def repeat(payload: dict[str, Any], disclosures: list[str]) -> dict[str, Any]:
        digests = _sd(payload)
        payload["_sd"] = [*digests, digests[0]]
        return payload
    edit_issued_payload(deployment, repeat)


@variant("issuer.binds_other_key", "issuer",
         "the credential's cnf.jwk is a key of the issuer's choosing, not the key the wallet proved",
         catch=(Catch("issuance.happy_path_did_iota", check="sdjwt.vc_claims"),))
def binds_other_key(deployment: Any) -> None:
    def rebind(payload: dict[str, Any], disclosures: list[str]) -> dict[str, Any]:
        payload["cnf"] = {"jwk": generate_key("ES256").public.to_jwk()}
        return payload
    edit_issued_payload(deployment, rebind)


@variant("issuer.accepts_spent_nonce", "issuer",
         "a c_nonce stays valid after a credential was issued with it (and after it expires)",
         catch=(Catch("issuance.wire_rejections", expectation="status"),))
def accepts_spent_nonce(deployment: Any) -> None:
    store = engine(deployment).db
    # The bug: "known nonce" instead of "known, unused and unexpired nonce".
    patch(store, "nonce_valid", lambda _: lambda nonce, now: store.db.one(
        "SELECT 1 FROM nonces WHERE nonce = ?", (nonce,)) is not None)
    patch(store, "spend_nonce", lambda _: lambda nonce, now: True)


@variant("issuer.reusable_code", "issuer",
         "the pre-authorized code can be redeemed again after it was used (OID4VCI 1.0 §4.1.1: single use)",
         catch=(Catch("issuance.wire_rejections", expectation="status"),))
def reusable_code(deployment: Any) -> None:
    store = engine(deployment).db
    patch(store, "offer_by_code", lambda real: lambda code: (
        None if (row := real(code)) is None else dataclasses.replace(row, code_used_at=None)))
    patch(store, "redeem_code", lambda _: lambda offer_id, now: True)


@variant("issuer.ignores_proof_audience", "issuer",
         "the key proof's aud is not compared with the Credential Issuer identifier (OID4VCI 1.0 F.4)",
         catch=(Catch("issuance.wire_rejections", expectation="body.error"),))
def ignores_proof_audience(deployment: Any) -> None:
    proofs = engine(deployment).proofs

    def lenient(real: Any) -> Any:
        async def verify(offer: Any, config: Any, proof_type: Any, items: Any) -> Any:
            aud = _proof_aud(items)
            if aud is not None:
                offer = dataclasses.replace(offer, credential_issuer=aud)
            return await real(offer, config, proof_type, items)
        return verify
    patch(proofs, "verify", lenient)


def _proof_aud(items: Any) -> str | None:
    try:
        aud = payload_of(items[0]).get("aud")
    except Exception:  # noqa: BLE001 - a malformed proof is the real check's business
        return None
    return aud if isinstance(aud, str) else None


@variant("issuer.ignores_tx_code", "issuer",
         "the token endpoint redeems an offer that has a tx_code without checking the code sent",
         catch=(Catch("issuance.tx_code", expectation="status"),))
def ignores_tx_code(deployment: Any) -> None:
    patch(deployment.apps["issuer"].state.wire, "_check_tx_code", lambda _: lambda offer, tx_code: None)


@variant("issuer.offers_never_expire", "issuer",
         "an offer stays fetchable and redeemable after its expires_in",
         catch=(Catch("issuance.offer_expires", expectation="status"),))
def offers_never_expire(deployment: Any) -> None:
    store = engine(deployment).db
    forever = 10 * 365 * 24 * 3600.0

    def extended(real: Any) -> Any:
        return lambda key: None if (row := real(key)) is None else dataclasses.replace(
            row, expires_at=row.expires_at + forever)
    patch(store, "offer", extended)
    patch(store, "offer_by_code", extended)


@variant("issuer.metadata_missing_configuration", "issuer",
         "the Credential Issuer Metadata leaves out the configuration its offers name",
         catch=(Catch("issuance.happy_path_did_iota", check="oid4vci.issuer_metadata"),))
def metadata_missing_configuration(deployment: Any) -> None:
    offered = "TuringCerts_Standard_Credential_v2_sd_jwt"   # the did:iota tenant's default config

    def drop(body: Any, scope: Any) -> Any:
        body.get("credential_configurations_supported", {}).pop(offered, None)
        return body
    install(deployment, "issuer", lambda app: rewrite_json(app, "GET", ISSUER_METADATA, drop))


@variant("issuer.offer_not_json", "issuer",
         "POST /v1/offers answers its JSON body labelled text/plain",
         catch=(Catch("issuance.happy_path_did_iota", check="api.json_content_type"),))
def offer_not_json(deployment: Any) -> None:
    def relabel(headers: dict[str, str]) -> dict[str, str]:
        return {**headers, "content-type": "text/plain; charset=utf-8"}
    install(deployment, "issuer", lambda app: rewrite_headers(app, "POST", r"/v1/offers", relabel))


@variant("issuer.error_body_shape", "issuer",
         "management API errors answer {\"detail\": <message>} instead of the seed's {\"error\": {code, message}}",
         catch=(Catch("issuance.offer_requires_api_key", check="api.error_shape"),))
def error_body_shape(deployment: Any) -> None:
    def flatten(body: Any, scope: Any) -> Any:
        error = body.get("error") if isinstance(body, Mapping) else None
        return {"detail": error.get("message")} if isinstance(error, Mapping) else body
    install(deployment, "issuer", lambda app: rewrite_json(app, "POST", r"/v1/offers", flatten,
                                                           statuses=range(400, 600)))


@variant("issuer.oauth_error_shape", "issuer",
         "token endpoint errors answer the management shape {\"error\": {code, message}} instead of RFC 6749 §5.2",
         catch=(Catch("issuance.tx_code", check="api.oauth_error_shape"),))
def oauth_error_shape(deployment: Any) -> None:
    def nest(body: Any, scope: Any) -> Any:
        if not isinstance(body, Mapping) or not isinstance(body.get("error"), str):
            return body
        return {"error": {"code": body["error"], "message": body.get("error_description", "")}}
    install(deployment, "issuer", lambda app: rewrite_json(app, "POST", r"/token", nest, statuses=range(400, 600)))


@variant("issuer.generic_unknown_configuration_error", "issuer",
         "an unknown credential_configuration_id is answered invalid_request, not "
         "unknown_credential_configuration (OID4VCI 1.0 §8.3.1.2)",
         catch=(Catch("conformance_suite.issuer.fail_unknown_credential", expectation="body.error"),))
def generic_unknown_configuration_error(deployment: Any) -> None:
    def generic(body: Any, scope: Any) -> Any:
        if isinstance(body, dict) and body.get("error") == "unknown_credential_configuration":
            body["error"] = "invalid_request"
        return body
    install(deployment, "issuer", lambda app: rewrite_json(app, "POST", CREDENTIAL, generic, statuses=range(400, 500)))


@variant("issuer.revocation_not_published", "issuer",
         "revoking a credential updates its record (REVOKED) but never its Token Status List entry",
         catch=(Catch("issuance.revocation", check="status.revoked"),))
def revocation_not_published(deployment: Any) -> None:
    patch(engine(deployment).status_lists, "set", lambda _: lambda entry, status: None)


@variant("issuer.status_list_bad_signature", "issuer",
         "the Status List Token is served with a corrupted signature",
         catch=(Catch("issuance.happy_path_did_iota", check="sdjwt.status_claim"),))
def status_list_bad_signature(deployment: Any) -> None:
    def corrupt(body: bytes, scope: Any) -> bytes:
        return flip_signature(body.decode().strip()).encode()
    install(deployment, "issuer", lambda app: rewrite_body(app, "GET", STATUS_LIST, corrupt, statuses=range(200, 201)))


@variant("issuer.untrusted_x509_chain", "issuer",
         "the X.509 tenant signs with a self-signed leaf (same subject and SANs) that no trust anchor vouches for",
         catch=(Catch("verification.wallet_direct_post_jwt", expectation="body.status"),))
def untrusted_x509_chain(deployment: Any) -> None:
    signers = engine(deployment).signers
    patch(signers, "_settings", lambda settings: dataclasses.replace(settings, x509=self_signed_like(settings.x509)))


def self_signed_like(signer: Any) -> X509Signer:
    """A fresh P-256 key under a self-signed certificate copying the real leaf's subject,
    validity and SANs: a consistent one-certificate chain, anchored nowhere."""
    leaf = x509.load_der_x509_certificate(base64.b64decode(signer.x5c[0]))
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(leaf.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(leaf.not_valid_before_utc).not_valid_after(leaf.not_valid_after_utc)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    cert = builder.add_extension(san.value, critical=san.critical).sign(key, hashes.SHA256())
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return X509Signer.from_pem(key_pem, [cert.public_bytes(pem)])


@variant("issuer.never_notarizes", "issuer",
         "credentials are recorded for notarization but never sent to the ledger: on_chain_status stays PENDING",
         catch=(Catch("notarization.lifecycle_and_anchor", expectation="body.0.on_chain_status"),))
def never_notarizes(deployment: Any) -> None:
    patch(engine(deployment).notarizer, "start", lambda _: lambda credential_id: None)


@variant("issuer.anchors_other_jwt", "issuer",
         "notarization anchors another validly signed JWT (iat moved by 1 s) instead of the issued one",
         catch=(Catch("notarization.lifecycle_and_anchor", check="notarization.anchor_matches_jwt"),))
def anchors_other_jwt(deployment: Any) -> None:
    issuer = engine(deployment)

    def shifted(payload: dict[str, Any]) -> dict[str, Any]:
        payload["iat"] = payload["iat"] + 1
        return payload

    def other(jwt: str) -> str:
        return resign(issuer.default_issuer.key, jwt, shifted) or jwt
    patch(issuer.notarizer, "_submit", lambda real: lambda jwt: real(other(jwt)))


@variant("issuer.no_webhook", "issuer",
         "the credential.notarized webhook is never sent, although notarization completes",
         catch=(Catch("notarization.webhook", expectation="artefacts.webhook_calls"),))
def no_webhook(deployment: Any) -> None:
    async def silent(credential_id: str) -> None:
        return None
    patch(engine(deployment).notarizer, "_webhook", lambda _: silent)


@variant("issuer.webhook_sent_twice", "issuer",
         "the credential.notarized webhook is posted twice (the seed: a single POST, never retried)",
         catch=(Catch("notarization.webhook", expectation="artefacts.webhook_calls"),))
def webhook_sent_twice(deployment: Any) -> None:
    issuer = engine(deployment)
    patch(issuer.db, "claim_webhook", lambda _: lambda credential_id, now: True)

    def twice(real: Any) -> Any:
        async def send(credential_id: str) -> None:
            await real(credential_id)
            await real(credential_id)
        return send
    patch(issuer.notarizer, "_webhook", twice)


# --- holder ---------------------------------------------------------------------------------------

@variant("holder.discloses_withheld_claims", "holder",
         "a custodial presentation reveals every claim of the credential, not only those selected",
         catch=(Catch("holder.present_to_verifier", expectation="body.presentation_metadata.claims.issuedTime"),))
def discloses_withheld_claims(deployment: Any) -> None:
    presenter = deployment.services["holder"].presenter

    def everything(real: Any) -> Any:
        async def choose(owner: str, query: Any, selection: Any, holder_did: str, position: int) -> Any:
            return await real(owner, query, dataclasses.replace(selection, disclosed_claims=None),
                              holder_did, position)
        return choose
    patch(presenter, "_choose", everything)


@variant("holder.lists_deleted_credentials", "holder",
         "GET /v1/vc still lists soft-deleted credentials",
         catch=(Catch("holder.receive_and_manage", expectation="body.credentials"),))
def lists_deleted_credentials(deployment: Any) -> None:
    store = deployment.services["holder"].store

    def with_deleted(owner: str) -> list[Any]:
        # The bug: the query forgets `deleted_at IS NULL`.
        rows = store.db.all("SELECT id FROM credentials WHERE owner = ? ORDER BY created_at, rowid", (owner,))
        return [store.credential(row["id"]) for row in rows]
    patch(store, "credentials_of", lambda _: with_deleted)


@variant("holder.crashes_without_token", "holder",
         "a request without an Authorization header crashes with 500 text/plain instead of 401",
         catch=(Catch("holder.authentication_and_ownership", expectation="status"),
                Catch("holder.authentication_and_ownership", check="api.error_shape")))
def crashes_without_token(deployment: Any) -> None:
    def untokened(scope: Any) -> bool:
        open_paths = ("/v1/user/register", "/v1/user/login", "/openapi.json")
        return scope.get("path") not in open_paths and header(scope, "authorization") is None
    install(deployment, "holder", lambda app: answer_instead(app, untokened, 500, b"Internal Server Error",
                                                             "text/plain; charset=utf-8"))


@variant("holder.accepts_any_password", "holder",
         "POST /v1/user/login accepts any password for an existing user",
         catch=(Catch("holder.authentication_and_ownership", expectation="status"),))
def accepts_any_password(deployment: Any) -> None:
    patch(deployment.services["holder"].accounts, "hasher",
          lambda hasher: Proxy(hasher, verify=lambda password, stored: stored is not None))


@variant("holder.foreign_credentials", "holder",
         "a user can read, present and delete another user's credential by its id (no ownership check)",
         catch=(Catch("holder.isolation_and_soft_delete", expectation="status"),))
def foreign_credentials(deployment: Any) -> None:
    wallet = deployment.services["holder"].wallet

    def anyone(real: Any) -> Any:
        def owned(owner: str, credential_id: str, field: str = "id") -> Any:
            row = wallet.store.credential(credential_id)
            return real(row.owner if row is not None else owner, credential_id, field)
        return owned
    patch(wallet, "owned", anyone)


@variant("holder.request_object_unverified", "holder",
         "the custodial wallet accepts a Request Object whatever its signature (any key 'verifies')",
         catch=(Catch("conformance_suite.wallet.negative_tests", expectation="status"),))
def request_object_unverified(deployment: Any) -> None:
    presenter = deployment.services["holder"].presenter

    def trusting(real: Any) -> Any:
        async def request_key(did_url: Any, jwk: Any) -> Any:
            key = await real(did_url, jwk)
            return TrustingKey(key.alg, key.key)
        return request_key
    patch(presenter, "_request_key", trusting)


@variant("holder.tokens_never_expire", "holder",
         "holder access tokens are accepted after their expires_in",
         catch=(Catch("holder.status_and_token_expiry", expectation="status"),))
def tokens_never_expire(deployment: Any) -> None:
    # Tokens are checked as if it were still 1970.
    patch(deployment.services["holder"].accounts, "tokens",
          lambda tokens: Proxy(tokens, subject=lambda token, now: tokens.subject(token, 0.0)))


@variant("holder.accepts_unverified_credentials", "holder",
         "POST /v1/oid4vci/receive keeps a credential whose Issuer-signed JWT signature does not verify",
         catch=(Catch("holder.untrusted_issuer", expectation="status"),))
def accepts_unverified_credentials(deployment: Any) -> None:
    patch(deployment.services["holder"].receiver, "keys", trusting_keys)


@variant("holder.did_delete_is_a_no_op", "holder",
         "DELETE /v1/did/{did} answers 204 but the DID stays listed and usable",
         catch=(Catch("holder.account_and_dids", expectation="body.dids"),))
def did_delete_is_a_no_op(deployment: Any) -> None:
    dids = deployment.services["holder"].dids

    def keep(owner: str, did: str) -> None:
        dids.owned(owner, did, "did")   # still 404 / 403 for a DID that is not the user's
    patch(dids, "delete", lambda _: keep)


# --- verifier -------------------------------------------------------------------------------------

@variant("verifier.skips_signature_check", "verifier",
         "the verifier accepts any Issuer-signed JWT signature: a tampered presentation completes",
         catch=(Catch("verification.tampered_presentation_rejected", expectation="body.status"),))
def skips_signature_check(deployment: Any) -> None:
    patch(deployment.services["verifier"], "keys", trusting_keys)


@variant("verifier.ignores_kb_nonce", "verifier",
         "the KB-JWT nonce is taken on trust instead of being compared with the session's nonce",
         catch=(Catch("verification.replay_and_wrong_nonce", expectation="body.status"),))
def ignores_kb_nonce(deployment: Any) -> None:
    trust_kb_claim(deployment.services["verifier"], "nonce", "nonce")


@variant("verifier.ignores_kb_audience", "verifier",
         "the KB-JWT aud is taken on trust instead of being compared with the Client Identifier",
         catch=(Catch("conformance_suite.verifier.invalid_kb_jwt_aud", check="verification.presentation_rejected"),))
def ignores_kb_audience(deployment: Any) -> None:
    trust_kb_claim(deployment.services["verifier"], "aud", "client_id")


def trust_kb_claim(service: Any, claim: str, session_field: str) -> None:
    """The verifier checks the KB-JWT against the session's value... after setting the session's
    value to what the KB-JWT says: the check can no longer fail."""
    def trusting(real: Any) -> Any:
        async def verify(session: Any, parsed: Any, mode: str) -> Any:
            value = _kb_claim(parsed, claim)
            if value is not None:
                session = dataclasses.replace(session, **{session_field: value})
            return await real(session, parsed, mode)
        return verify
    patch(service, "_verify", trusting)


def _kb_claim(parsed: Any, name: str) -> str | None:
    """Claim `name` of the first KB-JWT of the response's vp_token."""
    for presentations in dict(getattr(parsed, "vp_token", None) or {}).values():
        for presentation in presentations:
            kb = presentation.rsplit("~", 1)[-1] if isinstance(presentation, str) else ""
            if kb.count(".") == 2:
                value = payload_of(kb).get(name)
                return value if isinstance(value, str) else None
    return None


@variant("verifier.kb_iat_unbounded", "verifier",
         "a KB-JWT is accepted however long ago it was signed (iat_max_age of ~30 years, RFC 9901 §7.3 step 5.5)",
         catch=(Catch("conformance_suite.verifier.kb_jwt_iat_in_past", check="verification.presentation_rejected"),))
def kb_iat_unbounded(deployment: Any) -> None:
    patch(deployment.services["verifier"], "settings",
          lambda settings: dataclasses.replace(settings, iat_max_age=30 * 365 * 24 * 3600))


@variant("verifier.completed_despite_failure", "verifier",
         "the result reports status completed for a session whose checks failed",
         catch=(Catch("verification.tampered_presentation_rejected", expectation="body.status"),))
def completed_despite_failure(deployment: Any) -> None:
    def upgrade(body: Any, scope: Any) -> Any:
        if isinstance(body, dict) and body.get("status") == "failed":
            body["status"] = "completed"
        return body
    install(deployment, "verifier", lambda app: rewrite_json(app, "GET", VERIFIER_RESULT, upgrade,
                                                             statuses=range(200, 201)))


@variant("verifier.accepts_replay", "verifier",
         "a session takes a second Authorization Response (OID4VP 1.0 §14.1: one response per session)",
         catch=(Catch("verification.replay_and_wrong_nonce", expectation="status"),))
def accepts_replay(deployment: Any) -> None:
    service = deployment.services["verifier"]

    def reopen(real: Any) -> Any:
        def open_session(session_id: str, status: int, code: str) -> Any:
            session = service.sessions.get(session_id)
            if session is not None and (session.answered_at is not None or session.status in ANSWERED):
                return session   # the bug: an answered session is open again
            return real(session_id, status, code)
        return open_session
    patch(service, "_open_session", reopen)
    patch(service.sessions, "claim_answer", lambda _: lambda session_id, now: True)


@variant("verifier.open_result_api", "verifier",
         "GET /v1/verifier/result/{id} answers without an X-API-Key",
         catch=(Catch("verification.replay_and_wrong_nonce", expectation="status"),))
def open_result_api(deployment: Any) -> None:
    patch(deployment.services["verifier"], "authenticate",
          lambda real: lambda api_key: None if api_key is None else real(api_key))


@variant("verifier.ignores_revocation", "verifier",
         "the status check reads every Token Status List entry as VALID: a revoked credential is accepted",
         catch=(Catch("conformance_suite.verifier.present_revoked_credential",
                      check="verification.presentation_rejected"),))
def ignores_revocation(deployment: Any) -> None:
    def all_valid(real: Any) -> Proxy:
        def get(idx: int) -> int:
            real.get(idx)   # an index out of range still fails, as it should
            return 0        # VALID
        return Proxy(real, get=get)

    def lenient(fetcher: Any) -> Proxy:
        async def fetch(*args: Any, **kwargs: Any) -> Any:
            fetched = await fetcher.fetch(*args, **kwargs)
            return SimpleNamespace(status_list=all_valid(fetched.status_list))
        return Proxy(fetcher, fetch=fetch)
    patch(deployment.services["verifier"], "status_lists", lenient)


@variant("verifier.request_object_bad_signature", "verifier",
         "the Request Object is served with a corrupted signature",
         catch=(Catch("conformance_suite.verifier.happy_flow", expectation="artefacts.stage"),))
def request_object_bad_signature(deployment: Any) -> None:
    def corrupt(body: bytes, scope: Any) -> bytes:
        return flip_signature(body.decode().strip()).encode()
    install(deployment, "verifier", lambda app: rewrite_body(app, "GET", REQUEST_OBJECT, corrupt,
                                                             statuses=range(200, 201)))


@variant("verifier.sessions_never_expire", "verifier",
         "a session waiting for its response never becomes expired (nor refuses a late response)",
         catch=(Catch("verification.session_lifecycle_and_expiry", expectation="body.status"),))
def sessions_never_expire(deployment: Any) -> None:
    patch(deployment.services["verifier"], "status_of", lambda _: lambda session: session.status)


@variant("verifier.always_run_all", "verifier",
         "verification_mode fail_fast is ignored: every check runs and the result says run_all",
         catch=(Catch("verification.fail_fast_and_run_all", expectation="body.verification_mode"),))
def always_run_all(deployment: Any) -> None:
    patch(deployment.services["verifier"], "_verify",
          lambda real: lambda session, parsed, mode: real(session, parsed, "run_all"))


# --- ledger ---------------------------------------------------------------------------------------

@variant("ledger.object_state_altered", "ledger",
         "GET /v1/objects/{id} serves a state.data other than the data notarized (last character changed)",
         catch=(Catch("notarization.lifecycle_and_anchor", check="notarization.anchor_matches_jwt"),))
def object_state_altered(deployment: Any) -> None:
    def alter(body: Any, scope: Any) -> Any:
        state = body.get("state") if isinstance(body, dict) else None
        data = state.get("data") if isinstance(state, dict) else None
        if isinstance(data, str) and data:
            state["data"] = data[:-1] + ("A" if data[-1] != "A" else "B")
        return body
    install(deployment, "ledger", lambda app: rewrite_json(app, "GET", LEDGER_OBJECT, alter, statuses=range(200, 201)))


@variant("ledger.resolves_wrong_key", "ledger",
         "DID resolution serves documents whose verification methods carry a key the DID does not control",
         catch=(Catch("issuance.happy_path_did_iota", check="sdjwt.issuer_signature"),))
def resolves_wrong_key(deployment: Any) -> None:
    strangers: dict[str, dict[str, Any]] = {}

    def swap(body: Any, scope: Any) -> Any:
        document = body.get("didDocument") if isinstance(body, dict) else None
        for method in (document or {}).get("verificationMethod", []):
            jwk = method.get("publicKeyJwk")
            if isinstance(jwk, dict):
                stranger = strangers.setdefault(json.dumps(jwk, sort_keys=True),
                                                generate_key(_alg_of(jwk)).public.to_jwk())
                method["publicKeyJwk"] = {**jwk, **stranger}
        return body

    def wrap(app: Any) -> Any:
        # Only the resolution answers: the ledger's own registry keeps the true documents.
        return rewrite_json(app, "GET", DID_RESOLUTION, swap, statuses=range(200, 201))
    install(deployment, "ledger", wrap)


def _alg_of(jwk: Mapping[str, Any]) -> str:
    return "EdDSA" if jwk.get("kty") == "OKP" else "ES256"


@variant("ledger.deactivation_ignored", "ledger",
         "a deactivated did:iota still resolves as active (200, deactivated false) instead of 410 Gone",
         catch=(Catch("issuance.happy_path_issuer_did_override", expectation="status"),))
def deactivation_ignored(deployment: Any) -> None:
    def revive(status: int, body: bytes, scope: Any) -> tuple[int, bytes]:
        result = json.loads(body) if status == 410 and body else None
        metadata = result.get("didDocumentMetadata") if isinstance(result, dict) else None
        if not isinstance(metadata, dict) or not metadata.get("deactivated"):
            return status, body
        metadata["deactivated"] = False
        return 200, json.dumps(result).encode()
    install(deployment, "ledger", lambda app: rewrite_response(app, "GET", DID_RESOLUTION, revive))

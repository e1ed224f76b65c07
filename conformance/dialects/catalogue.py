"""The abstract operations: name, the roles a target needs for it, what it does, its inputs.

An operation means the same thing in every dialect (its inputs and the artefacts it yields are
the same); a dialect only decides which HTTP calls implement it. Scenarios name operations from
this catalogue, and `operation_roles` answers from it, whatever the target's dialect.

Role `reference` is a pseudo-role: the in-process controls of the embedded reference target
(its clock, its ledger's fault knobs). Only that target has it, so scenarios using
`reference.*` operations are skipped elsewhere, with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

REFERENCE_ROLE = "reference"


@dataclass(frozen=True)
class OperationSpec:
    name: str
    roles: tuple[str, ...]
    summary: str
    inputs: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _spec(name: str, roles: tuple[str, ...], summary: str, /, **inputs: str) -> OperationSpec:
    return OperationSpec(name, roles, summary, MappingProxyType(inputs))


API_KEY = ("logical API key: `default` (the role's), `none` (send no X-API-Key), a name from the "
           "role's `api_keys` (reference: x509, limited), or a literal key")
TOKEN = ("holder access token: default the one `holder.login` got in this scenario; `none` sends no "
         "Authorization header; anything else is sent as the bearer token")
CREDENTIAL = "an issued credential (SD-JWT) to carry into this step's artefacts, for its checks"
TIMEOUT = "seconds to keep polling (default: the target's poll timeout)"
INTERVAL = "seconds between polls (default: the target's poll interval)"
OFFERED_CLAIMS = "the claims the offer carried (object), for the issuance.claims_as_offered check"

_ALL: tuple[OperationSpec, ...] = (
    # --- issuer management API (TCS issuer seed) -------------------------------------------------
    _spec("issuer.create_offer", ("issuer",), "create a credential offer (POST /v1/offers); artefacts: offer "
          "(the Credential Offer object fetched from credential_offer_uri), offer_id, deep_link, tx_code_value (with "
          "tx_code), claims (as offered)",
          config="logical configuration name from the target's config_ids (e.g. default, identity) or a "
                 "literal credential configuration id (default: `default`)",
          claims="the credential's claims (object)",
          notarize="notarize_on_iota (omitted when not given)",
          tx_code="true for a 6-digit numeric transaction code, or the tx_code object itself",
          expires_in="offer lifetime in seconds",
          holder_did="bind the offer to this holder DID",
          issuer_did="override the issuer DID (with issuer_private_key)",
          issuer_private_key="base64url raw private key of issuer_did",
          callback="true: the scenario's webhook receiver URL; or a literal callback_url",
          flow="issuance flow (default pre-authorized)",
          deferred="true: deferred issuance, the credential follows once the backend supplies the claims "
                   "(OID4VCI 1.0 §9; orgwallet issuanceMode Deferred); claims may then be left out",
          api_key=API_KEY),
    _spec("issuer.offer_credentials", ("issuer",), "the credential records of an offer "
          "(GET /v1/offers/{id}/credentials); artefacts: credential_records",
          offer_id="the offer's id", api_key=API_KEY),
    _spec("issuer.wait_notarization", ("issuer",), "poll the offer's credential records until every one's "
          "on_chain_status is COMPLETED or FAILED (bounded); artefacts: credential_records, object_id, "
          "on_chain_status, polls, webhook_calls",
          offer_id="the offer's id", timeout=TIMEOUT, interval=INTERVAL, api_key=API_KEY,
          observe="true: never let the embedded reference settle its background work between polls, so every "
                  "intermediate on_chain_status is seen (artefacts on_chain_history, on_chain_statuses)"),
    _spec("issuer.revoke", ("issuer",), "change a credential's status (POST /v1/credentials/{id}/status, "
          "default REVOKED); artefacts: credential_record, credential",
          credential_id="the credential record's id", status="ACTIVE, SUSPENDED or REVOKED (default REVOKED)",
          credential=CREDENTIAL, api_key=API_KEY),
    _spec("issuer.supply_deferred", ("issuer",), "deferred issuance: the backend's claims are ready, the wallet's "
          "next Deferred Credential Request gets the credential (orgwallet: POST .../history/{id}/issue-deferred); "
          "artefacts: credential_history", offer_id="the offer's (exchange's) id",
          claims="the credential's claims (default: those given with the offer)", api_key=API_KEY),
    _spec("issuer.deny", ("issuer",), "the issuer denies an offer's issuance (orgwallet: POST .../history/{id}/deny); "
          "artefacts: credential_history", offer_id="the offer's (exchange's) id", reason="why, shown to the holder",
          api_key=API_KEY),
    _spec("issuer.wait_callbacks", ("issuer",), "wait (bounded) for the issuer's issuance callbacks about an offer "
          "(EUDIW connector: OFFER_CREATED, then ISSUED, FAILED or EXPIRED) until one with an `until` status "
          "arrived; artefacts: callbacks (deduplicated by eventId + status, in arrival order), statuses, "
          "duplicates, webhook_calls",
          offer_id="the offer's id", until="a status or a list of them (default: ISSUED, FAILED or EXPIRED)",
          timeout=TIMEOUT),
    # --- the harness's own wallet over the OID4VCI / OID4VP wire (dialect-independent) ------------
    _spec("wallet.receive", ("issuer",), "the harness wallet redeems an offer over OID4VCI 1.0 (offer, "
          "metadata, token, nonce, credential); artefacts: credential, issuer_jwt, holder_key, offer, "
          "issuer_metadata, token_response ...",
          offer="the offer: openid-credential-offer:// link, offer URI or offer JSON",
          tx_code="the transaction code to send", config="credential configuration to request "
          "(logical name or literal id; default: the offer's first)",
          alg="proof key algorithm, ES256 (default) or EdDSA", faults="wallet misbehaviours (list)",
          headers="extra headers of the Credential Request (object), e.g. Accept variants",
          offered_claims=OFFERED_CLAIMS),
    _spec("wallet.credential_request", ("issuer",), "one more Credential Request (fresh c_nonce and key proof) "
          "on the access token of this scenario's last wallet.receive; artefacts: credential, issuer_jwt, "
          "holder_key, c_nonce, notification_id",
          config="credential configuration (logical or literal; default: the one wallet.receive asked for)",
          credential_identifier="send this credential_identifier instead of credential_configuration_id",
          private_key="sign the key proof with this base64url raw private key (default: a fresh key)",
          kid="the DID URL naming private_key's public key (sent as kid; without it the key goes as jwk)",
          alg="key algorithm: ES256 (default for a fresh key) or EdDSA (default with private_key)",
          headers="extra request headers (object), e.g. Accept variants", offered_claims=OFFERED_CLAIMS),
    _spec("wallet.notify", ("issuer",), "POST the Notification Endpoint with the session's access token "
          "(OID4VCI 1.0 §11)", event="credential_accepted (default), credential_failure or credential_deleted",
          notification_id="default: the last Credential Response's", description="event_description"),
    _spec("wallet.metadata", ("issuer",), "read the Credential Issuer Metadata and its Authorization Server "
          "Metadata as a wallet does (well-known URLs); artefacts: offer, issuer_metadata, as_metadata",
          offer="an offer naming the Credential Issuer (link, URI, JSON or object)",
          credential_issuer="the Credential Issuer Identifier (instead of an offer)"),
    _spec("wallet.collect_deferred", ("issuer",), "the Deferred Credential Request (OID4VCI 1.0 §9) on the access "
          "token of this scenario's wallet.receive: 202 while pending, then the credential; artefacts: credential, "
          "issuer_jwt, notification_id, transaction_id, polls",
          transaction_id="the transaction_id the Credential Request answered (capture artefacts.transaction_id)",
          wait="false: one request (see the pending answer); default: poll until no longer pending (bounded)",
          holder_key="the key wallet.receive proved (capture artefacts.holder_key), for the cnf checks",
          timeout=TIMEOUT, interval=INTERVAL),
    _spec("wallet.present", ("verifier",), "the harness wallet answers an OID4VP 1.0 request with a credential "
          "it received in this scenario; artefacts: request_object, presentation, vp_token ...",
          request="the Authorization Request (openid4vp:// URL)",
          credential="index into the credentials received in this scenario (default: the wallet chooses)",
          disclose="query id -> claim paths to disclose (default: what the query asks)",
          request_uri_method="get or post", faults="wallet misbehaviours (list)"),
    # --- holder (custodial wallet) management API (TCS holder seed) -------------------------------
    _spec("holder.register", ("holder",), "register a user (POST /v1/user/register); remembers uuid and password",
          name="display name (default: a random one)", password="password (default: a random one)",
          uuid="a chosen user id"),
    _spec("holder.login", ("holder",), "log in (POST /v1/user/login); remembers the access token",
          uuid="user id (default: the registered one)", password="password (default: the registered one)"),
    _spec("holder.create_did", ("holder",), "create a DID (POST /v1/did); remembers it and its private key; artefacts: "
          "did, holder_key",
          method="IOTA (default), KEY or JWK", token=TOKEN),
    _spec("holder.import_did", ("holder",), "import a DID with its private key (POST /v1/did/import); "
          "without `did`, the harness makes a fresh did:key (ES256) or did:jwk (EdDSA); artefacts: did, "
          "private_key, holder_key",
          did="the DID to import", private_key="its base64url raw private key",
          method="KEY (default) or JWK: the kind of DID the harness makes when `did` is not given",
          token=TOKEN),
    _spec("holder.list_dids", ("holder",), "list the user's DIDs (GET /v1/did)", token=TOKEN),
    _spec("holder.delete_did", ("holder",), "delete a DID locally (DELETE /v1/did/{did})",
          did="the DID (default: the last one created or imported)", token=TOKEN),
    _spec("holder.offer_details", ("holder",), "parse an offer (POST /v1/oid4vci/offer-details)",
          offer="the offer link or URI", token=TOKEN),
    _spec("holder.receive", ("holder",), "receive a credential (POST /v1/oid4vci/receive); artefacts: "
          "credential, holder_key",
          offer="the offer link or URI", did="holder DID (default: the last one created or imported)",
          private_key="its private key (default: the remembered one)",
          config="credential_configuration_id (logical or literal)", user_pin="the transaction code",
          notarize="notarize_on_iota", token=TOKEN),
    _spec("holder.list_credentials", ("holder",), "list the user's credentials (GET /v1/vc)", token=TOKEN),
    _spec("holder.get_credential", ("holder",), "one credential record (GET /v1/vc/{id}); artefacts: credential",
          credential_id="the credential id", token=TOKEN),
    _spec("holder.delete_credential", ("holder",), "soft-delete a credential (DELETE /v1/vc/{id})",
          credential_id="the credential id", token=TOKEN),
    _spec("holder.request_details", ("holder",), "parse a verifier request and match the wallet "
          "(POST /v1/oid4vp/request-details); remembers the matches; artefacts: matching_credentials",
          request="the Authorization Request URI", token=TOKEN),
    _spec("holder.present", ("holder",), "present (POST /v1/oid4vp/presentation); without `selected` or "
          "`credential_id` it presents every match of the last holder.request_details, disclosing what "
          "was requested",
          request="the Authorization Request URI", selected="selected_credentials, as the seed's body",
          credential_id="one credential to present", query_id="its DCQL credential query id",
          disclosed_claims="claim names to disclose (default: the requested ones)",
          did="holder DID (default: the remembered one)", private_key="its private key (default: remembered)",
          verification_mode="fail_fast or run_all", token=TOKEN),
    # --- verifier management API (TCS verifier seed) ----------------------------------------------
    _spec("verifier.create_request", ("verifier",), "create an authorization request "
          "(POST /v1/verifier/authorization-request) with a fresh Ed25519 verifier key; artefacts: "
          "authorization_request, session_id, verifier_client_id, verifier_key",
          dcql="the DCQL query (object)",
          client_id_scheme="did:key (default), did:jwk or did:iota (registered on the target's ledger)",
          client_id="a literal verifier_client_id (with private_key)",
          private_key="base64url raw Ed25519 key of client_id",
          response_mode="direct_post (default) or direct_post.jwt", expires_in="session lifetime in seconds",
          client_metadata="client_metadata object", redirect_uri="redirect_uri",
          request_uri_method="get or post: sent in the Authorization Request (OID4VP 1.0 §5.10; an extension "
                             "to the seed's body, documented by the reference verifier)",
          api_key=API_KEY),
    _spec("verifier.result", ("verifier",), "read a session's result (GET /v1/verifier/result/{id}); "
          "artefacts: verifier_result, check_results (check name -> entry), first_failure",
          session_id="the session id (default: the last created)", api_key=API_KEY),
    _spec("verifier.wait_result", ("verifier",), "poll a session's result until completed, failed or "
          "expired (bounded); artefacts: verifier_result, check_results (check name -> entry), first_failure, "
          "polls",
          session_id="the session id (default: the last created)", timeout=TIMEOUT, interval=INTERVAL,
          api_key=API_KEY),
    # --- ledger (IOTA-like) -----------------------------------------------------------------------
    _spec("ledger.object", ("ledger",), "read a notarization object (GET /v1/objects/{id}); artefacts: "
          "ledger_object, credential", object_id="the object id", credential=CREDENTIAL),
    _spec("ledger.resolve", ("ledger",), "resolve a DID (GET /1.0/identifiers/{did}); artefacts: did_document",
          did="the DID"),
    _spec("ledger.create_did", ("ledger",), "publish a fresh Ed25519 did:iota (POST /v1/dids); artefacts: "
          "did, kid, private_key (base64url raw)", network="the network name (default: the ledger's)"),
    _spec("ledger.deactivate_did", ("ledger",), "deactivate a did:iota (POST /v1/dids/{did}/deactivate, signed "
          "with its capabilityInvocation key); artefacts: did, did_document",
          did="the DID", private_key="its base64url raw Ed25519 private key (e.g. ledger.create_did's)"),
    # --- the harness as the Verifier of a wallet under test (relying party double, conformance/rp.py)
    _spec("rp.create_request", ("holder",), "the harness hosts a Verifier and creates an OID4VP 1.0 request for "
          "the wallet under test: a Request Object at request_uri (signed by a fresh did:key), a response_uri; "
          "artefacts: authorization_request, request_id, request_object, rp_client_id, verifier_key",
          dcql="the DCQL query (object)",
          variations="deliberate deviations (list), conformance/rp.py VARIATIONS: bad_signature, "
                     "client_id_mismatch, response_uri_not_allowed, redirect_uri_with_direct_post, bad_typ, no_typ, no_nonce, "
                     "bad_prefix, no_state, long_state, unknown_params, request_uri_method_post, "
                     "response_redirect, enc_key_without_use, request_uri_unknown, request_uri_unreachable, "
                     "response_uri_unreachable",
          response_mode="direct_post (default) or direct_post.jwt",
          client_metadata="client_metadata display members (object)"),
    _spec("rp.response", ("holder",), "what reached the harness Verifier for a request, judged with the protocol "
          "core: outcome no_response | error_response | presented | invalid_response, the request_uri fetches, "
          "the presentations and every problem; artefacts: rp_result, request_object, presentation, presentations",
          request_id="the request (default: the last rp.create_request)",
          timeout="seconds to wait for a response to arrive (default 0)"),
    # --- the harness as the Credential Issuer of a wallet under test (issuer double, conformance/issuer_double.py)
    _spec("issuer.double_offer", ("holder",), "the harness hosts an OID4VCI 1.0 pre-authorized code "
          "Credential Issuer (offer, issuer and AS metadata, token, nonce, credential endpoints, its key at "
          "/.well-known/jwt-vc-issuer) and creates an offer whose SD-JWT VC is broken as `defects` say; "
          "artefacts: deep_link, offer, offer_id, issuer_metadata, issuer_key, issuer_kid, claims, vct, defects",
          defects="deliberate defects of the credential (list; none: a good one), conformance/issuer_double.py "
                  "DEFECTS: bad_signature, expired, not_yet_valid, wrong_typ, no_cnf, cnf_other_key, "
                  "undisclosed_digest_missing, unknown_issuer_key",
          claims="the credential's selectively disclosable claims (object; default: a credentialName and "
                 "an issuedTime)",
          vct="the credential type (default: <issuer>/vct/<config>)",
          config="the credential configuration id the offer names (default HarnessCredential)"),
    # --- the scenario's webhook receiver (`webhooks: true`) ---------------------------------------
    _spec("webhooks.wait", (), "wait (bounded) until the scenario's webhook receiver got `count` calls; "
          "artefacts: webhook_calls", count="how many calls (default 1)", timeout=TIMEOUT,
          drain="false: do not first let the embedded reference finish its background work (while a slow "
                "receiver holds a call, that would wait for the deployment's webhook timeout)"),
    _spec("webhooks.respond", (), "how the scenario's webhook receiver answers from now on; artefacts: reply",
          status="HTTP status (default 200)", delay="seconds before answering (default 0)",
          redirect_to="Location of a 3xx answer"),
    # --- embedded reference only ------------------------------------------------------------------
    _spec("reference.advance_clock", (REFERENCE_ROLE,), "move the embedded reference's clock forward",
          seconds="how far"),
    _spec("reference.ledger_faults", (REFERENCE_ROLE,), "set the embedded ledger's fault knobs until the "
          "scenario ends; artefacts: faults",
          latency="seconds per notarization step", failure_rate="chance in [0, 1] a notarization fails",
          available="false: the ledger answers 503"),
)

CATALOGUE: Mapping[str, OperationSpec] = MappingProxyType({spec.name: spec for spec in _ALL})


def spec_of(name: str) -> OperationSpec:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"unknown operation {name!r} (known: {', '.join(sorted(CATALOGUE))})") from None


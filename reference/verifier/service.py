"""The verifier's logic (shared/seeds/004): sessions, the signed request, the response, the result.

A session lives `pending` (created) -> `in_progress` (the wallet fetched the Request Object) ->
`completed` | `failed` (a response was verified). `expired` is never stored: it is what a
session still waiting for its response is once the clock passes `expires_at`, and a response
arriving after that is refused.

Replay (OID4VP 1.0 §14.1): a session takes exactly one response. A second one (same state) is
refused with 400 `invalid_request` and changes nothing; a Presentation whose KB-JWT carries
another session's nonce fails `key_binding` (kb_nonce_mismatch).

request_uri_method (OID4VP 1.0 §5.10, an extension of the seed's create body): a creator asking
for `post` gets `request_uri_method=post` in the Authorization Request; a wallet POSTing a
`wallet_nonce` to the request_uri then gets a Request Object re-signed with that `wallet_nonce`
(§5.10.1). The signing key lives in memory for such sessions only (signers.py).
"""

from __future__ import annotations

import hmac
import secrets
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from conformance.protocol.dcql import parse_query
from conformance.protocol.errors import DcqlError, JoseError, Oid4vpError
from conformance.protocol.jose import PrivateKey, parse_jws, private_key_from_b64u
from conformance.protocol.jwe import ecdh_key_from_jwk, generate_ecdh_key
from conformance.protocol.oid4vp import (
    REQUEST_URI_METHODS,
    RESPONSE_MODES,
    AuthorizationErrorResponse,
    build_authorization_request,
    build_client_metadata,
    build_request_object,
    check_state,
    decrypt_response,
    parse_response_params,
)
from conformance.protocol.sdjwt import Unpacked
from conformance.issuer_keys import IssuerKeys, load_trust_anchors
from conformance.resolver import DidResolver
from conformance.status_fetch import StatusListFetcher
from reference.common.body import Body, bad
from reference.common.clock import Clock, iso
from reference.common.errors import ApiError, OAuthError
from reference.common.store import Store
from reference.verifier.checks import FAIL, MODES, SUCCESS, CheckResult, Response, run_checks
from reference.verifier.evaluation import Environment, Failure, disclosed_claims
from reference.verifier.identity import verifier_identity
from reference.verifier.settings import VerifierSettings
from reference.verifier.signers import RequestSigners
from reference.verifier.status import StatusReader
from reference.verifier.store import Session, SessionStore

SUPPORTED_FORMATS = ("dc+sd-jwt",)
# client_metadata members a caller may set (seed: client_name, logo_uri, policy_uri, tos_uri,
# jwks); the rest of the object is built here (vp_formats_supported, the encryption key).
CLIENT_METADATA_MEMBERS = ("client_name", "logo_uri", "policy_uri", "tos_uri", "jwks")
_PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "k"})
_TERMINAL = ("completed", "failed")
# A wallet_nonce is echoed into a signed Request Object: bound its size (§5.10.1 suggests a
# base64url random value; 512 characters is generous).
WALLET_NONCE_MAX = 512


def oauth_error(status: int, code: str, message: str) -> OAuthError:
    """An error of the wallet-facing endpoints; its body (reference.common.errors.oauth_body)
    keeps the description within RFC 6749 §5.2's charset."""
    return OAuthError(status, code, message)


class VerifierService:
    def __init__(self, settings: VerifierSettings, store: Store, clock: Clock, http: httpx.AsyncClient) -> None:
        self.settings, self.clock, self.http = settings, clock, http
        self.sessions = SessionStore(store)
        self.resolver = DidResolver(http, settings.ledger_url, timeout=settings.http_timeout)
        self.keys = IssuerKeys(self.resolver, http, anchors=load_trust_anchors(settings.trust_anchors_pem),
                               require_anchor=True, timeout=settings.http_timeout)
        # No cache across responses: each verification reads the list as it is now.
        self.status_lists = StatusListFetcher(http, self.keys, timeout=settings.http_timeout)
        self.signers = RequestSigners(clock.now)

    async def drain(self) -> None:
        """No background work: every outgoing call finishes inside its request."""

    # --- auth ------------------------------------------------------------------------------------

    def authenticate(self, api_key: str | None) -> None:
        given = (api_key or "").encode()
        # Compare with every key, constant time each, so timing tells nothing about which matched.
        if not given or not any([hmac.compare_digest(given, key.encode()) for key in self.settings.api_keys]):
            raise ApiError(401, "unauthorized", "missing or invalid X-API-Key")

    # --- Step 1: create ----------------------------------------------------------------------------

    async def create(self, body: Body) -> dict[str, Any]:
        dcql_query = _dcql_query(body)
        key = _private_key(body.secret("verifier_private_key", required=True))
        client_id_in = body.str("verifier_client_id", required=True, max_len=2048)
        mode = body.str("response_mode", choices=RESPONSE_MODES) or "direct_post"
        expires_in = body.int("expires_in", minimum=1, maximum=self.settings.max_expires_in) \
            or self.settings.default_expires_in
        metadata_in = _client_metadata(body.obj("client_metadata"))
        redirect_uri = _redirect_uri(body.str("redirect_uri", max_len=2048))
        request_uri_method = body.str("request_uri_method", choices=REQUEST_URI_METHODS)
        assert client_id_in is not None
        identity = await verifier_identity(client_id_in, key, metadata_in, self.resolver,
                                           bare_did=self.settings.bare_did_client_id)
        now = self.clock.now()
        session_id, expires_at = str(uuid.uuid4()), now + expires_in
        nonce, state = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        enc_key = generate_ecdh_key("P-256", kid=f"enc-{secrets.token_urlsafe(8)}") \
            if mode == "direct_post.jwt" else None
        try:
            client_metadata = build_client_metadata(metadata_in, encryption_key=enc_key)
            request_jwt = build_request_object(
                key, client_id=identity.client_id, response_uri=self._url(f"/v1/verifier/presentation/{session_id}"),
                nonce=nonce, state=state, dcql_query=dcql_query, iat=int(now), exp=int(expires_at),
                response_mode=mode, client_metadata=client_metadata, kid=identity.kid)
        except Oid4vpError as exc:
            raise bad(exc.field or "body", exc.message) from None
        self.sessions.add(session_id=session_id, client_id=identity.client_id, request_jwt=request_jwt, nonce=nonce,
                          state=state, dcql_query=dcql_query, response_mode=mode, client_metadata=client_metadata,
                          enc_private_jwk=enc_key.to_jwk() if enc_key else None, redirect_uri=redirect_uri,
                          created_at=now, expires_at=expires_at, request_uri_method=request_uri_method)
        if request_uri_method == "post":
            self.signers.keep(session_id, key, expires_at)
        request_uri = self._url(f"/v1/verifier/request/{session_id}")
        out: dict[str, Any] = {
            "session_id": session_id, "request_uri": request_uri,
            "authorization_request": build_authorization_request(identity.client_id, request_uri,
                                                                 request_uri_method=request_uri_method),
            "expires_at": iso(expires_at), "client_id": identity.client_id,
        }
        if identity.notes:
            out["notes"] = [{"code": "client_id_form", "message": note} for note in identity.notes]
        return out

    def _url(self, path: str) -> str:
        return f"{self.settings.base_url.rstrip('/')}{path}"

    # --- the Request Object ------------------------------------------------------------------------

    def request_object(self, session_id: str, wallet_nonce: Any) -> str:
        """RFC 9101 §5.2 / OID4VP 1.0 §5.10. Served as often as asked until the session is answered
        or expires. A GET (or a POST without wallet_nonce) gets the JAR signed at creation; a POST
        with a `wallet_nonce` gets that JAR re-signed with the nonce added (§5.10.1), which only a
        session offering request_uri_method=post can do (its key is kept in memory)."""
        session = self._open_session(session_id, 404, "invalid_request_uri")
        jar = session.request_jwt if wallet_nonce is None else self._with_wallet_nonce(session, wallet_nonce)
        self.sessions.mark_fetched(session.session_id, self.clock.now())
        return jar

    def _with_wallet_nonce(self, session: Session, wallet_nonce: Any) -> str:
        if not isinstance(wallet_nonce, str) or not wallet_nonce or len(wallet_nonce) > WALLET_NONCE_MAX:
            raise oauth_error(400, "invalid_request", f"wallet_nonce must be a non-empty string of at most "
                              f"{WALLET_NONCE_MAX} characters (OID4VP 1.0 §5.10.1)")
        if session.request_uri_method != "post":
            raise oauth_error(400, "invalid_request", "this session's Authorization Request did not offer "
                              "request_uri_method=post, so no wallet_nonce can be added; fetch the Request "
                              "Object with GET (OID4VP 1.0 §5.10)")
        key = self.signers.get(session.session_id)
        if key is None:
            raise oauth_error(400, "invalid_request", "the signing key of this session is no longer held (the "
                              "verifier restarted), so no wallet_nonce can be added; fetch the Request Object "
                              "with GET or create a new request (OID4VP 1.0 §5.10)")
        signed = parse_jws(session.request_jwt, "request_jwt")
        claims = signed.payload
        try:
            return build_request_object(
                key, client_id=claims["client_id"], response_uri=claims["response_uri"], nonce=claims["nonce"],
                state=claims.get("state"), dcql_query=claims["dcql_query"], iat=int(self.clock.now()),
                exp=claims.get("exp"), response_mode=claims["response_mode"],
                client_metadata=claims.get("client_metadata"), kid=signed.header.get("kid"),
                wallet_nonce=wallet_nonce)
        except Oid4vpError as exc:  # the stored claims were valid when signed: a bug, not the wallet's
            raise RuntimeError(f"cannot re-sign the Request Object: {exc.message}") from None

    def _open_session(self, session_id: str, status: int, code: str) -> Session:
        session = self.sessions.get(session_id)
        if session is None:
            raise oauth_error(404, code, "no such session")
        effective = self.status_of(session)
        if effective == "expired":
            raise oauth_error(status, code, "the session has expired")
        if effective in _TERMINAL or session.answered_at is not None:
            raise oauth_error(status, code, "the session was already answered; a response is accepted once")
        return session

    # --- the response (OID4VP 1.0 §8.2, §8.3.1) -------------------------------------------------------

    async def receive(self, session_id: str, params: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        session = self._open_session(session_id, 400, "invalid_request")
        mode = _verification_mode(params.get("verification_mode"))
        try:
            fields = self._response_fields(session, params)
            check_state(fields.get("state") if isinstance(fields.get("state"), str) else None, session.state)
        except Oid4vpError as exc:
            raise oauth_error(400, "invalid_request", f"{exc.message} ({exc.reason})") from None
        mode = _verification_mode(fields.get("verification_mode")) if "verification_mode" not in params else mode
        if not self.sessions.claim_answer(session.session_id, self.clock.now()):
            raise oauth_error(400, "invalid_request", "the session was already answered; a response is accepted once")
        self.signers.drop(session.session_id)  # answered: no Request Object will be served again
        try:
            parsed = parse_response_params(fields)
        except Oid4vpError as exc:
            parsed = exc
        if isinstance(parsed, AuthorizationErrorResponse):
            self._record_wallet_error(session, parsed)
        else:
            results = await self._verify(session, parsed, mode)
            if results[0].status == FAIL:
                raise oauth_error(400, "invalid_request", f"the response is not OID4VP-compliant: {results[0].message}")
        return 200, self._answer(session)

    def _response_fields(self, session: Session, params: Mapping[str, Any]) -> Mapping[str, Any]:
        if session.response_mode != "direct_post.jwt" or ("error" in params and "response" not in params):
            # §8.3.1: a wallet unable to encrypt MAY send its error response unencrypted.
            return params
        assert session.enc_private_jwk is not None
        return decrypt_response(params.get("response"), ecdh_key_from_jwk(session.enc_private_jwk),
                                client_metadata=session.client_metadata)

    async def _verify(self, session: Session, parsed: Any, mode: str) -> list[CheckResult]:
        now = self.clock.now()
        env = Environment(client_id=session.client_id, nonce=session.nonce, query=parse_query(session.dcql_query),
                          now=now, leeway=self.settings.leeway, iat_max_age=self.settings.iat_max_age,
                          keys=self.keys, statuses=StatusReader(self.status_lists, now))
        response = Response(env, None, unreadable=parsed) if isinstance(parsed, Oid4vpError) \
            else Response(env, dict(parsed.vp_token))
        try:
            results = await run_checks(response, mode)
        except Exception:
            # A bug, not a verdict: the session must not stay answered-but-pending forever.
            self.sessions.record_result(session.session_id, status="failed", verified_at=self.clock.now(),
                                        verification_mode=mode, check_results=[], presentation_metadata=None,
                                        error={"code": "verification_error", "message": "internal error while "
                                               "verifying the response"})
            raise
        completed = all(r.status == SUCCESS for r in results)
        metadata = await _presentation_metadata(response) if completed else None
        self.sessions.record_result(session.session_id, status="completed" if completed else "failed",
                                    verified_at=self.clock.now(), verification_mode=mode,
                                    check_results=[r.as_dict() for r in results], presentation_metadata=metadata,
                                    error=None)
        return results

    def _record_wallet_error(self, session: Session, error: AuthorizationErrorResponse) -> None:
        message = f"the wallet answered with error {error.error!r}" + \
            (f": {error.error_description}" if error.error_description else "")
        result = CheckResult("wallet_response", FAIL, "wallet_error_response", message)
        self.sessions.record_result(session.session_id, status="failed", verified_at=self.clock.now(),
                                    verification_mode=None, check_results=[result.as_dict()],
                                    presentation_metadata=None,
                                    error={"code": error.error, "message": error.error_description or message})

    def _answer(self, session: Session) -> dict[str, Any]:
        """§8.2: a JSON object; with a configured redirect_uri, that URI plus a fresh response_code."""
        if session.redirect_uri is None:
            return {}
        separator = "&" if urlsplit(session.redirect_uri).query else "?"
        code = urlencode({"session_id": session.session_id, "response_code": secrets.token_urlsafe(16)})
        return {"redirect_uri": f"{session.redirect_uri}{separator}{code}"}

    # --- Step 3: the result -----------------------------------------------------------------------

    def status_of(self, session: Session) -> str:
        waiting = session.status not in _TERMINAL and session.answered_at is None
        return "expired" if waiting and self.clock.now() >= session.expires_at else session.status

    def result(self, session_id: str) -> dict[str, Any]:
        session = self.sessions.get(session_id)
        if session is None:
            raise ApiError(404, "session_not_found", f"no verification session {session_id}", "session_id")
        status = self.status_of(session)
        out: dict[str, Any] = {"session_id": session.session_id, "status": status,
                               "created_at": iso(session.created_at), "expires_at": iso(session.expires_at)}
        if status == "expired":
            out["error"] = {"code": "session_expired", "message": "Session TTL elapsed without a wallet response"}
        if status in _TERMINAL:
            out.update({"verified_at": iso(session.verified_at), "check_results": session.check_results})
            if session.verification_mode is not None:
                out["verification_mode"] = session.verification_mode
            if session.presentation_metadata is not None:
                out["presentation_metadata"] = session.presentation_metadata
            if session.error is not None:
                out["error"] = session.error
        return out


# --- parsing the create body ------------------------------------------------------------------------

def _dcql_query(body: Body) -> dict[str, Any]:
    query = body.obj("dcql_query", required=True)
    assert query is not None
    try:
        parsed = parse_query(query.data)
    except DcqlError as exc:
        field = f"dcql_query.{exc.field}" if exc.field else "dcql_query"
        raise ApiError(400, exc.reason, f"{field}: {exc.message}", field) from None
    for position, credential in enumerate(parsed.credentials):
        if credential.format not in SUPPORTED_FORMATS:
            raise ApiError(400, "vp_formats_not_supported", f"dcql_query.credentials[{position}].format "
                           f"{credential.format!r} cannot be verified here (supported: {', '.join(SUPPORTED_FORMATS)})",
                           f"dcql_query.credentials[{position}].format")
    return dict(query.data)


def _private_key(text: str | None) -> PrivateKey:
    assert text is not None
    try:
        return private_key_from_b64u(text, "EdDSA", "verifier_private_key")
    except JoseError as exc:
        raise ApiError(400, "invalid_verifier_private_key", exc.message, "verifier_private_key") from None


def _client_metadata(metadata: Body | None) -> dict[str, Any]:
    if metadata is None:
        return {}
    chosen = {k: v for k, v in metadata.data.items() if k in CLIENT_METADATA_MEMBERS}
    jwks = chosen.get("jwks")
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if jwks is not None and not isinstance(keys, list):
        raise bad("client_metadata.jwks", "must be a JWK Set {\"keys\": [...]}")
    for position, jwk in enumerate(keys or []):
        if not isinstance(jwk, Mapping) or _PRIVATE_JWK_MEMBERS & jwk.keys():
            raise bad(f"client_metadata.jwks.keys[{position}]", "must be a public JWK (no private members): the "
                      "metadata is sent to every wallet")
    return chosen


def _redirect_uri(value: str | None) -> str | None:
    if value is not None and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise bad("redirect_uri", "must be an absolute http(s) URL")
    return value


def _verification_mode(value: Any) -> str:
    if value is None:
        return "fail_fast"
    if value not in MODES:
        raise oauth_error(400, "invalid_request", f"verification_mode must be one of {', '.join(MODES)}")
    return value


async def _presentation_metadata(response: Response) -> dict[str, Any]:
    """The seed's presentation_metadata: `claims` holds exactly the disclosed claims (of every
    Presentation, merged; the first wins a name clash), and one credential_metadata entry each."""
    claims: dict[str, Any] = {}
    credentials = []
    for p in response.presentations or []:
        unpacked = await p.unpacked()
        assert not isinstance(unpacked, Failure) and isinstance(unpacked, Unpacked)
        disclosed = disclosed_claims(unpacked)
        for name, value in disclosed.items():
            claims.setdefault(name, value)
        payload = unpacked.claims
        credentials.append({
            "query_id": p.query_id, "issuer": payload.get("iss"), "vct": payload.get("vct"),
            "credential_type": [payload["vct"]] if isinstance(payload.get("vct"), str) else [],
            "issued_at": _time(payload.get("iat")), "expires_at": _time(payload.get("exp")),
            "claims": disclosed,
        })
    return {"claims": claims, "credential_metadata": credentials}


def _time(value: Any) -> str | None:
    return iso(float(value)) if isinstance(value, int | float) and not isinstance(value, bool) else None

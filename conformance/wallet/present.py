"""OID4VP 1.0 from the wallet's side, run by the harness wallet against a verifier's endpoints:
Authorization Request (§5, RFC 9101 §5.2) -> Request Object fetched by GET or POST (§5.10) and
verified against the Client Identifier (§5.9.3) -> DCQL matched against `held` (§6.4) ->
one SD-JWT VC presentation with a KB-JWT per answered query (B.3.6, §8.1) -> Authorization
Response by direct_post (§8.2) or direct_post.jwt (§8.3.1). Faults: `PRESENT_FAULTS`.

Key resolution for the Request Object: did:key and did:jwk locally; did:iota through the ledger
the wallet was given (`HarnessWallet(ledger_url=...)`), or through the `resolver` passed to
`present`. The wallet's own resolver sends through the flow's Recorder, so its lookups appear in
the exchanges like every other call.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import httpx

from conformance.exchange import Recorder, record
from conformance.protocol.dcql import DcqlQuery, DcqlResult, match, parse_path
from conformance.protocol.did import parse_did_url, verification_key
from conformance.protocol.errors import DidError, SdJwtError
from conformance.protocol.jose import PublicKey, b64u_encode
from conformance.protocol.oid4vp import (
    DID_PREFIX,
    JAR_TYP,
    VP_FORMATS_SUPPORTED,
    AuthorizationRequest,
    RequestObject,
    SigningKeySource,
    build_direct_post_body,
    build_direct_post_jwt_body,
    parse_authorization_request,
    public_key_of,
    request_signing_key_source,
    verify_request_object,
)
from conformance.protocol.sdjwt import parse_sd_jwt
from conformance.protocol.sdjwt.unpack import ClaimPath
from conformance.resolver import DidResolver
from conformance.wallet.held import HeldCredential
from conformance.wallet.outcome import Flow
from conformance.wallet.presentation import (
    FaultInputs,
    KeyBinding,
    PresentationDraft,
    build_presentation,
    shape_vp_token,
)

if TYPE_CHECKING:
    from conformance.wallet.core import HarnessWallet

JAR_MEDIA_TYPE = f"application/{JAR_TYP}"
# §5.10.1 / §10: what this wallet can do, sent with request_uri_method=post.
WALLET_METADATA: Mapping[str, Any] = {
    "vp_formats_supported": dict(VP_FORMATS_SUPPORTED),
    "client_id_prefixes_supported": [DID_PREFIX],
    "response_types_supported": ["vp_token"],
    "response_modes_supported": ["direct_post", "direct_post.jwt"],
}
# The Authorization Error Response of the `error_response` fault (OID4VP 1.0 §8.5, RFC 6749 §4.1.2.1).
DECLINE = {"error": "access_denied", "error_description": "the harness wallet declines on purpose"}
# A DID Client Identifier's request-signing key: a verification method for either purpose.
_REQUEST_KEY_RELATIONSHIPS = ("authentication", "assertionMethod")
Disclose = Mapping[str, Sequence[Sequence[str | int | None]]]


@dataclass(frozen=True)
class Answer:
    query_id: str
    held: HeldCredential
    paths: tuple[ClaimPath, ...]


class RecordedHttp:
    """The `get` a DidResolver needs, sent through `record` so the lookup joins the exchanges."""

    def __init__(self, send: Recorder) -> None:
        self._send = send

    async def get(self, url: str, **kwargs: Any) -> httpx.Response:
        response, exchange = await record(self._send.http, "GET", url, **kwargs)
        self._send.exchanges.append(exchange)
        if response is None:
            raise httpx.TransportError(exchange.error or "no answer")
        return response


ResponseBody = Callable[[dict[str, list[str]], "str | None", RequestObject], dict[str, str]]
RESPONSE_BODIES: Mapping[str, ResponseBody] = {
    "direct_post": lambda vp, state, request: build_direct_post_body(vp, state),
    "direct_post.jwt": lambda vp, state, request: build_direct_post_jwt_body(vp, state, request.client_metadata),
}


class _Present:
    def __init__(self, wallet: HarnessWallet, flow: Flow, *, faults: frozenset[str],
                 credential: HeldCredential | None, disclose: Disclose | None,
                 request_uri_method: str | None, resolver: DidResolver | None) -> None:
        self.wallet, self.flow, self.faults = wallet, flow, faults
        self.credential, self.disclose, self.method = credential, disclose, request_uri_method
        self.resolver = resolver or DidResolver(RecordedHttp(flow.send), wallet.ledger_url)  # type: ignore[arg-type]

    async def run(self, request_text: str) -> None:
        self.flow.stage = "request"
        auth = self.flow.checked(parse_authorization_request, request_text)
        request = await self._request_object(auth)
        answers = self._override(self._answers(request))
        if "error_response" in self.faults:
            await self._decline(request)
            return
        vp_token = {a.query_id: [self._presentation(request, a)] for a in answers}
        await self._respond(request, shape_vp_token(vp_token, self.faults))

    # the Request Object (§5.10, §5.9.3) ------------------------------------------------------

    async def _request_object(self, auth: AuthorizationRequest) -> RequestObject:
        flow = self.flow
        token, wallet_nonce = auth.request, None
        if token is None:
            assert auth.request_uri is not None
            fetches = 2 if "fetch_request_twice" in self.faults else 1
            method = self.method or auth.request_uri_method or "get"
            flow.artefacts["request_uri_method"] = method
            for _ in range(fetches):
                token, wallet_nonce = await self._fetch(auth.request_uri, method)
        flow.artefacts["request_jwt"] = token
        source = flow.checked(request_signing_key_source, token, auth.client_id)
        key = await self._signing_key(source)
        request = flow.checked(verify_request_object, token, key, expected_client_id=auth.client_id,
                               now=self.wallet.clock(), wallet_nonce=wallet_nonce)
        flow.artefacts.update(request_object=dict(request.claims), client_id=request.client_id,
                              response_mode=request.response_mode)
        return request

    async def _fetch(self, uri: str, method: str) -> tuple[str, str | None]:
        headers = {"Accept": JAR_MEDIA_TYPE}
        if method == "post":
            # §5.10.1: wallet metadata, and a wallet_nonce the Request Object must repeat.
            wallet_nonce = b64u_encode(self.wallet.rng.randbytes(16))
            self.flow.artefacts["wallet_nonce"] = wallet_nonce
            form = {"wallet_metadata": json.dumps(WALLET_METADATA), "wallet_nonce": wallet_nonce}
            response = await self.flow.call("request", "POST", uri, data=form, headers=headers)
        else:
            wallet_nonce = None
            response = await self.flow.call("request", "GET", uri, headers=headers)
        self.flow.artefacts.setdefault("request_fetches", []).append(response.status_code)
        self.flow.artefacts["request_content_type"] = response.headers.get("content-type")
        return response.text.strip(), wallet_nonce

    async def _signing_key(self, source: SigningKeySource) -> PublicKey:
        if source.jwk is not None:
            return self.flow.checked(public_key_of, source.jwk)
        assert source.did_url is not None
        try:
            document = await self.resolver.resolve(parse_did_url(source.did_url)[0].did)
        except DidError as exc:
            self.flow.fail(exc.reason, f"cannot resolve the Verifier's DID for {source.did_url}: {exc.message}")
        for relationship in _REQUEST_KEY_RELATIONSHIPS:
            try:
                return verification_key(document, source.did_url, relationship)
            except DidError:
                continue
        self.flow.fail("request_key_not_found", f"{source.did_url} is not a verification method of the "
                       f"Verifier's DID for {' or '.join(_REQUEST_KEY_RELATIONSHIPS)} (§5.9.3)")

    # DCQL (§6.4) -----------------------------------------------------------------------------

    def _answers(self, request: RequestObject) -> list[Answer]:
        held = [self.credential] if self.credential is not None else list(self.wallet.held)
        if not held:
            self.flow.fail("no_credentials", "the wallet holds no credential to present")
        result = match(request.dcql, [h.dcql_view() for h in held])
        self.flow.artefacts["dcql_result"] = result.as_dict()
        forced = self.credential is not None
        if not result.can_be_satisfied and not forced:
            self.flow.fail("dcql_not_satisfiable", "no held credential satisfies "
                           f"{', '.join(result.unsatisfied)} of the request's dcql_query (§6.4)")
        answers = []
        for query_id in _queries_to_answer(request.dcql, result, forced):
            found = result.query(query_id).matches
            if found:
                chosen = found[-1]  # the newest matching credential
                answers.append(Answer(query_id, held[chosen.index], chosen.claims))
            else:  # a forced credential that does not match: disclose what the query names
                answers.append(Answer(query_id, held[0], _named_paths(request.dcql, query_id, held[0])))
        return answers

    def _override(self, answers: list[Answer]) -> list[Answer]:
        """`disclose` replaces the claims chosen by DCQL for the queries it names."""
        by_id = {a.query_id: a for a in answers}
        for query_id, pointers in (self.disclose or {}).items():
            if query_id not in by_id:
                self.flow.fail("disclose_unknown_query", f"disclose names {query_id!r}, which the wallet does "
                               f"not answer (answered: {', '.join(by_id) or 'none'})")
            answer = by_id[query_id]
            by_id[query_id] = Answer(query_id, answer.held, self._expand(query_id, pointers, answer.held))
        return list(by_id.values())

    def _expand(self, query_id: str, pointers: Sequence[Sequence[str | int | None]],
                held: HeldCredential) -> tuple[ClaimPath, ...]:
        paths: list[ClaimPath] = []
        for position, pointer in enumerate(pointers):
            where = f"disclose.{query_id}[{position}]"
            selected = self.flow.checked(parse_path, list(pointer), where).select(held.claims)
            if not selected:
                self.flow.fail("disclose_path_absent", f"{where} {list(pointer)} selects no claim of the credential")
            paths.extend(path for path, _ in selected)
        return tuple(dict.fromkeys(paths))

    # the presentation (B.3.6) ------------------------------------------------------------------

    def _presentation(self, request: RequestObject, answer: Answer) -> str:
        target = request.key_binding
        now = int(self.wallet.clock())
        key = answer.held.key if "cnf" in answer.held.claims else None
        draft = PresentationDraft(answer.held, answer.paths, KeyBinding(key, target.aud, target.nonce, now))
        inputs = FaultInputs(self.wallet.rng, request.response_uri, now)
        presentation = self.flow.checked(build_presentation, draft, self.faults, inputs)
        self.flow.artefacts.setdefault("presentation", presentation)
        self.flow.artefacts.setdefault("holder_key", answer.held.key.public)
        self.flow.artefacts.setdefault("disclosed", {})[answer.query_id] = _disclosed_names(presentation)
        return presentation

    # the Authorization Response (§8.2, §8.3.1) ---------------------------------------------------

    def _state(self, request: RequestObject) -> str | None:
        if "wrong_state" in self.faults:
            return b64u_encode(self.wallet.rng.randbytes(24))
        return request.state

    async def _respond(self, request: RequestObject, vp_token: dict[str, list[Any]]) -> None:
        flow = self.flow
        flow.artefacts["vp_token"] = vp_token
        form = flow.checked(RESPONSE_BODIES[request.response_mode], vp_token, self._state(request), request)
        await self._post(request, form)

    async def _decline(self, request: RequestObject) -> None:
        """§8.5: an error response instead of a vp_token; unencrypted, as §8.3.1 lets a Wallet
        send its error when it cannot or will not encrypt."""
        state = self._state(request)
        self.flow.artefacts["error_response"] = dict(DECLINE)
        await self._post(request, {**DECLINE, **({"state": state} if state is not None else {})})

    async def _post(self, request: RequestObject, form: Mapping[str, str]) -> None:
        flow = self.flow
        for _ in range(2 if "replay" in self.faults else 1):
            response = await flow.call("response", "POST", request.response_uri, data=form)
        body = flow.json(response, "the response endpoint's answer") if response.content else {}
        redirect = body.get("redirect_uri") if isinstance(body, Mapping) else None
        if isinstance(redirect, str):
            flow.artefacts["redirect_uri"] = redirect
            code = parse_qs(urlsplit(redirect).query).get("response_code")
            if code:
                flow.artefacts["response_code"] = code[0]


def _disclosed_names(presentation: str) -> list[str]:
    """The claim names the presentation discloses; none when a fault made it no SD-JWT."""
    try:
        disclosures = parse_sd_jwt(presentation).disclosures
    except SdJwtError:
        return []
    return [d.name if d.name is not None else "[array element]" for d in disclosures]


def _queries_to_answer(query: DcqlQuery, result: DcqlResult, forced: bool) -> list[str]:
    """§6.4.2: every credential query, or with credential_sets the first satisfiable option of each
    set (a forced credential takes a required set's first option even when nothing satisfies it)."""
    if result.credential_sets is None:
        return [c.id for c in query.credentials]
    chosen: list[str] = []
    for credential_set in result.credential_sets:
        option = credential_set.chosen_option
        if option is None and forced and credential_set.required:
            option = 0
        if option is not None:
            chosen.extend(credential_set.options[option])
    return list(dict.fromkeys(chosen))


def _named_paths(query: DcqlQuery, query_id: str, held: HeldCredential) -> tuple[ClaimPath, ...]:
    claims = query.credential(query_id).claims or ()
    return tuple(dict.fromkeys(path for claim in claims for path, _ in claim.path.select(held.claims)))

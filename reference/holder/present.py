"""Presenting credentials (/v1/oid4vp/*): the wallet side of OID4VP 1.0 with DCQL.

request-details: parse the Authorization Request (§5), fetch the Request Object from
`request_uri` (GET, or POST with `wallet_nonce` when `request_uri_method=post`, §5.10), verify it
against the Client Identifier (§5.9.3: a DID - prefixed or, as the seed shows, bare - resolved
locally or on the ledger), and run the DCQL query (§6) over the user's active credentials.

presentation: for each selected credential build an SD-JWT presentation revealing exactly the
chosen claims (RFC 9901 §7.2) with a KB-JWT whose `aud` is the Client Identifier as sent and
whose `nonce` is the request's (§14.1.2, §14.7); `vp_token` = {query_id: [presentation]} (§8.1);
post it by `direct_post` (§8.2) or `direct_post.jwt` (§8.3.1, ECDH-ES JWE to the verifier's key).
The verifier seed's `verification_mode` (`fail_fast` | `run_all`), when the caller gives one, is
sent as a form parameter beside `vp_token` / `response`. Before sending, the selection is checked
against the query on what the verifier will actually see, so a selection that cannot satisfy the
query answers 400 here instead of failing later.

A query that names an array element by its index (`["nationalities", 1]`) counts the elements the
verifier will see, and a verifier drops undisclosed elements (RFC 9901 §7.1): such a presentation
also carries the own Disclosures of the selectively disclosable elements before it, contents
withheld (`position_claims` in both responses; held.py `position_keepers`).

The verified Request Object is kept in memory (per user and request URI, `request_cache_ttl`)
between the two steps: some verifiers serve a request_uri once. Without it (restart, expiry) the
presentation step fetches it again.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from conformance.protocol.dcql import CredentialQuery, DcqlQuery, match
from conformance.protocol.dcql.paths import ConcretePath
from conformance.protocol.errors import DidError, Oid4vpError, ProtocolError
from conformance.protocol.jose import PublicKey
from conformance.protocol.oid4vp import (
    VP_FORMATS_SUPPORTED,
    AuthorizationRequest,
    RequestObject,
    build_direct_post_body,
    build_direct_post_jwt_body,
    parse_authorization_request,
    parse_client_id,
    public_key_of,
    request_signing_key_source,
    verify_request_object,
)
from conformance.resolver import DidResolver
from reference.common.clock import Clock
from reference.common.errors import ApiError
from reference.common.store import to_json
from reference.holder.credentials import Wallet
from reference.holder.dids import DidService, signing_key
from reference.holder.held import HeldCredential, Pointer, path_name, resolve_path_name
from reference.holder.outbound import VERIFIER, Outbound, json_or_none
from reference.holder.store import CredentialRow

JAR_MEDIA_TYPE = "application/oauth-authz-req+jwt"
VERIFICATION_MODES = ("fail_fast", "run_all")
WALLET_METADATA = {"vp_formats_supported": VP_FORMATS_SUPPORTED,
                   "response_modes_supported": ["direct_post", "direct_post.jwt"],
                   "client_id_prefixes_supported": ["decentralized_identifier"]}


@dataclass(frozen=True)
class Selection:
    credential_id: str
    query_id: str
    disclosed_claims: tuple[str, ...] | None  # None: disclose everything


@dataclass(frozen=True)
class _Chosen:
    selection: Selection
    held: HeldCredential
    paths: tuple[ConcretePath, ...]
    pointers: tuple[Pointer, ...]     # the credential query's claims path pointers


def bad_request(code: str, message: str, field: str | None = None) -> ApiError:
    return ApiError(400, code, message, field)


class Presenter:
    def __init__(self, clock: Clock, out: Outbound, resolver: DidResolver, dids: DidService,
                 wallet: Wallet, cache_ttl: int) -> None:
        self.clock, self.out, self.resolver = clock, out, resolver
        self.dids, self.wallet = dids, wallet
        self.cache_ttl = cache_ttl
        self._requests: dict[tuple[str, str], tuple[float, RequestObject]] = {}

    # --- request-details ---------------------------------------------------------------------

    async def request_details(self, owner: str, uri: str) -> dict[str, Any]:
        request = await self._fetch_and_verify(uri)
        self._remember(owner, uri, request)
        rows = await self.wallet.presentable(owner)
        helds = [HeldCredential.parse(row.raw_credential) for row in rows]
        result = match(request.dcql, [held.dcql_view() for held in helds])
        matching = []
        for query_result in result.queries:
            for candidate in query_result.matches:
                row, held = rows[candidate.index], helds[candidate.index]
                matching.append({
                    "query_id": query_result.id, "credential_id": row.id, "vct": row.vct,
                    "format": row.format, "issuer_did": row.issuer_did, "holder_did": row.holder_did,
                    "requested_claims": [path_name(p) for p in candidate.claims],
                    "position_claims": [path_name(p) for p in held.position_keepers(
                        candidate.claims, _pointers(request.dcql.credential(query_result.id)))],
                    "disclosable_claims": held.disclosable_names(),
                })
        notes = [{"code": "client_id_form", "message": note}
                 for note in parse_client_id(request.client_id).notes]
        notes += [note.as_dict() for note in result.notes]
        return {
            "client_id": request.client_id, "client_metadata": dict(request.client_metadata or {}),
            "dcql_query": dict(request.dcql_query), "response_mode": request.response_mode,
            "response_uri": request.response_uri, "matching_credentials": matching,
            "can_be_satisfied": result.can_be_satisfied, "unsatisfied": list(result.unsatisfied),
            "notes": notes,
        }

    async def _fetch_and_verify(self, uri: str) -> RequestObject:
        try:
            request = parse_authorization_request(uri)
        except Oid4vpError as exc:
            raise bad_request("invalid_uri", f"the authorization request is not valid ({exc.reason}): "
                              f"{exc.message}", "authorization_request_uri") from None
        wallet_nonce = secrets.token_urlsafe(16) if request.request_uri_method == "post" else None
        token = request.request or await self._fetch(request, wallet_nonce)
        try:
            source = request_signing_key_source(token, request.client_id)
            key = await self._request_key(source.did_url, source.jwk)
            return verify_request_object(token, key, expected_client_id=request.client_id,
                                         now=self.clock.now(), wallet_nonce=wallet_nonce)
        except DidError as exc:
            if exc.reason in ("resolver_unreachable", "resolver_not_configured"):
                raise
            raise bad_request("invalid_request_object", "the verifier's key cannot be resolved: "
                              f"{exc.message}", "authorization_request_uri") from None
        except Oid4vpError as exc:
            raise bad_request("invalid_request_object", f"the request object is not valid "
                              f"({exc.reason}): {exc.message}", "authorization_request_uri") from None

    async def _fetch(self, request: AuthorizationRequest, wallet_nonce: str | None) -> str:
        assert request.request_uri is not None
        headers = {"Accept": JAR_MEDIA_TYPE}
        if request.request_uri_method == "post":
            form = {"wallet_metadata": to_json(WALLET_METADATA), "wallet_nonce": wallet_nonce or ""}
            response = await self.out.request(VERIFIER, "POST", request.request_uri, data=form,
                                              headers=headers)
        else:
            response = await self.out.request(VERIFIER, "GET", request.request_uri, headers=headers)
        if response.status_code in (404, 410):
            raise ApiError(404, "request_uri_not_found", "the verifier does not know the request_uri "
                           f"or it has expired (HTTP {response.status_code})",
                           "authorization_request_uri")
        if response.status_code != 200:
            raise bad_request("invalid_uri", f"the verifier answered the request_uri with HTTP "
                              f"{response.status_code}", "authorization_request_uri")
        return response.text.strip()

    async def _request_key(self, did_url: str | None, jwk: Mapping[str, Any] | None) -> PublicKey:
        if jwk is not None:
            return public_key_of(jwk)
        assert did_url is not None
        try:
            return await self.resolver.key_for(did_url, "assertionMethod")
        except DidError as exc:
            if exc.reason != "verification_method_not_found":
                raise
            return await self.resolver.key_for(did_url, "authentication")

    def _remember(self, owner: str, uri: str, request: RequestObject) -> None:
        now = self.clock.now()
        self._requests = {k: v for k, v in self._requests.items() if now - v[0] < self.cache_ttl}
        self._requests[(owner, uri)] = (now, request)

    async def _request(self, owner: str, uri: str) -> RequestObject:
        cached = self._requests.get((owner, uri))
        if cached is not None and self.clock.now() - cached[0] < self.cache_ttl:
            return cached[1]
        return await self._fetch_and_verify(uri)

    # --- presentation ------------------------------------------------------------------------

    async def present(self, owner: str, *, authorization_request_uri: str,
                      selections: list[Selection], holder_did: str, private_key: str,
                      verification_mode: str | None = None) -> dict[str, Any]:
        did_row = self.dids.owned(owner, holder_did)
        key = signing_key(did_row, private_key)
        request = await self._request(owner, authorization_request_uri)
        chosen = [await self._choose(owner, request.dcql, selection, holder_did, position)
                  for position, selection in enumerate(selections)]
        _check_coverage(request.dcql, chosen)
        target = request.key_binding
        vp_token: dict[str, list[str]] = {}
        for item in chosen:
            vp_token.setdefault(item.selection.query_id, []).append(item.held.presentation(
                item.paths, pointers=item.pointers, holder_key=key, aud=target.aud, nonce=target.nonce,
                iat=int(self.clock.now())))
        answer = await self._submit(request, vp_token, verification_mode)
        self._requests.pop((owner, authorization_request_uri), None)
        out: dict[str, Any] = {"success": True, "presented": [
            {"credential_id": c.selection.credential_id, "query_id": c.selection.query_id,
             "disclosed_claims": [path_name(p) for p in c.paths],
             "position_claims": [path_name(p) for p in c.held.position_keepers(c.paths, c.pointers)]}
            for c in chosen]}
        if isinstance(answer, Mapping) and isinstance(answer.get("redirect_uri"), str):
            out["redirect_uri"] = answer["redirect_uri"]
        return out

    async def _choose(self, owner: str, query: DcqlQuery, selection: Selection, holder_did: str,
                      position: int) -> _Chosen:
        where = f"selected_credentials[{position}]"
        row = self.wallet.owned(owner, selection.credential_id, f"{where}.credential_id")
        row, status = await self.wallet.current(row)
        if status.value != "active":
            raise bad_request("credential_not_presentable", f"credential {row.id} is "
                              f"{status.detail or status.value}; only active credentials can be "
                              "presented", f"{where}.credential_id")
        if row.holder_did != holder_did:
            raise bad_request("holder_did_mismatch", f"credential {row.id} is bound to "
                              f"{row.holder_did}, not to holder_did {holder_did}; its key binding "
                              "would not verify", "holder_did")
        credential_query = _credential_query(query, selection.query_id, where)
        held = HeldCredential.parse(row.raw_credential)
        paths = _paths(held, selection.disclosed_claims, where)
        _check_satisfies(credential_query, held, paths, row, where)
        return _Chosen(selection, held, paths, _pointers(credential_query))

    async def _submit(self, request: RequestObject, vp_token: dict[str, list[str]],
                      verification_mode: str | None) -> Any:
        if request.response_mode == "direct_post.jwt":
            form = build_direct_post_jwt_body(vp_token, request.state, request.client_metadata)
        else:
            form = build_direct_post_body(vp_token, request.state)
        if verification_mode is not None:
            # The verifier seed: the custodial holder sends the mode with the VP, beside it.
            form["verification_mode"] = verification_mode
        response = await self.out.request(VERIFIER, "POST", request.response_uri, data=form)
        body = json_or_none(response)
        if response.status_code >= 400:
            raise bad_request("verifier_rejected", "the verifier rejected the presentation: "
                              f"{_verifier_error(response.status_code, body)}")
        return body


# --- selection checks ------------------------------------------------------------------------


def _pointers(credential_query: CredentialQuery) -> tuple[Pointer, ...]:
    return tuple(claim.path.components for claim in credential_query.claims or ())


def _credential_query(query: DcqlQuery, query_id: str, where: str) -> CredentialQuery:
    try:
        return query.credential(query_id)
    except KeyError:
        ids = ", ".join(c.id for c in query.credentials)
        raise bad_request("unknown_query_id", f"{where}.query_id {query_id!r} is not a credential "
                          f"query of the request ({ids})", f"{where}.query_id") from None


def _paths(held: HeldCredential, names: tuple[str, ...] | None, where: str) -> tuple[ConcretePath, ...]:
    if names is None:
        return held.revealed
    paths = []
    for name in names:
        path = resolve_path_name(held.claims, name)
        if path is None:
            raise bad_request("unknown_claim", f"{where}.disclosed_claims: the credential has no "
                              f"claim {name!r}", f"{where}.disclosed_claims")
        paths.append(path)
    return tuple(paths)


def _check_satisfies(credential_query: CredentialQuery, held: HeldCredential,
                     paths: tuple[ConcretePath, ...], row: CredentialRow, where: str) -> None:
    """Run the one credential query against what the verifier will see (OID4VP 1.0 §6.4)."""
    try:
        view = held.disclosed_view(paths, _pointers(credential_query))
    except ProtocolError as exc:
        raise bad_request("unknown_claim", f"{where}.disclosed_claims: {exc.message}",
                          f"{where}.disclosed_claims") from None
    seen = replace(held, claims=view).dcql_view()
    result = match(DcqlQuery(credentials=(credential_query,)), [seen])
    if not result.can_be_satisfied:
        missing = [_pointer_name(c.path.components) for c in credential_query.distinct_claims or ()
                   if not c.path.select(view)]
        why = (f"the query's claims {', '.join(missing)} are not disclosed" if missing else
               "its type, issuer, claim values or claim sets do not match")
        raise bad_request("selection_does_not_satisfy_query", f"credential {row.id} with the "
                          f"chosen disclosures does not satisfy credential query "
                          f"{credential_query.id!r}: {why} (OID4VP 1.0 §6.4)", where)


def _pointer_name(components: tuple[str | int | None, ...]) -> str:
    """A claims path pointer in the API's dotted form; a null (any element) shows as `*`."""
    return ".".join("*" if step is None else str(step) for step in components)


def _check_coverage(query: DcqlQuery, chosen: list[_Chosen]) -> None:
    """§6.4.2 and §8.1: each required credential set (or, without sets, every credential query)
    is answered, and a query without `multiple` gets one presentation."""
    counts: dict[str, int] = {}
    for item in chosen:
        counts[item.selection.query_id] = counts.get(item.selection.query_id, 0) + 1
    for query_id, count in counts.items():
        if count > 1 and not query.credential(query_id).multiple:
            raise bad_request("too_many_credentials", f"{count} credentials are selected for query "
                              f"{query_id!r}, which does not allow multiple (§8.1)",
                              "selected_credentials")
    answered = set(counts)
    if query.credential_sets is None:
        missing = [c.id for c in query.credentials if c.id not in answered]
    else:
        missing = [f"credential_sets[{i}]" for i, s in enumerate(query.credential_sets)
                   if s.required and not any(answered.issuperset(o) for o in s.options)]
    if missing:
        raise bad_request("selection_does_not_satisfy_query", "the selection leaves required parts "
                          f"of the DCQL query unanswered: {', '.join(missing)} (§6.4.2)",
                          "selected_credentials")


def _verifier_error(status: int, body: Any) -> str:
    if isinstance(body, Mapping):
        error = body.get("error")
        if isinstance(error, Mapping):  # the seed's {"error": {"code", "message"}} shape
            return f"{error.get('code')}: {error.get('message')}"
        if isinstance(error, str):
            description = body.get("error_description")
            return error + (f": {description}" if isinstance(description, str) else "")
    return f"HTTP {status}"


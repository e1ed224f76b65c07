"""The harness's relying party double: an OID4VP 1.0 Verifier the harness hosts itself, so that a
wallet under test (the custodial holder service of the holder seed, §4) can be driven with
requests the harness controls, including deliberately broken ones, and what it sends back can be
judged with the protocol core.

Three jobs, one section each:

- plans: `plan_request` draws a `RequestPlan` (Client Identifier, nonce, state, DCQL query,
  response mode) and applies named `VARIATIONS`, the misbehaviours of the public conformance
  programme's wallet tests (a broken signature, a client_id that differs between URL and Request
  Object, a missing nonce ...). `request_object` has the protocol core build a valid Request
  Object (`oid4vp.build_request_object`, which refuses an invalid one) and only then alters it as
  the plan says, so every deviation is deliberate and named.
- the endpoint: `RelyingParty.app()` serves each plan's request_uri (GET, or POST with
  `wallet_nonce`, §5.10) and response_uri (direct_post / direct_post.jwt, §8.2, §8.3), and
  records every call it gets. Hosting it (in-process or on a socket) is the dialect's job.
- verdicts: `judge(...)` reads what the wallet posted with the protocol core: the response
  parameters (decrypted for direct_post.jwt), state, the vp_token's shape, each presentation's
  issuer signature and KB-JWT (aud = the Client Identifier, nonce = the request's), and whether
  the presented claims satisfy the DCQL query, credential_sets included (§6.4.2).

Only the verdict's I/O (finding an Issuer's key) is injected; the rest is pure.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.dcql import DcqlQuery, WalletCredential, match, parse_query
from conformance.protocol.did import did_key_from_public, resolve_local
from conformance.protocol.errors import Oid4vpError, ProtocolError
from conformance.protocol.jose import (
    Jws,
    PrivateKey,
    PublicKey,
    b64u_decode,
    b64u_encode,
    b64u_json,
    generate_key,
    parse_jws,
    sign_jws,
)
from conformance.protocol.jwe import EcdhPrivateKey, generate_ecdh_key
from conformance.protocol.oid4vp import (
    JAR_TYP,
    AuthorizationErrorResponse,
    build_client_metadata,
    build_request_object,
    check_state,
    check_vp_token_shape,
    decrypt_response,
    did_client_id,
    parse_response_params,
)
from conformance.protocol.sdjwt import KbExpectations, parse_sd_jwt, verify_sd_jwt

JAR_MEDIA_TYPE = f"application/{JAR_TYP}"
UNREACHABLE_HOST = "https://rp-unreachable.invalid"   # RFC 6761 §6.4: never resolves
UNKNOWN_PARAMETER = "x_harness_unknown"
RESPONSE_MODES = ("direct_post", "direct_post.jwt")

# --- plans -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestPlan:
    """Everything one request of the RP says. `client_id` is what the Authorization Request URL
    carries; `jar_set` / `jar_drop` alter the Request Object after the protocol core built a valid
    one; `signing` is `valid`, `corrupt` (signature bytes flipped) or `unsigned` (alg none)."""

    request_id: str
    base_url: str
    signer_client_id: str     # the RP's real Client Identifier, whose key signs
    client_id: str
    kid: str | None
    request_uri: str
    response_uri: str
    response_mode: str
    nonce: str
    state: str | None
    dcql_query: Mapping[str, Any]
    client_metadata: Mapping[str, Any] | None = None
    request_uri_method: str | None = None
    jar_set: Mapping[str, Any] = field(default_factory=dict)
    jar_drop: tuple[str, ...] = ()
    jar_typ: str | None = JAR_TYP     # the Request Object's typ header (None: absent)
    signing: str = "valid"
    url_extra: tuple[tuple[str, str], ...] = ()
    reorder_url: bool = False
    answer_redirect_uri: str | None = None
    enc_key_use: bool = True          # direct_post.jwt: publish the encryption key with "use": "enc"
    variations: tuple[str, ...] = ()


Draw = Callable[[int], str]   # n -> n URL-safe random characters (the scenario's seeded rng)


@dataclass(frozen=True)
class Variation:
    name: str
    clause: str
    description: str
    apply: Callable[[RequestPlan, Draw], RequestPlan]


def _values(plan: RequestPlan, changes: Mapping[str, Any]) -> dict[str, Any]:
    """A variation's values; a callable one is computed from the plan (URLs of this RP)."""
    return {k: v(plan) if callable(v) else v for k, v in changes.items()}


def _set(**claims: Any) -> Callable[[RequestPlan, Draw], RequestPlan]:
    def apply(plan: RequestPlan, draw: Draw) -> RequestPlan:
        return dataclasses.replace(plan, jar_set={**plan.jar_set, **_values(plan, claims)})
    return apply


def _replace(**changes: Any) -> Callable[[RequestPlan, Draw], RequestPlan]:
    def apply(plan: RequestPlan, draw: Draw) -> RequestPlan:
        return dataclasses.replace(plan, **_values(plan, changes))
    return apply


def _mismatched_client(plan: RequestPlan, draw: Draw) -> RequestPlan:
    other = did_client_id(did_key_from_public(generate_key("EdDSA").public))
    return dataclasses.replace(plan, jar_set={**plan.jar_set, "client_id": other})


def _bad_prefix(plan: RequestPlan, draw: Draw) -> RequestPlan:
    # An unknown prefix in front of the DID, in the URL and the Request Object alike, so the only
    # thing wrong is the prefix.
    client_id = "invalid_prefix:" + plan.client_id.split(":", 1)[1]
    return dataclasses.replace(plan, client_id=client_id, jar_set={**plan.jar_set, "client_id": client_id})


def _response_uri_not_allowed(plan: RequestPlan, draw: Draw) -> RequestPlan:
    # §5.9.3: under `redirect_uri:` the Client Identifier IS the URI responses go to, and the
    # request cannot be signed; here it names another URI of the RP than response_uri.
    client_id = f"redirect_uri:{plan.base_url}/callback"
    return dataclasses.replace(plan, client_id=client_id, kid=None, signing="unsigned",
                               jar_set={**plan.jar_set, "client_id": client_id})


def _long_state(plan: RequestPlan, draw: Draw) -> RequestPlan:
    return dataclasses.replace(plan, nonce=draw(32), state=draw(64))


def _unknown_params(plan: RequestPlan, draw: Draw) -> RequestPlan:
    value = draw(16)
    return dataclasses.replace(plan, url_extra=((UNKNOWN_PARAMETER, value),), reorder_url=True,
                               jar_set={**plan.jar_set, UNKNOWN_PARAMETER: value})


VARIATIONS: Mapping[str, Variation] = {v.name: v for v in (
    Variation("bad_signature", "OID4VP 1.0 §5.9.3; RFC 9101 §6.2",
              "the Request Object's signature does not verify", _replace(signing="corrupt")),
    Variation("client_id_mismatch", "OID4VP 1.0 §5; RFC 9101 §5",
              "the Request Object's client_id is another DID than the URL's", _mismatched_client),
    Variation("response_uri_not_allowed", "OID4VP 1.0 §5.9.3 (redirect_uri prefix)",
              "client_id `redirect_uri:<RP>/callback` (unsigned, as that prefix requires) while "
              "response_uri is another URI", _response_uri_not_allowed),
    Variation("redirect_uri_with_direct_post", "OID4VP 1.0 §8.2", "redirect_uri beside response_mode direct_post",
              _set(redirect_uri=lambda p: f"{p.base_url}/callback")),
    Variation("bad_typ", "OID4VP 1.0 §5; RFC 9101 §10.8",
              "the Request Object's typ is JWT instead of oauth-authz-req+jwt", _replace(jar_typ="JWT")),
    Variation("no_typ", "OID4VP 1.0 §5; RFC 9101 §10.8", "the Request Object has no typ header",
              _replace(jar_typ=None)),
    Variation("no_nonce", "OID4VP 1.0 §5.2", "the Request Object has no nonce",
              _replace(jar_drop=lambda p: (*p.jar_drop, "nonce"))),
    Variation("bad_prefix", "OID4VP 1.0 §5.9.1, §5.9.3",
              "client_id carries an unknown prefix (invalid_prefix:)", _bad_prefix),
    Variation("no_state", "OID4VP 1.0 §5.2", "no state (it is optional)", _replace(state=None)),
    Variation("long_state", "OID4VP 1.0 §5.2", "a 32-character nonce and a 64-character state",
              _long_state),
    Variation("unknown_params", "RFC 6749 §3.1; RFC 9101 §6.3",
              "an unknown parameter in the URL and the Request Object, URL parameters reordered",
              _unknown_params),
    Variation("request_uri_method_post", "OID4VP 1.0 §5.10",
              "request_uri_method=post: the RP signs the Request Object on POST with the wallet_nonce",
              _replace(request_uri_method="post")),
    Variation("response_redirect", "OID4VP 1.0 §8.2",
              "the response endpoint answers with a redirect_uri the wallet must pass on",
              _replace(answer_redirect_uri=lambda p: f"{p.base_url}/done/{p.request_id}")),
    Variation("enc_key_without_use", "OID4VP 1.0 §8.3; RFC 7517 §4.2",
              "direct_post.jwt: the encryption key in client_metadata.jwks has no `use` member",
              _replace(enc_key_use=False)),
    Variation("request_uri_unknown", "OID4VP 1.0 §5.10; holder seed §4 (404 Request URI not found)",
              "request_uri names a request the RP does not know (it answers 404)",
              _replace(request_uri=lambda p: f"{p.base_url}/request/unknown-{p.request_id}")),
    Variation("request_uri_unreachable", "holder seed §4 (502 Verifier unavailable)",
              "request_uri is on a host that does not exist",
              _replace(request_uri=lambda p: f"{UNREACHABLE_HOST}/request/{p.request_id}")),
    Variation("response_uri_unreachable", "holder seed §4 (502 Verifier unavailable)",
              "response_uri is on a host that does not exist",
              _replace(response_uri=lambda p: f"{UNREACHABLE_HOST}/response/{p.request_id}")),
)}


@dataclass(frozen=True)
class Identity:
    """The RP's Client Identifier: `decentralized_identifier:<did:key>` with the key's DID URL as kid."""

    key: PrivateKey
    did: str
    kid: str

    @property
    def client_id(self) -> str:
        return did_client_id(self.did)


def new_identity() -> Identity:
    key = generate_key("EdDSA")
    did = did_key_from_public(key.public)
    return Identity(key, did, resolve_local(did)["verificationMethod"][0]["id"])


def plan_request(*, base_url: str, request_id: str, identity: Identity, dcql_query: Mapping[str, Any],
                 draw: Draw, variations: tuple[str, ...] = (), response_mode: str = "direct_post",
                 client_metadata: Mapping[str, Any] | None = None) -> RequestPlan:
    """A plan for one request; raises ValueError naming an unknown variation or response mode."""
    unknown = [name for name in variations if name not in VARIATIONS]
    if unknown:
        raise ValueError(f"unknown RP variation(s) {', '.join(unknown)} (known: {', '.join(VARIATIONS)})")
    if response_mode not in RESPONSE_MODES:
        raise ValueError(f"response_mode must be one of {', '.join(RESPONSE_MODES)}, got {response_mode!r}")
    plan = RequestPlan(
        request_id=request_id, base_url=base_url, signer_client_id=identity.client_id,
        client_id=identity.client_id, kid=identity.kid,
        request_uri=f"{base_url}/request/{request_id}", response_uri=f"{base_url}/response/{request_id}",
        response_mode=response_mode, nonce=draw(22), state=draw(22), dcql_query=dict(dcql_query),
        client_metadata=dict(client_metadata) if client_metadata is not None else None,
        variations=tuple(variations))
    for name in variations:
        plan = VARIATIONS[name].apply(plan, draw)
    return plan


def authorization_request(plan: RequestPlan) -> str:
    """The `openid4vp://authorize?...` deep link (RFC 9101 §5.2; OID4VP 1.0 §5)."""
    params = [("client_id", plan.client_id), ("request_uri", plan.request_uri)]
    if plan.request_uri_method is not None:
        params.append(("request_uri_method", plan.request_uri_method))
    params += list(plan.url_extra)
    if plan.reorder_url:
        params.reverse()
    return "openid4vp://authorize?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in params)


def request_object(plan: RequestPlan, key: PrivateKey, *, iat: int,
                   client_metadata: Mapping[str, Any] | None = None, wallet_nonce: str | None = None) -> str:
    """The Request Object the plan says: built valid by the protocol core, then altered."""
    valid = build_request_object(
        key, client_id=plan.signer_client_id, response_uri=plan.response_uri, nonce=plan.nonce,
        dcql_query=plan.dcql_query, iat=iat, exp=iat + 600, state=plan.state, response_mode=plan.response_mode,
        client_metadata=client_metadata, kid=plan.kid, wallet_nonce=wallet_nonce)
    jws = parse_jws(valid, "request_object")
    claims = {k: v for k, v in jws.payload.items() if k not in plan.jar_drop}
    claims.update(plan.jar_set)
    if plan.signing == "unsigned":   # RFC 7519 §6.1 Unsecured JWT
        return f"{b64u_json({'alg': 'none', 'typ': JAR_TYP})}.{b64u_json(claims)}."
    header = {k: v for k, v in jws.header.items() if k not in ("alg", "typ")}
    token = sign_jws({**header, **({"typ": plan.jar_typ} if plan.jar_typ else {})}, claims, key)
    return _corrupt(token) if plan.signing == "corrupt" else token


def _corrupt(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(b64u_decode(signature, "signature"))
    raw[0] ^= 0xFF
    return f"{head}.{payload}.{b64u_encode(bytes(raw))}"


# --- the endpoint ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One call the RP's endpoint got. `form` holds the form fields as sent."""

    kind: str                # "request" (request_uri) | "response" (response_uri)
    method: str
    path: str
    content_type: str
    form: Mapping[str, str]
    answered: int
    at: float


@dataclass
class Hosted:
    """A plan being served: its keys, the Request Objects served, the calls received."""

    plan: RequestPlan
    key: PrivateKey
    encryption_key: EcdhPrivateKey | None
    client_metadata: Mapping[str, Any] | None
    calls: list[Received] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def of_kind(self, kind: str) -> list[Received]:
        return [call for call in self.calls if call.kind == kind]


class RelyingParty:
    """The RP's state and ASGI app. `base_url` is where wallets reach it; `clock` dates the
    Request Objects (the embedded reference's clock, so a moved clock does not make them stale)."""

    def __init__(self, base_url: str, clock: Callable[[], float] = time.time) -> None:
        self.base_url = base_url.rstrip("/")
        self.clock = clock
        self.hosted: dict[str, Hosted] = {}
        self._changed = asyncio.Event()

    def add(self, plan: RequestPlan, key: PrivateKey) -> Hosted:
        encryption_key = generate_ecdh_key("P-256", kid=f"enc-{plan.request_id}") \
            if plan.response_mode == "direct_post.jwt" else None
        metadata = build_client_metadata(plan.client_metadata or {"client_name": "Harness RP"},
                                         encryption_key=encryption_key)
        if not plan.enc_key_use:
            metadata["jwks"] = {"keys": [{k: v for k, v in jwk.items() if k != "use"}
                                         for jwk in metadata.get("jwks", {}).get("keys", [])]}
        hosted = Hosted(plan, key, encryption_key, metadata)
        self.hosted[plan.request_id] = hosted
        return hosted

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/request/{rid}", self._request_uri, methods=["GET", "POST"]),
            Route("/response/{rid}", self._response_uri, methods=["POST"]),
            Route("/{path:path}", self._elsewhere, methods=["GET", "POST"]),
        ])

    async def wait_for_response(self, request_id: str, timeout: float) -> None:
        """Return once the request has a response, or after `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.hosted[request_id].of_kind("response") and loop.time() < deadline:
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())
            except TimeoutError:
                break

    async def _request_uri(self, request: Request) -> Response:
        hosted = self.hosted.get(request.path_params["rid"])
        form = await _form(request) if request.method == "POST" else {}
        if hosted is None:
            return JSONResponse({"error": "invalid_request_uri", "error_description": "unknown request"}, 404)
        token = request_object(hosted.plan, hosted.key, iat=int(self.clock()),
                               client_metadata=hosted.client_metadata, wallet_nonce=form.get("wallet_nonce") or None)
        hosted.served.append(token)
        self._record(hosted, "request", request, form, 200)
        return Response(token, media_type=JAR_MEDIA_TYPE)

    async def _response_uri(self, request: Request) -> Response:
        hosted = self.hosted.get(request.path_params["rid"])
        form = await _form(request)
        if hosted is None:
            return JSONResponse({"error": "invalid_request", "error_description": "unknown request"}, 400)
        first = not hosted.of_kind("response")
        # §8.2: the Verifier answers 200; a second response to the same request is a replay.
        reply = {"redirect_uri": hosted.plan.answer_redirect_uri} if hosted.plan.answer_redirect_uri else {}
        status = 200 if first else 400
        self._record(hosted, "response", request, form, status)
        return JSONResponse(reply if first else {"error": "invalid_request",
                                                 "error_description": "this request was already answered"}, status)

    async def _elsewhere(self, request: Request) -> Response:
        return JSONResponse({"rp": "harness relying party", "path": request.url.path})

    def _record(self, hosted: Hosted, kind: str, request: Request, form: Mapping[str, str], status: int) -> None:
        hosted.calls.append(Received(kind, request.method, request.url.path,
                                     request.headers.get("content-type", ""), dict(form), status, time.time()))
        self._changed.set()


async def _form(request: Request) -> dict[str, str]:
    """The fields of an application/x-www-form-urlencoded body (§5.10, §8.2); a repeated field keeps
    its first value. Another body is recorded as no fields."""
    if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    fields: dict[str, str] = {}
    for name, value in parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True):
        fields.setdefault(name, value)
    return fields


# --- verdicts ----------------------------------------------------------------------------------

KeyLookup = Callable[[Jws], Awaitable[PublicKey]]   # the Issuer's key for an Issuer-signed JWT
OUTCOMES = ("no_response", "error_response", "presented", "invalid_response")


@dataclass(frozen=True)
class Verdict:
    """What the RP concluded about one request. `outcome` is one of OUTCOMES: nothing reached
    response_uri, an Authorization Error Response (§8.5), a vp_token, or a POST the RP cannot
    read. `summary` is the JSON-ready account (for reports and checks); `presentations` are the
    presentations as posted, in vp_token order, with `query_ids` beside them."""

    outcome: str
    summary: Mapping[str, Any]
    presentations: tuple[str, ...] = ()
    query_ids: tuple[str, ...] = ()

    @property
    def problems(self) -> tuple[str, ...]:
        return tuple(self.summary.get("problems", ()))


@dataclass
class _Judging:
    hosted: Hosted
    issuer_key: KeyLookup
    now: float
    problems: list[str] = field(default_factory=list)

    def fail(self, exc: ProtocolError, where: str) -> None:
        self.problems.append(f"{where}: {exc.reason}: {exc.message}")


async def judge(hosted: Hosted, *, issuer_key: KeyLookup, now: float) -> Verdict:
    """The RP's verdict on what the wallet did for one request. For `presented`, `problems`
    lists every rule the response breaks; empty means the RP accepts it."""
    judging = _Judging(hosted, issuer_key, now)
    plan, posts = hosted.plan, hosted.of_kind("response")
    summary: dict[str, Any] = {
        "request_id": plan.request_id, "client_id": plan.client_id, "variations": list(plan.variations),
        "fetches": [_fetch_json(call) for call in hosted.of_kind("request")], "posts": len(posts),
        "responses": [], "presentations": [], "problems": judging.problems,
        "redirect_uri": plan.answer_redirect_uri,
    }
    if not posts:
        return Verdict("no_response", {**summary, "outcome": "no_response"})
    if len(posts) > 1:
        judging.problems.append(f"the wallet posted {len(posts)} responses to one request; it answers once (§8.2)")
    decoded = [_decode(hosted, post, judging) for post in posts]
    summary["responses"] = [_response_summary(params) for params in decoded]
    try:
        if decoded[0] is None:
            raise Oid4vpError("response_unreadable", "the first response could not be decrypted", "response")
        response = parse_response_params(decoded[0])
    except Oid4vpError as exc:
        judging.fail(exc, "response")
        return Verdict("invalid_response", {**summary, "outcome": "invalid_response"})
    if isinstance(response, AuthorizationErrorResponse):
        return Verdict("error_response", {**summary, "outcome": "error_response", "error": response.error,
                                          "error_description": response.error_description})
    query = parse_query(plan.dcql_query)
    try:
        check_state(response.state, plan.state)
        check_vp_token_shape(response.vp_token, query)
    except Oid4vpError as exc:
        judging.fail(exc, "response")
    pairs = [(qid, text) for qid, texts in response.vp_token.items() for text in texts]
    presented = [await _presentation(judging, qid, text) for qid, text in pairs]
    unsatisfied = _unsatisfied(query, {p["query_id"] for p in presented if p["satisfies_query"]})
    if unsatisfied:
        judging.problems.append(f"the vp_token leaves {', '.join(unsatisfied)} of the DCQL query unanswered "
                                "(§6.4.2)")
    summary.update(outcome="presented", presentations=presented, unsatisfied=unsatisfied,
                   satisfied=not unsatisfied, state_matches=response.state == plan.state)
    return Verdict("presented", summary, tuple(t if isinstance(t, str) else json.dumps(t) for _, t in pairs),
                   tuple(qid for qid, _ in pairs))


def _fetch_json(call: Received) -> dict[str, Any]:
    metadata = call.form.get("wallet_metadata")
    try:
        parsed = json.loads(metadata) if metadata else None
    except json.JSONDecodeError:
        parsed = metadata
    return {"method": call.method, "content_type": call.content_type,
            "wallet_nonce": call.form.get("wallet_nonce"), "wallet_metadata": parsed}


def _decode(hosted: Hosted, post: Received, judging: _Judging) -> dict[str, Any] | None:
    """The response parameters of one POST (§8.2), decrypted for direct_post.jwt (§8.3.1)."""
    if hosted.encryption_key is None:
        return dict(post.form)
    try:
        return decrypt_response(post.form.get("response"), hosted.encryption_key,
                                client_metadata=hosted.client_metadata)
    except Oid4vpError as exc:
        judging.fail(exc, "response")
        return None


def _response_summary(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """What one response carried (which queries got how many presentations), not the
    presentations themselves. `has_vp_token` is what a refusal is judged on."""
    if params is None:
        return {"readable": False, "has_vp_token": None}
    token = params.get("vp_token")
    if isinstance(token, str):
        try:
            token = json.loads(token)
        except json.JSONDecodeError:
            token = "not JSON"
    shape = {k: len(v) if isinstance(v, list) else 1 for k, v in token.items()} \
        if isinstance(token, Mapping) else token
    carried = {"vp_token": shape, "state": params.get("state"), "error": params.get("error"),
               "error_description": params.get("error_description")}
    return {"readable": True, "has_vp_token": "vp_token" in params,
            **{k: v for k, v in carried.items() if v is not None}}


async def _presentation(judging: _Judging, query_id: str, text: Any) -> dict[str, Any]:
    """One presentation checked as a Verifier must (RFC 9901 §7.3; OID4VP 1.0 §8.6, §14.1.2)."""
    plan = judging.hosted.plan
    out: dict[str, Any] = {"query_id": query_id, "valid": False, "disclosed": [], "satisfies_query": False}
    where = f"vp_token.{query_id}"
    try:
        sd_jwt = parse_sd_jwt(text)
        key = await judging.issuer_key(sd_jwt.issuer_jws)
        verified = verify_sd_jwt(sd_jwt, issuer_key=key, now=int(judging.now),
                                 holder_binding=KbExpectations(aud=plan.client_id, nonce=plan.nonce))
    except ProtocolError as exc:
        judging.fail(exc, where)
        return {**out, "problem": exc.reason}
    disclosed = sorted(".".join(str(step) for step in path) for path in verified.disclosed_paths)
    satisfies = _satisfies(plan, query_id, verified.claims)
    if not satisfies:
        judging.problems.append(f"{where}: the presented claims do not satisfy credential query {query_id!r} "
                                "(§6.4.1)")
    return {**out, "valid": True, "disclosed": disclosed, "disclosures": len(sd_jwt.disclosures),
            "vct": verified.claims.get("vct"), "satisfies_query": satisfies}


def _satisfies(plan: RequestPlan, query_id: str, claims: Mapping[str, Any]) -> bool:
    """Run the one credential query over what the RP sees (OID4VP 1.0 §6.4.1)."""
    try:
        credential_query = parse_query(plan.dcql_query).credential(query_id)
    except KeyError:
        return False
    vct, iss = claims.get("vct"), claims.get("iss")
    seen = WalletCredential(format="dc+sd-jwt", vct=vct if isinstance(vct, str) else None, claims=claims,
                            issuer=iss if isinstance(iss, str) else None)
    return match(DcqlQuery(credentials=(credential_query,)), [seen]).can_be_satisfied


def _unsatisfied(query: DcqlQuery, answered: set[str]) -> list[str]:
    """§6.4.2: every credential query, or every required credential set, must be answered."""
    if query.credential_sets is None:
        return [c.id for c in query.credentials if c.id not in answered]
    return [f"credential_sets[{i}]" for i, s in enumerate(query.credential_sets)
            if s.required and not any(answered.issuperset(option) for option in s.options)]

"""Checks on an issuer seen through the wire and through its records: metadata, cacheability of the
token and nonce answers, the Credential Response, what the credential carries compared with what
was offered, and the on-chain lifecycle a poller observes (TCS issuer seed, Step 3)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from conformance.harness.checks import _evidence as ev
from conformance.harness.checks.registry import CheckContext, CheckOutcome, check, shown
from conformance.protocol.oid4vci import (
    FORMAT_SD_JWT_VC,
    PRE_AUTHORIZED_GRANT,
    parse_authorization_server_metadata,
    parse_credential_offer,
    parse_credential_response,
    parse_issuer_metadata,
)
from conformance.protocol.sdjwt import unpack
from conformance.protocol.sdjwt.unpack import ClaimPath

_JSON_TYPE = re.compile(r"^application/(?:[\w.+-]+\+)?json\s*(?:;|$)", re.I)
WELL_KNOWN = ("/.well-known/openid-credential-issuer", "/.well-known/oauth-authorization-server")
SEED = "TCS issuer seed, Step 3 Fields (on_chain_status)"


# --- reading exchanges ---------------------------------------------------------------------------

def _header(exchange: Any, name: str) -> str:
    headers = {str(k).lower(): str(v) for k, v in dict(getattr(exchange, "response_headers", None) or {}).items()}
    return headers.get(name, "")


def _answered(ctx: CheckContext) -> list[Any]:
    return [e for e in ctx.result.exchanges or [] if getattr(e, "status", None) is not None]


def _is_token_request(exchange: Any) -> bool:
    body = exchange.request_body
    return exchange.method == "POST" and isinstance(body, Mapping) and "grant_type" in body


def _nonce_endpoint(ctx: CheckContext) -> str | None:
    metadata = ctx.artefact("issuer_metadata") if ctx.has("issuer_metadata") else {}
    endpoint = metadata.get("nonce_endpoint") if isinstance(metadata, Mapping) else None
    return endpoint if isinstance(endpoint, str) else None


# --- Cache-Control: no-store on answers carrying tokens or nonces ---------------------------------

@check("issuance.no_store", spec="RFC 6749 §5.1; OID4VCI 1.0 §6.2, §7.2",
       description="Every successful Token Response and Nonce Response of the step carries Cache-Control: "
                   "no-store (they hold an access token, resp. a c_nonce, and must not be cached).")
async def no_store(ctx: CheckContext) -> CheckOutcome:
    nonce_endpoint = _nonce_endpoint(ctx)
    looked: list[str] = []
    for exchange in _answered(ctx):
        if not 200 <= exchange.status < 300:
            continue
        if _is_token_request(exchange):
            kind = "Token Response"
        elif nonce_endpoint is not None and exchange.method == "POST" and str(exchange.url) == nonce_endpoint:
            kind = "Nonce Response"
        else:
            continue
        directives = {d.strip().lower() for d in _header(exchange, "cache-control").split(",")}
        if "no-store" not in directives:
            return CheckOutcome.failed(f"Cache-Control: {_header(exchange, 'cache-control') or '(none)'}",
                                       "Cache-Control: no-store", f"{kind} of {exchange.url}")
        looked.append(kind)
    if not looked:
        return CheckOutcome.skipped("the step got no successful Token or Nonce Response")
    return CheckOutcome.passed(f"Cache-Control: no-store on {', '.join(looked)}")


# --- the Credential Response (§8.3) ------------------------------------------------------------------

_REQUEST_MEMBERS = frozenset({"credential_configuration_id", "credential_identifier", "proofs"})


def _credential_exchange(ctx: CheckContext) -> Any:
    """The step's last Credential Request: a POST to the metadata's credential_endpoint, or (without
    metadata) a POST whose JSON body has the members of §8.2."""
    metadata = ctx.artefact("issuer_metadata") if ctx.has("issuer_metadata") else None
    endpoint = metadata.get("credential_endpoint") if isinstance(metadata, Mapping) else None

    def is_request(e: Any) -> bool:
        if e.method != "POST":
            return False
        if endpoint is not None:
            return str(e.url) == endpoint
        return isinstance(e.request_body, Mapping) and bool(_REQUEST_MEMBERS & set(e.request_body))
    found = [e for e in _answered(ctx) if is_request(e)]
    return found[-1] if found else None


@check("issuance.credential_response", spec="OID4VCI 1.0 §8.3",
       description="A successful Credential Response is application/json and either 200 with a non-empty "
                   "`credentials` array of objects holding `credential` (notification_id a string if present) "
                   "or 202 with `transaction_id` and `interval`, never both.")
async def credential_response(ctx: CheckContext) -> CheckOutcome:
    exchange = _credential_exchange(ctx)
    if exchange is None or not 200 <= exchange.status < 300:
        return CheckOutcome.skipped("the step got no successful Credential Response")
    content_type = _header(exchange, "content-type")
    if not _JSON_TYPE.match(content_type):
        return CheckOutcome.failed(f"Content-Type {content_type or '(none)'}", "application/json",
                                   "an unencrypted Credential Response")
    body = exchange.response_body
    answer = parse_credential_response(body)
    deferred = answer.transaction_id is not None
    if exchange.status != (202 if deferred else 200):
        return CheckOutcome.failed(f"HTTP {exchange.status}", f"HTTP {202 if deferred else 200}",
                                   "deferred answers are 202, immediate ones 200")
    notification = body.get("notification_id") if isinstance(body, Mapping) else None
    if notification is not None and not isinstance(notification, str):
        return CheckOutcome.failed(f"notification_id = {notification!r}", "a string")
    what = f"transaction_id (interval {answer.interval} s)" if deferred else f"{len(answer.credentials)} credential(s)"
    return CheckOutcome.passed(f"HTTP {exchange.status} {content_type.split(';')[0]} with {what}")


@check("issuance.notification_accepted", spec="OID4VCI 1.0 §11.2", needs=("notified",),
       description="A Notification Request the wallet sent is answered with a 2xx status (204 No Content "
                   "recommended); skipped when the issuer offers no notification (no notification_endpoint "
                   "or no notification_id).")
async def notification_accepted(ctx: CheckContext) -> CheckOutcome:
    if ctx.artefact("notified") is not True:
        return CheckOutcome.skipped(str(ctx.result.artefacts.get("reason") or "no notification was sent"))
    status = ctx.result.status
    if status is None or not 200 <= status < 300:
        return CheckOutcome.failed(f"HTTP {status} {shown(ctx.result.body)}", "a 2xx answer (204 recommended)")
    return CheckOutcome.passed(f"notification {ctx.result.artefacts.get('event')} answered HTTP {status}")


# --- what the credential carries compared with the offer ----------------------------------------------

def _offered(ctx: CheckContext) -> Mapping[str, Any]:
    offered = ctx.artefact("offered_claims")
    if not isinstance(offered, Mapping):
        raise ev.EvidenceError("offered_claims_unreadable", f"offered_claims is a {type(offered).__name__}, "
                               "expected the claims object of the offer")
    return offered


def _leaf_paths(value: Any, path: ClaimPath) -> Iterator[ClaimPath]:
    """Every path below a claim: the claim, each member of an object, each element of an array."""
    yield path
    if isinstance(value, Mapping):
        for key, member in value.items():
            yield from _leaf_paths(member, (*path, key))
    elif isinstance(value, list):
        for index, element in enumerate(value):
            yield from _leaf_paths(element, (*path, index))


def _path_text(path: Sequence[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else (f".{p}" if i else str(p)) for i, p in enumerate(path))


@check("issuance.claims_as_offered", spec="TCS issuer seed, Step 1 Parameters (credential.claims); RFC 9901 §7.1",
       needs=("credential", "offered_claims"),
       description="With every Disclosure applied, the credential carries each offered claim with exactly the "
                   "offered value, nested objects and arrays included.")
async def claims_as_offered(ctx: CheckContext) -> CheckOutcome:
    sd_jwt = ev.credential(ctx)
    claims = unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures).claims
    offered = _offered(ctx)
    wrong = [f"{name}: {shown(claims.get(name, '<absent>'))}" for name, value in offered.items()
             if name not in claims or claims[name] != value or type(claims[name]) is not type(value)]
    if wrong:
        return CheckOutcome.failed("; ".join(wrong), "the offered values", "claims differ from the offer")
    return CheckOutcome.passed(f"{len(offered)} offered claim(s) issued unchanged")


@check("issuance.nested_disclosable", spec="RFC 9901 §4.2.1, §4.2.2, §4.2.6", severity="recommended",
       needs=("credential", "offered_claims"),
       description="Every offered claim, every member of an offered object and every element of an offered "
                   "array has a Disclosure of its own, so the holder can disclose each one alone (recursive "
                   "selective disclosure).")
async def nested_disclosable(ctx: CheckContext) -> CheckOutcome:
    sd_jwt = ev.credential(ctx)
    revealed = unpack(sd_jwt.issuer_jws.payload, sd_jwt.disclosures).revealed
    paths = [p for name, value in _offered(ctx).items() for p in _leaf_paths(value, (name,))]
    fixed = [_path_text(p) for p in paths if p not in revealed]
    if fixed:
        return CheckOutcome.failed(f"always disclosed: {', '.join(fixed)}", "a Disclosure for each of them")
    return CheckOutcome.passed(f"{len(paths)} claim paths, each behind its own Disclosure")


# --- metadata (§12.2, §12.3; RFC 8414) -------------------------------------------------------------

@check("issuance.metadata_media_types", spec="OID4VCI 1.0 §12.2.2; RFC 8414 §3.2",
       description="The Credential Issuer Metadata and the Authorization Server Metadata are answered 200 "
                   "with application/json at their well-known URLs.")
async def metadata_media_types(ctx: CheckContext) -> CheckOutcome:
    fetched = [e for e in ctx.result.exchanges or [] if any(w in str(e.url) for w in WELL_KNOWN)]
    if not fetched:
        return CheckOutcome.skipped("the step fetched no well-known metadata")
    for exchange in fetched:
        content_type = _header(exchange, "content-type")
        if exchange.status != 200 or not _JSON_TYPE.match(content_type):
            return CheckOutcome.failed(f"HTTP {exchange.status}, Content-Type {content_type or '(none)'}",
                                       "HTTP 200 application/json", f"GET {exchange.url}")
    return CheckOutcome.passed(f"{len(fetched)} metadata document(s) served as application/json")


def _issuer_metadata(ctx: CheckContext) -> tuple[Mapping[str, Any], Any]:
    raw = ctx.artefact("issuer_metadata")
    issuer = raw.get("credential_issuer") if isinstance(raw, Mapping) else None
    if ctx.has("offer"):
        issuer = parse_credential_offer(ctx.artefact("offer")).credential_issuer
    return raw, parse_issuer_metadata(raw, expected_issuer=issuer)  # type: ignore[arg-type]


@check("issuance.as_metadata", spec="RFC 8414 §2, §3.3; OID4VCI 1.0 §12.2.4 (authorization_servers), §12.3",
       needs=("issuer_metadata", "as_metadata"),
       description="The Authorization Server Metadata names as issuer the server the Credential Issuer points "
                   "to (or the Credential Issuer itself), has a token_endpoint and, when the offer grants a "
                   "pre-authorized code, lists that grant type in grant_types_supported.")
async def as_metadata(ctx: CheckContext) -> CheckOutcome:
    _, metadata = _issuer_metadata(ctx)
    server = parse_authorization_server_metadata(ctx.artefact("as_metadata"),
                                                 expected_issuer=metadata.authorization_server)
    offer = parse_credential_offer(ctx.artefact("offer")) if ctx.has("offer") else None
    if offer is not None and offer.pre_authorized is not None and PRE_AUTHORIZED_GRANT not in server.grant_types:
        return CheckOutcome.failed(f"grant_types_supported {list(server.grant_types)}",
                                   f"to include {PRE_AUTHORIZED_GRANT}", "the offer grants a pre-authorized code")
    return CheckOutcome.passed(f"AS {server.issuer}: token endpoint {server.token_endpoint}, grants "
                               f"{', '.join(server.grant_types)}")


def _configuration_problems(cid: str, raw: Mapping[str, Any]) -> Iterator[str]:
    where = f"{cid}:"
    binding, proofs = raw.get("cryptographic_binding_methods_supported"), raw.get("proof_types_supported")
    if (binding is None) != (proofs is None):
        yield (f"{where} cryptographic_binding_methods_supported and proof_types_supported must be present "
               "together (§12.2.4)")
    for method in binding or ():
        if not isinstance(method, str) or not (method in ("jwk", "cose_key") or re.fullmatch(r"did:[a-z0-9]+", method)):
            yield f"{where} binding method {method!r} is not jwk, cose_key or did:<method-name> (§12.2.4)"
    if raw.get("format") == FORMAT_SD_JWT_VC:
        algs = raw.get("credential_signing_alg_values_supported")
        if algs is not None and not all(isinstance(a, str) and a and a != "none" for a in algs):
            yield f"{where} credential_signing_alg_values_supported must be JWS alg names, not none (A.3.2)"
    metadata = raw.get("credential_metadata") or {}
    display = metadata.get("display") if isinstance(metadata, Mapping) else None
    if display is not None:
        yield from _display_problems(f"{where} credential_metadata.display", display)
    claims = metadata.get("claims") if isinstance(metadata, Mapping) else None
    for i, claim in enumerate(claims or ()):
        yield from _claim_problems(f"{where} credential_metadata.claims[{i}]", claim)


def _display_problems(where: str, display: Any) -> Iterator[str]:
    if not isinstance(display, list) or not display:
        yield f"{where} must be a non-empty array"
        return
    locales = [d.get("locale") for d in display if isinstance(d, Mapping)]
    if any(not isinstance(d, Mapping) or not isinstance(d.get("name"), str) for d in display):
        yield f"{where}: every entry needs a string name"
    if len(locales) != len(set(map(str, locales))):
        yield f"{where}: only one entry per locale"


def _claim_problems(where: str, claim: Any) -> Iterator[str]:
    """Appendix B.2: path is a non-empty claims path pointer; mandatory a boolean."""
    path = claim.get("path") if isinstance(claim, Mapping) else None
    if not isinstance(path, list) or not path or not all(
            isinstance(p, str) or p is None or (type(p) is int and p >= 0) for p in path):
        yield f"{where}.path must be a non-empty array of strings, null and non-negative integers"
    if isinstance(claim, Mapping) and "mandatory" in claim and not isinstance(claim["mandatory"], bool):
        yield f"{where}.mandatory must be a boolean"
    if isinstance(claim, Mapping) and claim.get("display") is not None:
        yield from _display_problems(f"{where}.display", claim["display"])


@check("issuance.credential_configurations", spec="OID4VCI 1.0 §12.2.4, Appendix A.3.2, Appendix B.2",
       needs=("issuer_metadata",),
       description="Every credential configuration is well formed: binding methods and proof types present "
                   "together, binding methods jwk / cose_key / did:<method>, dc+sd-jwt ones with a vct and JWS "
                   "signing algs, display entries named once per locale, claims descriptions with valid paths.")
async def credential_configurations(ctx: CheckContext) -> CheckOutcome:
    raw, metadata = _issuer_metadata(ctx)
    configurations = raw.get("credential_configurations_supported") or {}
    problems = [p for cid, cfg in configurations.items() for p in _configuration_problems(cid, cfg)]
    if problems:
        more = f" (+{len(problems) - 4} more)" if len(problems) > 4 else ""
        return CheckOutcome.failed("; ".join(problems[:4]) + more, "configurations as §12.2.4 describes them")
    return CheckOutcome.passed(f"{len(metadata.configurations)} configuration(s) of {metadata.credential_issuer} "
                               "well formed")


# --- the on-chain lifecycle observed by polling (TCS issuer seed, Step 3) -------------------------

_RANK = {"PENDING": 0, "IN_PROGRESS": 1, "COMPLETED": 2, "FAILED": 2}
TERMINAL = ("COMPLETED", "FAILED")


def _lifecycle_problem(history: Sequence[Mapping[str, Any]]) -> str | None:
    statuses = [state.get("on_chain_status") for state in history]
    if statuses == [None]:
        return None  # off-chain: nothing to anchor, nothing to follow
    unknown = [s for s in statuses if s not in _RANK]
    if unknown:
        return f"unknown on_chain_status {unknown[0]!r} (seed values: PENDING, IN_PROGRESS, COMPLETED, FAILED)"
    for before, after in zip(statuses, statuses[1:]):
        if _RANK[after] <= _RANK[before]:
            return f"{before} -> {after} goes back or sideways (PENDING -> IN_PROGRESS -> COMPLETED | FAILED)"
    if statuses[-1] not in TERMINAL:
        return f"ends {statuses[-1]}, not in a terminal state (COMPLETED or FAILED)"
    for state in history:
        status, object_id = state.get("on_chain_status"), state.get("object_id")
        if (object_id is not None) != (status == "COMPLETED"):
            return f"object_id {object_id!r} while {status} (populated only when COMPLETED)"
        if state.get("blockchain") != "iota":
            return f"blockchain {state.get('blockchain')!r} while {status} (the anchor network is iota)"
    return None


@check("issuance.on_chain_lifecycle", spec=SEED, needs=("on_chain_history",),
       description="The on_chain_status values a poller saw follow PENDING -> IN_PROGRESS -> COMPLETED | FAILED "
                   "(never back), end in a terminal state, show an object_id exactly when COMPLETED and "
                   "blockchain iota throughout; an off-chain record shows null all along.")
async def on_chain_lifecycle(ctx: CheckContext) -> CheckOutcome:
    history = ctx.artefact("on_chain_history")
    if not isinstance(history, list) or not history:
        return CheckOutcome.failed(history, "at least one observed credential record")
    problem = _lifecycle_problem(history)
    seen = " -> ".join(str(state.get("on_chain_status")) for state in history)
    if problem:
        return CheckOutcome.failed(seen, "the seed's lifecycle", problem)
    return CheckOutcome.passed(f"observed {seen}")

"""The harness's issuer double: an OID4VCI 1.0 Credential Issuer (pre-authorized code flow) the
harness hosts itself, so that a wallet under test (the custodial holder service of the holder
seed, §2) can be handed credentials the harness controls, including deliberately broken ones,
and its refusal judged. It is to the holder what conformance/rp.py is to its presentations.

Three jobs, one section each:

- defects: `DEFECTS` names each deliberate deviation (a corrupted signature, an expired or not yet
  valid credential, a wrong `typ`, no or a foreign `cnf`, a Disclosure without its digest, a key
  the issuer never published). `mint` has the protocol core issue a valid SD-JWT VC
  (`issue_sd_jwt_vc`, which refuses an invalid one) from a `MintPlan` the defects altered, and
  only then alters the issued token as the plan says, so every deviation is deliberate and named.
- the endpoints: `IssuerDouble.app()` serves the Credential Offer (§4.1.3), the Credential Issuer
  Metadata (§12.2), the Authorization Server Metadata (RFC 8414), the Token (§6), Nonce (§7) and
  Credential (§8) endpoints, and the JWT VC Issuer Metadata with the issuer's key (SD-JWT VC §5),
  the key the holder must find through `iss` (SD-JWT VC §3.5). Wire errors have the shapes of
  RFC 6749 §5.2 and OID4VCI 1.0 §8.3.1.2. Hosting it (in-process or on a socket) is the
  dialect's job.
- records: each offer keeps what its wallet did (token redeemed, credentials issued).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from conformance.protocol.did import LOCAL_METHODS, parse_did_url, resolve_local, verification_key
from conformance.protocol.errors import DidError, Oid4vciError
from conformance.protocol.jose import PrivateKey, PublicKey, b64u_decode, b64u_encode, generate_key, parse_jws, sign_jws
from conformance.protocol.oid4vci import (
    FORMAT_SD_JWT_VC,
    PRE_AUTHORIZED_GRANT,
    CredentialOffer,
    CredentialResponse,
    NonceResponse,
    PreAuthorizedGrant,
    TokenResponse,
    build_offer_link,
    oid4vci_error,
    parse_credential_request,
    parse_proof_jwt,
    parse_token_request,
    verify_proof_jwt,
    well_known_url,
)
from conformance.protocol.sdjwt import issue_sd_jwt_vc
from conformance.protocol.sdjwt.disclosure import SD_KEY
from conformance.protocol.sdjwt.serialization import serialize

LIFETIME = 365 * 24 * 3600      # a good credential's exp - iat
SKEW = 3600                     # how far expired / not yet valid credentials are off: far beyond any leeway
PROOF_MAX_AGE = 300
TOKEN_LIFETIME = 600
ALGS = ("ES256", "EdDSA")

# --- defects ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MintPlan:
    """What one credential will be. The first block is what the core signs; the second, what is
    altered after it signed (`typ` / `drop_digest` re-sign, `corrupt` flips signature bytes)."""

    iat: int
    exp: int
    nbf: int | None = None
    bind: str = "proof"             # "proof" (the key the wallet proved), "other" (a fresh key) or "none"
    signer: str = "published"       # "published" (the key at jwt-vc-issuer) or "unpublished"
    typ: str | None = None          # None: the core's dc+sd-jwt
    drop_digest: bool = False
    corrupt: bool = False


@dataclass(frozen=True)
class Defect:
    name: str
    clause: str
    description: str
    apply: Callable[[MintPlan], MintPlan]


def _replace(**changes: Any) -> Callable[[MintPlan], MintPlan]:
    return lambda plan: dataclasses.replace(plan, **changes)


def _expired(plan: MintPlan) -> MintPlan:
    return dataclasses.replace(plan, iat=plan.iat - LIFETIME - SKEW, exp=plan.iat - SKEW)


def _not_yet_valid(plan: MintPlan) -> MintPlan:
    return dataclasses.replace(plan, nbf=plan.iat + SKEW)


DEFECTS: Mapping[str, Defect] = {d.name: d for d in (
    Defect("bad_signature", "RFC 9901 §7.1 step 2; SD-JWT VC §3.4",
           "the Issuer-signed JWT's signature does not verify (its bytes flipped after signing)",
           _replace(corrupt=True)),
    Defect("expired", "RFC 9901 §7.1 step 6; RFC 7519 §4.1.4",
           f"exp is {SKEW} s in the past", _expired),
    Defect("not_yet_valid", "RFC 9901 §7.1 step 6; RFC 7519 §4.1.5",
           f"nbf is {SKEW} s in the future", _not_yet_valid),
    Defect("wrong_typ", "SD-JWT VC §3.2.1", "the Issuer-signed JWT's typ is JWT, not dc+sd-jwt (signed so)",
           _replace(typ="JWT")),
    Defect("no_cnf", "OID4VCI 1.0 §8.2 (proofs bind the credential); SD-JWT VC §3.2.2.2 (cnf)",
           "the credential has no cnf: it is bound to no key although the wallet proved one", _replace(bind="none")),
    Defect("cnf_other_key", "OID4VCI 1.0 §8.2; RFC 7800 §3.2",
           "cnf.jwk is a fresh key of the issuer's, not the key the wallet's proof named", _replace(bind="other")),
    Defect("undisclosed_digest_missing", "RFC 9901 §7.1 step 4 (and step 5: every Disclosure referenced)",
           "one Disclosure is sent whose digest is not in _sd (the payload signed without it)",
           _replace(drop_digest=True)),
    Defect("unknown_issuer_key", "SD-JWT VC §3.5, §5",
           "signed by a key whose kid the issuer's JWT VC Issuer Metadata does not list: not resolvable",
           _replace(signer="unpublished")),
)}


def plan_credential(now: float, defects: tuple[str, ...]) -> MintPlan:
    """A valid plan at `now`, altered by each named defect; ValueError names an unknown one."""
    unknown = [name for name in defects if name not in DEFECTS]
    if unknown:
        raise ValueError(f"unknown issuer double defect(s) {', '.join(unknown)} (known: {', '.join(DEFECTS)})")
    plan = MintPlan(iat=int(now), exp=int(now) + LIFETIME)
    for name in defects:
        plan = DEFECTS[name].apply(plan)
    return plan


@dataclass(frozen=True)
class IssuerKey:
    """The issuer's signing key and its kid in the JWT VC Issuer Metadata."""

    key: PrivateKey
    kid: str

    def jwk(self) -> dict[str, Any]:
        return {**self.key.public.to_jwk(), "kid": self.kid, "use": "sig", "alg": self.key.alg}


def new_issuer_key(alg: str, kid: str) -> IssuerKey:
    return IssuerKey(generate_key(alg), kid)


def mint(plan: MintPlan, *, issuer: str, key: IssuerKey, vct: str, claims: Mapping[str, Any],
         holder_key: PublicKey) -> str:
    """The SD-JWT VC (`<issuer_jwt>~<disclosures>~`) the plan says: issued valid, then altered."""
    signer = key if plan.signer == "published" else new_issuer_key(key.key.alg, f"{key.kid}-unpublished")
    payload: dict[str, Any] = {"iss": issuer, "vct": vct, "iat": plan.iat, "exp": plan.exp}
    if plan.nbf is not None:
        payload["nbf"] = plan.nbf
    bound = {"proof": holder_key, "other": generate_key("ES256").public, "none": None}[plan.bind]
    issued = issue_sd_jwt_vc(issuer_key=signer.key, header={"kid": signer.kid}, payload=payload,
                             claims=claims, holder_key=bound)
    jwt = issued.issuer_jwt
    if plan.typ is not None or plan.drop_digest:
        jws = parse_jws(jwt, "issuer_jwt")
        header = {**jws.header, **({"typ": plan.typ} if plan.typ is not None else {})}
        body = _without_first_digest(jws.payload) if plan.drop_digest else jws.payload
        jwt = sign_jws({k: v for k, v in header.items() if k != "alg"}, body, signer.key)
    if plan.corrupt:
        jwt = _corrupt(jwt)
    return serialize(jwt, issued.disclosures)


def _without_first_digest(payload: Mapping[str, Any]) -> dict[str, Any]:
    digests = payload.get(SD_KEY)
    if not isinstance(digests, list) or not digests:
        raise ValueError("undisclosed_digest_missing needs at least one selectively disclosable top-level claim")
    out = dict(payload)
    out[SD_KEY] = digests[1:]
    return out


def _corrupt(token: str) -> str:
    head, payload, signature = token.split(".")
    raw = bytearray(b64u_decode(signature, "signature"))
    raw[0] ^= 0xFF
    return f"{head}.{payload}.{b64u_encode(bytes(raw))}"


# --- offers and records ----------------------------------------------------------------------


@dataclass
class HostedOffer:
    """One offer: what it promises, how its credential will be broken, what its wallet did."""

    offer_id: str
    config_id: str
    vct: str
    claims: Mapping[str, Any]
    defects: tuple[str, ...]
    code: str = field(repr=False)
    redeemed: bool = False
    issued: list[str] = field(default_factory=list)


class IssuerDouble:
    """The issuer's state and ASGI app. `base_url` is where wallets reach it (and its Credential
    Issuer Identifier, `iss` of what it issues); `clock` dates tokens and credentials (the embedded
    reference's clock, so a moved clock moves them too); `draw(n)` gives n URL-safe random
    characters for codes, tokens and nonces (the scenario's seeded rng)."""

    def __init__(self, base_url: str, *, draw: Callable[[int], str], clock: Callable[[], float] = time.time,
                 alg: str = "ES256") -> None:
        if alg not in ALGS:
            raise ValueError(f"issuer key alg must be one of {', '.join(ALGS)}, got {alg!r}")
        self.base_url = base_url.rstrip("/")
        self.clock, self.draw = clock, draw
        self.key = new_issuer_key(alg, f"issuer-double-{draw(8)}")
        self.offers: dict[str, HostedOffer] = {}
        self._codes: dict[str, str] = {}          # pre-authorized code -> offer id
        self._tokens: dict[str, tuple[str, float]] = {}   # access token -> (offer id, expiry)
        self._nonces: set[str] = set()

    @property
    def credential_issuer(self) -> str:
        return self.base_url

    def add_offer(self, *, offer_id: str, config_id: str, vct: str, claims: Mapping[str, Any],
                  defects: tuple[str, ...]) -> HostedOffer:
        plan_credential(self.clock(), defects)   # an unknown defect fails here, not at redemption
        if "undisclosed_digest_missing" in defects and not claims:
            raise ValueError("undisclosed_digest_missing needs at least one claim")
        clash = [o for o in self.offers.values() if o.config_id == config_id and o.vct != vct]
        if clash:
            raise ValueError(f"configuration {config_id!r} already has vct {clash[0].vct!r}; give another config")
        offer = HostedOffer(offer_id, config_id, vct, dict(claims), tuple(defects), code=self.draw(32))
        self.offers[offer_id] = offer
        self._codes[offer.code] = offer_id
        return offer

    def offer_uri(self, offer: HostedOffer) -> str:
        return f"{self.base_url}/offers/{offer.offer_id}"

    def offer_json(self, offer: HostedOffer) -> dict[str, Any]:
        return CredentialOffer(self.credential_issuer, (offer.config_id,),
                               PreAuthorizedGrant(offer.code, None)).to_json()

    def deep_link(self, offer: HostedOffer) -> str:
        return build_offer_link(offer_uri=self.offer_uri(offer))

    def issuer_metadata(self) -> dict[str, Any]:
        configurations = {o.config_id: _configuration(o, self.key.key.alg) for o in self.offers.values()}
        return {"credential_issuer": self.credential_issuer,
                "credential_endpoint": f"{self.base_url}/credential",
                "nonce_endpoint": f"{self.base_url}/nonce",
                "display": [{"name": "Harness issuer double", "locale": "en"}],
                "credential_configurations_supported": configurations}

    def as_metadata(self) -> dict[str, Any]:
        return {"issuer": self.credential_issuer, "token_endpoint": f"{self.base_url}/token",
                "grant_types_supported": [PRE_AUTHORIZED_GRANT],
                "pre-authorized_grant_anonymous_access_supported": True}

    def jwt_vc_issuer(self) -> dict[str, Any]:
        return {"issuer": self.credential_issuer, "jwks": {"keys": [self.key.jwk()]}}

    # --- the wire ----------------------------------------------------------------------------

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/offers/{oid}", self._offer, methods=["GET"]),
            Route("/.well-known/openid-credential-issuer", self._json(self.issuer_metadata), methods=["GET"]),
            Route("/.well-known/oauth-authorization-server", self._json(self.as_metadata), methods=["GET"]),
            Route("/.well-known/jwt-vc-issuer", self._json(self.jwt_vc_issuer), methods=["GET"]),
            Route("/token", self._token, methods=["POST"]),
            Route("/nonce", self._nonce, methods=["POST"]),
            Route("/credential", self._credential, methods=["POST"]),
        ])

    @staticmethod
    def _json(make: Callable[[], dict[str, Any]]) -> Callable[[Request], Any]:
        async def serve(request: Request) -> Response:
            return JSONResponse(make())
        return serve

    async def _offer(self, request: Request) -> Response:
        offer = self.offers.get(request.path_params["oid"])
        if offer is None:
            return JSONResponse({"error": "invalid_request", "error_description": "unknown offer"}, 404)
        return JSONResponse(self.offer_json(offer))

    async def _token(self, request: Request) -> Response:
        """§6: the pre-authorized code, once (§4.1.1: single use)."""
        try:
            token_request = parse_token_request(parse_qsl((await request.body()).decode("utf-8", "replace"),
                                                          keep_blank_values=True))
        except Oid4vciError as exc:
            return _oauth_error(exc, 400)
        offer_id = self._codes.pop(token_request.pre_authorized_code, None)
        if offer_id is None:
            return _oauth_error(oid4vci_error("invalid_grant", "unknown or already used pre-authorized code"), 400)
        self.offers[offer_id].redeemed = True
        access_token = self.draw(32)
        self._tokens[access_token] = (offer_id, self.clock() + TOKEN_LIFETIME)
        return JSONResponse(TokenResponse(access_token, "Bearer", TOKEN_LIFETIME).to_json(),
                            headers={"Cache-Control": "no-store"})

    async def _nonce(self, request: Request) -> Response:
        nonce = self.draw(22)
        self._nonces.add(nonce)
        return JSONResponse(NonceResponse(nonce).to_json(), headers={"Cache-Control": "no-store"})

    async def _credential(self, request: Request) -> Response:
        offer = self._bearer(request)
        if offer is None:
            return JSONResponse({"error": "invalid_token"}, 401,
                                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        try:
            body = await request.json()
        except ValueError:
            body = None
        try:
            holder_key = self._proven_key(offer, body)
        except Oid4vciError as exc:
            return _oauth_error(exc, 400)
        credential = mint(plan_credential(self.clock(), offer.defects), issuer=self.credential_issuer,
                          key=self.key, vct=offer.vct, claims=offer.claims, holder_key=holder_key)
        offer.issued.append(credential)
        return JSONResponse(CredentialResponse((credential,)).to_json(), headers={"Cache-Control": "no-store"})

    def _bearer(self, request: Request) -> HostedOffer | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if found is None or found[1] < self.clock():
            return None
        return self.offers[found[0]]

    def _proven_key(self, offer: HostedOffer, body: Any) -> PublicKey:
        """§8.2 and Appendix F.4: the requested configuration is the offer's, one jwt proof for this
        issuer with a c_nonce it gave (spent here); a kid names a did:key / did:jwk key."""
        parsed = parse_credential_request(body)
        if parsed.credential_configuration_id != offer.config_id:
            raise oid4vci_error("unknown_credential_configuration", f"this token's offer is for "
                                f"{offer.config_id!r}", "credential_configuration_id")
        if parsed.proof_type != "jwt":
            raise oid4vci_error("invalid_proof", "one proof of type jwt is required (§8.2)", "proofs")
        proof = parse_proof_jwt(parsed.proofs[0])
        verified = verify_proof_jwt(proof, expected_aud=self.credential_issuer, expected_nonce=self._nonces,
                                    now=self.clock(), max_age=PROOF_MAX_AGE, key=_did_key(proof.kid))
        self._nonces.discard(verified.nonce or "")
        return verified.key


def _configuration(offer: HostedOffer, alg: str) -> dict[str, Any]:
    return {"format": FORMAT_SD_JWT_VC, "vct": offer.vct,
            "cryptographic_binding_methods_supported": ["jwk"],
            "credential_signing_alg_values_supported": [alg],
            "proof_types_supported": {"jwt": {"proof_signing_alg_values_supported": list(ALGS)}},
            "credential_metadata": {"display": [{"name": offer.config_id, "locale": "en"}]}}


def _did_key(kid: str | None) -> PublicKey | None:
    """The key a DID URL kid names, for the DID methods resolved without I/O; else None (and the
    proof check says the kid could not be resolved)."""
    if kid is None:
        return None
    try:
        did, _ = parse_did_url(kid)
        if did.method not in LOCAL_METHODS:
            return None
        return verification_key(resolve_local(did.did), kid, "authentication")
    except DidError:
        return None


def _oauth_error(exc: Oid4vciError, status: int) -> Response:
    """RFC 6749 §5.2 / OID4VCI 1.0 §8.3.1.2 error body; the description kept to RFC 6749's charset."""
    description = "".join(c for c in exc.message if c.isascii() and c.isprintable() and c not in '"\\')
    return JSONResponse({"error": exc.reason, "error_description": description}, status,
                        headers={"Cache-Control": "no-store"})


def issuer_key_url(issuer: str) -> str:
    """Where a holder finds this issuer's key (SD-JWT VC §5)."""
    return well_known_url(issuer, "jwt-vc-issuer")

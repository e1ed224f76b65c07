"""Building one SD-JWT VC presentation (RFC 9901 §7.2, §4.3; OID4VP 1.0 B.3.6) as a draft that
the presentation faults of `PRESENT_FAULTS` alter one field at a time before it is serialized,
and the vp_token faults that break the shape of the vp_token around it (OID4VP 1.0 §8.1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any

from conformance.protocol.jose import (
    PrivateKey,
    b64u_encode,
    b64u_json,
    generate_key,
    json_from_b64u,
    parse_jws,
    sign_jws,
)
from conformance.protocol.sdjwt import decode_disclosure, key_binding_jwt, make_disclosure, present
from conformance.protocol.sdjwt.disclosure import new_salt
from conformance.protocol.sdjwt.unpack import ClaimPath
from conformance.wallet.held import HeldCredential
from conformance.wallet.tamper import flip_signature

YEAR = 365 * 24 * 3600
SEPARATOR = "~"
Edit = Callable[[str], str]
# Alters a KB-JWT's (header, claims) before it is signed.
Reshape = Callable[[dict[str, Any], dict[str, Any]], tuple[dict[str, Any], dict[str, Any]]]


def _unchanged(text: str) -> str:
    return text


@dataclass(frozen=True)
class KeyBinding:
    """The KB-JWT to append (§4.3). `key` None: none is appended. `hashed` picks what sd_hash covers."""

    key: PrivateKey | None
    aud: str
    nonce: str
    iat: int
    hashed: Edit = field(default=_unchanged)
    reshape: Reshape | None = None               # re-sign with another header / claims
    finish: Edit = field(default=_unchanged)     # applied to the signed KB-JWT

    def jwt(self, sd_jwt: str) -> str:
        assert self.key is not None
        token = key_binding_jwt(self.hashed(sd_jwt), self.key, aud=self.aud, nonce=self.nonce, iat=self.iat)
        if self.reshape is not None:
            signed = parse_jws(token, "kb_jwt")
            header, claims = self.reshape(dict(signed.header), dict(signed.payload))
            token = sign_jws(header, claims, self.key)
        return self.finish(token)


@dataclass(frozen=True)
class PresentationDraft:
    held: HeldCredential
    paths: tuple[ClaimPath, ...]
    binding: KeyBinding
    edit: Edit = field(default=_unchanged)  # applied to the SD-JWT before it is bound

    def build(self) -> str:
        sd_jwt = self.edit(present(self.held.sd_jwt, self.paths, holder_key=None, aud=None, nonce=None))
        return sd_jwt if self.binding.key is None else sd_jwt + self.binding.jwt(sd_jwt)


@dataclass(frozen=True)
class FaultInputs:
    """What the faults need from the request and the wallet."""

    rng: Random
    response_uri: str
    now: int


def _then(first: Edit, second: Edit) -> Edit:
    return lambda text: second(first(text))


def _other_value(value: Any) -> Any:
    return f"{value}-tampered" if isinstance(value, str) else "tampered"


def tamper_disclosure(rng: Random) -> Edit:
    """Change the first Disclosure's value, keeping salt and name: its digest is then in no `_sd`."""
    def edit(sd_jwt: str) -> str:
        issuer_jwt, *disclosures, tail = sd_jwt.split(SEPARATOR)
        if disclosures:
            first = decode_disclosure(disclosures[0], "disclosures[0]")
            disclosures[0] = make_disclosure(first.salt, first.name, _other_value(first.value)).encoded
        else:
            disclosures.append(make_disclosure(new_salt(rng), "tampered", True).encoded)
        return SEPARATOR.join((issuer_jwt, *disclosures, tail))
    return edit


def tamper_issuer_jwt(now: int) -> Edit:
    """Re-encode the Issuer-signed payload with iat moved by one second; keep the signature."""
    def edit(sd_jwt: str) -> str:
        issuer_jwt, rest = sd_jwt.split(SEPARATOR, 1)
        header, payload, signature = issuer_jwt.split(".")
        claims = json_from_b64u(payload, "issuer_jwt.payload")
        iat = claims.get("iat")
        claims["iat"] = iat + 1 if isinstance(iat, int) and not isinstance(iat, bool) else now
        return f"{header}.{b64u_json(claims)}.{signature}{SEPARATOR}{rest}"
    return edit


def issuer_jwt_bad_signature(sd_jwt: str) -> str:
    """One bit of the Issuer-signed JWT's signature flipped; header and payload untouched."""
    issuer_jwt, rest = sd_jwt.split(SEPARATOR, 1)
    return f"{flip_signature(issuer_jwt)}{SEPARATOR}{rest}"


def issuer_jwt_only(sd_jwt: str) -> str:
    """The Issuer-signed JWT without a single '~': a JWT, not an SD-JWT (RFC 9901 §4)."""
    return sd_jwt.split(SEPARATOR, 1)[0]


def _without_claim(name: str) -> Reshape:
    return lambda header, claims: (header, {k: v for k, v in claims.items() if k != name})


def _binding(draft: PresentationDraft, **changes: Any) -> PresentationDraft:
    return replace(draft, binding=replace(draft.binding, **changes))


def _extra_paths(draft: PresentationDraft) -> tuple[ClaimPath, ...]:
    """Every disclosable claim, so the presentation carries every Disclosure of the credential."""
    return draft.paths + tuple(path for path in draft.held.revealed if path not in draft.paths)


PresentationFault = Callable[[PresentationDraft, FaultInputs], PresentationDraft]
PRESENTATION_FAULTS: Mapping[str, PresentationFault] = {
    "extra_disclosure": lambda d, i: replace(d, paths=_extra_paths(d)),
    "tamper_disclosure": lambda d, i: replace(d, edit=_then(d.edit, tamper_disclosure(i.rng))),
    "tamper_issuer_jwt": lambda d, i: replace(d, edit=_then(d.edit, tamper_issuer_jwt(i.now))),
    "issuer_jwt_bad_signature": lambda d, i: replace(d, edit=_then(d.edit, issuer_jwt_bad_signature)),
    "not_sd_jwt": lambda d, i: replace(_binding(d, key=None), edit=_then(d.edit, issuer_jwt_only)),
    "kb_missing": lambda d, i: _binding(d, key=None),
    "kb_wrong_key": lambda d, i: _binding(d, key=generate_key(d.binding.key.alg if d.binding.key else "ES256")),
    "kb_bad_signature": lambda d, i: _binding(d, finish=flip_signature),
    "kb_wrong_typ": lambda d, i: _binding(d, reshape=lambda header, claims: ({**header, "typ": "JWT"}, claims)),
    "kb_no_iat": lambda d, i: _binding(d, reshape=_without_claim("iat")),
    "kb_wrong_nonce": lambda d, i: _binding(d, nonce=b64u_encode(i.rng.randbytes(24))),
    "kb_wrong_aud": lambda d, i: _binding(d, aud=i.response_uri),
    "kb_iat_past_year": lambda d, i: _binding(d, iat=d.binding.iat - YEAR),
    "kb_iat_future_year": lambda d, i: _binding(d, iat=d.binding.iat + YEAR),
    # A classic slip: hashing the SD-JWT without its terminating '~' (RFC 9901 §4.3.1).
    "kb_wrong_sd_hash": lambda d, i: _binding(d, hashed=lambda text: text[:-1]),
}


def build_presentation(draft: PresentationDraft, faults: frozenset[str], inputs: FaultInputs) -> str:
    for name, fault in PRESENTATION_FAULTS.items():
        if name in faults:
            draft = fault(draft, inputs)
    return draft.build()


# --- the vp_token around the presentations (OID4VP 1.0 §8.1) ---------------------------------------

VpToken = dict[str, list[Any]]
VP_TOKEN_FAULTS: Mapping[str, Callable[[VpToken], VpToken]] = {
    # A key that is no credential query id of the request.
    "vp_token_unknown_query": lambda vp: {f"{query_id}-not-requested": p for query_id, p in vp.items()},
    # A dc+sd-jwt Presentation is a string (B.3); this one is wrapped in a JSON object.
    "presentation_as_object": lambda vp: {query_id: [{"sd_jwt": x} for x in p] for query_id, p in vp.items()},
}


def shape_vp_token(vp_token: VpToken, faults: frozenset[str]) -> VpToken:
    for name, fault in VP_TOKEN_FAULTS.items():
        if name in faults:
            vp_token = fault(vp_token)
    return vp_token

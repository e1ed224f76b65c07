"""Building one SD-JWT VC presentation (RFC 9901 §7.2, §4.3; OID4VP 1.0 B.3.6) as a draft that
the presentation faults of `PRESENT_FAULTS` alter one field at a time before it is serialized."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from random import Random
from typing import Any

from conformance.protocol.jose import PrivateKey, b64u_encode, b64u_json, generate_key, json_from_b64u
from conformance.protocol.sdjwt import decode_disclosure, key_binding_jwt, make_disclosure, present
from conformance.protocol.sdjwt.disclosure import new_salt
from conformance.protocol.sdjwt.unpack import ClaimPath
from conformance.wallet.held import HeldCredential

YEAR = 365 * 24 * 3600
SEPARATOR = "~"
Edit = Callable[[str], str]


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


@dataclass(frozen=True)
class PresentationDraft:
    held: HeldCredential
    paths: tuple[ClaimPath, ...]
    binding: KeyBinding
    edit: Edit = field(default=_unchanged)  # applied to the SD-JWT before it is bound

    def build(self) -> str:
        sd_jwt = self.edit(present(self.held.sd_jwt, self.paths, holder_key=None, aud=None, nonce=None))
        binding = self.binding
        if binding.key is None:
            return sd_jwt
        return sd_jwt + key_binding_jwt(binding.hashed(sd_jwt), binding.key, aud=binding.aud,
                                        nonce=binding.nonce, iat=binding.iat)


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


def _binding(draft: PresentationDraft, **changes: Any) -> PresentationDraft:
    return replace(draft, binding=replace(draft.binding, **changes))


def _extra_paths(draft: PresentationDraft) -> tuple[ClaimPath, ...]:
    """Every disclosable claim, so the presentation carries every Disclosure of the credential."""
    return draft.paths + tuple(path for path in draft.held.disclosable if path not in draft.paths)


PresentationFault = Callable[[PresentationDraft, FaultInputs], PresentationDraft]
PRESENTATION_FAULTS: Mapping[str, PresentationFault] = {
    "extra_disclosure": lambda d, i: replace(d, paths=_extra_paths(d)),
    "tamper_disclosure": lambda d, i: replace(d, edit=_then(d.edit, tamper_disclosure(i.rng))),
    "tamper_issuer_jwt": lambda d, i: replace(d, edit=_then(d.edit, tamper_issuer_jwt(i.now))),
    "kb_missing": lambda d, i: _binding(d, key=None),
    "kb_wrong_key": lambda d, i: _binding(d, key=generate_key(d.binding.key.alg if d.binding.key else "ES256")),
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

"""Issuing SD-JWT VCs (RFC 9901 §4.1, §4.2; SD-JWT VC §3.2).

The caller splits the credential in two: `payload`, the claims always in the clear (iss, vct, iat,
exp, nbf, cnf, status, ...), and `claims`, the user claims, each made selectively disclosable when
`selective(path)` says so (by default every object property and array element, recursively, which
yields recursive Disclosures as in RFC 9901 §4.2.6 / §6.3). `disclosable(paths)` builds such a
predicate from a list of paths, with None standing for "every element of this array".
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from random import Random
from typing import Any

from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import PrivateKey, PublicKey, sign_jws
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.binding import holder_public_key
from conformance.protocol.sdjwt.disclosure import (
    ARRAY_DIGEST_KEY,
    RESERVED_NAMES,
    SD_ALG,
    SD_ALG_KEY,
    SD_KEY,
    Disclosure,
    decoy_digest,
    make_disclosure,
    new_salt,
)
from conformance.protocol.sdjwt.serialization import serialize

VC_TYP = "dc+sd-jwt"
LEGACY_VC_TYP = "vc+sd-jwt"  # SD-JWT VC §3.2.1: RECOMMENDED to accept during a transition period
# SD-JWT VC §3.2.2.2: used in the SD-JWT VC but MUST NOT be included in Disclosures.
VC_NON_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
_RESERVED_INPUT_NAMES = RESERVED_NAMES | {SD_ALG_KEY}

_TIME_CLAIMS = ("iat", "nbf", "exp")

Selective = Callable[[tuple], bool]


@dataclass(frozen=True)
class IssuedSdJwt:
    issuer_jwt: str  # compact JWS, header typ "dc+sd-jwt"
    disclosures: tuple[Disclosure, ...]

    def serialize(self) -> str:
        """`<issuer_jwt>~<d1>~...~<dn>~` (RFC 9901 §4): what the Issuer hands to the Holder."""
        return serialize(self.issuer_jwt, self.disclosures)


def issue_sd_jwt_vc(*, issuer_key: PrivateKey, header: Mapping[str, Any], payload: Mapping[str, Any],
                    claims: Mapping[str, Any], selective: Selective | None = None, decoys: int = 0,
                    rng: Random | None = None, array_decoys: int = 0,
                    holder_key: PublicKey | None = None) -> IssuedSdJwt:
    """Sign an SD-JWT VC. `header` adds e.g. kid or x5c; typ is forced to dc+sd-jwt, alg follows the key.

    `decoys` decoy digests (§4.2.5) are added to every `_sd` array and `array_decoys` decoy
    `{"...": digest}` elements to every array with a selectively disclosable element, so the number
    of disclosable claims at each level is hidden. `holder_key` sets `cnf.jwk` (RFC 7800 §3.2,
    SD-JWT VC §3.2.2.2); it may also come in `payload`. `rng` makes salts, decoys and decoy
    positions replayable; leave it None in production (they then come from `secrets`, §9.3).
    """
    if holder_key is not None:
        if "cnf" in payload:
            raise SdJwtError(r.CLAIM_NAME_COLLISION, "cnf is given both in payload and as holder_key", "cnf")
        payload = {**payload, "cnf": {"jwk": holder_key.to_jwk()}}
    _check_inputs(payload, claims)
    builder = _Builder(selective or _everything, decoys, array_decoys, rng)
    body = builder.object(claims, ())
    signed = {**payload, **body}
    if builder.digests:
        signed[SD_ALG_KEY] = SD_ALG
    issuer_jwt = sign_jws({**header, "typ": VC_TYP}, signed, issuer_key)
    return IssuedSdJwt(issuer_jwt, tuple(builder.disclosures))


def disclosable(paths: Iterable[tuple]) -> Selective:
    """A `selective` predicate: exactly the claims at `paths` are selectively disclosable.

    A path is a tuple of object keys and array indexes into `claims`; None matches any index, so
    ("nationalities", None) makes every nationality its own Disclosure.
    """
    paths = [tuple(path) for path in paths]
    exact = {path for path in paths if None not in path}
    patterns = [path for path in paths if None in path]
    return lambda path: path in exact or any(_matches(pattern, path) for pattern in patterns)


def _matches(pattern: tuple, path: tuple) -> bool:
    return len(pattern) == len(path) and all(
        want == step or (want is None and type(step) is int) for want, step in zip(pattern, path))


def _everything(path: tuple) -> bool:
    return True


def _check_inputs(payload: Mapping[str, Any], claims: Mapping[str, Any]) -> None:
    if type(payload.get("vct")) is not str:
        raise SdJwtError(r.VCT_MISSING, "payload must carry the credential type as a string vct claim "
                         "(SD-JWT VC §3.2.2.1)", "payload.vct")
    _reject_reserved(payload, "payload")
    _reject_reserved(claims, "claims")
    collisions = sorted(payload.keys() & claims.keys())
    if collisions:
        raise SdJwtError(r.CLAIM_NAME_COLLISION, f"claims {collisions} are both in payload and in claims",
                         "claims")
    non_disclosable = sorted(claims.keys() & VC_NON_DISCLOSABLE)
    if non_disclosable:
        raise SdJwtError(r.NON_DISCLOSABLE_CLAIM, f"claims {non_disclosable} MUST NOT be selectively "
                         "disclosable (SD-JWT VC §3.2.2.2); put them in payload", "claims")
    for name in _TIME_CLAIMS:
        value = payload.get(name, claims.get(name, 0))
        if type(value) is not int and type(value) is not float:
            raise SdJwtError(r.TIME_CLAIM_INVALID, f"{name} must be a NumericDate (JSON number of seconds), "
                             f"got {type(value).__name__}", f"payload.{name}")
    if "cnf" in payload:
        holder_public_key(payload)  # a cnf no verifier can use is an issuer bug: fail here, not later


def _reject_reserved(node: Any, where: str) -> None:
    if isinstance(node, Mapping):
        for key, child in node.items():
            if key in _RESERVED_INPUT_NAMES:
                raise SdJwtError(r.RESERVED_CLAIM_NAME, f"{where} uses the reserved claim name {key!r} "
                                 "(RFC 9901 §4.1 rule 7)", f"{where}.{key}")
            _reject_reserved(child, f"{where}.{key}")
    elif isinstance(node, (list, tuple)):
        for index, child in enumerate(node):
            _reject_reserved(child, f"{where}[{index}]")


@dataclass
class _Builder:
    selective: Selective
    decoys: int
    array_decoys: int
    rng: Random | None
    disclosures: list[Disclosure] = field(default_factory=list)
    digests: int = 0  # digests embedded, decoys included: _sd_alg is signed only when there are some

    def value(self, node: Any, path: tuple) -> Any:
        if isinstance(node, Mapping):
            return self.object(node, path)
        if isinstance(node, (list, tuple)):
            return self.array(node, path)
        return node

    def object(self, node: Mapping[str, Any], path: tuple) -> dict[str, Any]:
        # Children first: a disclosed object carries its own children's digests (§4.2.6).
        out: dict[str, Any] = {}
        digests = []
        for key, child in node.items():
            child_path = (*path, key)
            value = self.value(child, child_path)
            if self.selective(child_path):
                digests.append(self._disclose(key, value))
            else:
                out[key] = value
        if digests:
            digests.extend(decoy_digest(self.rng) for _ in range(self.decoys))
            self.digests += self.decoys
            out[SD_KEY] = sorted(digests)  # §4.2.4.1: the order must not reveal the claims' order
        return out

    def array(self, node: list[Any] | tuple[Any, ...], path: tuple) -> list[Any]:
        out = []
        hidden = 0
        for index, child in enumerate(node):
            child_path = (*path, index)
            value = self.value(child, child_path)
            if self.selective(child_path):
                out.append({ARRAY_DIGEST_KEY: self._disclose(None, value)})
                hidden += 1
            else:
                out.append(value)
        if hidden:
            # §4.2.5: decoys in arrays too; random positions, since verifiers drop them wherever they are.
            for _ in range(self.array_decoys):
                out.insert(self._position(len(out) + 1), {ARRAY_DIGEST_KEY: decoy_digest(self.rng)})
            self.digests += self.array_decoys
        return out

    def _position(self, bound: int) -> int:
        return self.rng.randrange(bound) if self.rng else secrets.randbelow(bound)

    def _disclose(self, name: str | None, value: Any) -> str:
        disclosure = make_disclosure(new_salt(self.rng), name, value)
        self.disclosures.append(disclosure)
        self.digests += 1
        return disclosure.digest

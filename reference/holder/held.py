"""A held credential seen from inside the wallet: the SD-JWT VC as issued, with every Disclosure
applied (the holder has them all), and what the wallet needs to know about it.

Claim names for the API: a claim is named by its path with dots ("address.city"); an array
element by its index ("nationalities.0"). Only claims revealed by a Disclosure are selectively
disclosable (RFC 9901 §4.2); the others travel in every presentation anyway.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Self

from conformance.protocol.errors import SdJwtError
from conformance.protocol.jose import PrivateKey, PublicKey
from conformance.protocol.sdjwt import (
    holder_public_key,
    key_binding_jwt,
    parse_sd_jwt,
    present,
    reasons,
    unpack,
)
from conformance.protocol.sdjwt.serialization import serialize
from conformance.protocol.sdjwt.unpack import ClaimPath
from conformance.protocol.sdjwt.vc_view import SdJwtVcView
from conformance.protocol.status_list import parse_status_claim

# Registered JWT claims that describe the credential rather than the subject.
_ENVELOPE = frozenset({"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status",
                       "sub", "jti"})


def path_name(path: Iterable[str | int]) -> str:
    return ".".join(str(step) for step in path)


def resolve_path_name(claims: Mapping[str, Any], name: str) -> ClaimPath | None:
    """"address.city" -> ("address", "city"), walking the claims: a step is an array index only
    where the claim at that point is an array (so a claim named "2024" stays a name). None when
    the credential has no such claim."""
    node: Any = claims
    path: list[str | int] = []
    for step in name.split("."):
        if isinstance(node, Mapping) and step in node:
            path.append(step)
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            path.append(int(step))
            node = node[int(step)]
        else:
            return None
    return tuple(path)


@dataclass(frozen=True)
class HeldCredential(SdJwtVcView):
    """The view of the protocol layer plus what the wallet's API and presentations need."""

    @classmethod
    def parse(cls, serialized: str, *fields: Any, **named: Any) -> Self:
        """As issued, never presented: an SD-JWT ending in a KB-JWT is refused (RFC 9901 §4)."""
        held = super().parse(serialized, *fields, **named)
        if held.sd_jwt.kb_jwt is not None:
            raise SdJwtError(reasons.UNEXPECTED_KB_JWT, "an issued credential ends in '~', not in a "
                             "KB-JWT (RFC 9901 §4)", "credential")
        return held

    @property
    def status_reference(self) -> tuple[str, int] | None:
        return parse_status_claim(self.payload)

    @property
    def holder_key(self) -> PublicKey:
        return holder_public_key(self.payload)

    @property
    def subject_claims(self) -> dict[str, Any]:
        """The claims about the subject: what a user would call "the credential's claims"."""
        return {k: v for k, v in self.claims.items() if k not in _ENVELOPE}

    def disclosable_names(self) -> list[str]:
        return [path_name(path) for path in self.revealed]

    def position_keepers(self, paths: Iterable[ClaimPath],
                         pointers: Iterable[Pointer] = ()) -> tuple[ClaimPath, ...]:
        """The array elements whose Disclosures must travel, contents withheld, so that the
        query's `pointers` naming an array position still find the disclosed claim there once a
        verifier has processed the presentation.

        RFC 9901 §7.1 step 3.c drops every array element that is not disclosed, and an index in a
        claims path pointer (OID4VP 1.0 §7.1) counts what is left: asked for element k of an array
        whose elements are selectively disclosable, the wallet also sends the Disclosures of
        elements 0..k-1 (each element's own Disclosure, none of the claims inside it), or the
        verifier would find another element at k, or none. That is the price of a query naming a
        position; a wildcard or a value filter costs nothing extra, and an element the user picks
        by its dotted name (nationalities.1) is disclosed alone."""
        paths, pointers = [tuple(p) for p in paths], [tuple(q) for q in pointers]
        disclosable = set(self.revealed)
        keepers: list[ClaimPath] = []
        for path in paths:
            for position, step in enumerate(path):
                if type(step) is not int or not any(_names_position(q, path, position) for q in pointers):
                    continue
                for earlier in range(step):
                    element = (*path[:position], earlier)
                    covered = any(element[:len(p)] == p or p[:len(element)] == element for p in paths)
                    if element in disclosable and not covered and element not in keepers:
                        keepers.append(element)
        return tuple(keepers)

    def presentation(self, paths: Iterable[ClaimPath], *, pointers: Iterable[Pointer] = (),
                     holder_key: PrivateKey | None, aud: str | None, nonce: str | None,
                     iat: int | None = None) -> str:
        """The SD-JWT presentation revealing `paths` (with their parents and everything inside
        them, RFC 9901 §4.2.6, §7.2) plus the own Disclosures of the position keepers the query's
        `pointers` need, bound with a KB-JWT when `holder_key` is given (§4.3)."""
        paths = [tuple(path) for path in paths]
        bare = present(self.sd_jwt, paths, holder_key=None, aud=None, nonce=None)
        chosen = set(parse_sd_jwt(bare).disclosures)
        revealed = unpack(self.payload, self.sd_jwt.disclosures).revealed
        chosen |= {revealed[element] for element in self.position_keepers(paths, pointers)}
        sd_jwt_part = serialize(self.sd_jwt.issuer_jws.token,
                                tuple(d for d in self.sd_jwt.disclosures if d in chosen))
        if holder_key is None:
            return sd_jwt_part
        return sd_jwt_part + key_binding_jwt(sd_jwt_part, holder_key, aud=aud, nonce=nonce, iat=iat)

    def disclosed_view(self, paths: Iterable[ClaimPath], pointers: Iterable[Pointer] = ()) -> dict[str, Any]:
        """The claims a verifier will see when `paths` are disclosed: the presentation is built
        (without a KB-JWT) and processed as a verifier would."""
        presentation = self.presentation(paths, pointers=pointers, holder_key=None, aud=None, nonce=None)
        return HeldCredential.parse(presentation).claims


Pointer = tuple[str | int | None, ...]   # a DCQL claims path pointer's components (OID4VP 1.0 §7)


def _names_position(pointer: Pointer, path: ClaimPath, position: int) -> bool:
    """Whether `pointer` selects `path` down to `position` and names that array index there."""
    if len(pointer) <= position or type(pointer[position]) is not int or pointer[position] != path[position]:
        return False
    return all(want == step or (want is None and type(step) is int)
               for want, step in zip(pointer, path[:position]))

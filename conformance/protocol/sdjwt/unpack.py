"""Processing the Issuer-signed payload with Disclosures (RFC 9901 §7.1 steps 2.4 and 3-5).

Given the payload and the Disclosures, rebuild the claims: each digest in an `_sd` array or a
`{"...": digest}` array element is replaced by the Disclosure with that digest, recursively; digests
without a Disclosure (undisclosed claims, decoys) vanish; every rule of §7.1 is enforced on the way.

Claim paths are tuples of object keys and array indexes into the *processed* claims: the holder,
who has every Disclosure, sees full arrays; a verifier sees arrays without the undisclosed elements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import SdJwtError
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.disclosure import (
    ARRAY_DIGEST_KEY,
    RESERVED_NAMES,
    SD_ALG,
    SD_ALG_KEY,
    SD_KEY,
    Disclosure,
)

ClaimPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Unpacked:
    claims: dict[str, Any]  # the processed payload: disclosed claims in place, _sd/_sd_alg/... removed
    revealed: Mapping[ClaimPath, Disclosure]  # claim path -> the Disclosure that revealed it


def unpack(payload: Mapping[str, Any], disclosures: Iterable[Disclosure]) -> Unpacked:
    """Apply `disclosures` to an Issuer-signed `payload`; raise SdJwtError on any §7.1 violation."""
    sd_alg = payload.get(SD_ALG_KEY, SD_ALG)
    if sd_alg != SD_ALG:
        raise SdJwtError(r.UNSUPPORTED_SD_ALG,
                         f"_sd_alg is {sd_alg!r}; only {SD_ALG!r} is supported", f"payload.{SD_ALG_KEY}")
    walker = _Walker({d.digest: d for d in disclosures})
    claims = walker.object(payload, ())
    if SD_ALG_KEY in payload:
        del claims[SD_ALG_KEY]
    unreferenced = walker.by_digest.keys() - walker.seen
    if unreferenced:
        names = sorted(_label(walker.by_digest[d]) for d in unreferenced)
        raise SdJwtError(r.DISCLOSURE_NOT_REFERENCED,
                         f"{len(names)} Disclosure(s) are not referenced by any digest reachable from the "
                         f"Issuer-signed JWT: {', '.join(names)}", "disclosures")
    return Unpacked(claims, walker.revealed)


def _label(disclosure: Disclosure) -> str:
    # Names only: the values may be personal data and error messages travel into reports.
    return repr(disclosure.name) if disclosure.name is not None else "an array element"


def _where(path: ClaimPath) -> str:
    return "payload" + "".join(f"[{p}]" if type(p) is int else f".{p}" for p in path)


class _Walker:
    __slots__ = ("by_digest", "seen", "revealed")

    def __init__(self, by_digest: dict[str, Disclosure]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()
        self.revealed: dict[ClaimPath, Disclosure] = {}

    def value(self, node: Any, path: ClaimPath) -> Any:
        kind = type(node)
        if kind is dict:
            return self.object(node, path)
        if kind is list:
            return self.array(node, path)
        return node

    def object(self, node: Mapping[str, Any], path: ClaimPath) -> dict[str, Any]:
        out = {}
        for key, child in node.items():
            if key == SD_KEY:
                continue
            if key == ARRAY_DIGEST_KEY:
                raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{_where(path)} has a '...' key outside an array "
                                 "digest element; '...' is reserved", _where(path))
            out[key] = self.value(child, (*path, key))
        if SD_KEY in node:
            self._disclose_properties(node[SD_KEY], out, path)
        return out

    def _disclose_properties(self, digests: Any, out: dict[str, Any], path: ClaimPath) -> None:
        where = f"{_where(path)}.{SD_KEY}"
        if type(digests) is not list:
            raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{where} must be an array of digest strings", where)
        for digest in digests:
            disclosure = self._match(digest, where)
            if disclosure is None:
                continue
            name = disclosure.name
            if name is None:
                raise SdJwtError(r.DISCLOSURE_KIND_MISMATCH, f"{where} references an array-element "
                                 "Disclosure (2 elements); an _sd digest needs [salt, name, value]", where)
            if name in RESERVED_NAMES:
                raise SdJwtError(r.RESERVED_CLAIM_NAME, f"a Disclosure under {where} uses the reserved "
                                 f"claim name {name!r}", where)
            if name in out:
                raise SdJwtError(r.CLAIM_NAME_COLLISION, f"a Disclosure under {where} discloses {name!r}, "
                                 f"which already exists in {_where(path)}", where)
            child = (*path, name)
            out[name] = self.value(disclosure.value, child)
            self.revealed[child] = disclosure

    def array(self, node: list[Any], path: ClaimPath) -> list[Any]:
        out: list[Any] = []
        for element in node:
            if type(element) is dict and ARRAY_DIGEST_KEY in element:
                disclosure = self._array_digest(element, (*path, len(out)))
                if disclosure is None:
                    continue
                child = (*path, len(out))
                out.append(self.value(disclosure.value, child))
                self.revealed[child] = disclosure
            else:
                out.append(self.value(element, (*path, len(out))))
        return out

    def _array_digest(self, element: dict[str, Any], path: ClaimPath) -> Disclosure | None:
        where = _where(path)
        if len(element) != 1:
            raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{where}: an array digest element must have '...' as "
                             "its only key", where)
        disclosure = self._match(element[ARRAY_DIGEST_KEY], where)
        if disclosure is not None and disclosure.name is not None:
            raise SdJwtError(r.DISCLOSURE_KIND_MISMATCH, f"{where} references the Disclosure of property "
                             f"{disclosure.name!r}; an array digest needs [salt, value]", where)
        return disclosure

    def _match(self, digest: Any, where: str) -> Disclosure | None:
        if type(digest) is not str:
            raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{where} holds {digest!r}; digests are strings", where)
        if digest in self.seen:
            raise SdJwtError(r.DUPLICATE_DIGEST, f"digest {digest} at {where} appears more than once in "
                             "the payload (directly or via Disclosures)", where)
        self.seen.add(digest)
        return self.by_digest.get(digest)

"""Processing the Issuer-signed payload with Disclosures (RFC 9901 §7.1 steps 2.4 and 3-5).

Given the payload and the Disclosures, rebuild the claims: each digest in an `_sd` array or a
`{"...": digest}` array element is replaced by the Disclosure with that digest, recursively; digests
without a Disclosure (undisclosed claims, decoys) vanish; every rule of §7.1 is enforced on the way.

Claim paths are tuples of object keys and array indexes into the *processed* claims: the holder,
who has every Disclosure, sees full arrays; a verifier sees arrays without the undisclosed elements.

This walk runs on every presentation a verifier checks, so it is written for speed: reserved keys
are found with one set lookup per key, paths are built only for containers and disclosed claims,
and scalars are copied without a call.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import SdJwtError
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.disclosure import (
    ARRAY_DIGEST_KEY,
    SD_ALG,
    SD_ALG_KEY,
    SD_KEY,
    Disclosure,
)

ClaimPath = tuple[str | int, ...]
# The keys SD-JWT reserves. A Disclosure must not carry them as claim names: _sd and '...' (§4.2.1,
# §7.1 step 3.3.2.2), and _sd_alg, meaningful only in the clear at the top level (§4.1.1). In an
# object of the payload only _sd (digests) and, at the top, _sd_alg are legal (§4.1 rule 7).
_RESERVED_KEYS = frozenset({SD_KEY, ARRAY_DIGEST_KEY, SD_ALG_KEY})


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
    claims = walker.object(payload, (), top=True)
    if len(walker.seen_disclosures) != len(walker.by_digest):
        unreferenced = walker.by_digest.keys() - walker.seen_disclosures
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
    __slots__ = ("by_digest", "seen", "seen_disclosures", "revealed")

    def __init__(self, by_digest: dict[str, Disclosure]) -> None:
        self.by_digest = by_digest
        self.seen: set[str] = set()  # every digest met, disclosed or not (§7.1 step 4)
        self.seen_disclosures: set[str] = set()  # digests that matched a Disclosure (§7.1 step 5)
        self.revealed: dict[ClaimPath, Disclosure] = {}

    def value(self, node: Any, path: ClaimPath) -> Any:
        kind = type(node)
        if kind is dict:
            return self.object(node, path)
        if kind is list:
            return self.array(node, path)
        return node

    def object(self, node: Mapping[str, Any], path: ClaimPath, top: bool = False) -> dict[str, Any]:
        out = {}
        for key, child in node.items():
            if key in _RESERVED_KEYS:
                if key == SD_KEY or (key == SD_ALG_KEY and top):
                    continue
                raise self._misplaced(key, path)
            kind = type(child)
            if kind is dict:
                out[key] = self.object(child, (*path, key))
            elif kind is list:
                out[key] = self.array(child, (*path, key))
            else:
                out[key] = child
        if SD_KEY in node:
            self._disclose_properties(node[SD_KEY], out, path)
        return out

    @staticmethod
    def _misplaced(key: str, path: ClaimPath) -> SdJwtError:
        where = _where(path)
        if key == ARRAY_DIGEST_KEY:
            return SdJwtError(r.SD_CLAIM_MALFORMED, f"{where} has a '...' key outside an array digest "
                              "element; '...' is reserved (RFC 9901 §4.1 rule 7)", where)
        return SdJwtError(r.SD_CLAIM_MALFORMED, f"{where} has an _sd_alg claim; _sd_alg may only appear at "
                          "the top level of the Issuer-signed payload (RFC 9901 §4.1.1)", f"{where}.{key}")

    def _disclose_properties(self, digests: Any, out: dict[str, Any], path: ClaimPath) -> None:
        if type(digests) is not list:
            where = f"{_where(path)}.{SD_KEY}"
            raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{where} must be an array of digest strings", where)
        for digest in digests:
            disclosure = self._match(digest, path, SD_KEY)
            if disclosure is None:
                continue
            name = disclosure.name
            if name is None or name in _RESERVED_KEYS or name in out:
                self._reject_property(disclosure, path)
            child = (*path, name)
            out[name] = self.value(disclosure.value, child)
            self.revealed[child] = disclosure

    def _reject_property(self, disclosure: Disclosure, path: ClaimPath) -> None:
        where, name = f"{_where(path)}.{SD_KEY}", disclosure.name
        if name is None:
            raise SdJwtError(r.DISCLOSURE_KIND_MISMATCH, f"{where} references an array-element Disclosure "
                             "(2 elements); an _sd digest needs [salt, name, value]", where)
        if name in _RESERVED_KEYS:
            raise SdJwtError(r.RESERVED_CLAIM_NAME, f"a Disclosure under {where} uses the reserved claim "
                             f"name {name!r}", where)
        raise SdJwtError(r.CLAIM_NAME_COLLISION, f"a Disclosure under {where} discloses {name!r}, which "
                         f"already exists in {_where(path)}", where)

    def array(self, node: list[Any], path: ClaimPath) -> list[Any]:
        out: list[Any] = []
        for element in node:
            kind = type(element)
            if kind is dict:
                if ARRAY_DIGEST_KEY in element:
                    disclosure = self._array_digest(element, path, len(out))
                    if disclosure is None:
                        continue
                    child = (*path, len(out))
                    out.append(self.value(disclosure.value, child))
                    self.revealed[child] = disclosure
                else:
                    out.append(self.object(element, (*path, len(out))))
            elif kind is list:
                out.append(self.array(element, (*path, len(out))))
            else:
                out.append(element)
        return out

    def _array_digest(self, element: dict[str, Any], path: ClaimPath, index: int) -> Disclosure | None:
        if len(element) != 1:
            where = _where((*path, index))
            raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{where}: an array digest element must have '...' as "
                             "its only key", where)
        disclosure = self._match(element[ARRAY_DIGEST_KEY], (*path, index), None)
        if disclosure is not None and disclosure.name is not None:
            where = _where((*path, index))
            raise SdJwtError(r.DISCLOSURE_KIND_MISMATCH, f"{where} references the Disclosure of property "
                             f"{disclosure.name!r}; an array digest needs [salt, value]", where)
        return disclosure

    def _match(self, digest: Any, path: ClaimPath, member: str | None) -> Disclosure | None:
        seen = self.seen
        if type(digest) is not str or digest in seen:
            where = _where(path) + (f".{member}" if member else "")
            if type(digest) is not str:
                raise SdJwtError(r.SD_CLAIM_MALFORMED, f"{where} holds {digest!r}; digests are strings", where)
            raise SdJwtError(r.DUPLICATE_DIGEST, f"digest {digest} at {where} appears more than once in "
                             "the payload (directly or via Disclosures)", where)
        seen.add(digest)
        disclosure = self.by_digest.get(digest)
        if disclosure is not None:
            self.seen_disclosures.add(digest)
        return disclosure

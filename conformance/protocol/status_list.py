"""Token Status List (draft-ietf-oauth-status-list-18): the packed, compressed Status List,
the Status List Token (JWT form, §5.1) and the `status` claim of a Referenced Token (§6.2).

Bit order (§4.1 step 3, §11.1): each index owns `bits` contiguous bits, packed into bytes from
the least significant bit up; bytes follow in natural order. The byte array is compressed with
DEFLATE in the ZLIB format (§4.1 step 4) and base64url-encoded in JSON (§4.2).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

from conformance.protocol.errors import JoseError, StatusListError
from conformance.protocol.jose import (
    PrivateKey,
    PublicKey,
    b64u_decode,
    b64u_encode,
    sign_jws,
    verify_jws,
)

STATUS_VALID, STATUS_INVALID, STATUS_SUSPENDED = 0, 1, 2
# §7.1: 0x03 and 0x0C-0x0F are application specific; everything else is reserved.
STATUS_NAMES = {STATUS_VALID: "VALID", STATUS_INVALID: "INVALID", STATUS_SUSPENDED: "SUSPENDED",
                **{v: "APPLICATION_SPECIFIC" for v in (0x03, 0x0C, 0x0D, 0x0E, 0x0F)}}
ALLOWED_BITS = (1, 2, 4, 8)
TYP = "statuslist+jwt"
_TYP_FORMS = frozenset({TYP, f"application/{TYP}"})
# A guard against decompression bombs: 16 MiB is 16-128 million statuses, far past the
# draft's largest size example (100M entries at 1 bit = 12.5 MB).
MAX_LIST_BYTES = 16 * 1024 * 1024


def _check_bits(bits: Any) -> int:
    if isinstance(bits, bool) or bits not in ALLOWED_BITS:
        raise StatusListError("invalid_bits", f"bits is {bits!r}; the draft allows 1, 2, 4 or 8 "
                              "(draft-ietf-oauth-status-list §4.1 step 1)", "status_list.bits")
    return bits


@cache
def _unpack_table(bits: int) -> tuple[tuple[int, ...], ...]:
    """byte value -> the statuses it holds, lowest bits first."""
    mask, per_byte = (1 << bits) - 1, 8 // bits
    return tuple(tuple((byte >> (i * bits)) & mask for i in range(per_byte)) for byte in range(256))


@cache
def _pack_table(bits: int) -> dict[tuple[int, ...], int]:
    return {statuses: byte for byte, statuses in enumerate(_unpack_table(bits))}


@dataclass(frozen=True)
class StatusList:
    """One status per index, each `bits` wide."""

    bits: int
    statuses: tuple[int, ...]

    def __post_init__(self) -> None:
        _check_bits(self.bits)
        limit = 1 << self.bits
        # Checking the distinct values and types keeps a million-entry list fast to build.
        distinct = set(self.statuses)
        if set(map(type, self.statuses)) <= {int} and all(0 <= v < limit for v in distinct):
            return
        idx, status = next((i, s) for i, s in enumerate(self.statuses)
                           if type(s) is not int or not 0 <= s < limit)
        raise StatusListError("status_out_of_range", f"status[{idx}] = {status!r} is not an "
                              f"integer that fits in {self.bits} bit(s) (0..{limit - 1})",
                              "statuses")

    @classmethod
    def empty(cls, bits: int, size: int) -> StatusList:
        """`size` VALID entries."""
        return cls(bits, (STATUS_VALID,) * size)

    def __len__(self) -> int:
        return len(self.statuses)

    def get(self, idx: int) -> int:
        """§8.3 step 6: an index outside the list is an error, never a default status."""
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < len(self.statuses):
            raise StatusListError("index_out_of_range", f"index {idx!r} is outside the Status "
                                  f"List (0..{len(self.statuses) - 1}); no statement about the "
                                  "token's status can be made (§8.3 step 6)",
                                  "status.status_list.idx")
        return self.statuses[idx]

    def with_status(self, idx: int, status: int) -> StatusList:
        self.get(idx)
        return StatusList(self.bits, (*self.statuses[:idx], status, *self.statuses[idx + 1:]))

    def to_bytes(self) -> bytes:
        """The uncompressed byte array of §4.1 (the last byte padded with VALID)."""
        per_byte = 8 // self.bits
        padded = self.statuses + (0,) * (-len(self.statuses) % per_byte)
        table = _pack_table(self.bits)
        return bytes(table[padded[i:i + per_byte]] for i in range(0, len(padded), per_byte))

    @classmethod
    def from_bytes(cls, bits: int, data: bytes, size: int | None = None) -> StatusList:
        table = _unpack_table(_check_bits(bits))
        capacity = len(data) * 8 // bits
        if size is None:
            size = capacity
        elif isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= capacity:
            raise StatusListError("size_mismatch", f"expected {size!r} statuses but the list "
                                  f"holds {capacity}", "status_list.lst")
        return cls(bits, tuple(chain.from_iterable(table[b] for b in data))[:size])

    def encode(self) -> dict[str, Any]:
        """The JSON Status List of §4.2 (highest zlib level, as §4.1 step 4 recommends)."""
        return {"bits": self.bits, "lst": b64u_encode(zlib.compress(self.to_bytes(), 9))}

    @classmethod
    def decode(cls, obj: Mapping[str, Any], size: int | None = None) -> StatusList:
        """Parse a JSON Status List (§4.2). `size`, when known, trims the byte array's padding."""
        if not isinstance(obj, Mapping):
            raise StatusListError("malformed_status_list", "status_list must be a JSON object "
                                  "with bits and lst (§4.2)", "status_list")
        bits = _check_bits(obj.get("bits"))
        lst = obj.get("lst")
        if not isinstance(lst, str):
            raise StatusListError("malformed_status_list", "status_list.lst is required and must "
                                  "be a base64url string (§4.2)", "status_list.lst")
        try:
            compressed = b64u_decode(lst, "status_list.lst")
        except JoseError as exc:
            raise StatusListError("malformed_status_list", exc.message, exc.field) from exc
        return cls.from_bytes(bits, _inflate(compressed), size)


def _inflate(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        data = inflater.decompress(compressed, MAX_LIST_BYTES + 1)
    except zlib.error as exc:
        raise StatusListError("decompression_failed", f"status_list.lst is not DEFLATE data in "
                              f"the ZLIB format (§4.1 step 4): {exc}", "status_list.lst") from exc
    if len(data) > MAX_LIST_BYTES:
        raise StatusListError("status_list_too_large", f"status_list.lst inflates past "
                              f"{MAX_LIST_BYTES} bytes", "status_list.lst")
    if not inflater.eof or inflater.unused_data:
        raise StatusListError("decompression_failed", "status_list.lst is a truncated ZLIB stream "
                              "or has trailing bytes", "status_list.lst")
    return data


# --- Status List Token (JWT, §5.1) ---------------------------------------------------------


def build_status_list_token(*, key: PrivateKey, header: Mapping[str, Any], sub: str, iat: int,
                            status_list: StatusList, exp: int | None = None,
                            ttl: int | None = None, claims: Mapping[str, Any] | None = None) -> str:
    """Sign a Status List Token. `header` adds members such as kid; typ is always
    statuslist+jwt. `claims` adds other claims (e.g. iss), which §5.1 rule 1 allows."""
    if header.get("typ", TYP) != TYP:
        raise StatusListError("invalid_typ", f"a Status List Token's typ is {TYP}, not "
                              f"{header['typ']!r} (§5.1)", "header.typ")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0):
        raise StatusListError("invalid_ttl", f"ttl must be a positive number of seconds, got "
                              f"{ttl!r} (§5.1)", "ttl")
    payload: dict[str, Any] = {**(claims or {}), "sub": sub, "iat": iat,
                               "status_list": status_list.encode()}
    payload.update({k: v for k, v in (("exp", exp), ("ttl", ttl)) if v is not None})
    return sign_jws({**header, "typ": TYP}, payload, key)


def read_status_list_token(token: str, key: PublicKey, *, expected_sub: str,
                           now: int) -> StatusList:
    """Verify a Status List Token and return its Status List (§8.3 steps 3-5). Every failure,
    including a bad signature, is a StatusListError."""
    try:
        jws = verify_jws(token, key, "status_list_token")
    except JoseError as exc:
        raise StatusListError(exc.reason, f"status list token: {exc.message}", exc.field) from exc
    typ = jws.header.get("typ")
    if not isinstance(typ, str) or typ.lower() not in _TYP_FORMS:
        raise StatusListError("invalid_typ", f"header typ is {typ!r}; a Status List Token has "
                              f"typ {TYP} (§5.1)", "header.typ")
    claims = jws.payload
    _require(claims, "sub", str)
    _require(claims, "iat", (int, float))
    if claims["sub"] != expected_sub:
        raise StatusListError("sub_mismatch", f"sub is {claims['sub']!r} but the Referenced "
                              f"Token's uri is {expected_sub!r} (§8.3 step 4a)", "sub")
    _check_times(claims, now)
    return StatusList.decode(_require(claims, "status_list", Mapping))


def _require(claims: Mapping[str, Any], name: str, kind: Any) -> Any:
    value = claims.get(name)
    if value is None or isinstance(value, bool) or not isinstance(value, kind):
        raise StatusListError("missing_claim", f"claim {name} is required in a Status List "
                              f"Token and must be a {_kind_name(kind)} (§5.1)", name)
    return value


def _kind_name(kind: Any) -> str:
    return {str: "string", Mapping: "JSON object"}.get(kind, "number")


def _check_times(claims: Mapping[str, Any], now: int) -> None:
    """RFC 7519 §4.1.4-4.1.5 and §8.3 step 4c; ttl must be positive (§5.1)."""
    for name in ("exp", "nbf", "ttl"):
        value = claims.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise StatusListError(f"invalid_{name}", f"{name} must be a number, got {value!r}",
                                  name)
    if claims.get("exp") is not None and now >= claims["exp"]:
        raise StatusListError("token_expired", f"the Status List Token expired at "
                              f"{claims['exp']} (now {now}) (§8.3 step 4c)", "exp")
    if claims.get("nbf") is not None and now < claims["nbf"]:
        raise StatusListError("token_not_yet_valid", f"the Status List Token is not valid "
                              f"before {claims['nbf']} (now {now})", "nbf")
    if claims.get("ttl") is not None and claims["ttl"] <= 0:
        raise StatusListError("invalid_ttl", f"ttl must be positive, got {claims['ttl']}", "ttl")


# --- Referenced Token (§6.2) ---------------------------------------------------------------


def parse_status_claim(payload: Mapping[str, Any]) -> tuple[str, int] | None:
    """(uri, idx) from `status.status_list`, or None when the token uses no Status List."""
    status = payload.get("status")
    if status is None:
        return None
    if not isinstance(status, Mapping):
        raise StatusListError("invalid_status_claim", "status must be a JSON object (§6.2)",
                              "status")
    ref = status.get("status_list")
    if ref is None:
        return None
    if not isinstance(ref, Mapping):
        raise StatusListError("invalid_status_claim", "status.status_list must be a JSON object "
                              "with idx and uri (§6.2)", "status.status_list")
    idx, uri = ref.get("idx"), ref.get("uri")
    if isinstance(idx, bool) or not isinstance(idx, int) or idx < 0:
        raise StatusListError("invalid_status_claim", f"status.status_list.idx must be a "
                              f"non-negative integer, got {idx!r} (§6.2)",
                              "status.status_list.idx")
    if not isinstance(uri, str) or ":" not in uri:
        raise StatusListError("invalid_status_claim", f"status.status_list.uri must be a URI "
                              f"string, got {uri!r} (§6.2)", "status.status_list.uri")
    return uri, idx

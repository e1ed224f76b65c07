"""Disclosures (RFC 9901 §4.2): creating, strictly decoding and hashing them.

A Disclosure is the base64url of a JSON array `[salt, name, value]` (object property) or
`[salt, value]` (array element). Its digest is SHA-256 over the base64url *string* (§4.2.3), so
the encoded form is kept verbatim: re-encoding the JSON could change the digest.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field
from random import Random
from typing import Any

from conformance.protocol.errors import JoseError, SdJwtError
from conformance.protocol.jose import b64u_decode, b64u_encode
from conformance.protocol.sdjwt import reasons as r

SD_KEY = "_sd"
ARRAY_DIGEST_KEY = "..."
SD_ALG_KEY = "_sd_alg"
SD_ALG = "sha-256"  # the one hash algorithm supported, and the default when _sd_alg is absent (§4.1.1)
RESERVED_NAMES = frozenset({SD_KEY, ARRAY_DIGEST_KEY})
SALT_BYTES = 16  # RFC 9901 §9.3: RECOMMENDED minimum of 128 bits of randomness


@dataclass(frozen=True)
class Disclosure:
    """One Disclosure. Equality and hashing follow `encoded`, which determines everything else."""

    salt: str = field(compare=False)
    name: str | None = field(compare=False)  # None for an array element
    value: Any = field(compare=False)
    encoded: str  # the base64url string exactly as it appears between '~'
    digest: str = field(compare=False)  # base64url(SHA-256(encoded))

    @property
    def is_array_element(self) -> bool:
        return self.name is None


def sha256_b64u(text: str) -> str:
    """base64url(SHA-256(US-ASCII bytes of `text`)): the digest of §4.2.3 and the sd_hash of §4.3.1."""
    return b64u_encode(hashlib.sha256(text.encode("ascii")).digest())


def new_salt(rng: Random | None = None) -> str:
    """128 random bits, base64url. `rng` makes runs replayable (tests, `--seed`); it is not a CSPRNG."""
    raw = rng.getrandbits(8 * SALT_BYTES).to_bytes(SALT_BYTES, "big") if rng else secrets.token_bytes(SALT_BYTES)
    return b64u_encode(raw)


def make_disclosure(salt: str, name: str | None, value: Any) -> Disclosure:
    """Encode a Disclosure (§4.2.1, §4.2.2). Compact UTF-8 JSON; any JSON encoding would be valid."""
    array = [salt, value] if name is None else [salt, name, value]
    encoded = b64u_encode(json.dumps(array, separators=(",", ":"), ensure_ascii=False).encode())
    return Disclosure(salt, name, value, encoded, sha256_b64u(encoded))


def decoy_digest(rng: Random | None = None) -> str:
    """A digest with no Disclosure behind it (§4.2.5): the hash of a fresh random salt."""
    return sha256_b64u(new_salt(rng))


def decode_disclosure(encoded: str, where: str) -> Disclosure:
    """Strictly decode one Disclosure; each way it can be malformed has its own reason."""
    try:
        raw = b64u_decode(encoded, where)
    except JoseError:
        raise SdJwtError(r.DISCLOSURE_NOT_BASE64URL, f"{where} is not unpadded base64url", where) from None
    try:
        array = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SdJwtError(r.DISCLOSURE_NOT_JSON_ARRAY, f"{where} does not decode to UTF-8 JSON: {exc}",
                         where) from None
    if type(array) is not list:
        raise SdJwtError(r.DISCLOSURE_NOT_JSON_ARRAY,
                         f"{where} decodes to a JSON {type(array).__name__}, expected an array", where)
    if len(array) == 3:
        salt, name, value = array
        if type(name) is not str:
            raise SdJwtError(r.DISCLOSURE_NAME_NOT_STRING,
                             f"{where}: the claim name (element 2) must be a string, got {name!r}", where)
    elif len(array) == 2:
        (salt, value), name = array, None
    else:
        raise SdJwtError(r.DISCLOSURE_WRONG_LENGTH,
                         f"{where} has {len(array)} elements; expected 3 (salt, name, value) or 2 (salt, value)",
                         where)
    if type(salt) is not str:
        raise SdJwtError(r.DISCLOSURE_SALT_NOT_STRING, f"{where}: the salt (element 1) must be a string", where)
    return Disclosure(salt, name, value, encoded, sha256_b64u(encoded))

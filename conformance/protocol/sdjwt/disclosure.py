"""Disclosures (RFC 9901 §4.2): creating, strictly decoding and hashing them.

A Disclosure is the base64url of a JSON array `[salt, name, value]` (object property) or
`[salt, value]` (array element). Its digest is SHA-256 over the base64url *string* (§4.2.3), so
the encoded form is kept verbatim: re-encoding the JSON could change the digest.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from binascii import b2a_base64
from dataclasses import dataclass, field
from random import Random
from typing import Any

from conformance.protocol.errors import JoseError, SdJwtError
from conformance.protocol.jose import b64u_decode, b64u_encode, json_loads
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
    # binascii directly: this runs for every Disclosure of every verification (same result as b64u_encode).
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return b2a_base64(digest, newline=False).translate(_TO_URLSAFE, b"=").decode("ascii")


_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def new_salt(rng: Random | None = None) -> str:
    """128 random bits, base64url. `rng` makes runs replayable (tests, `--seed`); it is not a CSPRNG."""
    raw = rng.getrandbits(8 * SALT_BYTES).to_bytes(SALT_BYTES, "big") if rng else secrets.token_bytes(SALT_BYTES)
    return b64u_encode(raw)


def make_disclosure(salt: str, name: str | None, value: Any, *, separators: tuple[str, str] = (",", ":"),
                    ensure_ascii: bool = False) -> Disclosure:
    """Encode a Disclosure (§4.2.1, §4.2.2). Compact UTF-8 JSON by default; any JSON encoding is valid
    (§4.2.1), and `separators` / `ensure_ascii` reproduce other spellings, e.g. the RFC's examples."""
    array = [salt, value] if name is None else [salt, name, value]
    encoded = b64u_encode(json.dumps(array, separators=separators, ensure_ascii=ensure_ascii).encode())
    return Disclosure(salt, name, value, encoded, sha256_b64u(encoded))


def decoy_digest(rng: Random | None = None) -> str:
    """A digest with no Disclosure behind it (§4.2.5): the hash of a fresh random salt."""
    return sha256_b64u(new_salt(rng))


def decode_disclosure(encoded: str, where: str) -> Disclosure:
    """Strictly decode one Disclosure; each way it can be malformed has its own reason.

    Runs once per presented Disclosure on every verification: the well-formed path is straight
    line, and working out which rule a malformed one breaks is left to `_malformed`.
    """
    try:
        array = json_loads(b64u_decode(encoded, where).decode("utf-8"))
    except JoseError:
        raise SdJwtError(r.DISCLOSURE_NOT_BASE64URL, f"{where} is not unpadded base64url", where) from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
        raise SdJwtError(r.DISCLOSURE_NOT_JSON_ARRAY, f"{where} does not decode to UTF-8 JSON: {exc}",
                         where) from None
    if type(array) is list:
        if len(array) == 3:
            salt, name, value = array
            if type(salt) is str and type(name) is str:
                return Disclosure(salt, name, value, encoded, sha256_b64u(encoded))
        elif len(array) == 2:
            salt, value = array
            if type(salt) is str:
                return Disclosure(salt, None, value, encoded, sha256_b64u(encoded))
    raise _malformed(array, where)


def _malformed(array: Any, where: str) -> SdJwtError:
    # Messages name types, never values: a Disclosure's contents may be personal data.
    if type(array) is not list:
        return SdJwtError(r.DISCLOSURE_NOT_JSON_ARRAY,
                          f"{where} decodes to a JSON {type(array).__name__}, expected an array", where)
    if len(array) not in (2, 3):
        return SdJwtError(r.DISCLOSURE_WRONG_LENGTH, f"{where} has {len(array)} elements; expected 3 (salt, "
                          "name, value) or 2 (salt, value)", where)
    if len(array) == 3 and type(array[1]) is not str:
        return SdJwtError(r.DISCLOSURE_NAME_NOT_STRING, f"{where}: the claim name (element 2) must be a "
                          f"string, got a {type(array[1]).__name__}", where)
    return SdJwtError(r.DISCLOSURE_SALT_NOT_STRING, f"{where}: the salt (element 1) must be a string, got a "
                      f"{type(array[0]).__name__}", where)

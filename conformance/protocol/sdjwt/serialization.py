"""The compact SD-JWT and SD-JWT+KB serialization (RFC 9901 §4): strict parsing, no verification.

`<Issuer-signed JWT>~<Disclosure 1>~...~<Disclosure N>~[<KB-JWT>]`: the last component is empty
for an SD-JWT and a KB-JWT for an SD-JWT+KB.
"""

from __future__ import annotations

from dataclasses import dataclass

from conformance.protocol.errors import JoseError, SdJwtError
from conformance.protocol.jose import Jws, parse_jws
from conformance.protocol.sdjwt import reasons as r
from conformance.protocol.sdjwt.disclosure import Disclosure, decode_disclosure

SEPARATOR = "~"
# JOSE reasons that keep their name inside SD-JWT: they say the same thing for both JWTs.
_JOSE_PASS_THROUGH = frozenset({r.ALG_NONE, r.UNSUPPORTED_ALG, r.ALG_KEY_MISMATCH})


@dataclass(frozen=True)
class SdJwt:
    """A parsed, not yet verified, SD-JWT or SD-JWT+KB."""

    issuer_jws: Jws
    disclosures: tuple[Disclosure, ...]
    kb_jwt: str | None
    serialized: str
    kb_jws: Jws | None = None  # kb_jwt decoded (syntax only); its signature is checked by verify_sd_jwt

    @property
    def sd_jwt_part(self) -> str:
        """Everything before the KB-JWT, ending in '~': the input of sd_hash (§4.3.1)."""
        return self.serialized[: self.serialized.rindex(SEPARATOR) + 1]


def parse_sd_jwt(serialized: str) -> SdJwt:
    """Split and decode an SD-JWT(+KB). Every format violation raises `SdJwtError` with its own reason."""
    if not isinstance(serialized, str):
        raise SdJwtError(r.SD_JWT_NOT_COMPACT,
                         f"an SD-JWT must be a compact '~'-separated string, got {type(serialized).__name__}")
    if SEPARATOR not in serialized:
        raise SdJwtError(r.SD_JWT_MISSING_SEPARATOR,
                         "no '~' found: expected <Issuer-signed JWT>~<Disclosures>~[<KB-JWT>]; "
                         "a bare JWT is not an SD-JWT (the trailing '~' MUST NOT be omitted)")
    parts = serialized.split(SEPARATOR)
    issuer_jws = parse_compact_jwt(parts[0], "issuer_jwt", r.ISSUER_JWT_MALFORMED)
    disclosures = _decode_disclosures(parts[1:-1])
    kb_jwt = parts[-1] or None
    kb_jws = parse_compact_jwt(kb_jwt, "kb_jwt", r.KB_JWT_MALFORMED) if kb_jwt else None
    return SdJwt(issuer_jws, disclosures, kb_jwt, serialized, kb_jws)


def serialize(issuer_jwt: str, disclosures: tuple[Disclosure, ...], kb_jwt: str = "") -> str:
    return SEPARATOR.join((issuer_jwt, *(d.encoded for d in disclosures), kb_jwt))


def parse_compact_jwt(token: str, part: str, malformed: str) -> Jws:
    """parse_jws, with JOSE errors renamed for `part` and the signature's base64url required canonical.

    Canonical matters for the signature segment only: it is not covered by any signature, so a
    non-canonical spelling of the same bytes would otherwise pass unnoticed.
    """
    try:
        jws = parse_jws(token, part)
    except JoseError as exc:
        raise from_jose(exc, part, malformed=malformed, bad_signature=malformed) from None
    if not _canonical_tail(token):
        raise SdJwtError(malformed, f"{part}.signature is not canonical base64url", f"{part}.signature")
    return jws


_B64URL_VALUE = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
# A last character that carries 4 (length % 4 == 2) or 2 (== 3) unused bits must leave them zero.
_UNUSED_BITS = {0: 0, 2: 0b1111, 3: 0b11}


def _canonical_tail(token: str) -> bool:
    """Whether the (already decoded, so well-formed) last segment of `token` is canonical base64url."""
    length = len(token) - token.rindex(".") - 1
    return length == 0 or not _B64URL_VALUE[token[-1]] & _UNUSED_BITS[length % 4]


def from_jose(exc: JoseError, part: str, *, malformed: str, bad_signature: str) -> SdJwtError:
    """Restate a JoseError about `part` as an SdJwtError with the SD-JWT reason for it."""
    if exc.reason in _JOSE_PASS_THROUGH:
        reason = exc.reason
    elif exc.reason == "signature_invalid":
        reason = bad_signature
    else:
        reason = malformed
    field = exc.field or ""
    field = field if field.startswith(part) else f"{part}.{field}".rstrip(".")
    return SdJwtError(reason, f"{part}: {exc.message}", field)


def _decode_disclosures(encoded: list[str]) -> tuple[Disclosure, ...]:
    # The well-formed case in bulk (C-speed set and membership checks, no per-item message strings);
    # a failure is located and explained by going through the items one by one.
    if "" not in encoded and len(set(encoded)) == len(encoded):
        try:
            return tuple([decode_disclosure(text, "disclosure") for text in encoded])
        except SdJwtError:
            pass
    seen: set[str] = set()
    for index, text in enumerate(encoded):
        where = f"disclosures[{index}]"
        if not text:
            raise SdJwtError(r.SD_JWT_EMPTY_DISCLOSURE, f"{where} is empty ('~~'): a Disclosure is "
                             "non-empty base64url", where)
        if text in seen:
            raise SdJwtError(r.DUPLICATE_DISCLOSURE, f"{where} repeats an earlier Disclosure; each may be "
                             "sent at most once", where)
        seen.add(text)
        decode_disclosure(text, where)
    raise AssertionError("unreachable: the bulk path failed, so one item must")  # pragma: no cover

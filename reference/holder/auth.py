"""Passwords (scrypt, RFC 7914) and access tokens (EdDSA-signed JWTs, RFC 7519) for holder users.

A password is stored as `scrypt$N$r$p$<salt b64u>$<hash b64u>`; comparing is constant-time, and
an unknown account costs the same scrypt run as a wrong password, so timing does not reveal
which accounts exist. An access token is a compact JWS signed with the service's own Ed25519 key:
`iss` = the service's base URL, `sub` = the user's uuid, `exp` = `iat` + the token TTL. The seed
calls it opaque to integrators; it is a JWT so that a restart with the same key keeps sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from conformance.protocol.errors import JoseError
from conformance.protocol.jose import (
    PrivateKey,
    b64u_decode,
    b64u_encode,
    parse_jws,
    private_key_from_b64u,
    sign_jws,
)
from reference.common.errors import ApiError

TOKEN_TYP = "at+jwt"  # RFC 9068 §2.1 media type of JWT access tokens
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 256
PASSWORD_POLICY = (f"at least {MIN_PASSWORD_LENGTH} and at most {MAX_PASSWORD_LENGTH} characters, "
                   "with at least one letter and one digit")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_SALT_BYTES = 16
_HASH_BYTES = 32


def password_problem(password: str) -> str | None:
    """Why `password` fails the policy, or None. The message never contains the password."""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return f"must be {PASSWORD_POLICY}; got {len(password)} characters"
    if not _LETTER.search(password) or not _DIGIT.search(password):
        return f"must be {PASSWORD_POLICY}"
    return None


@dataclass(frozen=True)
class PasswordHasher:
    n: int
    r: int
    p: int

    def _derive(self, password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
        return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES,
                              maxmem=256 * 1024 * 1024)

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(_SALT_BYTES)
        digest = self._derive(password, salt, self.n, self.r, self.p)
        return f"scrypt${self.n}${self.r}${self.p}${b64u_encode(salt)}${b64u_encode(digest)}"

    def verify(self, password: str, stored: str | None) -> bool:
        """Constant-time check. `stored=None` (no such account) still runs scrypt once."""
        if stored is None:
            self._derive(password, b"\0" * _SALT_BYTES, self.n, self.r, self.p)
            return False
        _, n, r, p, salt, digest = stored.split("$")
        candidate = self._derive(password, b64u_decode(salt), int(n), int(r), int(p))
        return hmac.compare_digest(candidate, b64u_decode(digest))


def invalid_token(message: str) -> ApiError:
    # RFC 6750 §3: a rejected bearer token is answered with WWW-Authenticate naming the error.
    return ApiError(401, "invalid_token", message,
                    headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class TokenIssuer:
    """Signs and checks the service's access tokens."""

    def __init__(self, signing_key_b64u: str, issuer: str, ttl: int) -> None:
        self._key: PrivateKey = private_key_from_b64u(signing_key_b64u, "EdDSA", "signing_key")
        self._issuer = issuer
        self.ttl = ttl

    def issue(self, subject: str, now: float) -> str:
        iat = int(now)
        claims = {"iss": self._issuer, "sub": subject, "iat": iat, "exp": iat + self.ttl,
                  "jti": secrets.token_urlsafe(16)}
        return sign_jws({"typ": TOKEN_TYP}, claims, self._key)

    def subject(self, token: str, now: float) -> str:
        """The user uuid the token was issued to; 401 invalid_token when it is forged,
        malformed, from another issuer or expired."""
        try:
            jws = parse_jws(token, "access_token").verify_with(self._key.public)
        except JoseError:
            raise invalid_token("the access token is malformed or its signature does not verify") from None
        claims = jws.payload
        if jws.header.get("typ") != TOKEN_TYP or claims.get("iss") != self._issuer:
            raise invalid_token("the access token was not issued by this holder service")
        exp, sub = claims.get("exp"), claims.get("sub")
        if not isinstance(exp, int) or not isinstance(sub, str):
            raise invalid_token("the access token lacks exp or sub")
        if now >= exp:
            raise invalid_token("the access token has expired; call POST /v1/user/login again")
        return sub

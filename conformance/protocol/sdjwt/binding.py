"""The Holder's key from the `cnf` claim (RFC 9901 §4.1.2; RFC 7800 §3.2; SD-JWT VC §3.2.2.2).

Shared by issuance (an Issuer must not sign a cnf no verifier can use) and verification (the KB-JWT
must verify with this key, RFC 9901 §4.3.2).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.protocol.errors import JoseError, SdJwtError
from conformance.protocol.jose import PublicKey, public_key_from_jwk
from conformance.protocol.sdjwt import reasons as r


def holder_public_key(payload: Mapping[str, Any]) -> PublicKey:
    """The Holder's key from cnf.jwk (RFC 7800 §3.2), the confirmation method RFC 9901 §4.1.2 suggests."""
    cnf = payload.get("cnf")
    if cnf is None:
        raise SdJwtError(r.CNF_MISSING, "the credential has no cnf claim, so it cannot be key-bound", "cnf")
    if not (type(cnf) is dict or isinstance(cnf, Mapping)) or "jwk" not in cnf:  # dict first: no ABC check
        raise SdJwtError(r.CNF_UNSUPPORTED, "cnf must be an object with a jwk member (RFC 7800 §3.2); "
                         "other confirmation methods are not supported", "cnf")
    try:
        return public_key_from_jwk(cnf["jwk"], "cnf.jwk")
    except JoseError as exc:
        raise SdJwtError(r.CNF_JWK_INVALID, f"cnf.jwk: {exc.message}", "cnf.jwk") from None

"""A credential the harness wallet holds: the SD-JWT VC as issued (read through the protocol
layer's `SdJwtVcView`), its holder key, and where it came from."""

from __future__ import annotations

from dataclasses import dataclass, field

from conformance.protocol.jose import PrivateKey
from conformance.protocol.sdjwt.vc_view import SdJwtVcView


@dataclass(frozen=True)
class HeldCredential(SdJwtVcView):
    """Parse with `HeldCredential.parse(credential, key, config_id=..., credential_issuer=...)`;
    raises SdJwtError when `credential` is not an SD-JWT whose Disclosures all apply."""

    key: PrivateKey = field(repr=False)
    config_id: str | None = None
    credential_issuer: str | None = None

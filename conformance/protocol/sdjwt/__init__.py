"""SD-JWT (RFC 9901) and SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): issue, present, parse, verify.

One module per job: `disclosure` (the §4.2 format), `serialization` (the §4 '~' format),
`unpack` (§7.1 processing), `issuance`, `presentation` (§7.2, KB-JWT), `binding` (the cnf key,
§4.1.2), `verification` (§7.3, SD-JWT VC rules), `reasons` (every failure reason, with its
clause, in `REASONS`).
"""

from conformance.protocol.sdjwt import reasons
from conformance.protocol.sdjwt.binding import holder_public_key
from conformance.protocol.sdjwt.disclosure import SD_ALG, Disclosure, decode_disclosure, make_disclosure
from conformance.protocol.sdjwt.issuance import (
    LEGACY_VC_TYP,
    VC_NON_DISCLOSABLE,
    VC_TYP,
    IssuedSdJwt,
    disclosable,
    issue_sd_jwt_vc,
)
from conformance.protocol.sdjwt.presentation import KB_TYP, key_binding_jwt, present
from conformance.protocol.sdjwt.reasons import REASONS
from conformance.protocol.sdjwt.serialization import SdJwt, parse_sd_jwt
from conformance.protocol.sdjwt.unpack import ClaimPath, Unpacked, unpack
from conformance.protocol.sdjwt.verification import KbExpectations, VerifiedSdJwt, verify_sd_jwt

__all__ = [
    "KB_TYP", "LEGACY_VC_TYP", "REASONS", "SD_ALG", "VC_NON_DISCLOSABLE", "VC_TYP",
    "ClaimPath", "Disclosure", "IssuedSdJwt", "KbExpectations", "SdJwt", "Unpacked", "VerifiedSdJwt",
    "decode_disclosure", "disclosable", "holder_public_key", "issue_sd_jwt_vc", "key_binding_jwt", "make_disclosure",
    "parse_sd_jwt", "present", "reasons", "unpack", "verify_sd_jwt",
]

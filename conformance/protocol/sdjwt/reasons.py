"""Every way an SD-JWT (RFC 9901) or SD-JWT VC can fail, as a stable reason code.

Each constant is registered in `REASONS` with a one-line description and the clause it enforces,
so reports, docs and the harness can list them without reading this package's code. SD-JWT VC
clauses cite draft-ietf-oauth-sd-jwt-vc ("SD-JWT VC").
"""

from __future__ import annotations

REASONS: dict[str, str] = {}


def _reason(code: str, doc: str) -> str:
    if code in REASONS:  # pragma: no cover - guards against a copy-paste slip at import time
        raise ValueError(f"duplicate SD-JWT reason {code!r}")
    REASONS[code] = doc
    return code


# --- serialization (RFC 9901 §4) -------------------------------------------------------------
SD_JWT_NOT_COMPACT = _reason(
    "sd_jwt_not_compact",
    "The SD-JWT is not a string in the compact '~' serialization (the optional JWS JSON serialization of "
    "RFC 9901 §8 is not supported).")
SD_JWT_MISSING_SEPARATOR = _reason(
    "sd_jwt_missing_separator",
    "No '~' in the input: an SD-JWT is <Issuer-signed JWT>~<Disclosure>~...~[<KB-JWT>] (RFC 9901 §4).")
SD_JWT_EMPTY_DISCLOSURE = _reason(
    "sd_jwt_empty_disclosure",
    "Two adjacent '~' leave an empty Disclosure; the ABNF requires 1*base64url (RFC 9901 §4).")
ISSUER_JWT_MALFORMED = _reason(
    "issuer_jwt_malformed",
    "The Issuer-signed JWT is not a compact JWS with canonical base64url and a JSON object payload "
    "(RFC 9901 §4.1, RFC 7515 §7.1).")
KB_JWT_MALFORMED = _reason(
    "kb_jwt_malformed",
    "The last component is neither empty nor a compact JWT with a JSON object payload (RFC 9901 §4, §4.3).")
ALG_NONE = _reason(
    "alg_none",
    "A JWT uses alg 'none'; the Issuer-signed JWT and the KB-JWT MUST be signed "
    "(RFC 9901 §4.1, §4.3, §7.1 step 2.1, §7.3 step 5.2).")
UNSUPPORTED_ALG = _reason(
    "unsupported_alg",
    "A JWT's alg is not one deemed secure here (EdDSA/Ed25519, ES256) (RFC 9901 §7.1 step 2.1, §7.3 step 5.2; "
    "RFC 8725 §3.1).")
ALG_KEY_MISMATCH = _reason(
    "alg_key_mismatch",
    "A JWT's header alg does not match the type of the key it must verify with (RFC 8725 §3.1).")
DISCLOSURE_NOT_BASE64URL = _reason(
    "disclosure_not_base64url",
    "A Disclosure is not unpadded base64url (RFC 9901 §4.2.1).")
DISCLOSURE_NOT_JSON_ARRAY = _reason(
    "disclosure_not_json_array",
    "A Disclosure does not decode to a UTF-8 JSON array (RFC 9901 §4.2.1, §4.2.2).")
DISCLOSURE_WRONG_LENGTH = _reason(
    "disclosure_wrong_length",
    "A Disclosure array has neither 3 (salt, name, value) nor 2 (salt, value) elements (RFC 9901 §4.2.1, §4.2.2).")
DISCLOSURE_SALT_NOT_STRING = _reason(
    "disclosure_salt_not_string",
    "A Disclosure's salt is not a string (RFC 9901 §4.2.1).")
DISCLOSURE_NAME_NOT_STRING = _reason(
    "disclosure_name_not_string",
    "A 3-element Disclosure's claim name is not a string (RFC 9901 §4.2.1).")
DUPLICATE_DISCLOSURE = _reason(
    "duplicate_disclosure",
    "The same Disclosure is sent more than once (RFC 9901 §4: MUST NOT send a Disclosure more than once).")

# --- Issuer-signed JWT and disclosure processing (RFC 9901 §7.1) ------------------------------
TYP_MISMATCH = _reason(
    "typ_mismatch",
    "The Issuer-signed JWT's typ header is not the expected type, dc+sd-jwt for SD-JWT VC "
    "(SD-JWT VC §3.2.1; RFC 9901 §9.11).")
ISSUER_SIGNATURE_INVALID = _reason(
    "issuer_signature_invalid",
    "The Issuer-signed JWT's signature does not verify with the Issuer's key (RFC 9901 §7.1 step 2.2, §9.1).")
UNSUPPORTED_SD_ALG = _reason(
    "unsupported_sd_alg",
    "_sd_alg is present and is not sha-256, the one hash algorithm supported here (RFC 9901 §4.1.1, "
    "§7.1 step 2.4).")
SD_CLAIM_MALFORMED = _reason(
    "sd_claim_malformed",
    "A reserved claim is misused: _sd is not an array of strings, '...' is not the only key of an array "
    "element with a string digest, or _sd_alg appears below the top level of the Issuer-signed payload "
    "(RFC 9901 §4.1 rule 7, §4.1.1, §4.2.4.1, §4.2.4.2).")
DISCLOSURE_KIND_MISMATCH = _reason(
    "disclosure_kind_mismatch",
    "A digest in _sd matches a 2-element Disclosure, or a '...' digest matches a 3-element one "
    "(RFC 9901 §7.1 steps 3.3.2.1, 3.3.3.1).")
RESERVED_CLAIM_NAME = _reason(
    "reserved_claim_name",
    "A Disclosure (or issuer input) uses a reserved claim name: _sd or '...' (RFC 9901 §4.2.1, §7.1 step "
    "3.3.2.2), or _sd_alg, which only the Issuer-signed payload may carry, in the clear (§4.1.1).")
CLAIM_NAME_COLLISION = _reason(
    "claim_name_collision",
    "A disclosed claim name already exists in its object (RFC 9901 §4.2.1, §7.1 step 3.3.2.3).")
DUPLICATE_DIGEST = _reason(
    "duplicate_digest",
    "A digest appears more than once in the payload, directly or via Disclosures (RFC 9901 §4.1, §7.1 step 4).")
DISCLOSURE_NOT_REFERENCED = _reason(
    "disclosure_not_referenced",
    "A Disclosure's digest is not reachable from the Issuer-signed JWT (RFC 9901 §4.2.6, §7.1 step 5).")
TIME_CLAIM_INVALID = _reason(
    "time_claim_invalid",
    "exp, nbf or iat is not a JSON number, in a credential or in issuer input "
    "(RFC 7519 §2 NumericDate, §4.1.4-§4.1.6).")
CREDENTIAL_EXPIRED = _reason(
    "credential_expired",
    "The processed payload's exp has passed, beyond the leeway (RFC 9901 §7.1 step 6; RFC 7519 §4.1.4).")
CREDENTIAL_NOT_YET_VALID = _reason(
    "credential_not_yet_valid",
    "The processed payload's nbf is in the future, beyond the leeway (RFC 9901 §7.1 step 6; RFC 7519 §4.1.5).")

# --- SD-JWT VC profile (draft-ietf-oauth-sd-jwt-vc) -----------------------------------------
VCT_MISSING = _reason(
    "vct_missing",
    "The SD-JWT VC has no string vct claim in the clear (SD-JWT VC §3.2.2.1, §3.2.2.2: vct REQUIRED).")
ISS_MISSING = _reason(
    "iss_missing",
    "The SD-JWT VC has neither an iss claim nor an x5c header to identify its Issuer (SD-JWT VC §3.2.2.2, §3.5).")
NON_DISCLOSABLE_CLAIM = _reason(
    "non_disclosable_claim",
    "iss, nbf, exp, cnf, vct, vct#integrity or status is selectively disclosable; they MUST NOT be in "
    "Disclosures (SD-JWT VC §3.2.2.2; RFC 9901 §9.7).")

# --- Key Binding (RFC 9901 §4.3, §7.3) ----------------------------------------------------------
KB_JWT_MISSING = _reason(
    "kb_jwt_missing",
    "Key Binding is required but the presentation is a bare SD-JWT (RFC 9901 §7.3 step 2).")
UNEXPECTED_KB_JWT = _reason(
    "unexpected_kb_jwt",
    "An issued credential carries a KB-JWT; the Issuer MUST provide an SD-JWT, not an SD-JWT+KB (RFC 9901 §7.2).")
CNF_MISSING = _reason(
    "cnf_missing",
    "Key Binding is required but the payload has no cnf claim (RFC 9901 §4.1.2, §7.3 step 5.1; SD-JWT VC §3.2.2.2).")
CNF_UNSUPPORTED = _reason(
    "cnf_unsupported",
    "cnf is not an object with a jwk member, the confirmation method supported here (RFC 7800 §3.2).")
CNF_JWK_INVALID = _reason(
    "cnf_jwk_invalid",
    "cnf.jwk is not a valid, supported public key (OKP/Ed25519 or EC/P-256), in a credential or in issuer "
    "input (RFC 7800 §3.2, RFC 7517).")
KB_TYP_INVALID = _reason(
    "kb_typ_invalid",
    "The KB-JWT's typ header is not kb+jwt (RFC 9901 §4.3, §7.3 step 5.4).")
KB_SIGNATURE_INVALID = _reason(
    "kb_signature_invalid",
    "The KB-JWT's signature does not verify with the cnf key (RFC 9901 §4.3.2, §7.3 step 5.3).")
KB_CLAIM_MISSING = _reason(
    "kb_claim_missing",
    "The KB-JWT lacks iat (number), aud, nonce (string) or sd_hash (string) (RFC 9901 §4.3).")
KB_IAT_OUT_OF_WINDOW = _reason(
    "kb_iat_out_of_window",
    "The KB-JWT's iat is outside the acceptable window: older than the allowed age, or in the future beyond "
    "the leeway; the message says which (RFC 9901 §7.3 step 5.5).")
KB_AUD_MISMATCH = _reason(
    "kb_aud_mismatch",
    "The KB-JWT's aud is not this Verifier (RFC 9901 §7.3 step 5.6).")
KB_NONCE_MISMATCH = _reason(
    "kb_nonce_mismatch",
    "The KB-JWT's nonce is not this transaction's nonce (RFC 9901 §7.3 step 5.6).")
KB_SD_HASH_MISMATCH = _reason(
    "kb_sd_hash_mismatch",
    "The KB-JWT's sd_hash is not the hash of the presented SD-JWT (RFC 9901 §4.3.1, §7.3 step 5.7).")

# --- holder input -------------------------------------------------------------------------------
UNKNOWN_CLAIM_PATH = _reason(
    "unknown_claim_path",
    "A claim path asked for in a presentation does not exist in the credential (RFC 9901 §7.2 step 1).")

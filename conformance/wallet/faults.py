"""The ways the harness wallet can misbehave on purpose, one spec rule each.

Every fault changes exactly one thing of an otherwise correct flow, so the answer it provokes
can be attributed to that one rule. `RECEIVE_FAULTS` apply to `HarnessWallet.receive` (OID4VCI
1.0), `PRESENT_FAULTS` to `HarnessWallet.present` (OID4VP 1.0, RFC 9901); `WALLET_FAULTS` is
both, for docs and `conformance list`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from types import MappingProxyType

RECEIVE_FAULTS: Mapping[str, str] = MappingProxyType({
    "proof_missing": "the Credential Request carries no `proofs` although the configuration binds "
                     "credentials to a key (OID4VCI 1.0 §8.2; expect invalid_proof)",
    "proof_wrong_aud": "the key proof's aud is the Credential Endpoint URL instead of the Credential "
                       "Issuer Identifier (OID4VCI 1.0 F.1; expect invalid_proof)",
    "proof_stale_nonce": "the key proof carries a c_nonce that is no longer valid: the one this wallet "
                         "already spent in its previous issuance, else one the issuer never issued "
                         "(OID4VCI 1.0 §7.2, §8.3.1.2; expect invalid_nonce)",
    "proof_no_nonce": "the key proof has no nonce claim although the issuer has a Nonce Endpoint "
                      "(OID4VCI 1.0 F.1, §8.3.1.2; expect invalid_proof)",
    "proof_bad_signature": "the key proof's signature bytes are altered (OID4VCI 1.0 F.4; expect "
                           "invalid_proof)",
    "proof_wrong_typ": "the key proof's typ header is `JWT` instead of openid4vci-proof+jwt "
                       "(OID4VCI 1.0 F.1; expect invalid_proof)",
    "proof_alg_none": "the key proof is unsigned, alg `none` (OID4VCI 1.0 F.1 forbids it; expect "
                      "invalid_proof)",
    "proof_other_key": "the key proof names the holder key in its jwk header but is signed by another "
                       "key, so the key to bind is not the key proven (OID4VCI 1.0 F.4; expect "
                       "invalid_proof)",
    "unknown_config": "the Credential Request asks for a credential_configuration_id the issuer does "
                      "not list (OID4VCI 1.0 §8.3.1.2; expect unknown_credential_configuration)",
    "wrong_tx_code": "the Token Request carries a wrong tx_code, or one the offer did not ask for "
                     "(OID4VCI 1.0 §6.3; expect invalid_grant, resp. invalid_request)",
    "reuse_code": "the Token Request is sent a second time with the same pre-authorized code; the "
                  "outcome is the second answer (OID4VCI 1.0 §4.1.1, RFC 6749 §5.2; expect "
                  "invalid_grant)",
})

PRESENT_FAULTS: Mapping[str, str] = MappingProxyType({
    "tamper_disclosure": "the value of the first presented Disclosure is changed (salt and name kept); "
                         "with nothing disclosed, a forged Disclosure is added (RFC 9901 §7.1 step 3; "
                         "expect disclosures / disclosure_not_referenced)",
    "tamper_issuer_jwt": "the Issuer-signed JWT's payload is altered (iat + 1 s) and its signature kept "
                         "(RFC 9901 §7.1 step 2; expect signature / signature_verification_failed)",
    "issuer_jwt_bad_signature": "one bit of the Issuer-signed JWT's signature is flipped, header and payload "
                                "kept (RFC 9901 §7.1 step 2; expect signature / signature_verification_failed)",
    "not_sd_jwt": "the Presentation is the Issuer-signed JWT alone, with no '~' and no Disclosures or KB-JWT "
                  "(RFC 9901 §4; expect credential_format / credential_format_invalid)",
    "kb_missing": "the presentation carries no KB-JWT although holder binding is required "
                  "(RFC 9901 §7.3; OID4VP 1.0 B.3.6; expect key_binding / kb_jwt_missing)",
    "kb_wrong_key": "the KB-JWT is signed by a key other than the credential's cnf key "
                    "(RFC 9901 §7.3 step 5.4; expect key_binding / kb_signature_invalid)",
    "kb_bad_signature": "one bit of the KB-JWT's signature is flipped (RFC 9901 §7.3 step 5.4; expect "
                        "key_binding / kb_signature_invalid)",
    "kb_wrong_typ": "the KB-JWT typ header is `JWT` instead of kb+jwt (RFC 9901 §4.3, §7.3 step 5.3; expect "
                    "key_binding / kb_typ_invalid)",
    "kb_no_iat": "the KB-JWT has no iat claim (RFC 9901 §4.3 makes it required; expect key_binding / "
                 "kb_claim_missing)",
    "kb_wrong_nonce": "the KB-JWT nonce is not the request's nonce (OID4VP 1.0 §14.1.2; expect "
                      "key_binding / kb_nonce_mismatch)",
    "kb_wrong_aud": "the KB-JWT aud is the response_uri instead of the Client Identifier "
                    "(OID4VP 1.0 §14.7, B.3.6; expect key_binding / kb_aud_mismatch)",
    "kb_iat_past_year": "the KB-JWT iat is one year in the past (RFC 9901 §7.3 step 5.5; expect "
                        "key_binding / kb_iat_out_of_window)",
    "kb_iat_future_year": "the KB-JWT iat is one year in the future (RFC 9901 §7.3 step 5.5; expect "
                          "key_binding / kb_iat_out_of_window)",
    "kb_wrong_sd_hash": "the KB-JWT sd_hash covers the presentation without its final '~' "
                        "(RFC 9901 §4.3.1; expect key_binding / kb_sd_hash_mismatch)",
    "replay": "the same Authorization Response is posted twice; the outcome is the second answer "
              "(OID4VP 1.0 §14.1; expect 400 invalid_request)",
    "fetch_request_twice": "the Request Object is fetched twice and the second one is answered "
                           "(RFC 9101 §5.2; a verifier may refuse the second fetch or serve it)",
    "extra_disclosure": "every Disclosure of the credential is presented, not only the requested "
                        "claims (OID4VP 1.0 §6.4.1 data minimisation; the verifier may accept it)",
    "wrong_state": "the response carries another state than the request's (OID4VP 1.0 §5.3, §14.3.2; "
                   "expect 400 invalid_request, session unchanged)",
    "vp_token_unknown_query": "the vp_token is keyed by an id that is no credential query of the request "
                              "(OID4VP 1.0 §8.1; expect 400 invalid_request, oid4vp_compliance / "
                              "oid4vp_non_compliant)",
    "presentation_as_object": "each Presentation is wrapped in a JSON object although dc+sd-jwt Presentations "
                              "are strings (OID4VP 1.0 B.3.6; expect 400 invalid_request, oid4vp_compliance / "
                              "presentation_invalid)",
    "error_response": "the wallet declines: it posts an Authorization Error Response (error=access_denied) "
                      "instead of a vp_token (OID4VP 1.0 §8.5; expect the session failed, not completed)",
})

WALLET_FAULTS: Mapping[str, str] = MappingProxyType({**RECEIVE_FAULTS, **PRESENT_FAULTS})


def checked_faults(faults: Collection[str], allowed: Mapping[str, str], flow: str) -> frozenset[str]:
    """The faults as a set; ValueError naming the culprit for an unknown or misplaced fault."""
    if isinstance(faults, str):
        raise ValueError(f"faults must be a collection of names, not the string {faults!r}")
    chosen = frozenset(faults)
    wrong = sorted(chosen - allowed.keys())
    if wrong:
        other = [name for name in wrong if name in WALLET_FAULTS]
        hint = f" ({', '.join(other)} belong to the other flow)" if other else ""
        raise ValueError(f"unknown {flow} fault(s) {', '.join(wrong)}{hint}; known: "
                         f"{', '.join(sorted(allowed))}")
    return chosen

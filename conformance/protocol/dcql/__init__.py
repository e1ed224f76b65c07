"""DCQL, the Digital Credentials Query Language (OID4VP 1.0 §6) and claims path pointers (§7).

    query = parse_query(request["dcql_query"])          # strict validation, DcqlError on a violation
    result = match(query, CredentialIndex(credentials))  # which credentials, which claims to disclose

Modules: `paths` (§7 pointers), `model` (the parsed query), `parse` (validation), `formats`
(Appendix B meta per format), `authorities` (§6.1.1 trusted authorities, incl. the seed's `did`),
`wallet` (held credentials and their index), `match` (§6.4 evaluation and results).

Deviations from OID4VP 1.0 that the seed verifier documents are accepted and reported as `Note`s
(`DcqlQuery.notes`, `DcqlResult.notes`): `trusted_authorities` of type `did` (`DID_TYPE_NOTE`) and
a `dc+sd-jwt` query without `meta.vct_values` (`SEED_VCT_VALUES_OPTIONAL`).
"""

from conformance.protocol.dcql.authorities import AUTHORITY_MATCHERS, DID_TYPE_NOTE, UNKNOWN_TYPE_POLICY
from conformance.protocol.dcql.formats import FORMATS, SEED_VCT_VALUES_OPTIONAL
from conformance.protocol.dcql.match import CredentialMatch, CredentialSetResult, DcqlResult, QueryResult, match
from conformance.protocol.dcql.model import (
    ClaimsQuery,
    CredentialQuery,
    CredentialSetQuery,
    DcqlQuery,
    MetaConstraint,
    Note,
    TrustedAuthoritiesQuery,
)
from conformance.protocol.dcql.parse import parse_query
from conformance.protocol.dcql.paths import ClaimsPathPointer, ConcretePath, parse_path
from conformance.protocol.dcql.wallet import CredentialIndex, WalletCredential

__all__ = [
    "AUTHORITY_MATCHERS",
    "DID_TYPE_NOTE",
    "FORMATS",
    "SEED_VCT_VALUES_OPTIONAL",
    "UNKNOWN_TYPE_POLICY",
    "ClaimsPathPointer",
    "ClaimsQuery",
    "ConcretePath",
    "CredentialIndex",
    "CredentialMatch",
    "CredentialQuery",
    "CredentialSetQuery",
    "CredentialSetResult",
    "DcqlQuery",
    "DcqlResult",
    "MetaConstraint",
    "Note",
    "QueryResult",
    "TrustedAuthoritiesQuery",
    "WalletCredential",
    "match",
    "parse_path",
    "parse_query",
]

"""The `tcs` dialect: the TCS-style platform's management APIs (shared/seeds/000 issuer,
001 holder, 004 verifier). Everything on a standard wire (OID4VCI, OID4VP, the ledger) comes
from conformance.dialects.shared."""

from conformance.dialects.tcs import holder, issuer, verifier

OPERATIONS = {**issuer.OPERATIONS, **holder.OPERATIONS, **verifier.OPERATIONS}

"""The harness's own protocol-level wallet (OID4VCI 1.0 receive, OID4VP 1.0 present), with
deliberate misbehaviour for negative tests. Modules: `core` (HarnessWallet), `receive` (the
issuance flow and key proof faults), `present` and `presentation` (the presentation flow and its
faults), `held` (held credentials), `faults` (the fault catalogue), `tamper` (signature bit flips shared
by both flows), `outcome` (WalletOutcome).
"""

from conformance.wallet.core import HarnessWallet
from conformance.wallet.faults import PRESENT_FAULTS, RECEIVE_FAULTS, WALLET_FAULTS
from conformance.wallet.held import HeldCredential
from conformance.wallet.outcome import WalletOutcome

__all__ = ["PRESENT_FAULTS", "RECEIVE_FAULTS", "WALLET_FAULTS", "HarnessWallet", "HeldCredential",
           "WalletOutcome"]

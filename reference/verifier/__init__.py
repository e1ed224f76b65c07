"""The reference verifier: OID4VP 1.0 with DCQL, signed requests and per-check results
(shared/seeds/004). See app.py for the HTTP shape and checks.py for the verification checks."""

from reference.verifier.app import create_app
from reference.verifier.settings import VerifierSettings
from reference.verifier.store import open_store

__all__ = ["VerifierSettings", "create_app", "open_store"]

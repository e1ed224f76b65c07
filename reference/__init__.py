"""Reference simulator: Starlette apps for the issuer, holder, verifier and ledger roles.

Each role = routes (HTTP shape) + service (logic) + store (SQLite). Spec rules come from
`conformance.protocol`; nothing here re-implements one.
"""

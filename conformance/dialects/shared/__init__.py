"""Operations on public wires, available in every dialect: the harness wallet (OID4VCI 1.0,
OID4VP 1.0), the ledger, the webhook receiver and the embedded reference's controls."""

"""How abstract operations become HTTP calls for one vendor API (a "dialect").

    catalogue        the abstract operations: name, roles, inputs (the same in every dialect)
    registry         dialect -> module, operation -> implementation, operation -> roles
    base, inputs     OperationResult, StepContext, Calls (recorded HTTP), typed inputs
    shared/          operations on public wires, in every dialect: wallet.* (the harness wallet,
                     OID4VCI / OID4VP), ledger.*, reference.* (embedded reference controls)
    tcs/             the TCS-style platform's management APIs (issuer, holder, verifier seeds)

The harness reaches this package only through `conformance.harness.environment`.
"""

from conformance.dialects.base import InputError, Operation, OperationResult, StepContext
from conformance.dialects.catalogue import CATALOGUE, OperationSpec
from conformance.dialects.registry import (
    DIALECTS,
    dialect_names,
    get_operation,
    operation_names,
    operation_roles,
)
from conformance.exchange import Exchange, record

__all__ = [
    "CATALOGUE", "DIALECTS", "Exchange", "InputError", "Operation", "OperationResult", "OperationSpec",
    "StepContext", "dialect_names", "get_operation", "operation_names", "operation_roles", "record",
]

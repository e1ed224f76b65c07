"""Dialect name -> module; operation name -> implementation; operation -> roles.

A dialect is one module exposing `OPERATIONS: Mapping[str, Implementation]` for the vendor API
it speaks (its management endpoints). The operations whose wire is a public standard (the
harness wallet's OID4VCI / OID4VP, the ledger, the embedded reference's controls) live in
SHARED_MODULES and every dialect gets them; a dialect may override one. Adding a vendor API is
one module and one line in DIALECTS.

Every implementation is checked against the catalogue when its dialect loads (an unknown name is
a programming error, raised at once), and every call's inputs are checked against the
operation's declared inputs before the implementation runs.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any

from conformance.dialects.base import Operation, OperationResult, StepContext
from conformance.dialects.catalogue import CATALOGUE, spec_of
from conformance.dialects.inputs import Inputs

Implementation = Callable[[StepContext, Inputs], Awaitable[OperationResult]]

DIALECTS: Mapping[str, str] = MappingProxyType({
    "tcs": "conformance.dialects.tcs",
    "eudiw": "conformance.dialects.eudiw",
    "orgwallet": "conformance.dialects.orgwallet",
})
SHARED_MODULES = (
    "conformance.dialects.shared.wallet",
    "conformance.dialects.shared.ledger",
    "conformance.dialects.shared.reference",
    "conformance.dialects.shared.webhooks",
    "conformance.dialects.shared.rp",
    "conformance.dialects.shared.issuer_double",
)


def dialect_names() -> list[str]:
    return sorted(DIALECTS)


def _table(module_name: str) -> Mapping[str, Implementation]:
    table = getattr(importlib.import_module(module_name), "OPERATIONS")
    unknown = sorted(set(table) - set(CATALOGUE))
    if unknown:
        raise ValueError(f"{module_name} implements operations the catalogue does not define: "
                         f"{', '.join(unknown)} (add them to conformance/dialects/catalogue.py)")
    return table


@cache
def _operations(dialect: str) -> Mapping[str, Operation]:
    if dialect not in DIALECTS:
        raise KeyError(f"unknown dialect {dialect!r} (known: {', '.join(dialect_names())})")
    merged: dict[str, Implementation] = {}
    for module_name in (*SHARED_MODULES, DIALECTS[dialect]):
        merged.update(_table(module_name))
    return MappingProxyType({name: _checked(name, impl) for name, impl in sorted(merged.items())})


def _checked(name: str, impl: Implementation) -> Operation:
    allowed = tuple(spec_of(name).inputs)

    async def operation(ctx: StepContext, inputs: Mapping[str, Any]) -> OperationResult:
        return await impl(ctx, Inputs(name, inputs, allowed))

    operation.__name__ = operation.__qualname__ = name
    operation.__doc__ = spec_of(name).summary
    return operation


def get_operation(dialect: str, name: str) -> Operation:
    """The dialect's implementation of `name`; KeyError listing what is known otherwise."""
    operations = _operations(dialect)
    if name in operations:
        return operations[name]
    if name in CATALOGUE:
        raise KeyError(f"dialect {dialect!r} does not implement {name} (it implements: "
                       f"{', '.join(operations)})")
    raise KeyError(f"unknown operation {name!r} (known: {', '.join(sorted(CATALOGUE))})")


def operation_names(dialect: str) -> list[str]:
    return list(_operations(dialect))


def operation_roles(name: str) -> tuple[str, ...]:
    """The roles a target needs for `name`, the same in every dialect; KeyError when unknown."""
    return spec_of(name).roles

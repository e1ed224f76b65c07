"""Transaction Codes (OID4VCI 1.0 §4.1.1, §6.1) as the management APIs take them: a `tx_code`
object (the EUDIW connector seed's form, also accepted by the TCS API) from which the engine
draws the value, or a value the caller chose itself (the organisation wallet's `userPin`).

Both are 4-12 characters: fewer would make the guessing defence (§13.6, a few attempts per
offer) weak, more is beyond what wallets show as a code entry.
"""

from __future__ import annotations

from conformance.protocol.errors import Oid4vciError
from conformance.protocol.oid4vci import TxCode
from reference.common.body import Body, bad

LENGTH = (4, 12)


def parse_tx_code(raw: Body | None, *, where: str = "tx_code",
                  required: tuple[str, ...] = ()) -> TxCode | None:
    """`required`: members the surface's document makes mandatory (the connector: input_mode
    and length); the others default as §4.1.1 has it (numeric, length 6 when drawn)."""
    if raw is None:
        return None
    for member in required:
        if raw.data.get(member) is None:
            raise bad(f"{where}.{member}", "is required")
    try:
        tx_code = TxCode.parse(raw.data, where)
    except Oid4vciError as exc:
        raise bad(exc.field or where, exc.message) from None
    if tx_code.length is not None and not LENGTH[0] <= tx_code.length <= LENGTH[1]:
        raise bad(f"{where}.length", f"must be between {LENGTH[0]} and {LENGTH[1]}")
    return tx_code


def tx_code_for(value: str, where: str) -> TxCode:
    """The offer's tx_code object for a caller-chosen value. The error never echoes the value."""
    if not LENGTH[0] <= len(value) <= LENGTH[1] or not value.isascii() or not value.isalnum():
        raise bad(where, f"must be {LENGTH[0]}-{LENGTH[1]} ASCII letters or digits")
    return TxCode(input_mode="numeric" if value.isdigit() else "text", length=len(value))

"""`POST /offers` of the EUDIW connector seed: the body, parsed into an `OfferRequest`.

`credential_configuration_id` and `claims` are required; `tx_code` is optional and, when
present, carries `input_mode` ("numeric" | "text") and `length`, with an optional
`description` (the seed's "Contains input_mode, length, and an optional description").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.oid4vci import TxCode
from reference.common.body import Body
from reference.issuer.txcode import parse_tx_code


@dataclass(frozen=True)
class OfferRequest:
    credential_configuration_id: str
    claims: Mapping[str, Any]
    tx_code: TxCode | None


def parse_offer_request(body: Body) -> OfferRequest:
    config_id = body.str("credential_configuration_id", required=True, max_len=256)
    claims = body.obj("claims", required=True)
    tx_code = parse_tx_code(body.obj("tx_code"), required=("input_mode", "length"))
    return OfferRequest(config_id, claims.data, tx_code)  # type: ignore[arg-type, union-attr]

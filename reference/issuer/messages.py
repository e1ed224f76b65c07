"""OID4VCI 1.0 messages the protocol core does not model yet: the Deferred Credential Request
(§9.1) and the Notification Request (§11.1), with their error codes (§9.3, §11.3).

Pure (no I/O), written to move into conformance/protocol/oid4vci.py as is: the error codes here
are not in its ERROR_CODES table, so `wire_error` builds the `Oid4vciError` directly, with the
same `detail` attribute `oid4vci_error` sets.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.protocol.errors import Oid4vciError

# §9.3 and §11.3: codes beyond those of §8.3.1.2.
EXTRA_ERROR_CODES: dict[str, tuple[str, str]] = {
    "invalid_transaction_id": ("OID4VCI §9.3", "the transaction_id is unknown, expired or was "
                               "already used to obtain the credential"),
    "invalid_notification_id": ("OID4VCI §11.3", "the notification_id is not valid"),
    "invalid_notification_request": ("OID4VCI §11.3", "the Notification Request is malformed"),
}
NOTIFICATION_EVENTS = ("credential_accepted", "credential_failure", "credential_deleted")


def wire_error(code: str, message: str, field: str | None = None,
               detail: str | None = None) -> Oid4vciError:
    err = Oid4vciError(code, message, field)
    err.detail = detail or code  # type: ignore[attr-defined]
    return err


def _object(value: Any, code: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise wire_error(code, f"the {what} must be a JSON object", None, "not_an_object")
    return value


@dataclass(frozen=True)
class DeferredCredentialRequest:
    transaction_id: str


def parse_deferred_credential_request(value: Any) -> DeferredCredentialRequest:
    """§9.1: `transaction_id` is required; unknown parameters are ignored."""
    obj = _object(value, "invalid_credential_request", "Deferred Credential Request")
    transaction_id = obj.get("transaction_id")
    if not isinstance(transaction_id, str) or not transaction_id:
        raise wire_error("invalid_credential_request", "transaction_id is required and must be a "
                         "non-empty string (§9.1)", "transaction_id", "missing_parameter")
    return DeferredCredentialRequest(transaction_id)


@dataclass(frozen=True)
class NotificationRequest:
    notification_id: str
    event: str
    event_description: str | None


def parse_notification_request(value: Any) -> NotificationRequest:
    """§11.1: `notification_id`, `event` (one of three, case sensitive), optional ASCII
    `event_description` restricted to %x20-21 / %x23-5B / %x5D-7E."""
    code = "invalid_notification_request"
    obj = _object(value, code, "Notification Request")
    notification_id = obj.get("notification_id")
    if not isinstance(notification_id, str) or not notification_id:
        raise wire_error(code, "notification_id is required and must be a non-empty string "
                         "(§11.1)", "notification_id", "missing_parameter")
    event = obj.get("event")
    if event not in NOTIFICATION_EVENTS:
        raise wire_error(code, f"event must be one of {', '.join(NOTIFICATION_EVENTS)} (§11.1), "
                         f"got {event!r}", "event", "invalid_event")
    description = obj.get("event_description")
    if description is not None and (not isinstance(description, str) or not _ascii(description)):
        raise wire_error(code, "event_description must be ASCII text without '\"' or '\\' "
                         "(§11.1)", "event_description", "invalid_parameter")
    return NotificationRequest(notification_id, event, description)


def _ascii(text: str) -> bool:
    return all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in text)

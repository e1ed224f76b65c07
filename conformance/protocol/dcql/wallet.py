"""The wallet side of DCQL: the credentials a query is matched against, and an index over them.

`WalletCredential` is what matching needs to know about one held credential: its format, its type
(`vct` for SD-JWT VC, `doctype` for mdoc; W3C types come from its `type` claim), the claims the
holder could disclose (SD-JWT disclosures already resolved into plain JSON), who issued it, and
whether it is bound to a holder key.

`CredentialIndex` buckets the credentials by (format, type) once; a wallet keeps its credentials,
so building it once and matching many queries against it is the normal shape of the work.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from conformance.protocol.dcql.formats import profile_for
from conformance.protocol.dcql.model import MetaConstraint
from conformance.protocol.errors import DcqlError


@dataclass(frozen=True, slots=True)
class WalletCredential:
    """One credential the wallet holds. `claims` is treated as read-only: do not mutate it."""

    format: str
    vct: str | None
    claims: Mapping[str, Any] = field(hash=False)
    issuer: str | None = None
    cryptographic_holder_binding: bool = True
    authority_ids: Mapping[str, frozenset[str]] | None = field(default=None, hash=False)
    doctype: str | None = None

    def __post_init__(self) -> None:
        # The claims are the root object of claims path processing (OID4VP 1.0 §7.1.1 step 1).
        if not isinstance(self.claims, Mapping):
            raise TypeError(f"WalletCredential.claims must be a mapping, got {type(self.claims).__name__}")

    @classmethod
    def from_json(cls, obj: Any, field_name: str = "credential") -> WalletCredential:
        """Build from the CLI shape: {"format", "vct"?, "doctype"?, "claims", "issuer"?,
        "cryptographic_holder_binding"?, "aki"?, "authority_ids"? ({type: [ids]})}."""
        if not isinstance(obj, Mapping):
            raise _bad(field_name, "a JSON object", obj)
        fmt = obj.get("format")
        if type(fmt) is not str or not fmt:
            raise _bad(f"{field_name}.format", "a non-empty string", fmt)
        claims = obj.get("claims", {})
        if not isinstance(claims, Mapping):
            raise _bad(f"{field_name}.claims", "a JSON object", claims)
        binding = obj.get("cryptographic_holder_binding", True)
        if type(binding) is not bool:
            raise _bad(f"{field_name}.cryptographic_holder_binding", "a boolean", binding)
        return cls(
            format=fmt,
            vct=_optional_string(obj, "vct", field_name),
            claims=claims,
            issuer=_optional_string(obj, "issuer", field_name),
            cryptographic_holder_binding=binding,
            authority_ids=_authority_ids(obj, field_name),
            doctype=_optional_string(obj, "doctype", field_name),
        )


def _bad(field_name: str, expected: str, got: Any) -> DcqlError:
    return DcqlError("dcql_invalid_credential", f"{field_name} must be {expected}, got {got!r}", field_name)


def _optional_string(obj: Mapping[str, Any], key: str, field_name: str) -> str | None:
    value = obj.get(key)
    if value is not None and type(value) is not str:
        raise _bad(f"{field_name}.{key}", "a string", value)
    return value


def _authority_ids(obj: Mapping[str, Any], field_name: str) -> Mapping[str, frozenset[str]] | None:
    ids: dict[str, frozenset[str]] = {}
    raw = obj.get("authority_ids", {})
    if not isinstance(raw, Mapping):
        raise _bad(f"{field_name}.authority_ids", "an object of type -> array of strings", raw)
    for authority_type, values in raw.items():
        if not isinstance(values, list) or not all(type(v) is str for v in values):
            raise _bad(f"{field_name}.authority_ids.{authority_type}", "an array of strings", values)
        ids[authority_type] = frozenset(values)
    aki = _optional_string(obj, "aki", field_name)
    if aki is not None:
        ids["aki"] = ids.get("aki", frozenset()) | {aki}
    return MappingProxyType(ids) if ids else None


class CredentialIndex:
    """The wallet's credentials bucketed by format and by (format, type), built once.

    Buckets hold wallet indices in ascending order, so matches come out in wallet order.
    """

    __slots__ = ("_by_format", "_by_type", "_types", "credentials")

    def __init__(self, credentials: Iterable[WalletCredential]) -> None:
        self.credentials: tuple[WalletCredential, ...] = tuple(credentials)
        by_format: dict[str, list[int]] = {}
        by_type: dict[tuple[str, str], list[int]] = {}
        types: list[tuple[str, ...]] = []
        type_readers = {}
        for index, credential in enumerate(self.credentials):
            fmt = credential.format
            reader = type_readers.get(fmt)
            if reader is None:
                reader = type_readers[fmt] = profile_for(fmt).credential_types
            credential_types = reader(credential)
            types.append(credential_types)
            by_format.setdefault(fmt, []).append(index)
            for credential_type in credential_types:
                by_type.setdefault((fmt, credential_type), []).append(index)
        self._by_format = by_format
        self._by_type = by_type
        self._types = types

    def __len__(self) -> int:
        return len(self.credentials)

    def candidates(self, format_id: str, meta: MetaConstraint) -> Sequence[int]:
        """Indices of credentials of this format whose types satisfy the meta constraint."""
        alternatives = meta.alternatives
        if alternatives is None:
            return self._by_format.get(format_id, ())
        if len(alternatives) == 1 and len(alternatives[0]) == 1:
            (only,) = alternatives[0]
            return self._by_type.get((format_id, only), ())
        found: set[int] = set()
        for alternative in alternatives:
            if not alternative:
                found.update(self._by_format.get(format_id, ()))
                continue
            # Any one member's bucket contains every credential that has the whole set.
            anchor = next(iter(alternative))
            bucket = self._by_type.get((format_id, anchor), ())
            if len(alternative) == 1:
                found.update(bucket)
            else:
                found.update(i for i in bucket if alternative.issubset(self._types[i]))
        return sorted(found)

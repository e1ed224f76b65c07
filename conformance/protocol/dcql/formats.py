"""Credential-format specifics of DCQL (OID4VP 1.0 Appendix B): one profile per format identifier.

A profile says how a credential query's `meta` is validated and what it constrains, what type set
a wallet credential of that format has, and which claims path pointers make sense for it. Adding a
format is one profile in `FORMATS`.

- `dc+sd-jwt` (B.3.5): `meta.vct_values` REQUIRED, a non-empty array of strings; the credential's
  `vct` must be one of them. Type inheritance through SD-JWT VC type metadata is not resolved (no
  I/O here): only an exact `vct` matches.
- `mso_mdoc` (B.2.3): `meta.doctype_value` REQUIRED, a string equal to the credential's doctype;
  claims path pointers are exactly [namespace, data element] (§7.2).
- `jwt_vc_json`, `ldp_vc` (B.1.1): `meta.type_values` REQUIRED, a non-empty array of non-empty
  string arrays; one inner array must be a subset of the credential's types. No JSON-LD expansion
  happens here: the credential's `type` claim is compared as given, so a wallet holding
  `@context`-defined types passes the expanded IRIs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from conformance.protocol.dcql.model import MetaConstraint, Note
from conformance.protocol.dcql.paths import ClaimsPathPointer
from conformance.protocol.errors import DcqlError

if TYPE_CHECKING:
    from conformance.protocol.dcql.wallet import WalletCredential

SEED_VCT_VALUES_OPTIONAL = (
    "meta.vct_values is REQUIRED for dc+sd-jwt in OID4VP 1.0 Appendix B.3.5, but the TCS verifier "
    "documents it as optional: accepted, and the query then matches any vct"
)


def _invalid_meta(field_name: str, expected: str, got: Any) -> DcqlError:
    return DcqlError("dcql_invalid_meta", f"{field_name} must be {expected}, got {got!r}", field_name)


def _string_array(meta: Mapping[str, Any], key: str, field_name: str, clause: str) -> list[str]:
    value = meta[key]
    if not isinstance(value, list) or not value or not all(type(v) is str for v in value):
        raise _invalid_meta(f"{field_name}.{key}", f"a non-empty array of strings ({clause})", value)
    return value


def _sd_jwt_meta(meta: Mapping[str, Any], field_name: str, notes: list[Note]) -> MetaConstraint:
    if "vct_values" not in meta:
        notes.append(Note("dcql_vct_values_missing", SEED_VCT_VALUES_OPTIONAL, f"{field_name}.vct_values",
                          spec_violation=True))
        return MetaConstraint(None)
    vcts = _string_array(meta, "vct_values", field_name, "OID4VP 1.0 B.3.5")
    return MetaConstraint(tuple(frozenset((vct,)) for vct in vcts))


def _mdoc_meta(meta: Mapping[str, Any], field_name: str, notes: list[Note]) -> MetaConstraint:
    doctype = meta.get("doctype_value")
    if type(doctype) is not str or not doctype:
        raise _invalid_meta(f"{field_name}.doctype_value", "a non-empty string (OID4VP 1.0 B.2.3)", doctype)
    return MetaConstraint((frozenset((doctype,)),))


def _w3c_meta(meta: Mapping[str, Any], field_name: str, notes: list[Note]) -> MetaConstraint:
    type_values = meta.get("type_values")
    expected = "a non-empty array of non-empty arrays of strings (OID4VP 1.0 B.1.1)"
    if not isinstance(type_values, list) or not type_values:
        raise _invalid_meta(f"{field_name}.type_values", expected, type_values)
    for position, types in enumerate(type_values):
        if not isinstance(types, list) or not types or not all(type(t) is str for t in types):
            raise _invalid_meta(f"{field_name}.type_values[{position}]", expected, types)
    return MetaConstraint(tuple(frozenset(types) for types in type_values))


# A credential's types as a tuple: one is read per credential when indexing, and a 1-tuple is
# much cheaper than a frozenset; MetaConstraint subset tests accept any iterable.
def _vct_types(credential: WalletCredential) -> tuple[str, ...]:
    return (credential.vct,) if credential.vct is not None else ()


def _doctype_types(credential: WalletCredential) -> tuple[str, ...]:
    return (credential.doctype,) if credential.doctype is not None else ()


def _w3c_types(credential: WalletCredential) -> tuple[str, ...]:
    types = credential.claims.get("type")
    if type(types) is str:
        return (types,)
    if isinstance(types, list):
        return tuple(t for t in types if type(t) is str)
    return ()


def _any_path(path: ClaimsPathPointer, field_name: str) -> None:
    return None


def _mdoc_path(path: ClaimsPathPointer, field_name: str) -> None:
    components = path.components
    if len(components) != 2 or not all(type(c) is str for c in components):
        raise DcqlError(
            "dcql_invalid_path",
            f"{field_name} is {list(components)!r}: an mso_mdoc claims path pointer is exactly two strings, "
            "[namespace, data element identifier] (OID4VP 1.0 §7.2)",
            field_name,
        )


MetaParser = Callable[[Mapping[str, Any], str, list[Note]], MetaConstraint]


@dataclass(frozen=True)
class FormatProfile:
    name: str
    parse_meta: MetaParser
    credential_types: Callable[[WalletCredential], tuple[str, ...]]
    check_path: Callable[[ClaimsPathPointer, str], None] = _any_path


FORMATS: Mapping[str, FormatProfile] = {
    profile.name: profile
    for profile in (
        FormatProfile("dc+sd-jwt", _sd_jwt_meta, _vct_types),
        FormatProfile("mso_mdoc", _mdoc_meta, _doctype_types, _mdoc_path),
        FormatProfile("jwt_vc_json", _w3c_meta, _w3c_types),
        FormatProfile("ldp_vc", _w3c_meta, _w3c_types),
    )
}


def _unknown_meta(format_id: str) -> MetaParser:
    def parse(meta: Mapping[str, Any], field_name: str, notes: list[Note]) -> MetaConstraint:
        if not meta:
            notes.append(Note("dcql_format_unknown", f"format {format_id!r} is not defined in OID4VP 1.0 "
                              "Appendix B: credentials match on the format identifier alone", field_name))
            return MetaConstraint(None)
        # Constraints we cannot read cannot be shown to hold: such a query matches nothing.
        notes.append(Note("dcql_format_unknown", f"format {format_id!r} is not defined in OID4VP 1.0 "
                          "Appendix B and its meta cannot be evaluated: no credential matches", field_name))
        return MetaConstraint(())

    return parse


def profile_for(format_id: str) -> FormatProfile:
    """The profile of a format; unknown formats get one that evaluates only an empty `meta`."""
    known = FORMATS.get(format_id)
    if known is not None:
        return known
    return FormatProfile(format_id, _unknown_meta(format_id), lambda credential: ())

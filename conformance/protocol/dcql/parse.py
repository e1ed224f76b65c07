"""Parse and validate a DCQL query (OID4VP 1.0 §6) into frozen dataclasses.

Every rule broken raises `DcqlError(reason, message, field)` naming the member, e.g.
`credentials[1].claims[0].path`. Reasons:

- `dcql_invalid_query`: the query (or an entry of one of its arrays) is not a JSON object.
- `dcql_missing_member`: a REQUIRED member is absent (`credentials`, `id`, `format`, `meta`,
  `path`, `options`, `type`, `values`).
- `dcql_invalid_member`: a member has the wrong JSON type, or an array that must be non-empty
  is empty (`multiple` not a boolean, `claims: []`, ...).
- `dcql_invalid_id`: an id is not a non-empty string of ASCII letters, digits, `_`, `-` (§6.1, §6.3).
- `dcql_duplicate_id`: two credential queries share an id (§6.1).
- `dcql_duplicate_claim_id`: two claims queries of one credential query share an id (§6.3).
- `dcql_missing_claim_id`: `claim_sets` is present but a claims query has no id (§6.3).
- `dcql_claim_sets_without_claims`: `claim_sets` without `claims` (§6.4.1).
- `dcql_unknown_claim_id`: a claim set names an id absent from `claims` (§6.1).
- `dcql_unknown_credential_id`: a credential set option names an absent credential query (§6.2).
- `dcql_invalid_path`: not a valid claims path pointer (§7), or not [namespace, element] for mdoc.
- `dcql_invalid_values`: `values` is not a non-empty array of strings, integers, booleans (§6.3).
- `dcql_invalid_meta`: the format's `meta` rules are broken (Appendix B, see `formats`).

Unknown members are ignored, as §6 requires. What the query does that OID4VP 1.0 does not define
but this engine accepts is reported as `Note`s on the result (see `model.Note`); `strict=True`
raises those that break a spec rule (reason = the note's code).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from conformance.protocol.dcql.authorities import AUTHORITY_MATCHERS, DID_TYPE_NOTE, SPEC_TYPES, UNKNOWN_TYPE_POLICY
from conformance.protocol.dcql.formats import profile_for
from conformance.protocol.dcql.model import (
    ClaimsQuery,
    CredentialQuery,
    CredentialSetQuery,
    DcqlQuery,
    Note,
    TrustedAuthoritiesQuery,
)
from conformance.protocol.dcql.paths import parse_path
from conformance.protocol.errors import DcqlError

_ID = re.compile(r"[A-Za-z0-9_-]+")

DUPLICATE_CLAIM_NOTE = (
    "points to the same claim as an earlier claims query: OID4VP 1.0 §6.1 says Verifiers MUST NOT do "
    "this and Wallets SHOULD ignore the duplicate"
)


def parse_query(obj: Any, *, strict: bool = False) -> DcqlQuery:
    """Validate a DCQL query object (the value of `dcql_query`) and build a `DcqlQuery`."""
    if not isinstance(obj, Mapping):
        raise DcqlError("dcql_invalid_query", f"a DCQL query must be a JSON object, got {_kind(obj)}", None)
    notes: list[Note] = []
    entries = _required_array(obj, "credentials", "")
    credentials = tuple(_credential_query(entry, f"credentials[{i}]", notes) for i, entry in enumerate(entries))
    seen: set[str] = set()
    for position, query in enumerate(credentials):
        if query.id in seen:
            raise DcqlError("dcql_duplicate_id", f"credential query id {query.id!r} is used more than once; "
                            "ids must be unique within the request (OID4VP 1.0 §6.1)", f"credentials[{position}].id")
        seen.add(query.id)
    credential_sets = None
    if "credential_sets" in obj:
        raw_sets = _required_array(obj, "credential_sets", "")
        credential_sets = tuple(
            _credential_set(entry, f"credential_sets[{i}]", seen) for i, entry in enumerate(raw_sets)
        )
    if strict:
        for note in notes:
            if note.spec_violation:
                raise DcqlError(note.code, note.message, note.field)
    return DcqlQuery(credentials, credential_sets, tuple(notes))


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "an integer",
             float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def _member_error(field_name: str, expected: str, got: Any) -> DcqlError:
    return DcqlError("dcql_invalid_member", f"{field_name} must be {expected}, got {_kind(got)} {got!r}", field_name)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _required(obj: Mapping[str, Any], key: str, prefix: str) -> Any:
    if key not in obj:
        where = prefix or "the query"
        raise DcqlError("dcql_missing_member", f"{where} has no {key!r}, which is REQUIRED (OID4VP 1.0 §6)",
                        _join(prefix, key))
    return obj[key]


def _required_array(obj: Mapping[str, Any], key: str, prefix: str) -> list[Any]:
    value = _required(obj, key, prefix)
    if not isinstance(value, list) or not value:
        raise _member_error(_join(prefix, key), "a non-empty array", value)
    return value


def _optional_array(obj: Mapping[str, Any], key: str, prefix: str) -> list[Any] | None:
    if key not in obj:
        return None
    return _required_array(obj, key, prefix)


def _optional_bool(obj: Mapping[str, Any], key: str, prefix: str, default: bool) -> bool:
    value = obj.get(key, default)
    if type(value) is not bool:
        raise _member_error(_join(prefix, key), "a boolean", value)
    return value


def _object(value: Any, field_name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise DcqlError("dcql_invalid_query", f"{field_name} must be a JSON object, got {_kind(value)}", field_name)
    return value


def _identifier(value: Any, field_name: str) -> str:
    if type(value) is not str or not _ID.fullmatch(value):
        raise DcqlError("dcql_invalid_id", f"{field_name} is {value!r}; it must be a non-empty string of "
                        "alphanumeric, '_' or '-' characters (OID4VP 1.0 §6.1, §6.3)", field_name)
    return value


def _credential_query(raw: Any, prefix: str, notes: list[Note]) -> CredentialQuery:
    obj = _object(raw, prefix)
    query_id = _identifier(_required(obj, "id", prefix), f"{prefix}.id")
    format_id = _required(obj, "format", prefix)
    if type(format_id) is not str or not format_id:
        raise _member_error(f"{prefix}.format", "a non-empty string", format_id)
    meta = _required(obj, "meta", prefix)
    if not isinstance(meta, Mapping):
        raise _member_error(f"{prefix}.meta", "an object", meta)
    profile = profile_for(format_id)
    meta_constraint = profile.parse_meta(meta, f"{prefix}.meta", notes)
    claims = _claims(obj, prefix, profile.check_path, notes)
    return CredentialQuery(
        id=query_id,
        format=format_id,
        meta=meta,
        meta_constraint=meta_constraint,
        multiple=_optional_bool(obj, "multiple", prefix, False),
        require_cryptographic_holder_binding=_optional_bool(obj, "require_cryptographic_holder_binding", prefix, True),
        claims=claims,
        claim_sets=_claim_sets(obj, prefix, claims),
        trusted_authorities=_trusted_authorities(obj, prefix, notes),
    )


def _claims(obj: Mapping[str, Any], prefix: str, check_path: Any, notes: list[Note]) -> tuple[ClaimsQuery, ...] | None:
    raw = _optional_array(obj, "claims", prefix)
    if raw is None:
        return None
    with_sets = "claim_sets" in obj
    claims: list[ClaimsQuery] = []
    ids: set[str] = set()
    paths: set[tuple[Any, ...]] = set()
    for position, entry in enumerate(raw):
        field_name = f"{prefix}.claims[{position}]"
        claim = _claims_query(_object(entry, field_name), field_name, with_sets, check_path)
        if claim.id is not None:
            if claim.id in ids:
                raise DcqlError("dcql_duplicate_claim_id", f"claim id {claim.id!r} is used more than once in "
                                f"{prefix}.claims (OID4VP 1.0 §6.3)", f"{field_name}.id")
            ids.add(claim.id)
        if claim.path.components in paths:
            notes.append(Note("dcql_duplicate_claim_path", f"{field_name}.path {DUPLICATE_CLAIM_NOTE}",
                              f"{field_name}.path", spec_violation=True))
        paths.add(claim.path.components)
        claims.append(claim)
    return tuple(claims)


def _claims_query(obj: Mapping[str, Any], prefix: str, id_required: bool, check_path: Any) -> ClaimsQuery:
    claim_id = None
    if "id" in obj:
        claim_id = _identifier(obj["id"], f"{prefix}.id")
    elif id_required:
        raise DcqlError("dcql_missing_claim_id", f"{prefix} has no 'id', which is REQUIRED when the credential "
                        "query has claim_sets (OID4VP 1.0 §6.3)", f"{prefix}.id")
    path = parse_path(_required(obj, "path", prefix), f"{prefix}.path")
    check_path(path, f"{prefix}.path")
    return ClaimsQuery(path=path, id=claim_id, values=_values(obj, prefix))


def _values(obj: Mapping[str, Any], prefix: str) -> tuple[Any, ...] | None:
    if "values" not in obj:
        return None
    values = obj["values"]
    if not isinstance(values, list) or not values:
        raise DcqlError("dcql_invalid_values", f"{prefix}.values must be a non-empty array of strings, integers "
                        f"or booleans (OID4VP 1.0 §6.3), got {values!r}", f"{prefix}.values")
    for position, value in enumerate(values):
        if type(value) not in (str, int, bool):
            raise DcqlError("dcql_invalid_values", f"{prefix}.values[{position}] is {_kind(value)} {value!r}; "
                            "expected values are strings, integers or booleans (OID4VP 1.0 §6.3)",
                            f"{prefix}.values[{position}]")
    return tuple(values)


ClaimSets = tuple[tuple[str, ...], ...]


def _claim_sets(obj: Mapping[str, Any], prefix: str, claims: tuple[ClaimsQuery, ...] | None) -> ClaimSets | None:
    if "claim_sets" not in obj:
        return None
    if claims is None:
        raise DcqlError("dcql_claim_sets_without_claims", f"{prefix}.claim_sets MUST NOT be present when claims "
                        "is absent (OID4VP 1.0 §6.4.1)", f"{prefix}.claim_sets")
    known = {claim.id for claim in claims}
    sets = []
    for position, raw_set in enumerate(_required_array(obj, "claim_sets", prefix)):
        field_name = f"{prefix}.claim_sets[{position}]"
        if not isinstance(raw_set, list) or not raw_set:
            raise _member_error(field_name, "a non-empty array of claim ids", raw_set)
        for item, claim_id in enumerate(raw_set):
            if type(claim_id) is not str or claim_id not in known:
                raise DcqlError("dcql_unknown_claim_id", f"{field_name}[{item}] is {claim_id!r}, which is not the "
                                f"id of a claims query in {prefix}.claims (OID4VP 1.0 §6.1)", f"{field_name}[{item}]")
        sets.append(tuple(raw_set))
    return tuple(sets)


def _trusted_authorities(
    obj: Mapping[str, Any], prefix: str, notes: list[Note]
) -> tuple[TrustedAuthoritiesQuery, ...] | None:
    raw = _optional_array(obj, "trusted_authorities", prefix)
    if raw is None:
        return None
    queries = []
    for position, entry in enumerate(raw):
        field_name = f"{prefix}.trusted_authorities[{position}]"
        entry = _object(entry, field_name)
        authority_type = _required(entry, "type", field_name)
        if type(authority_type) is not str or not authority_type:
            raise _member_error(f"{field_name}.type", "a non-empty string", authority_type)
        values = _required_array(entry, "values", field_name)
        for item, value in enumerate(values):
            if type(value) is not str:
                raise _member_error(f"{field_name}.values[{item}]", "a string", value)
        _note_authority_type(authority_type, f"{field_name}.type", notes)
        queries.append(TrustedAuthoritiesQuery(authority_type, tuple(values)))
    return tuple(queries)


def _note_authority_type(authority_type: str, field_name: str, notes: list[Note]) -> None:
    if authority_type in SPEC_TYPES:
        return
    if authority_type == "did":
        notes.append(Note("dcql_authority_type_did", DID_TYPE_NOTE, field_name))
    elif authority_type not in AUTHORITY_MATCHERS:
        notes.append(Note("dcql_authority_type_unknown",
                          f"trusted_authorities type {authority_type!r}: {UNKNOWN_TYPE_POLICY}", field_name))


def _credential_set(raw: Any, prefix: str, query_ids: set[str]) -> CredentialSetQuery:
    obj = _object(raw, prefix)
    options = []
    for position, option in enumerate(_required_array(obj, "options", prefix)):
        field_name = f"{prefix}.options[{position}]"
        if not isinstance(option, list) or not option:
            raise _member_error(field_name, "a non-empty array of credential query ids", option)
        for item, query_id in enumerate(option):
            if type(query_id) is not str or query_id not in query_ids:
                raise DcqlError("dcql_unknown_credential_id", f"{field_name}[{item}] is {query_id!r}, which is not "
                                "the id of a credential query in credentials (OID4VP 1.0 §6.2)",
                                f"{field_name}[{item}]")
        options.append(tuple(option))
    return CredentialSetQuery(tuple(options), _optional_bool(obj, "required", prefix, True))

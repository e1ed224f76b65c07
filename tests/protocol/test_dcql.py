"""DCQL engine units: path processing (§7.1.1), parsing details, notes, index and result API."""

from __future__ import annotations

from collections import OrderedDict
from types import MappingProxyType

import pytest

from conformance.protocol.dcql import (
    AUTHORITY_MATCHERS,
    DID_TYPE_NOTE,
    CredentialIndex,
    MetaConstraint,
    WalletCredential,
    match,
    parse_path,
    parse_query,
)
from conformance.protocol.dcql.paths import ClaimsPathPointer
from conformance.protocol.errors import DcqlError

VCT = "https://example.com/pid"


def query(**overrides):
    credential_query = {"id": "pid", "format": "dc+sd-jwt", "meta": {"vct_values": [VCT]},
                        "claims": [{"path": ["given_name"]}]}
    credential_query.update(overrides)
    return {"credentials": [credential_query]}


def held(claims, **kwargs):
    return WalletCredential("dc+sd-jwt", kwargs.pop("vct", VCT), claims, **kwargs)


# --- §7.1.1 processing --------------------------------------------------------------------------

ARTHUR = {
    "name": "Arthur Dent",
    "address": {"street_address": "42 Market Street"},
    "degrees": [{"type": "BSc"}, {"type": "MSc", "year": None}],
    "nationalities": ["British", "Betelgeusian"],
}


@pytest.mark.parametrize("components,selected", [
    (["name"], [(("name",), "Arthur Dent")]),
    (["degrees", None, "type"], [(("degrees", 0, "type"), "BSc"), (("degrees", 1, "type"), "MSc")]),
    (["nationalities", 1], [(("nationalities", 1), "Betelgeusian")]),
    (["degrees", 1, "year"], [(("degrees", 1, "year"), None)]),  # a null value is still a claim
    (["degrees", None, "year"], [(("degrees", 1, "year"), None)]),  # absent keys drop elements
])
def test_select_follows_the_processing_rules(components, selected):
    assert list(parse_path(components, "p").select(ARTHUR)) == selected


@pytest.mark.parametrize("components", [
    ["name", "first"], ["nationalities", "x"], ["address", 0], ["address", None], ["nationalities", 2],
    ["missing"], ["degrees", None, "grade"], ["name", None],
])
def test_select_errors_are_empty(components):
    pointer = parse_path(components, "p")
    assert pointer.select(ARTHUR) == ()
    assert pointer.disclosure()(ARTHUR) == ()


def test_select_on_a_non_object_root_is_an_error():
    assert parse_path(["a"], "p").select(["a"]) == ()
    assert parse_path([None], "p").select(["a"]) == ()


def test_paths_work_on_any_mapping_and_sequence():
    claims = MappingProxyType({"a": OrderedDict(b=("x", "y"))})
    assert parse_path(["a", "b", None], "p").disclosure()(claims) == (("a", "b", 0), ("a", "b", 1))
    assert parse_path(["a", "b", 1], "p").select(claims) == ((("a", "b", 1), "y"),)


def test_wildcard_beyond_cached_indices_builds_paths():
    claims = {"list": list(range(20))}
    paths = parse_path(["list", None], "p").disclosure(lambda v: v >= 15)(claims)
    assert paths == tuple(("list", i) for i in range(15, 20))


def test_may_overlap():
    def pointer(*components):
        return ClaimsPathPointer(components)

    assert pointer("a", None).may_overlap(pointer("a", 0))
    assert pointer("a", None, "b").may_overlap(pointer("a", None, "b"))
    assert not pointer("a", 0).may_overlap(pointer("a", 1))
    assert not pointer("a", None).may_overlap(pointer("a", "b"))
    assert not pointer("a").may_overlap(pointer("a", "b"))


# --- parsing ------------------------------------------------------------------------------------

def test_parse_builds_frozen_defaults():
    parsed = parse_query(query())
    credential_query = parsed.credential("pid")
    assert credential_query.multiple is False
    assert credential_query.require_cryptographic_holder_binding is True
    assert credential_query.claim_sets is None and credential_query.trusted_authorities is None
    assert parsed.credential_sets is None and parsed.notes == ()
    with pytest.raises(TypeError):
        credential_query.meta["vct_values"] = []  # meta is a read-only view
    with pytest.raises(AttributeError):
        credential_query.id = "other"  # type: ignore[misc]


def test_meta_parsed_into_type_alternatives():
    assert parse_query(query()).credential("pid").meta_constraint == MetaConstraint((frozenset({VCT}),))
    mdoc = parse_query(query(format="mso_mdoc", meta={"doctype_value": "d"}, claims=[{"path": ["ns", "e"]}]))
    assert mdoc.credential("pid").meta_constraint == MetaConstraint((frozenset({"d"}),))


def test_unknown_format_with_meta_matches_nothing_and_says_so():
    parsed = parse_query(query(format="vc+sd-jwt", meta={"vct_values": [VCT]}))
    assert parsed.credential("pid").meta_constraint == MetaConstraint(())
    assert [note.code for note in parsed.notes] == ["dcql_format_unknown"]
    wallet = [WalletCredential("vc+sd-jwt", VCT, {"given_name": "Erika"})]
    assert match(parsed, wallet).matches == {"pid": ()}


def test_unknown_format_with_empty_meta_matches_on_format():
    parsed = parse_query(query(format="example_format", meta={}))
    wallet = [WalletCredential("example_format", None, {"given_name": "Erika"}), held({"given_name": "Max"})]
    assert match(parsed, wallet).matches == {"pid": (0,)}


def test_id_charset_is_ascii():
    with pytest.raises(DcqlError) as exc:
        parse_query(query(id="pïd"))
    assert exc.value.reason == "dcql_invalid_id"
    assert parse_query(query(id="A-z_09")).credentials[0].id == "A-z_09"


def test_error_message_names_field_and_clause():
    with pytest.raises(DcqlError) as exc:
        parse_query({"credentials": [query()["credentials"][0], {**query()["credentials"][0], "id": "b",
                                                                "claims": [{"path": ["ok"]}, {"path": ["x", -2]}]}]})
    assert exc.value.field == "credentials[1].claims[1].path[1]"
    assert "credentials[1].claims[1].path[1]" in exc.value.message and "§7" in exc.value.message
    assert exc.value.as_dict()["reason"] == "dcql_invalid_path"


def test_did_authority_is_a_note_not_an_error_even_when_strict():
    raw = query(trusted_authorities=[{"type": "did", "values": ["did:example:issuer"]}])
    for strict in (False, True):
        notes = parse_query(raw, strict=strict).notes
        expected = [("dcql_authority_type_did", False, DID_TYPE_NOTE)]
        assert [(n.code, n.spec_violation, n.message) for n in notes] == expected
        assert notes[0].field == "credentials[0].trusted_authorities[0].type"


def test_authority_types_are_a_registry():
    assert set(AUTHORITY_MATCHERS) == {"aki", "etsi_tl", "openid_federation", "did"}


# --- matching -----------------------------------------------------------------------------------

def test_did_authority_matches_issuer_or_wallet_established_did():
    parsed = parse_query(query(trusted_authorities=[{"type": "did", "values": ["did:example:a"]}]))
    wallet = [
        held({"given_name": "A"}, issuer="did:example:a"),
        held({"given_name": "B"}, issuer="did:example:b"),
        held({"given_name": "C"}, authority_ids={"did": frozenset({"did:example:a"})}),
        held({"given_name": "D"}),
    ]
    assert match(parsed, wallet).query("pid").indices == (0, 2)


def test_claim_sets_evaluate_each_claim_once_and_report_the_chosen_set():
    parsed = parse_query(query(
        claims=[{"id": "dob", "path": ["birthdate"]}, {"id": "over18", "path": ["age_over_18"], "values": [True]}],
        claim_sets=[["over18"], ["dob"]],
    ))
    wallet = [held({"birthdate": "1990-01-01", "age_over_18": False}), held({"age_over_18": True})]
    result = match(parsed, wallet).query("pid")
    assert [(m.index, m.claim_set, m.claims) for m in result.matches] == [
        (0, 1, (("birthdate",),)),
        (1, 0, (("age_over_18",),)),
    ]


def test_result_api_and_unsatisfied():
    parsed = parse_query({
        "credentials": [query()["credentials"][0], {**query()["credentials"][0], "id": "other",
                                                    "meta": {"vct_values": ["https://example.com/x"]}}],
        "credential_sets": [{"options": [["other"], ["pid"]]}, {"options": [["other"]], "required": False}],
    })
    result = match(parsed, [held({"given_name": "Erika"})])
    assert result.can_be_satisfied
    assert result.matches == {"pid": (0,), "other": ()}
    first, second = result.credential_sets
    assert (first.chosen_option, first.satisfiable_options, first.satisfied) == (1, (1,), True)
    assert (second.chosen_option, second.satisfied, second.required) == (None, False, False)
    assert result.unsatisfied == ()
    assert match(parsed, []).unsatisfied == ("credential_sets[0]",)
    with pytest.raises(KeyError):
        result.query("nope")


def test_index_candidates_merge_alternatives_in_wallet_order():
    mdoc = WalletCredential("mso_mdoc", None, {}, doctype="a")
    wallet = [held({}, vct="b"), held({}, vct="a"), mdoc, held({}, vct="b")]
    index = CredentialIndex(wallet)
    assert len(index) == 4
    assert list(index.candidates("dc+sd-jwt", MetaConstraint((frozenset({"a"}), frozenset({"b"}))))) == [0, 1, 3]
    assert list(index.candidates("dc+sd-jwt", MetaConstraint(None))) == [0, 1, 3]
    assert list(index.candidates("mso_mdoc", MetaConstraint((frozenset({"a"}),)))) == [2]
    assert list(index.candidates("dc+sd-jwt", MetaConstraint(()))) == []


def test_one_index_serves_many_queries():
    index = CredentialIndex([held({"given_name": "Erika"}), held({"family_name": "Mustermann"})])
    assert match(parse_query(query()), index).matches == {"pid": (0,)}
    assert match(parse_query(query(claims=[{"path": ["family_name"]}])), index).matches == {"pid": (1,)}


# --- wallet credentials -------------------------------------------------------------------------

def test_from_json_reads_the_cli_shape():
    credential = WalletCredential.from_json({
        "format": "dc+sd-jwt", "vct": VCT, "claims": {"a": 1}, "issuer": "did:example:i",
        "cryptographic_holder_binding": False, "aki": "abc", "authority_ids": {"aki": ["def"], "etsi_tl": ["t"]},
    })
    assert credential == WalletCredential("dc+sd-jwt", VCT, {"a": 1}, issuer="did:example:i",
                                          cryptographic_holder_binding=False,
                                          authority_ids={"aki": frozenset({"abc", "def"}), "etsi_tl": frozenset({"t"})})
    assert hash(credential) == hash(WalletCredential.from_json({"format": "dc+sd-jwt", "vct": VCT, "claims": {},
                                                               "issuer": "did:example:i",
                                                               "cryptographic_holder_binding": False}))


@pytest.mark.parametrize("raw,field", [
    ([], "credential"),
    ({"vct": VCT}, "credential.format"),
    ({"format": "dc+sd-jwt", "claims": []}, "credential.claims"),
    ({"format": "dc+sd-jwt", "cryptographic_holder_binding": "yes"}, "credential.cryptographic_holder_binding"),
    ({"format": "dc+sd-jwt", "vct": 5}, "credential.vct"),
    ({"format": "dc+sd-jwt", "authority_ids": {"aki": "x"}}, "credential.authority_ids.aki"),
])
def test_from_json_rejects_bad_shapes(raw, field):
    with pytest.raises(DcqlError) as exc:
        WalletCredential.from_json(raw)
    assert (exc.value.reason, exc.value.field) == ("dcql_invalid_credential", field)


def test_claims_must_be_an_object():
    with pytest.raises(TypeError):
        WalletCredential("dc+sd-jwt", VCT, ["given_name"])  # type: ignore[arg-type]

"""The verifier's check registry, its SD-JWT reason table and their documentation."""

from __future__ import annotations

import re
from pathlib import Path

from conformance import issuer_keys, status_fetch
from conformance.protocol.dcql import parse_query
from conformance.protocol.sdjwt import REASONS, issue_sd_jwt_vc, parse_sd_jwt, unpack
from conformance.protocol.jose import generate_key
from reference.verifier import checks
from reference.verifier.checks import CHECKS, _verdict
from reference.verifier.evaluation import SDJWT_REASONS, Failure, disclosed_claims, required_queries_answered

DOC = (Path(checks.__file__).parent / "CHECKS.md").read_text()
SEED_CHECKS = ["oid4vp_compliance", "credential_format", "signature", "issuer_trust", "schema_governance",
               "schema_version", "issuer_governance"]


def test_registry_keeps_the_seed_names_in_the_seed_order() -> None:
    names = [c.name for c in CHECKS]
    assert [n for n in names if n in SEED_CHECKS] == SEED_CHECKS
    assert {c.name for c in CHECKS if c.seed} == set(SEED_CHECKS)
    assert all(c.clause for c in CHECKS)


def test_every_sdjwt_reason_has_a_check_and_the_check_exists() -> None:
    names = {c.name for c in CHECKS}
    assert set(REASONS) <= set(SDJWT_REASONS)
    assert {check for check, _ in SDJWT_REASONS.values()} <= names
    # Seed checks keep the seed's reason codes; added checks keep the SD-JWT reason itself.
    for reason, (check, code) in SDJWT_REASONS.items():
        if check in SEED_CHECKS:
            assert code in ("credential_format_invalid", "signature_verification_failed"), reason
        else:
            assert code == reason


def test_checks_md_documents_every_check_and_reason() -> None:
    for check in CHECKS:
        assert f"`{check.name}`" in DOC and f"`{check.success}`" in DOC
    for reason, (_, code) in SDJWT_REASONS.items():
        assert f"`{reason}`" in DOC and f"`{code}`" in DOC
    here = Path(checks.__file__).parent
    source = "".join(path.read_text() for path in (
        here / "checks.py", here / "status.py", here / "service.py",
        Path(issuer_keys.__file__), Path(status_fetch.__file__)))
    emitted = set(re.findall(r'"((?:[a-z0-9]+_)+[a-z0-9]+)"', source))
    for code in ("presentation_invalid", "oid4vp_non_compliant", "status_not_referenced", "credential_revoked",
                 "credential_suspended", "credential_status_unrecognized", "status_list_unavailable",
                 "key_binding_not_required", "wallet_error_response", "signature_payload_mismatch",
                 "issuer_key_not_resolvable", "dcql_not_satisfied"):
        assert code in emitted and f"`{code}`" in DOC, code


def test_verdict_attributes_failures_by_check_order() -> None:
    own = _verdict("validity_period", Failure("validity_period", "credential_expired", "m"), "ok", "fine")
    assert (own.status, own.reason_code) == ("fail", "credential_expired")
    earlier = _verdict("key_binding", Failure("validity_period", "credential_expired", "m"), "ok", "fine")
    assert (earlier.status, earlier.reason_code) == ("skipped", "skipped")
    later = _verdict("credential_format", Failure("signature", "signature_verification_failed", "m"), "ok", "fine")
    assert (later.status, later.reason_code) == ("success", "ok") and "signature" in later.message


def test_disclosed_claims_are_exactly_what_disclosures_revealed() -> None:
    key = generate_key("EdDSA")
    issued = issue_sd_jwt_vc(issuer_key=key, header={}, payload={"vct": "urn:t", "iss": "did:example:1"},
                             claims={"a": 1, "b": {"c": 2, "d": 3}, "e": [4, 5]},
                             selective=lambda path: path not in (("b",),))
    sd = parse_sd_jwt(issued.serialize())
    # Keep the Disclosures of b.c and e (with e's elements), drop a, b.d.
    keep = [d for d in sd.disclosures if d.name in ("c", "e") or (d.name is None and d.value == 4)]
    unpacked = unpack(sd.issuer_jws.payload, keep)
    assert disclosed_claims(unpacked) == {"b": {"c": 2}, "e": [4]}


def test_required_queries_with_and_without_credential_sets() -> None:
    base = {"format": "dc+sd-jwt", "meta": {"vct_values": ["urn:t"]}}
    plain = parse_query({"credentials": [{"id": "a", **base}, {"id": "b", **base}]})
    assert required_queries_answered(plain, {"a"}) == ["b"]
    assert required_queries_answered(plain, {"a", "b"}) == []
    sets = parse_query({"credentials": [{"id": "a", **base}, {"id": "b", **base}, {"id": "c", **base}],
                        "credential_sets": [{"options": [["a"], ["b", "c"]]},
                                            {"options": [["c"]], "required": False}]})
    assert required_queries_answered(sets, {"b", "c"}) == []
    assert required_queries_answered(sets, {"b"}) == ["credential_sets[0]"]

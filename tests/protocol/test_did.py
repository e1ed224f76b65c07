"""DIDs: syntax, did:key / did:jwk against their spec vectors, documents and key selection."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol import did as dids
from conformance.protocol import jose
from conformance.protocol.errors import DidError

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "did"
DID_KEY = json.loads((VECTORS / "did_key.json").read_text())
DID_JWK = json.loads((VECTORS / "did_jwk.json").read_text())

TAG = "0x" + "ae72f18dc7b6af5b740edae8e4e0b2d3c9fb10a4e7d6c5b3a2f1e0d9c8b7a6f5"


# --- syntax ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text,network", [
    (f"did:iota:{TAG}", None),                 # the verifier seed's client_id: no network
    (f"did:iota:testnet:{TAG}", "testnet"),    # the seeds' holder/issuer form
    (f"did:iota:smr:{TAG}", "smr"),            # IOTA DID spec v1.0 network name
    (f"did:iota:2304aa97:{TAG}", "2304aa97"),  # IOTA DID spec v2.0: 8 hex chain id
])
def test_iota_dids_with_and_without_network(text, network):
    parsed = dids.parse_did(text)
    assert (parsed.method, parsed.network, parsed.identifier, parsed.did) == (
        "iota", network, TAG, text)


@pytest.mark.parametrize("text", [
    "did:iota:issuer-ntu-001",                  # seed issuer DID: no 0x tag
    "did:iota:holder-xyz",                      # seed holder DID
    "did:iota:0xae72",                          # shortened tag
    "did:iota:testnet:0x7a8b...",               # the seeds' elided form
    f"did:iota:{TAG.upper().replace('0X', '0x')}",  # uppercase hex
    f"did:iota:testnet01:{TAG}",                # network longer than 8
    f"did:iota:Testnet:{TAG}",                  # uppercase network
    f"did:iota:a:b:{TAG}",                      # two network segments
    f"did:iota:{TAG}00",                        # 66 hex digits
])
def test_iota_non_grammar_forms_are_rejected_with_the_grammar(text):
    with pytest.raises(DidError) as exc:
        dids.parse_did(text)
    assert exc.value.reason == "invalid_did"
    assert dids.IOTA_GRAMMAR in exc.value.message
    assert text in exc.value.message


@pytest.mark.parametrize("text", [
    "", "did:", "did:iota", "did:iota:", "DID:iota:x", "did:IOTA:x", "iota:0x00",
    "did:web:ex ample", "did:web:example.com:", 42, None,
])
def test_generic_syntax_violations(text):
    with pytest.raises(DidError) as exc:
        dids.parse_did(text)
    assert exc.value.reason == "invalid_did"


def test_other_methods_need_only_the_generic_grammar():
    parsed = dids.parse_did("did:web:example.com:user%3Aalice")
    assert (parsed.method, parsed.network, parsed.identifier) == ("web", None,
                                                                  "example.com:user%3Aalice")


@pytest.mark.parametrize("text", ["did:key:6Mk", "did:key:z0OIl", "did:jwk:eyJ=", "did:jwk:a.b"])
def test_key_and_jwk_method_grammars(text):
    with pytest.raises(DidError) as exc:
        dids.parse_did(text)
    assert exc.value.reason == "invalid_did"


def test_parse_did_refuses_a_did_url_and_parse_did_url_splits_it():
    with pytest.raises(DidError, match="parse_did_url"):
        dids.parse_did(f"did:iota:{TAG}#key-1")
    parsed, fragment = dids.parse_did_url(f"did:iota:testnet:{TAG}#key-1")
    assert (parsed.did, fragment) == (f"did:iota:testnet:{TAG}", "key-1")
    assert dids.parse_did_url(f"did:iota:{TAG}") == (dids.parse_did(f"did:iota:{TAG}"), None)
    with pytest.raises(DidError, match="empty fragment"):
        dids.parse_did_url(f"did:iota:{TAG}#")


def test_iota_did_builder():
    assert dids.iota_did("testnet", TAG[2:].upper()) == f"did:iota:testnet:{TAG}"
    assert dids.iota_did(None, TAG) == f"did:iota:{TAG}"
    with pytest.raises(DidError):
        dids.iota_did("testnet", "abc")


# --- did:key --------------------------------------------------------------------------------


@pytest.mark.parametrize("vector", DID_KEY["ed25519"], ids=lambda v: v["seed_hex"][-2:])
def test_did_key_ed25519_vectors(vector):
    key = jose.private_key_from_raw(bytes.fromhex(vector["seed_hex"]), "EdDSA").public
    assert dids.did_key_from_public(key) == vector["did"]
    resolved = dids.verification_key(dids.resolve_local(vector["did"]))
    assert resolved.to_jwk() == key.to_jwk()
    raw = jose.b64u_decode(key.to_jwk()["x"])
    assert dids.base58btc_decode(vector["publicKeyBase58"]) == raw


@pytest.mark.parametrize("vector", DID_KEY["p256"], ids=lambda v: v["did"][-6:])
def test_did_key_p256_vectors(vector):
    key = jose.public_key_from_jwk(vector["publicKeyJwk"])
    assert dids.did_key_from_public(key) == vector["did"]
    assert dids.verification_key(dids.resolve_local(vector["did"])).to_jwk() == \
        vector["publicKeyJwk"]


@pytest.mark.parametrize("vector", DID_KEY["unsupported"], ids=lambda v: v["curve"])
def test_did_key_unsupported_curves(vector):
    with pytest.raises(DidError) as exc:
        dids.resolve_local(vector["did"])
    assert exc.value.reason == "unsupported_key_type"


def test_did_key_document_shape():
    did = DID_KEY["ed25519"][0]["did"]
    fragment = did.split(":")[2]
    doc = dids.resolve_local(did)
    vm_id = f"{did}#{fragment}"
    assert doc["id"] == did
    assert [m["id"] for m in doc["verificationMethod"]] == [vm_id]
    assert doc["verificationMethod"][0]["type"] == "JsonWebKey"
    for rel in ("authentication", "assertionMethod", "capabilityInvocation",
                "capabilityDelegation"):
        assert doc[rel] == [vm_id]
    assert "keyAgreement" not in doc


def test_published_did_key_document_with_relative_ids_and_base58_key():
    doc = DID_KEY["document_example"]["document"]
    expected = DID_KEY["ed25519"][0]
    key = dids.verification_key(doc)
    assert dids.did_key_from_public(key) == expected["did"]
    assert dids.verification_key(doc, f"{doc['id']}{doc['authentication'][0]}",
                                 "authentication").to_jwk() == key.to_jwk()


def test_did_key_with_a_bad_point_or_length():
    bad_point = "z" + dids.base58btc_encode(b"\x80\x24" + b"\x02" + b"\xff" * 32)
    short = "z" + dids.base58btc_encode(b"\xed\x01" + b"\x00" * 31)
    for text in (bad_point, short):
        with pytest.raises(DidError) as exc:
            dids.resolve_local(f"did:key:{text}")
        assert exc.value.reason == "invalid_did"


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=40))
def test_base58_round_trip(data):
    assert dids.base58btc_decode(dids.base58btc_encode(data)) == data


@settings(max_examples=25, deadline=None)
@given(seed=st.binary(min_size=32, max_size=32), alg=st.sampled_from(["EdDSA", "ES256"]))
def test_did_key_round_trip_and_signature(seed, alg):
    try:
        private = jose.private_key_from_raw(seed, alg)
    except jose.JoseError:  # a P-256 scalar of 0 or >= n; astronomically rare
        return
    did = dids.did_key_from_public(private.public)
    key = dids.verification_key(dids.resolve_local(did), f"{did}#{did.split(':')[2]}")
    token = jose.sign_jws({"kid": f"{did}#{did.split(':')[2]}"}, {"iss": did}, private)
    assert jose.verify_jws(token, key).payload == {"iss": did}


# --- did:jwk --------------------------------------------------------------------------------


def test_did_jwk_p256_spec_example():
    vector = DID_JWK["vectors"][0]
    key = jose.public_key_from_jwk(vector["publicKeyJwk"])
    assert dids.did_jwk_from_public(key) == vector["did"]
    doc = dids.resolve_local(vector["did"])
    vm = doc["verificationMethod"][0]
    assert (vm["id"], vm["controller"], vm["publicKeyJwk"]) == (
        f"{vector['did']}#0", vector["did"], vector["publicKeyJwk"])
    assert {rel for rel in dids.RELATIONSHIPS if rel in doc} == set(vector["relationships"])
    assert dids.verification_key(doc, f"{vector['did']}#0").to_jwk() == vector["publicKeyJwk"]


def test_did_jwk_x25519_spec_example_is_key_agreement_only():
    vector = DID_JWK["vectors"][1]
    doc = dids.resolve_local(vector["did"])
    assert doc["verificationMethod"][0]["publicKeyJwk"] == vector["publicKeyJwk"]
    assert {rel for rel in dids.RELATIONSHIPS if rel in doc} == set(vector["relationships"])
    with pytest.raises(DidError) as exc:
        dids.verification_key(doc)
    assert exc.value.reason == "verification_method_not_found"
    with pytest.raises(DidError) as exc:
        dids.verification_key(doc, relationship="keyAgreement")
    assert exc.value.reason == "unsupported_key_type"


def test_did_jwk_use_sig_drops_key_agreement():
    jwk = {**jose.generate_key("ES256").public.to_jwk(), "use": "sig"}
    doc = dids.resolve_local("did:jwk:" + jose.b64u_json(jwk))
    assert "keyAgreement" not in doc and "assertionMethod" in doc


@pytest.mark.parametrize("payload", [
    jose.generate_key("EdDSA").to_jwk(),                       # private key material
    {"crv": "Ed25519", "x": "AAAA"},                           # no kty
    {"kty": "EC", "crv": "P-256", "x": "AAAA", "y": "AAAA"},   # bad coordinates
    {**jose.generate_key("EdDSA").public.to_jwk(), "use": "both"},
    ["not", "an", "object"],
])
def test_did_jwk_rejects_bad_jwks(payload):
    did = "did:jwk:" + jose.b64u_encode(json.dumps(payload).encode())
    with pytest.raises(DidError) as exc:
        dids.resolve_local(did)
    assert exc.value.reason == "invalid_did"
    assert "d" not in payload or payload["d"] not in exc.value.message


def test_did_jwk_not_json():
    with pytest.raises(DidError) as exc:
        dids.resolve_local("did:jwk:" + jose.b64u_encode(b"not json"))
    assert exc.value.reason == "invalid_did"


def test_resolve_local_refuses_ledger_methods():
    with pytest.raises(DidError) as exc:
        dids.resolve_local(f"did:iota:{TAG}")
    assert exc.value.reason == "method_not_local"


# --- documents and key selection ------------------------------------------------------------


def _iota_doc():
    did = f"did:iota:testnet:{TAG}"
    signing, other = jose.generate_key("EdDSA"), jose.generate_key("ES256")
    doc = dids.build_did_document(did, signing.public)
    doc["verificationMethod"].append({"id": f"{did}#auth-only", "type": "JsonWebKey",
                                      "controller": did, "publicKeyJwk": other.public.to_jwk()})
    doc["authentication"].append("#auth-only")
    return did, doc, signing, other


def test_build_did_document_shape():
    did, doc, signing, _ = _iota_doc()
    assert doc["id"] == did
    assert doc["verificationMethod"][0] == {"id": f"{did}#key-1", "type": "JsonWebKey",
                                            "controller": did,
                                            "publicKeyJwk": signing.public.to_jwk()}
    assert doc["assertionMethod"] == [f"{did}#key-1"]


def test_verification_key_by_fragment_and_by_relationship():
    did, doc, signing, other = _iota_doc()
    assert dids.verification_key(doc).to_jwk() == signing.public.to_jwk()
    assert dids.verification_key(doc, f"{did}#key-1").to_jwk() == signing.public.to_jwk()
    assert dids.verification_key(doc, f"{did}#auth-only", "authentication").to_jwk() == \
        other.public.to_jwk()


@pytest.mark.parametrize("fragment,relationship", [
    ("auth-only", "assertionMethod"),   # defined, but not authorised for assertions
    ("nope", "assertionMethod"),        # not there at all
    (None, "capabilityDelegation"),     # relationship absent
])
def test_verification_key_not_found(fragment, relationship):
    did, doc, _, _ = _iota_doc()
    url = f"{did}#{fragment}" if fragment else None
    with pytest.raises(DidError) as exc:
        dids.verification_key(doc, url, relationship)
    assert exc.value.reason == "verification_method_not_found"


def test_verification_key_rejects_a_did_url_of_another_did():
    _, doc, _, _ = _iota_doc()
    with pytest.raises(DidError) as exc:
        dids.verification_key(doc, f"did:iota:{TAG}#key-1")
    assert exc.value.reason == "verification_method_not_found"


def test_verification_key_referenced_but_undefined():
    did, doc, _, _ = _iota_doc()
    doc["assertionMethod"].append(f"{did}#ghost")
    with pytest.raises(DidError) as exc:
        dids.verification_key(doc, f"{did}#ghost")
    assert exc.value.reason == "verification_method_not_found"


def test_embedded_verification_method_in_a_relationship():
    did = f"did:iota:{TAG}"
    key = jose.generate_key("ES256").public
    doc = {"id": did, "assertionMethod": [{"id": "#emb", "type": "JsonWebKey",
                                           "controller": did, "publicKeyJwk": key.to_jwk()}]}
    assert dids.verification_key(doc, f"{did}#emb").to_jwk() == key.to_jwk()


@pytest.mark.parametrize("method,reason", [
    ({"publicKeyJwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}, "unsupported_key_type"),
    ({"publicKeyMultibase": "uAAAA"}, "invalid_did"),
    ({"type": "JsonWebKey"}, "invalid_did_document"),
])
def test_method_key_errors(method, reason):
    with pytest.raises(DidError) as exc:
        dids.method_key({"id": "did:example:1#k", **method})
    assert exc.value.reason == reason


def test_build_did_document_rejects_unknown_relationship():
    with pytest.raises(DidError):
        dids.build_did_document(f"did:iota:{TAG}", jose.generate_key().public,
                                relationships=("assertion",))

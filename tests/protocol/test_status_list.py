"""Token Status List: the draft's worked examples and test vectors, strict decoding, the JWT
Status List Token and the Referenced Token's status claim."""

import json
import zlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.protocol import jose
from conformance.protocol import status_list as sl
from conformance.protocol.errors import StatusListError

VECTORS = Path(__file__).resolve().parents[2] / "fixtures" / "vectors" / "status_list"
SECTION_4 = json.loads((VECTORS / "section_4.json").read_text())
APPENDIX_C = json.loads((VECTORS / "appendix_c.json").read_text())

URI = "https://example.com/statuslists/1"
NOW = 1_700_000_000


def _reason(exc_info) -> str:
    return exc_info.value.reason


# --- the draft's examples -------------------------------------------------------------------


@pytest.mark.parametrize("vector", SECTION_4["vectors"], ids=lambda v: f"bits{v['bits']}")
def test_section_4_worked_examples(vector):
    status_list = sl.StatusList(vector["bits"], tuple(vector["statuses"]))
    assert status_list.to_bytes().hex() == vector["byte_array_hex"]
    assert zlib.compress(status_list.to_bytes(), 9).hex() == vector["compressed_hex"]
    assert status_list.encode() == {"bits": vector["bits"], "lst": vector["lst"]}
    decoded = sl.StatusList.decode({"bits": vector["bits"], "lst": vector["lst"]},
                                   size=len(vector["statuses"]))
    assert decoded == status_list


@pytest.mark.parametrize("vector", APPENDIX_C["vectors"], ids=lambda v: v["section"])
def test_appendix_c_vectors(vector):
    expected = {int(k): v for k, v in vector["statuses"].items()}
    decoded = sl.StatusList.decode({"bits": vector["bits"], "lst": vector["lst"]})
    assert len(decoded) == vector["size"]
    assert {i: s for i, s in enumerate(decoded.statuses) if s} == \
        {i: s for i, s in expected.items() if s}
    for idx, status in expected.items():
        assert decoded.get(idx) == status
    rebuilt = [0] * vector["size"]
    for idx, status in expected.items():
        rebuilt[idx] = status
    assert sl.StatusList(vector["bits"], tuple(rebuilt)).encode()["lst"] == vector["lst"]


# --- packing against an independent formula -------------------------------------------------


def _reference_bytes(bits: int, statuses: list[int]) -> bytes:
    # §4.1: index i owns bits [i*bits, (i+1)*bits) counted from the least significant bit of
    # byte 0 upwards - i.e. the list is one little-endian integer.
    value = sum(status << (i * bits) for i, status in enumerate(statuses))
    return value.to_bytes((len(statuses) * bits + 7) // 8, "little")


@st.composite
def status_lists(draw):
    bits = draw(st.sampled_from(sl.ALLOWED_BITS))
    statuses = draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=300))
    return bits, statuses


@settings(max_examples=50, deadline=None)
@given(status_lists())
def test_round_trip_and_bit_order(case):
    bits, statuses = case
    status_list = sl.StatusList(bits, tuple(statuses))
    assert status_list.to_bytes() == _reference_bytes(bits, statuses)
    decoded = sl.StatusList.decode(status_list.encode(), size=len(statuses))
    assert decoded == status_list
    for idx, status in enumerate(statuses):
        assert decoded.get(idx) == status


@settings(max_examples=25, deadline=None)
@given(status_lists(), st.data())
def test_with_status_changes_one_entry(case, data):
    bits, statuses = case
    if not statuses:
        return
    idx = data.draw(st.integers(0, len(statuses) - 1))
    new = data.draw(st.integers(0, (1 << bits) - 1))
    changed = sl.StatusList(bits, tuple(statuses)).with_status(idx, new)
    assert changed.statuses == (*statuses[:idx], new, *statuses[idx + 1:])


# --- strictness -----------------------------------------------------------------------------


@pytest.mark.parametrize("idx", [-1, 16, 10**9, True, "0"])
def test_index_out_of_range(idx):
    status_list = sl.StatusList.decode(SECTION_4["vectors"][0], size=16)
    with pytest.raises(StatusListError) as exc:
        status_list.get(idx)
    assert _reason(exc) == "index_out_of_range"


def test_without_size_the_padding_is_addressable_but_not_beyond():
    status_list = sl.StatusList.decode({"bits": 2, "lst": "eNo76fITAAPfAgc"})
    assert len(status_list) == 12
    padded = sl.StatusList(2, (1, 2, 3))
    assert len(sl.StatusList.decode(padded.encode())) == 4
    with pytest.raises(StatusListError) as exc:
        sl.StatusList.decode(padded.encode(), size=5)
    assert _reason(exc) == "size_mismatch"


@pytest.mark.parametrize("bits", [0, 3, 16, True, "1", None])
def test_invalid_bits(bits):
    with pytest.raises(StatusListError) as exc:
        sl.StatusList.decode({"bits": bits, "lst": "eNrbuRgAAhcBXQ"})
    assert _reason(exc) == "invalid_bits"


@pytest.mark.parametrize("bits,statuses", [(1, (0, 2)), (2, (4,)), (8, (256,)), (1, (-1,)),
                                           (1, (True,)), (4, (1.0,))])
def test_status_must_fit_the_bits(bits, statuses):
    with pytest.raises(StatusListError) as exc:
        sl.StatusList(bits, statuses)
    assert _reason(exc) == "status_out_of_range"


def _lst(data: bytes) -> dict:
    return {"bits": 1, "lst": jose.b64u_encode(data)}


@pytest.mark.parametrize("obj,reason", [
    ({"bits": 1, "lst": "eNrbuRgAAhcBXQ=="}, "malformed_status_list"),     # padded base64
    ({"bits": 1, "lst": 5}, "malformed_status_list"),
    ({"bits": 1}, "malformed_status_list"),
    ("eNrbuRgAAhcBXQ", "malformed_status_list"),
    (_lst(b"\xb9\xa3"), "decompression_failed"),                            # not compressed
    (_lst(zlib.compress(b"\xb9\xa3")[2:-4]), "decompression_failed"),        # raw DEFLATE
    (_lst(zlib.compress(b"\xb9\xa3" * 50)[:-3]), "decompression_failed"),    # truncated
    (_lst(zlib.compress(b"\xb9\xa3") + b"x"), "decompression_failed"),       # trailing bytes
    (_lst(zlib.compress(b"\xb9\xa3")[:-1] + b"\x00"), "decompression_failed"),  # bad checksum
])
def test_bad_lst(obj, reason):
    with pytest.raises(StatusListError) as exc:
        sl.StatusList.decode(obj)
    assert _reason(exc) == reason


def test_decompression_bomb_is_refused(monkeypatch):
    monkeypatch.setattr(sl, "MAX_LIST_BYTES", 1024)
    with pytest.raises(StatusListError) as exc:
        sl.StatusList.decode(_lst(zlib.compress(bytes(1025), 9)))
    assert _reason(exc) == "status_list_too_large"
    assert len(sl.StatusList.decode(_lst(zlib.compress(bytes(1024), 9)))) == 8192


# --- Status List Token ----------------------------------------------------------------------


def _token(key, *, header=None, sub=URI, exp=NOW + 3600, ttl=43200, statuses=(1, 0, 1)):
    return sl.build_status_list_token(key=key, header=header or {"kid": "12"}, sub=sub, iat=NOW,
                                      status_list=sl.StatusList(1, statuses), exp=exp, ttl=ttl)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256"])
def test_token_round_trip(alg):
    key = jose.generate_key(alg)
    token = _token(key)
    jws = jose.parse_jws(token)
    assert jws.header == {"kid": "12", "typ": "statuslist+jwt", "alg": alg}
    assert set(jws.payload) == {"sub", "iat", "exp", "ttl", "status_list"}
    status_list = sl.read_status_list_token(token, key.public, expected_sub=URI, now=NOW)
    assert status_list.statuses[:3] == (1, 0, 1)


def test_section_5_1_example_payload_signed_with_our_key():
    example = SECTION_4["token_example"]
    key = jose.generate_key("ES256")
    token = jose.sign_jws(example["header"], example["payload"], key)
    status_list = sl.read_status_list_token(token, key.public, expected_sub=URI,
                                            now=example["payload"]["iat"])
    assert status_list.get(0) == sl.STATUS_INVALID
    assert status_list.get(1) == sl.STATUS_VALID


def _signed(key, header, payload):
    return jose.sign_jws(header, payload, key)


def _claims(**overrides):
    claims = {"sub": URI, "iat": NOW, "exp": NOW + 60,
              "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"}}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


@pytest.mark.parametrize("header,claims,now,reason", [
    ({"typ": "JWT"}, _claims(), NOW, "invalid_typ"),
    ({}, _claims(), NOW, "invalid_typ"),
    ({"typ": "statuslist+cwt"}, _claims(), NOW, "invalid_typ"),
    ({"typ": "statuslist+jwt"}, _claims(sub="https://example.com/statuslists/2"), NOW,
     "sub_mismatch"),
    ({"typ": "statuslist+jwt"}, _claims(), NOW + 60, "token_expired"),
    ({"typ": "statuslist+jwt"}, _claims(nbf=NOW + 10), NOW, "token_not_yet_valid"),
    ({"typ": "statuslist+jwt"}, _claims(exp="tomorrow"), NOW, "invalid_exp"),
    ({"typ": "statuslist+jwt"}, _claims(ttl=0), NOW, "invalid_ttl"),
    ({"typ": "statuslist+jwt"}, _claims(sub=None), NOW, "missing_claim"),
    ({"typ": "statuslist+jwt"}, _claims(iat=None), NOW, "missing_claim"),
    ({"typ": "statuslist+jwt"}, _claims(status_list=None), NOW, "missing_claim"),
    ({"typ": "statuslist+jwt"}, _claims(status_list={"bits": 1, "lst": "AAAA"}), NOW,
     "decompression_failed"),
])
def test_token_rules(header, claims, now, reason):
    key = jose.generate_key()
    with pytest.raises(StatusListError) as exc:
        sl.read_status_list_token(_signed(key, header, claims), key.public, expected_sub=URI,
                                  now=now)
    assert _reason(exc) == reason


def test_media_type_form_of_typ_is_accepted():
    key = jose.generate_key()
    token = _signed(key, {"typ": "application/statuslist+jwt"}, _claims())
    assert sl.read_status_list_token(token, key.public, expected_sub=URI, now=NOW).get(0) == 1


def test_signature_and_format_failures_are_status_list_errors():
    key = jose.generate_key()
    token = _token(key)
    with pytest.raises(StatusListError) as exc:
        sl.read_status_list_token(token, jose.generate_key().public, expected_sub=URI, now=NOW)
    assert _reason(exc) == "signature_invalid"
    with pytest.raises(StatusListError) as exc:
        sl.read_status_list_token("a.b", key.public, expected_sub=URI, now=NOW)
    assert _reason(exc) == "malformed_jws"


@pytest.mark.parametrize("kwargs,reason", [
    ({"header": {"typ": "JWT"}}, "invalid_typ"),
    ({"ttl": 0}, "invalid_ttl"),
    ({"ttl": -5}, "invalid_ttl"),
])
def test_builder_refuses_invalid_tokens(kwargs, reason):
    with pytest.raises(StatusListError) as exc:
        _token(jose.generate_key(), **kwargs)
    assert _reason(exc) == reason


def test_builder_extra_claims_and_optional_members():
    key = jose.generate_key()
    token = sl.build_status_list_token(key=key, header={}, sub=URI, iat=NOW,
                                       status_list=sl.StatusList.empty(1, 8),
                                       claims={"iss": "https://issuer.example"})
    assert jose.parse_jws(token).payload == {
        "iss": "https://issuer.example", "sub": URI, "iat": NOW,
        "status_list": sl.StatusList.empty(1, 8).encode()}


# --- Referenced Token -----------------------------------------------------------------------


def test_status_claim_of_the_draft_example():
    payload = SECTION_4["referenced_token_example"]["payload"]
    assert sl.parse_status_claim(payload) == (URI, 0)


@pytest.mark.parametrize("payload", [{}, {"status": {"other_mechanism": {"x": 1}}}])
def test_no_status_list_reference(payload):
    assert sl.parse_status_claim(payload) is None


@pytest.mark.parametrize("status,field", [
    ("revoked", "status"),
    ({"status_list": [0, URI]}, "status.status_list"),
    ({"status_list": {"idx": -1, "uri": URI}}, "status.status_list.idx"),
    ({"status_list": {"idx": "0", "uri": URI}}, "status.status_list.idx"),
    ({"status_list": {"idx": True, "uri": URI}}, "status.status_list.idx"),
    ({"status_list": {"uri": URI}}, "status.status_list.idx"),
    ({"status_list": {"idx": 0}}, "status.status_list.uri"),
    ({"status_list": {"idx": 0, "uri": "statuslists/1"}}, "status.status_list.uri"),
])
def test_bad_status_claims(status, field):
    with pytest.raises(StatusListError) as exc:
        sl.parse_status_claim({"status": status})
    assert (_reason(exc), exc.value.field) == ("invalid_status_claim", field)


def test_revocation_end_to_end():
    issuer = jose.generate_key("ES256")
    status_list = sl.StatusList.empty(2, 64).with_status(41, sl.STATUS_SUSPENDED)
    credential = {"iss": "https://issuer.example",
                  "status": {"status_list": {"idx": 41, "uri": URI}}}
    token = sl.build_status_list_token(key=issuer, header={"kid": "k"}, sub=URI, iat=NOW,
                                       status_list=status_list, exp=NOW + 600)
    uri, idx = sl.parse_status_claim(credential)
    resolved = sl.read_status_list_token(token, issuer.public, expected_sub=uri, now=NOW + 1)
    assert resolved.get(idx) == sl.STATUS_SUSPENDED
    assert sl.STATUS_NAMES[resolved.get(idx)] == "SUSPENDED"
    assert resolved.get(40) == sl.STATUS_VALID

"""`conformance fuzz`: the reference passes; a role that crashes or breaks its documented schema is
caught with a shrunk, redacted reproduction; configuration errors exit 2."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from schemathesis.core.failures import ServerError

from conformance import cli
from conformance.explore.fuzz.auth import Credential, RoleAuth
from conformance.explore.fuzz.checks import no_server_error
from conformance.explore.fuzz.wire import PreparedCall, describe
from conformance.redact import REDACTED

from ._faults import broken_did_endpoints, registered, with_faulty_role


@pytest.fixture(autouse=True)
def commands(monkeypatch: pytest.MonkeyPatch) -> None:
    registered(monkeypatch)


def read(out: Path) -> dict[str, Any]:
    return json.loads((out / "fuzz.json").read_text())


def test_the_reference_passes_and_every_role_gets_requests(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["fuzz", "--max-examples", "1", "--seed", "3", "--report-dir", str(tmp_path)])
    captured = capsys.readouterr()
    report = read(tmp_path)
    assert code == 0, [f["title"] + f["message"] for r in report["roles"] for f in r["failures"]]
    per_role = report["summary"]["requests_per_role"]
    assert set(per_role) == {"issuer", "holder", "verifier", "ledger"} and all(n > 3 for n in per_role.values())
    assert "[holder] POST /v1/oid4vp/presentation:" in captured.err           # progress while running
    assert f"{report['summary']['requests']} requests, 0 failure(s)" in captured.out
    holder = next(r for r in report["roles"] if r["role"] == "holder")
    assert any("fresh account" in note for note in holder["notes"])         # bearer auth obtained
    assert "| holder | http://holder.local |" in (tmp_path / "fuzz.md").read_text()


def test_a_crash_and_a_schema_violation_are_caught_with_a_redacted_reproduction(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    with_faulty_role(monkeypatch, "holder", broken_did_endpoints)
    code = cli.main(["fuzz", "--role", "holder", "--max-examples", "3", "--seed", "1", "--report-dir", str(tmp_path)])
    assert code == 1
    failures = {(f["operation"], f["check"]) for f in read(tmp_path)["roles"][0]["failures"]}
    assert ("POST /v1/did", "no_server_error") in failures
    assert ("GET /v1/did", "response_schema_conformance") in failures
    crash = next(f for f in read(tmp_path)["roles"][0]["failures"] if f["check"] == "no_server_error")
    assert crash["status"] == 500 and crash["request"]["headers"]["Authorization"] == REDACTED
    assert '"Authorization: Bearer $HOLDER_TOKEN"' in crash["request"]["curl"]
    markdown = (tmp_path / "fuzz.md").read_text()
    assert "not-a-list" in markdown and "curl -X POST http://holder.local/v1/did" in markdown
    for text in (markdown, (tmp_path / "fuzz.json").read_text()):
        assert "eyJ" not in text                                              # no access token leaked
    assert "FAIL holder POST /v1/did [no_server_error" in capsys.readouterr().out


def test_an_unknown_role_is_a_configuration_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fuzz", "--role", "wallet", "--report-dir", str(tmp_path)]) == 2
    assert "the target has no role wallet" in capsys.readouterr().err
    assert "no role wallet" in read(tmp_path)["error"]


def test_an_unreadable_target_file_is_a_configuration_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["fuzz", "--target", str(tmp_path / "missing.yaml"), "--report-dir", str(tmp_path)]) == 2
    assert "cannot read the target file" in capsys.readouterr().err


def _case(documented: tuple[str, ...]) -> Any:
    definition = SimpleNamespace(raw={"responses": dict.fromkeys(documented)})
    operation = SimpleNamespace(label="POST /v1/x", definition=definition)
    return SimpleNamespace(operation=operation)


@pytest.mark.parametrize("status,documented,fails", [
    (500, ("200", "500"), True),          # a crash fails even when documented
    (503, ("200", "400"), True),          # an undocumented 5xx
    (502, ("200", "502"), False),         # a documented upstream failure (issuer unreachable)
    (404, ("200",), False),               # not a server error (status conformance judges it)
])
def test_no_server_error(status: int, documented: tuple[str, ...], fails: bool) -> None:
    response = SimpleNamespace(status_code=status)
    if fails:
        with pytest.raises(ServerError):
            no_server_error(None, response, _case(documented))
    else:
        assert no_server_error(None, response, _case(documented)) is None


def test_credentials_follow_the_security_requirements() -> None:
    key = Credential("X-API-Key", "k" * 20, "ISSUER_API_KEY")
    auth = RoleAuth({"security": [{"ApiKey": []}]}, {"ApiKey": key, "Bearer": None}, [])
    assert auth.for_operation({}) == [key]                                   # the document default
    assert auth.for_operation({"security": []}) == []                        # public operation
    assert auth.for_operation({"security": [{"Bearer": []}, {"ApiKey": []}]}) == [key]   # first one possible
    headers = {"X-API-Key": key.value, "Content-Type": "application/json"}
    body = json.dumps({"issuer_private_key": "secret-scalar", "flow": "x"}).encode()
    call = PreparedCall("POST", "http://issuer.local/v1/offers", headers, body, (key,))
    shown = describe(call)
    assert shown.headers["X-API-Key"] == REDACTED and shown.body == {"issuer_private_key": REDACTED, "flow": "x"}
    assert key.value not in shown.curl and "secret-scalar" not in shown.curl and "$ISSUER_API_KEY" in shown.curl


def test_a_role_without_a_readable_document_is_a_configuration_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conformance.harness import target as target_module
    real = target_module.open_target

    async def with_missing_document(spec: str | None, *, seed: int) -> Any:
        target = await real(spec, seed=seed)
        ledger = target.roles["ledger"]
        target.roles["ledger"] = replace(ledger, extra={**ledger.extra, "openapi": str(tmp_path / "none.json")})
        return target

    monkeypatch.setattr(target_module, "open_target", with_missing_document)
    assert cli.main(["fuzz", "--role", "ledger", "--report-dir", str(tmp_path)]) == 2
    (ledger,) = read(tmp_path)["roles"]
    assert ledger["error"].startswith("cannot read the OpenAPI document") and ledger["requests"] == 0

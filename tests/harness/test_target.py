"""Targets: the embedded reference, target files (interpolation, schema, errors naming file, line
and field), and the example files in fixtures/targets/."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from conformance import paths
from conformance.harness.target import REFERENCE_CONFIG_IDS, TargetError, open_target

pytestmark = pytest.mark.anyio

GOOD = """\
    name: acme-staging
    dialect: tcs
    timeout: 7.5
    poll: {interval: 0.5, timeout: 12}
    roles:
      issuer:
        base_url: https://issuer.acme.test/
        api_key: ${env.ACME_ISSUER_KEY}
        api_keys: {x509: "${ACME_X509_KEY}"}
      verifier:
        base_url: https://verifier.acme.test/api
        api_key: "prefix-$${literal}-${env.ACME_VERIFIER_KEY}"
    config_ids: {default: Degree_v1, identity: urn:acme:id}
    """


def write(tmp_path: Path, text: str, name: str = "target.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACME_ISSUER_KEY", "issuer-secret-0123456789")
    monkeypatch.setenv("ACME_X509_KEY", "x509-secret-0123456789")
    monkeypatch.setenv("ACME_VERIFIER_KEY", "verifier-secret-0123456789")


async def test_a_good_file_opens_with_its_roles_keys_timeout_and_names(tmp_path: Path, env: None) -> None:
    target = await open_target(write(tmp_path, GOOD), seed=0)
    try:
        assert (target.name, target.dialect, target.deployment) == ("acme-staging", "tcs", None)
        assert set(target.roles) == {"issuer", "verifier"}
        assert target.has("issuer") and not target.has("holder") and not target.has("reference")
        issuer, verifier = target.roles["issuer"], target.roles["verifier"]
        assert issuer.base_url == "https://issuer.acme.test"          # trailing slash dropped
        assert issuer.api_key == "issuer-secret-0123456789"
        assert dict(issuer.extra["api_keys"]) == {"x509": "x509-secret-0123456789"}
        assert verifier.base_url == "https://verifier.acme.test/api"
        assert verifier.api_key == "prefix-${literal}-verifier-secret-0123456789"
        assert dict(target.config_ids) == {"default": "Degree_v1", "identity": "urn:acme:id"}
        assert target.http.timeout.read == 7.5 and target.http.timeout.connect == 7.5
        assert (target.poll_interval, target.poll_timeout) == (0.5, 12)
        assert set(target.secrets()) == {"issuer-secret-0123456789", "x509-secret-0123456789",
                                         "prefix-${literal}-verifier-secret-0123456789"}
        described = repr(target.describe())
        assert "secret" not in described and "acme-staging" in described and "x509" in described
    finally:
        await target.aclose()
    assert target.http.is_closed


@pytest.mark.parametrize(("text", "fragments"), [
    pytest.param("dialect: tcs\nroles:\n  issuer:\n    base_url: https://i.test\n    api_key: ${env.ACME_NOT_SET}\n",
                 ["target.yaml:5", "roles.issuer.api_key", "ACME_NOT_SET is not set"], id="missing-env-var"),
    pytest.param("dialect: tcs\nroles:\n  wallet: {base_url: https://w.test}\n",
                 ["target.yaml:3", "unknown member 'wallet'", "issuer, holder, verifier, ledger"], id="unknown-role"),
    pytest.param("dialect: tcs\nroles:\n  issuer: {base_url: https://i.test, api_kee: k}\n",
                 ["target.yaml:3", "roles.issuer", "did you mean 'api_key'"], id="misspelt-member"),
    pytest.param("dialect: tcs\nroles:\n  issuer: {base_url: ftp://i.test}\n",
                 ["target.yaml:3", "roles.issuer.base_url", "base URL"], id="bad-url"),
    pytest.param("dialect: acme\nroles:\n  issuer: {base_url: https://i.test}\n",
                 ["target.yaml:1", "unknown dialect 'acme'", "known: eudiw, orgwallet, tcs"], id="unknown-dialect"),
    pytest.param("dialect: tcs\nroles: {}\n", ["target.yaml:2", "roles"], id="no-roles"),
    pytest.param("roles:\n  issuer: {base_url: https://i.test}\n",
                 ["missing required member 'dialect'", "vendor API"], id="no-dialect"),
    pytest.param("dialect: tcs\ntimeout: fast\nroles:\n  issuer: {base_url: https://i.test}\n",
                 ["target.yaml:2", "timeout"], id="timeout-not-a-number"),
    pytest.param("dialect: tcs\nroles:\n  issuer: {base_url: https://i.test, api_key: '${random.hex8}'}\n",
                 ["target.yaml:3", "${random.hex8} is not allowed in a target file"], id="scenario-template"),
    pytest.param("dialect: tcs\nroles:\n  issuer: [base_url\n", ["target.yaml:", "invalid YAML"], id="yaml-syntax"),
    pytest.param("dialect: tcs\ndialect: tcs\nroles: {}\n", ["target.yaml:2", "duplicate key 'dialect'"],
                 id="duplicate-key"),
    pytest.param("- just\n- a list\n", ["target.yaml:1", "a YAML mapping"], id="not-a-mapping"),
])
async def test_a_malformed_file_is_a_target_error_naming_file_line_and_field(
        tmp_path: Path, text: str, fragments: list[str]) -> None:
    with pytest.raises(TargetError) as caught:
        await open_target(write(tmp_path, text), seed=0)
    for fragment in fragments:
        assert fragment in str(caught.value)


async def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    text = "dialect: acme\ntimeout: -1\nroles:\n  wallet: {base_url: https://w.test}\n"
    with pytest.raises(TargetError) as caught:
        await open_target(write(tmp_path, text), seed=0)
    message = str(caught.value)
    assert "3 problems" in message and "'wallet'" in message and "timeout" in message and "'acme'" in message


async def test_a_missing_file_is_a_target_error(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match="cannot read the target file"):
        await open_target(str(tmp_path / "nowhere.yaml"), seed=0)


async def test_every_unset_variable_is_named(tmp_path: Path) -> None:
    text = ("dialect: tcs\nroles:\n  issuer: {base_url: 'https://${env.ACME_HOST_UNSET}', api_key: '${ACME_KEY_UNSET}'}\n")
    with pytest.raises(TargetError) as caught:
        await open_target(write(tmp_path, text), seed=0)
    assert "ACME_HOST_UNSET" in str(caught.value) and "ACME_KEY_UNSET" in str(caught.value)


@pytest.mark.parametrize("name", ["reference-serve.yaml", "issuer-only.yaml", "verifier-only.yaml"])
async def test_the_example_target_files_open(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("CONFORMANCE_API_KEY", "ISSUER_API_KEY", "VERIFIER_API_KEY"):
        monkeypatch.setenv(variable, f"{variable.lower()}-value-0123456789")
    target = await open_target(str(paths.FIXTURES / "targets" / name), seed=0)
    try:
        assert target.dialect == "tcs" and target.roles and target.deployment is None
        assert all(endpoint.base_url.startswith(("http://", "https://")) for endpoint in target.roles.values())
        assert "default" in target.config_ids
    finally:
        await target.aclose()


async def test_reference_serve_matches_the_serve_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONFORMANCE_API_KEY", "serve-key-0123456789")
    target = await open_target(str(paths.FIXTURES / "targets" / "reference-serve.yaml"), seed=0)
    try:
        ports = {role: endpoint.base_url.rsplit(":", 1)[1] for role, endpoint in target.roles.items()}
        assert ports == {"issuer": "8100", "holder": "8101", "verifier": "8102", "ledger": "8103"}
        assert target.roles["issuer"].api_key == target.roles["verifier"].api_key == "serve-key-0123456789"
    finally:
        await target.aclose()


async def test_the_embedded_reference() -> None:
    target = await open_target(None, seed=3)
    try:
        assert (target.name, target.dialect) == ("reference", "tcs")
        assert set(target.roles) == {"issuer", "holder", "verifier", "ledger"}
        assert target.has("reference") and target.deployment is not None
        assert dict(target.config_ids) == dict(REFERENCE_CONFIG_IDS)
        keys = target.deployment.api_keys
        assert target.roles["issuer"].api_key == keys["issuer"]
        assert dict(target.roles["issuer"].extra["api_keys"]) == {"x509": keys["issuer_x509"],
                                                                  "limited": keys["issuer_limited"]}
        assert target.roles["verifier"].api_key == keys["verifier"]
        described = repr(target.describe())
        assert all(key not in described for key in keys.values())
        response = await target.http.get(target.roles["issuer"].base_url + "/.well-known/openid-credential-issuer/turing")
        assert response.status_code == 200
    finally:
        await target.aclose()


def test_fuzzing_settings_are_read_and_the_token_is_a_secret(tmp_path) -> None:
    import asyncio

    from conformance.harness.target import open_target
    target_file = tmp_path / "t.yaml"
    target_file.write_text(
        "name: t\ndialect: tcs\nroles:\n  holder:\n    base_url: http://127.0.0.1:9\n"
        "    access_token: tok-0123456789\n    openapi: docs/holder.json\n")
    target = asyncio.run(open_target(str(target_file), seed=0))
    try:
        extra = target.roles["holder"].extra
        assert extra["openapi"] == str(tmp_path / "docs" / "holder.json")
        assert "tok-0123456789" in target.secrets()
        assert "tok-0123456789" not in str(target.describe())
    finally:
        asyncio.run(target.aclose())

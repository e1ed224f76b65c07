"""`conformance serve`: the reference over real sockets. All four roles answer on BASE..BASE+3,
an offer is made over HTTP, the process stops cleanly on SIGTERM and Ctrl-C (exit 0), a restart
on the same --db keeps offers and the issuer DID (so it still verifies what it issued), and a
port in use is a one-line error with exit 2. Servers bind 127.0.0.1 and are always stopped."""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import signal
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from conformance.cli import COMMANDS, UsageError
from conformance.cli import serve_cmd
from conformance.cli.serve_cmd import KEY_FILE, PORT_OFFSETS, ReferenceServer, ServeOptions, load_or_create_issuer_key
from conformance.harness.target import open_target
from conformance.net import make_client
from conformance.protocol.jose import b64u_encode, generate_key
from conformance.protocol.sdjwt.serialization import parse_sd_jwt
from conformance.protocol.sdjwt.verification import verify_sd_jwt
from conformance.resolver import DidResolver
from tests.harness.test_webhooks import free_base_port, receive_credential

REPO = Path(__file__).resolve().parents[2]
ROLES = tuple(PORT_OFFSETS)   # issuer, holder, verifier, ledger, eudiw, orgwallet
CONFIG = "TuringCerts_Standard_Credential_v2_sd_jwt"
CLAIMS = {"credentialName": "Served Degree", "issuedTime": "2026-03-26T00:00:00Z"}
API_KEY = "serve-test-key-0123456789abcdef"
# `conformance serve` through the real CLI entry, whether or not COMMANDS lists it yet.
DRIVER = ("import sys, conformance.cli as c\n"
          "m = 'conformance.cli.serve_cmd'\n"
          "c.COMMANDS = c.COMMANDS if m in c.COMMANDS else (*c.COMMANDS, m)\n"
          "sys.exit(c.main(sys.argv[1:]))\n")


# --- the command line -----------------------------------------------------------------------------


def test_serve_is_a_registered_command() -> None:
    assert "conformance.cli.serve_cmd" in COMMANDS


def test_help_explains_ports_keys_state_and_stopping() -> None:
    parser = argparse.ArgumentParser(prog="conformance serve", description=serve_cmd.DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    serve_cmd.add_arguments(parser)
    text = parser.format_help()
    for needle in ("--host", "--port", "--api-key", "--db", "--seed", "--ledger-latency",
                   "--drain-timeout", "8100", "8101", "8102", "8103", KEY_FILE, "0600",
                   "Ctrl-C", "SIGTERM", "exit 2", "TEST-ONLY", "--eudiw-callback-url", "8104", "8105"):
        assert needle in text, needle


def test_bad_options_are_usage_errors() -> None:
    parser = argparse.ArgumentParser()
    serve_cmd.add_arguments(parser)
    for argv in (["--port", "65534"], ["--port", "0"], ["--api-key", " k "], ["--ledger-latency", "-1"],
                 ["--eudiw-callback-url", "ftp://127.0.0.1/cb"], ["--eudiw-callback-url", "http://127.0.0.1:x/cb"],
                 ["--eudiw-callback-url", "callback"]):
        with pytest.raises(UsageError):
            ServeOptions.from_args(parser.parse_args(argv))


@contextmanager
def serve_process(*argv: str) -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    proc = subprocess.Popen([sys.executable, "-u", "-c", DRIVER, "serve", *argv], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(5)
        reader.join(5)
        proc.stdout.close()
        proc.stderr.close()


def banner_of(lines: queue.Queue[str], timeout: float = 10.0) -> list[str]:
    got, deadline = [], time.monotonic() + timeout
    while not got or not got[-1].startswith("Serving;"):
        got.append(lines.get(timeout=max(0.01, deadline - time.monotonic())).rstrip("\n"))
    return got


def snippet_text(banner: list[str], file_name: str = "serve-target.yaml") -> str:
    """The target file printed under `  --- <file_name>`, up to the next heading."""
    start = banner.index(f"  --- {file_name}") + 1
    end = next(i for i in range(start, len(banner)) if not banner[i].startswith("  "))
    return textwrap.dedent("\n".join(banner[start:end]))


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_serves_four_roles_over_sockets_and_stops_cleanly(tmp_path: Path, sig: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    base = free_base_port()
    callback = f"http://127.0.0.1:{free_base_port()}/callback"
    with serve_process("--port", str(base), "--db", str(tmp_path), "--api-key", API_KEY,
                       "--eudiw-callback-url", callback) as (proc, lines):
        banner = banner_of(lines)
        urls = {role: f"http://127.0.0.1:{base + i}" for i, role in enumerate(ROLES)}
        text = "\n".join(banner)
        for role, url in urls.items():
            assert f"{role:<9} {url}" in text
        assert API_KEY in text and "tcs_test_turing_" in text and str(tmp_path) in text
        # The printed target file opens as a target of this deployment.
        snippet = tmp_path / "serve-target.yaml"
        snippet.write_text(snippet_text(banner))
        monkeypatch.setenv("CONFORMANCE_API_KEY", API_KEY)
        target = asyncio.run(open_target(str(snippet), seed=0))
        asyncio.run(target.aclose())
        # The printed target is the tcs dialect's: the other vendors' APIs need their own dialect.
        tcs_roles = ("issuer", "holder", "verifier", "ledger")
        assert {role: endpoint.base_url for role, endpoint in target.roles.items()} == \
            {role: urls[role] for role in tcs_roles}
        assert target.roles["issuer"].api_key == target.roles["verifier"].api_key == API_KEY
        assert f"export CONFORMANCE_API_KEY={API_KEY}" in text
        assert_vendor_targets(banner, tmp_path, urls, callback, monkeypatch)
        with httpx.Client(timeout=5) as http:
            for role, url in urls.items():
                response = http.get(f"{url}/openapi.json")
                assert response.status_code == 200 and response.json()["openapi"].startswith("3."), role
            created = http.post(f"{urls['issuer']}/v1/offers", headers={"X-API-Key": API_KEY},
                                json={"credential": {"config_id": CONFIG, "claims": CLAIMS},
                                      "flow": "pre-authorized"})
            assert created.status_code == 201, created.text
            assert created.json()["credential_offer_uri"].startswith(f"{urls['issuer']}/v1/offers/")
            # The same key is the verifier's: a known key gets 404 for an unknown session, not 401.
            result = http.get(f"{urls['verifier']}/v1/verifier/result/00000000-0000-4000-8000-000000000000",
                              headers={"X-API-Key": API_KEY})
            assert result.status_code == 404, result.text
        proc.send_signal(sig)
        assert proc.wait(15) == 0
        stderr = proc.stderr.read()
        assert "stopped" in stderr and "Traceback" not in stderr
    key_file = tmp_path / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() not in text + stderr  # the deployment's key is never printed
    assert {p.name for p in tmp_path.glob("*.sqlite")} == {f"{r}.sqlite" for r in ROLES}
    for port in (base, base + 3):  # the ports are free again
        socket.create_server(("127.0.0.1", port)).close()


def assert_vendor_targets(banner: list[str], tmp: Path, urls: dict[str, str], callback: str,
                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The eudiw and orgwallet target files printed open as targets of those dialects on this
    deployment: the eudiw target's receiver listens where --eudiw-callback-url points, the
    organisation wallet's printed key is the one its API takes (test_vendor_dialects.py runs
    scenarios, callbacks included, over such a deployment)."""
    from reference.deployment import ORGWALLET_KEY

    text = "\n".join(banner)
    assert ORGWALLET_KEY in text and f"export ORGWALLET_API_KEY={ORGWALLET_KEY}" in text
    monkeypatch.setenv("ORGWALLET_API_KEY", ORGWALLET_KEY)
    for dialect in ("eudiw", "orgwallet"):
        path = tmp / f"{dialect}-target.yaml"
        path.write_text(snippet_text(banner, path.name))
        target = asyncio.run(open_target(str(path), seed=0))
        asyncio.run(target.aclose())
        assert target.dialect == dialect
        assert {role: e.base_url for role, e in target.roles.items()} == {"issuer": urls[dialect],
                                                                          "ledger": urls["ledger"]}
    assert target.roles["issuer"].api_key == ORGWALLET_KEY
    listen = callback.removeprefix("http://").partition("/")[0]
    assert f"  listen: {listen}" in snippet_text(banner, "eudiw-target.yaml")
    with httpx.Client(timeout=5) as http:
        created = http.post(f"{urls['orgwallet']}/v2/config/digital-wallet/openid/sdjwt/credential/issue",
                            headers={"Authorization": f"ApiKey {ORGWALLET_KEY}"},
                            json={"issuanceMode": "InTime", "credentialDefinitionId": "TuringCertsSdJwt",
                                  "credential": {"claims": CLAIMS}})
        assert created.status_code in (200, 201), created.text


def test_port_in_use_is_a_one_line_error_with_exit_2(tmp_path: Path) -> None:
    base = free_base_port()
    busy = socket.create_server(("127.0.0.1", base + 2))
    try:
        with serve_process("--port", str(base), "--db", str(tmp_path / "db")) as (proc, _):
            assert proc.wait(15) == 2
            stderr = proc.stderr.read().strip()
    finally:
        busy.close()
    assert len(stderr.splitlines()) == 1, stderr
    assert f"port {base + 2} (verifier)" in stderr and "already in use" in stderr
    assert not (tmp_path / "db").exists()  # nothing was set up
    socket.create_server(("127.0.0.1", base)).close()  # the ports bound before were released


# --- the issuer key file ------------------------------------------------------------------------


def test_key_file_is_created_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    key, created = load_or_create_issuer_key(path)
    assert created and stat.S_IMODE(path.stat().st_mode) == 0o600
    again, created = load_or_create_issuer_key(path)
    assert not created and again.public.to_jwk() == key.public.to_jwk()


def test_key_file_readable_by_others_or_malformed_is_refused(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE
    secret = b64u_encode(generate_key("EdDSA").raw())
    path.write_text(secret)
    path.chmod(0o644)
    with pytest.raises(UsageError, match="chmod 600"):
        load_or_create_issuer_key(path)
    path.write_text("not-a-key-" + secret[:8])
    path.chmod(0o600)
    with pytest.raises(UsageError, match="not a base64url raw Ed25519") as info:
        load_or_create_issuer_key(path)
    assert secret[:8] not in str(info.value)


# --- a restart keeps offers and the issuer DID ------------------------------------------------------


@pytest.mark.anyio
async def test_restart_with_the_same_db_keeps_offers_and_the_issuer_did(tmp_path: Path) -> None:
    options = ServeOptions(port=free_base_port(), db=tmp_path, ledger_latency=0.01)
    http = make_client()
    try:
        first = await ReferenceServer.start(options)
        try:
            holder = Holder(http, first.urls["holder"])
            await holder.sign_up()
            redeemed = await offer(http, first)
            credential = await holder.receive(redeemed["deep_link"])
            later = await offer(http, first)  # redeemed only after the restart
            did = first.issuer_did
            assert parse_sd_jwt(credential).issuer_jws.header["kid"].startswith(did + "#")
        finally:
            assert await first.stop()

        second = await ReferenceServer.start(options)
        try:
            assert second.issuer_did == did and not second.key_created
            records = await http.get(f"{second.urls['issuer']}/v1/offers/{redeemed['offer_id']}/credentials",
                                     headers={"X-API-Key": second.deployment.api_keys["issuer"]})
            assert records.status_code == 200 and len(records.json()) == 1
            assert records.json()[0]["on_chain_status"] == "COMPLETED"
            # The offer made before the restart is still redeemable, and signed by the same DID.
            holder = Holder(http, second.urls["holder"])
            await holder.sign_up()
            after = await holder.receive(later["deep_link"])
            assert parse_sd_jwt(after).issuer_jws.header["kid"] == parse_sd_jwt(credential).issuer_jws.header["kid"]
            # The restarted ledger still resolves the issuer DID: the old credential verifies.
            sd_jwt = parse_sd_jwt(credential)
            key = await DidResolver(http, second.urls["ledger"]).key_for(sd_jwt.issuer_jws.header["kid"])
            verified = verify_sd_jwt(sd_jwt, issuer_key=key, now=int(time.time()), holder_binding=None)
            assert verified.claims["credentialName"] == CLAIMS["credentialName"]
        finally:
            await second.stop()
    finally:
        await http.aclose()


async def offer(http: httpx.AsyncClient, server: ReferenceServer) -> dict:
    created = await http.post(f"{server.urls['issuer']}/v1/offers",
                              headers={"X-API-Key": server.deployment.api_keys["issuer"]},
                              json={"credential": {"config_id": CONFIG, "claims": CLAIMS},
                                    "flow": "pre-authorized"})
    assert created.status_code == 201, created.text
    return created.json()


class Holder:
    """A user of the reference holder (holder seed §1-§2): sign up, a did:key, receive."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http, self.url = http, url
        self.headers: dict[str, str] = {}
        self.did = self.key = ""

    async def sign_up(self) -> None:
        password = "correct horse battery 9"
        uuid = (await self._post("/v1/user/register", {"name": "Ada", "password": password}, 201))["uuid"]
        token = (await self._post("/v1/user/login", {"uuid": uuid, "password": password}, 200))["access_token"]
        self.headers = {"Authorization": f"Bearer {token}"}
        created = await self._post("/v1/did", {"method": "KEY"}, 201)
        self.did, self.key = created["did"], created["private_key"]

    async def receive(self, deep_link: str) -> str:
        received = await self._post("/v1/oid4vci/receive", {
            "credential_offer_uri": deep_link, "holder_did": self.did, "private_key": self.key}, 201)
        return received["raw_credential"]

    async def _post(self, path: str, body: dict, status: int) -> dict:
        response = await self.http.post(f"{self.url}{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response.json()


@pytest.mark.anyio
async def test_stopping_cuts_off_slow_background_work_which_resumes_after_a_restart(tmp_path: Path) -> None:
    base = free_base_port()
    http = make_client()
    try:
        slow = await ReferenceServer.start(ServeOptions(port=base, db=tmp_path, ledger_latency=5.0,
                                                        drain_timeout=0.2))
        try:
            created = await offer(http, slow)
            await receive_credential(http, created["deep_link"])
        finally:
            started = time.perf_counter()
            assert not await slow.stop()  # the notarization was still running: cut off
            assert time.perf_counter() - started < 2.0

        fast = await ReferenceServer.start(ServeOptions(port=base, db=tmp_path, ledger_latency=0.01))
        try:
            records = f"{fast.urls['issuer']}/v1/offers/{created['offer_id']}/credentials"
            headers = {"X-API-Key": fast.deployment.api_keys["issuer"]}
            (record,) = (await http.get(records, headers=headers)).json()
            assert record["on_chain_status"] in ("PENDING", "IN_PROGRESS")
            await fast.deployment.drain()
            (record,) = (await http.get(records, headers=headers)).json()
            assert record["on_chain_status"] == "COMPLETED" and record["object_id"].startswith("0x")
        finally:
            assert await fast.stop()
    finally:
        await http.aclose()

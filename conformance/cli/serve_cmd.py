"""`conformance serve`: the reference deployment over real HTTP, for outside use.

The four roles of `reference.deployment.build_reference(in_process=False)` each get a uvicorn
server on its own port, all in one asyncio loop; the roles call each other over those sockets.
On SIGINT/SIGTERM the servers keep answering while background work drains (bounded), then stop,
then the stores close.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import shlex
import signal
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.cli import EXIT_OK, UsageError
from conformance.harness.webhooks import WILDCARD_HOSTS, AppServer, bind_socket, http_url
from conformance.protocol.errors import JoseError
from conformance.protocol.jose import PrivateKey, b64u_encode, generate_key, private_key_from_b64u

NAME = "serve"
HELP = "serve the reference issuer, holder, verifier, ledger and vendor APIs over real HTTP"
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8100
# Port offsets from --port: the 8100 issuer, 8101 holder, 8102 verifier, 8103 ledger;
# then the other vendors' management APIs over the same issuer engine (their OID4VCI wire is
# the issuer's, on 8100).
PORT_OFFSETS = {"issuer": 0, "holder": 1, "verifier": 2, "ledger": 3, "eudiw": 4, "orgwallet": 5}
# Seconds between the EUDIW connector's looks for expired sessions: served, nobody drains it.
EUDIW_SWEEP_INTERVAL = 1.0
KEY_FILE = "issuer-did-iota.key"
# The variable fixtures/targets/reference-serve.yaml reads for the issuer and verifier keys.
API_KEY_ENV = "CONFORMANCE_API_KEY"
# The embedded target's logical configuration names (the `config_ids` of a target file).
CONFIG_IDS = {"default": "TuringCerts_Standard_Credential_v2_sd_jwt", "identity": "IdentityCredential",
              "resident": "ResidentCredential"}
VERIFIER_KEY_ENV = "CONFORMANCE_VERIFIER_API_KEY"
# The variable fixtures/targets/orgwallet-serve.yaml reads for the organisation wallet's key.
ORGWALLET_KEY_ENV = "ORGWALLET_API_KEY"
# The organisation wallet's logical configuration names (its credentialDefinitionId values).
ORGWALLET_CONFIG_IDS = {"default": "TuringCertsSdJwt", "identity": "IdentityCredentialSdJwt",
                        "resident": "ResidentCredentialSdJwt"}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})

DESCRIPTION = f"""\
Serve the reference deployment over real HTTP so that wallets, other tools and
`conformance run --target FILE` can use it. Each role listens on its own port:

  issuer    --port + 0   (default http://127.0.0.1:8100)
  holder    --port + 1   (8101)
  verifier  --port + 2   (8102)
  ledger    --port + 3   (8103)
  eudiw     --port + 4   (8104)  EUDIW connector management API (POST /offers)
  orgwallet --port + 5   (8105)  organisation wallet API (/v2/config/digital-wallet/...)

It prints the URLs, the API keys and a target file for each dialect (tcs, eudiw,
orgwallet), then serves until Ctrl-C or
SIGTERM. Stopping lets background work (notarizations, webhooks) finish for up to
--drain-timeout seconds while the servers still answer (an unfinished notarization resumes
at the next start), then stops the servers, closes the stores and exits 0. A second Ctrl-C
skips the wait. A port already in use (or a host it cannot listen on) is a one-line error,
exit 2.

State. The SQLite files (issuer.sqlite, holder.sqlite, verifier.sqlite, ledger.sqlite) live
in --db DIR; started again with the same DIR (and the same ports) the deployment knows every
offer, credential, user, DID and ledger object. Without --db a fresh temporary directory is
used; it is printed and kept, so you can restart with --db.

The issuer's key. The default did:iota issuer signs with the deployment's own Ed25519 key,
kept in DIR/{KEY_FILE} (base64url raw key, mode 0600; created on the first start). A
restarted deployment thus keeps its issuer DID, redeems offers made before the restart and
still resolves the credentials it issued. The key is a secret of whoever runs the deployment:
it is never printed or logged, and a key file that group or others may read is refused.
Deleting it gives the issuer a new key and a new DID.

API keys (X-API-Key). The issuer's fixture tenants (fixtures/issuer/tenants.yaml) have
TEST-ONLY keys: turing (did:iota, any configuration), haip (X.509: IdentityCredential,
ResidentCredential), limited (one configuration). --api-key KEY (or ${API_KEY_ENV})
adds a tenant `default` with full access under KEY, and KEY is also the verifier's API key;
without it the verifier's key is random for each start. All are printed at start. (A key
on the command line is visible to other local users in the process list; the environment
variable is not.)

The organisation wallet's API takes `Authorization: ApiKey <key>` with its TEST-ONLY fixture
key (printed); the EUDIW connector's management API is open, as its seed has it (internal
network only).

Webhooks. The issuer POSTs `credential.notarized` callbacks from this process to an offer's
callback_url, which must be https, or http to a loopback host (127.0.0.1, ::1, localhost).
The EUDIW connector posts its issuance callbacks (OFFER_CREATED, ISSUED, FAILED, EXPIRED) to
the one URL given with --eudiw-callback-url (none without it); the printed eudiw target file
then has the harness's receiver listen there.

Examples:
  conformance serve
  conformance serve --db ./serve-data --api-key "$(openssl rand -hex 16)"
  conformance serve --port 9100 --ledger-latency 0.5
  conformance serve --eudiw-callback-url http://127.0.0.1:8906/callback
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"address to listen on (default: {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, metavar="BASE",
                        help=f"base port: issuer BASE, holder BASE+1, verifier BASE+2, ledger "
                             f"BASE+3 (default: {DEFAULT_PORT})")
    parser.add_argument("--public-host", default=None, metavar="NAME",
                        help="host name the roles advertise in their URLs (offer URIs, issuer "
                             "identifiers); default: --host, or 127.0.0.1 when --host is a "
                             "wildcard such as 0.0.0.0")
    parser.add_argument("--api-key", default=os.environ.get(API_KEY_ENV), metavar="KEY",
                        help=f"add a full-access issuer tenant `default` with this X-API-Key and "
                             f"use it as the verifier's API key too (default: ${API_KEY_ENV})")
    parser.add_argument("--eudiw-callback-url", default=None, metavar="URL",
                        help="where the EUDIW connector posts its issuance callbacks (http or https "
                             "URL; default: no callbacks)")
    parser.add_argument("--db", default=None, metavar="DIR",
                        help="directory of the SQLite files and the issuer key file (default: a "
                             "fresh temporary directory, printed)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="seed of the ledger's simulated failures (default: 0)")
    parser.add_argument("--ledger-latency", type=float, default=0.05, metavar="SECONDS",
                        help="time the ledger spends in each notarization step, so PENDING and "
                             "IN_PROGRESS are observable (default: 0.05)")
    parser.add_argument("--drain-timeout", type=float, default=10.0, metavar="SECONDS",
                        help="how long stopping waits for background work (default: 10)")
    parser.add_argument("--log-level", default="warning",
                        choices=["critical", "error", "warning", "info", "debug"],
                        help="log level of the roles and uvicorn (default: warning)")
    parser.add_argument("--access-log", action="store_true",
                        help="log every request line (method, path, status)")


# --- options -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ServeOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    public_host: str | None = None
    api_key: str | None = field(default=None, repr=False)
    db: str | Path | None = None
    seed: int = 0
    ledger_latency: float = 0.05
    drain_timeout: float = 10.0
    log_level: str = "warning"
    access_log: bool = False
    eudiw_callback_url: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ServeOptions:
        if not 1 <= args.port <= 65535 - 3:
            raise UsageError(f"--port {args.port}: the base port must be within 1-65532 (the "
                             "roles take BASE to BASE+3)")
        if args.api_key is not None and (not args.api_key.strip() or args.api_key != args.api_key.strip()):
            raise UsageError("--api-key: must be non-empty, without surrounding whitespace")
        if args.ledger_latency < 0 or args.drain_timeout < 0:
            raise UsageError("--ledger-latency and --drain-timeout must not be negative")
        callback = getattr(args, "eudiw_callback_url", None)
        if callback is not None:
            _check_callback_url(callback)
        return cls(host=args.host, port=args.port, public_host=args.public_host,
                   api_key=args.api_key, db=Path(args.db) if args.db else None, seed=args.seed,
                   ledger_latency=args.ledger_latency, drain_timeout=args.drain_timeout,
                   log_level=args.log_level, access_log=args.access_log, eudiw_callback_url=callback)

    def ports(self) -> dict[str, int]:
        return {role: self.port + offset for role, offset in PORT_OFFSETS.items()}

    def urls(self) -> dict[str, str]:
        host = self.public_host or ("127.0.0.1" if self.host in WILDCARD_HOSTS else self.host)
        return {role: http_url(host, port) for role, port in self.ports().items()}


def _check_callback_url(url: str) -> None:
    parts = urlsplit(url)
    try:
        valid_port = parts.port is not None or ":" not in parts.netloc.rpartition("@")[2].rpartition("]")[2]
    except ValueError:   # a port that is not a number or out of range
        valid_port = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not valid_port:
        raise UsageError(f"--eudiw-callback-url {url!r}: must be an http or https URL with a host, "
                         "e.g. http://127.0.0.1:8906/callback")


# --- the issuer's key file ---------------------------------------------------------------------


def load_or_create_issuer_key(path: Path) -> tuple[PrivateKey, bool]:
    """(key, created). The file holds the base64url raw Ed25519 key, readable by its owner only."""
    if not path.exists():
        key = generate_key("EdDSA")
        # O_EXCL + mode at creation: the key is never readable by others, not even briefly.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(b64u_encode(key.raw()) + "\n")
        return key, True
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise UsageError(f"{path}: the issuer key file may be read by group or others (mode "
                         f"{mode:04o}); run `chmod 600 {path}`")
    try:
        return private_key_from_b64u(path.read_text().strip(), "EdDSA", KEY_FILE), False
    except (JoseError, UnicodeDecodeError):
        raise UsageError(f"{path}: not a base64url raw Ed25519 private key; delete it to give "
                         "the issuer a new key (and a new DID)") from None


def _db_dir(db: str | Path | None) -> tuple[Path, bool]:
    """(directory, is a fresh temporary one)."""
    if db is None:
        return Path(tempfile.mkdtemp(prefix="conformance-serve-")), True
    db = Path(db)
    try:
        db.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--db {db}: cannot create the directory ({exc.strerror})") from None
    if not db.is_dir():
        raise UsageError(f"--db {db}: not a directory")
    return db, False


# --- sockets -------------------------------------------------------------------------------------


def bind_role_sockets(options: ServeOptions) -> dict[str, Any]:
    """Every role's listening socket, bound before anything else starts: a port in use fails
    the whole start with one line."""
    bound: dict[str, Any] = {}
    try:
        for role, port in options.ports().items():
            try:
                bound[role] = bind_socket(options.host, port)   # with TCP_NODELAY
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise UsageError(f"port {port} ({role}) on {options.host} is already in use; "
                                     f"stop what uses it or pick another base with --port") from None
                raise UsageError(f"cannot listen on {options.host}:{port} ({role}): "
                                 f"{exc.strerror or exc}") from None
    except BaseException:
        for sock in bound.values():
            sock.close()
        raise
    return bound


# --- the served deployment -------------------------------------------------------------------


@dataclass
class ReferenceServer:
    """The reference roles served on sockets in the running loop."""

    options: ServeOptions
    db_dir: Path
    temporary_db: bool
    key_created: bool
    deployment: Any
    servers: dict[str, AppServer]
    issuer_did: str

    @property
    def urls(self) -> dict[str, str]:
        return dict(self.deployment.urls)

    @classmethod
    async def start(cls, options: ServeOptions) -> ReferenceServer:
        sockets = bind_role_sockets(options)
        servers: dict[str, AppServer] = {}
        deployment = None
        try:
            db_dir, temporary = _db_dir(options.db)
            key, created = load_or_create_issuer_key(db_dir / KEY_FILE)
            deployment = _build(options, db_dir, key)
            for role, sock in sockets.items():
                servers[role] = AppServer(deployment.apps[role], sock, log_level=options.log_level,
                                          access_log=options.access_log)
                await servers[role].start()
            # Registers the issuer DID on first start (over the ledger's socket), so it is known
            # before the first offer and printed.
            identity = await deployment.services["issuer"].default_issuer.identity()
        except BaseException:
            await asyncio.gather(*(s.stop() for s in servers.values()), return_exceptions=True)
            for sock in sockets.values():
                sock.close()
            if deployment is not None:
                await deployment.aclose()
            raise
        return cls(options, db_dir, temporary, created, deployment, servers, identity.did)

    async def stop(self, abort: asyncio.Event | None = None) -> bool:
        """Drain (bounded; `abort` cuts it short), stop the servers, close the stores. False when
        background work was cut off."""
        abort = abort or asyncio.Event()
        drained = await _bounded(self.deployment.drain(), self.options.drain_timeout, abort)
        await asyncio.gather(*(server.stop() for server in self.servers.values()))
        if not drained:
            await self.deployment.cancel_background()
        # aclose drains once more: nothing is left by now, so this is brief.
        await _bounded(self.deployment.aclose(), 5.0, abort)
        return drained


def _build(options: ServeOptions, db_dir: Path, key: PrivateKey) -> Any:
    from reference.deployment import build_reference

    return build_reference(db_dir=db_dir, seed=options.seed,
                           ledger_latency=options.ledger_latency, urls=options.urls(),
                           verifier_api_key=options.api_key, issuer_api_key=options.api_key,
                           issuer_key=key, in_process=False,
                           eudiw_callback_url=options.eudiw_callback_url,
                           eudiw_sweep_interval=EUDIW_SWEEP_INTERVAL)


async def _bounded(work: Any, timeout: float, abort: asyncio.Event) -> bool:
    """Run `work` for up to `timeout` seconds or until `abort`; cancel it then (cancelling a
    drain cancels the background tasks it waits for). True when it finished."""
    task = asyncio.ensure_future(work)
    aborted = asyncio.ensure_future(abort.wait())
    done, _ = await asyncio.wait({task, aborted}, timeout=timeout,
                                 return_when=asyncio.FIRST_COMPLETED)
    aborted.cancel()
    if task in done:
        return task.exception() is None
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return False


# --- what is printed ----------------------------------------------------------------------------


def api_keys(server: ReferenceServer) -> list[tuple[str, str]]:
    """(label, key) for every key a client may send."""
    keys = server.deployment.api_keys
    rows = []
    if server.options.api_key:
        rows.append(("issuer, tenant default (--api-key; all configurations)", server.options.api_key))
    return rows + [
        ("issuer, tenant turing (did:iota; TEST-ONLY fixture key)", keys["issuer"]),
        ("issuer, tenant haip (X.509; TEST-ONLY fixture key)", keys["issuer_x509"]),
        ("issuer, tenant limited (one configuration; TEST-ONLY)", keys["issuer_limited"]),
        ("verifier" + (" (--api-key)" if server.options.api_key else " (random for this start)"),
         keys["verifier"]),
        ("orgwallet (Authorization: ApiKey; TEST-ONLY fixture key)", keys["orgwallet"]),
    ]


def target_file(server: ReferenceServer) -> tuple[dict[str, str], str]:
    """(environment to export, target file) of the tcs dialect for this deployment, in the
    format of fixtures/schemas/target.schema.yaml. Keys that are not public fixtures come from
    the environment, as the schema asks."""
    keys, urls = server.deployment.api_keys, server.urls
    if server.options.api_key:
        env = {API_KEY_ENV: server.options.api_key}
        issuer_key, verifier_key = f"${{env.{API_KEY_ENV}}}", f"${{env.{API_KEY_ENV}}}"
    else:
        env = {VERIFIER_KEY_ENV: keys["verifier"]}
        issuer_key, verifier_key = keys["issuer"], f"${{env.{VERIFIER_KEY_ENV}}}"
    lines = ["name: reference-serve", "dialect: tcs", "poll: {interval: 0.2, timeout: 20}", "roles:",
             "  issuer:", f"    base_url: {urls['issuer']}", f"    api_key: {issuer_key}",
             "    api_keys:  # TEST-ONLY fixture tenants (fixtures/issuer/tenants.yaml)",
             f"      x509: {keys['issuer_x509']}", f"      limited: {keys['issuer_limited']}",
             "  holder:", f"    base_url: {urls['holder']}",
             "  verifier:", f"    base_url: {urls['verifier']}", f"    api_key: {verifier_key}",
             "  ledger:", f"    base_url: {urls['ledger']}", "config_ids:"]
    lines += [f"  {name}: {config_id}" for name, config_id in CONFIG_IDS.items()]
    lines += ["webhooks:", "  listen: 127.0.0.1:0  # the reference issuer calls loopback http callbacks"]
    return env, "\n".join(lines)


def _vendor_target(server: ReferenceServer, dialect: str, issuer: list[str],
                   config_ids: dict[str, str]) -> list[str]:
    """The lines every vendor dialect's target file shares: its API as the issuer role, the
    ledger that resolves the engine's did:iota key, its configuration names."""
    lines = [f"name: {dialect}-serve", f"dialect: {dialect}", "poll: {interval: 0.2, timeout: 20}", "roles:",
             "  issuer:", f"    base_url: {server.urls[dialect]}", *issuer,
             "  ledger:", f"    base_url: {server.urls['ledger']}", "config_ids:"]
    return lines + [f"  {name}: {config_id}" for name, config_id in config_ids.items()]


def eudiw_target_file(server: ReferenceServer) -> tuple[dict[str, str], str]:
    """The eudiw dialect's target file (as fixtures/targets/eudiw-serve.yaml): the harness's
    webhook receiver listens where --eudiw-callback-url points, when that is a loopback http
    address this machine can listen on."""
    lines = _vendor_target(server, "eudiw", [], CONFIG_IDS)
    callback = server.options.eudiw_callback_url
    parts = urlsplit(callback) if callback else None
    if parts is not None and parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        lines += ["webhooks:", f"  listen: {parts.hostname}:{parts.port or 80}  # = --eudiw-callback-url"]
    elif parts is not None:
        lines += ["webhooks:", f"  public_url: {callback}  # = --eudiw-callback-url; set listen to where it arrives"]
    else:
        lines += ["# no --eudiw-callback-url: the callback scenarios (tag callbacks) will see no callback"]
    return {}, "\n".join(lines)


def orgwallet_target_file(server: ReferenceServer) -> tuple[dict[str, str], str]:
    """The orgwallet dialect's target file (as fixtures/targets/orgwallet-serve.yaml)."""
    lines = _vendor_target(server, "orgwallet", [f"    api_key: ${{env.{ORGWALLET_KEY_ENV}}}  # Authorization: ApiKey"],
                           ORGWALLET_CONFIG_IDS)
    return {ORGWALLET_KEY_ENV: server.deployment.api_keys["orgwallet"]}, "\n".join(lines)


# (dialect, file name to save it as, its target file)
TARGET_FILES = (("tcs", "serve-target.yaml", target_file),
                ("eudiw", "eudiw-target.yaml", eudiw_target_file),
                ("orgwallet", "orgwallet-target.yaml", orgwallet_target_file))


def banner(server: ReferenceServer) -> str:
    urls = server.urls
    out = ["conformance serve: the reference deployment over HTTP"]
    out += [f"  {role:<9} {urls[role]}" for role in PORT_OFFSETS]
    note = " (a fresh temporary directory; restart with --db to keep using it)" if server.temporary_db else ""
    out.append(f"data: {server.db_dir}{note}")
    out.append(f"issuer DID: {server.issuer_did} (key {'created in' if server.key_created else 'from'} "
               f"{server.db_dir / KEY_FILE}; keep that file private)")
    out.append("API keys (X-API-Key):")
    out += [f"  {label:<58} {key}" for label, key in api_keys(server)]
    for dialect, file_name, make in TARGET_FILES:
        env, text = make(server)
        out.append(f"Target file ({dialect} dialect): "
                   + ("export the variable, " if env else "")
                   + f"save the YAML below as {file_name} and run `conformance run --target {file_name}`:")
        out += [f"  export {name}={shlex.quote(value)}" for name, value in env.items()]
        out.append(f"  --- {file_name}")
        out += [f"  {line}" for line in text.splitlines()]
    out.append("Serving; press Ctrl-C to stop.")
    return "\n".join(out)


# --- the command ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    options = ServeOptions.from_args(args)
    logging.basicConfig(level=options.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return asyncio.run(serve(options))


async def serve(options: ServeOptions) -> int:
    stop, abort = asyncio.Event(), asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        # First signal: stop gracefully. Second: skip waiting for background work.
        (abort if stop.is_set() else stop).set()

    server = await ReferenceServer.start(options)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        print(banner(server), flush=True)
        await stop.wait()
        print("stopping: finishing background work (Ctrl-C again to skip)", file=sys.stderr,
              flush=True)
        drained = await server.stop(abort)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    print("stopped" + ("" if drained else "; unfinished notarizations resume at the next start"),
          file=sys.stderr, flush=True)
    return EXIT_OK

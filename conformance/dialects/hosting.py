"""Apps the harness hosts for a scenario (a Verifier, an issuer double), reachable by the target's
deployment: in-process on the embedded reference's network, else on a socket of the webhook
receiver's listen host. Served until the scenario ends."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from conformance.dialects.base import StepContext

_hosts = itertools.count(1)


class _App(Protocol):
    base_url: str

    def app(self) -> Any: ...


Hosted = TypeVar("Hosted", bound=_App)


async def host(ctx: StepContext, name: str, build: Callable[[str], Hosted]) -> Hosted:
    """Build a harness-hosted app with the base URL the target's deployment reaches it at, serve it
    until the scenario ends."""
    network = getattr(ctx.target.deployment, "network", None)
    if network is not None:
        hosted = build(f"https://{name}-{next(_hosts)}.local")
        base = hosted.base_url
        network.mount(base, hosted.app())

        async def unmount() -> None:
            network.unmount(base)

        ctx.cleanups.append(unmount)
        return hosted
    from conformance.harness.webhooks import WILDCARD_HOSTS, AppServer, WebhookSettings, bind_socket, http_url
    listen = WebhookSettings.parse(getattr(ctx.target, "webhooks", None)).listen_host
    sock = bind_socket(listen, 0)
    address = "127.0.0.1" if listen in WILDCARD_HOSTS else listen
    hosted = build(http_url(address, int(sock.getsockname()[1])))
    server = AppServer(hosted.app(), sock)
    await server.start()
    ctx.cleanups.append(server.stop)
    return hosted

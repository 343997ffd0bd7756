"""A client's own X-Forwarded-For does not get through the balancer (deploy/nginx/balancer.conf).

One instance (`python -m web serve`, its own SQLite) trusts X-Forwarded-For from the balancer
only (TRUSTED_PROXIES=127.0.0.1). Through the balancer, a client sending a forged header is
still counted by its real address: the general rate limit catches it however it rotates the
header, and the access log names the real peer. The same instance behind a balancer that
appends instead of replacing ($proxy_add_x_forwarded_for) does let the forged addresses
through, so the balancer's overwrite is what this test holds in place.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.support.nginx import require_nginx, running_nginx
from tests.support.server import ROOT, ServerProcess, free_port, server_environment

BALANCER = ROOT / "deploy" / "nginx" / "balancer.conf"
REPLACE = "proxy_set_header X-Forwarded-For $remote_addr;"
APPEND = "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;"
LIMIT = 6  # requests a minute from one address


@pytest.fixture
def instance(tmp_path):
    require_nginx()
    env = server_environment(
        tmp_path / "data",
        None,  # a SQLite database of its own
        TRUSTED_PROXIES="127.0.0.1",
        RATE_LIMIT_PER_MINUTE=str(LIMIT),
        LOG_LEVEL="INFO",  # the access log
        RUN_WORKER_IN_WEB="false",
    )
    server = ServerProcess(env).start()
    try:
        yield server
    finally:
        server.stop()


def balancer_config(instance: ServerProcess, listen: int, directory: Path, header: str) -> str:
    config = BALANCER.read_text()
    assert REPLACE in config  # the line this test is about
    values = {
        "@APP_SERVERS@": f"server {instance.url.removeprefix('http://')};",
        "@LISTEN@": f"127.0.0.1:{listen}",
        "@SERVER_NAME@": "127.0.0.1",
        "@ACCESS_LOG@": str(directory / "access.log"),
    }
    for placeholder, value in values.items():
        config = config.replace(placeholder, value)
    return config.replace(REPLACE, header)


async def forged_requests(listen: int, first_octet: int, count: int) -> list[int]:
    """`count` requests, each claiming another address in X-Forwarded-For."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{listen}", timeout=30) as client:
        return [
            (
                await client.get(
                    "/services", headers={"X-Forwarded-For": f"{first_octet}.2.3.{n + 1}"}
                )
            ).status_code
            for n in range(count)
        ]


def clients_logged(instance: ServerProcess, path: str, at_least: int) -> list[str]:
    """The client addresses the instance's JSON access log gives for `path`, once it has
    `at_least` of them (a request is logged just after its answer is sent)."""
    deadline = time.monotonic() + 10
    while True:
        clients = []
        for line in instance.log().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if entry.get("event") == "request" and entry.get("path") == path:
                clients.append(entry["client"])
        if len(clients) >= at_least or time.monotonic() > deadline:
            return clients
        time.sleep(0.05)


@pytest.mark.timeout(120)
async def test_a_forged_forwarded_for_through_the_balancer_is_ignored(instance, tmp_path):
    listen = free_port()
    directory = tmp_path / "nginx"
    directory.mkdir()
    config = balancer_config(instance, listen, directory, REPLACE)
    with running_nginx(config, directory, ports=(listen,)):
        statuses = await forged_requests(listen, 1, LIMIT + 2)
    # Counted as one client (the balancer's peer, 127.0.0.1): over the limit whatever it sent.
    assert statuses[-1] == 429, statuses
    assert statuses.count(200) <= LIMIT
    logged = clients_logged(instance, "/services", LIMIT + 2)
    assert len(logged) == LIMIT + 2
    assert set(logged) == {"127.0.0.1"}, logged  # never 1.2.3.x

    # The control: a balancer that appends passes the forged addresses on, and the instance
    # believes them (fresh limits, forged clients in the log). This is what the overwrite stops.
    listen = free_port()
    directory = tmp_path / "nginx-appending"
    directory.mkdir()
    config = balancer_config(instance, listen, directory, APPEND)
    with running_nginx(config, directory, ports=(listen,)):
        statuses = await forged_requests(listen, 5, LIMIT + 2)
    assert statuses == [200] * (LIMIT + 2)
    forged = {f"5.2.3.{n + 1}" for n in range(LIMIT + 2)}
    assert forged <= set(clients_logged(instance, "/services", 2 * (LIMIT + 2)))

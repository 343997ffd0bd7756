"""Two app instances behind a real nginx (deploy/nginx/balancer.conf), sharing only the
engines: PostgreSQL, Redis and SeaweedFS. Consecutive requests go to different instances;
then one instance is killed and the user carries on."""

from __future__ import annotations

import os
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path

import httpx
import pytest

from tests.support.database import in_ci
from tests.support.nginx import running_nginx
from tests.support.server import ROOT, ServerProcess, free_port, server_environment
from tests.support.web import act_for, csrf_token, sign_in

BALANCER = ROOT / "deploy" / "nginx" / "balancer.conf"
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
PDF = (Path(__file__).resolve().parents[1] / "fixtures" / "invoice.pdf").read_bytes()
SECRET = "one-secret-for-every-instance-0123456789abcdef"
COMPANY = "Xəzər Logistika MMC"


def require(condition: bool, reason: str) -> None:
    if not condition:
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture
def engines(test_database, seaweedfs, tmp_path) -> dict[str, str]:
    if test_database.kind != "postgres":  # the PostgreSQL pass of `make test` runs it
        pytest.skip("two instances share one PostgreSQL: runs with TEST_DATABASE=postgres")
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).ping()
    except redis.RedisError as error:
        require(False, f"Redis is not reachable at {REDIS_URL}: {error}")
    seaweedfs.create_bucket("instances")
    return {
        **seaweedfs.environment("instances"),
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": SECRET,
        "ASAN_DEMO_CA_DIR": str(tmp_path / "shared-asan-ca"),
        "TRUSTED_PROXIES": "127.0.0.1",
        "RUN_WORKER_IN_WEB": "false",
    }


def start_instance(settings, engines: dict[str, str], data_dir: Path) -> ServerProcess:
    env = server_environment(data_dir, settings.database_url)
    env.update(engines)  # after: server_environment drops SECRET_KEY
    return ServerProcess(env).start()


def requests_in(access_log: Path) -> list[tuple[str, str, int, str]]:
    """(method, path, status, upstreams tried) per request the balancer passed on."""
    rows = []
    for line in access_log.read_text().splitlines():
        method, path, status, upstream, _statuses = line.split("|")
        rows.append((method, path, int(status), upstream))
    return rows


async def a_document(client: httpx.AsyncClient) -> tuple[str, bytes]:
    """Upload a document; return its file's download path and the bytes sent."""
    body = PDF + os.urandom(16)  # the bytes of this run, to compare after the download
    await client.post("/documents/obligation", data={"_csrf_token": await csrf_token(client)})
    response = await client.post(
        "/documents/new",
        data={
            "_csrf_token": await csrf_token(client),
            "kind": "invoice",
            "number": f"LB-{os.getpid()}",
            "issued_on-day": "3",
            "issued_on-month": "11",
            "issued_on-year": "2026",
            "declaration_number": "",
            "note": "",
        },
        files=[("files", ("lb.pdf", body, "application/pdf"))],
    )
    assert response.status_code == 200, response.text[-2000:]
    listing = (await client.get("/documents")).text
    document_id = max(int(i) for i in re.findall(r'href="/documents/(\d+)"', listing))
    page = (await client.get(f"/documents/{document_id}")).text
    return re.search(rf'href="(/documents/{document_id}/files/\d+)"', page).group(1), body


async def look_up_and_appeal(client: httpx.AsyncClient, subject: str) -> None:
    form = (await client.get("/letters")).text
    body_id = re.search(r'<option value="(\d+)"[^>]*>Bakı Baş Gömrük İdarəsi<', form).group(1)
    found = await client.get(
        "/letters/track",
        params={
            "body": body_id,
            "number": "M-1024/2026",
            "registered-day": "03",
            "registered-month": "11",
            "registered-year": "2026",
        },
    )
    assert found.status_code == 200 and "Elnur Həsənov" in found.text
    appeal = await client.post(
        "/letters/new",
        data={
            "_csrf_token": await csrf_token(client),
            "body": body_id,
            "subject": subject,
            "text": "Balanslaşdırıcı arxasından",
        },
        files=[("files", ("", b"", "application/octet-stream"))],
        follow_redirects=False,
    )
    assert appeal.status_code == 303, appeal.text[-2000:]
    assert "/accepted" in appeal.headers["location"]


@pytest.mark.timeout(240)
async def test_two_instances_behind_nginx_then_one_is_killed(settings, engines, tmp_path):
    first = start_instance(settings, engines, tmp_path / "first")  # migrates and seeds first
    second = start_instance(settings, engines, tmp_path / "second")
    listen = free_port()
    access_log = tmp_path / "nginx" / "access.log"
    servers = {
        "@APP_SERVERS@": "\n    ".join(
            f"server {process.url.removeprefix('http://')} max_fails=1 fail_timeout=30s;"
            for process in (first, second)
        ),
        "@LISTEN@": f"127.0.0.1:{listen}",
        "@SERVER_NAME@": "127.0.0.1",
        "@ACCESS_LOG@": str(access_log),
    }
    config = BALANCER.read_text()
    for placeholder, value in servers.items():
        config = config.replace(placeholder, value)
    (tmp_path / "nginx").mkdir()
    try:
        with running_nginx(config, tmp_path / "nginx", ports=(listen,)):
            async with httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{listen}", follow_redirects=True, timeout=30
            ) as client:
                signed_in = await sign_in(client, "vetendas")
                assert signed_in.status_code == 303
                await act_for(client, COMPANY)
                download, sent = await a_document(client)
                got = await client.get(download)
                assert got.status_code == 200 and got.content == sent
                assert got.headers["x-content-type-options"] == "nosniff"
                await look_up_and_appeal(client, "Birinci instansiya")

                before_kill = requests_in(access_log)
                upstreams = [upstream for *_, upstream in before_kill]
                assert set(upstreams) == {first.url[7:], second.url[7:]}
                # Round robin: consecutive requests went to different instances.
                switches = sum(a != b for a, b in pairwise(upstreams))
                assert switches >= len(upstreams) // 2

                first.kill()
                assert (await client.get("/documents")).status_code == 200  # still signed in
                again = await client.get(download)
                assert again.status_code == 200 and again.content == sent
                await look_up_and_appeal(client, "Biri öldükdən sonra")
        rows = requests_in(access_log)
        errors = [row for row in rows if row[2] >= 500]
        served = Counter(upstream.split(",")[-1].strip() for *_, upstream in rows)
        passed_on = [row for row in rows if "," in row[3]]  # tried the dead one, then the other
        print(
            f"two instances: {len(rows)} requests, {len(errors)} errors, served by "
            f"{dict(served)}, {len(passed_on)} passed on after the kill"
        )
        assert errors == []
        assert served[second.url[7:]] > 0 and served[first.url[7:]] > 0
    finally:
        second.stop()
        if first.process and first.process.poll() is None:
            first.stop()

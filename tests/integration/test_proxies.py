"""TRUSTED_PROXIES: the client address comes from X-Forwarded-For only through a trusted peer."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from litestar import Request, get

from web.app import create_app
from web.platform.middleware import client_address
from web.settings import SettingsError, load_settings


@get("/_probe/address")
async def probe_address(request: Request) -> dict[str, str]:
    return {"client": client_address(request)}


async def _address_seen(settings, peer: str, forwarded_for: str | None) -> str:
    app = create_app(settings, extra_route_handlers=[probe_address])
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/_probe/address", headers=headers)
    return response.json()["client"]


async def test_forwarded_for_is_used_only_from_a_trusted_peer(settings):
    behind = replace(settings, trusted_proxies=("10.0.0.0/8", "192.0.2.1"))
    # Through the trusted proxy chain: the rightmost untrusted hop is the client.
    assert await _address_seen(behind, "192.0.2.1", "198.51.100.7, 10.1.2.3") == "198.51.100.7"
    # A client cannot choose an address by prepending its own entry.
    assert await _address_seen(behind, "192.0.2.1", "1.1.1.1, 198.51.100.7") == "198.51.100.7"
    # From a peer that is not trusted, the header is ignored.
    assert await _address_seen(behind, "203.0.113.5", "198.51.100.7") == "203.0.113.5"
    # Without TRUSTED_PROXIES (the default) nobody is trusted.
    assert await _address_seen(settings, "192.0.2.1", "198.51.100.7") == "192.0.2.1"


async def test_rate_limit_counts_each_client_behind_the_proxy(settings):
    """Behind a trusted proxy two clients have separate limits; an untrusted peer's forged
    header does not give it a fresh one."""
    limited = replace(settings, rate_limit_per_minute=2, trusted_proxies=("192.0.2.1",))
    app = create_app(limited, extra_route_handlers=[probe_address])

    async def statuses(peer: str, forwarded_for: str, count: int) -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            headers = {"x-forwarded-for": forwarded_for}
            return [
                (await client.get("/_probe/address", headers=headers)).status_code
                for _ in range(count)
            ]

    assert await statuses("192.0.2.1", "198.51.100.1", 3) == [200, 200, 429]
    assert await statuses("192.0.2.1", "198.51.100.2", 2) == [200, 200]
    assert await statuses("203.0.113.5", "198.51.100.3", 3) == [200, 200, 429]
    assert await statuses("203.0.113.5", "198.51.100.4", 1) == [429]


def test_trusted_proxies_setting_is_parsed_and_checked(monkeypatch):
    monkeypatch.setenv("TRUSTED_PROXIES", " 10.0.0.0/8, 127.0.0.1 ,::1")
    assert load_settings().trusted_proxies == ("10.0.0.0/8", "127.0.0.1", "::1")
    monkeypatch.setenv("TRUSTED_PROXIES", "proxy.example")
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        load_settings()
    monkeypatch.delenv("TRUSTED_PROXIES")
    assert load_settings().trusted_proxies == ()

"""Regressions found by a review of the sign-in, session and limit changes."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from litestar.testing import AsyncTestClient

from tests.integration.test_egov_oidc import DOUBLE, _claims, _double, _egov_settings, _sign
from tests.support.web import sign_in
from web.app import create_app
from web.identity import egov_oidc
from web.platform.middleware import limit_key

pytestmark = pytest.mark.usefixtures("seeded")


async def test_a_request_in_flight_cannot_bring_a_signed_out_session_back(make_app):
    app = make_app(session_idle_seconds=10)  # `seen` is written back after a second
    async with AsyncTestClient(app=app) as client:
        await sign_in(client, "vetendas2", expect=303, party="")
        old = client.cookies.get("session")
        token = client.cookies.get("csrftoken")
        assert (await client.get("/letters/mine", follow_redirects=False)).status_code == 200
        await asyncio.sleep(1.2)
        gate = asyncio.Event()

        async def body():
            yield (
                b'--b\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n'
                + token.encode()
                + b"\r\n"
            )
            await gate.wait()
            yield b'--b\r\nContent-Disposition: form-data; name="subject"\r\n\r\nhi\r\n--b--\r\n'

        cookies = {"session": old, "csrftoken": token}
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as other_tab:
            slow = asyncio.create_task(
                other_tab.post(
                    "/letters/new",
                    content=body(),
                    headers={"content-type": "multipart/form-data; boundary=b"},
                )
            )
            await asyncio.sleep(0.3)
            signed_out = await client.post(
                "/logout", data={"_csrf_token": token}, follow_redirects=False
            )
            assert signed_out.status_code == 303
            gate.set()
            finished = await slow
            assert f"session={old}" not in finished.headers.get("set-cookie", "")
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", cookies=cookies
        ) as old_cookie:
            after = await old_cookie.get("/letters/mine", follow_redirects=False)
        assert after.status_code != 200  # signed out stays signed out


def test_ipv6_clients_count_by_their_64():
    assert limit_key("2001:db8::1") == limit_key("2001:db8::ffff:1") == "2001:db8::/64"
    assert limit_key("2001:db8:0:1::1") != limit_key("2001:db8::1")
    assert limit_key("192.0.2.7") == "192.0.2.7" == limit_key("::ffff:192.0.2.7")
    assert limit_key("unknown") == "unknown"


def test_only_what_can_be_an_address_is_remembered():
    from web.platform.middleware import _limit_key

    _limit_key.cache_clear()
    long_text = "x" * 8000  # a header value a proxy passed on, say
    assert limit_key(long_text) == long_text
    assert limit_key("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255") == "ffff:ffff:ffff:ffff::/64"
    assert _limit_key.cache_info().currsize == 1


async def test_rotating_addresses_within_one_ipv6_64_does_not_escape_the_limit(make_app):
    app = make_app(sign_in_rate_limit_per_minute=2, rate_limit_per_minute=3)
    async with AsyncTestClient(app=app):

        async def post(peer: str) -> int:
            transport = httpx.ASGITransport(app=app, client=(peer, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                response = await c.post(
                    "/login/password", data={"username": "nobody", "password": "x"}
                )
                return response.status_code

        rotated = [await post(f"2001:db8::{i:x}") for i in range(2, 12)]
    assert 429 in rotated


async def test_a_state_outside_ascii_on_the_egov_callback_is_refused_not_a_500(settings):
    double = _double(lambda key: _sign(key, _claims(nonce="x")))
    egov_settings = _egov_settings(settings, DOUBLE)
    app = create_app(egov_settings)
    async with AsyncTestClient(app=app, raise_server_exceptions=False) as client:
        app.state.egov = egov_oidc.EgovService(egov_settings, transport=double)
        start = await client.get("/login/egov", follow_redirects=False)
        assert start.status_code == 303
        answer = await client.get(
            "/login/egov/callback?code=c&state=%C3%B6", follow_redirects=False
        )
    assert answer.status_code < 500


def test_pg_dump_and_restore_get_the_password_outside_their_command_line(settings):
    from dataclasses import replace

    from web.storage.backup import pg_tool_connection

    with_password = replace(
        settings, database_url="postgres://app:s3cr%40t@db.internal:5433/egomruk"
    )
    dbname, env = pg_tool_connection(with_password)
    assert dbname == "postgresql://app@db.internal:5433/egomruk"
    assert env["PGPASSWORD"] == "s3cr@t"
    without = replace(settings, database_url="postgres://postgres@127.0.0.1:5432/egomruk")
    assert pg_tool_connection(without)[0] == "postgresql://postgres@127.0.0.1:5432/egomruk"


def test_every_guard_is_the_apps_own(make_app):
    """Guards get the route handler itself, not a copy (`GuardsGetTheHandler`): safe only
    for guards that never change it, which the app's own don't. A guard from elsewhere (a
    library's) must be read for that before it is added here."""
    app = make_app()
    guards = {
        guard
        for route in app.routes
        for handler in getattr(route, "route_handlers", ())
        for guard in handler.resolve_guards()
    }
    assert guards
    assert {guard.__module__.split(".")[0] for guard in guards} == {"web"}

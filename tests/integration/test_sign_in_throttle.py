"""Lock-out is no weapon (issue 11, point 5): guessing is throttled per user name AND
address, one message covers unknown, wrong and paused accounts, staff need a second factor."""

from __future__ import annotations

import types
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pyotp
import pytest
from litestar.stores.memory import MemoryStore
from litestar.testing import AsyncTestClient

from models.identity import Account, Person, Role
from tests.support.web import csrf_token, sign_in
from web.app import create_app
from web.identity import accounts, throttle
from web.identity import routes as identity_routes
from web.identity.throttle import SignInThrottle

pytestmark = pytest.mark.usefixtures("seeded")

SAME_ANSWER = "İstifadəçi adı və ya şifrə düzgün deyil"
PASSWORD = "Correct-Horse-42"


async def _person_with_account(username: str, **extra) -> Account:
    person = await Person.create(full_name=f"Throttle {username}")
    return await accounts.create_account(person, username, PASSWORD, **extra)


def _browser(app, address: str) -> httpx.AsyncClient:
    """A browser on the running app, seen by the server as coming from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver.local")


async def _try(browser: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    if not browser.cookies.get("csrftoken"):
        await browser.get("/login")
    return await browser.post(
        "/login/password",
        data={
            "username": username,
            "password": password,
            "_csrf_token": browser.cookies.get("csrftoken"),
        },
        follow_redirects=False,
    )


async def test_unknown_wrong_and_paused_accounts_get_the_same_message(client):
    account = await _person_with_account("paused-user")
    unknown = await sign_in(client, "no-such-user-at-all", PASSWORD)
    wrong = await sign_in(client, "paused-user", "wrong-password")
    await Account.filter(id=account.id).update(
        failed_attempts=accounts.MAX_FAILED_ATTEMPTS,
        locked_until=datetime.now(UTC) + timedelta(minutes=10),
    )
    paused = await sign_in(client, "paused-user", PASSWORD)  # even the right password
    for response in (unknown, wrong, paused):
        assert response.status_code == 422
        assert SAME_ANSWER in response.text
        assert "bloklan" not in response.text.lower() and "locked" not in response.text.lower()
    assert "session" not in paused.cookies


async def test_an_attacker_address_cannot_keep_the_owner_out(client):
    await _person_with_account("victim-user")
    async with _browser(client.app, "203.0.113.9") as attacker:
        statuses = [(await _try(attacker, "victim-user", "guess")).status_code for _ in range(30)]
    assert statuses[: throttle.PAIR_FREE_FAILURES] == [422] * throttle.PAIR_FREE_FAILURES
    assert statuses.count(429) >= 20  # the attacker's address waits, growing
    async with _browser(client.app, "198.51.100.7") as owner:
        response = await _try(owner, "victim-user", PASSWORD)
    assert response.status_code == 303, response.text


async def test_many_addresses_slow_an_account_for_seconds_never_lock_it(client, monkeypatch):
    await _person_with_account("botnet-target")
    for index in range(throttle.ACCOUNT_FREE_FAILURES + 1):
        async with _browser(client.app, f"203.0.113.{index + 1}") as bot:
            assert (await _try(bot, "botnet-target", "guess")).status_code == 422
    async with _browser(client.app, "198.51.100.8") as owner:
        slowed = await _try(owner, "botnet-target", PASSWORD)
        assert slowed.status_code == 429
        assert "saniyə" in slowed.text  # "wait N seconds", in Azerbaijani
        real = identity_routes.time.time
        later = types.SimpleNamespace(time=lambda: real() + throttle.ACCOUNT_DELAY + 1)
        monkeypatch.setattr(identity_routes, "time", later)
        assert (await _try(owner, "botnet-target", PASSWORD)).status_code == 303


async def test_throttle_delays_grow_per_address_and_a_success_clears_them():
    guard = SignInThrottle(MemoryStore())
    now = 1_000_000.0
    for _ in range(throttle.PAIR_FREE_FAILURES):
        assert await guard.wait_seconds("Someone", "10.0.0.1", now=now) == 0
        await guard.failed("someone", "10.0.0.1", now=now)
    waits = []
    for _ in range(12):
        await guard.failed("SOMEONE", "10.0.0.1", now=now)
        waits.append(await guard.wait_seconds("someone", "10.0.0.1", now=now))
    assert waits[:4] == [1, 2, 4, 8]
    assert waits[-1] == throttle.PAIR_MAX_DELAY  # capped
    assert await guard.wait_seconds("someone", "10.0.0.2", now=now) == 0  # another address
    assert await guard.wait_seconds("someone-else", "10.0.0.1", now=now) == 0
    await guard.succeeded("someone", "10.0.0.1")
    assert await guard.wait_seconds("someone", "10.0.0.1", now=now) == 0


async def test_staff_need_a_second_factor_where_required(settings):
    app = create_app(replace(settings, staff_totp_required=True))
    async with AsyncTestClient(app=app) as client:
        secret = pyotp.random_base32()
        await _person_with_account("totp-clerk", role=Role.REGISTRY_CLERK, totp_secret=secret)
        refused = await sign_in(client, "katib")  # a staff account without TOTP
        assert refused.status_code == 422
        assert "session" not in refused.cookies
        assert (await client.get("/registry", follow_redirects=False)).status_code == 303
        with_totp = await sign_in(client, "totp-clerk", PASSWORD)
        assert with_totp.headers["location"] == "/login/totp"
        done = await client.post(
            "/login/totp",
            data={"code": pyotp.TOTP(secret).now(), "_csrf_token": await csrf_token(client)},
            follow_redirects=False,
        )
        assert done.status_code == 303
        assert (await client.get("/registry")).status_code == 200
        client.cookies.clear()
        assert (await sign_in(client, "vetendas2")).status_code == 303  # citizens unchanged

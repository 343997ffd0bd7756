"""Sessions (issue 11, points 1 and 2): strangers leave nothing on the server, pre-sign-in
state is small and short-lived, and an id the server did not issue is never used."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import quote

import pytest
from litestar.stores.memory import MemoryStore

from tests.support.web import csrf_token, sign_in
from web.identity import sessions
from web.platform.stores import StoreFactory, housekeeping

pytestmark = pytest.mark.usefixtures("seeded")

HTMX = {"hx-request": "true"}


def _session_store(client) -> MemoryStore:
    return client.app.stores.get("sessions")


def _keys(client) -> dict[str, int]:
    """How many keys each memory store of the app holds (sessions, rate-limit windows…).

    A rate-limit window holds one timestamp per request of the last minute, so its size is
    bounded by the limit, not by the number of visitors: keys are what must not grow."""
    return {name: len(store._store) for name, store in client.app.stores._stores.items()}


async def _asan_start(client, phone: str = "050 123 45 67", user_id: str = "123456"):
    return await client.post(
        "/login/asan",
        data={"phone": phone, "user_id": user_id, "_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )


async def test_cookieless_visitors_leave_no_session_record_and_memory_stays_flat(client):
    long_next = "/letters/" + "x" * 15_000
    paths = [f"/login?next={long_next}", "/", "/letters", "/login/password?next=/documents"]

    async def visit(count: int) -> None:
        for index in range(count):
            client.cookies.clear()
            response = await client.get(paths[index % len(paths)], follow_redirects=False)
            assert response.status_code in (200, 303)
            assert "session=" not in response.headers.get("set-cookie", "")

    _session_store(client)  # made on first use: make it now, so it is counted throughout
    started = time.monotonic()
    await visit(1000)
    after_first_thousand = _keys(client)
    await visit(2000)
    elapsed = time.monotonic() - started
    assert len(_session_store(client)._store) == 0
    # Only the per-address rate-limit windows are kept: one address, one key per store.
    assert _keys(client) == after_first_thousand
    assert all(count <= 1 for count in after_first_thousand.values()), after_first_thousand
    print(f"3000 cookieless requests in {elapsed:.1f} s; store keys {_keys(client)}")


async def test_next_is_carried_by_the_forms_and_bounded(client):
    login = await client.get("/login", params={"next": "/letters/mine"})
    assert 'href="/login/password?next=%2Fletters%2Fmine"' in login.text
    too_long = await client.get("/login", params={"next": "/" + "a" * 15_000})
    # Over 2,000 characters is not a page of ours: the sign-in links do not carry it.
    assert 'href="/login/password"' in too_long.text
    response = await sign_in(client, "vetendas2", next_path="/letters/mine")
    assert response.headers["location"] == "/letters/mine"


async def test_pre_sign_in_state_is_stored_only_when_a_flow_starts_and_expires_soon(client):
    await client.get("/login/asan")
    assert not client.cookies.get("session")
    assert len(_session_store(client)._store) == 0
    started = await _asan_start(client)
    assert started.headers["location"] == "/login/asan/wait"
    store = _session_store(client)
    session_id = client.cookies.get("session")
    assert await store.expires_in(session_id) <= sessions.PRE_SIGN_IN_SECONDS
    assert len(await store.get(session_id)) < 2000  # the Asan transaction and the next path

    await sign_in(client, "vetendas2")
    assert await store.expires_in(client.cookies.get("session")) > sessions.PRE_SIGN_IN_SECONDS


async def test_a_session_id_the_server_did_not_issue_is_never_adopted(client):
    planted = "attacker" + "0" * 56
    await csrf_token(client)
    client.cookies.set("session", planted)
    started = await _asan_start(client)
    assert started.status_code == 303
    issued = started.cookies.get("session")
    assert issued and issued != planted
    assert planted not in _session_store(client)._store
    # The pending Asan state went with the server's id, not the planted one.
    assert await _session_store(client).get(issued) is not None

    client.cookies.delete("session")
    client.cookies.set("session", planted)
    response = await sign_in(client, "vetendas2")
    assert response.status_code == 303
    assert response.cookies.get("session") not in (planted, None)
    assert planted not in _session_store(client)._store


async def test_htmx_sign_in_with_a_non_latin_next_redirects_percent_encoded(client):
    target = "/agencies/dgk?q=gömrük"
    response = await sign_in(client, "vetendas2", next_path=target, headers=HTMX)
    assert response.status_code == 200
    assert response.headers["hx-redirect"] == quote(target, safe="/?=&")


async def test_memory_stores_are_purged_on_a_timer(settings):
    factory = StoreFactory(settings)
    store = factory("sessions")
    await store.set("gone-soon", b"x", expires_in=1)
    await store.set("kept", b"y", expires_in=3600)
    await asyncio.sleep(1.1)
    stop = asyncio.Event()
    sweeper = asyncio.create_task(housekeeping([factory.purge_expired], 0.05, stop))
    await asyncio.sleep(0.2)
    stop.set()
    await sweeper
    assert set(store._store) == {"kept"}  # nobody read "gone-soon": the timer dropped it

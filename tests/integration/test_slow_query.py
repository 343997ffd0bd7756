"""One slow query cannot freeze the worker (issue 12; `web/platform/sqlite.py`).

The app is served by uvicorn in the test's own process (requests truly concurrent, unlike
the test client's, which answers one at a time; a route can still be patched). A request
runs a statement that never ends on its own (SQLite: an endless recursive CTE on the app's
real connection; PostgreSQL: `pg_sleep`), as a read or inside a write transaction.
While it runs, a signed-in lookup and the readiness check answer; the slow request ends at
the statement time limit with the localized 503 page, and the database works on after it.
Order of completion is asserted, not timings.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
import uvicorn
from tortoise.connection import connections
from tortoise.transactions import in_transaction

from models.letters import CustomsBody
from tests.integration.letters_support import lookup_params, sign_in
from web.letters import service

pytestmark = pytest.mark.usefixtures("seeded")

LIMIT_SECONDS = 3.0
SQLITE_FOREVER = (
    "WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever) "
    "SELECT count(*) FROM forever"
)
POSTGRES_FOREVER = "SELECT pg_sleep(3600)"


@asynccontextmanager
async def served(app) -> AsyncIterator[httpx.AsyncClient]:
    """`app` on a free local port, in this event loop; a client of it."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, lifespan="on", log_config=None, access_log=False)
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        while not server.started:
            assert not serving.done(), serving.result()
            await asyncio.sleep(0.05)
        port = listener.getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            yield client
    finally:
        server.should_exit = True
        await serving
        listener.close()


@pytest.mark.parametrize("where", ["read", "transaction"])
async def test_a_slow_query_stalls_no_other_request_and_ends_in_a_503(make_app, monkeypatch, where):
    app = make_app(database_query_timeout_seconds=LIMIT_SECONDS)
    async with served(app) as client:
        client.cookies.set("lang", "en")
        await sign_in(client, "vetendas")
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        body_id, position = body.id, body.position
        started = asyncio.Event()
        calls: list[int] = []
        written: list[int] = []
        clients = []

        async def slow_then_a_write(person):
            calls.append(person.id)
            connection = connections.get("default")
            clients.append(connection)
            forever = SQLITE_FOREVER if connection.capabilities.dialect == "sqlite" else None
            if len(calls) > 1:  # afterwards: the writer still writes
                async with in_transaction() as transaction:
                    rows = CustomsBody.filter(id=body_id).using_db(transaction)
                    written.append(await rows.update(position=position))
                return []
            started.set()
            sql = forever or POSTGRES_FOREVER
            if where == "read":
                await connection.execute_query(sql)
            else:
                async with in_transaction() as transaction:
                    rows = CustomsBody.filter(id=body_id).using_db(transaction)
                    await rows.update(position=position + 1000)
                    await transaction.execute_query(sql)
            return []

        monkeypatch.setattr(service, "letters_of", slow_then_a_write)
        finished: list[str] = []

        async def get(name: str, path: str, **kwargs):
            response = await client.get(path, **kwargs)
            finished.append(name)
            return response

        slow = asyncio.create_task(get("slow", "/letters/mine"))
        await asyncio.wait_for(started.wait(), 10)
        await asyncio.sleep(0.2)  # the statement is running
        params = lookup_params(body_id, "M-1024/2026", "03.11.2026")
        lookup, ready = await asyncio.wait_for(
            asyncio.gather(
                get("lookup", "/letters/track", params=params, headers={"hx-request": "true"}),
                get("ready", "/healthz"),
            ),
            LIMIT_SECONDS * 10,
        )
        assert lookup.status_code == 200 and "Elnur Həsənov" in lookup.text
        assert ready.status_code == 200, ready.text
        slow_response = await asyncio.wait_for(slow, LIMIT_SECONDS * 10)
        assert finished[-1] == "slow", finished  # the others did not wait for it

        assert slow_response.status_code == 503, slow_response.text[:300]
        assert int(slow_response.headers["retry-after"]) > 0
        assert "Sorry, the service is unavailable" in slow_response.text
        assert "Traceback" not in slow_response.text
        # The interrupted transaction left nothing behind and the writer writes again.
        assert (await CustomsBody.get(id=body_id)).position == position
        assert (await client.get("/letters/mine")).status_code == 200
        assert written == [1]
        inline = getattr(clients[0], "inline", None)
        if inline is not None and where == "read":
            # Tried on the loop's own connection first, stopped at its budget (not at the
            # limit: the lookup answered meanwhile), then run on a reader: next time at once.
            assert SQLITE_FOREVER in inline.slow, inline.slow

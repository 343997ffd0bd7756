"""Round trips per request, issue 12's last rows: SQL statements per lookup and per signed-in
page, and store (Redis) round trips per lookup.

Counted, not timed: the app in this process (httpx's ASGI transport, the app's lifespan),
the demo citizen signed in, one request warmed up, then one request counted. SQL statements
are counted where they leave, with the integration tests' own counter
(`tests/integration/test_round_trips.py: counted_sql`: the Tortoise SQLite client's
statements, asyncpg's query methods, pool `RESET ALL` included). Redis round trips are
counted on the wire side of redis-py: each command or pipeline written to a connection
(`send_packed_command`), so a pipeline or a Lua script is one and a health-check PING is one.

Databases: SQLite (a temporary DATA_DIR) and PostgreSQL (a database of its own, dropped at
the end); Redis: a redis-server of its own on a free port. A missing one skips its rows with
the reason (a failure in CI). Exits 1 when a goal is missed (not with `BENCH_QUICK=1`).

Run: `python -m bench.round_trips`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
from redis.asyncio.connection import AbstractConnection

from bench.harness import (
    Row,
    Unavailable,
    postgres_database,
    redis_server,
    report,
    skipped_row,
    web_env,
)

HTMX = {"hx-request": "true"}
SQL_PER_LOOKUP, SQL_PER_PAGE, STORE_PER_LOOKUP = 2, 0, 2


@contextmanager
def counted_redis() -> Iterator[list[str]]:
    """The name of every command (or the first of a pipeline) written to Redis while inside."""
    sent: list[str] = []
    original = AbstractConnection.send_packed_command

    async def counted(self, command, check_health=True):
        first = command if isinstance(command, bytes | str) else next(iter(command), b"")
        words = (first.encode() if isinstance(first, str) else first).split(b"\r\n")
        sent.append(words[2].decode(errors="replace") if len(words) > 2 else "?")
        return await original(self, command, check_health)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(AbstractConnection, "send_packed_command", counted)
        yield sent


async def _count() -> dict[str, list[str]]:
    """SQL statements and Redis round trips of one found lookup and one signed-in page."""
    from bench.harness import app_in_process
    from models.letters import CustomsBody
    from tests.integration.letters_support import lookup_params, sign_in
    from tests.integration.test_round_trips import counted_sql

    counts: dict[str, list[str]] = {}
    async with app_in_process() as (_app, c):
        await sign_in(c, "vetendas")
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        params = lookup_params(body.id, "M-1024/2026", "03.11.2026")
        requests = {
            "lookup": lambda: c.get("/letters/track", params=params, headers=HTMX),
            "page": lambda: c.get("/"),
        }
        for name, send in requests.items():
            assert (await send()).status_code == 200, name  # warm: pools, caches
            with pytest.MonkeyPatch.context() as patch, counted_redis() as sent:
                async with counted_sql(patch) as statements:
                    response = await send()
                    await asyncio.sleep(0)  # anything the response scheduled
            assert response.status_code == 200, (name, response.status_code)
            if name == "lookup":
                assert "Elnur Həsənov" in response.text, "the demo letter was not found"
            counts[f"sql_{name}"] = list(statements)
            counts[f"redis_{name}"] = list(sent)
    return counts


def _table(sql: str) -> str:
    """What a statement reads or writes, for the printout: its first table."""
    found = re.search(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)', sql, re.IGNORECASE)
    return f"{sql.split()[0]} {found.group(1)}" if found else sql[:40]


def _rows(where: str, counts: dict[str, list[str]], redis: str | None) -> list[Row]:
    def row(label: str, key: str, bound: int) -> Row:
        seen = counts[key]
        detail = ", ".join(_table(text) if key.startswith("sql") else text for text in seen)
        return Row(label, len(seen), bound, at_least=False, detail=detail or "none", digits=0)

    rows = [
        row(f"SQL statements per lookup, {where}", "sql_lookup", SQL_PER_LOOKUP),
        row(f"SQL statements per signed-in page (home), {where}", "sql_page", SQL_PER_PAGE),
    ]
    label = f"store (Redis) round trips per lookup, {where}"
    if redis is None:
        rows.append(skipped_row(label, "no redis-server"))
    else:
        rows.append(row(label, "redis_lookup", STORE_PER_LOOKUP))
        page = row(f"store (Redis) round trips per signed-in page, {where}", "redis_page", 0)
        page.bound, page.no_goal = None, "issue 12 sets none"
        rows.append(page)
    return rows


def _measure(where: str, data_dir: Path, database_url: str | None, redis_url: str | None):
    """One database's counts, in a process of its own (Tortoise's connections are global)."""
    extra = {"REDIS_URL": redis_url} if redis_url else {}
    result = subprocess.run(
        [sys.executable, "-m", "bench.round_trips", "count"],
        env=web_env(data_dir, database_url, **extra),
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"counting on {where} failed:\n{result.stderr[-3000:]}")
    return _rows(where, json.loads(result.stdout.splitlines()[-1]), redis_url)


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    rows: list[Row] = []
    with ExitStack() as stack:
        try:
            redis_url = stack.enter_context(redis_server())
        except Unavailable as missing:
            print(f"store rows skipped: {missing}")
            redis_url = None
        sqlite_dir = Path(tempfile.mkdtemp(prefix="egomruk-bench-rt-"))
        stack.callback(shutil.rmtree, sqlite_dir, ignore_errors=True)
        rows += _measure("SQLite", sqlite_dir, None, redis_url)
        try:
            database_url = stack.enter_context(postgres_database())
        except Unavailable as missing:
            rows += [
                skipped_row("SQL statements per lookup and per page, PostgreSQL", str(missing))
            ]
        else:
            pg_dir = Path(tempfile.mkdtemp(prefix="egomruk-bench-rt-pg-"))
            stack.callback(shutil.rmtree, pg_dir, ignore_errors=True)
            # Its own Redis database number: the SQLite pass's keys stay out of its way.
            rows += _measure("PostgreSQL", pg_dir, database_url, redis_url and redis_url[:-1] + "1")
    return report(rows)


if __name__ == "__main__":
    if sys.argv[1:] == ["count"]:
        logging.getLogger("httpx").setLevel(logging.WARNING)
        print(json.dumps(asyncio.run(_count())))
        sys.exit(0)
    sys.exit(main())

"""Two instances starting together on a fresh database (issue 10, point 5): both
`python -m web migrate` runs succeed, and the schema and reference data exist once."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from tests.support.database import provision_postgres_database

INSTANCES = 3


def _migrate_together(env: dict[str, str]) -> list[subprocess.CompletedProcess]:
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "web", "migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(INSTANCES)
    ]
    results = []
    for process in processes:
        output, _ = process.communicate(timeout=90)
        results.append(subprocess.CompletedProcess(process.args, process.returncode, output))
    return results


async def _counts(url: str) -> tuple[int, int, int]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgres://", "postgresql://"))
    try:
        applied = await connection.fetchval("SELECT count(*) FROM tortoise_migrations")
        distinct = await connection.fetchval(
            "SELECT count(DISTINCT (app, name)) FROM tortoise_migrations"
        )
        bodies = await connection.fetchval("SELECT count(*) FROM customs_body")
    finally:
        await connection.close()
    return applied, distinct, bodies


def _migration_files() -> int:
    folder = Path(__file__).resolve().parents[2] / "models" / "migrations"
    return len(list(folder.glob("0*.py")))


def test_instances_migrating_a_fresh_postgresql_together_all_succeed():
    from web.letters.reference_data import CUSTOMS_BODIES

    database = provision_postgres_database()
    try:
        results = _migrate_together({**os.environ, "DATABASE_URL": database.url})
        for result in results:
            assert result.returncode == 0, result.stdout[-3000:]
        applied, distinct, bodies = asyncio.run(_counts(database.url))
        assert applied == distinct == _migration_files()
        assert bodies == len(CUSTOMS_BODIES)
    finally:
        database.drop()


def test_instances_migrating_a_fresh_sqlite_together_all_succeed(tmp_path):
    env = {**os.environ, "DATA_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    for result in _migrate_together(env):
        assert result.returncode == 0, result.stdout[-3000:]
    import sqlite3

    with sqlite3.connect(tmp_path / "egomruk.sqlite3") as connection:
        applied, distinct = connection.execute(
            "SELECT count(*), count(DISTINCT app || name) FROM tortoise_migrations"
        ).fetchone()
        (bodies,) = connection.execute("SELECT count(*) FROM customs_body").fetchone()
    from web.letters.reference_data import CUSTOMS_BODIES

    assert applied == distinct == _migration_files()
    assert bodies == len(CUSTOMS_BODIES)

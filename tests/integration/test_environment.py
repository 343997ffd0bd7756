"""Demo accounts and the Asan İmza simulator exist only with an explicit ENV=development
(issue 11, point 13): an unset ENV is production."""

from __future__ import annotations

import os
import secrets
import sqlite3
import subprocess
import sys
from dataclasses import replace

import pytest
from litestar.testing import AsyncTestClient

from web.app import create_app
from web.devdata.demo_data import seed_demo_data


def test_seed_with_env_unset_creates_no_demo_account(tmp_path):
    database = tmp_path / "unset.sqlite3"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ENV", "DATABASE_URL", "ASAN_GATEWAY")
    }
    env.update(
        DATA_DIR=str(tmp_path),
        SECRET_KEY=secrets.token_urlsafe(48),  # production refuses a guessable key
        DATABASE_URL=f"sqlite://{database}",
    )
    migrate = subprocess.run(
        [sys.executable, "-m", "web", "migrate"], env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    seed = subprocess.run(
        [sys.executable, "-m", "web", "seed"], env=env, capture_output=True, text=True
    )
    assert seed.returncode == 0, seed.stderr[-2000:]
    assert "only with ENV=development" in seed.stdout
    with sqlite3.connect(database) as connection:
        (accounts,) = connection.execute("SELECT count(*) FROM account").fetchone()
    assert accounts == 0


async def test_production_mounts_no_simulator_even_if_configured(settings):
    production = replace(settings, env="production", asan_gateway="simulator")
    with pytest.raises(RuntimeError, match="development"):
        await seed_demo_data(production)
    app = create_app(production)
    async with AsyncTestClient(app=app) as client:
        assert app.state.asan is None
        assert (await client.get("/simulator/asan-imza")).status_code == 404
    paths = {route.path for route in app.routes}
    assert not any(path.startswith("/simulator") for path in paths)

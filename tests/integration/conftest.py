from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
from litestar.testing import AsyncTestClient

from tests.support.database import TestDatabase, provision_test_database, run_sync
from tests.support.seaweedfs import SeaweedFS, start_seaweedfs, test_storage_kind


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    database = provision_test_database()
    if database.url:
        os.environ["DATABASE_URL"] = database.url
    yield database
    database.drop()


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """A real S3-compatible server (SeaweedFS) for the session."""
    server = start_seaweedfs()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def storage_environment(request) -> dict[str, str]:
    """TEST_STORAGE=s3: the portal's files go to a SeaweedFS bucket (else the local disk)."""
    if test_storage_kind() != "s3":
        return {}
    server: SeaweedFS = request.getfixturevalue("seaweedfs")
    server.create_bucket("portal")
    return server.environment("portal")


@pytest.fixture(scope="session")
def settings(test_database: TestDatabase, storage_environment: dict[str, str]):
    from web.platform import db
    from web.settings import get_settings

    os.environ.update(storage_environment)  # server processes the tests start inherit it
    get_settings.cache_clear()
    settings = get_settings()
    run_sync(db.migrate(settings))
    return settings


@pytest.fixture
def make_app(settings):
    """Build an app with some settings changed (e.g. a tiny rate limit)."""
    from dataclasses import replace

    from web.app import create_app

    def factory(**changes):
        return create_app(replace(settings, **changes))

    return factory


@pytest.fixture
async def client(make_app) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=make_app()) as test_client:
        yield test_client


@pytest.fixture
async def db(settings):
    """The ORM initialised on the (migrated) test database, for service-level tests."""
    from web.platform import db as database

    await database.init_db(settings)
    try:
        yield
    finally:
        await database.close_db()


@pytest.fixture(scope="session")
def seeded(settings):
    """The development demo data (accounts, parties, simulated phones), once a session."""
    from web.devdata.demo_data import seed_demo_data
    from web.platform import db as database

    async def seed():
        await database.init_db(settings)
        try:
            await seed_demo_data(settings)
        finally:
            await database.close_db()

    run_sync(seed())


@pytest.fixture
def redis_server():
    """A Redis server of the test's own, on a free port, that it may kill and restart."""
    from tests.support.faults import RedisServer

    server = RedisServer()
    server.start()
    yield server
    server.stop()

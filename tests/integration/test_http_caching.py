"""Caching: pages and downloads are never stored by browsers or shared caches; public static
files are cacheable and never carry a cookie."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from tests.support.web import sign_in
from web.platform.static_assets import static_url

pytestmark = pytest.mark.usefixtures("seeded")


async def test_static_files_are_public_and_carry_no_cookie(client: AsyncTestClient):
    for path in (static_url("css/app.css"), static_url("js/app.js")):
        response = await client.get(path)
        assert response.status_code == 200, path
        assert "set-cookie" not in response.headers, (path, response.headers["set-cookie"])
        cache = response.headers["cache-control"]
        assert "public" in cache and "immutable" in cache and "no-store" not in cache


@pytest.mark.parametrize("path", ["/", "/login", "/healthz", "/no-such-page"])
async def test_anonymous_pages_are_not_stored(client: AsyncTestClient, path: str):
    response = await client.get(path)
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/", "/letters", "/letters/mine", "/letters/notifications"])
async def test_signed_in_pages_are_not_stored(client: AsyncTestClient, path: str):
    assert (await sign_in(client, "vetendas")).status_code == 303
    response = await client.get(path)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"


async def test_staff_pages_and_downloads_are_not_stored(client: AsyncTestClient):
    assert (await sign_in(client, "katib")).status_code == 303
    page = await client.get("/registry")
    assert page.headers["cache-control"] == "no-store"

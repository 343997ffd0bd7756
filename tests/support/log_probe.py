"""The real app plus one route that fails, for tests that run a server process and read
its logs (`web.__main__.run_server(settings, "tests.support.log_probe:create_app")`)."""

from __future__ import annotations

from litestar import Litestar, get

from web.app import create_app as create_portal


@get("/_probe/boom")
async def boom() -> None:
    raise RuntimeError("probe failure for the log test")


def create_app() -> Litestar:
    return create_portal(extra_route_handlers=[boom])

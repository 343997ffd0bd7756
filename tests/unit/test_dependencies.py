"""`SerialSyncDependencies`: plain-function dependencies are resolved one by one (no task
group), with the values and the order of need Litestar gives; async ones still overlap."""

from __future__ import annotations

import asyncio

from litestar import Litestar, get
from litestar.di import NamedDependency, Provide
from litestar.testing import AsyncTestClient

from web.platform.dependencies import SerialSyncDependencies

order: list[str] = []


def _plain(name: str):
    def provide() -> str:
        order.append(name)
        return name

    return Provide(provide, sync_to_thread=False)


async def _slow(name: str):
    order.append(f"{name} starts")
    await asyncio.sleep(0.01)
    order.append(f"{name} ends")
    return name


async def slow_a() -> str:
    return await _slow("a")


async def slow_b() -> str:
    return await _slow("b")


def needs_settings(settings: NamedDependency[str]) -> str:
    order.append("needs_settings")
    return f"{settings}+"


@get("/", sync_to_thread=False)
def handler(
    settings: NamedDependency[str],
    user: NamedDependency[str],
    derived: NamedDependency[str],
    a: NamedDependency[str],
    b: NamedDependency[str],
    sync_gen: NamedDependency[int],
) -> dict[str, object]:
    return {"values": [settings, user, derived, a, b, sync_gen]}


def a_generator():
    yield 7


def app(*plugins) -> Litestar:
    return Litestar(
        [handler],
        plugins=list(plugins),
        openapi_config=None,
        dependencies={
            "settings": _plain("settings"),
            "user": _plain("user"),
            "derived": Provide(needs_settings, sync_to_thread=False),
            "a": Provide(slow_a),
            "b": Provide(slow_b),
            "sync_gen": Provide(a_generator),
        },
    )


def batches_of(litestar: Litestar) -> list[set[str]]:
    (route,) = [route for route in litestar.routes if route.path == "/"]
    _, model = route.route_handler_map["GET"]
    return [{dependency.key for dependency in batch} for batch in model.dependency_batches]


def test_plain_functions_get_a_batch_each_and_async_ones_share_one() -> None:
    plain = batches_of(app())
    serial = batches_of(app(SerialSyncDependencies()))
    assert sorted(map(sorted, plain)) == [["a", "b", "settings", "sync_gen", "user"], ["derived"]]
    singles = [batch for batch in serial if len(batch) == 1]
    assert sorted(next(iter(b)) for b in singles) == ["derived", "settings", "sync_gen", "user"]
    assert {"a", "b"} in serial
    # A dependency still comes after the one it needs.
    keys = [key for batch in serial for key in sorted(batch)]
    assert keys.index("derived") > keys.index("settings")


async def test_same_values_and_async_providers_still_overlap() -> None:
    for plugins in ((), (SerialSyncDependencies(),)):
        order.clear()
        async with AsyncTestClient(app(*plugins)) as client:
            response = await client.get("/")
        assert response.json() == {"values": ["settings", "user", "settings+", "a", "b", 7]}
        # a and b wait together (both start before either ends).
        assert order.index("b starts") < order.index("a ends")
        assert order.index("a starts") < order.index("b ends")
        assert order.index("needs_settings") > order.index("settings")

"""What handlers receive by name through Litestar's dependency injection (`create_app`
wires these once): `settings`, `storage`, `rate_limits`, and `user` (from
`web/identity/guards.py`) and the sign-in means (`web/identity/means.py`).

A handler asks for them as parameters, typed with the aliases below
(`async def page(self, settings: AppSettings)`), instead of reading `request.app.state`;
tests build the app with their own settings and get the same.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute

from web.platform.rate_limits import RateLimits
from web.settings import Settings
from web.storage.protocol import StorageBackend

AppSettings = NamedDependency[Settings]
FileStorage = NamedDependency[StorageBackend]
Limits = NamedDependency[RateLimits]


def dependencies(state: State, **more: Provide) -> dict[str, Provide]:
    """The providers of `settings`, `storage` and `rate_limits`, read from `state` (the
    app's: the `State` given to Litestar, which is `app.state`) at each request, so a
    test that replaces `app.state.settings` is seen.

    They close over `state` instead of asking Litestar for it (a `state: State` parameter):
    Litestar then builds and checks a State for each such provider on each request, about
    4 µs each (issue 12); a provider without parameters is simply called."""

    def settings() -> Settings:
        return state.settings  # the app's own (create_app puts them there)

    def storage() -> StorageBackend:
        return state.storage  # opened in the app's lifespan

    def rate_limits() -> RateLimits:
        return state.rate_limits  # the counters behind every limit (create_app)

    return {
        "settings": Provide(settings, sync_to_thread=False),
        "storage": Provide(storage, sync_to_thread=False),
        "rate_limits": Provide(rate_limits, sync_to_thread=False),
        **more,
    }


class SerialSyncDependencies(ReceiveRoutePlugin):
    """Resolve plain-function dependencies one after another, not in a task group.

    Litestar resolves the dependencies a handler asks for in batches (those that need none of
    the others first), and a batch of two or more in an anyio task group: a task per
    dependency, so that async providers waiting on I/O overlap. Ours are plain functions that
    read the app's state or the request's (`settings`, `user`, ...): a task each buys no
    overlap, and the task group cost 75 µs of CPU on a signed-in request asking for `user`
    and `settings` (a third of the whole pipeline; issue 12). Each plain-function dependency
    becomes a batch of its own here, which Litestar resolves by a direct await; the order
    between batches (a dependency after those it needs) is kept, and async providers or
    those run in a thread still share a task group. Same values, same order of need. Two
    differences, both harmless for plain readers: such a provider runs in the request's own
    task (a context variable it set would stay for the rest of the request, never beyond it),
    and its exception arrives as it is, not inside an exception group."""

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for _, kwargs_model in route.route_handler_map.values():
            kwargs_model.dependency_batches = serial_batches(kwargs_model.dependency_batches)


def serial_batches(batches: list[set]) -> list[set]:
    """`batches` with every plain-function dependency in a batch of its own (see above)."""
    serial: list[set] = []
    for batch in batches:
        concurrent = {dependency for dependency in batch if not _inline(dependency.provide)}
        serial.extend({dependency} for dependency in batch if dependency not in concurrent)
        if concurrent:
            serial.append(concurrent)
    return serial


def _inline(provide: Provide) -> bool:
    """Resolved without waiting on anything: a plain function called on the event loop."""
    return provide.has_sync_callable and not provide.has_async_generator_dependency

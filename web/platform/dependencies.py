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

from web.platform.rate_limits import RateLimits
from web.settings import Settings
from web.storage.protocol import StorageBackend

AppSettings = NamedDependency[Settings]
FileStorage = NamedDependency[StorageBackend]
Limits = NamedDependency[RateLimits]


def _settings(state: State) -> Settings:
    return state.settings  # the app's own (create_app puts them there)


def _storage(state: State) -> StorageBackend:
    return state.storage  # opened in the app's lifespan


def _rate_limits(state: State) -> RateLimits:
    return state.rate_limits  # the counters behind every limit (create_app)


def dependencies(**more: Provide) -> dict[str, Provide]:
    return {
        "settings": Provide(_settings, sync_to_thread=False),
        "storage": Provide(_storage, sync_to_thread=False),
        "rate_limits": Provide(_rate_limits, sync_to_thread=False),
        **more,
    }

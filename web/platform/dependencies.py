"""What handlers receive by name through Litestar's dependency injection (`create_app`
wires these once): `settings`, `storage`, `stores`, and `user` (from `web/identity/guards.py`).

A handler asks for them as parameters, typed with the aliases below
(`async def page(self, settings: AppSettings)`), instead of reading `request.app.state`;
tests build the app with their own settings and get the same.
"""

from __future__ import annotations

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.stores.registry import StoreRegistry

from web.settings import Settings
from web.storage.protocol import StorageBackend

AppSettings = NamedDependency[Settings]
FileStorage = NamedDependency[StorageBackend]
Stores = NamedDependency[StoreRegistry]


def _settings(state: State) -> Settings:
    return state.settings  # the app's own (create_app puts them there)


def _storage(state: State) -> StorageBackend:
    return state.storage  # opened in the app's lifespan


def dependencies(stores: StoreRegistry, **more: Provide) -> dict[str, Provide]:
    return {
        "settings": Provide(_settings, sync_to_thread=False),
        "storage": Provide(_storage, sync_to_thread=False),
        "stores": Provide(lambda: stores, sync_to_thread=False),
        **more,
    }

"""The upload quota checked under a lock: one function for documents and appeals.

Two uploads for one owner at the same moment must not both pass the check. The owner's row
is locked inside the caller's transaction (`web.platform.db.lock_row`), so the second upload
waits and then counts the first one's files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from web.platform.db import lock_row
from web.storage.backend import check_quota


async def check_quota_locked(
    connection: BaseDBAsyncClient,
    owner: Model,
    used_bytes: Callable[[BaseDBAsyncClient], Awaitable[int]],
    incoming_bytes: int,
    quota_bytes: int,
) -> None:
    """Lock `owner`'s row in the caller's transaction, then raise `QuotaExceeded` unless the
    bytes it already uses (`used_bytes(connection)`) plus `incoming_bytes` fit the quota."""
    await lock_row(connection, owner)
    check_quota(await used_bytes(connection), incoming_bytes, quota_bytes)

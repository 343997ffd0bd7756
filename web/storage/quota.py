"""The upload quota checked under a lock: one function for documents and appeals.

Two uploads for one owner at the same moment must not both pass the check. Touching the
owner's row (`UPDATE … SET updated_at`) inside the caller's transaction locks it until the
commit on PostgreSQL and takes SQLite's write lock, so the second upload waits and then
counts the first one's files.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model

from web.platform.portal_time import db_datetime, utcnow
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
    await (
        type(owner)
        .filter(pk=owner.pk)
        .using_db(connection)
        .update(updated_at=db_datetime(utcnow()))
    )
    check_quota(await used_bytes(connection), incoming_bytes, quota_bytes)

"""The storage quota of an account (a party's documents, a person's appeal attachments),
checked under a lock: one function for documents and appeals.

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
from web.storage.protocol import RejectCode, UploadRejected


class QuotaExceeded(UploadRejected):
    """The account's storage quota would be exceeded (code `quota_exceeded`)."""

    def __init__(self, used_bytes: int, incoming_bytes: int, quota_bytes: int) -> None:
        super().__init__(
            RejectCode.QUOTA_EXCEEDED,
            None,
            f"{used_bytes} + {incoming_bytes} bytes exceeds the quota of {quota_bytes} bytes",
            used_bytes=used_bytes,
            incoming_bytes=incoming_bytes,
            quota_bytes=quota_bytes,
        )
        self.used_bytes = used_bytes
        self.incoming_bytes = incoming_bytes
        self.quota_bytes = quota_bytes


def check_quota(used_bytes: int, incoming_bytes: int, quota_bytes: int) -> None:
    """Raise `QuotaExceeded` unless `used + incoming <= quota` (reaching it exactly is fine)."""
    if min(used_bytes, incoming_bytes, quota_bytes) < 0:
        raise ValueError("byte counts cannot be negative")
    if used_bytes + incoming_bytes > quota_bytes:
        raise QuotaExceeded(used_bytes, incoming_bytes, quota_bytes)


async def lock_owner(connection: BaseDBAsyncClient, owner: Model) -> None:
    """Lock `owner`'s row until the caller's transaction ends (see the module docstring)."""
    await (
        type(owner)
        .filter(pk=owner.pk)
        .using_db(connection)
        .update(updated_at=db_datetime(utcnow()))
    )


async def check_quota_locked(
    connection: BaseDBAsyncClient,
    owner: Model,
    used_bytes: Callable[[BaseDBAsyncClient], Awaitable[int]],
    incoming_bytes: int,
    quota_bytes: int,
) -> None:
    """Lock `owner`'s row in the caller's transaction, then raise `QuotaExceeded` unless the
    bytes it already uses (`used_bytes(connection)`) plus `incoming_bytes` fit the quota."""
    await lock_owner(connection, owner)
    check_quota(await used_bytes(connection), incoming_bytes, quota_bytes)

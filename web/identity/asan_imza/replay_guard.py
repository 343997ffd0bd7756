"""The replay guard on the database, shared by every worker process.

:class:`DatabaseReplayGuard` is the :class:`.protocol.ReplayGuard` of
:class:`.protocol.MemoryReplayGuard`: ``consume`` is an ``INSERT`` into a table keyed on the
transaction id, so exactly one caller across all workers gets True. `insert_once` is the
same INSERT for any table (the simulator's store uses it too).

Inserts run in their own (nested, i.e. savepoint) transaction, so a key conflict never aborts a
transaction the caller may have opened (PostgreSQL). Datetimes must be timezone-aware
(``ValueError`` otherwise); they are written in the ORM's time zone (as Tortoise does, which
keeps SQLite's text timestamps comparable) and read back in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.asan import UsedAsanTransaction
from web.platform.portal_time import db_datetime, utcnow

__all__ = ["DatabaseReplayGuard", "insert_once"]


async def insert_once(model: type[Model], key: dict[str, Any], values: dict[str, Any]) -> bool:
    """INSERT a row; False if its unique key is already taken (nothing changed)."""
    try:
        # Nested in the caller's transaction this is a savepoint, so a conflict leaves it usable.
        async with in_transaction(model._meta.default_connection):
            await model.create(**key, **values)
    except IntegrityError:
        if await model.filter(**key).exists():
            return False
        raise
    return True


class DatabaseReplayGuard:
    """:class:`.protocol.ReplayGuard` on ``asan_used_transaction`` (atomic across workers).

    ``retention`` (optional) deletes ids consumed longer ago than that on each ``consume``, like
    :class:`.protocol.MemoryReplayGuard`; it must be longer than the operator keeps a SIGNED
    status readable, or an old id could be consumed again. Without it ids are kept forever.
    """

    def __init__(
        self, *, retention: timedelta | None = None, now: Callable[[], datetime] = utcnow
    ) -> None:
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self._retention = retention
        self._now = now

    async def consume(self, transaction_id: str) -> bool:
        """Record ``transaction_id`` as used: True the first time, False every time after."""
        if not transaction_id:
            raise ValueError("transaction_id is empty")
        now = db_datetime(self._now())
        if self._retention is not None:
            cutoff = db_datetime(now.astimezone(UTC) - self._retention)  # no wall-clock math
            await UsedAsanTransaction.filter(used_at__lt=cutoff).delete()
        return await insert_once(
            UsedAsanTransaction, {"transaction_id": transaction_id}, {"used_at": now}
        )

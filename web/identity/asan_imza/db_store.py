"""Database-backed replay guard, shared by every worker process (the simulator's database
store, built on the same helpers, lives in `web/simulator/store.py`).

:class:`DatabaseReplayGuard` is the :class:`.protocol.ReplayGuard` of
:class:`.protocol.MemoryReplayGuard`: ``consume`` is an ``INSERT`` into a table keyed on the
transaction id, so exactly one caller across all workers gets True.

Inserts run in their own (nested, i.e. savepoint) transaction, so a key conflict never aborts a
transaction the caller may have opened (PostgreSQL). Values too long for their column raise
``tortoise.exceptions.ValidationError`` before reaching the database, on SQLite as on PostgreSQL.
Datetimes must be timezone-aware (``ValueError`` otherwise); they are written in the ORM's time
zone (as Tortoise does, which keeps SQLite's text timestamps comparable) and read back in UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.asan import UsedAsanTransaction
from web.platform.portal_time import db_datetime

__all__ = ["DatabaseReplayGuard", "insert_if_absent", "to_db_datetime"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def to_db_datetime(value: datetime, label: str) -> datetime:
    """An aware datetime in the ORM's time zone, the one Tortoise itself writes on INSERT.

    SQLite keeps datetimes as ISO text, so rows (and filters on them) compare correctly only if
    they are all written with the same offset; PostgreSQL (TIMESTAMPTZ) does not care.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be a timezone-aware datetime")
    return db_datetime(value)


async def insert_if_absent(model: type[Model], key: dict[str, Any], values: dict[str, Any]) -> bool:
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


# --- replay guard --------------------------------------------------------------------------


class DatabaseReplayGuard:
    """:class:`.protocol.ReplayGuard` on ``asan_used_transaction`` (atomic across workers).

    ``retention`` (optional) deletes ids consumed longer ago than that on each ``consume``, like
    :class:`.protocol.MemoryReplayGuard`; it must be longer than the operator keeps a SIGNED
    status readable, or an old id could be consumed again. Without it ids are kept forever.
    """

    def __init__(
        self, *, retention: timedelta | None = None, now: Callable[[], datetime] = _utcnow
    ) -> None:
        if retention is not None and retention <= timedelta(0):
            raise ValueError("retention must be positive")
        self._retention = retention
        self._now = now

    async def forget_expired(self) -> int:
        """Delete ids consumed longer ago than ``retention`` (none without one)."""
        if self._retention is None:
            return 0
        # in UTC: no wall-clock math
        cutoff = to_db_datetime(self._now() - self._retention, "cutoff")
        return await UsedAsanTransaction.filter(used_at__lt=cutoff).delete()

    async def consume(self, transaction_id: str) -> bool:
        """Record ``transaction_id`` as used: True the first time, False every time after."""
        if not transaction_id:
            raise ValueError("transaction_id is empty")
        await self.forget_expired()
        now = to_db_datetime(self._now(), "now")
        return await insert_if_absent(
            UsedAsanTransaction, {"transaction_id": transaction_id}, {"used_at": now}
        )

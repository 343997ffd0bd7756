"""In-memory stand-ins for the Asan İmza tables (unit tests, no database): they behave like
`web/identity/asan_imza/replay_guard.py` and `web/simulator/store.py`, which the integration
tests check against the same expectations."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from web.identity.asan_imza import StaleRecord, TransactionStatus
from web.platform.portal_time import utcnow
from web.simulator.operator import SimPhone, Transaction

_R = TypeVar("_R", SimPhone, Transaction)


class MemoryReplayGuard:
    """Per-process :class:`ReplayGuard` (tests).

    ``retention`` (optional) forgets ids older than that, bounding memory; it must be longer
    than the operator keeps a SIGNED status readable, or an old id could be consumed again.
    Without it ids are kept for the life of the process.
    """

    def __init__(
        self, *, retention: timedelta | None = None, now: Callable[[], datetime] = utcnow
    ) -> None:
        self._retention = retention
        self._now = now
        self._seen: dict[str, datetime] = {}

    async def consume(self, transaction_id: str) -> bool:
        """Mark ``transaction_id`` used; no ``await`` inside, so it is atomic on one event loop."""
        if not transaction_id:
            raise ValueError("transaction_id is empty")
        now = self._now()
        if self._retention is not None:
            cutoff = now - self._retention
            for seen_id, seen_at in list(self._seen.items()):
                if seen_at >= cutoff:
                    break  # insertion order is time order
                del self._seen[seen_id]
        if transaction_id in self._seen:
            return False
        self._seen[transaction_id] = now
        return True


class MemorySimulatorStore:
    """In-process :class:`SimulatorStore` (tests)."""

    def __init__(self) -> None:
        self._phones: dict[str, SimPhone] = {}
        self._transactions: dict[str, Transaction] = {}

    @staticmethod
    def _cas(table: dict[str, _R], key: str, record: _R) -> _R:
        current = table.get(key)
        if (current.version if current is not None else 0) != record.version:
            raise StaleRecord(f"{type(record).__name__} {key!r} changed since it was read")
        saved = replace(record, version=record.version + 1)
        table[key] = saved
        return saved

    async def get_phone(self, phone: str) -> SimPhone | None:
        return self._phones.get(phone)

    async def put_phone(self, record: SimPhone) -> SimPhone:
        return self._cas(self._phones, record.phone, record)

    async def get_transaction(self, transaction_id: str) -> Transaction | None:
        return self._transactions.get(transaction_id)

    async def put_transaction(self, record: Transaction) -> Transaction:
        return self._cas(self._transactions, record.id, record)

    async def list_pending(self, phone: str) -> list[Transaction]:
        return [
            tx
            for tx in self._transactions.values()
            if tx.phone == phone and tx.status is TransactionStatus.PENDING
        ]

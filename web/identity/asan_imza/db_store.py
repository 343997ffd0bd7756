"""Database-backed simulator store and replay guard, shared by every worker process.

:class:`DatabaseSimulatorStore` is the :class:`.simulator.SimulatorStore` of
:class:`.simulator.MemorySimulatorStore` on the tables of :mod:`models.asan`; it behaves the same:

* ``put_*`` is a compare-and-set on ``version``. Version 0 means "must not exist yet" and is an
  ``INSERT`` (a unique-key conflict → :class:`.errors.StaleRecord`); any other version is
  ``UPDATE … SET …, version = version + 1 WHERE <key> = ? AND version = ?`` and 0 rows updated
  → :class:`.errors.StaleRecord`. The key (phone for SIMs, id for transactions) selects the row.
  The saved copy (``version + 1``) is returned, nothing is changed on a conflict.
* ``list_pending`` returns every stored PENDING transaction of a number, expired ones included
  (the simulator settles expiry itself), oldest first.

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

import base64
import binascii
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.models import Model
from tortoise.transactions import in_transaction

from models.asan import SimulatedSim, SimulatedTransaction, UsedAsanTransaction
from web.platform.portal_time import db_datetime
from web.simulator.operator import SimCertificate, SimPhone, Transaction

from .errors import StaleRecord
from .gateway import SignedCertificate, TransactionStatus

__all__ = ["DatabaseReplayGuard", "DatabaseSimulatorStore"]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _to_db(value: datetime, label: str) -> datetime:
    """An aware datetime in the ORM's time zone, the one Tortoise itself writes on INSERT.

    SQLite keeps datetimes as ISO text, so rows (and filters on them) compare correctly only if
    they are all written with the same offset; PostgreSQL (TIMESTAMPTZ) does not care.
    """
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be a timezone-aware datetime")
    return db_datetime(value)


def _pem_text(pem: bytes) -> str:
    """PEM is ASCII by definition; anything else is a caller bug, not something to store."""
    try:
        return bytes(pem).decode("ascii")
    except UnicodeDecodeError as exc:
        raise ValueError("a PEM value is not ASCII text") from exc


def _fits(model: type[Model], field: str, value: str) -> bool:
    """Whether ``value`` can be stored in (hence found in) the CharField ``field``."""
    max_length = getattr(model._meta.fields_map[field], "max_length", None)
    return max_length is None or len(value) <= max_length


async def _insert(model: type[Model], key: dict[str, Any], values: dict[str, Any]) -> bool:
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


async def _compare_and_set(
    model: type[Model], key: dict[str, Any], version: int, values: dict[str, Any], label: str
) -> None:
    """Save ``values`` with ``version + 1`` if the stored version is ``version`` (0: absent)."""
    if version == 0:
        if not await _insert(model, key, {**values, "version": 1}):
            raise StaleRecord(f"{label} already exists")
        return
    updated = await model.filter(**key, version=version).update(**values, version=version + 1)
    if updated != 1:
        raise StaleRecord(f"{label} changed since it was read")


# --- conversion ----------------------------------------------------------------------------


def _sim_values(record: SimPhone) -> dict[str, Any]:
    return {
        "user_id": record.user_id,
        "fin": record.fin,
        "full_name": record.full_name,
        "certificates": [
            {
                "chain_pem": [_pem_text(pem) for pem in cert.certificate_chain_pem],
                "encrypted_key_pem": _pem_text(cert.encrypted_key_pem),
            }
            for cert in record.certificates
        ],
        "failed_pin_attempts": record.failed_pin_attempts,
        "blocked": record.blocked,
    }


def _sim_record(row: SimulatedSim) -> SimPhone:
    return SimPhone(
        phone=row.phone,
        user_id=row.user_id,
        fin=row.fin,
        full_name=row.full_name,
        certificates=tuple(
            SimCertificate(
                certificate_chain_pem=tuple(pem.encode("ascii") for pem in item["chain_pem"]),
                encrypted_key_pem=item["encrypted_key_pem"].encode("ascii"),
            )
            for item in row.certificates
        ),
        failed_pin_attempts=row.failed_pin_attempts,
        blocked=row.blocked,
        version=row.version,
    )


def _transaction_values(record: Transaction) -> dict[str, Any]:
    return {
        "phone": record.phone,
        "user_id": record.user_id,
        "challenge_hash": bytes(record.challenge_hash).hex(),
        "language": record.language,
        "created_at": _to_db(record.created_at, "created_at"),
        "expires_at": _to_db(record.expires_at, "expires_at"),
        "status": TransactionStatus(record.status).value,
        "delivered": record.delivered,
        "signatures": [
            {
                "chain_pem": [_pem_text(pem) for pem in item.certificate_chain_pem],
                "signature": base64.b64encode(item.signature).decode("ascii"),
            }
            for item in record.signatures
        ],
        "reason": record.reason,
    }


def _transaction_record(row: SimulatedTransaction) -> Transaction:
    try:
        signatures = tuple(
            SignedCertificate(
                certificate_chain_pem=[pem.encode("ascii") for pem in item["chain_pem"]],
                signature=base64.b64decode(item["signature"], validate=True),
            )
            for item in row.signatures
        )
        challenge_hash = bytes.fromhex(row.challenge_hash)
    except (binascii.Error, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"corrupt Asan İmza transaction row {row.id!r}") from exc
    return Transaction(
        id=row.id,
        phone=row.phone,
        user_id=row.user_id,
        challenge_hash=challenge_hash,
        language=row.language,
        created_at=row.created_at.astimezone(UTC),
        expires_at=row.expires_at.astimezone(UTC),
        status=TransactionStatus(row.status),
        delivered=row.delivered,
        signatures=signatures,
        reason=row.reason,
        version=row.version,
    )


# --- the store -----------------------------------------------------------------------------


class DatabaseSimulatorStore:
    """:class:`.simulator.SimulatorStore` on the ``asan_simulated_*`` tables (any worker).

    Stateless: every call goes to the database, so instances are cheap and interchangeable.
    The ORM must be initialised (``web.platform.db.init_db``) before the first call.
    """

    async def get_phone(self, phone: str) -> SimPhone | None:
        if not _fits(SimulatedSim, "phone", phone):
            return None
        row = await SimulatedSim.get_or_none(phone=phone)
        return _sim_record(row) if row is not None else None

    async def put_phone(self, record: SimPhone) -> SimPhone:
        await _compare_and_set(
            SimulatedSim,
            {"phone": record.phone},
            record.version,
            _sim_values(record),
            f"SimPhone {record.phone!r}",
        )
        return replace(record, version=record.version + 1)

    async def get_transaction(self, transaction_id: str) -> Transaction | None:
        # Ids reach the phone page from forms: an impossible one is simply unknown.
        if not _fits(SimulatedTransaction, "id", transaction_id):
            return None
        row = await SimulatedTransaction.get_or_none(id=transaction_id)
        return _transaction_record(row) if row is not None else None

    async def put_transaction(self, record: Transaction) -> Transaction:
        await _compare_and_set(
            SimulatedTransaction,
            {"id": record.id},
            record.version,
            _transaction_values(record),
            f"Transaction {record.id!r}",
        )
        return replace(record, version=record.version + 1)

    async def delete_expired_before(self, cutoff: datetime) -> int:
        """Forget transactions whose time to live ended before `cutoff` (answered or not):
        they can no longer be confirmed, and the portal stopped polling them long ago."""
        return await SimulatedTransaction.filter(expires_at__lt=_to_db(cutoff, "cutoff")).delete()

    async def list_pending(self, phone: str) -> list[Transaction]:
        if not _fits(SimulatedTransaction, "phone", phone):
            return []
        rows = await SimulatedTransaction.filter(
            phone=phone, status=TransactionStatus.PENDING.value
        ).order_by("created_at", "id")
        return [_transaction_record(row) for row in rows]


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
        cutoff = _to_db(self._now() - self._retention, "cutoff")  # in UTC: no wall-clock math
        return await UsedAsanTransaction.filter(used_at__lt=cutoff).delete()

    async def consume(self, transaction_id: str) -> bool:
        """Record ``transaction_id`` as used: True the first time, False every time after."""
        if not transaction_id:
            raise ValueError("transaction_id is empty")
        await self.forget_expired()
        now = _to_db(self._now(), "now")
        return await _insert(
            UsedAsanTransaction, {"transaction_id": transaction_id}, {"used_at": now}
        )

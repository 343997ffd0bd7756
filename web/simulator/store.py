"""The Asan İmza simulator's store on the database, shared by every worker process.

:class:`DatabaseSimulatorStore` is the :class:`web.simulator.operator.SimulatorStore` of
:class:`web.simulator.operator.MemorySimulatorStore` on the tables of :mod:`models.asan`; it
behaves the same:

* ``put_*`` is a compare-and-set on ``version``. Version 0 means "must not exist yet" and is an
  ``INSERT`` (a unique-key conflict → :class:`StaleRecord`); any other version is
  ``UPDATE … SET …, version = version + 1 WHERE <key> = ? AND version = ?`` and 0 rows updated
  → :class:`StaleRecord`. The key (phone for SIMs, id for transactions) selects the row.
  The saved copy (``version + 1``) is returned, nothing is changed on a conflict.
* ``list_pending`` returns every stored PENDING transaction of a number, expired ones included
  (the simulator settles expiry itself), oldest first.

Inserts, value lengths and datetimes behave as in `web/identity/asan_imza/db_store.py`, whose
helpers this module shares.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from tortoise.models import Model

from models.asan import SimulatedSim, SimulatedTransaction
from web.identity.asan_imza.db_store import insert_if_absent, to_db_datetime
from web.identity.asan_imza.errors import StaleRecord
from web.identity.asan_imza.gateway import SignedCertificate, TransactionStatus
from web.simulator.operator import SimCertificate, SimPhone, Transaction

__all__ = ["DatabaseSimulatorStore"]


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


async def _compare_and_set(
    model: type[Model], key: dict[str, Any], version: int, values: dict[str, Any], label: str
) -> None:
    """Save ``values`` with ``version + 1`` if the stored version is ``version`` (0: absent)."""
    if version == 0:
        if not await insert_if_absent(model, key, {**values, "version": 1}):
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
        "created_at": to_db_datetime(record.created_at, "created_at"),
        "expires_at": to_db_datetime(record.expires_at, "expires_at"),
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
        expired = SimulatedTransaction.filter(expires_at__lt=to_db_datetime(cutoff, "cutoff"))
        return await expired.delete()

    async def list_pending(self, phone: str) -> list[Transaction]:
        if not _fits(SimulatedTransaction, "phone", phone):
            return []
        rows = await SimulatedTransaction.filter(
            phone=phone, status=TransactionStatus.PENDING.value
        ).order_by("created_at", "id")
        return [_transaction_record(row) for row in rows]

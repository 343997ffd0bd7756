"""Asan İmza: the simulator's SIMs and transactions, and the portal's replay guard.

These tables back :mod:`web.identity.asan_imza.db_store`, so that several worker processes share
one simulator state and one replay guard. Every write to the two ``asan_simulated_*`` tables is
a compare-and-set on ``version`` (``UPDATE … WHERE pk = ? AND version = ?``); the store, not the
models, holds that logic and the conversion to and from the simulator's dataclass records.

Certificates and keys are kept as PEM text; byte strings that are not PEM (signatures) are
base64 in the JSON, the challenge hash is lower-case hex. Datetimes are timezone-aware (written
in the ORM's time zone, like every Tortoise insert, so SQLite's text timestamps stay comparable).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

__all__ = ["SimulatedSim", "SimulatedTransaction", "UsedAsanTransaction"]


class SimulatedSim(Model):
    """A simulated SIM with Asan İmza (``web.simulator.operator.SimPhone``).

    ``certificates``: ``[{"chain_pem": [str, …], "encrypted_key_pem": str}, …]``, personal
    certificate first; each chain end-entity first, each key encrypted under PIN1.
    """

    id = fields.IntField(primary_key=True)
    phone = fields.CharField(max_length=32, unique=True, description="E.164, e.g. +994501234567")
    user_id = fields.CharField(max_length=32)
    fin = fields.CharField(max_length=32)
    full_name = fields.CharField(max_length=255)
    certificates: fields.JSONField[list[dict]] = fields.JSONField(default=list)
    failed_pin_attempts = fields.IntField(default=0)
    blocked = fields.BooleanField(default=False)
    version = fields.IntField(default=0, description="compare-and-set counter, ≥ 1 once saved")

    class Meta:
        table = "asan_simulated_sim"
        table_description = "Asan İmza simulator: SIMs"

    def __str__(self) -> str:
        return self.phone


class SimulatedTransaction(Model):
    """A simulated Asan İmza sign-in request (``…simulator.Transaction``).

    ``status`` holds a ``TransactionStatus`` value; ``signatures`` (SIGNED only) is
    ``[{"chain_pem": [str, …], "signature": base64 DER ECDSA}, …]``.
    """

    id = fields.CharField(max_length=64, primary_key=True)
    phone = fields.CharField(max_length=32)
    user_id = fields.TextField(description="as typed by the user, may match no SIM")
    challenge_hash = fields.CharField(max_length=128, description="hex of the SHA-256 hash")
    language = fields.CharField(max_length=8)
    created_at = fields.DatetimeField()
    expires_at = fields.DatetimeField()
    status = fields.CharField(max_length=16, default="pending")
    delivered = fields.BooleanField(default=True)
    signatures: fields.JSONField[list[dict]] = fields.JSONField(default=list)
    reason = fields.CharField(max_length=64, null=True)
    version = fields.IntField(default=0, description="compare-and-set counter, ≥ 1 once saved")

    class Meta:
        table = "asan_simulated_transaction"
        table_description = "Asan İmza simulator: sign-in requests"
        # list_pending: WHERE phone = ? AND status = 'pending' (also serves phone-only lookups)
        indexes = (("phone", "status"),)

    def __str__(self) -> str:
        return self.id


class UsedAsanTransaction(Model):
    """An Asan İmza transaction id already used for a sign-in (the portal's replay guard)."""

    transaction_id = fields.CharField(max_length=255, primary_key=True)
    used_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "asan_used_transaction"
        table_description = "Asan İmza transaction ids consumed by a sign-in (replay guard)"

    def __str__(self) -> str:
        return self.transaction_id

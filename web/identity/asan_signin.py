"""The portal side of an Asan İmza sign-in, from "Daxil ol" to a verified person.

The gateway is the seam to the operator (`asan_imza.gateway.AsanGateway`): `create_app`
puts an `AsanService` in the app's state and handlers receive it as the `asan` dependency
(`web/identity/means.py`; None when no operator is configured). On this installation the
only gateway is the simulator (`ASAN_GATEWAY=simulator`, built by `web/simulator/wiring.py`),
whose state lives in the database so that the portal and the phone page may be served by
different workers.
A real operator adapter implements the same two calls and ships its CA certificate
(`ASAN_TRUSTED_CA_FILE`); nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from web.identity import accounts
from web.identity.asan_imza import (
    AsanGateway,
    AsanVerificationError,
    ReplayGuard,
    TransactionStatus,
    challenge_hash,
    new_challenge,
    verification_code,
    verify_sign_in,
)
from web.platform.portal_time import utcnow


class Outcome(StrEnum):
    PENDING = "pending"
    SIGNED_IN = "signed_in"
    REFUSED = "refused"
    EXPIRED = "expired"
    BLOCKED = "blocked"
    FAILED = "failed"  # the response did not verify: never trusted


@dataclass
class AsanService:
    gateway: AsanGateway
    trusted_ca_pem: bytes
    replay_guard: ReplayGuard


@dataclass
class PendingSignIn:
    """What the portal keeps in the session between "Daxil ol" and the phone's answer."""

    transaction_id: str
    challenge_hash_hex: str
    phone: str
    user_id: str
    expires_at: float

    @property
    def code(self) -> str:
        return verification_code(bytes.fromhex(self.challenge_hash_hex))

    def to_session(self) -> dict:
        return self.__dict__.copy()

    @classmethod
    def from_session(cls, data: dict | None) -> PendingSignIn | None:
        try:
            return cls(**data) if data else None
        except TypeError:
            return None


@dataclass
class PollResult:
    outcome: Outcome
    person_id: int | None = None


async def start(service: AsanService, *, phone: str, user_id: str, language: str) -> PendingSignIn:
    digest = challenge_hash(new_challenge())
    started = await service.gateway.start(
        phone=phone, user_id=user_id, challenge_hash=digest, language=language
    )
    return PendingSignIn(
        transaction_id=started.transaction_id,
        challenge_hash_hex=digest.hex(),
        phone=phone,
        user_id=user_id,
        expires_at=started.expires_at.timestamp(),
    )


_FINAL = {
    TransactionStatus.REFUSED: Outcome.REFUSED,
    TransactionStatus.EXPIRED: Outcome.EXPIRED,
    TransactionStatus.BLOCKED: Outcome.BLOCKED,
}


async def poll(service: AsanService, pending: PendingSignIn) -> PollResult:
    """Ask the operator once; on a signature, verify everything before trusting anyone."""
    result = await service.gateway.status(pending.transaction_id)
    if result.status is TransactionStatus.PENDING:
        return PollResult(Outcome.PENDING)
    if result.status is not TransactionStatus.SIGNED:
        return PollResult(_FINAL.get(result.status, Outcome.FAILED))
    try:
        verified = verify_sign_in(
            challenge_hash=bytes.fromhex(pending.challenge_hash_hex),
            signatures=result.signatures or [],
            trusted_ca_pem=service.trusted_ca_pem,
            now=utcnow(),
        )
    except AsanVerificationError:
        return PollResult(Outcome.FAILED)
    # Single use: a second poll of the same signed transaction signs nobody in.
    if not await service.replay_guard.consume(pending.transaction_id):
        return PollResult(Outcome.FAILED)
    person = await accounts.record_asan_identity(
        fin=verified.person.fin,
        full_name=verified.person.full_name,
        phone=pending.phone,
        user_id=pending.user_id,
        companies=[(c.voen, c.company_name) for c in verified.companies if c.voen],
    )
    return PollResult(Outcome.SIGNED_IN, person_id=person.id)

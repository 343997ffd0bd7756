"""The portal side of an Asan İmza sign-in, from "Daxil ol" to a verified person.

The gateway is the seam to the operator (`asan_imza.gateway.AsanGateway`). On this
installation it is the simulator (`ASAN_GATEWAY=simulator`), whose state lives in the
database so that the portal and the phone page may be served by different workers.
A real operator adapter implements the same two calls and ships its CA certificate
(`ASAN_TRUSTED_CA_FILE`); nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from web.identity import accounts
from web.identity.asan_imza import (
    AsanGateway,
    AsanVerificationError,
    CertificateRevoked,
    CrlRevocationChecker,
    ReplayGuard,
    RevocationChecker,
    TransactionStatus,
    challenge_hash,
    check_sign_in_revocation,
    new_challenge,
    verification_code,
    verify_sign_in,
)
from web.identity.asan_imza.db_store import DatabaseReplayGuard
from web.identity.asan_imza.pki import DemoCA
from web.settings import Settings


class Outcome(StrEnum):
    PENDING = "pending"
    SIGNED_IN = "signed_in"
    REFUSED = "refused"
    EXPIRED = "expired"
    BLOCKED = "blocked"
    REVOKED = "revoked"  # the certificate was revoked by its CA
    FAILED = "failed"  # the response did not verify: never trusted


# A consumed transaction id is remembered this long: far longer than the operator keeps a
# SIGNED answer readable (the simulator forgets transactions SIMULATOR_KEEP after they end).
USED_ID_RETENTION = timedelta(days=1)
SIMULATOR_KEEP = timedelta(hours=1)


@dataclass
class AsanService:
    gateway: AsanGateway
    trusted_ca_pem: bytes
    replay_guard: ReplayGuard
    revocation: RevocationChecker | None = None
    # Simulator mode only: web.simulator's AsanSimulator and DatabaseSimulatorStore. Typed Any so
    # that handlers given this service (Litestar/msgspec read its annotations at run time) need
    # no import of the simulator package.
    simulator: Any = None
    simulator_store: Any = None


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


def demo_ca_directory(settings: Settings) -> Path:
    """ASAN_DEMO_CA_DIR (default DATA_DIR/asan-demo-ca). Several instances share one folder
    (creation is locked) and one SECRET_KEY, or a phone signed by one is refused by another."""
    return settings.asan_demo_ca_dir


def load_demo_ca(settings: Settings) -> DemoCA:
    """The simulator's demo CA, made on first run under DATA_DIR (key encrypted)."""
    return DemoCA.load_or_create(demo_ca_directory(settings), settings.secret_key)


def build_asan_service(settings: Settings) -> AsanService | None:
    if settings.asan_gateway != "simulator" or not settings.is_development:
        return None  # no operator adapter configured: Asan İmza is listed but explains why
    # Development code, loaded only in simulator mode (never on a production import path).
    from web.simulator.operator import AsanSimulator
    from web.simulator.store import DatabaseSimulatorStore

    ca = load_demo_ca(settings)
    store = DatabaseSimulatorStore()
    simulator = AsanSimulator(store, ttl=timedelta(seconds=settings.asan_simulator_ttl_seconds))
    # The demo CA publishes a CRL like a real one; a real operator's CRL (or OCSP responder)
    # plugs in here through the same RevocationChecker.
    crl_directory = demo_ca_directory(settings)
    return AsanService(
        gateway=simulator,
        trusted_ca_pem=ca.certificate_pem,
        replay_guard=DatabaseReplayGuard(retention=USED_ID_RETENTION),
        revocation=CrlRevocationChecker(
            lambda: [ca.current_crl(crl_directory, now=datetime.now(UTC))]
        ),
        simulator=simulator,
        simulator_store=store,
    )


async def purge_expired(service: AsanService, *, now: datetime) -> None:
    """Forget used transaction ids past their retention and simulator transactions that
    ended more than SIMULATOR_KEEP ago (the app runs this on its housekeeping timer)."""
    forget = getattr(service.replay_guard, "forget_expired", None)
    if forget is not None:
        await forget()
    if service.simulator_store is not None:
        await service.simulator_store.delete_expired_before(now - SIMULATOR_KEEP)


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
            now=datetime.now(UTC),
        )
        if service.revocation is not None:
            await check_sign_in_revocation(
                signatures=result.signatures or [],
                trusted_ca_pem=service.trusted_ca_pem,
                revocation=service.revocation,
                now=datetime.now(UTC),
            )
    except CertificateRevoked:
        return PollResult(Outcome.REVOKED)
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

"""A faithful stand-in for the Asan İmza operator and the user's phone (SIM).

:class:`AsanSimulator` implements :class:`.gateway.AsanGateway` for the portal *and* offers the
phone-side calls a "virtual phone" page needs (:meth:`~AsanSimulator.pending_for`,
:meth:`~AsanSimulator.confirm_with_pin`, :meth:`~AsanSimulator.refuse`). The portal side cannot
tell it from a real operator: it gets the same statuses, certificate chains and ECDSA signatures.

Behaviour
---------
* ``start`` always creates a transaction and returns its id and ``expires_at`` (now + TTL,
  120 s by default). If the number is not a registered SIM, or the user ID does not match it,
  the request is simply never delivered to a phone and ends ``EXPIRED`` after the TTL — exactly
  what an unanswered request looks like — so the portal cannot be used to enumerate numbers or
  user IDs. (A malformed number or hash is a caller bug and raises ``ValueError``.)
* The phone sees its newest delivered, unexpired ``PENDING`` request, with the 4-digit code it
  computes itself from the challenge hash (:attr:`Transaction.verification_code`).
* ``confirm_with_pin`` unlocks every certificate key with PIN1 (keys are stored encrypted under
  PIN1, see :mod:`.pki`) and signs the 32-byte hash with each (ECDSA, prehashed SHA-256) →
  ``SIGNED`` with one :class:`.gateway.SignedCertificate` per certificate (personal first).
  A wrong PIN raises :class:`.errors.WrongPin` with ``attempts_left`` and leaves the request
  pending so the user can retry; a right PIN resets the counter. The third wrong PIN in a row
  blocks the SIM (``WrongPin(attempts_left=0)``, transaction ``BLOCKED``); afterwards every
  confirmation raises :class:`.errors.SimBlocked`, even with the right PIN, and marks the
  transaction ``BLOCKED``. Refusing needs no PIN and still works on a blocked SIM.
* Every transaction is answered once: confirming or refusing anything but a live ``PENDING``
  request raises :class:`.errors.TransactionNotPending` / :class:`.errors.TransactionExpired`.
  Expiry is evaluated against the injected clock on every access and written back.

Storage and several workers
---------------------------
State lives behind :class:`SimulatorStore` (five async methods). Records are immutable
dataclasses with a ``version``; ``put_*`` is a compare-and-set on that version, and the simulator
re-reads and re-decides when it loses a race (:class:`.errors.StaleRecord`). A database store
implements ``put_*`` as ``INSERT`` (version 0) or ``UPDATE … WHERE id = ? AND version = ?`` —
that alone keeps the PIN counter exact and a transaction single-use across workers.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

from web.identity.asan_imza.errors import (
    SimBlocked,
    StaleRecord,
    TransactionExpired,
    TransactionNotFound,
    TransactionNotPending,
    WrongPin,
)
from web.identity.asan_imza.gateway import (
    REASON_SIM_BLOCKED,
    REASON_TIMEOUT,
    REASON_USER_REFUSED,
    SignedCertificate,
    StartResult,
    StatusResult,
    TransactionStatus,
)
from web.identity.asan_imza.phone import normalize_az_mobile
from web.identity.asan_imza.pki import (
    DemoCA,
    decrypt_private_key,
    encrypt_private_key,
    issue_identity_certificate,
)
from web.identity.asan_imza.protocol import verification_code
from web.platform.portal_time import utcnow

__all__ = [
    "DEFAULT_TTL",
    "MAX_PIN_ATTEMPTS",
    "AsanSimulator",
    "SimCertificate",
    "SimPhone",
    "SimulatorStore",
    "Transaction",
    "provision_demo_phone",
]

DEFAULT_TTL = timedelta(seconds=120)
MAX_PIN_ATTEMPTS = 3
SUPPORTED_LANGUAGES = frozenset({"az", "en", "ru"})
DEFAULT_LANGUAGE = "az"
DEFAULT_CERTIFICATE_VALIDITY = timedelta(days=730)
_RETRIES = 8  # compare-and-set attempts before giving up (only under heavy contention)
_PIN_RE = re.compile(r"[0-9]{4,8}")
_USER_ID_RE = re.compile(r"[0-9]{1,16}")


# --- records -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SimCertificate:
    """A certificate on the SIM: its chain (end-entity first) and its key encrypted under PIN1."""

    certificate_chain_pem: tuple[bytes, ...]
    encrypted_key_pem: bytes

    @property
    def certificate_pem(self) -> bytes:
        """The end-entity certificate."""
        return self.certificate_chain_pem[0]


@dataclass(frozen=True, slots=True)
class SimPhone:
    """A SIM with Asan İmza: number, user ID, holder and certificates (personal first)."""

    phone: str
    user_id: str
    fin: str
    full_name: str
    certificates: tuple[SimCertificate, ...]
    failed_pin_attempts: int = 0
    blocked: bool = False
    version: int = 0


@dataclass(frozen=True, slots=True)
class Transaction:
    """One sign-in request as the operator keeps it.

    ``delivered`` is False when the number/user ID did not match a SIM: such a transaction is
    never shown on any phone and can only expire.
    """

    id: str
    phone: str
    user_id: str
    challenge_hash: bytes
    language: str
    created_at: datetime
    expires_at: datetime
    status: TransactionStatus = TransactionStatus.PENDING
    delivered: bool = True
    signatures: tuple[SignedCertificate, ...] = ()
    reason: str | None = None
    version: int = 0

    @property
    def verification_code(self) -> str:
        """The code the phone shows, derived by the phone from the hash it received."""
        return verification_code(self.challenge_hash)

    def is_expired(self, now: datetime) -> bool:
        """True once the TTL has run out (whatever the stored status says)."""
        return now >= self.expires_at


# --- storage -------------------------------------------------------------------------------


@runtime_checkable
class SimulatorStore(Protocol):
    """Where the simulator keeps SIMs and transactions.

    ``put_*`` is a compare-and-set: ``record.version`` must equal the stored version, 0 meaning
    "must not exist yet". The store saves the record with ``version + 1`` and returns that
    saved copy; otherwise it raises :class:`.errors.StaleRecord` and changes nothing.
    """

    async def get_phone(self, phone: str) -> SimPhone | None:
        """The SIM registered under an E.164 number, or None."""
        ...

    async def put_phone(self, record: SimPhone) -> SimPhone:
        """Insert or update a SIM (compare-and-set on ``version``)."""
        ...

    async def get_transaction(self, transaction_id: str) -> Transaction | None:
        """A transaction by id, or None."""
        ...

    async def put_transaction(self, record: Transaction) -> Transaction:
        """Insert or update a transaction (compare-and-set on ``version``)."""
        ...

    async def list_pending(self, phone: str) -> list[Transaction]:
        """Transactions for ``phone`` whose stored status is PENDING (expired ones included)."""
        ...


# --- the simulator -------------------------------------------------------------------------


def _sign(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """What the SIM does: ECDSA over an already computed SHA-256 digest, DER-encoded."""
    return key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))


class AsanSimulator:
    """Operator + phones. Implements :class:`.gateway.AsanGateway` plus the phone-side API."""

    def __init__(
        self,
        store: SimulatorStore,
        *,
        ttl: timedelta = DEFAULT_TTL,
        now: Callable[[], datetime] = utcnow,
        max_pin_attempts: int = MAX_PIN_ATTEMPTS,
    ) -> None:
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        if max_pin_attempts < 1:
            raise ValueError("max_pin_attempts must be at least 1")
        self._store = store
        self._ttl = ttl
        self._clock = now
        self._max_pin_attempts = max_pin_attempts

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError("the simulator clock must return timezone-aware datetimes")
        return now

    # -- operator side (AsanGateway) --------------------------------------------------------

    async def start(
        self, *, phone: str, user_id: str, challenge_hash: bytes, language: str
    ) -> StartResult:
        """Register a request; deliver it to the phone only if number and user ID match a SIM."""
        if not isinstance(challenge_hash, bytes) or len(challenge_hash) != 32:
            raise ValueError("challenge_hash must be the 32-byte SHA-256 of the challenge")
        normalized = normalize_az_mobile(phone)
        if normalized is None:
            raise ValueError("phone is not an Azerbaijani mobile number")
        sim = await self._store.get_phone(normalized)
        now = self._now()
        tx = Transaction(
            id=secrets.token_urlsafe(24),
            phone=normalized,
            user_id=user_id.strip(),
            challenge_hash=challenge_hash,
            language=language if language in SUPPORTED_LANGUAGES else DEFAULT_LANGUAGE,
            created_at=now,
            expires_at=now + self._ttl,
            delivered=sim is not None and sim.user_id == user_id.strip(),
        )
        tx = await self._store.put_transaction(tx)
        return StartResult(transaction_id=tx.id, expires_at=tx.expires_at)

    async def status(self, transaction_id: str) -> StatusResult:
        """Current status; ``signatures`` only for SIGNED. Unknown id → TransactionNotFound."""
        tx = await self._store.get_transaction(transaction_id)
        if tx is None:
            raise TransactionNotFound("unknown transaction")
        tx = await self._settle_expiry(tx)
        signatures = None
        if tx.status is TransactionStatus.SIGNED:
            signatures = [
                SignedCertificate(list(item.certificate_chain_pem), item.signature)
                for item in tx.signatures
            ]
        return StatusResult(status=tx.status, signatures=signatures, reason=tx.reason)

    # -- phone side ---------------------------------------------------------------------------

    async def get_phone(self, phone: str) -> SimPhone | None:
        """The SIM behind a number (any spelling), for the phone page (blocked? attempts?)."""
        normalized = normalize_az_mobile(phone)
        return await self._store.get_phone(normalized) if normalized else None

    async def pending_for(self, phone: str) -> Transaction | None:
        """The newest live request on this phone, or None. Expired ones are settled on the way."""
        normalized = normalize_az_mobile(phone)
        if normalized is None:
            return None
        live = []
        for tx in await self._store.list_pending(normalized):
            settled = await self._settle_expiry(tx)
            if settled.delivered and settled.status is TransactionStatus.PENDING:
                live.append(settled)
        return max(live, key=lambda tx: tx.created_at, default=None)

    async def refuse(self, transaction_id: str, phone: str) -> Transaction:
        """The user pressed "cancel" on the phone → REFUSED."""

        async def decide(tx: Transaction, sim: SimPhone) -> Transaction:
            return await self._store.put_transaction(
                replace(tx, status=TransactionStatus.REFUSED, reason=REASON_USER_REFUSED)
            )

        return await self._act(transaction_id, phone, decide, check_blocked=False)

    async def confirm_with_pin(self, transaction_id: str, phone: str, pin1: str) -> Transaction:
        """The user compared the code and typed PIN1 → SIGNED (or WrongPin / SimBlocked)."""

        async def decide(tx: Transaction, sim: SimPhone) -> Transaction:
            try:
                keys = [decrypt_private_key(c.encrypted_key_pem, pin1) for c in sim.certificates]
            except WrongPin:
                failed = sim.failed_pin_attempts + 1
                blocked = failed >= self._max_pin_attempts
                await self._store.put_phone(
                    replace(sim, failed_pin_attempts=failed, blocked=blocked)
                )  # StaleRecord here → _act re-reads and decides again
                if blocked:
                    await self._finish(tx.id, TransactionStatus.BLOCKED, REASON_SIM_BLOCKED)
                raise WrongPin(attempts_left=self._max_pin_attempts - failed) from None
            signatures = tuple(
                SignedCertificate(list(cert.certificate_chain_pem), _sign(key, tx.challenge_hash))
                for cert, key in zip(sim.certificates, keys, strict=True)
            )
            signed = await self._store.put_transaction(
                replace(tx, status=TransactionStatus.SIGNED, signatures=signatures, reason=None)
            )
            if sim.failed_pin_attempts:
                # A concurrent attempt may have changed the counter meanwhile; keep its value.
                with contextlib.suppress(StaleRecord):
                    await self._store.put_phone(replace(sim, failed_pin_attempts=0))
            return signed

        return await self._act(transaction_id, phone, decide, check_blocked=True)

    # -- internals ----------------------------------------------------------------------------

    async def _act(
        self,
        transaction_id: str,
        phone: str,
        decide: Callable[[Transaction, SimPhone], Awaitable[Transaction]],
        *,
        check_blocked: bool,
    ) -> Transaction:
        """Load, check ownership/blocking/expiry/status, then ``decide``; retry lost races."""
        normalized = normalize_az_mobile(phone)
        for _ in range(_RETRIES):
            tx = await self._store.get_transaction(transaction_id)
            if tx is None or normalized is None or tx.phone != normalized or not tx.delivered:
                raise TransactionNotFound("no such request on this phone")
            sim = await self._store.get_phone(normalized)
            if sim is None:  # the SIM was removed after delivery
                raise TransactionNotFound("no such request on this phone")
            tx = await self._settle_expiry(tx)
            if check_blocked and sim.blocked:
                if tx.status is TransactionStatus.PENDING:
                    await self._finish(tx.id, TransactionStatus.BLOCKED, REASON_SIM_BLOCKED)
                raise SimBlocked("the signature PIN of this SIM is blocked; unblock it with PUK")
            if tx.status is TransactionStatus.EXPIRED:
                raise TransactionExpired("the request has expired")
            if tx.status is not TransactionStatus.PENDING:
                raise TransactionNotPending(f"the request is already {tx.status.value}")
            try:
                return await decide(tx, sim)
            except StaleRecord:
                continue
        raise StaleRecord("too much contention on this transaction; try again")

    async def _settle_expiry(self, tx: Transaction) -> Transaction:
        """Persist EXPIRED for a pending transaction past its TTL; return the current record."""
        now = self._now()
        for _ in range(_RETRIES):
            if tx.status is not TransactionStatus.PENDING or not tx.is_expired(now):
                return tx
            try:
                return await self._store.put_transaction(
                    replace(tx, status=TransactionStatus.EXPIRED, reason=REASON_TIMEOUT)
                )
            except StaleRecord:
                fresh = await self._store.get_transaction(tx.id)
                if fresh is None:
                    raise TransactionNotFound("unknown transaction") from None
                tx = fresh
        raise StaleRecord("too much contention on this transaction; try again")

    async def _finish(self, transaction_id: str, status: TransactionStatus, reason: str) -> None:
        """Move a still-pending transaction to a final status (no-op if it already moved)."""
        for _ in range(_RETRIES):
            tx = await self._store.get_transaction(transaction_id)
            if tx is None or tx.status is not TransactionStatus.PENDING:
                return
            try:
                await self._store.put_transaction(replace(tx, status=status, reason=reason))
                return
            except StaleRecord:
                continue


# --- demo seeding --------------------------------------------------------------------------


async def provision_demo_phone(
    store: SimulatorStore,
    ca: DemoCA,
    *,
    phone: str,
    user_id: str,
    pin1: str,
    fin: str,
    full_name: str,
    companies: Sequence[tuple[str, str]] = (),
    now: datetime | None = None,
    validity: timedelta = DEFAULT_CERTIFICATE_VALIDITY,
    replace_existing: bool = False,
) -> SimPhone:
    """Issue a personal certificate plus one per ``(voen, company_name)`` and register the SIM.

    Idempotent for seeding from several workers: if the number is already registered it is
    returned unchanged, unless ``replace_existing`` (new keys and certificates, counter reset,
    unblocked). ``pin1`` must be 4–8 digits; ``user_id`` ASCII digits (the real Asan İmza user
    ID is a short number). Certificates are valid from ``now`` − 5 min for ``validity``.
    """
    normalized = normalize_az_mobile(phone)
    if normalized is None:
        raise ValueError("phone is not an Azerbaijani mobile number")
    user_id = user_id.strip()
    if not _USER_ID_RE.fullmatch(user_id):
        raise ValueError("user_id must be 1–16 digits")
    if not _PIN_RE.fullmatch(pin1):
        raise ValueError("PIN1 must be 4–8 digits")
    voens = [voen for voen, _ in companies]
    if len(set(voens)) != len(voens):
        raise ValueError("each company may appear only once")

    existing = await store.get_phone(normalized)
    if existing is not None and not replace_existing:
        return existing

    start = (now or utcnow()).replace(microsecond=0) - timedelta(minutes=5)
    ca_pem = ca.certificate_pem
    certificates = []
    for voen, company_name in [(None, None), *companies]:
        key, cert = issue_identity_certificate(
            ca,
            fin=fin,
            full_name=full_name,
            voen=voen,
            company_name=company_name,
            valid_from=start,
            valid_to=start + validity,
        )
        certificates.append(
            SimCertificate(
                certificate_chain_pem=(cert.public_bytes(serialization.Encoding.PEM), ca_pem),
                encrypted_key_pem=encrypt_private_key(key, pin1),
            )
        )
    record = SimPhone(
        phone=normalized,
        user_id=user_id,
        fin=fin.strip().upper(),
        full_name=full_name.strip(),
        certificates=tuple(certificates),
        version=existing.version if existing is not None else 0,
    )
    try:
        return await store.put_phone(record)
    except StaleRecord:
        if replace_existing:
            raise
        current = await store.get_phone(normalized)  # another worker seeded it first
        if current is None:
            raise
        return current

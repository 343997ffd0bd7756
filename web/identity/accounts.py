"""Accounts, passwords, sign-in with lock-out and TOTP, and whom a person acts for.

Plain async functions over the ORM; no HTTP. Time is always passed in (`now`, time-zone
aware) so that callers and tests decide what "now" is.

Sign-in (`authenticate`) gives one of four outcomes (`AuthOutcome`):

- ``ok``: the password is right and no second factor is needed;
- ``totp_required``: the password is right and the account has a TOTP secret; call
  `verify_totp` next (the failure counter is reset only once the code is right, so the second
  factor cannot be guessed by re-entering the known password between tries);
- ``locked``: `MAX_FAILED_ATTEMPTS` consecutive failures pause the account for `LOCK_DURATION`.
  An unknown user name never gives this outcome, so the web layer shows the same message for
  both (``invalid``); guessing is throttled per user name and address before this
  (`web.identity.throttle`);
- ``invalid``: one generic outcome for an unknown user name, a wrong password or an inactive
  account. Unknown user names still cost one argon2 verification, so timing is alike.

The failure counter is changed only by conditional ``UPDATE … SET failed_attempts =
failed_attempts + 1 WHERE …`` statements, so concurrent wrong passwords are all counted and
exactly one of them sets the lock. Failures while locked are not counted and do not extend the
lock; the first attempt after the lock ends starts counting afresh.
"""

from __future__ import annotations

import asyncio
import hmac
import os
import secrets
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from pathlib import Path

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models.identity import (
    FIN_PATTERN,
    VOEN_PATTERN,
    Account,
    MembershipSource,
    Party,
    PartyKind,
    PartyMembership,
    Person,
    Role,
    normalize_username,
)
from web.identity import authority
from web.identity.asan_imza.phone import normalize_az_mobile
from web.platform.forms import Problem, Rejected

__all__ = [
    "EQUALS_USERNAME",
    "LOCK_DURATION",
    "MAX_FAILED_ATTEMPTS",
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "TOO_COMMON",
    "TOO_LONG",
    "TOO_SHORT",
    "TOTP_STEP_SECONDS",
    "TOTP_VALID_WINDOW",
    "AuthOutcome",
    "AuthResult",
    "PasswordRejected",
    "authenticate",
    "create_account",
    "get_or_create_company_party",
    "get_or_create_personal_party",
    "grant_party",
    "hash_password",
    "is_common_password",
    "new_password_hash",
    "normalize_fin",
    "normalize_voen",
    "parties_of",
    "password_needs_rehash",
    "password_problems",
    "record_asan_identity",
    "record_verified_person",
    "revoke_party",
    "set_active",
    "set_password",
    "set_role",
    "verify_password",
    "verify_totp",
]

# NIST SP 800-63B's ceiling on consecutive failures. Guessing is slowed long before this by
# `web.identity.throttle` (per user name and address), so one address takes about a day to
# get here, and the pause it causes lasts LOCK_DURATION.
MAX_FAILED_ATTEMPTS = 100
LOCK_DURATION = timedelta(minutes=15)

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128

TOTP_STEP_SECONDS = 30
TOTP_VALID_WINDOW = 1  # steps either side of the current one

COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common_passwords.txt"

# The codes of `password_problems` (no page sets a password yet: one would word them).
TOO_SHORT = "password_too_short"
TOO_LONG = "password_too_long"
TOO_COMMON = "password_too_common"
EQUALS_USERNAME = "password_equals_username"


# --- Passwords ------------------------------------------------------------------------------

# argon2id with OWASP's recommended "m=19 MiB, t=2, p=1" (Password Storage Cheat Sheet),
# chosen on purpose over the library's default (RFC 9106 low-memory: 64 MiB, t=3, p=4): it
# is one of OWASP's equivalent settings, and at a third of the memory per hash a burst of
# sign-ins stays small. Hashes made with other parameters still verify and are rehashed
# at the next sign-in (`password_needs_rehash`).
ARGON2_MEMORY_KIB = 19 * 1024
ARGON2_TIME_COST = 2
ARGON2_PARALLELISM = 1
_hasher = PasswordHasher(
    time_cost=ARGON2_TIME_COST, memory_cost=ARGON2_MEMORY_KIB, parallelism=ARGON2_PARALLELISM
)

# argon2 takes tens of milliseconds of CPU (it releases the GIL) and its memory cost each
# time: run it off the event loop, on at most one thread per CPU. More at once would not
# finish sooner, only hold more memory; the rest wait their turn in this pool's queue.
HASHING_THREADS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
_hashing_pool = ThreadPoolExecutor(max_workers=HASHING_THREADS, thread_name_prefix="argon2")


def hash_password(password: str) -> str:
    """An argon2id hash (``$argon2id$…``) of the password, with a fresh salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash; False (never an exception) for a bad hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def password_needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (rehash on next sign-in)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


async def _off_loop(function, *args):
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool, function, *args)


async def _verify_off_loop(password_hash: str, password: str) -> bool:
    return await _off_loop(verify_password, password_hash, password)


async def _hash_off_loop(password: str) -> str:
    return await _off_loop(hash_password, password)


@cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, verified for unknown user names (same timing)."""
    return hash_password(secrets.token_urlsafe(32))


@cache
def _common_passwords() -> frozenset[str]:
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as handle:
        return frozenset(line.strip().lower() for line in handle if line.strip())


def is_common_password(password: str) -> bool:
    """Whether the password (in any case) is on the shipped list of common passwords."""
    return password.lower() in _common_passwords()


def password_problems(password: str, *, username: str) -> list[Problem]:
    """Everything wrong with a new password (input `password`); empty when it is acceptable."""
    problems: list[Problem] = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem(TOO_SHORT, "password", {"min": MIN_PASSWORD_LENGTH}))
    elif len(password) > MAX_PASSWORD_LENGTH:
        problems.append(Problem(TOO_LONG, "password", {"max": MAX_PASSWORD_LENGTH}))
    if is_common_password(password):
        problems.append(Problem(TOO_COMMON, "password"))
    normalized_username = normalize_username(username) if username else ""
    if normalized_username and password.strip().lower() == normalized_username:
        problems.append(Problem(EQUALS_USERNAME, "password"))
    return problems


class PasswordRejected(Rejected):
    """A new password failed `password_problems`; `problems` says why."""


async def set_password(account: Account, password: str) -> None:
    """Validate and store a new password for the account (raises `PasswordRejected`)."""
    problems = password_problems(password, username=account.username)
    if problems:
        raise PasswordRejected(*problems)
    account.password_hash = await _hash_off_loop(password)
    await account.save(update_fields=["password_hash", "updated_at"])
    # Whoever knew the old password is signed out everywhere (OWASP session management).
    await authority.end_sessions(account.person_id)


async def set_role(account: Account, role: Role) -> None:
    """A staff role given or taken: sessions signed in with this account apply it at their
    next request (the guards check the role on every request)."""
    account.role = Role(role)
    await account.save(update_fields=["role", "updated_at"])
    await authority.changed(account.person_id)


async def set_active(account: Account, active: bool) -> None:
    """Disable (or enable again) an account. Disabling ends every session of its person:
    whoever holds one may be why it was disabled."""
    account.is_active = active
    await account.save(update_fields=["is_active", "updated_at"])
    if not active:
        await authority.end_sessions(account.person_id)


async def create_account(
    person: Person,
    username: str,
    password: str,
    *,
    role: Role = Role.CITIZEN,
    totp_secret: str | None = None,
) -> Account:
    """A new account for the person; the password is validated (raises `PasswordRejected`).

    A user name already taken (in any case) raises `tortoise.exceptions.IntegrityError`.
    """
    normalized = normalize_username(username)
    if not normalized or len(normalized) > 150:
        raise ValueError("a user name has 1 to 150 characters")
    return await Account.create(
        person=person,
        username=normalized,
        password_hash=await new_password_hash(password, username=normalized),
        role=role,
        totp_secret=totp_secret,
    )


async def new_password_hash(password: str, *, username: str) -> str:
    """The stored hash of an acceptable new password (raises `PasswordRejected`); hashed off
    the event loop, so a caller can do it before opening a transaction."""
    problems = password_problems(password, username=username)
    if problems:
        raise PasswordRejected(*problems)
    return await _hash_off_loop(password)


# --- Sign-in --------------------------------------------------------------------------------


class AuthOutcome(StrEnum):
    OK = "ok"
    INVALID = "invalid"
    LOCKED = "locked"
    TOTP_REQUIRED = "totp_required"


@dataclass(frozen=True, slots=True)
class AuthResult:
    """What `authenticate` decided. `account` is set for ok / totp_required only,
    `locked_until` for locked only."""

    outcome: AuthOutcome
    account: Account | None = None
    locked_until: datetime | None = None

    @classmethod
    def ok(cls, account: Account) -> AuthResult:
        return cls(AuthOutcome.OK, account=account)

    @classmethod
    def invalid(cls) -> AuthResult:
        return cls(AuthOutcome.INVALID)

    @classmethod
    def locked(cls, until: datetime) -> AuthResult:
        return cls(AuthOutcome.LOCKED, locked_until=until)

    @classmethod
    def totp_required(cls, account: Account) -> AuthResult:
        return cls(AuthOutcome.TOTP_REQUIRED, account=account)

    @property
    def is_ok(self) -> bool:
        return self.outcome is AuthOutcome.OK


def _utc(moment: datetime) -> datetime:
    """`moment` in UTC; naive datetimes are refused (their meaning would depend on the host).

    Everything this module writes is in UTC, so that the same instant is always stored (and
    compared, on SQLite, as text) in the same spelling.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a time-zone aware datetime is needed")
    return moment.astimezone(UTC)


async def authenticate(username: str, password: str, *, now: datetime) -> AuthResult:
    """Check a user name and password at `now`; see the module docstring for the outcomes."""
    now = _utc(now)
    account = await Account.get_or_none(username=normalize_username(username))
    if account is None or not account.is_active:
        await _verify_off_loop(_dummy_hash(), password)  # the same cost as a real check
        return AuthResult.invalid()

    if account.is_locked(now):
        # Checked anyway for alike timing; even the right password is refused, nothing counted.
        await _verify_off_loop(account.password_hash, password)
        assert account.locked_until is not None
        return AuthResult.locked(account.locked_until)

    if account.locked_until is not None:
        await _end_expired_lock(account)

    if not await _verify_off_loop(account.password_hash, password):
        return await _record_failure(account, now)

    if password_needs_rehash(account.password_hash):
        account.password_hash = await _hash_off_loop(password)
        await Account.filter(id=account.id).update(password_hash=account.password_hash)

    if account.totp_secret:
        return AuthResult.totp_required(account)

    await _reset_failures(account)
    return AuthResult.ok(account)


async def _end_expired_lock(account: Account) -> None:
    """Forget a lock that has run out (and the failures that caused it).

    Conditional on the same `locked_until`, so a request that read the old lock cannot wipe a
    newer one, and concurrent requests clear it once.
    """
    expired = account.locked_until
    assert expired is not None
    cleared = await Account.filter(id=account.id, locked_until=_utc(expired)).update(
        failed_attempts=0, locked_until=None
    )
    if not cleared:
        await account.refresh_from_db(fields=["failed_attempts", "locked_until"])
        if account.locked_until == expired:
            # The same instant stored in another spelling (SQLite compares datetimes as text).
            await Account.filter(id=account.id, locked_until__isnull=False).update(
                failed_attempts=0, locked_until=None
            )
    account.failed_attempts = 0
    account.locked_until = None


async def _record_failure(account: Account, now: datetime) -> AuthResult:
    """Count one failure atomically; the failure that reaches the limit sets the lock."""
    counted = await Account.filter(
        id=account.id, failed_attempts__lt=MAX_FAILED_ATTEMPTS, locked_until__isnull=True
    ).update(failed_attempts=F("failed_attempts") + 1, last_failed_at=now)
    until = now + LOCK_DURATION
    # Exactly one request wins this UPDATE: the row is re-checked under its write lock.
    newly_locked = await Account.filter(
        id=account.id, failed_attempts__gte=MAX_FAILED_ATTEMPTS, locked_until__isnull=True
    ).update(locked_until=until)
    if newly_locked:
        account.locked_until = until
        return AuthResult.locked(until)
    if not counted:
        # A concurrent request locked the account between our read and our update.
        await account.refresh_from_db(fields=["failed_attempts", "locked_until"])
        if account.is_locked(now):
            assert account.locked_until is not None
            return AuthResult.locked(account.locked_until)
    return AuthResult.invalid()


async def _reset_failures(account: Account) -> None:
    await Account.filter(id=account.id).update(failed_attempts=0, locked_until=None)
    account.failed_attempts = 0
    account.locked_until = None


# --- TOTP -----------------------------------------------------------------------------------


def _totp_step(now: datetime) -> int:
    return int(now.timestamp()) // TOTP_STEP_SECONDS


async def verify_totp(account: Account, code: str, *, now: datetime) -> bool:
    """Whether `code` is the account's TOTP code at `now` (± one 30-second step).

    A code from a step at or before `totp_last_used_step` is refused (replay); on success the
    step is stored (compare-and-set, so two requests cannot both use one code) and the failure
    counter is reset. A wrong or replayed code counts as a failed sign-in, and a locked account
    is refused, so the second factor shares the password's lock-out.
    """
    now = _utc(now)
    await account.refresh_from_db(
        fields=["totp_secret", "totp_last_used_step", "failed_attempts", "locked_until"]
    )
    if not account.totp_secret or not account.is_active:
        return False
    if account.is_locked(now):
        return False
    if account.locked_until is not None:
        await _end_expired_lock(account)

    code = "".join(code.split())
    totp = pyotp.TOTP(account.totp_secret, interval=TOTP_STEP_SECONDS)
    current = _totp_step(now)
    matched: int | None = None
    if len(code) == totp.digits and code.isascii() and code.isdigit():
        for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
            if hmac.compare_digest(totp.generate_otp(step), code):
                matched = step  # the latest matching step, should two collide

    last_used = account.totp_last_used_step
    if matched is None or (last_used is not None and matched <= last_used):
        await _record_failure(account, now)
        return False

    # The secret too: a new key set meanwhile (`staff totp`, a lost phone) voids the old one's
    # code even when it was read before the change.
    used = await Account.filter(
        Q(totp_last_used_step__isnull=True) | Q(totp_last_used_step__lt=matched),
        id=account.id,
        totp_secret=account.totp_secret,
    ).update(totp_last_used_step=matched, failed_attempts=0, locked_until=None)
    if not used:  # a concurrent request used this step (or a later one) first, or a new key
        await _record_failure(account, now)
        return False
    account.totp_last_used_step = matched
    account.failed_attempts = 0
    account.locked_until = None
    return True


# --- Parties --------------------------------------------------------------------------------

_FIN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def normalize_fin(fin: str) -> str:
    """The FIN trimmed and upper-cased; ValueError unless 7 Latin letters and digits."""
    normalized = fin.strip().upper()
    if len(normalized) != 7 or not set(normalized) <= _FIN_CHARS:
        raise ValueError(f"a FIN is 7 Latin letters and digits ({FIN_PATTERN})")
    return normalized


def normalize_voen(voen: str) -> str:
    """The VÖEN trimmed; ValueError unless exactly 10 digits."""
    normalized = voen.strip()
    if len(normalized) != 10 or not (normalized.isascii() and normalized.isdigit()):
        raise ValueError(f"a VÖEN is 10 digits ({VOEN_PATTERN})")
    return normalized


def _party_order(party: Party) -> tuple[int, str, str]:
    return (0 if party.is_personal else 1, party.name.casefold(), party.identifier)


async def parties_of(person: Person) -> list[Party]:
    """Whom the person may act for: their personal party first, then companies by name."""
    parties = await Party.filter(memberships__person_id=person.id).distinct()
    return sorted(parties, key=_party_order)


_CERTIFICATE_SOURCES = (MembershipSource.ASAN_CERTIFICATE, MembershipSource.E_IMZA_CERTIFICATE)


async def grant_party(
    person: Person, party: Party, source: MembershipSource | str
) -> PartyMembership:
    """Let the person act for the party (idempotent).

    An existing grant keeps its source, except that a certificate grant becomes a seed/admin
    grant when one of those is made: a deliberate grant must not vanish with a certificate.
    """
    source = MembershipSource(source)
    membership, created = await PartyMembership.get_or_create(
        person_id=person.id, party_id=party.id, defaults={"source": source}
    )
    if (
        not created
        and membership.source in _CERTIFICATE_SOURCES
        and source not in _CERTIFICATE_SOURCES
    ):
        membership.source = source
        await membership.save(update_fields=["source"])
    if created:
        # Inside a caller's transaction this is early; such callers announce it again after
        # their commit (see `authority.changed`).
        await authority.changed(person.id)
    return membership


async def revoke_party(person: Person, party: Party) -> bool:
    """The person may no longer act for the party (whatever the grant's source); whether
    there was a grant. Their sessions stop acting for it at their next request."""
    removed = await PartyMembership.filter(person_id=person.id, party_id=party.id).delete()
    await authority.changed(person.id)
    return bool(removed)


async def _get_or_create_party(kind: PartyKind, identifier: str, name: str) -> Party:
    party, created = await Party.get_or_create(
        kind=kind, identifier=identifier, defaults={"name": name}
    )
    if not created and party.name != name:
        party.name = name
        await party.save(update_fields=["name", "updated_at"])
        await _party_changed(party)
    return party


async def _party_changed(party: Party) -> None:
    """Every member's sessions show the party's new name (see `authority`). In a caller's
    transaction this runs before the commit: a member's page may then cache the old name
    until the next change, never more authority than the member has (names only)."""
    members = await PartyMembership.filter(party_id=party.id).values_list("person_id", flat=True)
    for person_id in set(members):
        await authority.changed(person_id)


async def get_or_create_personal_party(person: Person) -> Party:
    """The party of the person acting for themselves (identified by FIN, named after them)."""
    if not person.fin:
        raise ValueError("a personal party needs the person's FIN")
    return await _get_or_create_party(
        PartyKind.PERSONAL, normalize_fin(person.fin), person.full_name
    )


async def get_or_create_company_party(voen: str, name: str) -> Party:
    """The company's party by VÖEN; its name is updated when it has changed."""
    name = name.strip()
    if not name:
        raise ValueError("a company needs a name")
    return await _get_or_create_party(PartyKind.COMPANY, normalize_voen(voen), name)


async def _upsert_person(fin: str, **values: object) -> Person:
    person = await Person.get_or_none(fin=fin)
    if person is None:
        try:
            async with in_transaction():  # a savepoint: a lost race must not spoil the caller
                return await Person.create(fin=fin, **values)
        except IntegrityError:  # a concurrent first sign-in created them
            person = await Person.get(fin=fin)
    changed = [key for key, value in values.items() if getattr(person, key) != value]
    if changed:
        for key in changed:
            setattr(person, key, values[key])
        await person.save(update_fields=[*changed, "updated_at"])
    return person


async def record_asan_identity(
    fin: str,
    full_name: str,
    phone: str | None,
    user_id: str | None,
    companies: Iterable[tuple[str, str]],
) -> Person:
    """Store what an Asan İmza sign-in showed about a person and the companies they sign for.

    Upserts the person by FIN (name, phone and Asan user id follow the latest sign-in), ensures
    their personal party and each company party (names updated) with `asan_certificate`
    memberships, and removes `asan_certificate` memberships the sign-in no longer shows. Seed and
    admin memberships are kept.
    """
    fin = normalize_fin(fin)
    full_name = full_name.strip()
    if not full_name:
        raise ValueError("a person needs a name")
    if phone:
        canonical = normalize_az_mobile(phone)
        if canonical is None:
            raise ValueError("not an Azerbaijani mobile number")
        phone = canonical
    user_id = (user_id or "").strip() or None
    shown: dict[str, str] = {}
    for voen, name in companies:
        shown[normalize_voen(voen)] = name

    async with in_transaction():
        person = await _upsert_person(
            fin, full_name=full_name, phone=phone or None, asan_user_id=user_id
        )
        keep = await _grant_shown_parties(person, shown, MembershipSource.ASAN_CERTIFICATE)
        await (
            PartyMembership.filter(person_id=person.id, source=MembershipSource.ASAN_CERTIFICATE)
            .exclude(party_id__in=keep)
            .delete()
        )
    await authority.changed(person.id)  # after the commit: every session reloads it
    return person


async def _grant_shown_parties(
    person: Person, companies: dict[str, str], source: MembershipSource
) -> list[int]:
    """The personal party and each company shown by a sign-in; their party ids."""
    personal = await get_or_create_personal_party(person)
    await grant_party(person, personal, source)
    granted = [personal.id]
    for voen, name in companies.items():
        company = await get_or_create_company_party(voen, name)
        await grant_party(person, company, source)
        granted.append(company.id)
    return granted


async def record_verified_person(
    fin: str,
    full_name: str,
    *,
    company: tuple[str, str] | None = None,
    source: MembershipSource = MembershipSource.E_IMZA_CERTIFICATE,
) -> Person:
    """Store a person an E-Gov identity or Elektron imza sign-in vouched for.

    Upserts the person by FIN (the name follows the latest sign-in) with their personal party;
    a company certificate (``company`` = VÖEN, name) also grants that company. Nothing is taken
    away: E-Gov identity names no companies and one certificate shows only its own, so the
    memberships from the registry and from earlier sign-ins stay as they are.
    """
    fin = normalize_fin(fin)
    full_name = full_name.strip()
    if not full_name:
        raise ValueError("a person needs a name")
    shown = {normalize_voen(company[0]): company[1]} if company else {}
    async with in_transaction():
        person = await _upsert_person(fin, full_name=full_name)
        await _grant_shown_parties(person, shown, source)
    await authority.changed(person.id)  # after the commit: every session reloads it
    return person

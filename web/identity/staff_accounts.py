"""Staff accounts, made by an operator (`python -m web staff …`): a new account with its
second factor, or a new second factor for a lost phone.

Citizens never get accounts this way (they sign in with Asan İmza, Elektron imza or E-Gov);
staff sign in with a user name, a password and, where `STAFF_TOTP_REQUIRED` (production),
a TOTP code. An account is therefore made with its TOTP secret already set, and the operator
hands the key to its owner (in person: it is the second factor). Nobody can enrol a
second factor with the password alone, so a guessed or leaked staff password never opens a
staff account (docs/security.md).

A new secret (`replace_totp`) ends the account's sessions: at once where the sessions live
in Redis (the command registers the store, as the app does), and at their next reload
(`authority.MAX_AGE_SECONDS`) where they live in one server's memory, because the
credential a password session carries covers the secret (`authority.credential`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyotp
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from models.identity import Account, Person, Role, normalize_username
from models.letters import Executor
from web.identity import accounts, authority
from web.identity.accounts import TOTP_STEP_SECONDS

ISSUER = "e-Gömrük"
STAFF_ROLES = tuple(role for role in Role if role.is_staff)


class StaffAccountError(Exception):
    """Why the account could not be made or changed (shown to the operator as it is)."""


@dataclass(frozen=True)
class Enrolment:
    """What the account's owner puts into their authenticator app."""

    username: str
    secret: str  # base32, 32 characters (160 bits, RFC 4226's recommendation)
    uri: str  # otpauth://totp/… for a QR code

    @property
    def key_in_groups(self) -> str:
        """The key as people type it: groups of four."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


def new_enrolment(username: str) -> Enrolment:
    secret = pyotp.random_base32()
    uri = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=username, issuer_name=ISSUER
    )
    return Enrolment(username=username, secret=secret, uri=uri)


# What an operator may type as a staff user name: ASCII only, so no name can pass for
# another ("katib" and "kati̇b" with a combining dot look the same).
USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")


async def add_staff(
    username: str,
    full_name: str,
    role: Role | str,
    password: str,
    *,
    executor_id: int | None = None,
) -> Enrolment:
    """A new staff account for a new person, its TOTP secret set. `executor_id` links an
    active executor of the registry without an account to an executor's account (who may
    then act on the letters assigned to them). Raises StaffAccountError (the user name, the
    role, the executor, or a database busy with another writer) or
    accounts.PasswordRejected; a refused account leaves nothing behind."""
    role = Role(role)
    if not role.is_staff:
        raise StaffAccountError("citizens sign in with Asan İmza, Elektron imza or E-Gov")
    if executor_id is not None and role is not Role.EXECUTOR:
        raise StaffAccountError("--executor links an executor's account (--role executor)")
    full_name = " ".join(full_name.split())
    if not full_name or len(full_name) > 200:
        raise StaffAccountError("the full name has 1 to 200 characters")
    normalized = normalize_username(username)
    if not USERNAME.fullmatch(normalized):
        raise StaffAccountError(
            "a user name has 3 to 64 characters: a-z, 0-9, '.', '_', '-' (a letter or digit first)"
        )
    if await Account.exists(username=normalized):
        raise StaffAccountError(f"the user name {normalized!r} is taken")
    if executor_id is not None and not await Executor.exists(
        id=executor_id, is_active=True, person_id=None
    ):
        raise StaffAccountError(f"there is no active executor {executor_id} without an account")
    # Checked and hashed (~0.1 s) before the transaction: it holds SQLite's one write lock.
    password_hash = await accounts.new_password_hash(password, username=normalized)
    enrolment = new_enrolment(normalized)
    try:
        async with in_transaction() as connection:
            person = await Person.create(full_name=full_name, using_db=connection)
            await Account.create(
                person=person,
                username=normalized,
                password_hash=password_hash,
                role=role,
                totp_secret=enrolment.secret,
                using_db=connection,
            )
            # Linked only if still free: two operators linking one executor at once, one wins.
            if executor_id is not None and not await Executor.filter(
                id=executor_id, is_active=True, person_id=None
            ).using_db(connection).update(person_id=person.id):
                raise StaffAccountError(f"executor {executor_id} was linked meanwhile")
    except IntegrityError as error:
        if await Account.exists(username=normalized):  # made at the same moment elsewhere
            raise StaffAccountError(f"the user name {normalized!r} is taken") from error
        raise
    except OperationalError as error:  # SQLite: another writer held the database too long
        raise StaffAccountError(f"the database is busy, try again ({error})") from error
    return enrolment


async def replace_totp(username: str) -> Enrolment:
    """A new TOTP secret for a staff account (a lost or replaced phone); its sessions end."""
    normalized = normalize_username(username)
    account = await Account.get_or_none(username=normalized)
    if account is None or not account.role.is_staff:
        raise StaffAccountError(f"there is no staff account {normalized!r}")
    enrolment = new_enrolment(normalized)
    account.totp_secret = enrolment.secret
    account.totp_last_used_step = None
    # The operator has checked who asks (a lost phone): a lock from the old key's failures
    # would keep its owner out with the new one.
    account.failed_attempts = 0
    account.locked_until = None
    await account.save(
        update_fields=[
            "totp_secret",
            "totp_last_used_step",
            "failed_attempts",
            "locked_until",
            "updated_at",
        ]
    )
    await authority.end_sessions(account.person_id)
    return enrolment

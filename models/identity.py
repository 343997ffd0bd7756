"""Who signs in and whom they act for: people, parties, memberships, accounts.

A `Person` is a human (a citizen signing in with Asan İmza, or a member of staff). A `Party`
is who a person acts for: the person themselves (`personal`, identified by FIN) or a company
(`company`, identified by VÖEN). A person's parties are those their certificates grant, kept
as `PartyMembership` rows. An `Account` is a user name and password that belongs to a person.

Datetimes are time-zone aware (the ORM runs with ``use_tz=True``).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.models import Model
from tortoise.validators import RegexValidator

from models.base import TimestampedModel

FIN_PATTERN = r"^[A-Z0-9]{7}$"
"""FIN (fərdi identifikasiya nömrəsi): 7 upper-case Latin letters and digits."""

VOEN_PATTERN = r"^[0-9]{10}$"
"""VÖEN (vergi ödəyicisinin eyniləşdirmə nömrəsi): 10 digits."""

_FIN_RE = re.compile(r"[A-Z0-9]{7}")
_VOEN_RE = re.compile(r"[0-9]{10}")


def is_fin(value: str) -> bool:
    """The one FIN check (forms, certificates, accounts): already trimmed and upper-cased."""
    return _FIN_RE.fullmatch(value) is not None


def is_voen(value: str) -> bool:
    """The one VÖEN check: exactly 10 ASCII digits."""
    return _VOEN_RE.fullmatch(value) is not None


PHONE_PATTERN = r"^\+994[0-9]{9}$"
"""Asan İmza mobile number in E.164: +994 and 9 digits."""


class Role(StrEnum):
    CITIZEN = "citizen"
    REGISTRY_CLERK = "registry_clerk"
    EXECUTOR = "executor"
    CUSTOMS_OFFICER = "customs_officer"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self is not Role.CITIZEN


class PartyKind(StrEnum):
    PERSONAL = "personal"
    COMPANY = "company"


class MembershipSource(StrEnum):
    ASAN_CERTIFICATE = "asan_certificate"
    E_IMZA_CERTIFICATE = "e_imza_certificate"  # shown by a company's Elektron imza certificate
    SEED = "seed"
    ADMIN = "admin"


class Person(TimestampedModel):
    id = fields.IntField(primary_key=True)
    # Optional for staff; unique when set (NULLs do not collide).
    fin = fields.CharField(
        max_length=7, null=True, unique=True, validators=[RegexValidator(FIN_PATTERN, 0)]
    )
    full_name = fields.CharField(max_length=200)
    phone = fields.CharField(
        max_length=13, null=True, validators=[RegexValidator(PHONE_PATTERN, 0)]
    )
    asan_user_id = fields.CharField(max_length=64, null=True, db_index=True)
    email = fields.CharField(max_length=254, null=True)

    memberships: fields.ReverseRelation[PartyMembership]
    accounts: fields.ReverseRelation[Account]

    class Meta:
        table = "person"

    def __str__(self) -> str:
        return self.full_name


class Party(TimestampedModel):
    id = fields.IntField(primary_key=True)
    kind = fields.CharEnumField(PartyKind, max_length=16)
    # FIN for a personal party, VÖEN for a company.
    identifier = fields.CharField(max_length=10)
    name = fields.CharField(max_length=300)

    memberships: fields.ReverseRelation[PartyMembership]

    class Meta:
        table = "party"
        unique_together = (("kind", "identifier"),)

    def __str__(self) -> str:
        return self.name

    @property
    def is_personal(self) -> bool:
        return self.kind is PartyKind.PERSONAL

    @property
    def is_company(self) -> bool:
        return self.kind is PartyKind.COMPANY


class PartyMembership(Model):
    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="memberships", on_delete=fields.CASCADE
    )
    party: fields.ForeignKeyRelation[Party] = fields.ForeignKeyField(
        "models.Party", related_name="memberships", on_delete=fields.CASCADE
    )
    source = fields.CharEnumField(MembershipSource, max_length=32)
    granted_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "party_membership"
        indexes = (("person_id", "party_id"), ("party_id",))
        unique_together = (("person", "party"),)


class Account(TimestampedModel):
    id = fields.IntField(primary_key=True)
    person: fields.ForeignKeyRelation[Person] = fields.ForeignKeyField(
        "models.Person", related_name="accounts", on_delete=fields.CASCADE
    )
    # Stored lower-cased, so uniqueness is case-insensitive (see `normalize_username`).
    username = fields.CharField(max_length=150, unique=True)
    password_hash = fields.CharField(max_length=255)
    role = fields.CharEnumField(Role, max_length=32, default=Role.CITIZEN)
    failed_attempts = fields.IntField(default=0)
    locked_until = fields.DatetimeField(null=True)
    last_failed_at = fields.DatetimeField(null=True)
    totp_secret = fields.CharField(max_length=64, null=True)
    # The last TOTP time step (unix time // 30) accepted; a code from it or earlier is refused.
    totp_last_used_step = fields.BigIntField(null=True)
    is_active = fields.BooleanField(default=True)

    class Meta:
        table = "account"
        indexes = (("person_id",),)

    def __str__(self) -> str:
        return self.username

    def is_locked(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now

    async def save(self, *args, **kwargs) -> None:
        self.username = normalize_username(self.username)
        await super().save(*args, **kwargs)


def normalize_username(username: str) -> str:
    """The stored form of a user name: trimmed and lower-cased."""
    return username.strip().lower()

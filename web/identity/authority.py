"""Who a signed-in person is and whom they may act for, kept in their session, and what makes
that copy stale (issue 12: a signed-in page runs no identity SQL).

At sign-in the person (name, FIN, phone, e-mail), the role and the parties they may act for
are copied into the session record (`snapshot`). Pages build `CurrentUser` from that copy.

Invalidation, and why this design. Each person has an *authority version* in the session
store: a random token under `authz.<tag>`, <tag> being a keyed hash of the person's id. The
session id carries the same tag (`<tag>.<random>`), so the session middleware reads the record
and the version in one round trip (MGET on Redis, one locked read in memory): no query and no
extra round trip. A snapshot is trusted only while its token equals the stored one. Whatever
changes a person's authority (memberships, their parties' data, their name, their account's
role or state) calls `changed(person_id)` after it commits; that stores a fresh token, so every
session of that person, on every worker, reloads from the database at its next request (two
statements, once) and goes on with the new facts: a removed party can no longer be acted for, a
new role applies, a disabled account's sessions end. Alternatives rejected: a version column
costs a query per page; deleting the person's sessions signs them out when a company is merely
renamed; rewriting their records races with requests in flight that write the old record back.
A token compare has neither problem (a stale write-back still carries the old token, so it is
reloaded again). Tokens are random, not counters: a version key that expired or was evicted
reads as missing, which never equals a token (a copy is made only under one: `with_token`), so
a lost key causes a reload, never a stale hit.
A copy older than MAX_AGE_SECONDS is reloaded anyway (two statements per session every five
minutes), so an announcement lost to a store failure after a commit is stale that long at most.
`end_sessions(person_id)` also stores a time: sessions signed in before it end at their next
request (sign out everywhere, a password change, a disabled account).

Anything that changes authority outside a running app (a one-off script) must register the
app's session store first (`register`), or the copies stay until the sessions end.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from litestar.stores.base import Store

from models.identity import Account, Party, Person, Role
from web.identity import accounts
from web.platform import stores

VERSION_PREFIX = "authz."
ENDED_PREFIX = "ended."
# A version outlives every session that may hold it (12 h absolute timeout, with room).
VERSION_SECONDS = 13 * 3600
_TAG_CHARS = 16
# `<tag>.<random>` for a signed-in session; bare `<random>` before sign-in (and from
# before this scheme). Anything else is not an id this server issued.
SESSION_ID = re.compile(r"(?:([0-9a-f]{16})\.)?[0-9a-f]{64}")
PERSON_FIELDS = ("id", "fin", "full_name", "phone", "email")
# A safety net for an announcement that was lost (the store failed right after a commit):
# a copy is read again from the database after this long whatever its token says.
MAX_AGE_SECONDS = 5 * 60


@functools.lru_cache(maxsize=4096)
def tag(secret: str, person_id: int) -> str:
    """The person's tag in session ids and version keys: opaque, so the cookie names nobody.
    (Asked on every signed-in request: remembered for the last few thousand people.)"""
    digest = hmac.new(secret.encode(), f"authority:{person_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:_TAG_CHARS]


def session_tag(session_id: str | None) -> str | None:
    """The tag of a well-formed session id (None when untagged); ValueError when malformed."""
    match = SESSION_ID.fullmatch(session_id or "")
    if match is None:
        raise ValueError("not a session id of ours")
    return match.group(1)


def version_keys(person_tag: str) -> list[str]:
    return [VERSION_PREFIX + person_tag, ENDED_PREFIX + person_tag]


@dataclass(frozen=True, slots=True)
class Version:
    """What the store says about a person's authority, as read with the session."""

    token: str | None
    ended_at: float = 0.0

    @classmethod
    def parse(cls, token: bytes | None, ended: bytes | None) -> Version:
        try:
            ended_at = float(ended) if ended else 0.0
        except ValueError:
            ended_at = float("inf")  # unreadable: safer to end the session
        return cls(token.decode() if token else None, ended_at)


# The session stores of the running apps (one per process in production; tests run several).
_stores: list[tuple[Store, str]] = []


def register(store: Store, secret: str) -> Callable[[], None]:
    """Let `changed` reach this store; returns the call that stops it (at app shutdown)."""
    entry, registry = (store, secret), _stores
    registry.append(entry)
    return lambda: registry.remove(entry) if entry in registry else None


async def changed(person_id: int) -> None:
    """The person's authority changed (call after the change is committed): every copy of
    it in a session is stale from now on."""
    for store, secret in list(_stores):
        key = version_keys(tag(secret, person_id))[0]
        await store.set(key, secrets.token_hex(8), expires_in=VERSION_SECONDS)


async def end_sessions(person_id: int, *, now: float | None = None) -> None:
    """Sign the person out everywhere: sessions signed in before now end at their next request."""
    now = time.time() if now is None else now
    for store, secret in list(_stores):
        await store.set(
            version_keys(tag(secret, person_id))[1], repr(now), expires_in=VERSION_SECONDS
        )
    await changed(person_id)


async def read_version(store: Store, secret: str, person_id: int) -> Version:
    """The current version, read at sign-in (before the database, see `snapshot`)."""
    token, ended = await stores.get_many(store, version_keys(tag(secret, person_id)))
    return await with_token(store, secret, person_id, Version.parse(token, ended))


async def with_token(store: Store, secret: str, person_id: int, version: Version) -> Version:
    """`version`, given a token of its own when the person has none (never changed, or the
    key lost): a copy is only ever made under a token, as "none" would equal a lost key."""
    if version.token is not None:
        return version
    token = secrets.token_hex(8)
    await store.set(version_keys(tag(secret, person_id))[0], token, expires_in=VERSION_SECONDS)
    return Version(token, version.ended_at)


# --- The copy in the session -------------------------------------------------------------


def snapshot(person: Person, parties: list[Party], version: Version) -> dict[str, Any]:
    """What the session keeps. `version` must have been read BEFORE the person and parties:
    a change committed in between then leaves an older token here, so it is reloaded."""
    return {
        "v": version.token,
        "at": time.time(),
        "person": {name: getattr(person, name) for name in PERSON_FIELDS},
        "parties": [[p.id, str(p.kind), p.identifier, p.name] for p in parties],
    }


def is_current(cached: dict[str, Any] | None, version: Version | None) -> bool:
    """The copy may be used: its token is the stored one, and it is younger than MAX_AGE."""
    if not cached or version is None or version.token is None or cached.get("v") != version.token:
        return False
    return 0 <= time.time() - cached.get("at", 0) < MAX_AGE_SECONDS


def credential(account: Account) -> str:
    """A short fingerprint of the account's password hash and TOTP secret, kept with a
    password sign-in: a reload ends the session once either changed, even if `end_sessions`
    was lost to a store failure or made where it could not reach the sessions (a command
    next to a server that keeps them in memory). A rehash at a later sign-in ends the others
    too: rare, and safe."""
    material = account.password_hash
    if account.totp_secret:
        material += "\0" + account.totp_secret
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def person_of(cached: dict[str, Any]) -> Person:
    # A partial model (Tortoise refuses to save it whole): a copy for reading and for ids.
    return Person._init_from_db(**cached["person"])


def parties_of(cached: dict[str, Any]) -> list[Party]:
    return [
        Party._init_from_db(id=party_id, kind=kind, identifier=identifier, name=name)
        for party_id, kind, identifier, name in cached["parties"]
    ]


async def reload(auth: dict[str, Any], version: Version) -> dict[str, Any] | None:
    """Read the person's authority from the database (2-3 statements): the new `auth`, or None
    when the session must end (the person is gone, their account removed or disabled)."""
    person = await Person.get_or_none(id=auth.get("person_id"))
    if person is None:
        return None
    role = auth.get("role", Role.CITIZEN)
    if auth.get("account_id") is not None:  # a password sign-in follows its account
        account = await Account.get_or_none(id=auth["account_id"], person_id=person.id)
        if account is None or not account.is_active:
            return None
        if auth.get("credential", credential(account)) != credential(account):
            return None  # the password or the TOTP key changed since this sign-in
        role = str(account.role)
    parties = await accounts.parties_of(person)
    party_id = auth.get("party_id")
    if party_id not in {party.id for party in parties}:
        # The party acted for was taken away: choose again (or the only one left).
        party_id = parties[0].id if len(parties) == 1 else None
    return {
        **auth,
        "role": role,
        "party_id": party_id,
        "identity": snapshot(person, parties, version),
    }

"""Server-side sessions: who is signed in, for whom they act, and the timeouts.

The session store is memory on one process and Redis when REDIS_URL is set (see the
store factory in `web.app`). Only an opaque id travels in the cookie: random, and once signed
in prefixed with the person's tag (an HMAC of their id), so the record and the person's
authority version are read in one round trip (`web/identity/authority.py`).
Rotation: Litestar keeps a session's id for its whole life, so `RotatingSessionBackend`
issues a fresh id (and deletes the old record) when a request asks for it: at sign-in,
which defeats session fixation; and it never adopts an id it did not issue. Anonymous
visitors have no record until a sign-in flow starts, and then one that expires in minutes.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message
from litestar.utils.scope.state import ScopeState

from web.identity import authority
from web.platform import stores
from web.platform.stores import KeyWrite
from web.settings import Settings

ABSOLUTE_TIMEOUT_SECONDS = 12 * 3600
_ROTATE = "rotate_session"
_NEW_ID = "rotated_session_id"

STORE_NAME = "sessions"
AUTH_KEY = "auth"
NEXT_KEY = "next_after_sign_in"  # where to go once signed in (and the party chosen)
NOTICE_KEY = "notice"
NOTICE_EXPIRED = "session_expired"
NOTICE_SIGNED_OUT = "signed_out"


# Pre-sign-in state (the Asan İmza transaction, where to go next, a one-time notice) lives in
# the store this long at most; a signed-in session lives up to ABSOLUTE_TIMEOUT_SECONDS.
PRE_SIGN_IN_SECONDS = 10 * 60
_KNOWN_ID = "session_id_known"  # the cookie's id names a record this server stored
_LOADED = "session_as_loaded"  # the record's bytes as read: unchanged ones are not written back
_READ_ID = "session_read_id"  # the id the record was read under
_GONE = "session_gone"  # a write-back found the record deleted: never write it again
AUTHORITY_KEY = "authority_version"  # (person tag, authority.Version), read with the record
# `seen` (the idle timeout's clock) is written back at most this often (a tenth of a short
# idle limit): a signed-in request that changes nothing else costs one store read and no
# write (issue 12). The stored `seen` may then lag the last request by up to this much, so
# the limit is counted from it plus this much: a session never ends before the idle limit
# the page's warning counts down (it may end up to this much after it).
SEEN_RESOLUTION_SECONDS = 30
_ttl: ContextVar[int | None] = ContextVar("session_ttl", default=None)


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions, with three rules of our own:

    - an id the server did not issue (no record under it) is never adopted: the visitor gets
      a fresh one when there is something to store (no session fixation by a planted cookie);
    - anonymous visitors get no record at all until a sign-in flow stores something, and that
      record expires after PRE_SIGN_IN_SECONDS;
    - at sign-in and sign-out the id is replaced (`begin_session`, `end_session`).
    """

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        state = connection.scope.setdefault("state", {})
        state[_KNOWN_ID] = False
        session_id = connection.cookies.get(self.config.key)
        try:
            person_tag = authority.session_tag(session_id)
        except ValueError:
            return {}  # no cookie, or not an id this server issues (never looked up)
        store = self.config.get_store_from_app(connection.scope["app"])
        if person_tag is None:
            raw = await store.get(session_id)
        else:
            # The record and its person's authority version in one round trip (authority.py).
            raw, token, ended = await stores.get_many(
                store, [session_id, *authority.version_keys(person_tag)]
            )
            state[AUTHORITY_KEY] = (person_tag, authority.Version.parse(token, ended))
        if raw is None:
            return {}
        state[_READ_ID] = session_id
        data = self.deserialize_data(raw)
        state[_KNOWN_ID] = bool(data)
        if data:
            state[_LOADED] = raw
        return data

    def get_session_id(self, connection: ASGIConnection) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATE) or not state.get(_KNOWN_ID):
            # Litestar asks for an id as the request starts, before a sign-in may put someone
            # in the session; the id written at the end must carry that person's tag.
            person_tag = self._person_tag(connection)
            new_id = state.get(_NEW_ID)
            if new_id is None or authority.session_tag(new_id) != person_tag:
                random_part = self.generate_session_id()
                state[_NEW_ID] = f"{person_tag}.{random_part}" if person_tag else random_part
            return state[_NEW_ID]
        return super().get_session_id(connection)

    def _person_tag(self, connection: ASGIConnection) -> str | None:
        """The tag of the person signed in to this session, if any (see `authority`)."""
        session = connection.scope.get("session")
        auth = session.get(AUTH_KEY) if isinstance(session, dict) else None
        if not auth or auth.get("person_id") is None:
            return None
        return authority.tag(self.config.secret, auth["person_id"])

    async def set(self, session_id: str, data: bytes, store: Store) -> None:
        await store.set(session_id, data, expires_in=_ttl.get() or ABSOLUTE_TIMEOUT_SECONDS)

    async def store_in_message(
        self, scope_session: Any, message: Message, connection: ASGIConnection
    ) -> None:
        try:
            await self._store_in_message(scope_session, message, connection)
        except Exception:
            # The store failed (Redis went away mid-request) while the response's start was
            # held here, unsent; Litestar marked it started as it passed the handler's own
            # exception middleware, so the error would end as a broken 500. Nothing has left:
            # let the app's handler answer (an outage: the 503 page).
            ScopeState.from_scope(connection.scope).response_started = False
            raise

    async def _store_in_message(
        self, scope_session: Any, message: Message, connection: ASGIConnection
    ) -> None:
        state = connection.scope.setdefault("state", {})
        old_id = connection.cookies.get(self.config.key)
        known = bool(old_id) and state.get(_KNOWN_ID, False)
        if not scope_session:
            # Anonymous visitors get no session record; a stale or foreign cookie is cleared.
            if old_id and old_id != "null":
                if known:  # ended without a notice: the record goes too, not only the cookie
                    store = self.config.get_store_from_app(connection.scope["app"])
                    await self.delete(old_id, store=store)
                await super().store_in_message(Empty, message, connection)
            return
        rotate = state.get(_ROTATE)
        signed_in = bool(scope_session.get(AUTH_KEY))
        if known and not rotate and state.get(_GONE):
            await super().store_in_message(Empty, message, connection)  # see `settle_write`
            return
        if known and not rotate:
            serialized = self.serialize_data(scope_session, connection.scope)
            if serialized == state.get(_LOADED):
                return  # unchanged: the record and the cookie already hold it
            if not await self.replace(connection, old_id, serialized, signed_in=signed_in):
                # Signed out (or expired) while this request ran: never write the record back.
                await super().store_in_message(Empty, message, connection)
            return
        store = self.config.get_store_from_app(connection.scope["app"])
        if rotate and known:
            await self.delete(old_id, store=store)
        token = _ttl.set(ABSOLUTE_TIMEOUT_SECONDS if signed_in else PRE_SIGN_IN_SECONDS)
        try:
            await super().store_in_message(scope_session, message, connection)
        finally:
            _ttl.reset(token)

    async def replace(
        self, connection: ASGIConnection, session_id: str, data: bytes, *, signed_in: bool
    ) -> bool:
        """Write an existing record back in one atomic step that never recreates it (a
        sign-out meanwhile wins). The cookie already holds the id, and the record's lifetime
        is renewed as a fresh write would. False when the record is gone."""
        store = self.config.get_store_from_app(connection.scope["app"])
        ttl = ABSOLUTE_TIMEOUT_SECONDS if signed_in else PRE_SIGN_IN_SECONDS
        if not await stores.set_if_present(store, session_id, data, ttl):
            return False
        connection.scope.setdefault("state", {})[_LOADED] = data
        return True


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]
    secret: str = field(default="", repr=False)  # keys the person's tag in ids (`authority`)


def session_config(settings: Settings) -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key="__Host-session" if settings.is_production else "session",
        max_age=ABSOLUTE_TIMEOUT_SECONDS,
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
        store=STORE_NAME,
        secret=settings.secret_key,
        exclude=["^/static/", "^/healthz"],
    )


def begin_session(request: Request, auth: dict[str, Any]) -> None:
    """Sign in: a fresh session id carrying only the new identity."""
    now = time.time()
    request.scope.setdefault("state", {})[_ROTATE] = True
    request.set_session({AUTH_KEY: {**auth, "signed_in_at": now}, "seen": now})


def pending_write(request: Request) -> KeyWrite | None:
    """The write-back this request's session needs so far (e.g. a `seen` due), for a caller
    that can send it together with its own store operations (the letter lookup: one round
    trip for its counters and this). Hand the outcome to `settle_write`."""
    state = request.scope.setdefault("state", {})
    if (
        "session" not in request.scope
        or not request.session
        or not state.get(_KNOWN_ID)
        or state.get(_ROTATE)
    ):
        return None  # nothing to keep, or a new id: the end of the request writes it
    data = RotatingSessionBackend.serialize_data(request.session, request.scope)
    if data == state.get(_LOADED):
        return None
    signed_in = bool(request.session.get(AUTH_KEY))
    return KeyWrite(
        store=store_of(request),
        key=state[_READ_ID],
        data=data,
        expires_in=ABSOLUTE_TIMEOUT_SECONDS if signed_in else PRE_SIGN_IN_SECONDS,
    )


def settle_write(request: Request, write: KeyWrite, written: bool) -> None:
    """After `pending_write` ran: written, the end of the request has nothing left to write
    (unless the session changes again); gone, the session was ended meanwhile (a sign-out)
    and the end of the request clears the cookie without writing it back."""
    state = request.scope.setdefault("state", {})
    if written:
        state[_LOADED] = write.data
    else:
        state[_GONE] = True


def rotate(request: Request) -> None:
    """Give the session a fresh id when it is next written."""
    request.scope.setdefault("state", {})[_ROTATE] = True


def store_of(request: Request) -> Store:
    return request.app.stores.get(STORE_NAME)


def end_session(request: Request, notice: str | None = None) -> None:
    request.scope.setdefault("state", {})[_ROTATE] = True
    request.set_session({NOTICE_KEY: notice} if notice else {})


def current_auth(request: Request) -> dict[str, Any] | None:
    return request.session.get(AUTH_KEY) if request.session else None


def enforce_timeouts(request: Request, idle_limit: int) -> None:
    """Called before every request: expire sessions idle for over `idle_limit` seconds
    (`SESSION_IDLE_SECONDS`) or too old, with a notice."""
    if "session" not in request.scope:  # static files and /healthz carry no session
        return
    session = request.session
    auth = session.get(AUTH_KEY) if session else None
    if not auth:
        return
    now = time.time()
    idle = now - session.get("seen", now)
    age = now - auth.get("signed_in_at", now)
    resolution = min(SEEN_RESOLUTION_SECONDS, idle_limit // 10)
    if idle > idle_limit + resolution or age > ABSOLUTE_TIMEOUT_SECONDS:
        end_session(request, NOTICE_EXPIRED)
        return
    if idle >= resolution:
        session["seen"] = now


def take_notice(request: Request) -> str | None:
    """A one-time notice (session expired, signed out) for the next page."""
    if "session" not in request.scope:
        return None
    session = request.session
    if session and NOTICE_KEY in session:
        return session.pop(NOTICE_KEY)
    return None


FLASH_KEY = "flash"


def flash(request: Request, key: str, value: Any) -> None:
    """Keep a value for the next page only (e.g. the reference of what was just saved)."""
    request.session.setdefault(FLASH_KEY, {})[key] = value


def take_flash(request: Request, key: str) -> Any:
    if "session" not in request.scope or not request.session:
        return None
    stored = request.session.get(FLASH_KEY) or {}
    if key not in stored:
        return None
    value = stored.pop(key)
    if not stored:
        request.session.pop(FLASH_KEY, None)
    return value

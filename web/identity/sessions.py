"""Server-side sessions: who is signed in, for whom they act, and the timeouts.

The session store is memory on one process and Redis when REDIS_URL is set (see the
store factory in `web.app`). Only an opaque random id travels in the cookie.
Rotation: Litestar keeps a session's id for its whole life, so `RotatingSessionBackend`
issues a fresh id (and deletes the old record) when a request asks for it: at sign-in,
which defeats session fixation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.types import Empty, Message

from web.settings import Settings

ABSOLUTE_TIMEOUT_SECONDS = 12 * 3600
_ROTATE = "rotate_session"
_NEW_ID = "rotated_session_id"

AUTH_KEY = "auth"
NEXT_KEY = "next_after_sign_in"  # where to go once signed in (and the party chosen)
NOTICE_KEY = "notice"
NOTICE_EXPIRED = "session_expired"
NOTICE_SIGNED_OUT = "signed_out"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        state = connection.scope.setdefault("state", {})
        if state.get(_ROTATE):
            if _NEW_ID not in state:
                state[_NEW_ID] = self.generate_session_id()
            return state[_NEW_ID]
        return super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: Any, message: Message, connection: ASGIConnection
    ) -> None:
        state = connection.scope.setdefault("state", {})
        old_id = connection.cookies.get(self.config.key)
        has_cookie = bool(old_id) and old_id != "null"
        if not scope_session:
            # Anonymous visitors get no session record and no cookie at all.
            if has_cookie:
                await super().store_in_message(Empty, message, connection)
            return
        if state.get(_ROTATE) and has_cookie:
            await self.delete(old_id, store=self.config.get_store_from_app(connection.scope["app"]))
        await super().store_in_message(scope_session, message, connection)


@dataclass
class RotatingSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend  # type: ignore[assignment]


def session_config(settings: Settings) -> RotatingSessionConfig:
    return RotatingSessionConfig(
        key="__Host-session" if settings.is_production else "session",
        max_age=ABSOLUTE_TIMEOUT_SECONDS,
        secure=settings.is_production,
        httponly=True,
        samesite="lax",
        store="sessions",
        exclude=["^/static/", "^/healthz"],
    )


def begin_session(request: Request, auth: dict[str, Any]) -> None:
    """Sign in: a fresh session id carrying only the new identity."""
    now = time.time()
    request.scope.setdefault("state", {})[_ROTATE] = True
    request.set_session({AUTH_KEY: {**auth, "signed_in_at": now}, "seen": now})


def end_session(request: Request, notice: str | None = None) -> None:
    request.scope.setdefault("state", {})[_ROTATE] = True
    request.set_session({NOTICE_KEY: notice} if notice else {})


def current_auth(request: Request) -> dict[str, Any] | None:
    return request.session.get(AUTH_KEY) if request.session else None


def enforce_timeouts(request: Request) -> None:
    """Called before every request: expire idle or old sessions, with a notice."""
    if "session" not in request.scope:  # static files and /healthz carry no session
        return
    session = request.session
    auth = session.get(AUTH_KEY) if session else None
    if not auth:
        return
    now = time.time()
    idle = now - session.get("seen", now)
    age = now - auth.get("signed_in_at", now)
    idle_limit = request.app.state.settings.session_idle_seconds
    if idle > idle_limit or age > ABSOLUTE_TIMEOUT_SECONDS:
        end_session(request, NOTICE_EXPIRED)
        return
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

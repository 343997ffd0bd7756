"""Who is asking: the signed-in person, their role and the party they act for.

The middleware `auth_context_middleware_factory(settings)` builds runs inside the session
middleware on every request: it enforces the idle and absolute timeouts and loads the
current user once into `request.state.user` (None when signed out). Guards then decide,
server-side, per route.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from urllib.parse import quote

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException, NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute
from litestar.types import ASGIApp, Receive, Scope, Send

from models.identity import Party, Person, Role
from web.identity import authority, sessions
from web.settings import Settings


class CurrentUser:
    """The signed-in person, their role, how they signed in (`method`: "e-imza", "egov",
    "asan" or "password"), the parties they may act for and the one they act for.

    Made from the session's copy (`from_session`), the parties (and the one acted for) are
    made from it when first asked for: a request that never asks (an htmx fragment, a
    letter lookup) builds no model per party (about 4 µs each, issue 12). A plain class,
    not a dataclass: Litestar checks the `user` dependency's type with msgspec, which takes
    a dataclass only of exactly its type."""

    def __init__(
        self,
        person: Person,
        role: Role,
        method: str,
        parties: list[Party] | None = None,
        party: Party | None = None,
    ) -> None:
        self.person = person
        self.role = role
        self.method = method
        self.parties = [] if parties is None else parties
        self.party = party

    @classmethod
    def from_session(cls, auth: dict) -> CurrentUser:
        cached = auth["identity"]
        user = cls.__new__(cls)
        user.person = authority.person_of(cached)
        user.role = Role(auth.get("role", Role.CITIZEN))
        user.method = auth.get("method", "password")
        user._cached = cached
        user._party_id = auth.get("party_id")
        return user

    @functools.cached_property
    def parties(self) -> list[Party]:  # only asked when not given (from_session)
        return authority.parties_of(self._cached)

    @functools.cached_property
    def party(self) -> Party | None:
        return next((party for party in self.parties if party.id == self._party_id), None)

    @property
    def is_staff(self) -> bool:
        return self.role != Role.CITIZEN

    def __repr__(self) -> str:
        return (
            f"CurrentUser(person={self.person!r}, role={self.role!r}, method={self.method!r}, "
            f"parties={self.parties!r}, party={self.party!r})"
        )


class SignInRequired(HTTPException):
    status_code = 401


class PartyChoiceRequired(HTTPException):
    status_code = 409


def _user(auth: dict) -> CurrentUser:
    return CurrentUser.from_session(auth)


async def load_user(request: Request, auth: dict, secret: str) -> CurrentUser | None:
    """The signed-in person from the session's copy (no SQL) while its authority version is
    current; else reloaded from the database once and the copy replaced (`authority`).
    None when the session must end. `secret`: the app's, which keys the person's tag."""
    state = request.scope["state"]
    person_tag, version = state.get(sessions.AUTHORITY_KEY, (None, None))
    store = sessions.store_of(request)
    if person_tag is None or person_tag != authority.tag(secret, auth.get("person_id")):
        # An id from before tags: its version read now (once: the next id carries the tag).
        version = await authority.read_version(store, secret, auth.get("person_id"))
        sessions.rotate(request)
    if version.ended_at and auth.get("signed_in_at", 0) <= version.ended_at:
        return None  # signed out everywhere (or the account disabled) after this sign-in
    if not authority.is_current(auth.get("identity"), version):
        # Before the database, see `authority.snapshot`.
        version = await authority.with_token(store, secret, auth.get("person_id"), version)
        fresh = await authority.reload(auth, version)
        if fresh is None:
            return None
        request.session[sessions.AUTH_KEY] = auth = fresh
    return _user(auth)


def auth_context_middleware_factory(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware, built once in `create_app` with the app's idle timeout and secret."""
    idle_limit = settings.session_idle_seconds
    secret = settings.secret_key

    def auth_context_middleware(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            state = scope.setdefault("state", {})
            state["user"] = None
            state["notice"] = None
            if scope["type"] == "http" and "session" in scope:
                request: Request = Request(scope)
                sessions.enforce_timeouts(request, idle_limit)
                state["notice"] = sessions.take_notice(request)
                auth = sessions.current_auth(request)
                if auth:
                    state["user"] = await load_user(request, auth, secret)
                    if state["user"] is None:  # the person or their account is gone, or ended
                        sessions.end_session(request)
            await app(scope, receive, send)

        return middleware

    return auth_context_middleware


def current_user(connection: ASGIConnection) -> CurrentUser | None:
    return connection.scope.get("state", {}).get("user")


def provide_user(request: Request) -> CurrentUser | None:
    """The `user` dependency: a handler behind a sign-in guard asks for `user: SignedInUser`."""
    return current_user(request)


SignedInUser = NamedDependency[CurrentUser]


# Guards are coroutine functions: Litestar runs a plain function guard in a worker thread,
# a thread hop (and GIL hand-off) on every request for a check that only reads the scope.


async def signed_in(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    if current_user(connection) is None:
        raise SignInRequired()


async def citizen_acting_for_party(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A service page: signed in, and the party chosen when there is a choice."""
    user = current_user(connection)
    if user is None:
        raise SignInRequired()
    if user.is_staff:
        raise NotFoundException()  # staff work in their own views, never as a party
    if user.party is None:
        raise PartyChoiceRequired()


def staff_with(*roles: Role):
    """Staff routes: citizens and other staff get the same 404 as a missing page."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = current_user(connection)
        if user is None:
            raise SignInRequired()
        if user.role not in roles and user.role != Role.ADMIN:
            raise NotFoundException()

    return guard


class GuardsGetTheHandler(ReceiveRoutePlugin):
    """Litestar hands each guard a shallow copy of the route handler (`copy(handler)` per
    guard per request, about 7 µs of CPU on every guarded request), so that a guard may not
    change the handler for later requests. The app's guards (above, and `appellant` in
    web/letters/routes.py) never read or change it: they get the handler itself. (The
    handler becomes an instance of a subclass that only overrides `authorize_connection`.
    `test_every_guard_is_the_apps_own` fails when a guard from elsewhere is added: read it
    for writes to the handler first.)"""

    def receive_route(self, route: BaseRoute) -> None:
        for handler in getattr(route, "route_handlers", ()):
            if handler.resolve_guards() and not isinstance(handler, _Uncopied):
                handler.__class__ = _uncopied(type(handler))


class _Uncopied:
    __slots__ = ()

    async def authorize_connection(self, connection: ASGIConnection) -> None:
        """Litestar's, without the copy (see `GuardsGetTheHandler`)."""
        for guard in self.resolve_guards():
            await guard(connection, self)


@functools.cache
def _uncopied(cls: type) -> type:
    with warnings.catch_warnings():  # subclassing `get` & co. is deprecated (Litestar 3)
        warnings.simplefilter("ignore", DeprecationWarning)
        return type(cls.__name__, (_Uncopied, cls), {"__slots__": ()})


def login_url(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='/')}"


def requested_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")

"""ASGI middleware: the client's address, request context (id, language, access log) and
security headers."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import time
import uuid
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import structlog
from litestar.connection import ASGIConnection
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from web.platform import i18n
from web.settings import Settings

log = structlog.get_logger("egomruk.access")
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# htmx's indicator styles are switched off (see the htmx-config meta tag), so style-src
# needs no 'unsafe-inline'. Nothing on the site is framed or frames others.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope, name: str) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw or name not in raw:  # surely not there: no parsing (every request asks)
        return None
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed cookie header must not break the page
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def client_address(connection: ASGIConnection) -> str:
    """The client's address, for rate limits, logs and audit: the one place that says it.

    `proxy_headers_middleware_factory` has already put the real client into the scope when
    the request came through a trusted proxy."""
    client = connection.scope.get("client")
    return client[0] if client else "unknown"


# The longest text form of an IP address ("ffff:…:255.255.255.255"): longer is no address.
_LONGEST_ADDRESS = 45


def limit_key(address: str) -> str:
    """The key rate limits and throttles count an address under. An IPv6 client counts by
    its /64: one host is commonly given a whole /64, so counting single addresses would let
    it rotate through 2^64 keys. IPv4 (also IPv4-mapped IPv6) counts as it is.
    (Asked on every limited request: an IPv6 address took 20 µs to parse; remembered for
    the last few thousand addresses, and only what can be one, so the memory is bounded.)"""
    if len(address) > _LONGEST_ADDRESS:
        return address
    return _limit_key(address)


@functools.lru_cache(maxsize=4096)
def _limit_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def proxy_headers_middleware_factory(settings: Settings):
    """Behind a reverse proxy every request comes from the proxy's address. When the peer is
    one of `TRUSTED_PROXIES` (addresses/CIDRs), the client is taken from `X-Forwarded-For`,
    read from the right and skipping trusted hops (uvicorn's ProxyHeadersMiddleware); from
    any other peer the header is ignored, so nobody can choose their own address."""

    def proxy_headers_middleware(app: ASGIApp) -> ASGIApp:
        if not settings.trusted_proxies:
            return app
        proxied = ProxyHeadersMiddleware(app, trusted_hosts=list(settings.trusted_proxies))

        async def keep_peer(scope: Scope, receive: Receive, send: Send) -> None:
            # The TCP peer itself, before the client is replaced (see `peer_is_trusted_proxy`).
            scope.setdefault("state", {})[_PEER_KEY] = scope.get("client")
            await proxied(scope, receive, send)

        return keep_peer

    return proxy_headers_middleware


class RequestBodyTimeout(HTTPException):
    """The client stopped sending the request body (408, the normal error page)."""

    status_code = 408


def body_idle_timeout_middleware_factory(settings: Settings):
    """A request body that stops arriving must not hold a connection and a temp file for
    ever: each wait for the next part of the body is limited to BODY_IDLE_TIMEOUT_SECONDS.
    On a stall `receive` raises `RequestBodyTimeout` inside the handler, so whatever it was
    doing unwinds (staged upload files are discarded, no transaction commits) and the client
    gets a 408; the server then closes the connection (the body was not read to its end).
    Waiting for a disconnect after the body is complete is not limited."""

    timeout = settings.body_idle_timeout_seconds

    def body_idle_timeout_middleware(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            body_complete = False

            async def receive_with_timeout() -> Message:
                nonlocal body_complete
                if body_complete:
                    return await receive()
                try:
                    # A deadline on this task, not `wait_for` (a new task per body chunk).
                    async with asyncio.timeout(timeout):
                        message = await receive()
                except TimeoutError:
                    log.warning("request_body_stalled", path=scope.get("path"), seconds=timeout)
                    raise RequestBodyTimeout() from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    body_complete = True
                return message

            await app(scope, receive_with_timeout, send)

        return middleware

    return body_idle_timeout_middleware


_PEER_KEY = "tcp_peer"


def peer_is_trusted_proxy(connection: ASGIConnection, trusted: tuple[str, ...]) -> bool:
    """Whether the request's TCP peer (never a forwarded address) is one of `trusted`: only
    then may headers the proxy sets (the verified client certificate) be believed."""
    state = connection.scope.get("state", {})
    peer = state[_PEER_KEY] if _PEER_KEY in state else connection.scope.get("client")
    if not peer or not trusted:
        return False
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network, strict=False) for network in trusted)


class RunningRequests:
    """The requests an app is running, so that its shutdown can let them end first.

    When SHUTDOWN_GRACE_SECONDS runs out, uvicorn cancels the requests still running and,
    without waiting for them, shuts the app down (lifespan) and ends the process (it raises
    the SIGTERM again). A cancelled request still has work to do: an upload removes its temp
    file in a thread, logs "upload interrupted by shutdown" and answers 503. Had the app's
    shutdown finished first, the process died with the file left, the line lost and the
    client told nothing; so the shutdown waits for them (`finished`)."""

    def __init__(self) -> None:
        self.tasks: set[asyncio.Task] = set()

    async def finished(self, timeout: float) -> None:
        """Wait up to `timeout` seconds for the running requests (of this event loop) to end."""
        loop = asyncio.get_running_loop()
        running = [task for task in self.tasks if not task.done() and task.get_loop() is loop]
        if not running:
            return
        _done, left = await asyncio.wait(running, timeout=timeout)
        if left:
            log.warning("requests_still_running_at_shutdown", count=len(left), seconds=timeout)


def request_context_middleware(app: ASGIApp, running: RunningRequests | None = None) -> ASGIApp:
    """Give every request an id and a language, and log one line when it ends; `running`
    holds the requests' tasks while they run."""
    tasks = running.tasks if running is not None else set()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _SAFE_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        language = i18n.pick_language(_cookie(scope, i18n.LANGUAGE_COOKIE))
        token = i18n.set_language(language)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        task = asyncio.current_task()
        if task is not None:  # None outside asyncio's tasks: nothing to wait for then
            tasks.add(task)

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            tasks.discard(task)
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                client=(scope.get("client") or ("unknown",))[0],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.unbind_contextvars("request_id")
            i18n.reset_language(token)

    return middleware


def content_security_policy(settings: Settings) -> str:
    """The site's policy; "Çıxış" after an E-Gov sign-in is a form whose answer redirects to
    the identity provider's logout, which form-action must allow (that origin only)."""
    if not settings.egov_issuer_url:
        return CONTENT_SECURITY_POLICY
    issuer = urlsplit(settings.egov_issuer_url)
    origin = f"{issuer.scheme}://{issuer.netloc}"
    return CONTENT_SECURITY_POLICY.replace("form-action 'self'", f"form-action 'self' {origin}")


# Set on every response, replacing whatever a handler set.
_ALWAYS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"),
)
_HSTS = ("Strict-Transport-Security", "max-age=63072000; includeSubDomains")


def _raw(pairs) -> list[tuple[bytes, bytes]]:
    return [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


def security_headers_middleware_factory(settings: Settings):
    policy = content_security_policy(settings)
    always = [*_ALWAYS, *([_HSTS] if settings.is_production else [])]
    # The common case, a response that sets none of `always`: appended as they are, encoded
    # once here (setting them one by one scanned and decoded every header each time).
    raw_policy, raw_no_store = _raw(
        [("Content-Security-Policy", policy), ("Cache-Control", "no-store")]
    )
    raw_always = _raw(_ALWAYS)
    raw_hsts = _raw([_HSTS]) if settings.is_production else []
    always_names = {name for name, _ in _raw(always)}

    def security_headers_middleware(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    headers = MutableScopeHeaders.from_message(message)
                    present = {name.lower() for name, _ in headers.headers}
                    if present.isdisjoint(always_names):
                        raw = headers.headers
                        # A handler may set a stricter policy (file downloads use a sandbox).
                        if raw_policy[0] not in present:
                            raw.append(raw_policy)
                        raw.extend(raw_always)
                        # Pages may show personal data: never stored by a browser or a
                        # shared cache. Responses that may be cached say so (static files).
                        if raw_no_store[0] not in present:
                            raw.append(raw_no_store)
                        raw.extend(raw_hsts)
                    else:  # the same, replacing the handler's values where it set them
                        if "content-security-policy" not in headers:
                            headers["Content-Security-Policy"] = policy
                        for name, value in _ALWAYS:
                            headers[name] = value
                        if "cache-control" not in headers:
                            headers["Cache-Control"] = "no-store"
                        if settings.is_production:
                            headers[_HSTS[0]] = _HSTS[1]
                await send(message)

            await app(scope, receive, send_with_headers)

        return middleware

    return security_headers_middleware

"""The application factory: every plugin, middleware and route is wired here, once."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from functools import partial

from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.plugins.htmx import HTMXPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.registry import StoreRegistry
from litestar.template import TemplateConfig

from web import worker
from web.catalog.routes import CatalogController
from web.documents.routes import (
    AuditLogController,
    DocumentsController,
    OfficerDocumentsController,
)
from web.identity import asan_signin, authority
from web.identity.asan_signin import build_asan_service
from web.identity.e_imza import build_e_imza_service
from web.identity.egov_oidc import build_egov_service
from web.identity.guards import (
    GuardsGetTheHandler,
    auth_context_middleware_factory,
    provide_user,
)
from web.identity.means import SIGN_IN_MEANS
from web.identity.routes import AuthController, SessionController
from web.identity.sessions import STORE_NAME, session_config
from web.letters.registry_routes import RegistryController
from web.letters.routes import LettersController
from web.platform import css_bundle, db, rate_limits
from web.platform.csrf import PortalCSRFMiddleware
from web.platform.dependencies import SerialSyncDependencies, dependencies
from web.platform.errors import EXCEPTION_HANDLERS
from web.platform.logging import configure_logging
from web.platform.middleware import (
    RunningRequests,
    body_idle_timeout_middleware_factory,
    proxy_headers_middleware_factory,
    request_context_middleware,
    security_headers_middleware_factory,
)
from web.platform.routes import SystemController
from web.platform.static_assets import (
    STATIC_CACHE_SECONDS,
    STATIC_DIR,
    STATIC_PREFIX,
    sri,
    static_url,
)
from web.platform.stores import HOUSEKEEPING_INTERVAL_SECONDS, StoreFactory, housekeeping
from web.platform.templating import build_environment
from web.settings import Settings, get_settings
from web.simulator.routes import AsanSimulatorController
from web.storage.check import sweep_temp
from web.storage.configured import storage_from_settings

# Not under the general limit: static files, health checks, and letter lookups (they have a
# stricter limit of their own, so a lookup costs two store round trips, not three).
UNLIMITED_PATHS = (f"^{STATIC_PREFIX}", "^/healthz", "^/letters/track$")
# How long the shutdown waits for cancelled requests to unwind (remove an upload's temp
# file, log, answer 503): moments, unless something hangs.
REQUESTS_UNWIND_SECONDS = 3
# Public, cacheable responses set no cookie (a shared cache must never store one).
NO_CSRF_COOKIE_PATHS = [f"^{STATIC_PREFIX}/", "^/healthz"]


class Portal(Litestar):
    """Litestar runs app-level middleware only for matched routes, so 404/405 pages would
    miss the client address, language, request id and security headers. These wrap
    everything."""

    def __init__(self, *args, settings: Settings, csrf: CSRFConfig, **kwargs) -> None:
        self.running_requests = RunningRequests()  # the shutdown waits for them (lifespan)
        self._outer_middleware = (
            proxy_headers_middleware_factory(settings),  # first: everything after sees the client
            partial(request_context_middleware, running=self.running_requests),
            security_headers_middleware_factory(settings),
            body_idle_timeout_middleware_factory(settings),
        )
        # Our CSRF middleware instead of Litestar's (see web.platform.csrf); innermost of the
        # app's middleware, where Litestar puts its own.
        middleware = [
            *kwargs.pop("middleware", []),
            DefineMiddleware(PortalCSRFMiddleware, config=csrf),
        ]
        super().__init__(*args, middleware=middleware, **kwargs)
        self.csrf_config = csrf  # after the routes are built, so Litestar adds no second check

    def _create_asgi_handler(self):
        handler = super()._create_asgi_handler()
        for middleware in reversed(self._outer_middleware):
            handler = middleware(handler)
        return handler


# Sign-in steps that arrive by GET (the identity provider's answer, the certificate front).
SIGN_IN_GET_PATHS = ("/login/egov/callback", "/login/e-imza")


def _is_sign_in_attempt(scope) -> bool:
    return rate_limits.unsafe_method(scope) or scope["path"] in SIGN_IN_GET_PATHS


def create_app(
    settings: Settings | None = None, extra_route_handlers: list | None = None
) -> Litestar:
    """Build the app. `extra_route_handlers` lets tests mount probe routes."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    css_bundle.write()  # the pages' one stylesheet, generated from its sources (not committed)
    environment = build_environment()
    environment.globals.update(static_url=static_url, sri=sri, settings=settings)

    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        await db.init_db(settings)
        app.state.settings = settings
        app.state.asan = build_asan_service(settings)
        app.state.egov = build_egov_service(settings)
        app.state.e_imza = build_e_imza_service(settings)
        # The outbox worker's jobs (web/worker.py) run here only on the embedded default;
        # elsewhere `python -m web worker` runs them once for every instance.
        stop = asyncio.Event()
        background = worker.jobs(settings, stop) if worker.runs_in_web(settings) else []
        app.state.storage = storage_from_settings(settings)
        # Temp files of uploads a crash or kill cut off (uploads of live workers are kept).
        await sweep_temp(app.state.storage)
        app.state.redis = stores.redis
        # Changes of a person's authority reach the copies in their sessions (authority.py).
        unregister = authority.register(app.stores.get(STORE_NAME), settings.secret_key)
        sweeper = asyncio.create_task(
            housekeeping(_chores(app), HOUSEKEEPING_INTERVAL_SECONDS, stop)
        )
        try:
            yield
        finally:
            # uvicorn shuts the app down right after cancelling the requests the grace left
            # running, and then ends the process: let them unwind first (RunningRequests).
            await app.running_requests.finished(timeout=REQUESTS_UNWIND_SECONDS)
            stop.set()
            unregister()
            await asyncio.gather(sweeper, return_exceptions=True)
            await asyncio.gather(*background, return_exceptions=True)
            await db.close_db()
            await stores.close()

    stores = StoreFactory(settings)

    def _chores(app: Litestar) -> list:
        """Forget what has expired: memory-store keys (sessions, rate-limit windows), used
        Asan İmza transaction ids and finished simulator transactions."""
        chores = [stores.purge_expired]
        if app.state.asan is not None:
            chores.append(lambda: asan_signin.purge_expired(app.state.asan, now=datetime.now(UTC)))
        return chores

    # The phone simulator exists only where the simulated operator does (never production).
    simulator_routes = (
        [AsanSimulatorController]
        if settings.is_development and settings.asan_gateway == "simulator"
        else []
    )

    limits = rate_limits.RateLimits(rate_limits.build_storage(settings))
    general_limit = rate_limits.RateLimitMiddleware(
        limits, "general", settings.rate_limit_per_minute, exclude=UNLIMITED_PATHS
    )
    # Sign-in attempts have a limit of their own, far below the general one.
    sign_in_limit = rate_limits.RateLimitMiddleware(
        limits,
        "sign-in",
        settings.sign_in_rate_limit_per_minute,
        counts=_is_sign_in_attempt,
        exact=True,
    )
    auth_router = Router(path="/", route_handlers=[AuthController], middleware=[sign_in_limit])
    csrf = CSRFConfig(
        secret=settings.secret_key,
        cookie_name="__Host-csrftoken" if settings.is_production else "csrftoken",
        cookie_secure=settings.is_production,
        cookie_httponly=True,
        cookie_samesite="lax",
        exclude=NO_CSRF_COOKIE_PATHS,
    )
    static_router = create_static_files_router(
        path=STATIC_PREFIX,
        directories=[STATIC_DIR],
        cache_control=CacheControlHeader(max_age=STATIC_CACHE_SECONDS, public=True, immutable=True),
        include_in_schema=False,
    )
    state = State({"settings": settings})  # becomes app.state (the providers read it)
    app = Portal(
        settings=settings,
        route_handlers=[
            CatalogController,
            auth_router,
            SessionController,
            LettersController,
            RegistryController,
            DocumentsController,
            OfficerDocumentsController,
            AuditLogController,
            *simulator_routes,
            SystemController,
            static_router,
            *(extra_route_handlers or []),
        ],
        lifespan=[database],
        plugins=[HTMXPlugin(), SerialSyncDependencies(), GuardsGetTheHandler()],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment)),
        csrf=csrf,
        compression_config=CompressionConfig(
            backend="gzip", gzip_compress_level=6, exclude_opt_key="skip_compression"
        ),
        middleware=[
            general_limit,
            session_config(settings).middleware,
            auth_context_middleware_factory(settings),
        ],
        stores=StoreRegistry(default_factory=stores),
        state=state,
        dependencies=dependencies(
            state,
            user=Provide(provide_user, sync_to_thread=False),
            **SIGN_IN_MEANS,
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        request_max_body_size=settings.max_body_bytes,
        openapi_config=None,
        logging_config=None,  # ours (web/platform/logging.py): JSON lines for every logger
        debug=False,
    )
    app.state.rate_limits = limits  # the letter lookup counts with it too
    assert app.state is state
    return app


def create_served_app(settings: Settings | None = None) -> Litestar:
    """The app as `python -m web serve` runs it (each uvicorn worker calls this): once it has
    started, what it holds for good is frozen out of the garbage collector."""
    app = create_app(settings)
    app.on_startup.append(freeze_startup_heap)
    return app


def freeze_startup_heap(app: Litestar) -> None:
    """Move every object alive after startup (modules, ORM models, compiled templates…,
    ~300k) to the collector's permanent generation. Under load, objects of requests in
    flight are promoted to the oldest generation faster than they die, which makes CPython
    run a full collection every second or two — and a full collection that walks the startup
    heap held the worker ~70 ms each time (a 6 s run at 1,600 req/s: p99 350–500 ms instead
    of ~100 ms). Frozen objects are still freed by reference counting; only the cycle
    finder skips them. The templates every page uses are compiled first, so they are part
    of what is frozen. (`gc.freeze` is meant for exactly this: Python docs, `gc`.)"""
    environment = app.template_engine.engine
    for name in environment.list_templates(filter_func=_is_template):
        environment.get_template(name)  # a broken template stops the start, not a page later
    gc.collect()
    gc.freeze()


def _is_template(name: str) -> bool:
    """A `.j2` file, not a hidden one (an editor's lock or swap file)."""
    return name.endswith(".j2") and not any(part.startswith(".") for part in name.split("/"))

"""The served app plus `GET /_bench/noop`: a signed-in route that does nothing — its guard,
the `user` and `settings` it asks for, and a 3-byte answer. It costs what every signed-in
page pays before its own work (middleware, session, identity, DI, logging), so a page's
throughput against it says what the page's own work costs; the issue's "lookup ÷ the app's
own signed-in no-op route". Mounted only by the benchmarks: in process
(bench/cpu_per_request.py) and as a server of its own (bench/server_load.py runs
`web.__main__.run_server(settings, "bench.probe_app:create_probe_app")`)."""

from __future__ import annotations

from litestar import Litestar, get
from litestar.response import Response

from web.identity.guards import SignedInUser, signed_in
from web.platform.dependencies import AppSettings

NOOP_PATH = "/_bench/noop"


@get(
    NOOP_PATH,
    guards=[signed_in],
    sync_to_thread=False,
    signature_namespace={"SignedInUser": SignedInUser, "AppSettings": AppSettings},
)
def noop(user: SignedInUser, settings: AppSettings) -> Response:
    return Response(b"ok\n", media_type="text/plain")


def create_probe_app() -> Litestar:
    """What `python -m web serve` runs (`create_served_app`: heap frozen after startup),
    with the no-op route."""
    from web.app import create_app, freeze_startup_heap

    app = create_app(extra_route_handlers=[noop])
    app.on_startup.append(freeze_startup_heap)
    return app

"""The app as `python -m web serve` runs it: after startup, its heap is frozen out of the
garbage collector (web/app.py `freeze_startup_heap`), its templates compiled first."""

from __future__ import annotations

import gc

import pytest
from litestar.testing import AsyncTestClient

from tests.integration.letters_support import sign_in
from web import __main__ as cli
from web.app import create_served_app

pytestmark = pytest.mark.usefixtures("seeded")


async def test_the_served_app_freezes_its_startup_heap_with_every_template_compiled(settings):
    gc.unfreeze()
    app = create_served_app(settings)
    environment = app.template_engine.engine
    names = environment.list_templates(filter_func=lambda name: name.endswith(".j2"))
    try:
        async with AsyncTestClient(app=app) as client:
            frozen = gc.get_freeze_count()
            assert frozen > 50_000, frozen  # modules, models, templates: the startup heap
            cached = {template.name for template in environment.cache.values()}
            assert set(names) <= cached, set(names) - cached
            # It serves as before: a signed-in page, a lookup's page.
            await sign_in(client, "vetendas")
            assert (await client.get("/letters")).status_code == 200
    finally:
        gc.unfreeze()  # the rest of the test process is not a server


def test_serve_runs_the_served_app():
    assert cli.run_server.__defaults__ == ("web.app:create_served_app",)


def test_startup_compiles_templates_but_not_hidden_files():
    from web.app import _is_template

    assert _is_template("letters/track.html.j2")
    assert not _is_template("letters/.#track.html.j2")  # an editor's lock file
    assert not _is_template(".cache/x.html.j2")
    assert not _is_template("letters/track.html")

"""End-to-end fixtures: a real server process on a free port, real Chromium.

The server runs `python -m web serve` with a temporary DATA_DIR and the database that
TEST_DATABASE selects (see tests/support/database.py). Chromium is Debian's
/usr/bin/chromium when present, else Playwright's own build.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.support.database import provision_test_database
from tests.support.server import ServerProcess, free_port, server_environment
from tests.support.sign_in_means import sign_in_means

ROOT = Path(__file__).resolve().parent.parent
SYSTEM_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
MOBILE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def server_env() -> Iterator[dict[str, str]]:
    database = provision_test_database()
    data_dir = tempfile.mkdtemp(prefix="egomruk-e2e-")
    env = server_environment(Path(data_dir), database.url)
    # E-Gov identity (a real OpenID provider) and Elektron imza (demo certificates; nginx is
    # started by the tests that need it, on the port reserved here).
    with sign_in_means(env, Path(data_dir), free_port) as means_env:
        env.update(means_env)
        yield env
    database.drop()
    shutil.rmtree(data_dir, ignore_errors=True)


@contextmanager
def running_server(env: dict[str, str]) -> Iterator[str]:
    """`python -m web serve` with `env` until the block ends; yields its URL."""
    server = ServerProcess(env).start()
    try:
        yield server.url
    finally:
        server.stop()


def second_server_env(server_env: dict[str, str], **overrides: str) -> dict[str, str]:
    """The suite's settings (same database) on another port, with some changed."""
    return {**server_env, "PORT": str(free_port()), **overrides}


@pytest.fixture(scope="session")
def base_url(server_env: dict[str, str]) -> Iterator[str]:
    with running_server(server_env) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        options: dict = {"headless": True, "args": CHROMIUM_ARGS}
        if Path(SYSTEM_CHROMIUM).exists():
            options["executable_path"] = SYSTEM_CHROMIUM
        browser = playwright.chromium.launch(**options)
        yield browser
        browser.close()


def new_context(browser: Browser, base_url: str, **options) -> BrowserContext:
    options.setdefault("viewport", DESKTOP)
    context = browser.new_context(base_url=base_url, **options)
    context.set_default_timeout(10_000)
    return context


@pytest.fixture
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    context = new_context(browser, base_url)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def mobile_page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = new_context(browser, base_url, viewport=MOBILE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def no_js_page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = new_context(browser, base_url, java_script_enabled=False)
    yield context.new_page()
    context.close()

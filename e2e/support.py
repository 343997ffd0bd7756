"""Assertions shared by the end-to-end tests."""

from __future__ import annotations

from urllib.parse import urlencode

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from web.devdata.demo_data import DEMO_PASSWORD

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
_axe = Axe()


def assert_accessible(page: Page) -> None:
    """axe-core with the WCAG 2.2 AA rule tags reports zero violations."""
    results = _axe.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert results.violations_count == 0, f"{page.url}\n{results.generate_report()}"


def assert_no_horizontal_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px"


def set_language(page: Page, language: str) -> None:
    page.goto(f"/language/{language}?next=/")


PASSWORD = DEMO_PASSWORD  # every demo account's (README)
FIRST_PARTY = ""  # `party=FIRST_PARTY`: whichever party is listed first, if asked at all


def sign_in(page: Page, username: str, next_path: str = "/", party: str | None = None) -> None:
    """Sign in with user name and password (works with and without JavaScript, in any of the
    languages); then, when `party` is given, act for that party (its label) or, with
    FIRST_PARTY, for the first one offered. The HTTP counterpart is `tests/support/web.py`."""
    # `next` travels in the query (no session before sign-in), as the sign-in page's links do.
    page.goto(f"/login/password?{urlencode({'next': next_path})}")
    page.locator("#username").fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    if party == FIRST_PARTY:
        if "/party" in page.url:
            page.locator("input[name=party]").first.check()
            page.locator("main form button[type=submit]").click()
    elif party is not None:
        page.get_by_label(party).check()
        page.locator("main form button[type=submit]").click()

"""Assertions shared by the end-to-end tests."""

from __future__ import annotations

from urllib.parse import urlencode

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

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


PASSWORD = "Demo-2026-gomruk"  # every demo account's (README)


def sign_in(page: Page, username: str, next_path: str = "/", party: str | None = None) -> None:
    """Sign in with user name and password (works with and without JavaScript)."""
    # `next` travels in the query (no session before sign-in), as the sign-in page's links do.
    page.goto(f"/login/password?{urlencode({'next': next_path})}")
    page.get_by_label("İstifadəçi adı").fill(username)
    page.get_by_label("Şifrə").fill(PASSWORD)
    page.get_by_role("button", name="Daxil ol").click()
    if party is not None:
        page.get_by_label(party).check()
        page.get_by_role("button", name="Davam et").click()

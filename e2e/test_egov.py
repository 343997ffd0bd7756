"""E-Gov identity end to end in Chromium, against the real OpenID provider the e2e server is
configured with (tests/support/sign_in_means.py): sign-in, refusal, single logout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.support import assert_accessible
from tests.support.oidc import require_provider

SIGN_IN_LINK = "E-Gov identity ilə daxil olmaq"


@pytest.fixture(autouse=True)
def _provider(server_env: dict[str, str]) -> None:
    if "EGOV_ISSUER_URL" not in server_env:
        require_provider()  # skips with the reason (fails in CI)


def _at_provider(page: Page, login: str) -> None:
    """The provider's own login page, then its consent page."""
    expect(page.locator("input[name=login]")).to_be_visible()
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any")
    page.get_by_role("button", name="Sign-in").click()
    expect(page.get_by_role("button", name="Continue")).to_be_visible()


def test_sign_in_and_single_logout(page: Page, base_url: str, server_env):
    page.goto("/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("PORTALA GİRİŞ")
    page.get_by_role("link", name=SIGN_IN_LINK).click()
    expect(page).to_have_url(re.compile("^" + re.escape(server_env["EGOV_ISSUER_URL"])))
    _at_provider(page, "vetendas2")
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base_url}/documents")
    expect(page.locator(".site-header")).to_contain_text("Rəşad Əliyev")
    # "Çıxış" ends the portal's session, then the provider's (RP-initiated logout).
    page.get_by_role("button", name="Çıxış").click()
    expect(page).to_have_url(re.compile("^" + re.escape(server_env["EGOV_ISSUER_URL"])))
    page.get_by_role("button", name="Yes, sign me out").click()
    expect(page).to_have_url(re.compile("^" + re.escape(base_url)))
    page.goto("/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("PORTALA GİRİŞ")
    # The provider asks who it is again: its session ended too.
    page.get_by_role("link", name=SIGN_IN_LINK).click()
    expect(page.locator("input[name=login]")).to_be_visible()


def test_refusing_consent_is_explained_and_other_means_offered(page: Page, base_url: str):
    page.goto("/login")
    page.get_by_role("link", name=SIGN_IN_LINK).click()
    _at_provider(page, "vetendas")
    page.get_by_role("link", name="Cancel").click()
    expect(page).to_have_url(re.compile(re.escape(base_url) + "/login/egov/callback"))
    expect(page.locator(".error-summary")).to_contain_text("icazə vermədiniz")
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("main a[href='/login/password']")).to_be_visible()
    page.wait_for_load_state("load")
    assert_accessible(page)


def test_without_javascript_by_keyboard_to_the_company_choice(no_js_page: Page, base_url: str):
    page = no_js_page
    page.goto("/login?next=/documents")
    page.get_by_role("link", name=SIGN_IN_LINK).focus()
    page.keyboard.press("Enter")
    _at_provider(page, "vetendas")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Kimin adından daxil olursunuz?")
    page.get_by_label(re.compile("Xəzər Logistika MMC")).check()
    page.get_by_role("button", name="Davam et").click()
    expect(page).to_have_url(f"{base_url}/documents")

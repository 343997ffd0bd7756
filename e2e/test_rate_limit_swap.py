"""A rate limit met by an htmx request: the limit page takes <main>'s place, its heading
takes focus and is announced (instead of a silent failure)."""

from __future__ import annotations

import re

from playwright.sync_api import Page, Route, expect

from e2e.support import assert_accessible, sign_in
from e2e.test_documents import fill_period


def test_429_during_an_htmx_search_is_shown_and_announced(page: Page):
    sign_in(page, "vetendas2", "/documents")
    # Search only once htmx runs on the page: a click before that (a loaded machine) sends
    # the form without it, as with JavaScript off, and no htmx request is ever made.
    expect(page).to_have_url(re.compile(r".*/documents$"))
    page.wait_for_load_state("load")  # after DOMContentLoaded, when htmx processed the page
    page.wait_for_function("() => window.htmx !== undefined")
    limit_page = page.request.get("/no-such-page").text()  # a real error page of the portal
    limit_page = limit_page.replace("Səhifə tapılmadı", "Həddindən çox sorğu")

    def too_many(route: Route) -> None:
        if route.request.headers.get("hx-request") == "true":
            route.fulfill(status=429, body=limit_page, content_type="text/html; charset=utf-8")
        else:
            route.continue_()

    page.route(re.compile(r".*/documents\?from-day=.*"), too_many)
    fill_period(page, "Tarixdən", "01.01.2026")
    fill_period(page, "Tarixədək", "31.01.2026")
    page.get_by_role("button", name="Axtar").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Həddindən çox sorğu")
    expect(heading).to_be_focused()
    expect(page.locator("#status")).to_have_text("Həddindən çox sorğu")
    assert page.locator("main").count() == 1
    assert_accessible(page)

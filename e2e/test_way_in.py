"""The way in, as people use it: mouse, keyboard only, phone width, zoom, no JavaScript,
and axe-core on every page in all three languages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from e2e.support import assert_accessible, assert_no_horizontal_scroll, set_language

PAGES = [
    "/",
    "/services",
    "/agencies/dgk",
    "/agencies/dgk?q=zzzz",
    "/agencies/dgk/services/clearance-documents",
    "/agencies/dgk/services/letter-tracking",
    "/documents",
    "/letters",
    "/no-such-page",
]
DOCUMENTS_SERVICE_AZ = "Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri"


def tab_to(page: Page, pattern: str, limit: int = 80) -> None:
    """Press Tab until the focused element's text or label matches, as a keyboard user."""
    regex = re.compile(pattern, re.IGNORECASE)
    for _ in range(limit):
        page.keyboard.press("Tab")
        label = page.evaluate(
            "() => { const e = document.activeElement; return e ? "
            "(e.getAttribute('aria-label') || e.innerText || e.value || '') : '' }"
        )
        if regex.search(label or ""):
            return
    raise AssertionError(f"no focusable element matching {pattern!r}")


def test_way_in_with_a_mouse(page: Page):
    page.goto("/")
    page.get_by_role("link", name="Bütün xidmətlər").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bütün xidmətlər")
    expect(page.get_by_role("heading", name="Qurumlar")).to_be_visible()
    page.get_by_role("link", name="Dövlət Gömrük Komitəsi").click()
    expect(page.locator(".service-list__item")).to_have_count(12)
    page.get_by_role("link", name=DOCUMENTS_SERVICE_AZ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(DOCUMENTS_SERVICE_AZ)
    page.get_by_role("button", name=re.compile("İndi başla")).click()
    expect(page).to_have_url(re.compile(r"/documents$"))


def test_live_filter_updates_in_place_announces_and_keeps_the_url(page: Page):
    page.goto("/agencies/dgk")
    search = page.get_by_role("searchbox")
    search.press_sequentially("mektub", delay=30)
    expect(page.locator(".service-list__item")).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=mektub"))
    expect(page.locator("#status")).to_contain_text("1")
    expect(search).to_be_focused()  # typing is never interrupted
    page.reload()
    expect(page.locator(".service-list__item")).to_have_count(1)
    expect(page.get_by_role("searchbox")).to_have_value("mektub")
    # Back and forward show the same state (htmx reloads the page from the server on a
    # history miss, so drive history from the page rather than wait for one navigation).
    page.evaluate("history.back()")
    expect(page).to_have_url(re.compile(r"/agencies/dgk$"))
    expect(page.locator(".service-list__item")).to_have_count(12)
    page.evaluate("history.forward()")
    expect(page).to_have_url(re.compile(r"q=mektub"))
    expect(page.locator(".service-list__item")).to_have_count(1)


def test_way_in_by_keyboard_alone(page: Page):
    page.goto("/")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_class(re.compile("skip-link"))
    tab_to(page, "^Bütün xidmətlər")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bütün xidmətlər")
    tab_to(page, "^Dövlət Gömrük Komitəsi$")
    page.keyboard.press("Enter")
    page.wait_for_url("**/agencies/dgk")
    tab_to(page, "^Vətəndaşlardan")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("onlayn izlənməsi")
    tab_to(page, "İndi başla")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/letters$"))


def test_language_switch_keeps_the_page(page: Page):
    page.goto("/agencies/dgk?q=sened")
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(re.compile(r"/agencies/dgk\?q=sened$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("State Customs Committee")
    page.get_by_role("link", name="Русский").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    page.get_by_role("link", name="Azərbaycanca").click()
    expect(page.locator("html")).to_have_attribute("lang", "az")


def test_everything_works_without_javascript(no_js_page: Page):
    page = no_js_page
    page.goto("/")
    page.get_by_role("link", name="Bütün xidmətlər").first.click()
    page.get_by_role("link", name="Dövlət Gömrük Komitəsi").click()
    page.get_by_role("searchbox").fill("gomruk odenis")
    page.get_by_role("button", name="Axtar").click()
    expect(page).to_have_url(re.compile(r"q=gomruk"))
    expect(page.locator(".service-list__item")).to_have_count(3)
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


@pytest.mark.parametrize("width", [320, 360])
def test_narrow_screens_never_scroll_sideways(browser, base_url, width):
    context = browser.new_context(base_url=base_url, viewport={"width": width, "height": 740})
    page = context.new_page()
    for path in PAGES:
        page.goto(path)
        assert_no_horizontal_scroll(page)
    context.close()


def test_text_zoom_200_percent_reflows(browser, base_url):
    # 200% zoom of a 1280 px window leaves 640 CSS px; text must reflow, not overflow.
    context = browser.new_context(
        base_url=base_url, viewport={"width": 640, "height": 400}, device_scale_factor=2
    )
    page = context.new_page()
    for path in PAGES:
        page.goto(path)
        assert_no_horizontal_scroll(page)
    context.close()


def test_primary_actions_are_large_enough_to_touch(mobile_page: Page):
    page = mobile_page
    page.goto("/agencies/dgk/services/clearance-documents")
    box = page.get_by_role("button", name=re.compile("İndi başla")).bounding_box()
    assert box and box["height"] >= 44
    page.goto("/agencies/dgk")
    box = page.get_by_role("button", name="Axtar").bounding_box()
    assert box and box["height"] >= 44


@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_axe_reports_no_violations_on_any_page(page: Page, language: str):
    set_language(page, language)
    for path in PAGES:
        page.goto(path)
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert_accessible(page)


def test_axe_after_an_htmx_swap(mobile_page: Page):
    page = mobile_page
    page.goto("/agencies/dgk")
    page.get_by_role("searchbox").press_sequentially("sened", delay=30)
    expect(page.locator(".service-list__item")).to_have_count(1)
    assert_accessible(page)
    assert_no_horizontal_scroll(page)

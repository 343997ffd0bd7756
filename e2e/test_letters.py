"""Letter tracking as people use it: the demo letter and “Geri”, a new appeal moved by a
clerk and seen moving by the citizen; by keyboard at 360 px, without JavaScript; axe on
every new page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e import support
from e2e.conftest import MOBILE, new_context
from e2e.support import assert_accessible, assert_no_horizontal_scroll, set_language

BAKI = "Bakı Baş Gömrük İdarəsi"
SHOW = "Məktubun hansı gömrük orqanında olduğunu göstər"
FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def sign_in(page: Page, username: str, next_path: str = "/letters") -> None:
    # vetendas also acts for a company: letters are her own, so any party will do.
    support.sign_in(page, username, next_path, party=support.FIRST_PARTY)
    expect(page).to_have_url(re.compile(re.escape(next_path) + "$"))


def fill_lookup(page: Page, number: str, day: str) -> None:
    d, m, y = day.split(".")
    page.get_by_label("Gömrük orqanı").select_option(label=BAKI)
    page.get_by_label("Məktubun nömrəsi").fill(number)
    page.locator("#registered-day").fill(d)
    page.locator("#registered-month").fill(m)
    page.locator("#registered-year").fill(y)


def test_track_the_demo_letter_then_back(page: Page):
    sign_in(page, "vetendas")
    assert_accessible(page)
    fill_lookup(page, " m-1024/2026 ", "03.11.2026")
    page.get_by_role("button", name=SHOW).click()
    heading = page.get_by_role("heading", name="Məktubunuz haradadır")
    expect(heading).to_be_focused()
    expect(page.locator("#status")).to_contain_text("M-1024/2026")
    result = page.locator("#tracking")
    expect(result).to_contain_text("Gömrük rəsmiləşdirilməsi şöbəsi")
    expect(result).to_contain_text("Elnur Həsənov")
    expect(result).to_contain_text("İcradadır")
    expect(page.get_by_role("link", name="+994 12 505 11 24")).to_have_attribute(
        "href", "tel:+994125051124"
    )
    expect(page.locator(".timeline__item")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"/letters/track\?"))
    assert_accessible(page)

    page.get_by_role("link", name="Geri").click()
    expect(page.get_by_label("Gömrük orqanı")).to_be_focused()
    expect(page.get_by_label("Məktubun nömrəsi")).to_have_value("")
    expect(page).to_have_url(re.compile(r"/letters$"))
    assert_accessible(page)


def test_an_appeal_moved_by_a_clerk_is_seen_moving(browser: Browser, base_url: str):
    citizen_context = new_context(browser, base_url)
    citizen = citizen_context.new_page()
    sign_in(citizen, "vetendas", "/letters/new")
    assert_accessible(citizen)
    citizen.get_by_label("Gömrük orqanı").select_option(label=BAKI)
    citizen.get_by_label("Mövzu").fill("Poçt göndərişinin rüsumu")
    citizen.get_by_label("Müraciətin mətni").fill("Göndərişin gömrük rüsumu necə hesablanır?")
    citizen.get_by_label("Əlavələr").set_input_files(FIXTURES / "invoice.pdf")
    citizen.get_by_role("button", name="Göndər").click()
    panel = citizen.locator(".panel")
    expect(panel).to_contain_text("Müraciətiniz qəbul edildi")
    number = citizen.locator(".panel strong").inner_text().strip()
    assert re.fullmatch(r"M-\d+/\d{4}", number)
    summary = citizen.locator(".summary-list")
    expect(summary).to_contain_text("Qeydiyyat nömrəsi")
    expect(summary).to_contain_text("Qeydiyyat tarixi")
    registered = citizen.locator(".summary-list__row").nth(1).locator("dd").inner_text().strip()
    assert_accessible(citizen)

    # Track it with the form, as the number and date say.
    citizen.goto("/letters")
    fill_lookup(citizen, number, registered)
    citizen.get_by_role("button", name=SHOW).click()
    expect(citizen.locator("#tracking")).to_contain_text("Qeydiyyata alınıb")
    expect(citizen.locator("#tracking")).to_contain_text(number)

    clerk_context = new_context(browser, base_url)
    clerk = clerk_context.new_page()
    sign_in(clerk, "katib", "/registry")
    assert_accessible(clerk)
    clerk.get_by_role("link", name=number).click()
    expect(clerk.get_by_role("heading", level=1)).to_contain_text(number)
    assert_accessible(clerk)
    clerk.get_by_label("Struktur bölmə").select_option(label="Gömrük ödənişləri şöbəsi")
    clerk.get_by_label("İcraçı").select_option(label="Kamran Əhmədov, +994 12 505 12 08")
    clerk.locator("#forward-public").fill("Müraciət ödənişlər şöbəsinə verildi.")
    clerk.locator("#forward-internal").fill("Daxili: tələsik deyil")
    clerk.get_by_role("button", name="Göndər", exact=True).click()
    expect(clerk.locator(".notification-banner")).to_contain_text("Məktub göndərildi")
    expect(clerk.locator(".timeline")).to_contain_text("Daxili: tələsik deyil")
    assert_accessible(clerk)

    citizen.goto("/letters/mine")
    assert_accessible(citizen)
    citizen.get_by_role("link", name=number).click()
    result = citizen.locator("#tracking")
    expect(result).to_contain_text("Gömrük ödənişləri şöbəsi")
    expect(result).to_contain_text("Kamran Əhmədov")
    expect(result).to_contain_text("İcraçıya göndərilib")
    expect(result).to_contain_text("Müraciət ödənişlər şöbəsinə verildi.")
    expect(result).not_to_contain_text("tələsik")
    expect(citizen.get_by_role("link", name="invoice.pdf")).to_be_visible()
    citizen.goto("/letters/notifications")
    expect(citizen.locator(".notice-list")).to_contain_text("İcraçıya göndərilib")
    assert_accessible(citizen)

    # The second demo citizen cannot see it.
    other_context = new_context(browser, base_url)
    other = other_context.new_page()
    sign_in(other, "vetendas2")
    fill_lookup(other, number, registered)
    other.get_by_role("button", name=SHOW).click()
    expect(other.get_by_role("heading", name="Bu məlumatlarla məktub tapılmadı")).to_be_focused()
    for context in (citizen_context, clerk_context, other_context):
        context.close()


def test_lookup_by_keyboard_alone_at_360px(browser: Browser, base_url: str):
    context = new_context(browser, base_url, viewport=MOBILE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, "vetendas2")
    page.get_by_label("Gömrük orqanı").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # the second body in the list
    page.keyboard.press("Tab")
    page.keyboard.type("M-1/2026")
    page.keyboard.press("Tab")  # past the hint to the day
    page.keyboard.type("01")
    page.keyboard.press("Tab")
    page.keyboard.type("01")
    page.keyboard.press("Tab")
    page.keyboard.type("2026")
    page.keyboard.press("Enter")
    heading = page.get_by_role("heading", name="Bu məlumatlarla məktub tapılmadı")
    expect(heading).to_be_focused()
    assert_no_horizontal_scroll(page)
    assert_accessible(page)
    page.get_by_role("link", name="Geri").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Gömrük orqanı")).to_be_focused()
    assert_no_horizontal_scroll(page)
    for path in ("/letters/mine", "/letters/new", "/letters/notifications"):
        page.goto(path)
        assert_no_horizontal_scroll(page)
    context.close()


def test_tracking_and_appeal_without_javascript(no_js_page: Page):
    page = no_js_page
    sign_in(page, "vetendas")
    fill_lookup(page, "M-1024/2026", "03.11.2026")
    page.get_by_role("button", name=SHOW).click()
    expect(page.get_by_role("heading", name="Məktubunuz haradadır")).to_be_visible()
    expect(page.locator("#tracking")).to_contain_text("Elnur Həsənov")
    page.get_by_role("link", name="Geri").click()
    expect(page).to_have_url(re.compile(r"/letters\?again=1$"))
    expect(page.get_by_label("Gömrük orqanı")).to_be_focused()  # autofocus

    page.get_by_role("button", name=SHOW).click()  # nothing entered
    expect(page.locator(".error-summary")).to_be_visible()
    page.goto("/letters/new")
    page.get_by_label("Gömrük orqanı").select_option(label=BAKI)
    page.get_by_label("Mövzu").fill("JavaScript olmadan")
    page.get_by_role("button", name="Göndər").click()
    expect(page.locator(".error-summary")).to_contain_text("Müraciətin mətnini daxil edin")
    expect(page.get_by_label("Mövzu")).to_have_value("JavaScript olmadan")
    page.get_by_label("Müraciətin mətni").fill("Mətn")
    page.get_by_role("button", name="Göndər").click()
    expect(page.locator(".panel")).to_contain_text("Müraciətiniz qəbul edildi")


@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_axe_on_letter_pages(browser: Browser, base_url: str, language: str):
    context = new_context(browser, base_url)
    page = context.new_page()
    set_language(page, language)
    sign_in(page, "admin", "/registry")
    for path in (
        "/registry",
        "/registry?overdue=1&status=registered",
        "/registry/new",
        "/registry/search?fin=5ABCD12",
        "/registry/bodies",
        "/letters",
        "/letters/mine",
        "/letters/notifications",
    ):
        page.goto(path)
        assert_accessible(page)
    page.goto("/registry/bodies")
    page.locator("#bodies a").first.click()
    assert_accessible(page)
    page.goto("/registry/new")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)
    page.goto("/registry/search?fin=5ABCD12")
    page.locator("#fin-results a").first.click()
    assert_accessible(page)
    page.goto("/letters?again=1")
    page.locator("main form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)
    context.close()
    # Appeals are filed by citizens only (staff get a 404 there).
    citizen_context = new_context(browser, base_url)
    citizen = citizen_context.new_page()
    set_language(citizen, language)
    sign_in(citizen, "vetendas", "/letters/new")
    assert_accessible(citizen)
    citizen_context.close()

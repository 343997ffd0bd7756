"""Sign-in as people do it: Asan İmza with the phone in a second tab, the company choice,
password, sign-out; by keyboard, at 360 px, without JavaScript; axe on every page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from e2e.support import PASSWORD, assert_accessible, assert_no_horizontal_scroll, set_language

PHONE = "+994501234567"


def open_phone(context: BrowserContext) -> Page:
    phone = context.new_page()
    phone.goto("/simulator/asan-imza/")
    phone.get_by_label("Mobil nömrə").fill("050 123 45 67")
    phone.get_by_role("button", name="Aç").click()
    expect(phone).to_have_url(
        re.compile(r"/simulator/asan-imza/phone/%2B994501234567|/phone/\+994501234567")
    )
    return phone


def start_asan(portal: Page, phone: str, user_id: str) -> None:
    portal.goto("/login/asan")
    portal.get_by_label("Asan imza mobil nömrəsi").fill(phone)
    portal.get_by_label("İstifadəçi ID").fill(user_id)
    portal.get_by_role("button", name="Daxil ol").click()


def confirm_on_phone(context: BrowserContext, number: str, pin1: str) -> Page:
    phone = context.new_page()
    phone.goto(f"/simulator/asan-imza/phone/{number}")
    phone.get_by_role("button", name="Təsdiq et").click()
    phone.get_by_label("PIN1").fill(pin1)
    phone.get_by_role("button", name="Göndər").click()
    return phone


def test_asan_imza_with_the_phone_in_a_second_tab(context: BrowserContext):
    portal = context.new_page()
    portal.goto("/documents")
    expect(portal.get_by_role("heading", level=1)).to_have_text("PORTALA GİRİŞ")
    portal.get_by_role("link", name="Asan imza ilə daxil olmaq").click()
    portal.get_by_label("Asan imza mobil nömrəsi").fill("050 123 45 67")
    portal.get_by_label("İstifadəçi ID").fill("123456")
    portal.get_by_role("button", name="Daxil ol").click()
    code = portal.locator(".asan-wait__code").inner_text()
    assert re.fullmatch(r"\d{4}", code)

    phone = open_phone(context)
    expect(phone.locator(".asan-wait__code")).to_have_text(code)  # the phone derives the same code
    phone.get_by_role("button", name="Təsdiq et").click()
    phone.get_by_label("PIN1").fill("12345")
    phone.get_by_role("button", name="Göndər").click()
    expect(phone.locator(".notification-banner")).to_be_visible()

    # The portal notices by itself (htmx polling) and asks on whose behalf.
    expect(portal.get_by_role("heading", level=1)).to_have_text(
        "Kimin adından daxil olursunuz?", timeout=15_000
    )
    assert_accessible(portal)
    portal.get_by_label(re.compile("Xəzər Logistika MMC")).check()
    portal.get_by_role("button", name="Davam et").click()
    expect(portal).to_have_url(re.compile(r"/documents$"))
    expect(portal.locator(".site-header")).to_contain_text("Xəzər Logistika MMC")
    expect(portal.locator(".site-header")).to_contain_text("1234567891")
    portal.get_by_role("button", name="Çıxış").click()
    expect(portal.locator(".notification-banner")).to_be_visible()
    portal.goto("/documents")
    expect(portal.get_by_role("heading", level=1)).to_have_text("PORTALA GİRİŞ")


def test_a_wrong_pin1_is_counted_and_refusing_reaches_the_portal(browser, base_url):
    # One wrong PIN1 only: blocking the demo SIM would break the other tests (the unit and
    # integration tests cover the block after three).
    context = browser.new_context(base_url=base_url)
    portal = context.new_page()
    start_asan(portal, "055 111 22 33", "654321")
    phone = confirm_on_phone(context, "+994551112233", "00000")
    expect(phone.locator(".error-summary")).to_contain_text("2")
    assert_accessible(phone)
    phone.goto("/simulator/asan-imza/phone/+994551112233")
    phone.get_by_role("button", name="İmtina et").click()
    expect(portal.get_by_role("heading", level=1)).to_contain_text("imtina", timeout=15_000)
    context.close()


def test_password_sign_in_by_keyboard_alone_at_360px(mobile_page: Page):
    page = mobile_page
    page.goto("/letters")
    link = page.get_by_role("link", name=re.compile("istifadəçi adı və şifrə ilə"))
    link.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # skip link first
    page.get_by_label("İstifadəçi adı").focus()
    page.keyboard.type("vetendas2")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/letters$"))
    assert_no_horizontal_scroll(page)
    assert_accessible(page)


def test_failed_password_keeps_the_name_and_focuses_the_error_summary(page: Page):
    page.goto("/login/password")
    page.get_by_label("İstifadəçi adı").fill("vetendas2")
    page.get_by_label("Şifrə").fill("wrong-password")
    page.get_by_role("button", name="Daxil ol").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("İstifadəçi adı")).to_have_value("vetendas2")
    expect(page.get_by_label("Şifrə")).to_have_value("")
    assert_accessible(page)


def test_sign_in_and_company_choice_without_javascript(no_js_page: Page):
    page = no_js_page
    page.goto("/documents")
    page.get_by_role("link", name=re.compile("istifadəçi adı və şifrə ilə")).click()
    page.get_by_label("İstifadəçi adı").fill("vetendas")
    page.get_by_label("Şifrə").fill(PASSWORD)
    page.get_by_role("button", name="Daxil ol").click()
    page.get_by_label(re.compile("Xəzər Logistika MMC")).check()
    page.get_by_role("button", name="Davam et").click()
    expect(page).to_have_url(re.compile(r"/documents$"))


def test_asan_without_javascript_uses_the_check_button(browser, base_url):
    context = browser.new_context(base_url=base_url, java_script_enabled=False)
    portal = context.new_page()
    start_asan(portal, "+994 50 123 45 67", "123456")
    confirm_on_phone(context, "+994501234567", "12345")
    portal.get_by_role("button", name="Yoxla").click()
    expect(portal.get_by_role("heading", level=1)).to_have_text("Kimin adından daxil olursunuz?")
    context.close()


@pytest.mark.parametrize("language", ["az", "en", "ru"])
def test_axe_on_sign_in_pages(page: Page, language: str):
    set_language(page, language)
    for path in (
        "/login",
        "/login/password",
        "/login/asan",
        "/login/e-imza/unavailable",
        "/login/egov/unavailable",
        "/simulator/asan-imza/",
        "/simulator/asan-imza/phone/+994501234567",
    ):
        page.goto(path)
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
    page.goto("/login/asan")
    page.locator("#phone").fill("012")
    page.locator("form button[type=submit]").click()
    expect(page.locator(".error-summary")).to_be_visible()
    assert_accessible(page)

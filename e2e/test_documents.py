"""“Rəsmiləşdirmə üçün tələb olunan sənədlərin surətləri” as a trader and an officer use it:
real PDF and PNG uploads, Sayı and the list following, the period search, the obligation,
downloads; by keyboard at 360 px, without JavaScript, with axe on every page."""

from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from e2e.conftest import new_context
from e2e.support import assert_accessible, assert_no_horizontal_scroll, set_language, sign_in

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PDF = FIXTURES / "invoice.pdf"
PNG = FIXTURES / "stamp.png"
COMPANY = "Xəzər Logistika MMC"
PERIOD_2020_01 = "from-day=01&from-month=01&from-year=2020&to-day=31&to-month=01&to-year=2020"


def count(page: Page) -> int:
    return int(page.locator("#documents-count strong").inner_text())


def acknowledge_if_needed(page: Page, *, check_axe: bool = True) -> None:
    page.goto("/documents/obligation")
    expect(page.get_by_role("heading", level=1)).to_have_text("Öhdəlik forması")
    if check_axe:  # axe runs in the page: not without JavaScript
        assert_accessible(page)
    button = page.get_by_role("button", name="Tanış oldum")
    if button.count():
        button.click()
    expect(page.get_by_text("Tanış olunub")).to_be_visible()


def fill_period(page: Page, legend: str, day_month_year: str) -> None:
    """The period search's three-field dates (legend “Tarixdən” or “Tarixədək”)."""
    fill_date(page, *day_month_year.split("."), group=legend)


def fill_date(page: Page, day: str, month: str, year: str, group: str = "Sənədin tarixi") -> None:
    date = page.get_by_role("group", name=group)
    date.get_by_label("Gün").fill(day)
    date.get_by_label("Ay").fill(month)
    date.get_by_label("İl").fill(year)


def fill_new_document(page: Page, number: str) -> None:
    page.get_by_label("Sənədin növü").select_option(label="Hesab-faktura")
    page.get_by_label("Sənədin nömrəsi").fill(number)
    fill_date(page, "03", "11", "2026")
    page.get_by_label("Gömrük bəyannaməsinin nömrəsi").fill("10200010/031126/0001234")


def test_trader_adds_documents_finds_them_and_downloads(page: Page):
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri"
    )
    expect(page.get_by_text("Son 30 gün")).to_be_visible()
    assert_accessible(page)
    before = count(page)
    acknowledge_if_needed(page)

    page.get_by_role("button", name="Yeni sənəd").click()
    assert_accessible(page)
    # A mistake first: nothing saved, the summary leads to the field, typed values stay.
    number = f"INV-{secrets.token_hex(3)}"
    fill_new_document(page, number)
    fill_date(page, "", "", "")
    page.get_by_label("Fayllar").set_input_files([PDF])
    page.get_by_role("button", name="Yadda saxla").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.get_by_label("Sənədin nömrəsi")).to_have_value(number)
    expect(page.get_by_text("Faylları yenidən seçin")).to_be_visible()
    assert_accessible(page)
    page.locator(".error-summary a[href='#issued_on-day']").click()
    expect(page.locator("#issued_on-day")).to_be_focused()

    fill_date(page, "03", "11", "2026")
    page.get_by_label("Fayllar").set_input_files([PDF, PNG])
    page.get_by_role("button", name="Yadda saxla").click()
    expect(page).to_have_url(re.compile(r"/documents$"))
    panel = page.locator(".panel")
    expect(panel).to_contain_text("Sənəd yadda saxlanıldı")
    expect(panel).to_contain_text(re.compile(r"RS-\d{7}"))
    expect(panel).to_be_focused()
    # Focused, it keeps its colours (white on green), so it stays readable.
    colours = panel.evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]"
    )
    assert colours == ["rgb(255, 255, 255)", "rgb(0, 112, 60)"]
    assert count(page) == before + 1
    expect(page.get_by_role("link", name=number)).to_be_visible()
    assert_accessible(page)

    # The period search updates list and Sayı in place, announced, with the URL kept.
    fill_period(page, "Tarixdən", "01.01.2020")
    fill_period(page, "Tarixədək", "31.01.2020")
    page.get_by_role("button", name="Axtar").click()
    expect(page.locator("#documents-results-heading")).to_be_focused()
    assert count(page) == 0
    expect(page.locator("#status")).to_contain_text("Sayı: 0")
    expect(page).to_have_url(re.compile(PERIOD_2020_01))
    page.reload()
    assert count(page) == 0
    page.go_back()
    expect(page.get_by_role("link", name=number)).to_be_visible()
    # A wrong period: the error summary takes focus, the typed dates stay.
    fill_period(page, "Tarixdən", "20.11.2026")
    fill_period(page, "Tarixədək", "01.11.2026")
    page.get_by_role("button", name="Axtar").click()
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page.locator("#from-day")).to_have_value("20")
    assert_accessible(page)

    page.goto("/documents")
    page.get_by_role("link", name=number).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sənəd RS-")
    preview = page.get_by_role("img", name="Şəkil: stamp.png")
    expect(preview).to_be_visible()
    # The 4×4 stamp really loads (waited for: a loaded machine may still be fetching it).
    page.wait_for_function(
        "image => image.complete && image.naturalWidth === 4", arg=preview.element_handle()
    )
    assert_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Yüklə invoice.pdf").click()
    assert download.value.suggested_filename == "invoice.pdf"
    assert Path(download.value.path()).read_bytes() == PDF.read_bytes()


def tab_to(page: Page, target, limit: int = 12) -> None:
    """Press Tab until `target` has focus (a native date field has a stop per part)."""
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    expect(target).to_be_focused()


def test_keyboard_only_at_360px(mobile_page: Page):
    page = mobile_page
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    assert_no_horizontal_scroll(page)
    acknowledge_if_needed(page)
    assert_no_horizontal_scroll(page)
    page.goto("/documents/new")
    assert_no_horizontal_scroll(page)
    number = f"KB-{secrets.token_hex(3)}"
    page.get_by_label("Sənədin növü").focus()
    page.keyboard.press("ArrowDown")  # the first real type
    page.keyboard.press("Tab")
    page.keyboard.type(number)
    for part in ("03", "11", "2026"):  # Gün, Ay, İl
        page.keyboard.press("Tab")
        page.keyboard.type(part)
    choose = page.get_by_role("button", name="Faylları seçin")  # the enhanced upload's button
    tab_to(page, choose)  # past the optional fields
    # The file dialog is the browser's and the system's, not ours (headless Chromium opened
    # it on Space only now and then): what is ours is that the field is reached by Tab and
    # keeps focus with the files chosen, so Tab goes on to “Yadda saxla”.
    page.get_by_label("Fayllar").set_input_files([PNG])
    expect(choose).to_be_focused()
    expect(page.locator(".file-upload__chosen")).to_contain_text("stamp.png")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Yadda saxla")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".panel")).to_be_focused()
    assert_no_horizontal_scroll(page)
    link = page.get_by_role("link", name=number)
    link.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sənəd RS-")
    assert_no_horizontal_scroll(page)
    assert_accessible(page)


def test_everything_works_without_javascript(no_js_page: Page):
    page = no_js_page
    sign_in(page, "vetendas2", "/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri"
    )
    before = count(page)
    acknowledge_if_needed(page, check_axe=False)
    page.goto("/documents/new")
    number = f"NOJS-{secrets.token_hex(3)}"
    fill_new_document(page, number)
    page.get_by_label("Fayllar").set_input_files([PDF])
    page.get_by_role("button", name="Yadda saxla").click()
    expect(page.locator(".panel")).to_contain_text("Sənəd yadda saxlanıldı")
    assert count(page) == before + 1
    fill_period(page, "Tarixdən", "01.01.2020")
    fill_period(page, "Tarixədək", "31.01.2020")
    page.get_by_role("button", name="Axtar").click()
    expect(page).to_have_url(re.compile(r"/documents\?" + PERIOD_2020_01))
    assert count(page) == 0
    page.goto("/documents")
    page.get_by_role("link", name=number).click()
    page.get_by_text("Səhvən daxil edilib", exact=True).click()  # the details summary
    page.get_by_label("Niyə səhvən daxil edilib?").fill("Sınaq")
    page.get_by_role("button", name="Səhvən daxil edilmiş kimi qeyd et").click()
    expect(page.locator(".notification-banner")).to_contain_text("Sınaq")


def test_officer_finds_opens_and_the_administrator_reads_the_log(page: Page):
    sign_in(page, "mufettis", "/officer/documents")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Sahibkarların rəsmiləşdirmə sənədləri")
    assert_accessible(page)
    page.get_by_label("Tərəfin FİN və ya VÖEN-i").fill("1234567891")
    page.get_by_role("button", name="Axtar").click()
    expect(page.locator("#officer-results-heading")).to_be_focused()
    assert_accessible(page)
    page.locator("#officer-documents-table a").first.click()
    expect(page.get_by_text(COMPANY)).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Çıxış").click()

    sign_in(page, "admin", "/admin/audit")
    expect(page.get_by_role("heading", level=1)).to_have_text("Audit jurnalı")
    expect(page.locator("#audit-table")).to_contain_text("Sənədi açdı")
    assert_accessible(page)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_pages_in_english_and_russian_at_200_percent_zoom(browser, base_url, language):
    # 200% zoom of a 1280 px window lays the page out in 640 CSS px.
    context = new_context(browser, base_url, viewport={"width": 640, "height": 400})
    page = context.new_page()
    sign_in(page, "vetendas2", "/documents")
    set_language(page, language)
    for path in ("/documents", "/documents/obligation", "/documents/new"):
        page.goto(path)
        assert_no_horizontal_scroll(page)
        assert_accessible(page)
    expect(page.locator("html")).to_have_attribute("lang", language)
    context.close()


def test_pages_at_320px(browser, base_url):
    context = new_context(browser, base_url, viewport={"width": 320, "height": 640})
    page = context.new_page()
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    for path in ("/documents", "/documents/obligation", "/documents/new"):
        page.goto(path)
        assert_no_horizontal_scroll(page)
    context.close()


def test_obligation_prints_on_one_a4_page(page: Page):
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    page.goto("/documents/obligation")
    pdf = page.pdf(format="A4", print_background=False)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the obligation form prints on {pages} A4 pages"
    assert b"%PDF" in pdf[:8]

"""Issue 14: what axe cannot see. Focus that stays while a page polls, titles that follow
htmx swaps, error summary links that show the question, pages that fit 320 px in every
state, a header that leaves room on a phone, and the small things (one id per page,
`lang` on Azerbaijani notes, valid `<time>`, one POST per double click, a description)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from e2e.conftest import MOBILE, new_context, running_server, second_server_env
from e2e.support import assert_accessible, assert_no_horizontal_scroll, set_language, sign_in
from e2e.test_documents import COMPANY, PDF, acknowledge_if_needed, fill_new_document
from e2e.test_letters import fill_lookup

LETTER = "M-1024/2026"
SHOW = "Məktubun hansı gömrük orqanında olduğunu göstər"


def mark_focus(page: Page) -> None:
    """Tag the focused element, so a later check sees whether it is still the same node."""
    page.evaluate("document.activeElement.dataset.focusMark = 'kept'")


def assert_focus_kept(page: Page) -> None:
    kept = page.evaluate("document.activeElement && document.activeElement.dataset.focusMark")
    assert kept == "kept", "focus was thrown away by a poll"


def start_asan(page: Page, phone: str, user_id: str) -> None:
    page.goto("/login/asan")
    page.get_by_label("Asan imza mobil nömrəsi").fill(phone)
    page.get_by_label("İstifadəçi ID").fill(user_id)
    page.get_by_role("button", name="Daxil ol").click()
    expect(page.locator(".asan-wait__code")).to_be_visible()


# --- 1. polling without throwing focus away; the request's expiry said and shown -----------


@pytest.fixture(scope="module")
def short_asan_url(server_env: dict[str, str]) -> Iterator[str]:
    """A second server whose simulated Asan İmza requests expire after 7 seconds."""
    env = second_server_env(server_env, ASAN_SIMULATOR_TTL_SECONDS="7")
    with running_server(env) as url:
        yield url


def test_asan_wait_keeps_focus_then_says_the_request_expired(browser: Browser, short_asan_url):
    context = new_context(browser, short_asan_url)
    page = context.new_page()
    start_asan(page, "055 999 88 77", "111111")  # no such SIM: nobody answers
    expiry = page.locator("#asan-expiry")
    expect(expiry).to_contain_text("7 saniyə")
    expect(expiry).to_contain_text(re.compile(r"\d\d:\d\d:\d\d"))  # the clock time it ends
    expect(expiry.locator("[data-countdown]")).to_contain_text(re.compile(r"0:0\d"))
    expect(page.locator("#status")).to_contain_text("30 saniyə")  # warned through the region
    page.get_by_role("button", name="Yoxla").focus()
    mark_focus(page)
    page.wait_for_timeout(4_500)  # two polls
    assert_focus_kept(page)

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text("Sorğunun vaxtı bitdi", timeout=10_000)
    expect(heading).to_be_focused()
    expect(page).to_have_title("Sorğunun vaxtı bitdi – e-Gömrük")
    expect(page.locator("#status")).to_contain_text("Sorğunun vaxtı bitdi")
    page.wait_for_timeout(2_500)  # the poll has stopped: the result stays
    expect(heading).to_be_focused()
    assert_accessible(page)
    context.close()


def test_phone_idle_screen_keeps_focus_and_shows_a_request(browser: Browser, base_url: str):
    context = new_context(browser, base_url)
    phone = context.new_page()
    phone.goto("/simulator/asan-imza/phone/+994551112233")
    phone.get_by_role("link", name="Yenilə").focus()
    mark_focus(phone)
    phone.wait_for_timeout(4_500)
    assert_focus_kept(phone)

    portal = context.new_page()
    start_asan(portal, "055 111 22 33", "654321")
    expect(phone.get_by_role("heading", name="Giriş sorğusu")).to_be_visible(timeout=10_000)
    phone.get_by_role("button", name="İmtina et").click()  # leave no request waiting

    # 5. the refused sign-in changes heading and title, as the full page does
    heading = portal.get_by_role("heading", level=1)
    expect(heading).to_have_text("Siz telefonda sorğudan imtina etdiniz", timeout=10_000)
    expect(heading).to_be_focused()
    expect(portal).to_have_title("Siz telefonda sorğudan imtina etdiniz – e-Gömrük")
    portal.reload()
    expect(portal.get_by_role("heading", level=1)).not_to_have_text("Telefonunuzda təsdiq edin")
    context.close()


# --- 5. titles after htmx swaps ------------------------------------------------------------


def test_titles_follow_htmx_swaps(page: Page):
    sign_in(page, "vetendas", "/letters", party=COMPANY)
    expect(page).to_have_title("Məktubu izlə – e-Gömrük")
    page.get_by_role("button", name=SHOW).click()  # nothing typed
    expect(page.locator(".error-summary")).to_be_focused()
    expect(page).to_have_title("Xəta: Məktubu izlə – e-Gömrük")
    fill_lookup(page, LETTER, "03.11.2026")
    page.get_by_role("button", name=SHOW).click()
    expect(page.get_by_role("heading", name="Məktubunuz haradadır")).to_be_focused()
    expect(page).to_have_title(f"Məktub {LETTER} – e-Gömrük")
    page.reload()  # the full page has the same title
    expect(page).to_have_title(f"Məktub {LETTER} – e-Gömrük")


# --- 4. error summary links show the question ---------------------------------------------


def test_error_summary_link_shows_the_label_and_focuses_the_field(mobile_page: Page):
    page = mobile_page
    sign_in(page, "vetendas", "/documents/new", party=COMPANY)
    acknowledge_if_needed(page, check_axe=False)
    page.goto("/documents/new")
    page.get_by_role("button", name="Yadda saxla").click()
    expect(page.locator(".error-summary")).to_be_focused()
    for href, question in (("#number", "label[for=number]"), ("#issued_on-day", "legend")):
        page.evaluate("window.scrollTo(0, 0)")
        page.locator(f".error-summary a[href='{href}']").click()
        expect(page.locator(href)).to_be_focused()
        label = page.locator(question if question != "legend" else "#issued_on-day")
        if question == "legend":
            label = label.locator("xpath=ancestor::fieldset/legend")
        top = label.evaluate("element => element.getBoundingClientRect().top")
        assert -1 <= top < MOBILE["height"], f"{question} is off screen ({top}px)"


# --- 2. reflow at 320 px in every page state ----------------------------------------------


def narrow_states(page: Page, user: str, party: str | None, paths: list[str]) -> None:
    sign_in(page, user, "/", party=party)
    for path in paths:
        page.goto(path)
        assert_no_horizontal_scroll(page)


def test_every_page_state_fits_320px(browser: Browser, base_url: str):
    context = new_context(browser, base_url, viewport={"width": 320, "height": 640})
    page = context.new_page()
    for path in ("/", "/services", "/agencies/dgk", "/login", "/login/password", "/login/asan"):
        page.goto(path)
        assert_no_horizontal_scroll(page)
    page.get_by_role("button", name="Daxil ol").click()  # the error state
    assert_no_horizontal_scroll(page)

    sign_in(page, "vetendas", "/documents", party=COMPANY)
    acknowledge_if_needed(page, check_axe=False)
    page.goto("/documents/new")
    page.get_by_role("button", name="Yadda saxla").click()  # errors
    expect(page.locator(".error-summary")).to_be_visible()
    assert_no_horizontal_scroll(page)
    fill_new_document(page, f"W-{secrets.token_hex(3)}")
    page.get_by_label("Fayllar").set_input_files([PDF])
    page.get_by_role("button", name="Yadda saxla").click()
    expect(page.locator(".panel")).to_be_visible()
    assert_no_horizontal_scroll(page)  # the list with its confirmation
    page.locator("#documents-results a[href^='/documents/']:visible").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Sənəd RS-")
    assert_no_horizontal_scroll(page)  # document details with its files
    download = page.get_by_role("link", name=re.compile("^Yüklə")).first.bounding_box()
    assert download and download["x"] + download["width"] <= 320, f"“Yüklə” is cut off: {download}"
    page.get_by_text("Səhvən daxil edilib", exact=True).click()
    page.get_by_role("button", name="Səhvən daxil edilmiş kimi qeyd et").click()  # error
    assert_no_horizontal_scroll(page)
    for path in (
        "/documents?from=x",
        "/documents/obligation",
        "/letters",
        "/letters/mine",
        "/letters/new",
        "/letters/notifications",
    ):
        page.goto(path)
        assert_no_horizontal_scroll(page)
    page.goto("/letters")
    fill_lookup(page, LETTER, "03.11.2026")
    page.get_by_role("button", name=SHOW).click()
    expect(page.locator("#result-heading")).to_be_visible()
    assert_no_horizontal_scroll(page)
    context.clear_cookies()

    for user, paths in (
        (
            "mufettis",
            [
                "/officer/documents",
                "/officer/documents?party=1234567891",
                "/officer/documents?party=1",
            ],
        ),
        ("admin", ["/admin/audit"]),
        ("katib", ["/registry", "/registry/search", "/registry/new", "/registry/bodies"]),
    ):
        narrow_states(page, user, None, paths)
        if user == "katib":
            page.goto("/registry")
            page.locator("main a[href^='/registry/letters/']:visible").first.click()
            assert_no_horizontal_scroll(page)
        context.clear_cookies()
    context.close()


# --- 8. small things ------------------------------------------------------------------------


def test_registry_has_one_status_id_and_notes_are_marked_azerbaijani(page: Page):
    sign_in(page, "katib", "/registry")
    duplicates = page.evaluate(
        """() => {
            const seen = {}; const twice = [];
            for (const el of document.querySelectorAll('[id]')) {
                if (seen[el.id]) twice.push(el.id); seen[el.id] = true;
            }
            return twice;
        }"""
    )
    assert duplicates == []
    assert page.locator("#status").get_attribute("role") == "status"
    set_language(page, "en")
    page.goto("/registry")
    page.locator("#registry a", has_text=LETTER).first.click()
    notes = page.locator(".timeline [lang=az]")
    expect(notes.first).to_contain_text("Müraciət")


def test_letter_result_in_english_has_az_notes_valid_times_and_back_on_the_first_screen(
    browser: Browser, base_url: str
):
    context = new_context(browser, base_url, viewport=MOBILE, is_mobile=True, has_touch=True)
    page = context.new_page()
    sign_in(page, "vetendas", "/letters", party=COMPANY)
    fill_lookup(page, LETTER, "03.11.2026")
    page.get_by_role("button", name=SHOW).click()
    expect(page.locator("#result-heading")).to_be_focused()
    page.evaluate("window.scrollTo(0, 0)")
    back = page.get_by_role("link", name="Geri")
    box = back.bounding_box()
    assert box and box["y"] + box["height"] <= MOBILE["height"], f"“Geri” is at {box}"

    times = page.locator("time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert times
    valid = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?([+-]\d\d:\d\d|Z)$")
    assert all(valid.match(value) for value in times), times

    set_language(page, "en")
    page.goto(page.url)
    page.goto("/letters")
    page.get_by_label("Customs body").select_option(label="Bakı Baş Gömrük İdarəsi")
    page.get_by_label("Letter number").fill(LETTER)
    page.locator("#registered-day").fill("03")
    page.locator("#registered-month").fill("11")
    page.locator("#registered-year").fill("2026")
    page.locator("#tracking form button[type=submit]").click()
    expect(page.locator(".timeline [lang=az]").first).to_contain_text("Müraciət")
    context.close()


def test_compact_header_on_a_phone(mobile_page: Page):
    page = mobile_page
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    height = page.locator(".site-header").bounding_box()["height"]
    assert height <= MOBILE["height"] * 0.3, f"the header takes {height}px of 740"
    expect(page.get_by_role("button", name="Çıxış")).to_be_hidden()  # folded under the name
    page.locator(".site-header__summary").click()
    expect(page.get_by_role("button", name="Çıxış")).to_be_visible()
    expect(page.locator(".site-header")).to_contain_text(COMPANY)
    assert_accessible(page)


def test_double_click_sends_one_form(page: Page):
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    acknowledge_if_needed(page, check_axe=False)
    page.goto("/documents/new")
    # Count the submissions a double click makes (each one held back here, so the page stays).
    submissions = page.evaluate(
        """async () => {
            const button = document.querySelector("[data-prevent-double-click]");
            let count = 0;
            button.form.addEventListener("submit", event => { count++; event.preventDefault(); });
            button.click();
            button.click();  // the second click of a double click
            const doubled = count;
            await new Promise(resolve => setTimeout(resolve, 1100));
            button.click();  // a second later it is a new, deliberate click
            return [doubled, count];
        }"""
    )
    assert submissions == [1, 2]


@pytest.mark.parametrize("path", ["/", "/services", "/login", "/login/password", "/letters"])
def test_pages_have_a_description(page: Page, path: str):
    page.goto(path)
    description = page.locator("meta[name=description]").get_attribute("content")
    assert description and len(description) > 50


# --- 3. tables as summary cards on phones -------------------------------------------------


def assert_cards_on_phone_table_on_desktop(page: Page, table_id: str) -> None:
    page.set_viewport_size(MOBILE)
    table = page.locator(f"#{table_id}")
    cards = page.locator(".summary-cards").filter(has=page.locator(".summary-card"))
    expect(table).to_be_hidden()
    expect(cards).to_be_visible()
    card = cards.locator(".summary-card").first
    expect(card.locator(".summary-card__title a")).to_be_visible()
    expect(card.locator(".summary-list__key").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    assert_accessible(page)
    page.set_viewport_size({"width": 1280, "height": 800})
    expect(table).to_be_visible()
    expect(cards).to_be_hidden()


def test_lists_are_cards_on_a_phone_and_tables_on_a_desktop(browser: Browser, base_url: str):
    context = new_context(browser, base_url)
    page = context.new_page()
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    acknowledge_if_needed(page, check_axe=False)
    page.goto("/documents/new")
    fill_new_document(page, f"CARD-{secrets.token_hex(3)}")
    page.get_by_label("Fayllar").set_input_files([PDF])
    page.get_by_role("button", name="Yadda saxla").click()
    expect(page.locator(".panel")).to_be_visible()
    assert_cards_on_phone_table_on_desktop(page, "documents-table")
    page.goto("/letters/mine")
    assert_cards_on_phone_table_on_desktop(page, "my-letters")
    context.clear_cookies()

    sign_in(page, "mufettis", "/officer/documents?party=1234567891")
    page.goto("/officer/documents?party=1234567891")
    assert_cards_on_phone_table_on_desktop(page, "officer-documents-table")
    page.get_by_role("button", name="Çıxış").click()
    context.clear_cookies()
    sign_in(page, "katib", "/registry")
    page.goto("/registry")
    assert_cards_on_phone_table_on_desktop(page, "registry")
    context.clear_cookies()
    sign_in(page, "admin", "/admin/audit")
    page.goto("/admin/audit")
    page.set_viewport_size(MOBILE)
    expect(page.locator("#audit-table")).to_be_hidden()
    expect(page.locator(".summary-cards .summary-card").first).to_be_visible()
    assert_no_horizontal_scroll(page)
    context.close()


# --- 7. the period search's dates are three-field dates; 8. a missing year -----------------


def test_period_search_uses_day_month_year_and_names_a_missing_year(page: Page):
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    start = page.get_by_role("group", name="Tarixdən")
    for label in ("Gün", "Ay", "İl"):  # filled with the last 30 days
        expect(start.get_by_label(label)).not_to_have_value("")
    expect(page.locator("input[type=date]")).to_have_count(0)
    expect(page.get_by_text("Son 30 gün")).to_be_visible()
    start.get_by_label("İl").fill("")
    page.get_by_role("button", name="Axtar").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Tarixdə il olmalıdır")
    expect(page).to_have_title(re.compile(r"^Xəta: "))  # 5. an error swap's title
    expect(page.locator("[aria-invalid=true]")).to_have_count(1)
    expect(start.get_by_label("İl")).to_have_attribute("aria-invalid", "true")
    summary.get_by_role("link").click()
    expect(start.get_by_label("İl")).to_be_focused()
    assert_accessible(page)


# --- 6. the idle sign-out warns, and typed text survives a forced sign-in -----------------


@pytest.fixture(scope="module")
def short_idle_url(server_env: dict[str, str]) -> Iterator[str]:
    """A second server whose sessions end after 126 idle seconds: the warning comes at 6."""
    env = second_server_env(server_env, SESSION_IDLE_SECONDS="126")
    with running_server(env) as url:
        yield url


def test_idle_warning_dialog_continues_and_the_appeal_text_survives_sign_in(
    browser: Browser, short_idle_url: str
):
    context = new_context(browser, short_idle_url)
    page = context.new_page()
    sign_in(page, "vetendas2", "/letters/new")
    page.goto("/letters/new")
    page.get_by_label("Mövzu").fill("Yükün gecikməsi")
    text = page.get_by_label("Müraciətin mətni")
    text.fill("Yükümüz 3 gündür gömrükdə gözləyir. " * 20)
    text.focus()

    dialog = page.get_by_role("dialog", name="Tezliklə sistemdən çıxarılacaqsınız")
    expect(dialog).to_be_visible(timeout=15_000)
    expect(dialog.get_by_role("heading")).to_be_focused()
    expect(dialog).to_contain_text("2 dəqiqə")
    assert_accessible(page)
    with page.expect_request(
        lambda r: r.method == "POST" and r.url.endswith("/session/keep-alive")
    ) as keep_alive:
        dialog.get_by_role("button", name="Davam et").click()
    assert keep_alive.value.response().status == 204
    expect(dialog).to_be_hidden()
    expect(text).to_be_focused()  # back where the writer was

    # The session ends anyway (a phone put away): the draft saved with the warning is kept.
    context.clear_cookies()
    page.goto("/letters/new")
    expect(page.get_by_role("heading", level=1)).to_have_text("PORTALA GİRİŞ")
    sign_in(page, "vetendas2", "/letters/new")
    expect(page).to_have_url(re.compile(r"/letters/new$"))
    expect(page.get_by_label("Mövzu")).to_have_value("Yükün gecikməsi")
    expect(page.get_by_label("Müraciətin mətni")).to_contain_text("3 gündür")
    expect(page.locator("#draft-notice")).to_contain_text("Fayllar saxlanmır")
    page.reload()  # kept once: it does not come back forever
    expect(page.get_by_label("Mövzu")).to_have_value("")
    context.close()


# --- 8. GOV.UK's enhanced file upload, in the page's language --------------------------------


def test_enhanced_file_upload_lists_chosen_and_dropped_files(page: Page, no_js_page: Page):
    sign_in(page, "vetendas", "/documents/new", party=COMPANY)
    acknowledge_if_needed(page, check_axe=False)
    page.goto("/documents/new")
    zone = page.locator(".drop-zone")
    choose = zone.get_by_role("button", name="Faylları seçin və ya faylları bura atın")
    expect(choose).to_be_visible()
    expect(zone).to_contain_text("Fayl seçilməyib")
    expect(page.get_by_text("No file chosen")).to_have_count(0)
    with page.expect_file_chooser() as chooser:
        choose.click()
    chooser.value.set_files([PDF])
    expect(zone.locator(".file-upload__chosen")).to_have_text("invoice.pdf")
    expect(page.locator("#status")).to_contain_text("invoice.pdf")
    # A drop: the files land in the form's own input.
    zone.evaluate(
        """zone => {
            const data = new DataTransfer();
            data.items.add(new File(["%PDF-1.4"], "dropped.pdf", {type: "application/pdf"}));
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: data, bubbles: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }"""
    )
    expect(zone.locator(".file-upload__chosen")).to_have_text("dropped.pdf")
    assert page.locator("#files").evaluate("input => input.files[0].name") == "dropped.pdf"
    assert_accessible(page)

    set_language(page, "en")
    page.goto("/documents/new")
    expect(page.locator(".drop-zone")).to_contain_text("No file chosen")

    sign_in(no_js_page, "vetendas", "/documents/new", party=COMPANY)
    no_js_page.goto("/documents/new")
    expect(no_js_page.locator("input[type=file]")).to_be_visible()  # the native input
    expect(no_js_page.locator(".file-upload-button")).to_have_count(0)

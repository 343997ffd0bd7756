"""Elektron imza end to end: Chromium presents a signature certificate to the repository's nginx
config (deploy/nginx/e-gomruk.conf, on free ports), which passes it to the portal.

The certificates are the demo ones `python -m web e-imza-demo` makes (PKCS#12, as a citizen
imports them), plus one from a CA the portal does not trust.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from e2e.conftest import new_context
from e2e.support import assert_accessible, assert_no_horizontal_scroll, set_language
from tests.support.nginx import running_front, write_pem_pair
from web.devdata.e_imza_demo import DEMO_P12_PASSWORD
from web.identity.asan_imza.pki import DemoCA, issue_identity_certificate

SIGN_IN_LINK = "Elektron imza ilə daxil olmaq"


@pytest.fixture(scope="module")
def front(server_env: dict[str, str], base_url: str):
    with running_front(
        app_port=int(server_env["PORT"]),
        portal_port=int(server_env["E_IMZA_PORTAL_PORT"]),
        e_imza_port=int(server_env["E_IMZA_PORT"]),
        portal_origin=base_url,
        client_ca=Path(server_env["E_IMZA_CA_FILE"]),
        directory=Path(server_env["DATA_DIR"]) / "nginx",
    ) as running:
        yield running


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _card(browser: Browser, base_url: str, front, certificate: dict | None, **options):
    """A browser whose "card reader" holds `certificate` (None: no card at all)."""
    if certificate is not None:
        options["client_certificates"] = [{"origin": _origin(front.e_imza_url), **certificate}]
    return new_context(browser, base_url, ignore_https_errors=True, **options)


def _demo(server_env: dict[str, str], name: str) -> dict:
    path = Path(server_env["E_IMZA_DEMO_DIR"]) / f"{name}.p12"
    return {"pfxPath": str(path), "passphrase": DEMO_P12_PASSWORD}


def _sign_in_with_card(page: Page, next_path: str = "/documents") -> None:
    page.goto(f"/login?next={next_path}")
    page.get_by_role("link", name=SIGN_IN_LINK).click()


def test_a_personal_certificate_signs_in(browser, base_url, front, server_env):
    context = _card(browser, base_url, front, _demo(server_env, "vetendas2"))
    page = context.new_page()
    _sign_in_with_card(page)
    expect(page).to_have_url(f"{base_url}/documents")
    expect(page.locator(".site-header")).to_contain_text("Rəşad Əliyev")
    assert_accessible(page)
    context.close()


def test_a_company_certificate_signs_in_and_asks_on_whose_behalf(
    browser, base_url, front, server_env
):
    context = _card(browser, base_url, front, _demo(server_env, "vetendas-1234567891"))
    page = context.new_page()
    _sign_in_with_card(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Kimin adından daxil olursunuz?")
    page.get_by_label(re.compile("Xəzər Logistika MMC")).check()
    page.get_by_role("button", name="Davam et").click()
    expect(page).to_have_url(f"{base_url}/documents")
    expect(page.locator(".site-header")).to_contain_text("1234567891")
    context.close()


def test_signing_in_by_keyboard_without_javascript_at_360px(browser, base_url, front, server_env):
    context = _card(
        browser,
        base_url,
        front,
        _demo(server_env, "vetendas2"),
        java_script_enabled=False,
        viewport={"width": 360, "height": 740},
    )
    page = context.new_page()
    page.goto("/login?next=/letters")
    page.get_by_role("link", name=SIGN_IN_LINK).focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base_url}/letters")
    assert_no_horizontal_scroll(page)
    context.close()


def _wrong_ca_certificate(directory: Path) -> dict:
    stranger = DemoCA.generate(common_name="Somebody else's CA")
    now = datetime.now(UTC)
    key, cert = issue_identity_certificate(
        stranger,
        fin="7XYZW34",
        full_name="Rəşad Əliyev",
        valid_from=now - timedelta(days=1),
        valid_to=now + timedelta(days=30),
    )
    cert_path, key_path = write_pem_pair(key, cert, directory, "stranger")
    return {"certPath": str(cert_path), "keyPath": str(key_path)}


REFUSALS = {
    "expired": {
        "az": "sertifikatın müddəti bitib",
        "en": "The certificate on your card has expired",
        "ru": "Срок действия сертификата на вашей карте истёк",
    },
    "revoked": {
        "az": "ləğv edilib",
        "en": "has been revoked",
        "ru": "отозван",
    },
    "wrong_ca": {
        "az": "etibar etdiyi sertifikatlaşdırma mərkəzi verməyib",
        "en": "not issued by a certification centre the portal trusts",
        "ru": "выдан не тем центром сертификации",
    },
    "none": {
        "az": "Brauzeriniz sertifikat təqdim etmədi",
        "en": "Your browser did not present a certificate",
        "ru": "Браузер не предъявил сертификат",
    },
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_refused_certificate_is_explained_in_each_language(
    browser, base_url, front, server_env, case
):
    certificate = {
        "expired": lambda: _demo(server_env, "expired"),
        "revoked": lambda: _demo(server_env, "revoked"),
        "wrong_ca": lambda: _wrong_ca_certificate(Path(server_env["DATA_DIR"]) / "stranger"),
        "none": lambda: None,
    }[case]()
    context: BrowserContext = _card(browser, base_url, front, certificate)
    page = context.new_page()
    for language in ("az", "en", "ru"):
        set_language(page, language)
        _sign_in_with_card(page) if language == "az" else page.goto(front.e_imza_url)
        expect(page.locator(".error-summary")).to_contain_text(REFUSALS[case][language])
        # Nobody is signed in, and the other means are offered.
        expect(page.locator("main a[href='/login/password']")).to_be_visible()
        if language == "az":
            page.wait_for_load_state("load")  # styles come over the front's own origin
            assert_accessible(page)
    set_language(page, "az")
    page.goto(f"{base_url}/documents")
    expect(page.get_by_role("heading", level=1)).to_have_text("PORTALA GİRİŞ")
    context.close()


def test_certificate_headers_sent_to_the_portal_server_are_dropped(front, server_env):
    """A client's own X-SSL-Client-* headers through the portal's server never sign anyone in:
    nginx clears them, and the portal sends the browser to the front that asks for a card."""
    demo_cert = Path(server_env["E_IMZA_CA_FILE"]).read_text()  # any PEM will do
    response = httpx.get(
        f"{front.portal_url}/login/e-imza",
        headers={
            "X-SSL-Client-Cert": demo_cert.replace("\n", "%0A"),
            "X-SSL-Client-Verify": "SUCCESS",
        },
        verify=False,  # noqa: S501 - the test front's throw-away certificate
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == front.e_imza_url
    assert "set-cookie" not in response.headers or "session=" not in response.headers["set-cookie"]

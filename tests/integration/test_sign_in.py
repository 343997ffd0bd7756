"""PORTALA GİRİŞ: guards, password and Asan İmza sign-in, parties, sessions."""

from __future__ import annotations

import re
from dataclasses import replace

import pyotp
import pytest
from litestar import get
from litestar.testing import AsyncTestClient

from models.identity import Person, Role
from tests.support.web import csrf_token as _csrf
from tests.support.web import sign_in
from web.app import create_app
from web.devdata.demo_data import DEMO_PASSWORD
from web.identity import accounts, sessions
from web.identity.guards import staff_with

pytestmark = pytest.mark.usefixtures("seeded")


@get("/_probe/staff", guards=[staff_with(Role.REGISTRY_CLERK)])
async def staff_probe() -> str:
    return "staff only"


async def test_protected_service_leads_to_sign_in_and_back(client):
    response = await client.get("/documents", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/documents"
    login = await client.get(response.headers["location"])
    assert 'href="/login/password?next=%2Fdocuments"' in login.text
    form = await client.get("/login/password?next=%2Fdocuments")
    assert '<input type="hidden" name="next" value="/documents">' in form.text
    response = await sign_in(client, "vetendas2", next_path="/documents")
    assert response.headers["location"] == "/documents"
    page = await client.get("/documents")
    assert page.status_code == 200
    assert "Rəşad Əliyev" in page.text
    assert "7XYZW34" in page.text


async def test_person_with_a_company_chooses_on_whose_behalf(client):
    response = await sign_in(client, "vetendas", next_path="/documents")
    assert response.headers["location"] == "/party"
    choice = await client.get("/party")
    assert "Kimin adından daxil olursunuz?" in choice.text
    assert "Xəzər Logistika MMC" in choice.text and "5ABCD12" in choice.text
    party_ids = re.findall(r'name="party"[^>]*value="(\d+)"', choice.text)
    assert len(party_ids) == 2
    # Nothing chosen: an error at the field, nothing lost.
    refused = await client.post("/party", data={"_csrf_token": await _csrf(client)})
    assert refused.status_code == 422
    assert 'href="#party"' in refused.text
    chosen = await client.post(
        "/party",
        data={"party": party_ids[-1], "_csrf_token": await _csrf(client)},
        follow_redirects=False,
    )
    assert chosen.headers["location"] == "/documents"
    page = await client.get("/documents")
    assert "Xəzər Logistika MMC" in page.text and "1234567891" in page.text


async def test_party_of_someone_else_cannot_be_chosen(client):
    await sign_in(client, "vetendas")
    response = await client.post(
        "/party", data={"party": "999999", "_csrf_token": await _csrf(client)}
    )
    assert response.status_code == 422


async def test_next_accepts_same_origin_paths_only(client):
    for evil in ("https://evil.example/x", "//evil.example", "/\\evil.example", "/x" * 1001):
        response = await sign_in(client, "vetendas2", next_path=evil)
        assert response.headers["location"] == "/", evil


async def test_wrong_password_and_unknown_user_look_the_same(client):
    wrong = await sign_in(client, "vetendas2", "not-the-password")
    unknown = await sign_in(client, "nobody-like-this", "not-the-password")
    assert wrong.status_code == unknown.status_code == 422
    message = "İstifadəçi adı və ya şifrə düzgün deyil"
    assert message in wrong.text and message in unknown.text
    assert 'value="vetendas2"' in wrong.text  # what was typed is kept
    assert "not-the-password" not in wrong.text  # a password never is


async def test_sign_in_rotates_the_session_id(client):
    person = await Person.create(full_name="Rotation Officer")
    secret = pyotp.random_base32()
    await accounts.create_account(
        person,
        "rotation-officer",
        "Correct-Horse-42",
        role=Role.CUSTOMS_OFFICER,
        totp_secret=secret,
    )
    await sign_in(client, "rotation-officer", "Correct-Horse-42")
    before = client.cookies.get("session")
    assert before  # the pending second factor is kept in a (short-lived) session
    await client.post(
        "/login/totp",
        data={"code": pyotp.TOTP(secret).now(), "_csrf_token": await _csrf(client)},
    )
    after = client.cookies.get("session")
    assert after and after != before


async def test_sign_out_ends_the_session_on_the_server(client):
    await sign_in(client, "vetendas2")
    stolen = client.cookies.get("session")
    response = await client.post(
        "/logout", data={"_csrf_token": await _csrf(client)}, follow_redirects=False
    )
    assert response.headers["location"] == "/"
    home = await client.get("/")
    assert "Siz çıxış etdiniz" in home.text or "notification-banner" in home.text
    client.cookies.set("session", stolen)
    again = await client.get("/letters", follow_redirects=False)
    assert again.status_code == 303


async def test_idle_session_expires_with_a_polite_notice(client, monkeypatch):
    await sign_in(client, "vetendas2")
    assert (await client.get("/letters", follow_redirects=False)).status_code == 200
    real_time = sessions.time.time
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + 31 * 60)
    page = await client.get("/")
    assert "notification-banner" in page.text
    assert (await client.get("/letters", follow_redirects=False)).status_code == 303


@pytest.mark.parametrize(
    ("idle", "warning", "lead", "said"),
    [
        (
            600,
            300,
            300,
            {"en": "in 5 minutes.", "az": "vaxt: 5 dəqiqə.", "ru": "осталось: 5 минут."},
        ),
        # The warning cannot open before the session starts: it says the whole idle time.
        (
            90,
            120,
            90,
            {"en": "in 90 seconds.", "az": "vaxt: 90 saniyə.", "ru": "осталось: 90 секунд."},
        ),
    ],
)
async def test_the_idle_warning_says_the_time_left_from_the_settings(
    make_app, idle, warning, lead, said
):
    app = make_app(session_idle_seconds=idle, session_warning_seconds=warning)
    async with AsyncTestClient(app=app) as client:
        await sign_in(client, "vetendas2")
        for language, text in said.items():
            client.cookies.set("lang", language)
            page = (await client.get("/letters/new")).text
            dialog = page[page.index('id="timeout-dialog"') :]
            assert f'data-warn-seconds="{lead}"' in dialog  # when app.js opens it
            assert text in dialog, language
            assert "2 minutes" not in dialog and "2 dəqiqə" not in dialog


async def test_keep_alive_extends_the_session_and_drafts_come_back_once(client, monkeypatch):
    await sign_in(client, "vetendas2")
    token = await _csrf(client)
    page = await client.get("/letters/new")
    assert 'id="timeout-dialog"' in page.text and 'data-idle-seconds="1800"' in page.text
    draft = {"subject": "Gecikmə", "text": "Yük 3 gündür gözləyir.", "ignored": "x"}
    saved = await client.post("/session/drafts/appeal", data=draft, headers={"x-csrftoken": token})
    assert saved.status_code == 204
    unknown = await client.post("/session/drafts/other", data=draft, headers={"x-csrftoken": token})
    assert unknown.status_code == 404
    real_time = sessions.time.time
    # 25 idle minutes, then “Continue”: the clock starts again, so 50 minutes in it still holds.
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + 25 * 60)
    kept = await client.post("/session/keep-alive", headers={"x-csrftoken": token})
    assert kept.status_code == 204
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + 50 * 60)
    form = await client.get("/letters/new", follow_redirects=False)
    assert form.status_code == 200
    assert 'value="Gecikmə"' in form.text and "Yük 3 gündür gözləyir." in form.text
    assert 'id="draft-notice"' in form.text
    again = await client.get("/letters/new")
    assert 'value="Gecikmə"' not in again.text  # restored once


async def test_a_draft_belongs_to_its_person(client):
    await sign_in(client, "vetendas2")
    token = await _csrf(client)
    draft = {"subject": "Şəxsi", "text": "Yalnız mənim üçün."}
    await client.post("/session/drafts/appeal", data=draft, headers={"x-csrftoken": token})
    await client.post("/logout", data={"_csrf_token": token})
    await sign_in(client, "vetendas")
    await client.get("/party")
    page = await client.get("/letters/new")
    assert "Şəxsi" not in page.text
    await client.post("/logout", data={"_csrf_token": token})
    refused = await client.post(
        "/session/keep-alive", headers={"x-csrftoken": token}, follow_redirects=False
    )
    assert refused.status_code == 303  # signed out: to the sign-in, nothing kept alive


async def test_absolute_timeout_ends_even_an_active_session(client, monkeypatch):
    await sign_in(client, "vetendas2")
    real_time = sessions.time.time
    # Active every 25 minutes, so the idle timeout never strikes...
    for step in range(1, 29):
        monkeypatch.setattr(sessions.time, "time", lambda s=step: real_time() + s * 25 * 60)
        assert (await client.get("/letters", follow_redirects=False)).status_code == 200
    # ...but after 12 hours the session ends all the same.
    monkeypatch.setattr(sessions.time, "time", lambda: real_time() + 12.1 * 3600)
    assert (await client.get("/letters", follow_redirects=False)).status_code == 303


async def test_sign_in_needs_csrf(client):
    response = await client.post(
        "/login/password", data={"username": "vetendas2", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 403


async def test_sign_in_routes_are_rate_limited_per_address(settings):
    app = create_app(replace(settings, sign_in_rate_limit_per_minute=3))
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (await sign_in(client, "nobody", "wrong-password")).status_code for _ in range(5)
        ]
    assert statuses[:3] == [422, 422, 422]
    assert statuses[-1] == 429


async def test_staff_routes_are_404_for_citizens(settings):
    app = create_app(settings, extra_route_handlers=[staff_probe])
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/_probe/staff", follow_redirects=False)).status_code == 303
        await sign_in(client, "vetendas2")
        assert (await client.get("/_probe/staff")).status_code == 404
    async with AsyncTestClient(app=app) as client:
        await sign_in(client, "katib")
        assert (await client.get("/_probe/staff")).text == "staff only"
        # Staff never act as a party: the citizen's service is not theirs.
        assert (await client.get("/documents", follow_redirects=False)).status_code == 404
        assert (await client.get("/party", follow_redirects=False)).headers["location"] == "/"


async def test_staff_account_can_require_a_totp_second_factor(client):
    person = await Person.create(full_name="TOTP Officer")
    secret = pyotp.random_base32()
    await accounts.create_account(
        person, "totp-officer", "Correct-Horse-42", role=Role.CUSTOMS_OFFICER, totp_secret=secret
    )
    response = await sign_in(client, "totp-officer", "Correct-Horse-42")
    assert response.headers["location"] == "/login/totp"
    assert (await client.get("/letters", follow_redirects=False)).status_code == 303
    wrong = await client.post(
        "/login/totp", data={"code": "000000", "_csrf_token": await _csrf(client)}
    )
    assert wrong.status_code == 422
    right = await client.post(
        "/login/totp",
        data={"code": pyotp.TOTP(secret).now(), "_csrf_token": await _csrf(client)},
        follow_redirects=False,
    )
    assert right.status_code == 303
    assert (await client.get("/letters", follow_redirects=False)).status_code == 200


async def test_means_without_a_provider_explain_and_point_to_working_ones(client):
    page = await client.get("/login")
    assert "PORTALA GİRİŞ" in page.text
    assert page.text.count("Necə əldə etməli?") == 4
    for means in ("e-imza", "egov"):
        explained = await client.get(f"/login/{means}/unavailable")
        assert explained.status_code == 200
        assert 'href="/login/password"' in explained.text
        assert 'href="/login/asan"' in explained.text


async def test_asan_imza_sign_in_with_the_phone_simulator(client):
    await client.get("/login?next=/documents")
    started = await client.post(
        "/login/asan",
        data={"phone": "050 123 45 67", "user_id": "123456", "_csrf_token": await _csrf(client)},
        follow_redirects=False,
    )
    assert started.headers["location"] == "/login/asan/wait"
    waiting = await client.get("/login/asan/wait")
    code = re.search(r'class="asan-wait__code"[^>]*>(\d{4})<', waiting.text).group(1)
    simulator = client.app.state.asan.gateway
    pending = await simulator.pending_for("+994501234567")
    assert pending.verification_code == code  # derived on both sides, never sent
    await simulator.confirm_with_pin(pending.id, "+994501234567", "12345")
    done = await client.get("/login/asan/wait", follow_redirects=False)
    assert done.headers["location"] == "/party"
    # Polling again cannot sign anybody in a second time (single use).
    replay = await client.get("/login/asan/wait", follow_redirects=False)
    assert replay.headers["location"] == "/login/asan"


async def test_asan_form_keeps_input_and_explains(client):
    response = await client.post(
        "/login/asan",
        data={"phone": "012 555 55 55", "user_id": "abc", "_csrf_token": await _csrf(client)},
    )
    assert response.status_code == 422
    assert 'href="#phone"' in response.text and 'href="#user_id"' in response.text
    assert 'value="012 555 55 55"' in response.text


async def test_without_the_simulator_there_is_no_phone_page(settings):
    app = create_app(replace(settings, asan_gateway="disabled"))
    async with AsyncTestClient(app=app) as client:
        assert (await client.get("/simulator/asan-imza/")).status_code == 404
        response = await client.get("/login/asan", follow_redirects=False)
        assert response.headers["location"] == "/login/asan/unavailable"

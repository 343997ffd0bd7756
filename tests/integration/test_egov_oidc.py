"""E-Gov identity against a real OpenID provider process (panva/oidc-provider, Node).

The "browser" is one httpx client that follows redirects between the provider (real network)
and the portal (in process, mounted at http://testserver.local). Forged tokens come from a
controlled discovery/JWKS/token double (`httpx.MockTransport`), because a real provider only
signs with its own key: those tests say so in their names.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from litestar.testing import AsyncTestClient

from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, free_port, running_provider
from web.app import create_app
from web.identity import egov_oidc

pytestmark = pytest.mark.usefixtures("seeded")

PORTAL = "http://testserver.local"
CALLBACK = f"{PORTAL}/login/egov/callback"


@pytest.fixture(scope="module")
def provider():
    with running_provider(redirect_uris=[CALLBACK], post_logout_redirect_uris=[f"{PORTAL}/"]) as p:
        yield p


@pytest.fixture(scope="module")
def late_provider():
    """A provider whose clock is 15 minutes behind: its ID tokens arrive already expired."""
    with running_provider(
        redirect_uris=[CALLBACK],
        post_logout_redirect_uris=[f"{PORTAL}/"],
        clock_offset_seconds=-900,
    ) as p:
        yield p


def _egov_settings(settings, issuer: str):
    return replace(
        settings,
        egov_issuer_url=issuer,
        egov_client_id=CLIENT_ID,
        egov_client_secret=CLIENT_SECRET,
    )


@asynccontextmanager
async def browser_for(settings, issuer: str) -> AsyncIterator[tuple[httpx.AsyncClient, object]]:
    """A browser (httpx, following redirects) in front of a portal configured for `issuer`."""
    app = create_app(_egov_settings(settings, issuer))
    browser = httpx.AsyncClient(
        mounts={PORTAL: httpx.ASGITransport(app=app)},
        base_url=PORTAL,
        follow_redirects=True,
        timeout=10,
    )
    async with AsyncTestClient(app=app), browser:  # the test client runs the lifespan
        yield browser, app


def _form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    action = unescape(re.search(r'<form[^>]*action="([^"]+)"', page.text).group(1))
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
    return str(page.url.join(action)), fields


async def _log_in_at_provider(browser: httpx.AsyncClient, login: str) -> httpx.Response:
    """From the portal's "E-Gov identity ilə daxil olmaq" to the provider's consent page."""
    page = await browser.get("/login/egov")
    assert page.url.path.startswith("/interaction/"), page.url
    action, _ = _form(page)
    return await browser.post(action, data={"prompt": "login", "login": login, "password": "x"})


async def _consent(browser: httpx.AsyncClient, consent_page: httpx.Response) -> httpx.Response:
    action, _ = _form(consent_page)
    return await browser.post(action, data={"prompt": "consent"})


async def test_sign_in_end_to_end_with_the_real_provider(settings, provider):
    async with browser_for(settings, provider.issuer) as (browser, _app):
        page = await _consent(browser, await _log_in_at_provider(browser, "vetendas2"))
        assert page.status_code == 200
        assert page.url == httpx.URL(f"{PORTAL}/")
        assert "Rəşad Əliyev" in page.text  # the header shows who is signed in
        documents = await browser.get("/documents")
        assert documents.status_code == 200 and "7XYZW34" in documents.text


async def test_a_person_with_a_company_chooses_on_whose_behalf(settings, provider):
    async with browser_for(settings, provider.issuer) as (browser, _app):
        page = await _consent(browser, await _log_in_at_provider(browser, "vetendas"))
        # Companies come from the party registry (E-Gov identity names none).
        assert page.url.path == "/party"
        assert "Kimin adından daxil olursunuz?" in page.text
        assert "Xəzər Logistika MMC" in page.text


async def test_denied_consent_signs_nobody_in(settings, provider):
    async with browser_for(settings, provider.issuer) as (browser, _app):
        consent = await _log_in_at_provider(browser, "vetendas2")
        abort = re.search(r'href="([^"]+/abort)"', consent.text).group(1)
        page = await browser.get(abort)
        assert page.url.path == "/login/egov/callback"
        assert page.status_code == 403
        assert "E-Gov identity-yə" in page.text or "icazə vermədiniz" in page.text
        assert 'href="/login/password"' in page.text  # the other means are offered
        assert (await browser.get("/documents", follow_redirects=False)).status_code == 303


async def _callback_url(browser: httpx.AsyncClient, consent_page: httpx.Response) -> httpx.URL:
    """Consent, but stop at the redirect back to the portal: the callback URL it carries."""
    action, _ = _form(consent_page)
    response = await browser.post(action, data={"prompt": "consent"}, follow_redirects=False)
    while response.is_redirect:
        target = response.url.join(response.headers["location"])
        if target.host == "testserver.local":
            return target
        response = await browser.get(target, follow_redirects=False)
    raise AssertionError("the provider did not send the browser back")


async def test_a_wrong_state_is_refused_and_spends_the_sign_in(settings, provider):
    async with browser_for(settings, provider.issuer) as (browser, _app):
        callback = await _callback_url(browser, await _log_in_at_provider(browser, "vetendas2"))
        forged = callback.copy_set_param("state", "someone-elses-state")
        page = await browser.get(forged)
        assert page.status_code == 400
        assert "Yenidən başlayın" in page.text
        # The real answer no longer works either: the state was single use.
        again = await browser.get(callback)
        assert again.status_code == 400
        assert (await browser.get("/documents", follow_redirects=False)).status_code == 303


async def test_a_replayed_code_is_refused_by_the_provider(settings, provider):
    async with browser_for(settings, provider.issuer) as (browser, _app):
        callback = await _callback_url(browser, await _log_in_at_provider(browser, "vetendas2"))
        assert (await browser.get(callback)).url == httpx.URL(f"{PORTAL}/")
    # Another browser starts its own sign-in and slips in the used code with its own state.
    async with browser_for(settings, provider.issuer) as (attacker, _app):
        start = await attacker.get("/login/egov", follow_redirects=False)
        state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
        replay = callback.copy_set_param("state", state)
        page = await attacker.get(replay)
        assert page.status_code == 400
        assert "E-Gov identity bu girişi təsdiq etmədi" in page.text
        assert (await attacker.get("/documents", follow_redirects=False)).status_code == 303


async def test_an_expired_id_token_from_the_real_provider_is_refused(settings, late_provider):
    async with browser_for(settings, late_provider.issuer) as (browser, _app):
        page = await _consent(browser, await _log_in_at_provider(browser, "vetendas2"))
        assert page.url.path == "/login/egov/callback"
        assert page.status_code == 400
        assert "yoxlanıla bilmədi" in page.text
        assert (await browser.get("/documents", follow_redirects=False)).status_code == 303


async def test_provider_down_gives_a_clear_message_and_the_other_means(settings):
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with browser_for(settings, closed) as (browser, _app):
        page = await browser.get("/login/egov")
        assert page.status_code == 503
        assert "E-Gov identity hazırda cavab vermir" in page.text
        assert 'href="/login/password"' in page.text and 'href="/login/asan"' in page.text
        login = await browser.get("/login")
        assert 'href="/login/password"' in login.text


async def test_a_provider_that_never_answers_does_not_hang_the_sign_in(settings, monkeypatch):
    monkeypatch.setattr(egov_oidc, "PROVIDER_TIMEOUT_SECONDS", 0.5)
    with socket.socket() as silent:  # accepts connections (backlog), never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        async with browser_for(settings, issuer) as (browser, _app):
            started = time.monotonic()
            page = await browser.get("/login/egov")
            assert time.monotonic() - started < 5
        assert page.status_code == 503
        assert "E-Gov identity hazırda cavab vermir" in page.text


async def test_single_logout_ends_the_provider_session_too(settings, provider):
    async with browser_for(settings, provider.issuer) as (browser, _app):
        await _consent(browser, await _log_in_at_provider(browser, "vetendas2"))
        token = await browser.get("/", headers={"accept": "text/html"})
        assert "Rəşad Əliyev" in token.text
        csrf = browser.cookies.get("csrftoken", domain="testserver.local")
        logout = await browser.post("/logout", data={"_csrf_token": csrf}, follow_redirects=False)
        end_session = httpx.URL(logout.headers["location"])
        assert end_session.host == "127.0.0.1" and end_session.path == "/session/end"
        assert end_session.params["id_token_hint"] and end_session.params["client_id"] == CLIENT_ID
        confirm = await browser.get(end_session)
        action, fields = _form(confirm)
        back = await browser.post(action, data={**fields, "logout": "yes"})
        assert back.url.host == "testserver.local"
        assert (await browser.get("/documents", follow_redirects=False)).status_code == 303
        # The provider forgot the person: signing in again asks for the login once more.
        again = await browser.get("/login/egov")
        assert 'name="login"' in again.text


async def test_without_logout_the_provider_session_is_reused(settings, provider):
    """The control for the test above: a live provider session skips the login form."""
    async with browser_for(settings, provider.issuer) as (browser, _app):
        await _consent(browser, await _log_in_at_provider(browser, "vetendas2"))
        again = await browser.get("/login/egov")
        assert 'name="login"' not in again.text
        assert again.url.host == "testserver.local"


async def test_the_callback_counts_against_the_sign_in_limit(settings, provider):
    app = create_app(
        replace(_egov_settings(settings, provider.issuer), sign_in_rate_limit_per_minute=2)
    )
    async with AsyncTestClient(app=app) as client:
        statuses = [
            (await client.get("/login/egov/callback?state=x&code=y")).status_code for _ in range(3)
        ]
    assert statuses[:2] == [400, 400] and statuses[2] == 429


# --- forged answers, from a controlled provider double ----------------------------------------

DOUBLE = "https://egov.double.test"


def _double(id_token_for) -> httpx.MockTransport:
    """Discovery, JWKS and token endpoint of a provider we control (no real provider signs
    with a key it does not publish)."""
    published = RSAKey.generate_key(2048, parameters={"kid": "k1"})

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": DOUBLE,
                    "authorization_endpoint": f"{DOUBLE}/auth",
                    "token_endpoint": f"{DOUBLE}/token",
                    "jwks_uri": f"{DOUBLE}/jwks",
                    "id_token_signing_alg_values_supported": ["RS256"],
                },
            )
        if request.url.path == "/jwks":
            return httpx.Response(200, json=KeySet([published]).as_dict(private=False))
        if request.url.path == "/token":
            return httpx.Response(
                200,
                json={
                    "access_token": "at",
                    "token_type": "Bearer",
                    "expires_in": 300,
                    "id_token": id_token_for(published),
                },
            )
        return httpx.Response(404)

    return httpx.MockTransport(handler)


def _claims(**changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": DOUBLE,
        "aud": CLIENT_ID,
        "sub": "vetendas2",
        "fin": "7XYZW34",
        "name": "Rəşad Əliyev",
        "iat": now,
        "exp": now + 300,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(key, claims: dict) -> str:
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


FORGERIES = {
    # signed with a key the provider never published (same kid)
    "forged_signature": lambda published, nonce: _sign(
        RSAKey.generate_key(2048), _claims(nonce=nonce)
    ),
    "wrong_nonce": lambda published, nonce: _sign(published, _claims(nonce="another")),
    "other_audience": lambda published, nonce: _sign(
        published, _claims(nonce=nonce, aud="another-client")
    ),
    "other_issuer": lambda published, nonce: _sign(
        published, _claims(nonce=nonce, iss="https://evil.test")
    ),
    "expired": lambda published, nonce: _sign(
        published, _claims(nonce=nonce, iat=int(time.time()) - 900, exp=int(time.time()) - 600)
    ),
    # alg "none", no signature at all
    "unsigned": lambda published, nonce: f"{_b64({'alg': 'none'})}.{_b64(_claims(nonce=nonce))}.",
}


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def _answer_from_double(settings, make_token, **get_options) -> tuple:
    """Start a sign-in against the double, which answers with `make_token(key, nonce)`;
    return the callback's response and the client (still open for one more request)."""
    nonce_box: dict[str, str] = {}
    double = _double(lambda published: make_token(published, nonce_box["nonce"]))
    egov_settings = _egov_settings(settings, DOUBLE)
    app = create_app(egov_settings)
    async with AsyncTestClient(app=app) as client:
        app.state.egov = egov_oidc.EgovService(egov_settings, transport=double)
        start = await client.get("/login/egov", follow_redirects=False)
        query = parse_qs(urlsplit(start.headers["location"]).query)
        nonce_box["nonce"] = query["nonce"][0]
        assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
        page = await client.get(
            f"/login/egov/callback?code=c&state={query['state'][0]}", **get_options
        )
        documents = await client.get("/documents", follow_redirects=False)
        csrf = client.cookies.get("csrftoken") or (await client.get("/login")).cookies["csrftoken"]
        logout = await client.post("/logout", data={"_csrf_token": csrf}, follow_redirects=False)
    return page, documents, logout


@pytest.mark.parametrize("forgery", sorted(FORGERIES))
async def test_a_forged_or_wrong_id_token_from_a_provider_double_is_refused(settings, forgery):
    page, documents, _ = await _answer_from_double(settings, FORGERIES[forgery])
    assert page.status_code == 400, forgery
    assert "yoxlanıla bilmədi" in page.text
    assert documents.status_code == 303  # nobody signed in


async def test_the_double_accepts_a_well_made_token(settings):
    """The control for the forgeries: the same double with a right token signs in."""
    page, documents, logout = await _answer_from_double(
        settings,
        lambda published, nonce: _sign(published, _claims(nonce=nonce)),
        follow_redirects=False,
    )
    assert page.status_code == 303 and page.headers["location"] == "/"
    assert documents.status_code == 200
    # This provider lists no end_session_endpoint: "Çıxış" ends the portal's session only.
    assert logout.status_code == 303 and logout.headers["location"] == "/"

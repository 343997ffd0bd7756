"""Security headers, CSRF, error pages, limits, health, static files, compression."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Annotated

from litestar import get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import Body
from litestar.testing import AsyncTestClient

from web.app import create_app


@post("/_probe/form")
async def probe_form(
    data: Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> dict[str, str]:
    return {"ok": "yes"}


@get("/_probe/boom")
async def probe_boom() -> None:
    raise RuntimeError("secret internal detail /etc/passwd")


@get("/_probe/bad")
async def probe_bad() -> None:
    raise ValidationException("secret validation detail")


PROBES = [probe_form, probe_boom, probe_bad]


def probe_app(settings, **changes):
    return create_app(replace(settings, **changes), extra_route_handlers=PROBES)


async def test_security_headers_on_pages(client):
    response = await client.get("/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "strict-transport-security" not in response.headers
    assert response.headers["x-request-id"]


async def test_production_adds_hsts_and_secure_csrf_cookie(settings):
    app = create_app(replace(settings, env="production"))
    async with AsyncTestClient(app=app) as client:
        response = await client.get("/")
        assert "max-age=" in response.headers["strict-transport-security"]
        cookie = response.headers["set-cookie"]
        assert cookie.startswith("__Host-csrftoken=")
        assert "Secure" in cookie and "HttpOnly" in cookie
        language = await client.get("/language/en", follow_redirects=False)
        assert "Secure" in language.headers["set-cookie"]


async def test_unsafe_method_without_csrf_token_is_refused_with_a_page(settings):
    async with AsyncTestClient(app=probe_app(settings)) as client:
        response = await client.post("/_probe/form", data={"a": "b"})
        assert response.status_code == 403
        assert "<html" in response.text
        assert "form expired" in response.text or "formanın" in response.text.lower()


async def test_unsafe_method_with_csrf_token_passes(settings):
    async with AsyncTestClient(app=probe_app(settings)) as client:
        await client.get("/")
        token = client.cookies.get("csrftoken")
        assert token
        by_field = await client.post("/_probe/form", data={"_csrf_token": token, "a": "b"})
        assert by_field.status_code == 201
        by_header = await client.post(
            "/_probe/form", data={"a": "b"}, headers={"x-csrftoken": token}
        )
        assert by_header.status_code == 201


async def test_error_pages_are_styled_localized_and_leak_nothing(settings):
    async with AsyncTestClient(app=probe_app(settings)) as client:
        client.cookies.set("lang", "en")
        missing = await client.get("/no-such-page")
        assert missing.status_code == 404
        assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]
        assert missing.headers["x-request-id"] in missing.text
        assert "Page not found" in missing.text
        assert 'lang="en"' in missing.text
        assert "/static/css/app.css" in missing.text

        client.cookies.set("lang", "en")
        boom = await client.get("/_probe/boom")
        assert boom.status_code == 500
        assert "secret internal detail" not in boom.text
        assert "Traceback" not in boom.text
        assert "Sorry, there is a problem with the service" in boom.text

        client.cookies.set("lang", "en")
        bad = await client.get("/_probe/bad")
        assert bad.status_code == 400
        assert "secret validation detail" not in bad.text

        client.cookies.set("lang", "ru")
        not_allowed = await client.delete("/services")
        assert not_allowed.status_code == 405
        assert 'lang="ru"' in not_allowed.text

        client.cookies.delete("lang")
        az = await client.get("/no-such-page")
        assert 'lang="az"' in az.text
        assert "Page not found" not in az.text  # translated


async def test_request_body_limit_gives_413_page(settings):
    async with AsyncTestClient(app=probe_app(settings, max_body_bytes=1024)) as client:
        await client.get("/")
        token = client.cookies.get("csrftoken")
        response = await client.post(
            "/_probe/form",
            content=b"a=" + b"x" * 5000,
            headers={"content-type": "application/x-www-form-urlencoded", "x-csrftoken": token},
        )
        assert response.status_code == 413
        assert "<html" in response.text


async def test_rate_limit_gives_429_page_with_retry_after(settings):
    async with AsyncTestClient(app=probe_app(settings, rate_limit_per_minute=3)) as client:
        statuses = [(await client.get("/services")).status_code for _ in range(5)]
        assert statuses[:3] == [200, 200, 200]
        assert statuses[-1] == 429
        client.cookies.set("lang", "en")
        limited = await client.get("/services")
        assert "Too many requests" in limited.text
        assert limited.headers.get("retry-after")
        # Health checks and static files are never limited.
        assert (await client.get("/healthz")).status_code == 200


async def test_health_endpoints(client):
    ready = await client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert (await client.get("/healthz")).json() == ready.json()  # the same check
    live = await client.get("/healthz/live")
    assert live.json() == {"status": "ok"}
    assert "set-cookie" not in live.headers


async def test_readiness_names_storage_low_on_space(settings):
    async with AsyncTestClient(app=create_app(settings)) as client:
        client.app.state.storage.min_free_bytes = 1 << 62  # more than any disk has
        ready = await client.get("/healthz/ready")
        assert ready.status_code == 503
        # Which check failed, not why: the reason is in the log (anyone may ask this page).
        assert ready.json()["checks"]["storage"] == "unavailable"
        assert ready.json()["checks"]["database"] == "ok"


async def test_readiness_probes_the_storage_at_most_once_a_few_seconds(settings, monkeypatch):
    """The storage check writes a file: 50 quick calls to /healthz/ready write one, not 50."""
    from web.platform import health

    async with AsyncTestClient(app=create_app(settings)) as client:
        storage = client.app.state.storage
        probes = []
        probe = storage.probe

        async def counted_probe():
            probes.append(1)
            await asyncio.sleep(0.05)  # in flight while the others arrive
            await probe()

        monkeypatch.setattr(storage, "probe", counted_probe)
        # Longer than this test takes on a busy machine: the count does not hang on timing.
        monkeypatch.setattr(health, "STORAGE_CHECK_SECONDS", 600.0)
        together = await asyncio.gather(*(client.get("/healthz/ready") for _ in range(25)))
        one_by_one = [await client.get("/healthz/ready") for _ in range(25)]
        assert {r.status_code for r in together + one_by_one} == {200}
        assert len(probes) == 1
        # Later asks probe again: a disk that fills up is still noticed.
        before = len(probes)
        monkeypatch.setattr(health, "STORAGE_CHECK_SECONDS", 0.0)
        storage.min_free_bytes = 1 << 62
        assert (await client.get("/healthz/ready")).status_code == 503
        assert len(probes) == before + 1


async def test_static_files_are_versioned_and_cached_for_long(client):
    page = (await client.get("/")).text
    assert "/static/css/app.css?v=" in page
    assert 'integrity="sha384-' in page
    response = await client.get("/static/css/app.css")
    assert response.status_code == 200
    cache = response.headers["cache-control"]
    assert "max-age=31536000" in cache and "immutable" in cache


async def test_html_and_assets_are_compressed(client):
    page = await client.get("/agencies/dgk", headers={"accept-encoding": "gzip"})
    assert page.headers.get("content-encoding") == "gzip"
    script = await client.get(
        "/static/vendor/htmx-2.0.11/htmx.min.js", headers={"accept-encoding": "gzip"}
    )
    assert script.headers.get("content-encoding") == "gzip"


async def test_pages_have_no_inline_script_or_style(client):
    for path in ("/", "/services", "/agencies/dgk", "/agencies/dgk/services/letter-tracking"):
        html = (await client.get(path)).text
        assert "<script>" not in html
        assert " style=" not in html
        assert " onclick=" not in html

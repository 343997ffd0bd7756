"""The security headers middleware's quick path gives the headers, in the order, that
setting them one by one gives (`reference` below: the middleware as it was)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from litestar.datastructures import MutableScopeHeaders

from web.platform.middleware import content_security_policy, security_headers_middleware_factory
from web.settings import load_settings


def reference(message, settings) -> None:
    headers = MutableScopeHeaders.from_message(message)
    if "content-security-policy" not in headers:
        headers["Content-Security-Policy"] = content_security_policy(settings)
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
    if "cache-control" not in headers:
        headers["Cache-Control"] = "no-store"
    if settings.is_production:
        headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"


HANDLER_HEADERS = [
    [],
    [(b"content-type", b"text/html; charset=utf-8"), (b"content-length", b"12")],
    [(b"cache-control", b"public, max-age=60"), (b"content-security-policy", b"sandbox")],
    [(b"X-Frame-Options", b"SAMEORIGIN"), (b"content-type", b"text/plain")],
    [(b"referrer-policy", b"no-referrer"), (b"referrer-policy", b"origin")],
]


@pytest.mark.parametrize("env", ["development", "production"])
@pytest.mark.parametrize("handler_headers", HANDLER_HEADERS)
async def test_headers_match_setting_them_one_by_one(env, handler_headers, monkeypatch, tmp_path):
    monkeypatch.setenv("ENV", "development")
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    settings = replace(load_settings(), env=env)
    sent = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": list(handler_headers)})

    async def send(message):
        sent.append(message)

    middleware = security_headers_middleware_factory(settings)(app)
    await middleware({"type": "http"}, None, send)
    expected = {"type": "http.response.start", "status": 200, "headers": list(handler_headers)}
    reference(expected, settings)
    assert sent == [expected]

"""Litestar's CSRF check, made safe for any token a client sends.

Litestar compares tokens with `secrets.compare_digest`, which raises TypeError on non-ASCII
text: a token like "tökən" in the `_csrf_token` field, the `x-csrftoken` header or the cookie
became a 500. Here such a token is simply a wrong one (403, the normal error page).

The portal installs this middleware itself (`web.app`), so Litestar's own is not added;
`Portal` still exposes the config as `app.csrf_config` for the streamed upload forms, which
check the token themselves (`web.storage.receiving`).
"""

from __future__ import annotations

from litestar.middleware.csrf import CSRFMiddleware


class PortalCSRFMiddleware(CSRFMiddleware):
    def _csrf_tokens_match(self, request_csrf_token: str, cookie_csrf_token: str) -> bool:
        if not (
            isinstance(request_csrf_token, str)
            and isinstance(cookie_csrf_token, str)
            and request_csrf_token.isascii()
            and cookie_csrf_token.isascii()
        ):
            return False
        return super()._csrf_tokens_match(request_csrf_token, cookie_csrf_token)

"""Operational routes: health check and the language switch."""

from __future__ import annotations

from litestar import Controller, Response, get
from litestar.datastructures import Cookie
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from web.platform import db, i18n
from web.platform.dependencies import AppSettings
from web.platform.safety import safe_next_path

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


class SystemController(Controller):
    @get("/healthz", name="healthz", exclude_from_csrf=True, cache=False)
    async def healthz(self) -> Response[dict[str, str]]:
        try:
            await db.ping()
        except Exception:  # the reason goes to the log, not to the caller
            return Response({"status": "unavailable", "database": "error"}, status_code=503)
        return Response({"status": "ok", "database": "ok"})

    @get("/language/{code:str}", name="set_language")
    async def set_language(
        self, settings: AppSettings, code: FromPath[str], next: FromQuery[str] = "/"
    ) -> Redirect:
        language = i18n.pick_language(code)
        return Redirect(
            path=safe_next_path(next),
            status_code=303,
            cookies=[
                Cookie(
                    key=i18n.LANGUAGE_COOKIE,
                    value=language,
                    max_age=LANGUAGE_COOKIE_SECONDS,
                    httponly=True,
                    samesite="lax",
                    secure=settings.is_production,
                    path="/",
                )
            ],
        )

"""Operational routes: health checks (see web/platform/health.py) and the language switch."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.datastructures import Cookie, State
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect

from web.platform import health, i18n
from web.platform.dependencies import AppSettings
from web.platform.safety import safe_next_path

LANGUAGE_COOKIE_SECONDS = 365 * 24 * 3600


class SystemController(Controller):
    @get("/healthz/live", name="healthz_live", exclude_from_csrf=True, cache=False)
    async def live(self) -> dict[str, str]:
        """The process answers; no dependency is asked (restart me only if this fails)."""
        return {"status": "ok"}

    @get(["/healthz/ready", "/healthz"], name="healthz_ready", exclude_from_csrf=True, cache=False)
    async def ready(self, state: State) -> Response[dict[str, Any]]:
        """Every dependency answers (send me traffic only if this is 200). `/healthz` is
        the same check: whoever watched it before wanted to know the database answers.
        (`state` is what the app opened in its lifespan: Redis, the storage.)"""
        ready, checks = await health.readiness(
            redis=state.get("redis"), storage=state.get("storage")
        )
        body = {"status": "ok" if ready else "unavailable", "checks": checks}
        if ready:
            return Response(body)
        headers = {"Retry-After": str(health.RETRY_AFTER_SECONDS)}
        return Response(body, status_code=503, headers=headers)

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

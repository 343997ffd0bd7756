"""Styled, localized error pages that leak nothing (no tracebacks, no exception text)."""

from __future__ import annotations

import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR, HTTP_503_SERVICE_UNAVAILABLE

from web.identity import sessions
from web.identity.guards import PartyChoiceRequired, SignInRequired, login_url, requested_path
from web.platform import health
from web.platform.rendering import redirect

log = structlog.get_logger("egomruk.errors")

# Status codes with a page of their own; anything else shows the generic one.
KNOWN_STATUSES = {400, 403, 404, 405, 408, 413, 422, 429, 500, 503}


def _error_page(request: Request, status_code: int) -> Response:
    shown = status_code if status_code in KNOWN_STATUSES else (500 if status_code >= 500 else 400)
    headers = {}
    if status_code == 429:
        headers["Retry-After"] = "60"
    elif status_code == 503:
        headers["Retry-After"] = str(health.RETRY_AFTER_SECONDS)
    # The request id lets a user quote the failure to the help desk without exposing it.
    request_id = request.scope.get("state", {}).get("request_id")
    return Template(
        "error.html.j2",
        context={"status_code": shown, "request_id": request_id},
        status_code=status_code,
        headers=headers,
    )


def http_exception_handler(request: Request, exc: HTTPException) -> Response:
    if request.url.path.startswith("/healthz"):
        return Response({"status": "error"}, status_code=exc.status_code)
    return _error_page(request, exc.status_code)


def sign_in_required_handler(request: Request, exc: SignInRequired) -> Response:
    return redirect(request, login_url(requested_path(request)))


def party_choice_required_handler(request: Request, exc: PartyChoiceRequired) -> Response:
    request.session[sessions.NEXT_KEY] = requested_path(request)
    return redirect(request, "/party")


def unexpected_exception_handler(request: Request, exc: Exception) -> Response:
    dependency = health.outage_of(exc)
    if dependency is not None:
        # Not a bug: the database or Redis is away. Say so briefly; the page asks to retry.
        log.warning("dependency_unavailable", dependency=dependency, error=repr(exc))
        return _error_page(request, HTTP_503_SERVICE_UNAVAILABLE)
    log.exception("unhandled_exception", path=request.url.path)
    return _error_page(request, HTTP_500_INTERNAL_SERVER_ERROR)


EXCEPTION_HANDLERS = {
    SignInRequired: sign_in_required_handler,
    PartyChoiceRequired: party_choice_required_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_exception_handler,
}

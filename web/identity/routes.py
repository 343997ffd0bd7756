"""PORTALA GİRİŞ: the four means of sign-in, the party choice and sign-out."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from urllib.parse import urlencode

import structlog
from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from models.identity import Account, Role
from web.identity import accounts, asan_signin, authority, drafts, e_imza, password_signin, sessions
from web.identity.asan_imza import normalize_az_mobile
from web.identity.egov_oidc import EgovSignInError, PendingEgovSignIn
from web.identity.guards import current_user, signed_in
from web.identity.means import AsanSignIn, EgovSignIn, EImzaSignIn
from web.identity.password_signin import Answer
from web.identity.sign_in import complete_sign_in
from web.identity.throttle import STORE_NAME as THROTTLE_STORE
from web.identity.throttle import SignInThrottle
from web.platform import i18n
from web.platform.dependencies import AppSettings
from web.platform.forms import FormData, field, invalid_form
from web.platform.i18n import gettext as _
from web.platform.i18n import lazy_gettext as _l
from web.platform.middleware import client_address
from web.platform.rendering import redirect, render, wants_fragment
from web.platform.safety import safe_next_path
from web.platform.text_input import clean_text, whole_number
from web.settings import Settings

log = structlog.get_logger(__name__)

PENDING_ASAN = "asan_pending"
PENDING_TOTP = "totp_pending"
PENDING_EGOV = "egov_pending"
NEXT = sessions.NEXT_KEY
UNCONFIGURED_MEANS = ("e-imza", "egov")
E_IMZA_PATH = "/login/e-imza"
EGOV_CALLBACK = "/login/egov/callback"


# Where to go after signing in travels in the query string and the forms' hidden field, not
# in a session: anonymous visitors have none. A longer path than this is not a page of ours.
MAX_NEXT_LENGTH = 2000
# The Asan İmza waiting page's heading (and title) for each state.
ASAN_HEADINGS = {
    asan_signin.Outcome.PENDING: _l("Confirm on your phone"),
    asan_signin.Outcome.REFUSED: _l("You refused the request on your phone"),
    asan_signin.Outcome.EXPIRED: _l("The request expired"),
    asan_signin.Outcome.BLOCKED: _l("Your Asan İmza is blocked"),
    asan_signin.Outcome.REVOKED: _l("Your Asan İmza certificate has been revoked"),
}
ASAN_FAILED_HEADING = _l("Your identity could not be confirmed")


def bounded_next(raw: str | None) -> str:
    """A same-site path of at most MAX_NEXT_LENGTH characters, else the home page."""
    path = clean_text(raw, MAX_NEXT_LENGTH + 1)
    return safe_next_path(path, "/") if len(path) <= MAX_NEXT_LENGTH else "/"


def _refusal(tried: password_signin.Attempt) -> str:
    if tried.answer is Answer.THROTTLED:
        return _wait_message(tried.wait_seconds)
    if tried.answer is Answer.STAFF_NEED_TOTP:
        return _(
            "Staff accounts sign in with a second factor (an authenticator app). "
            "Ask an administrator to set it up for you."
        )
    # Unknown, wrong and paused accounts get one answer: nobody learns which user names
    # exist or can tell that a victim's account is paused.
    return _("The user name or password is not right")


def _wait_message(seconds: int) -> str:
    if seconds < 90:
        return _(
            "Too many failed attempts. Wait %(seconds)s seconds and try again.", seconds=seconds
        )
    return _(
        "Too many failed attempts. Wait %(minutes)s minutes and try again.",
        minutes=math.ceil(seconds / 60),
    )


def _next_query(next_path: str) -> str:
    return "" if next_path == "/" else "?" + urlencode({"next": next_path})


async def _finish_sign_in(
    request: Request,
    settings: Settings,
    person_id: int,
    method: str,
    target: str,
    *,
    account: Account | None = None,
    **extra: str,
) -> Response:
    """Fresh session id, then the party choice when there is one, else straight on. A
    password `account` brings its role (staff sign in only that way); every other means
    signs a citizen in.

    `extra` is kept with the sign-in (E-Gov identity keeps its ID token for the logout)."""
    role = account.role if account else Role.CITIZEN
    account_id = account.id if account else None
    target = safe_next_path(target, "/")
    # Read before the database (see `authority.snapshot`).
    version = await authority.read_version(
        sessions.store_of(request), settings.secret_key, person_id
    )
    signed_in = await complete_sign_in(
        person_id=person_id, role=role, method=method, version=version, account_id=account_id
    )
    if account is not None:
        extra["credential"] = authority.credential(account)
    sessions.begin_session(request, {**signed_in.auth, **extra})
    log.info("signed_in", method=method, person_id=person_id, role=str(role))
    if signed_in.must_choose_party:
        request.session[NEXT] = target
        return redirect(request, "/party")
    return redirect(request, target)


class AuthController(Controller):
    @get("/login", name="login")
    async def login(
        self, request: Request, asan: AsanSignIn, next: FromQuery[str | None] = None
    ) -> Template:
        return Template(
            "auth/login.html.j2",
            context={
                "asan_enabled": asan is not None,
                "next_query": _next_query(bounded_next(next)),
            },
        )

    @get("/login/{means:str}/unavailable", name="login_unavailable")
    async def unavailable(self, request: Request, means: FromPath[str]) -> Template:
        if means not in (*UNCONFIGURED_MEANS, "asan"):
            raise NotFoundException()
        return Template("auth/unavailable.html.j2", context={"means": means})

    # --- user name and password -----------------------------------------------------

    @get("/login/password", name="login_password")
    async def password_form(self, next: FromQuery[str | None] = None) -> Template:
        return Template(
            "auth/password.html.j2",
            context={"values": {}, "errors": {}, "next": bounded_next(next)},
        )

    @post("/login/password", name="login_password_submit")
    async def password_submit(
        self, request: Request, settings: AppSettings, data: FormData
    ) -> Response:
        username = field(data, "username", 150)
        password = field(data, "password", 1024)
        next_path = bounded_next(field(data, "next", MAX_NEXT_LENGTH + 1))
        errors: dict[str, str] = {}
        if not username:
            errors["username"] = _("Enter your user name")
        if not password:
            errors["password"] = _("Enter your password")
        status = 422
        if not errors:
            tried = await password_signin.attempt(
                SignInThrottle(request.app.stores.get(THROTTLE_STORE)),
                username,
                password,
                address=client_address(request),
                staff_totp_required=settings.staff_totp_required,
                now=datetime.fromtimestamp(time.time(), UTC),
            )
            if tried.answer is Answer.SIGNED_IN:
                account = tried.account
                return await _finish_sign_in(
                    request, settings, account.person_id, "password", next_path, account=account
                )
            if tried.answer is Answer.TOTP_NEXT:
                request.session[PENDING_TOTP] = {"account_id": tried.account.id, "next": next_path}
                return redirect(request, "/login/totp")
            errors["username"] = _refusal(tried)
            if tried.answer is Answer.THROTTLED:
                status = 429
        response = invalid_form(
            "auth/password.html.j2", errors, values={"username": username}, next=next_path
        )
        response.status_code = status
        return response

    @get("/login/totp", name="login_totp")
    async def totp_form(self, request: Request) -> Response:
        if not request.session.get(PENDING_TOTP):
            return Redirect("/login/password", status_code=303)
        return Template("auth/totp.html.j2", context={"errors": {}})

    @post("/login/totp", name="login_totp_submit")
    async def totp_submit(
        self, request: Request, settings: AppSettings, data: FormData
    ) -> Response:
        pending = request.session.get(PENDING_TOTP)
        if not pending:
            return redirect(request, "/login/password")
        account = await Account.get_or_none(id=pending.get("account_id"), is_active=True)
        code = field(data, "code", 12).replace(" ", "")
        if account and await accounts.verify_totp(account, code, now=datetime.now(UTC)):
            target = pending.get("next", "/")
            return await _finish_sign_in(
                request, settings, account.person_id, "password", target, account=account
            )
        errors = {
            "code": _("The code is not right or has expired. Enter the code your app shows now.")
        }
        return invalid_form("auth/totp.html.j2", errors)

    # --- Asan İmza -----------------------------------------------------------------------

    @get("/login/asan", name="login_asan")
    async def asan_form(
        self, request: Request, asan: AsanSignIn, next: FromQuery[str | None] = None
    ) -> Response:
        if asan is None:
            return Redirect("/login/asan/unavailable", status_code=303)
        return Template(
            "auth/asan.html.j2", context={"values": {}, "errors": {}, "next": bounded_next(next)}
        )

    @post("/login/asan", name="login_asan_submit")
    async def asan_submit(self, request: Request, asan: AsanSignIn, data: FormData) -> Response:
        if asan is None:
            return redirect(request, "/login/asan/unavailable")
        raw_phone = field(data, "phone", 40)
        user_id = field(data, "user_id", 32)
        next_path = bounded_next(field(data, "next", MAX_NEXT_LENGTH + 1))
        errors: dict[str, str] = {}
        phone = normalize_az_mobile(raw_phone)
        if not raw_phone:
            errors["phone"] = _("Enter your Asan İmza mobile number")
        elif phone is None:
            errors["phone"] = _("Enter an Azerbaijani mobile number, like 050 123 45 67")
        if not user_id:
            errors["user_id"] = _("Enter your user ID")
        elif whole_number(user_id, 16) is None:
            errors["user_id"] = _("The user ID is made of digits only, like 123456")
        if errors:
            return invalid_form(
                "auth/asan.html.j2",
                errors,
                values={"phone": raw_phone, "user_id": user_id},
                next=next_path,
            )
        pending = await asan_signin.start(
            asan, phone=phone, user_id=user_id, language=i18n.get_language()
        )
        # The sign-in flow starts: now (not before) the visitor gets a short-lived record.
        request.session[PENDING_ASAN] = pending.to_session()
        request.session[NEXT] = next_path
        return redirect(request, "/login/asan/wait")

    @get("/login/asan/wait", name="login_asan_wait")
    async def asan_wait(
        self, request: Request, asan: AsanSignIn, settings: AppSettings
    ) -> Response:
        pending = asan_signin.PendingSignIn.from_session(request.session.get(PENDING_ASAN))
        if asan is None or pending is None:
            return redirect(request, "/login/asan")
        result = await asan_signin.poll(asan, pending)
        if result.outcome is asan_signin.Outcome.SIGNED_IN:
            target = request.session.get(NEXT, "/")
            return await _finish_sign_in(request, settings, result.person_id, "asan", target)
        if result.outcome is asan_signin.Outcome.PENDING:
            if wants_fragment(request):
                return Response(content=b"", status_code=204)  # nothing new: nothing swapped
        else:
            request.session.pop(PENDING_ASAN, None)  # single use: start again
        expires_at = datetime.fromtimestamp(pending.expires_at, UTC)
        ttl = settings.asan_simulator_ttl_seconds
        return render(
            request,
            "auth/asan_wait.html.j2",
            {
                "pending": pending,
                "outcome": str(result.outcome),
                "heading": str(ASAN_HEADINGS.get(result.outcome, ASAN_FAILED_HEADING)),
                "expires_at": expires_at,
                "seconds_left": max(0, int(pending.expires_at - time.time())),
                "ttl_text": i18n.format_duration(ttl),
            },
            fragment="asan_status",
        )

    # --- E-Gov identity (OpenID Connect) --------------------------------------------------

    @get("/login/egov", name="login_egov")
    async def egov_start(
        self, request: Request, egov: EgovSignIn, next: FromQuery[str | None] = None
    ) -> Response:
        if egov is None:
            return Redirect("/login/egov/unavailable", status_code=303)
        try:
            url, pending = await egov.start(_absolute_url(request, EGOV_CALLBACK))
        except EgovSignInError as exc:
            return _sign_in_failed("egov", exc.failure, exc)
        # The sign-in flow starts: now (not before) the visitor gets a short-lived record.
        request.session[PENDING_EGOV] = pending.to_session()
        request.session[NEXT] = bounded_next(next)
        return Redirect(url, status_code=303)

    @get(EGOV_CALLBACK, name="login_egov_callback")
    async def egov_callback(
        self, request: Request, egov: EgovSignIn, settings: AppSettings
    ) -> Response:
        if egov is None:
            return Redirect("/login/egov/unavailable", status_code=303)
        # Single use: whatever the answer, this state is spent.
        pending = PendingEgovSignIn.from_session(request.session.pop(PENDING_EGOV, None))
        try:
            identity = await egov.finish(pending, dict(request.query_params))
        except EgovSignInError as exc:
            return _sign_in_failed("egov", exc.failure, exc)
        person = await accounts.record_verified_person(identity.fin, identity.full_name)
        target = request.session.get(NEXT, "/")
        return await _finish_sign_in(
            request, settings, person.id, "egov", target, id_token=identity.id_token
        )

    # --- Elektron imza (TLS client certificate, through the TLS front) ----------------------

    @get(E_IMZA_PATH, name="login_e_imza")
    async def e_imza_sign_in(
        self,
        request: Request,
        e_imza_service: EImzaSignIn,
        settings: AppSettings,
        next: FromQuery[str | None] = None,
    ) -> Response:
        front = e_imza.front_headers(request, e_imza_service)
        next_path = bounded_next(next)
        if front is None:
            if (
                e_imza_service is not None
                and e_imza_service.url
                and e_imza.VERIFY_HEADER not in request.headers
            ):
                # To the front that asks for the certificate.
                return Redirect(e_imza_service.url + _next_query(next_path), status_code=303)
            return Template("auth/unavailable.html.j2", context={"means": "e-imza"})
        assert e_imza_service is not None
        try:
            subject = await e_imza.verify_front_certificate(
                front, e_imza_service, now=datetime.now(UTC)
            )
        except e_imza.CertificateRefused as exc:
            return _sign_in_failed("e-imza", exc.refusal, exc)
        company = (subject.voen, subject.company_name) if subject.voen else None
        person = await accounts.record_verified_person(
            subject.fin, subject.full_name, company=company
        )
        return await _finish_sign_in(request, settings, person.id, "e-imza", next_path)

    # --- on whose behalf, and sign-out -------------------------------------------------

    @get("/party", name="party_choice", guards=[signed_in])
    async def party_form(self, request: Request) -> Response:
        user = current_user(request)
        if not user.parties:  # staff act for no party
            return Redirect("/", status_code=303)
        return Template("auth/party.html.j2", context={"user": user, "errors": {}})

    @post("/party", name="party_choice_submit", guards=[signed_in])
    async def party_submit(self, request: Request, data: FormData) -> Response:
        user = current_user(request)
        chosen = field(data, "party", 20)
        party = next((p for p in user.parties if str(p.id) == chosen), None)
        if party is None:
            errors = {"party": _("Choose on whose behalf you act")}
            return invalid_form("auth/party.html.j2", errors, user=user)
        request.session[sessions.AUTH_KEY] = {
            **request.session[sessions.AUTH_KEY],
            "party_id": party.id,
        }
        target = safe_next_path(request.session.pop(NEXT, None), "/")
        return redirect(request, target)

    @post("/logout", name="logout")
    async def logout(self, request: Request, egov: EgovSignIn) -> Response:
        auth = sessions.current_auth(request) or {}
        sessions.end_session(request, sessions.NOTICE_SIGNED_OUT)
        if auth.get("method") == "egov" and egov is not None:
            # Single logout: the provider ends its session too, then sends the browser back.
            provider_logout = await egov.logout_url(
                id_token=auth.get("id_token"),
                post_logout_redirect_uri=_absolute_url(request, "/"),
            )
            if provider_logout:
                return redirect(request, provider_logout)
        return redirect(request, "/")


class SessionController(Controller):
    """The idle-timeout warning's two calls (static/js/app.js): stay signed in, keep a draft."""

    path = "/session"
    guards = [signed_in]  # noqa: RUF012 - Litestar reads a list

    @post("/keep-alive", name="session_keep_alive", status_code=204)
    async def keep_alive(self) -> None:
        """Any signed-in request counts as activity (sessions.enforce_timeouts)."""

    @post("/drafts/{form:str}", name="session_draft", status_code=204)
    async def draft(self, request: Request, form: FromPath[str], data: FormData) -> None:
        store = request.app.stores.get(drafts.DRAFT_STORE)
        if not await drafts.save(store, current_user(request).person.id, form, data):
            raise NotFoundException()


def _absolute_url(request: Request, path: str) -> str:
    return str(request.base_url).rstrip("/") + path


_FAILURE_STATUS = {"unavailable": 503, "denied": 403}


def _sign_in_failed(means: str, failure: str, error: Exception) -> Template:
    """Nobody signed in: say why in plain words and offer the other means; the log keeps the
    technical reason (never shown)."""
    log.warning("sign_in_refused", means=means, reason=failure, detail=str(error))
    return Template(
        "auth/sign_in_failed.html.j2",
        context={"means": means, "failure": failure},
        status_code=_FAILURE_STATUS.get(failure, 400),
    )

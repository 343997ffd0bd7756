"""PORTALA GİRİŞ: the four means of sign-in, the party choice and sign-out."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from models.identity import Account, Role
from web.identity import accounts, asan_signin, sessions
from web.identity.accounts import AuthOutcome
from web.identity.asan_imza import normalize_az_mobile
from web.identity.asan_signin import AsanSignIn
from web.identity.guards import SignedInUser, signed_in
from web.identity.sign_in import complete_sign_in
from web.platform import i18n
from web.platform.forms import FormData, field, invalid_form
from web.platform.i18n import gettext as _
from web.platform.portal_time import utcnow
from web.platform.rendering import redirect, render
from web.platform.safety import safe_next_path

PENDING_ASAN = "asan_pending"
PENDING_TOTP = "totp_pending"
NEXT = sessions.NEXT_KEY
UNCONFIGURED_MEANS = ("e-imza", "egov")


def _next(request: Request) -> str:
    return safe_next_path(request.session.get(NEXT), "/")


def _remember_next(request: Request, next_path: str | None) -> None:
    if next_path:
        request.session[NEXT] = safe_next_path(next_path)


async def _finish_sign_in(request: Request, *, person_id: int, role: Role, method: str) -> Response:
    """Fresh session id, then the party choice when there is one, else straight on."""
    target = _next(request)
    signed_in = await complete_sign_in(person_id=person_id, role=role, method=method)
    sessions.begin_session(request, signed_in.auth)
    if signed_in.must_choose_party:
        request.session[NEXT] = target
        return redirect(request, "/party")
    return redirect(request, target)


class AuthController(Controller):
    @get("/login", name="login")
    async def login(
        self, request: Request, asan: AsanSignIn, next: FromQuery[str | None] = None
    ) -> Template:
        _remember_next(request, next)
        return Template("auth/login.html.j2", context={"asan_enabled": asan is not None})

    @get("/login/{means:str}/unavailable", name="login_unavailable")
    async def unavailable(self, request: Request, means: FromPath[str]) -> Template:
        if means not in (*UNCONFIGURED_MEANS, "asan"):
            raise NotFoundException()
        return Template("auth/unavailable.html.j2", context={"means": means})

    # --- user name and password -----------------------------------------------------

    @get("/login/password", name="login_password")
    async def password_form(self) -> Template:
        return Template("auth/password.html.j2", context={"values": {}, "errors": {}})

    @post("/login/password", name="login_password_submit")
    async def password_submit(self, request: Request, data: FormData) -> Response:
        username = field(data, "username", 150)
        password = field(data, "password", 1024)
        errors: dict[str, str] = {}
        if not username:
            errors["username"] = _("Enter your user name")
        if not password:
            errors["password"] = _("Enter your password")
        if not errors:
            result = await accounts.authenticate(username, password, now=utcnow())
            if result.outcome is AuthOutcome.OK:
                account = result.account
                return await _finish_sign_in(
                    request, person_id=account.person_id, role=account.role, method="password"
                )
            if result.outcome is AuthOutcome.TOTP_REQUIRED:
                request.session[PENDING_TOTP] = {"account_id": result.account.id}
                return redirect(request, "/login/totp")
            if result.outcome is AuthOutcome.LOCKED:
                minutes = max(1, int((result.locked_until - utcnow()).total_seconds() // 60) + 1)
                errors["username"] = _(
                    "Too many failed attempts: this account is locked. Try again in %(minutes)s "
                    "minutes.",
                    minutes=minutes,
                )
            else:
                errors["username"] = _("The user name or password is not right")
        return invalid_form("auth/password.html.j2", errors, values={"username": username})

    @get("/login/totp", name="login_totp")
    async def totp_form(self, request: Request) -> Response:
        if not request.session.get(PENDING_TOTP):
            return Redirect("/login/password", status_code=303)
        return Template("auth/totp.html.j2", context={"errors": {}})

    @post("/login/totp", name="login_totp_submit")
    async def totp_submit(self, request: Request, data: FormData) -> Response:
        pending = request.session.get(PENDING_TOTP)
        if not pending:
            return redirect(request, "/login/password")
        account = await Account.get_or_none(id=pending.get("account_id"), is_active=True)
        code = field(data, "code", 12).replace(" ", "")
        if account and await accounts.verify_totp(account, code, now=utcnow()):
            return await _finish_sign_in(
                request, person_id=account.person_id, role=account.role, method="password"
            )
        errors = {
            "code": _("The code is not right or has expired. Enter the code your app shows now.")
        }
        return invalid_form("auth/totp.html.j2", errors)

    # --- Asan İmza -----------------------------------------------------------------------

    @get("/login/asan", name="login_asan")
    async def asan_form(self, asan: AsanSignIn) -> Response:
        if asan is None:
            return Redirect("/login/asan/unavailable", status_code=303)
        return Template("auth/asan.html.j2", context={"values": {}, "errors": {}})

    @post("/login/asan", name="login_asan_submit")
    async def asan_submit(self, request: Request, asan: AsanSignIn, data: FormData) -> Response:
        if asan is None:
            return redirect(request, "/login/asan/unavailable")
        raw_phone = field(data, "phone", 40)
        user_id = field(data, "user_id", 32)
        errors: dict[str, str] = {}
        phone = normalize_az_mobile(raw_phone)
        if not raw_phone:
            errors["phone"] = _("Enter your Asan İmza mobile number")
        elif phone is None:
            errors["phone"] = _("Enter an Azerbaijani mobile number, like 050 123 45 67")
        if not user_id:
            errors["user_id"] = _("Enter your user ID")
        elif not user_id.isdigit() or len(user_id) > 16:
            errors["user_id"] = _("The user ID is made of digits only, like 123456")
        if errors:
            return invalid_form(
                "auth/asan.html.j2", errors, values={"phone": raw_phone, "user_id": user_id}
            )
        pending = await asan_signin.start(
            asan, phone=phone, user_id=user_id, language=i18n.get_language()
        )
        request.session[PENDING_ASAN] = pending.to_session()
        return redirect(request, "/login/asan/wait")

    @get("/login/asan/wait", name="login_asan_wait")
    async def asan_wait(self, request: Request, asan: AsanSignIn) -> Response:
        pending = asan_signin.PendingSignIn.from_session(request.session.get(PENDING_ASAN))
        if asan is None or pending is None:
            return redirect(request, "/login/asan")
        result = await asan_signin.poll(asan, pending)
        if result.outcome is asan_signin.Outcome.SIGNED_IN:
            return await _finish_sign_in(
                request, person_id=result.person_id, role=Role.CITIZEN, method="asan"
            )
        if result.outcome is not asan_signin.Outcome.PENDING:
            request.session.pop(PENDING_ASAN, None)  # single use: start again
        return render(
            request,
            "auth/asan_wait.html.j2",
            {"pending": pending, "outcome": str(result.outcome)},
            fragment="asan_status",
        )

    # --- on whose behalf, and sign-out -------------------------------------------------

    @get("/party", name="party_choice", guards=[signed_in])
    async def party_form(self, user: SignedInUser) -> Response:
        if not user.parties:  # staff act for no party
            return Redirect("/", status_code=303)
        return Template("auth/party.html.j2", context={"user": user, "errors": {}})

    @post("/party", name="party_choice_submit", guards=[signed_in])
    async def party_submit(self, request: Request, user: SignedInUser, data: FormData) -> Response:
        chosen = field(data, "party", 20)
        party = next((p for p in user.parties if str(p.id) == chosen), None)
        if party is None:
            errors = {"party": _("Choose on whose behalf you act")}
            return invalid_form("auth/party.html.j2", errors, user=user)
        request.session[sessions.AUTH_KEY] = {
            **request.session[sessions.AUTH_KEY],
            "party_id": party.id,
        }
        target = _next(request)
        request.session.pop(NEXT, None)
        return redirect(request, target)

    @post("/logout", name="logout")
    async def logout(self, request: Request) -> Response:
        sessions.end_session(request, sessions.NOTICE_SIGNED_OUT)
        return redirect(request, "/")

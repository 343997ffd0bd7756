"""The Asan İmza phone simulator: what the user's phone would show.

Mounted only when ASAN_GATEWAY=simulator (never in production). It talks to the same
simulated operator as the portal, through the database, so it works in a second tab or
on a second device.
"""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Response, Template

from web.identity.asan_imza import (
    SimBlocked,
    TransactionError,
    WrongPin,
    normalize_az_mobile,
)
from web.identity.means import AsanSignIn
from web.platform.forms import FormData, field, invalid_form
from web.platform.i18n import gettext as _
from web.platform.rendering import redirect, render, wants_fragment
from web.simulator.operator import AsanSimulator

BASE = "/simulator/asan-imza"


def _simulator(asan: AsanSignIn) -> AsanSimulator:
    """The simulated operator, handed to every page here as `simulator`: 404 without one."""
    if asan is None or asan.simulator is None:
        raise NotFoundException()
    return asan.simulator


Simulator = NamedDependency[AsanSimulator]


def _phone_or_404(raw: str) -> str:
    phone = normalize_az_mobile(raw)
    if phone is None:
        raise NotFoundException()
    return phone


class AsanSimulatorController(Controller):
    path = BASE
    dependencies = {"simulator": Provide(_simulator, sync_to_thread=False)}  # noqa: RUF012

    @get("/", name="simulator_home")
    async def home(
        self,
        simulator: Simulator,  # asked for so that an app without the simulator answers 404
        phone: FromQuery[str | None] = None,
    ) -> Response:
        if phone is None:
            return Template("simulator/home.html.j2", context={"values": {}, "errors": {}})
        normalized = normalize_az_mobile(phone)
        if normalized is None:
            errors = {"phone": _("Enter an Azerbaijani mobile number, like 050 123 45 67")}
            return invalid_form("simulator/home.html.j2", errors, values={"phone": phone})
        return Redirect(f"{BASE}/phone/{normalized}", status_code=303)

    @get("/phone/{phone:str}", name="simulator_phone")
    async def phone(
        self,
        request: Request,
        simulator: Simulator,
        phone: FromPath[str],
        done: FromQuery[str | None] = None,
    ) -> Response:
        number = _phone_or_404(phone)
        sim = await simulator.get_phone(number)
        pending = await simulator.pending_for(number) if sim else None
        if pending is None and wants_fragment(request):
            return Response(content=b"", status_code=204)  # still idle: nothing swapped
        return render(
            request,
            "simulator/phone.html.j2",
            {"number": number, "sim": sim, "pending": pending, "done": done},
            fragment="phone_screen",
        )

    @get("/phone/{phone:str}/pin", name="simulator_pin")
    async def pin_form(
        self, request: Request, simulator: Simulator, phone: FromPath[str], tx: FromQuery[str]
    ) -> Response:
        number = _phone_or_404(phone)
        pending = await simulator.pending_for(number)
        if pending is None or pending.id != tx:
            return Redirect(f"{BASE}/phone/{number}", status_code=303)
        return Template(
            "simulator/pin.html.j2", context={"number": number, "pending": pending, "errors": {}}
        )

    @post("/phone/{phone:str}/confirm", name="simulator_confirm")
    async def confirm(
        self, request: Request, simulator: Simulator, phone: FromPath[str], data: FormData
    ) -> Response:
        number = _phone_or_404(phone)
        tx = field(data, "tx", 100)
        pin1 = field(data, "pin1", 16)
        errors: dict[str, str] = {}
        try:
            await simulator.confirm_with_pin(tx, number, pin1)
        except WrongPin as wrong:
            if wrong.attempts_left:
                errors["pin1"] = _("Wrong PIN1. Attempts left: %(left)s", left=wrong.attempts_left)
            else:
                return redirect(request, f"{BASE}/phone/{number}?done=blocked")
        except SimBlocked:
            return redirect(request, f"{BASE}/phone/{number}?done=blocked")
        except (TransactionError, ValueError):
            return redirect(request, f"{BASE}/phone/{number}?done=gone")
        if errors:
            pending = await simulator.pending_for(number)
            return invalid_form("simulator/pin.html.j2", errors, number=number, pending=pending)
        return redirect(request, f"{BASE}/phone/{number}?done=signed")

    @post("/phone/{phone:str}/refuse", name="simulator_refuse")
    async def refuse(
        self, request: Request, simulator: Simulator, phone: FromPath[str], data: FormData
    ) -> Response:
        number = _phone_or_404(phone)
        try:
            await simulator.refuse(field(data, "tx", 100), number)
        except (TransactionError, ValueError):
            return redirect(request, f"{BASE}/phone/{number}?done=gone")
        return redirect(request, f"{BASE}/phone/{number}?done=refused")

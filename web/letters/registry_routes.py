"""The staff registry of letters (registry clerks and executors; administrators too):
register paper letters, list and filter, forward, change status, extend, search by FIN,
and (administrators only) the customs bodies and their structural units.

Citizens and other staff get the same 404 as a missing page (`staff_with`).
"""

from __future__ import annotations

import re
from math import ceil

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Stream, Template
from tortoise.exceptions import IntegrityError

from models.identity import FIN_PATTERN, Role
from models.letters import CustomsBody, Executor, LetterChannel, LetterStatus, StructuralUnit
from web.identity.guards import current_user, staff_with
from web.letters import access, service
from web.letters.routes import attachment_response
from web.platform import portal_time
from web.platform.forms import FormData, error_list, field
from web.platform.i18n import gettext as _
from web.platform.i18n import lazy_gettext as _l
from web.platform.rendering import redirect
from web.platform.text_input import whole_number

REGISTRY_ROLES = staff_with(Role.REGISTRY_CLERK, Role.EXECUTOR)
CLERKS_ONLY = staff_with(*access.WHOLE_REGISTRY_ROLES)  # not executors (web/letters/access.py)
ADMIN_ONLY = staff_with(Role.ADMIN)
DONE_MESSAGES = {
    "registered": _l("The letter was registered."),
    "forwarded": _l("The letter was forwarded."),
    "status": _l("The status was changed."),
    "extended": _l("The due date was extended."),
}
# One @, a dot in the domain, no spaces or control characters (the mail library refuses
# those, and the notice would be retried for ever).
EMAIL_RE = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
PAGE_SIZE = 50


def _status_items(statuses, selected: str, empty: str) -> list[dict]:
    return [{"value": "", "text": empty}] + [
        {
            "value": status.value,
            "text": service.status_label(status),
            "selected": status == selected,
        }
        for status in statuses
    ]


async def _choices() -> dict:
    bodies = await CustomsBody.all().order_by("position", "id")
    units = await StructuralUnit.filter(is_active=True).select_related("body")
    executors = await Executor.filter(is_active=True).select_related("body", "unit")
    return {"bodies": bodies, "units": units, "executors": executors}


def _items(rows, selected, empty: str, label=str) -> list[dict]:
    return [{"value": "", "text": empty}] + [
        {"value": row.id, "text": label(row), "selected": row.id == selected} for row in rows
    ]


class RegistryController(Controller):
    path = "/registry"
    guards = [REGISTRY_ROLES]  # noqa: RUF012 - Litestar reads a list

    @get("/", name="registry_list")
    async def letters(self, request: Request) -> Template:
        query = request.query_params
        status_raw = field(query, "status", 32)
        status = status_raw if status_raw in LetterStatus._value2member_map_ else None
        filters = service.RegistryFilter(
            body_id=whole_number(field(query, "body", 12)),
            unit_id=whole_number(field(query, "unit", 12)),
            executor_id=whole_number(field(query, "executor", 12)),
            status=LetterStatus(status) if status else None,
            overdue=field(query, "overdue", 3) == "1",
        )
        page = max(1, whole_number(field(query, "page", 6)) or 1)
        today = portal_time.today()
        visible = _visible(request)
        rows, total = await service.registry_list(
            filters, today, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, visible=visible
        )
        last_page = max(1, ceil(total / PAGE_SIZE))
        if page > last_page:  # an old link past the end shows the last page, not nothing
            page = last_page
            rows, total = await service.registry_list(
                filters,
                today,
                limit=PAGE_SIZE,
                offset=(page - 1) * PAGE_SIZE,
                visible=visible,
            )
        choices = await _choices()
        return Template(
            "registry/list.html.j2",
            context={
                "letters": rows,
                "total": total,
                "page": page,
                "pages": max(1, -(-total // PAGE_SIZE)),
                "filters": filters,
                "today": today,
                "is_overdue": service.is_overdue,
                "status_label": service.status_label,
                "body_items": _items(choices["bodies"], filters.body_id, _("All bodies")),
                "unit_items": _items(
                    choices["units"],
                    filters.unit_id,
                    _("All units"),
                    lambda unit: f"{unit.name} ({unit.body.name})",
                ),
                "executor_items": _items(
                    choices["executors"], filters.executor_id, _("All executors")
                ),
                "status_items": _status_items(LetterStatus, status or "", _("All statuses")),
                "query": request.url.query,
            },
        )

    # --- register a paper letter -------------------------------------------------------

    @get("/new", name="registry_new", guards=[CLERKS_ONLY])
    async def new_form(self) -> Template:
        return Template("registry/new.html.j2", context=await _new_context({}))

    @post("/new", name="registry_new_submit", guards=[CLERKS_ONLY])
    async def new_submit(self, request: Request, data: FormData) -> Response:
        values = {
            "fin": field(data, "fin", 7).upper(),
            "name": field(data, "name", 200),
            "phone": field(data, "phone", 32),
            "email": field(data, "email", 254),
            "channel": field(data, "channel", 16) or LetterChannel.PAPER.value,
            "body": field(data, "body", 12),
            "subject": field(data, "subject", service.MAX_SUBJECT_LENGTH),
            "text": field(data, "text", service.MAX_TEXT_LENGTH, multiline=True),
        }
        errors: dict[str, str] = {}
        if values["fin"] and not re.fullmatch(FIN_PATTERN, values["fin"]):
            errors["fin"] = _("A FIN is 7 Latin letters and digits, like 5ABCD12")
        if not values["name"]:
            errors["name"] = _("Enter the applicant's name")
        if values["email"] and not EMAIL_RE.fullmatch(values["email"]):
            errors["email"] = _("Enter an e-mail address like name@example.az")
        if values["channel"] not in LetterChannel._value2member_map_:
            errors["channel"] = _("Choose how the letter came")
        body = await CustomsBody.get_or_none(id=whole_number(values["body"]) or 0, is_active=True)
        if body is None:
            errors["body"] = _("Choose the customs body the letter is addressed to")
        if not values["subject"]:
            errors["subject"] = _("Enter the subject of the letter")
        if errors:
            context = await _new_context(values)
            return Template(
                "registry/new.html.j2",
                context={**context, "errors": errors, "error_list": error_list(errors)},
                status_code=422,
            )
        actor = current_user(request).person
        letter = await service.register_letter(
            body=body,
            applicant=service.Applicant(
                person=None,
                fin=values["fin"] or None,
                name=values["name"],
                phone=values["phone"] or None,
                email=values["email"] or None,
            ),
            channel=LetterChannel(values["channel"]),
            subject=values["subject"],
            text=values["text"],
            due_working_days=request.app.state.settings.letter_due_working_days,
            actor=actor,
        )
        return redirect(request, f"/registry/letters/{letter.id}?done=registered")

    # --- one letter --------------------------------------------------------------------

    @get("/letters/{letter_id:int}", name="registry_letter")
    async def letter(self, request: Request, letter_id: FromPath[int]) -> Template:
        letter = await _letter(request, letter_id)
        done = request.query_params.get("done")
        return Template(
            "registry/letter.html.j2",
            context=await _letter_context(request, letter, done=DONE_MESSAGES.get(done)),
        )

    @get(
        "/letters/{letter_id:int}/files/{file_id:int}",
        name="registry_file",
        opt={"skip_compression": True},
    )
    async def file(
        self, request: Request, letter_id: FromPath[int], file_id: FromPath[int]
    ) -> Stream:
        letter = await _letter(request, letter_id)
        return await attachment_response(request, await service.attachment_of(letter, file_id))

    @post("/letters/{letter_id:int}/forward", name="registry_forward")
    async def forward(self, request: Request, letter_id: FromPath[int], data: FormData) -> Response:
        letter = await _letter(request, letter_id)
        unit = await StructuralUnit.get_or_none(
            id=whole_number(field(data, "unit", 12)) or 0, body_id=letter.body_id, is_active=True
        )
        executor = await Executor.get_or_none(
            id=whole_number(field(data, "executor", 12)) or 0,
            body_id=letter.body_id,
            is_active=True,
        )
        errors: dict[str, str] = {}
        if unit is None:
            errors["forward-unit"] = _("Choose a structural unit")
        if executor is None:
            errors["forward-executor"] = _("Choose an executor")
        notes = _notes(data, "forward")
        if not errors:
            try:
                await service.forward(
                    letter,
                    actor=current_user(request).person,
                    unit=unit,
                    executor=executor,
                    **notes,
                )
                return redirect(request, f"/registry/letters/{letter.id}?done=forwarded")
            except service.LetterError as exc:
                errors["forward-unit"] = exc.text
        return await _invalid(request, letter, errors, data)

    @post("/letters/{letter_id:int}/status", name="registry_status")
    async def status(self, request: Request, letter_id: FromPath[int], data: FormData) -> Response:
        letter = await _letter(request, letter_id)
        raw = field(data, "status", 32)
        errors: dict[str, str] = {}
        if raw not in {status.value for status in service.SETTABLE_STATUSES}:
            errors["status-status"] = _("Choose the new status")
        else:
            try:
                await service.change_status(
                    letter,
                    actor=current_user(request).person,
                    status=LetterStatus(raw),
                    **_notes(data, "status"),
                )
                return redirect(request, f"/registry/letters/{letter.id}?done=status")
            except service.LetterError as exc:
                errors["status-status"] = exc.text
        return await _invalid(request, letter, errors, data)

    @post("/letters/{letter_id:int}/extend", name="registry_extend")
    async def extend(self, request: Request, letter_id: FromPath[int], data: FormData) -> Response:
        letter = await _letter(request, letter_id)
        settings = request.app.state.settings
        days = whole_number(field(data, "days", 4))
        errors: dict[str, str] = {}
        if days is None:
            errors["extend-days"] = _("Enter a number of working days, like 10")
        else:
            try:
                await service.extend(
                    letter,
                    actor=current_user(request).person,
                    working_days=days,
                    max_working_days=settings.letter_extension_max_working_days,
                    **_notes(data, "extend"),
                )
                return redirect(request, f"/registry/letters/{letter.id}?done=extended")
            except service.LetterError as exc:
                errors["extend-days"] = exc.text
        return await _invalid(request, letter, errors, data)

    # --- call centre ---------------------------------------------------------------------

    @get("/search", name="registry_search", guards=[CLERKS_ONLY])
    async def search(self, request: Request) -> Template:
        fin = field(request.query_params, "fin", 7).upper()
        errors: dict[str, str] = {}
        rows = None
        if "fin" in request.query_params:
            if not re.fullmatch(FIN_PATTERN, fin):
                errors["fin"] = _("A FIN is 7 Latin letters and digits, like 5ABCD12")
            else:
                rows = await service.letters_by_fin(fin)
        return Template(
            "registry/search.html.j2",
            context={
                "fin": fin,
                "rows": rows,
                "errors": errors,
                "error_list": error_list(errors),
                "status_label": service.status_label,
            },
            status_code=422 if errors else 200,
        )

    # --- customs bodies and units (administrators) ---------------------------------------

    @get("/bodies", name="registry_bodies", guards=[ADMIN_ONLY])
    async def bodies(self) -> Template:
        return Template("registry/bodies.html.j2", context=await _bodies_context())

    @post("/bodies", name="registry_bodies_add", guards=[ADMIN_ONLY])
    async def add_body(self, request: Request, data: FormData) -> Response:
        name = field(data, "name", 200)
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = _("Enter the name of the customs body")
        else:
            last = await CustomsBody.all().order_by("-position").first()
            try:
                await CustomsBody.create(name=name, position=(last.position if last else 0) + 10)
                return redirect(request, "/registry/bodies")
            except IntegrityError:
                errors["name"] = _("A customs body with this name already exists")
        context = await _bodies_context()
        return Template(
            "registry/bodies.html.j2",
            context={**context, "name": name, "errors": errors, "error_list": error_list(errors)},
            status_code=422,
        )

    @get("/bodies/{body_id:int}", name="registry_body", guards=[ADMIN_ONLY])
    async def body(self, body_id: FromPath[int]) -> Template:
        body = await _body(body_id)
        return Template("registry/body.html.j2", context=await _body_context(body))

    @post("/bodies/{body_id:int}", name="registry_body_save", guards=[ADMIN_ONLY])
    async def save_body(self, request: Request, body_id: FromPath[int], data: FormData) -> Response:
        body = await _body(body_id)
        name = field(data, "name", 200)
        errors: dict[str, str] = {}
        if not name:
            errors["name"] = _("Enter the name of the customs body")
        else:
            body.name = name
            body.is_active = field(data, "active", 3) == "1"
            try:
                await body.save()
                return redirect(request, f"/registry/bodies/{body.id}")
            except IntegrityError:
                errors["name"] = _("A customs body with this name already exists")
        body = await _body(body_id)
        return _invalid_body(await _body_context(body), errors, name=name)

    @post("/bodies/{body_id:int}/units", name="registry_unit_add", guards=[ADMIN_ONLY])
    async def add_unit(self, request: Request, body_id: FromPath[int], data: FormData) -> Response:
        body = await _body(body_id)
        name = field(data, "unit_name", 200)
        errors: dict[str, str] = {}
        if not name:
            errors["unit_name"] = _("Enter the name of the structural unit")
        else:
            try:
                await StructuralUnit.create(body=body, name=name)
                return redirect(request, f"/registry/bodies/{body.id}")
            except IntegrityError:
                errors["unit_name"] = _("This body already has a unit with this name")
        return _invalid_body(await _body_context(body), errors, unit_name=name)

    @post("/units/{unit_id:int}", name="registry_unit_save", guards=[ADMIN_ONLY])
    async def save_unit(self, request: Request, unit_id: FromPath[int], data: FormData) -> Response:
        unit = await StructuralUnit.get_or_none(id=unit_id).select_related("body")
        if unit is None:
            raise NotFoundException()
        name = field(data, "name", 200)
        key = f"unit-{unit.id}-name"
        errors: dict[str, str] = {}
        if not name:
            errors[key] = _("Enter the name of the structural unit")
        else:
            unit.name = name
            unit.is_active = field(data, "active", 3) == "1"
            try:
                await unit.save()
                return redirect(request, f"/registry/bodies/{unit.body_id}")
            except IntegrityError:
                errors[key] = _("This body already has a unit with this name")
        return _invalid_body(await _body_context(unit.body), errors)


def _visible(request: Request):
    user = current_user(request)
    return access.visible_letters(user.person, user.role)


async def _letter(request: Request, letter_id: int):
    """The letter, or the same 404 as a missing one when this member of staff may not see it."""
    letter = await service.staff_letter(letter_id, _visible(request))
    if letter is None:
        raise NotFoundException()
    return letter


async def _body(body_id: int) -> CustomsBody:
    body = await CustomsBody.get_or_none(id=body_id)
    if body is None:
        raise NotFoundException()
    return body


def _notes(data, prefix: str) -> dict[str, str]:
    return {
        "public_note": field(data, f"{prefix}-public", 2000, multiline=True),
        "internal_note": field(data, f"{prefix}-internal", 2000, multiline=True),
    }


async def _new_context(values: dict) -> dict:
    bodies = await service.active_bodies()
    return {
        "values": values,
        "errors": {},
        "body_items": _items(
            bodies, whole_number(values.get("body", "")), _("Choose a customs body")
        ),
        "channel_items": [
            {
                "value": channel.value,
                "text": _("On paper") if channel is LetterChannel.PAPER else _("Electronic"),
                "selected": channel.value == values.get("channel", LetterChannel.PAPER.value),
            }
            for channel in LetterChannel
        ],
    }


async def _letter_context(request: Request, letter, **extra) -> dict:
    units = await StructuralUnit.filter(body_id=letter.body_id, is_active=True)
    executors = await Executor.filter(body_id=letter.body_id, is_active=True).select_related("unit")
    values = extra.pop("values", {})
    return {
        "letter": letter,
        "attachments": await service.attachments_of(letter),
        "history": await service.public_history(letter),
        "overdue": service.is_overdue(letter, portal_time.today()),
        "final": service.is_final(letter),
        "status_label": service.status_label,
        "unit_items": _items(units, letter.unit_id, _("Choose a unit")),
        "executor_items": _items(
            executors,
            letter.executor_id,
            _("Choose an executor"),
            lambda row: f"{row.full_name}, {row.phone}",
        ),
        "status_items": _status_items(
            service.SETTABLE_STATUSES, values.get("status", ""), _("Choose the new status")
        ),
        "max_extension": request.app.state.settings.letter_extension_max_working_days,
        "values": values,
        "errors": {},
        "done": None,
        **extra,
    }


async def _invalid(request: Request, letter, errors: dict[str, str], data) -> Template:
    values = {key: field(data, key, 2000, multiline=True) for key in data if key != "_csrf_token"}
    context = await _letter_context(request, letter, values=values)
    return Template(
        "registry/letter.html.j2",
        context={**context, "errors": errors, "error_list": error_list(errors)},
        status_code=422,
    )


async def _bodies_context() -> dict:
    bodies = await CustomsBody.all().order_by("position", "id").prefetch_related("units")
    return {"bodies": bodies, "name": "", "errors": {}}


async def _body_context(body: CustomsBody) -> dict:
    units = await StructuralUnit.filter(body=body).order_by("name", "id")
    return {"body": body, "units": units, "name": body.name, "unit_name": "", "errors": {}}


def _invalid_body(context: dict, errors: dict[str, str], **values) -> Template:
    return Template(
        "registry/body.html.j2",
        context={**context, **values, "errors": errors, "error_list": error_list(errors)},
        status_code=422,
    )

"""The staff registry of letters (registry clerks and executors; administrators too):
register paper letters, list and filter, forward, change status, extend, search by FIN,
and (administrators only) the customs bodies and their structural units.

The rules live in `web/letters/service.py`; these handlers parse, call, word the service's
problems (the `*_MESSAGES` tables) and pick a template. Citizens and other staff get the
same 404 as a missing page (`staff_with`).
"""

from __future__ import annotations

from collections.abc import Mapping

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Response, Template

from models.identity import Role
from models.letters import CustomsBody, Letter, LetterChannel, LetterStatus
from web.identity.guards import CurrentUser, SignedInUser, staff_with
from web.letters import access, service
from web.letters.attachments import attachment_route
from web.letters.status import SETTABLE_STATUSES, is_final, is_overdue, status_label
from web.platform import portal_time
from web.platform.dependencies import AppSettings
from web.platform.forms import (
    FormData,
    Rejected,
    error_list,
    field,
    form_errors,
    invalid_form,
)
from web.platform.i18n import gettext as _
from web.platform.i18n import lazy_gettext as _l
from web.platform.rendering import redirect
from web.platform.text_input import whole_number
from web.settings import Settings

REGISTRY_ROLES = staff_with(Role.REGISTRY_CLERK, Role.EXECUTOR)
CLERKS_ONLY = staff_with(*access.WHOLE_REGISTRY_ROLES)  # not executors (web/letters/access.py)
ADMIN_ONLY = staff_with(Role.ADMIN)
DONE_MESSAGES = {
    "registered": _l("The letter was registered."),
    "forwarded": _l("The letter was forwarded."),
    "status": _l("The status was changed."),
    "extended": _l("The due date was extended."),
}
FIN_MESSAGE = _l("A FIN is 7 Latin letters and digits, like 5ABCD12")
NEW_LETTER_MESSAGES = {
    "fin_invalid": FIN_MESSAGE,
    "name_missing": _l("Enter the applicant's name"),
    "email_invalid": _l("Enter an e-mail address like name@example.az"),
    "channel_missing": _l("Choose how the letter came"),
    "body_missing": _l("Choose the customs body the letter is addressed to"),
    "subject_missing": _l("Enter the subject of the letter"),
}
STAFF_ACTION_MESSAGES = {
    "unit_missing": _l("Choose a structural unit"),
    "executor_missing": _l("Choose an executor"),
    "status_missing": _l("Choose the new status"),
    "status_unchanged": _l("The letter already has this status."),
    "days_missing": _l("Enter a number of working days, like 10"),
    "already_extended": _l("The deadline of this letter has already been extended once."),
    "days_out_of_range": _l("Extend by 1 to %(max)s working days."),
    "letter_closed": _l("This letter is closed: its status can no longer change."),
    "changed_meanwhile": _l(
        "Someone else changed this letter a moment ago. Look at it again and retry."
    ),
}
# Each staff action's form: its first field (where a problem with the letter itself is
# shown) and the notice after it worked (`DONE_MESSAGES`).
STAFF_FORMS = {
    "forward": ("unit", "forwarded"),
    "status": ("status", "status"),
    "extend": ("days", "extended"),
}
ADMIN_MESSAGES = {
    "body_name_missing": _l("Enter the name of the customs body"),
    "body_name_taken": _l("A customs body with this name already exists"),
    "unit_name_missing": _l("Enter the name of the structural unit"),
    "unit_name_taken": _l("This body already has a unit with this name"),
}


def _items(rows, selected, empty: str, label=str) -> list[dict]:
    return [{"value": "", "text": empty}] + [
        {"value": row.id, "text": label(row), "selected": row.id == selected} for row in rows
    ]


def _status_items(statuses, selected: str, empty: str) -> list[dict]:
    return [{"value": "", "text": empty}] + [
        {"value": status.value, "text": status_label(status), "selected": status == selected}
        for status in statuses
    ]


class RegistryController(Controller):
    path = "/registry"
    guards = [REGISTRY_ROLES]  # noqa: RUF012 - Litestar reads a list

    @get("/", name="registry_list")
    async def letters(self, request: Request, user: SignedInUser) -> Template:
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
        today = portal_time.today()
        page = await service.registry_list(
            filters,
            today,
            page=whole_number(field(query, "page", 6)) or 1,
            visible=_visible(user),
        )
        choices = await service.registry_choices()
        return Template(
            "registry/list.html.j2",
            context={
                "letters": page.items,
                "total": page.total,
                "page": page.number,
                "pages": page.pages,
                "filters": filters,
                "today": today,
                "is_overdue": is_overdue,
                "status_label": status_label,
                "body_items": _items(choices.bodies, filters.body_id, _("All bodies")),
                "unit_items": _items(
                    choices.units,
                    filters.unit_id,
                    _("All units"),
                    lambda unit: f"{unit.name} ({unit.body.name})",
                ),
                "executor_items": _items(
                    choices.executors, filters.executor_id, _("All executors")
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
    async def new_submit(
        self, request: Request, user: SignedInUser, settings: AppSettings, data: FormData
    ) -> Response:
        values = {
            "fin": field(data, "fin", 7).upper(),
            "name": field(data, "name", service.MAX_NAME_LENGTH),
            "phone": field(data, "phone", 32),
            "email": field(data, "email", 254),
            "channel": field(data, "channel", 16) or LetterChannel.PAPER.value,
            "body": field(data, "body", 12),
            "subject": field(data, "subject", service.MAX_SUBJECT_LENGTH),
            "text": field(data, "text", service.MAX_TEXT_LENGTH, multiline=True),
        }
        paper, problems = await service.check_paper_letter(
            **{key: value for key, value in values.items() if key != "body"},
            body_id=whole_number(values["body"]),
        )
        if paper is None:
            errors = form_errors(problems, NEW_LETTER_MESSAGES)
            return invalid_form("registry/new.html.j2", errors, **await _new_context(values))
        letter = await service.register_letter(
            body=paper.body,
            applicant=paper.applicant,
            channel=paper.channel,
            subject=paper.subject,
            text=paper.text,
            due_working_days=settings.letter_due_working_days,
            actor=user.person,
        )
        return redirect(request, f"/registry/letters/{letter.id}?done=registered")

    # --- one letter --------------------------------------------------------------------

    @get("/letters/{letter_id:int}", name="registry_letter")
    async def letter(
        self, request: Request, user: SignedInUser, settings: AppSettings, letter_id: FromPath[int]
    ) -> Template:
        letter = await _letter(user, letter_id)
        done = DONE_MESSAGES.get(request.query_params.get("done"))
        return Template(
            "registry/letter.html.j2", context=await _letter_context(settings, letter, done=done)
        )

    file = attachment_route(
        "/letters/{letter_id:int}/files/{file_id:int}",
        "registry_file",
        lambda user, letter_id: _letter(user, letter_id),  # defined below the controller
    )

    @post(
        [f"/letters/{{letter_id:int}}/{name}" for name in STAFF_FORMS],
        name="registry_staff_action",
    )
    async def staff_action(
        self,
        request: Request,
        user: SignedInUser,
        settings: AppSettings,
        letter_id: FromPath[int],
        data: FormData,
    ) -> Response:
        """Forward, change status and extend alike (the path's last part names the form): the
        letter (404 when missing), the action with the notes typed under its form
        (`<name>-public`, `<name>-internal`), then the letter page with a notice, or the form
        again with the problems at its fields (the inputs' ids carry the form's name; a
        problem with the letter itself goes to the form's first field)."""
        name = request.url.path.rstrip("/").rsplit("/", 1)[-1]
        letter = await _letter(user, letter_id)
        action = service.StaffAction(
            actor=user.person,
            public_note=field(data, f"{name}-public", 2000),
            internal_note=field(data, f"{name}-internal", 2000),
        )
        first_field, done = STAFF_FORMS[name]
        try:
            await _act(name, letter, action, data, settings)
        except Rejected as rejected:
            field_ids = {
                **{key: f"{name}-{key}" for key in ("unit", "executor", "status", "days")},
                "letter": f"{name}-{first_field}",
            }
            errors = form_errors(rejected.problems, STAFF_ACTION_MESSAGES, field_ids)
            values = {key: field(data, key, 2000) for key in data if key != "_csrf_token"}
            context = await _letter_context(settings, letter, values=values)
            return invalid_form("registry/letter.html.j2", errors, **context)
        return redirect(request, f"/registry/letters/{letter.id}?done={done}")

    # --- call centre ---------------------------------------------------------------------

    @get("/search", name="registry_search", guards=[CLERKS_ONLY])
    async def search(self, request: Request) -> Template:
        fin = field(request.query_params, "fin", 7).upper()
        errors: dict[str, str] = {}
        rows = None
        if "fin" in request.query_params:
            try:
                rows = await service.letters_by_fin(fin)
            except Rejected as rejected:
                errors = form_errors(rejected.problems, {"fin_invalid": FIN_MESSAGE})
        return Template(
            "registry/search.html.j2",
            context={
                "fin": fin,
                "rows": rows,
                "errors": errors,
                "error_list": error_list(errors),
                "status_label": status_label,
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
        try:
            await service.add_body(name)
            return redirect(request, "/registry/bodies")
        except Rejected as rejected:
            errors = form_errors(rejected.problems, ADMIN_MESSAGES)
        context = {**await _bodies_context(), "name": name}
        return invalid_form("registry/bodies.html.j2", errors, **context)

    @get("/bodies/{body_id:int}", name="registry_body", guards=[ADMIN_ONLY])
    async def body(self, body_id: FromPath[int]) -> Template:
        body = await _body(body_id)
        return Template("registry/body.html.j2", context=await _body_context(body))

    @post("/bodies/{body_id:int}", name="registry_body_save", guards=[ADMIN_ONLY])
    async def save_body(self, request: Request, body_id: FromPath[int], data: FormData) -> Response:
        name = field(data, "name", 200)
        try:
            await service.update_body(
                await _body(body_id), name, active=field(data, "active", 3) == "1"
            )
            return redirect(request, f"/registry/bodies/{body_id}")
        except Rejected as rejected:
            errors = form_errors(rejected.problems, ADMIN_MESSAGES)
        return await _invalid_body(await _body(body_id), errors, name=name)

    @post("/bodies/{body_id:int}/units", name="registry_unit_add", guards=[ADMIN_ONLY])
    async def add_unit(self, request: Request, body_id: FromPath[int], data: FormData) -> Response:
        body = await _body(body_id)
        name = field(data, "unit_name", 200)
        try:
            await service.add_unit(body, name)
            return redirect(request, f"/registry/bodies/{body.id}")
        except Rejected as rejected:
            errors = form_errors(rejected.problems, ADMIN_MESSAGES, {"name": "unit_name"})
        return await _invalid_body(body, errors, unit_name=name)

    @post("/units/{unit_id:int}", name="registry_unit_save", guards=[ADMIN_ONLY])
    async def save_unit(self, request: Request, unit_id: FromPath[int], data: FormData) -> Response:
        unit = await service.unit_by_id(unit_id)
        if unit is None:
            raise NotFoundException()
        try:
            await service.update_unit(
                unit, field(data, "name", 200), active=field(data, "active", 3) == "1"
            )
            return redirect(request, f"/registry/bodies/{unit.body_id}")
        except Rejected as rejected:
            errors = form_errors(
                rejected.problems, ADMIN_MESSAGES, {"name": f"unit-{unit.id}-name"}
            )
        return await _invalid_body(unit.body, errors)


def _visible(user: CurrentUser):
    return access.visible_letters(user.person, user.role)


async def _letter(user: CurrentUser, letter_id: int) -> Letter:
    """The letter, or the same 404 as a missing one when this member of staff may not see it."""
    letter = await service.staff_letter(letter_id, _visible(user))
    if letter is None:
        raise NotFoundException()
    return letter


async def _body(body_id: int) -> CustomsBody:
    body = await service.body_by_id(body_id)
    if body is None:
        raise NotFoundException()
    return body


async def _act(
    name: str, letter: Letter, action: service.StaffAction, data: Mapping, settings: Settings
) -> None:
    """The staff action `name` with what its form typed (raises `Rejected`)."""
    if name == "forward":
        await service.forward(
            letter,
            action,
            unit_id=whole_number(field(data, "unit", 12)),
            executor_id=whole_number(field(data, "executor", 12)),
        )
    elif name == "status":
        await service.change_status(letter, action, status=field(data, "status", 32))
    else:
        await service.extend(
            letter,
            action,
            working_days=whole_number(field(data, "days", 4)),
            max_working_days=settings.letter_extension_max_working_days,
        )


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


async def _letter_context(settings: Settings, letter: Letter, **extra) -> dict:
    units, executors = await service.forward_choices(letter)
    values = extra.pop("values", {})
    return {
        "letter": letter,
        "attachments": await service.attachments_of(letter),
        "history": await service.public_history(letter),
        "overdue": is_overdue(letter, portal_time.today()),
        "final": is_final(letter),
        "status_label": status_label,
        "unit_items": _items(units, letter.unit_id, _("Choose a unit")),
        "executor_items": _items(
            executors,
            letter.executor_id,
            _("Choose an executor"),
            lambda row: f"{row.full_name}, {row.phone}",
        ),
        "status_items": _status_items(
            SETTABLE_STATUSES, values.get("status", ""), _("Choose the new status")
        ),
        "max_extension": settings.letter_extension_max_working_days,
        "values": values,
        "errors": {},
        "done": None,
        **extra,
    }


async def _bodies_context() -> dict:
    return {"bodies": await service.bodies_with_units(), "name": "", "errors": {}}


async def _body_context(body: CustomsBody) -> dict:
    units = await service.units_of(body)
    return {"body": body, "units": units, "name": body.name, "unit_name": "", "errors": {}}


async def _invalid_body(body: CustomsBody, errors: dict[str, str], **values) -> Template:
    context = {**await _body_context(body), **values}
    return invalid_form("registry/body.html.j2", errors, **context)

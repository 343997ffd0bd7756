"""Letter tracking for citizens: the lookup, “Mənim müraciətlərim”, “Yeni müraciət” and
“Bildirişlər”. Another person's letter is the same 404 as a missing one."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.exceptions import NotFoundException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import Response, Template

from models.letters import LetterChannel
from web.catalog import service as catalog
from web.identity import drafts
from web.identity.guards import (
    PartyChoiceRequired,
    SignedInUser,
    SignInRequired,
    current_user,
    signed_in,
)
from web.letters import access, lookup_limit, notifications, service
from web.letters.attachments import attachment_route
from web.letters.status import is_overdue, status_label
from web.letters.tracking_result import tracking_result
from web.platform import portal_time
from web.platform.dependencies import AppSettings, FileStorage, Limits
from web.platform.forms import (
    check_date,
    date_parts,
    error_list,
    field,
    form_errors,
    invalid_form,
)
from web.platform.i18n import gettext as _
from web.platform.i18n import lazy_gettext as _l
from web.platform.idempotency import FIELD as IDEMPOTENCY_FIELD
from web.platform.idempotency import form_idempotency_key, idempotency_key_of
from web.platform.middleware import client_address
from web.platform.rendering import redirect, render
from web.platform.text_input import whole_number
from web.settings import Settings
from web.storage.protocol import DatabaseFull, UploadRejected
from web.storage.receiving import receiving_files, rejections_message

TRACK_TEMPLATE = "letters/track.html.j2"
APPEAL_MESSAGES = {
    "body_missing": _l("Choose the customs body you are writing to"),
    "subject_missing": _l("Enter the subject of your appeal"),
    "subject_too_long": _l("The subject must be %(max)s characters or fewer"),
    "text_missing": _l("Enter the text of your appeal"),
    "text_too_long": _l("The text must be %(max)s characters or fewer"),
    "appeals_per_day_reached": _l(
        "You have sent %(max)s appeals today, the most one person may send in a day. "
        "What you wrote is kept below: send it tomorrow, or call %(phone)s."
    ),
}


async def _body_items(selected: int | None) -> list[dict]:
    items = [{"value": "", "text": _("Choose a customs body")}]
    items += [
        {"value": body.id, "text": body.name, "selected": body.id == selected}
        for body in await service.active_bodies()
    ]
    return items


async def _result_context(letter: service.TrackedLetter) -> dict:
    today = portal_time.today()
    return {
        "letter": letter,
        "overdue": is_overdue(letter, today),
        "tracking_result": tracking_result,
    }


async def _track_context(**extra) -> dict:
    values = extra.pop("values", {})
    return {
        "service": catalog.LETTER_TRACKING,
        "values": values,
        "errors": {},
        "lookup_errors": [],
        # The select is rendered only with the form, not with a result.
        "bodies": []
        if "letter" in extra or extra.get("not_found")
        else await _body_items(whole_number(str(values.get("body", "")))),
        "call_centre": service.CALL_CENTRE_PHONE,
        **extra,
    }


async def appellant(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """“Yeni müraciət” is for citizens acting for themselves or their company: staff get the
    same 404 as a missing page; a citizen with several parties chooses one first."""
    user = current_user(connection)
    if user is None:
        raise SignInRequired()
    if not access.may_file_appeals(user.role):
        raise NotFoundException()
    if user.parties and user.party is None:
        raise PartyChoiceRequired()


class LettersController(Controller):
    path = "/letters"
    guards = [signed_in]  # noqa: RUF012 - Litestar reads a list

    @get("/", name="letters_service")
    async def track_form(self, request: Request) -> Template:
        again = request.query_params.get("again") == "1"
        return render(
            request, TRACK_TEMPLATE, await _track_context(again=again), fragment="tracking"
        )

    @get("/track", name="letters_track")
    async def track(
        self, request: Request, user: SignedInUser, settings: AppSettings, rate_limits: Limits
    ) -> Template:
        query = request.query_params
        body_raw = field(query, "body", 12)
        number = field(query, "number", 60)
        parts = date_parts(query, "registered")
        values = {"body": body_raw, "number": number, "registered": parts}
        errors: dict[str, str] = {}
        body_id = whole_number(body_raw)
        if body_id is None:
            errors["body"] = _("Choose the customs body the letter was sent to")
        if not number:
            errors["number"] = _("Enter the letter's number, like M-1024/2026")
        registered_on, date_error = check_date(parts, missing=_("Enter the registration date"))
        if date_error:
            errors["registered"] = date_error
        if errors:
            summary = error_list(errors, date_fields=("registered",))
            context = await _track_context(values=values, errors=errors, lookup_errors=summary)
            return render(request, TRACK_TEMPLATE, context, fragment="tracking", status_code=422)

        allowed = await lookup_limit.allow_lookup(
            rate_limits,
            person_id=user.person.id,
            address=client_address(request),
            limit=settings.letter_lookup_rate_limit_per_minute,
            request=request,
        )
        if not allowed:
            return Template(
                "letters/too_many.html.j2",
                context={"call_centre": service.CALL_CENTRE_PHONE},
                status_code=429,
                headers={"Retry-After": "60"},
            )
        letter = await service.track_letter(user.person, body_id, number, registered_on)
        if letter is None:
            context = await _track_context(values=values, not_found=True)
        else:
            context = await _track_context(values=values, **await _result_context(letter))
        return render(request, TRACK_TEMPLATE, context, fragment="tracking")

    @get("/{letter_id:int}", name="letters_result")
    async def result(
        self, request: Request, user: SignedInUser, letter_id: FromPath[int]
    ) -> Template:
        letter = await service.tracked_letter(user.person, letter_id)
        if letter is None:
            raise NotFoundException()
        context = await _track_context(**await _result_context(letter))
        return render(request, TRACK_TEMPLATE, context, fragment="tracking")

    @get("/mine", name="letters_mine")
    async def mine(self, user: SignedInUser) -> Template:
        letters = await service.letters_of(user.person)
        return Template(
            "letters/mine.html.j2",
            context={
                "service": catalog.LETTER_TRACKING,
                "letters": letters,
                "status_label": status_label,
            },
        )

    @get("/new", name="letters_new", guards=[appellant])
    async def new_form(
        self, request: Request, user: SignedInUser, settings: AppSettings
    ) -> Template:
        draft = await drafts.take(
            request.app.stores.get(drafts.DRAFT_STORE), user.person.id, "appeal"
        )
        context = await _new_context(settings, draft)
        return Template("letters/new.html.j2", context={**context, "draft_restored": bool(draft)})

    @post(
        "/new",
        name="letters_new_submit",
        guards=[appellant],
        opt={"exclude_from_csrf": True, "skip_compression": True},  # checked in receive_form
        request_max_body_size=None,  # receive_form applies the settings' limit
    )
    async def new_submit(
        self, request: Request, user: SignedInUser, settings: AppSettings, storage: FileStorage
    ) -> Response:
        person = user.person
        async with receiving_files(request, storage, settings) as (batch, received):
            key = received.get(IDEMPOTENCY_FIELD, 100)
            values = {
                "body": received.get("body", 12),
                "subject": received.get("subject", service.MAX_SUBJECT_LENGTH + 1),
                "text": received.get("text", service.MAX_TEXT_LENGTH + 1, multiline=True),
                IDEMPOTENCY_FIELD: key,
            }
            body, problems = await service.check_appeal(
                whole_number(values["body"]), values["subject"], values["text"]
            )
            errors = form_errors(problems, APPEAL_MESSAGES)
            if received.rejections:
                errors["files"] = rejections_message(received.rejections)
            retry_later = False  # the database was full: nothing wrong with the form
            if not errors:
                try:
                    letter = await service.register_letter(
                        body=body,
                        applicant=service.Applicant.account_holder(person),
                        channel=LetterChannel.ELECTRONIC,
                        subject=values["subject"],
                        text=values["text"],
                        due_working_days=settings.letter_due_working_days,
                        attachments=batch,
                        # The documents' quota, per person, for appeal attachments.
                        quota_bytes=settings.party_quota_bytes,
                        appeals_per_day=settings.appeals_per_day,
                        idempotency_key=idempotency_key_of(key),
                    )
                except UploadRejected as rejected:  # over the quota, or the disk is full
                    errors["files"] = rejections_message([rejected])
                    retry_later = isinstance(rejected, DatabaseFull)
                except service.AppealLimitReached as limit:
                    errors.update(form_errors(limit.problems, APPEAL_MESSAGES))
            if errors:
                context = await _new_context(settings, values)
                context["files_lost"] = received.files_sent > 0
                return invalid_form(
                    "letters/new.html.j2", errors, retry_later=retry_later, **context
                )
        return redirect(request, f"/letters/{letter.id}/accepted")

    file = attachment_route(
        "/{letter_id:int}/files/{file_id:int}",
        "letters_file",
        lambda user, letter_id: service.letter_of(user.person, letter_id),
    )

    @get("/{letter_id:int}/accepted", name="letters_accepted")
    async def accepted(self, user: SignedInUser, letter_id: FromPath[int]) -> Template:
        letter = await service.letter_of(user.person, letter_id)
        if letter is None:
            raise NotFoundException()
        return Template(
            "letters/accepted.html.j2",
            context={"service": catalog.LETTER_TRACKING, "letter": letter},
        )

    @get("/notifications", name="letters_notifications")
    async def notices(self, user: SignedInUser) -> Template:
        rows = await notifications.notifications_for(user.person.id)
        shown = [(row, *notifications.render(row.kind, row.params)) for row in rows]
        return Template(
            "letters/notifications.html.j2",
            context={"service": catalog.LETTER_TRACKING, "notices": shown},
        )


async def _new_context(settings: Settings, values: dict | None = None) -> dict:
    values = values or {}
    return {
        "service": catalog.LETTER_TRACKING,
        "values": values,
        "errors": {},
        "bodies": await _body_items(whole_number(str(values.get("body", "")))),
        "max_text": service.MAX_TEXT_LENGTH,
        "limits": settings,
        "files_lost": False,
        "idempotency_key": form_idempotency_key(values.get(IDEMPOTENCY_FIELD)),
    }

"""Service “Rəsmiləşdirmə üçün tələb olunan sənədlərin surətləri”: the trader's pages, the
customs officer's view and the administrator's audit log. Rules live in
`web/documents/service.py`; these handlers parse, call and pick a template."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import Response, Stream, Template

from models.documents import AuditAction, ClearanceDocument, DocumentFile, DocumentKind
from models.identity import Role
from web.catalog import service as catalog
from web.documents import service as documents
from web.identity import drafts
from web.identity.guards import CurrentUser, citizen_acting_for_party, current_user, staff_with
from web.identity.sessions import flash, take_flash
from web.platform import portal_time
from web.platform.dependencies import AppSettings, FileStorage
from web.platform.forms import (
    DATE_MESSAGES,
    FormData,
    date_parts,
    error_list,
    field,
    form_errors,
    invalid_form,
    parts_of,
)
from web.platform.i18n import gettext as _
from web.platform.i18n import lazy_gettext as _l
from web.platform.idempotency import FIELD as IDEMPOTENCY_FIELD
from web.platform.idempotency import form_idempotency_key, idempotency_key_of
from web.platform.paging import pagination_params
from web.platform.rendering import redirect, render, wants_fragment
from web.platform.text_input import whole_number
from web.settings import Settings
from web.storage.protocol import DatabaseFull, UploadRejected
from web.storage.receiving import file_response, receiving_files, rejections_message

CREATED_FLASH = "created_document"
SKIP_COMPRESSION = {"skip_compression": True}  # PDF/JPEG/PNG are compressed already
PREVIEWABLE = frozenset({"image/jpeg", "image/png"})
# The words for the service's problems (`web/platform/forms.py: form_errors`).
PERIOD_MESSAGES = {
    **DATE_MESSAGES,
    "from_missing": _l("Enter the first day of the period"),
    "to_missing": _l("Enter the last day of the period"),
    "period_reversed": _l("The last day must be the same as or after the first day"),
}
OFFICER_SEARCH_MESSAGES = {
    **PERIOD_MESSAGES,
    "party_invalid": _l("Enter a FIN (7 characters) or a VÖEN (10 digits)"),
    "party_or_declaration_missing": _l("Enter a FIN or VÖEN, or a declaration number"),
}
DETAILS_MESSAGES = {
    **DATE_MESSAGES,
    "kind_missing": _l("Choose the type of the document"),
    "number_missing": _l("Enter the number of the document"),
    "number_too_long": _l("The number must be %(max)d characters or fewer"),
    "issued_on_missing": _l("Enter the date of the document"),
    "issued_on_future": _l("The date of the document cannot be in the future"),
    "declaration_number_invalid": _l(
        "Enter the declaration number as on the declaration, for example %(example)s"
    ),
    "note_too_long": _l("The note must be %(max)d characters or fewer"),
}
REASON_MESSAGES = {
    "reason_missing": _l("Enter why the document was entered by mistake"),
    "reason_too_long": _l("The reason must be %(max)d characters or fewer"),
}


def _user(request: Request) -> CurrentUser:
    user = current_user(request)
    assert user is not None  # the guards ran
    return user


def _query(request: Request, name: str, max_length: int = 40) -> str:
    return field(request.query_params, name, max_length)


def _page_number(request: Request) -> int:
    return whole_number(_query(request, "page", 6)) or 1


def _kind_items() -> list[dict[str, str]]:
    return [{"value": "", "text": _("Choose the type")}] + [
        {"value": kind.value, "text": str(label)} for kind, label in documents.KIND_LABELS.items()
    ]


def _search_results(
    request: Request,
    template: str,
    path: str,
    values: dict[str, Any],
    page: Any,
    context: dict[str, Any],
) -> Template:
    """A search's results: the page links and the pushed URL keep what was typed."""
    context.update(
        page=page,
        pagination=pagination_params(
            page.number, page.pages, lambda n: _search_url(path, values, n)
        ),
    )
    return render(
        request,
        template,
        context,
        fragment="search",
        push_url=_search_url(path, values, page.number),
    )


def _search_url(path: str, values: dict[str, Any], page: int) -> str:
    """The search's own URL; a three-field date goes as `from-day`, `from-month`, `from-year`."""
    flat: dict[str, str] = {}
    for key, value in values.items():
        if isinstance(value, dict):
            flat.update({f"{key}-{part}": typed for part, typed in value.items()})
        else:
            flat[key] = value
    query = {key: value for key, value in flat.items() if value}
    if page > 1:
        query["page"] = str(page)
    return path + ("?" + urlencode(query) if query else "")


def _wants_preview(request: Request, file: DocumentFile) -> bool:
    """`?preview=1` shows an image inline (in the details page's <img>). PDFs are always
    attachments: browsers' PDF viewers do not run under `Content-Security-Policy: sandbox`."""
    return request.query_params.get("preview") == "1" and file.content_type in PREVIEWABLE


def _download_route(name: str, viewer: str) -> HTTPRouteHandler:
    """A document's file, for its owner (the party's own documents) or for an officer (any
    document; the download is audited, preview or not). Another party's file is a 404."""

    @get("/{document_id:int}/files/{file_id:int}", name=name, opt=SKIP_COMPRESSION)
    async def download(
        self,
        request: Request,
        storage: FileStorage,
        document_id: FromPath[int],
        file_id: FromPath[int],
    ) -> Stream:
        user = _user(request)
        if viewer == "officer":
            document = await documents.document_for_officer(document_id)
        else:
            document = await documents.document_of_party(user.party, document_id)
        file = await documents.file_of_document(document, file_id) if document else None
        if file is None:
            raise NotFoundException()
        preview = _wants_preview(request, file)
        response = await file_response(storage, file, inline=preview)
        if viewer == "officer":
            await documents.audit(
                user.person,
                AuditAction.DOWNLOAD,
                document=document,
                file=file,
                detail="preview" if preview else "",
            )
        return response

    return download


class DocumentsController(Controller):
    """The trader's side: everything here acts for the chosen party, and only on its rows."""

    path = "/documents"
    guards = (citizen_acting_for_party,)

    @get("/", name="documents_service")
    async def index(self, request: Request) -> Template:
        user = _user(request)
        values = {
            "from": documents.period_parts(request.query_params, "from"),
            "to": documents.period_parts(request.query_params, "to"),
            "mistaken": "1" if _query(request, "mistaken") == "1" else "",
        }
        today = portal_time.today()
        period, problems = documents.parse_period(values["from"], values["to"], today)
        errors = form_errors(problems, PERIOD_MESSAGES)
        default_period = not any(values["from"].values()) and not any(values["to"].values())
        context: dict[str, Any] = {
            "service": catalog.CLEARANCE_DOCUMENTS,
            "values": values,
            "search_errors": errors,
            "search_error_list": error_list(errors),
        }
        if not wants_fragment(request):  # the notice about it sits outside the swapped block
            context["acknowledged"] = await documents.acknowledgment_of(user.party) is not None
        created_id = take_flash(request, CREATED_FLASH)
        if created_id:
            context["created"] = await documents.document_of_party(user.party, created_id)
        if errors:
            return render(
                request, "documents/index.html.j2", context, fragment="search", status_code=422
            )
        page = await documents.list_documents(
            user.party,
            period,
            page=_page_number(request),
            include_mistaken=bool(values["mistaken"]),
        )
        context.update(
            period=period,
            is_default_period=default_period,
            # The last 30 days are shown in the fields, not put in the URL.
            date_values={
                "from": parts_of(period.start) if default_period else values["from"],
                "to": parts_of(period.end) if default_period else values["to"],
            },
            kind_labels=documents.KIND_LABELS,
        )
        return _search_results(
            request, "documents/index.html.j2", "/documents", values, page, context
        )

    @get("/obligation", name="documents_obligation")
    async def obligation(self, request: Request, settings: AppSettings) -> Template:
        user = _user(request)
        return Template(
            "documents/obligation.html.j2",
            context={
                "service": catalog.CLEARANCE_DOCUMENTS,
                "acknowledgment": await documents.acknowledgment_of(user.party),
                "retention_years": settings.document_retention_years,
                "today": portal_time.today(),
            },
        )

    @post("/obligation", name="documents_acknowledge")
    async def acknowledge(self, request: Request, settings: AppSettings) -> Response:
        user = _user(request)
        await documents.acknowledge_obligation(
            user.party, user.person, settings.document_retention_years
        )
        return redirect(request, "/documents/obligation")

    @get("/new", name="documents_new")
    async def new(self, request: Request, settings: AppSettings) -> Template:
        context = await self._form_context(request, settings)
        draft = await drafts.take(
            request.app.stores.get(drafts.DRAFT_STORE), _user(request).person.id, "document"
        )
        if draft:
            context["values"] = {**draft, "issued_on": date_parts(draft, "issued_on")}
            context["draft_restored"] = True
        return Template("documents/new.html.j2", context=context)

    @post(
        "/new",
        name="documents_create",
        opt={"exclude_from_csrf": True, **SKIP_COMPRESSION},  # checked in receive_form
        request_max_body_size=None,  # receive_form applies the settings' limit
    )
    async def create(
        self, request: Request, settings: AppSettings, storage: FileStorage
    ) -> Response | Template:
        user = _user(request)
        if await documents.acknowledgment_of(user.party) is None:
            return redirect(request, "/documents/new")
        async with receiving_files(request, storage, settings) as (batch, received):
            values: dict[str, Any] = {
                name: received.get(name, 5000, multiline=name == "note")
                for name in ("kind", "number", "declaration_number", "note")
            }
            values[IDEMPOTENCY_FIELD] = received.get(IDEMPOTENCY_FIELD, 100)
            values["issued_on"] = date_parts(received.fields, "issued_on")
            details, problems = documents.validate_details(values, portal_time.today())
            errors = form_errors(problems, DETAILS_MESSAGES)
            if received.rejections:
                errors["files"] = rejections_message(received.rejections)
            elif not batch.staged:
                errors["files"] = _("Choose at least one file: PDF, JPEG or PNG")
            retry_later = False  # the database was full: nothing wrong with the form
            if details is not None and not errors:
                try:
                    document = await documents.create_document(
                        user.party,
                        user.person,
                        details,
                        batch,
                        settings.party_quota_bytes,
                        idempotency_key=idempotency_key_of(values[IDEMPOTENCY_FIELD]),
                    )
                except UploadRejected as rejected:  # over the quota, or the disk is full
                    errors["files"] = rejections_message([rejected])
                    retry_later = isinstance(rejected, DatabaseFull)
            if errors:
                return invalid_form(
                    "documents/new.html.j2",
                    errors,
                    date_fields=("issued_on",),
                    retry_later=retry_later,
                    **{
                        **await self._form_context(request, settings, values[IDEMPOTENCY_FIELD]),
                        "values": values,
                        "files_lost": received.files_sent > 0,
                    },
                )
        flash(request, CREATED_FLASH, document.id)
        return redirect(request, "/documents")

    async def _form_context(
        self, request: Request, settings: Settings, idempotency_key: str = ""
    ) -> dict[str, Any]:
        party = _user(request).party
        return {
            "service": catalog.CLEARANCE_DOCUMENTS,
            "acknowledged": await documents.acknowledgment_of(party) is not None,
            "values": {},
            "errors": {},
            "kind_items": _kind_items(),
            "limits": settings,
            "declaration_example": documents.DECLARATION_NUMBER_EXAMPLE,
            "today": portal_time.today(),
            "used_bytes": await documents.used_bytes(party),
            "quota_bytes": settings.party_quota_bytes,
            "idempotency_key": form_idempotency_key(idempotency_key),
        }

    @get("/{document_id:int}", name="documents_detail")
    async def detail(self, request: Request, document_id: FromPath[int]) -> Template:
        document = await documents.document_of_party(_user(request).party, document_id)
        if document is None:
            raise NotFoundException()
        return Template("documents/detail.html.j2", context=_detail_context(document, "owner"))

    @post("/{document_id:int}/mistaken", name="documents_mark_mistaken")
    async def mark_mistaken(
        self, request: Request, document_id: FromPath[int], data: FormData
    ) -> Response | Template:
        user = _user(request)
        document = await documents.document_of_party(user.party, document_id)
        if document is None:
            raise NotFoundException()
        reason = field(data, "reason", 2 * documents.REASON_MAX, multiline=True)
        if problems := documents.reason_problems(reason):
            return invalid_form(
                "documents/detail.html.j2",
                form_errors(problems, REASON_MESSAGES),
                **{**_detail_context(document, "owner"), "values": {"reason": reason}},
            )
        await documents.mark_mistaken(document, user.person, reason)
        return redirect(request, f"/documents/{document.id}")

    download = _download_route("documents_download", "owner")


def _detail_context(document: ClearanceDocument, viewer: str) -> dict[str, Any]:
    base = "/officer/documents" if viewer == "officer" else "/documents"
    return {
        "service": catalog.CLEARANCE_DOCUMENTS,
        "document": document,
        "viewer": viewer,
        "kind_label": documents.KIND_LABELS[DocumentKind(document.kind)],
        "file_url": lambda file: f"{base}/{document.id}/files/{file.id}",
        "previewable": PREVIEWABLE,
        "values": {},
        "errors": {},
    }


class OfficerDocumentsController(Controller):
    """Customs officers search any party's documents; every access is audited."""

    path = "/officer/documents"
    guards = (staff_with(Role.CUSTOMS_OFFICER),)

    @get("/", name="officer_documents")
    async def search(self, request: Request) -> Template:
        user = _user(request)
        values = {
            "party": documents.normalize_party_identifier(_query(request, "party")),
            "declaration": documents.normalize_declaration_number(_query(request, "declaration")),
            "from": documents.period_parts(request.query_params, "from"),
            "to": documents.period_parts(request.query_params, "to"),
        }
        searched = any(any(v.values()) if isinstance(v, dict) else v for v in values.values())
        period, problems = documents.parse_period(
            values["from"], values["to"], portal_time.today(), optional=True
        )
        if searched:
            problems = (
                documents.officer_search_problems(values["party"], values["declaration"]) + problems
            )
        errors = form_errors(problems, OFFICER_SEARCH_MESSAGES)
        context: dict[str, Any] = {
            "values": values,
            "search_errors": errors,
            "search_error_list": error_list(errors),
            "searched": searched and not errors,
            "kind_labels": documents.KIND_LABELS,
        }
        if errors or not searched:
            return render(
                request,
                "documents/officer_search.html.j2",
                context,
                fragment="search",
                status_code=422 if errors else 200,
            )
        page = await documents.officer_search(
            values["party"], values["declaration"], period, page=_page_number(request)
        )
        await documents.audit(
            user.person,
            AuditAction.SEARCH,
            detail=urlencode({k: v for k, v in values.items() if v}) + f" → {page.total}",
        )
        return _search_results(
            request, "documents/officer_search.html.j2", "/officer/documents", values, page, context
        )

    @get("/{document_id:int}", name="officer_document_detail")
    async def detail(self, request: Request, document_id: FromPath[int]) -> Template:
        document = await documents.document_for_officer(document_id)
        if document is None:
            raise NotFoundException()
        await documents.audit(_user(request).person, AuditAction.VIEW, document=document)
        return Template("documents/detail.html.j2", context=_detail_context(document, "officer"))

    download = _download_route("officer_document_download", "officer")


class AuditLogController(Controller):
    """Administrators read who opened which party's documents."""

    path = "/admin/audit"
    guards = (staff_with(),)  # administrators only

    @get("/", name="admin_audit")
    async def audit_log(self, request: Request) -> Template:
        window = await documents.audit_window(
            before=whole_number(_query(request, "before", 12)),
            after=whole_number(_query(request, "after", 12)),
        )
        return Template(
            "documents/audit.html.j2",
            context={"entries": window.entries, "pagination": _audit_pagination(window)},
        )


def _audit_pagination(window: documents.AuditWindow) -> dict[str, Any] | None:
    """“Newer entries” / “Older entries”, GOV.UK's pagination for lists without pages; each
    says where it leads from (the window's first or last entry's time), since there are no
    page numbers to say where one is."""
    if not window.entries:
        return None
    newest, oldest = window.entries[0], window.entries[-1]
    params: dict[str, Any] = {"landmark_label": _("Older and newer entries")}
    if window.has_newer:
        params["previous"] = {
            "href": f"/admin/audit?after={newest.id}",
            "text": _("Newer entries"),
            "label_text": _("After %(when)s", when=portal_time.format_datetime(newest.at)),
        }
    if window.has_older:
        params["next"] = {
            "href": f"/admin/audit?before={oldest.id}",
            "text": _("Older entries"),
            "label_text": _("Before %(when)s", when=portal_time.format_datetime(oldest.at)),
        }
    return params if len(params) > 1 else None

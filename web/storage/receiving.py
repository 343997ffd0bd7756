"""Files in and out of the web: multipart forms streamed into storage, and downloads.

Litestar's own `request.form()` would first spool every file to a temporary file and only
then let us look at it, so a 2 GB body would be received in full before a 10 MB limit said
no. Here the body is parsed as it arrives (`multipart.PushMultipartParser`, the parser
Litestar itself depends on) and every file part is handed, chunk by chunk, to
`UploadBatch.add`, which checks type and size while writing (`web/storage/local_disk.py`).
Memory stays bounded by one network chunk plus one write buffer whatever the size.

A rejected file (too large, wrong type…) is recorded and the rest of its bytes are read
and dropped, so the other fields still arrive and the form can be shown again with what
the user typed. `max_body_bytes` bounds how much is read at all (routes using this set
Litestar's own `request_max_body_size=None`, since the limit comes from the settings).

CSRF: upload routes opt out of Litestar's CSRF middleware (`opt={"exclude_from_csrf":
True}`), because that middleware would call `request.form()` and spool the body. The same
check is made here instead, before any file byte is stored: the `x-csrftoken` header (htmx)
or the form's `_csrf_token` field, which our templates place first in the form.
"""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from secrets import compare_digest
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import structlog
from litestar import Request
from litestar.exceptions import (
    ClientException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.middleware.csrf import CSRF_SECRET_LENGTH, generate_csrf_hash
from litestar.response import Stream
from litestar.utils.scope.state import ScopeState
from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header

from web.platform.i18n import format_size
from web.platform.i18n import gettext as _
from web.platform.text_input import clean_text
from web.storage.batch import UploadBatch
from web.storage.protocol import InvalidKey, RejectCode, StorageBackend, UploadRejected

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from models.base import StoredFile
    from web.settings import Settings

log = structlog.get_logger("egomruk.storage")

CSRF_FIELD = "_csrf_token"
MAX_FIELD_BYTES = 64 * 1024  # a text field; the longest of ours (“Müraciətin mətni”) is 5000 chars
MAX_PARTS = 64


@dataclass
class ReceivedForm:
    """What arrived: text fields, the files refused (the accepted ones are in the batch)."""

    fields: dict[str, str] = field(default_factory=dict)
    rejections: list[UploadRejected] = field(default_factory=list)
    files_sent: int = 0  # file parts with a file in them, accepted or not

    @property
    def storage_full(self) -> bool:
        return any(r.code == RejectCode.STORAGE_FULL for r in self.rejections)

    def get(self, name: str, max_length: int = 1000, *, multiline: bool = False) -> str:
        return clean_text(self.fields.get(name, ""), max_length, multiline=multiline)


def _decode_token(token: str, secret: str) -> str | None:
    if len(token) <= CSRF_SECRET_LENGTH or not token.isascii():  # compare_digest needs ASCII
        return None
    secret_part, digest = token[:CSRF_SECRET_LENGTH], token[CSRF_SECRET_LENGTH:]
    return secret_part if compare_digest(digest, generate_csrf_hash(secret_part, secret)) else None


def _check_csrf(request: Request, token: str | None) -> None:
    """The check Litestar's CSRF middleware makes (same HMAC, same cookie)."""
    config = request.app.csrf_config
    if config is None:
        return
    cookie = request.cookies.get(config.cookie_name)
    sent = _decode_token(token, config.secret) if token else None
    stored = _decode_token(cookie, config.secret) if cookie else None
    if sent is None or stored is None or not compare_digest(sent, stored):
        raise PermissionDeniedException("CSRF token verification failed")
    # Templates rendered for this request (the form again, on an error) need the token.
    ScopeState.from_scope(request.scope).csrf_token = token


async def _events(
    request: Request, parser: PushMultipartParser, max_body_bytes: int
) -> AsyncIterator[Any]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > max_body_bytes:
            raise RequestEntityTooLarge()
        if chunk:
            for event in parser.parse(chunk):
                yield event
    parser.close()  # raises on a truncated body


async def _segment_body(events: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    """The data chunks of the current segment, up to its end marker."""
    while (event := await anext(events)) is not None:
        yield bytes(event)


async def _drain(body: AsyncIterator[bytes]) -> None:
    async for _chunk in body:
        pass


async def receive_form(
    request: Request, batch: UploadBatch, *, max_body_bytes: int, file_field: str = "files"
) -> ReceivedForm:
    """Read a multipart form: text fields into `fields`, files of `file_field` into `batch`.

    Raises `PermissionDeniedException` (403) on a bad CSRF token and `ClientException` (400)
    on a body that is not a well-formed multipart form, `RequestEntityTooLarge` (413) past
    `max_body_bytes` (also when Content-Length announces more). Files already staged are
    discarded by the batch's context manager when the caller leaves it without committing.
    """
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > max_body_bytes:
        raise RequestEntityTooLarge()
    content_type, options = parse_options_header(request.headers.get("content-type", ""))
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise ClientException("expected a multipart/form-data form")
    header_token = request.headers.get("x-csrftoken")
    csrf_checked = False
    if header_token:
        _check_csrf(request, header_token)
        csrf_checked = True

    received = ReceivedForm()
    parser = PushMultipartParser(options["boundary"], max_segment_count=MAX_PARTS, strict=True)
    events = _events(request, parser, max_body_bytes)
    try:
        async for event in events:
            if not isinstance(event, MultipartSegment):
                continue  # cannot happen: segments start with their headers
            body = _segment_body(events)
            if event.filename is None:  # a text field
                value = bytearray()
                async for chunk in body:
                    value += chunk
                    if len(value) > MAX_FIELD_BYTES:
                        raise ClientException("form field too long")
                text = value.decode("utf-8", errors="replace")
                if event.name == CSRF_FIELD and not csrf_checked:
                    _check_csrf(request, text)
                    csrf_checked = True
                else:
                    received.fields.setdefault(event.name, text)
                continue
            if not csrf_checked:
                raise PermissionDeniedException("CSRF token verification failed")
            if event.name != file_field or not event.filename:
                await _drain(body)  # an unknown field, or “no file chosen”
                continue
            received.files_sent += 1
            if not received.storage_full:  # after a full disk, the rest is only read
                try:
                    await batch.add(body, filename=event.filename)
                except UploadRejected as rejection:
                    received.rejections.append(rejection)
            await _drain(body)  # whatever of a refused file was not read
    except MultipartError as error:
        raise ClientException("malformed multipart form") from error
    if not csrf_checked:
        raise PermissionDeniedException("CSRF token verification failed")
    return received


class UploadInterrupted(ServiceUnavailableException):
    """An upload cut off by the server's shutdown: its grace period (SHUTDOWN_GRACE_SECONDS)
    ran out before the upload ended. Nothing of it is kept; the answer is a 503."""


@asynccontextmanager
async def receiving_files(
    request: Request, storage: StorageBackend, settings: Settings
) -> AsyncIterator[tuple[UploadBatch, ReceivedForm]]:
    """Receive a form with files into `storage` under the settings' upload limits (the same
    for every upload route; the handler has both through `Provide`). Staged files are
    discarded on leaving unless `batch.commit_all()` ran.

    uvicorn cancels the requests still running when the shutdown grace runs out; an upload
    cut off that way is logged as what it is (a warning, no traceback) and answered 503."""
    try:
        async with UploadBatch(
            storage,
            max_files=settings.upload_max_files,
            max_file_bytes=settings.upload_max_file_bytes,
            max_total_bytes=settings.upload_max_document_bytes,
        ) as batch:
            # Twice the files' limit: a little too much still gets a form error, not a 413.
            max_body = 2 * settings.upload_max_document_bytes + 1_000_000
            yield batch, await receive_form(request, batch, max_body_bytes=max_body)
    except asyncio.CancelledError as cancelled:
        log.warning(
            "upload interrupted by shutdown",
            path=request.url.path,
            reason=str(cancelled) or "cancelled",
        )
        raise UploadInterrupted() from None


def rejections_message(rejections: list[UploadRejected]) -> str:
    """One message for all the refused files (a full disk is said once, not per file)."""
    messages = dict.fromkeys(rejection_message(r) for r in rejections)
    return " ".join(messages)


def rejection_message(rejection: UploadRejected) -> str:
    """What the user reads about a refused file, in their language, naming the file."""
    name = rejection.filename or ""
    params = rejection.params
    code = rejection.code
    if code == RejectCode.TOO_LARGE:
        return _(
            "“%(name)s” is larger than %(limit)s",
            name=name,
            limit=format_size(int(params["limit_bytes"])),
        )
    if code == RejectCode.BATCH_TOO_LARGE:
        return _(
            "The files together must be %(limit)s or smaller; “%(name)s” did not fit",
            name=name,
            limit=format_size(int(params["limit_bytes"])),
        )
    if code == RejectCode.TOO_MANY_FILES:
        return _(
            "Choose at most %(limit)s files; “%(name)s” was one too many",
            name=name,
            limit=params["limit_files"],
        )
    if code == RejectCode.TYPE_MISMATCH:
        return _(
            "“%(name)s” is not what its name says: its contents are of another type. "
            "Save it again as PDF, JPEG or PNG",
            name=name,
        )
    if code == RejectCode.STORAGE_FULL:
        return _("The files could not be saved now and nothing was saved. Please try again later")
    if code == RejectCode.DATABASE_FULL:
        return _("This could not be saved now and nothing was saved. Please try again later")
    if code == RejectCode.EMPTY_FILE:
        return _("“%(name)s” is empty", name=name)
    if code == RejectCode.QUOTA_EXCEEDED:
        return _(
            "Your storage is full: %(used)s of %(quota)s is used and these files need "
            "%(incoming)s. Contact DGK to have the limit raised",
            used=format_size(int(params["used_bytes"])),
            quota=format_size(int(params["quota_bytes"])),
            incoming=format_size(int(params["incoming_bytes"])),
        )
    return _("“%(name)s” must be a PDF, JPEG or PNG file", name=name)


# --------------------------------------------------------------------------- downloads

DOWNLOAD_HEADERS = {
    # The file never runs as a page of ours, whatever is in it.
    "Content-Security-Policy": "sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "private, no-store",
}


_FALLBACK_SAFE = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,_-()[]+"
)


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """RFC 6266: an ASCII fallback name plus the real name as RFC 5987 `filename*`."""
    fallback = "".join(c if c in _FALLBACK_SAFE else "_" for c in filename)
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


async def file_response(
    storage: StorageBackend, file: StoredFile | None, *, inline: bool = False
) -> Stream:
    """Stream a stored file (a document's file, a letter's attachment) under the name it was
    sent with; a missing row, or a file missing from storage, is a 404."""
    if file is None:
        raise NotFoundException()
    try:
        chunks = await storage.open(file.storage_key)
    except (FileNotFoundError, InvalidKey) as error:
        raise NotFoundException() from error
    except OSError as error:  # the storage cannot be read now (object storage unreachable)
        log.error("storage_read_failed", key=file.storage_key, error=str(error))
        raise ServiceUnavailableException() from error
    return Stream(
        chunks,
        media_type=file.content_type,
        headers={
            **DOWNLOAD_HEADERS,
            "Content-Disposition": content_disposition(file.original_name, inline=inline),
            "Content-Length": str(file.size),
        },
    )

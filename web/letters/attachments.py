"""Downloading a letter's attachment, for the applicant's and the staff registry's routes."""

from __future__ import annotations

from litestar.exceptions import NotFoundException
from litestar.response import Stream

from models.letters import LetterAttachment
from web.storage.protocol import StorageBackend
from web.storage.receiving import file_response


async def attachment_response(
    storage: StorageBackend, attachment: LetterAttachment | None
) -> Stream:
    """The file as an attachment; a missing one (or another person's) is a 404."""
    if attachment is None:
        raise NotFoundException()
    return await file_response(
        storage,
        key=attachment.storage_key,
        filename=attachment.original_name,
        content_type=attachment.content_type,
        size=attachment.size,
    )
